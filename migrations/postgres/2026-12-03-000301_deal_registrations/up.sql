-- Deal registrations (商机报备): a partner registers a customer (an existing key account or a new
-- prospect named by its 统一社会信用代码) for product lines; a manager approves (protected until
-- protected_until) or rejects it; an approved one is won, lost or expires. `account_key` is the
-- normalized account name of the duplicate rule, so clash lookups are indexed queries.
CREATE TABLE deal_registrations (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    key_account_id TEXT REFERENCES key_accounts (id),
    prospect_name TEXT,
    credit_code TEXT,
    prospect_region TEXT,
    account_name TEXT NOT NULL,
    account_key TEXT NOT NULL,
    product_lines TEXT NOT NULL,
    estimated_value_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    expected_close_on TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    decision_reason TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP,
    protected_until TIMESTAMP,
    extension_reason TEXT,
    closed_at TIMESTAMP,
    submitted_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX deal_registrations_account_key ON deal_registrations (account_key, status);
CREATE INDEX deal_registrations_credit_code ON deal_registrations (credit_code, status);
CREATE INDEX deal_registrations_key_account ON deal_registrations (key_account_id, status);
CREATE INDEX deal_registrations_status ON deal_registrations (status, protected_until);
CREATE INDEX deal_registrations_partner ON deal_registrations (partner_id, id);
-- One row per registration and product line (its comparison key): the product_line filter.
CREATE TABLE deal_registration_lines (
    registration_id TEXT NOT NULL REFERENCES deal_registrations (id),
    line_key TEXT NOT NULL,
    PRIMARY KEY (registration_id, line_key)
);
CREATE INDEX deal_registration_lines_key ON deal_registration_lines (line_key, registration_id);
