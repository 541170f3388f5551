-- Incentive programs (激励政策): rebate, discount and marketing support offers to an audience of
-- partners (the bulletins' audience shape, as JSON) for a range of months, with rules by kind
-- (JSON). Months are YYYY-MM text, so "programs running in a month" is a range test on text.
CREATE TABLE incentive_programs (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    from_month TEXT NOT NULL,
    to_month TEXT NOT NULL,
    audience TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    rules TEXT NOT NULL,
    activated_at TIMESTAMP,
    closed_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX incentive_programs_kind_status ON incentive_programs (kind, status, from_month, to_month);
CREATE INDEX incentive_programs_status ON incentive_programs (status, id);
