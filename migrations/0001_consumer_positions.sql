-- Where each consumer of the log stands. Written in the same transaction as the
-- rows a batch produces, so a crash can never apply a record twice or skip one.
CREATE TABLE consumer_positions (
    consumer    TEXT    NOT NULL,  -- e.g. 'projector'
    topic       TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset BIGINT  NOT NULL CHECK (next_offset >= 0),  -- first offset not yet applied
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);
