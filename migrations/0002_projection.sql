-- The stake projection for analysts. Every table is derived from the log by the
-- shared ledger (domain crate); nothing here is written by hand. Positions are
-- (checkpoint, tx_index, event_index), the chain's total order.
-- Addresses and ids are 0x-prefixed lower-case hex text, as analysts paste them.

CREATE TABLE stakes (
    staker      TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('user', 'node', 'admin')),
    amount_mist BIGINT  NOT NULL CHECK (amount_mist > 0),
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (staker, role)
);

CREATE TABLE stake_history (
    checkpoint  BIGINT  NOT NULL,
    tx_index    BIGINT  NOT NULL,
    event_index BIGINT  NOT NULL,
    staker      TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    change      TEXT    NOT NULL CHECK (change IN ('deposit', 'withdraw', 'slash')),
    amount_mist BIGINT  NOT NULL,
    total_after_mist BIGINT NOT NULL,
    reason      TEXT,
    epoch       BIGINT  NOT NULL,
    chain_time  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (checkpoint, tx_index, event_index)
);
CREATE INDEX stake_history_staker ON stake_history (staker, chain_time);

CREATE TABLE nodes (
    name        TEXT PRIMARY KEY,
    operator    TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'deregistered')),
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE namespaces (
    cluster_id  TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    owner       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cluster_id, namespace)
);

CREATE TABLE grants (
    cluster_id  TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    grantee     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor')),
    granted_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (cluster_id, namespace, grantee)
);

CREATE TABLE requests (
    cluster_id  TEXT    NOT NULL,
    request_id  BIGINT  NOT NULL,
    checkpoint  BIGINT  NOT NULL,
    tx_index    BIGINT  NOT NULL,
    event_index BIGINT  NOT NULL,
    tx_digest   TEXT    NOT NULL,
    sender      TEXT    NOT NULL,
    verb        TEXT    NOT NULL,
    api_version TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    namespace   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    manifest_bytes  INTEGER NOT NULL,
    stake_mist  BIGINT  NOT NULL,
    chain_time  TIMESTAMPTZ NOT NULL,
    -- The ledger's admission decision; the master's outcome confirms it and adds the resource version.
    status      TEXT    NOT NULL CHECK (status IN ('admitted', 'applied', 'rejected')),
    reason_code TEXT,
    reason      TEXT,
    resource_version BIGINT,
    PRIMARY KEY (cluster_id, request_id)
);
CREATE INDEX requests_by_namespace ON requests (namespace, verb, chain_time);

-- Records the projector could not use, with why; the consumer moves on.
CREATE TABLE quarantine (
    topic       TEXT    NOT NULL,
    kafka_offset BIGINT NOT NULL,
    reason      TEXT    NOT NULL,
    raw         BYTEA   NOT NULL,
    PRIMARY KEY (topic, kafka_offset)
);

-- Analysts' views -----------------------------------------------------------

CREATE VIEW top_stakers AS
    SELECT staker, sum(amount_mist) AS total_mist, count(*) AS roles
    FROM stakes GROUP BY staker ORDER BY total_mist DESC;

CREATE VIEW stake_by_role_daily AS
    SELECT date_trunc('day', chain_time) AS day, role,
           sum(CASE change WHEN 'deposit' THEN amount_mist ELSE -amount_mist END) AS net_change_mist,
           count(*) AS changes
    FROM stake_history GROUP BY 1, 2 ORDER BY 1, 2;

CREATE VIEW slashing_history AS
    SELECT chain_time, staker, role, amount_mist, total_after_mist, reason, epoch
    FROM stake_history WHERE change = 'slash' ORDER BY chain_time DESC;

CREATE VIEW requests_per_namespace_daily AS
    SELECT date_trunc('day', chain_time) AS day, cluster_id, namespace, verb, count(*) AS requests
    FROM requests GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

CREATE VIEW rejection_reasons AS
    SELECT reason_code, count(*) AS requests, max(chain_time) AS last_seen
    FROM requests WHERE status = 'rejected' GROUP BY reason_code ORDER BY requests DESC;
