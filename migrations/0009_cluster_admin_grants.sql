-- Cluster-admin grants (decision 0009): recorded like namespace grants under the
-- reserved namespace '*' with role 'cluster-admin'. Numbered after the decision
-- record so it cannot collide with migrations added meanwhile.
ALTER TABLE grants DROP CONSTRAINT grants_role_check;
ALTER TABLE grants ADD CONSTRAINT grants_role_check
    CHECK (role IN ('viewer', 'editor', 'cluster-admin'));
COMMENT ON COLUMN grants.role IS
    'viewer, editor, or cluster-admin (namespace ''*''; effective only while the grantee''s admin stake is at least 10 SUI)';
