CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    partner_id TEXT,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix);

CREATE TABLE partners (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    channel_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    region TEXT,
    territories TEXT NOT NULL,
    industries TEXT NOT NULL,
    owner TEXT,
    next_review_at TIMESTAMP,
    notes TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX partners_name_key ON partners (name_key) WHERE archived_at IS NULL;
CREATE INDEX partners_status ON partners (status, id);
CREATE INDEX partners_tier ON partners (tier, id);
CREATE INDEX partners_channel_type ON partners (channel_type, id);
CREATE INDEX partners_kind ON partners (kind, id);
CREATE INDEX partners_region ON partners (region, id);
CREATE INDEX partners_owner ON partners (owner, id);

CREATE TABLE partner_territories (
    partner_id TEXT NOT NULL REFERENCES partners (id),
    territory TEXT NOT NULL,
    PRIMARY KEY (territory, partner_id)
);
CREATE INDEX partner_territories_partner ON partner_territories (partner_id);

CREATE TABLE partner_contacts (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    name TEXT NOT NULL,
    title TEXT,
    phone TEXT,
    email TEXT,
    wecom_userid TEXT,
    dingtalk_userid TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX partner_contacts_partner ON partner_contacts (partner_id, id);

CREATE TABLE key_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    industry TEXT,
    region TEXT,
    owner TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX key_accounts_region ON key_accounts (region, id);
CREATE INDEX key_accounts_industry ON key_accounts (industry, id);
CREATE INDEX key_accounts_owner ON key_accounts (owner, id);

CREATE TABLE key_account_assignments (
    id TEXT PRIMARY KEY NOT NULL,
    key_account_id TEXT NOT NULL REFERENCES key_accounts (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    role TEXT NOT NULL,
    product_lines TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX key_account_assignments_account ON key_account_assignments (key_account_id, id);
CREATE INDEX key_account_assignments_partner ON key_account_assignments (partner_id, id);

-- One primary partner per account and product line, enforced by the database so that two
-- concurrent requests cannot both win.
CREATE TABLE key_account_primary_lines (
    key_account_id TEXT NOT NULL REFERENCES key_accounts (id),
    product_line TEXT NOT NULL,
    assignment_id TEXT NOT NULL REFERENCES key_account_assignments (id),
    PRIMARY KEY (key_account_id, product_line)
);
CREATE INDEX key_account_primary_lines_assignment ON key_account_primary_lines (assignment_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor_key_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    changes TEXT NOT NULL,
    request_id TEXT
);
CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_key_id, id);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    partner_id TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX events_type ON events (event_type, id);

-- Events not yet handed to delivery, written with the event: delivery takes the oldest rows and
-- deletes them as it fans them out, so its work follows the backlog, not the size of the outbox,
-- and an event whose transaction commits late is simply found late.
CREATE TABLE outbox_pending (
    event_id TEXT PRIMARY KEY NOT NULL REFERENCES events (id)
);

-- Keys of events that must be emitted at most once (a reminder, an overdue notice, a risk),
-- claimed in the same transaction as the event so that concurrent scanners cannot both emit.
CREATE TABLE event_keys (
    event_key TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER,
    response_headers TEXT,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
