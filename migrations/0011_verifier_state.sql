-- The log verifier's state (daas_verify::State, JSON) beside the position it
-- belongs to, written in the same transaction as the batch's rows, and the
-- next offset it had read then (at or past the position: records held behind
-- a gap). NULL when the consumer projected without verification.
ALTER TABLE consumer_positions
    ADD COLUMN verifier_state BYTEA,
    ADD COLUMN verifier_read BIGINT;
