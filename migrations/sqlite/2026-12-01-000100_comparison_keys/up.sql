-- Names that must be unique ignoring case are compared by a key computed in Rust
-- (validation::comparison_key: NFKC, lower case, invisible characters and surrounding spaces
-- removed). Key accounts gain one; partners' and contracts' keys are recomputed by the one-off
-- data upgrade `comparison_keys_v1`, recorded in data_upgrades.
CREATE TABLE data_upgrades (
    name TEXT PRIMARY KEY NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    changed BIGINT NOT NULL
);

ALTER TABLE key_accounts ADD COLUMN name_key TEXT;
CREATE UNIQUE INDEX key_accounts_name_key ON key_accounts (name_key) WHERE archived_at IS NULL;
