-- The master's outcome per request: what it did (kubectl's word), next to the
-- status, reason and resource version the outcome already fills.
ALTER TABLE requests ADD COLUMN action TEXT;
COMMENT ON COLUMN requests.status IS
    'admitted: the ledger admitted it and the master''s outcome has not arrived yet; applied/rejected: the outcome';
COMMENT ON COLUMN requests.action IS 'created, configured, unchanged or deleted (applied requests)';
