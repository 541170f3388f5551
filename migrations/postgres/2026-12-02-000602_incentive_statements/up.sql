-- Incentive statements (结算单): one partner's earnings from one rebate program over a range of
-- months, its lines (JSON: source, figures, rate, amount, explanation) and their total. Drafts are
-- replaced by each calculation; approved and paid rows never change but for approved -> paid.
CREATE TABLE incentive_statements (
    id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL REFERENCES incentive_programs (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    kind TEXT NOT NULL,
    from_month TEXT NOT NULL,
    to_month TEXT NOT NULL,
    currency TEXT NOT NULL,
    lines TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    approved_at TIMESTAMP,
    paid_at TIMESTAMP,
    cost_record_id TEXT REFERENCES cost_records (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX incentive_statements_months ON incentive_statements (program_id, from_month, to_month, partner_id);
CREATE INDEX incentive_statements_program ON incentive_statements (program_id, id);
CREATE INDEX incentive_statements_partner ON incentive_statements (partner_id, id);
CREATE INDEX incentive_statements_status ON incentive_statements (status, id);
