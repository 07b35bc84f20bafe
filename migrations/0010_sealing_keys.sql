-- Clusters' sealing keys (issue 14, decision 0014): every version each cluster
-- registered on chain (`enclave::SealingKeyRegistered`), never deleted: a
-- rotation adds a version, older ones still name the key of older sealed
-- Secrets. Only public keys: the private halves never leave the master.
CREATE TABLE sealing_keys (
    cluster_id    TEXT        NOT NULL,
    version       BIGINT      NOT NULL CHECK (version BETWEEN 1 AND 4294967295),
    -- The X25519 public key, 64 lower-case hex digits (no 0x).
    public_key    TEXT        NOT NULL CHECK (public_key ~ '^[0-9a-f]{64}$'),
    registered_by TEXT        NOT NULL,
    registered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cluster_id, version)
);
COMMENT ON TABLE sealing_keys IS
    'Public sealing keys by cluster and version; the highest version is the one daas seals to';
