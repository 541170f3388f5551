-- Marketing support (MDF) requests: a partner asks for part of its budget in a marketing_support
-- program for one activity; a manager approves or rejects it; an approved request is claimed
-- with the actual spend and proof, and the claim paid (a marketing_support cost record) or rejected.
-- What a program's budgets have committed, claimed and paid is summed from these rows.
CREATE TABLE mdf_requests (
    id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL REFERENCES incentive_programs (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    activity TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    planned_on TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    decision_reason TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP,
    actual_minor BIGINT,
    proof_urls TEXT NOT NULL,
    claimed_at TIMESTAMP,
    claim_rejection_reason TEXT,
    paid_at TIMESTAMP,
    cost_record_id TEXT REFERENCES cost_records (id),
    submitted_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX mdf_requests_program_partner ON mdf_requests (program_id, partner_id, status);
CREATE INDEX mdf_requests_partner ON mdf_requests (partner_id, id);
CREATE INDEX mdf_requests_status ON mdf_requests (status, id);
