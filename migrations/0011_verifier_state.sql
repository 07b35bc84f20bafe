-- The log verifier's state (daas_verify::State, JSON) beside the position it
-- belongs to, written in the same transaction as the batch's rows. NULL when
-- the consumer projected without verification.
ALTER TABLE consumer_positions ADD COLUMN verifier_state BYTEA;
