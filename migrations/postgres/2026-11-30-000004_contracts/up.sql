-- Contracts with partners, their terms (clauses as data), the amendments that changed the terms of
-- active contracts, and the risk warnings currently open (so the scan knows which ones cleared).
-- Calendar dates (effective_from, effective_to) are TEXT in ISO form (YYYY-MM-DD): portable, and
-- they sort and compare as dates.

CREATE TABLE contracts (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    number TEXT NOT NULL,
    number_key TEXT NOT NULL,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    signed_at TIMESTAMP,
    effective_from TEXT,
    effective_to TEXT,
    auto_renew BOOLEAN NOT NULL,
    renewal_notice_days INTEGER NOT NULL,
    total_value BIGINT,
    currency TEXT NOT NULL,
    owner TEXT,
    notes TEXT,
    predecessor_id TEXT REFERENCES contracts (id),
    successor_id TEXT REFERENCES contracts (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX contracts_number_key ON contracts (number_key);
CREATE INDEX contracts_partner ON contracts (partner_id, id);
CREATE INDEX contracts_status ON contracts (status, id);
CREATE INDEX contracts_kind ON contracts (kind, id);
CREATE INDEX contracts_owner ON contracts (owner, id);
CREATE INDEX contracts_effective_to ON contracts (effective_to, id);
CREATE INDEX contracts_predecessor ON contracts (predecessor_id);
CREATE INDEX contracts_successor ON contracts (successor_id);

CREATE TABLE contract_terms (
    id TEXT PRIMARY KEY NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    obligated_party TEXT NOT NULL,
    params TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX contract_terms_contract ON contract_terms (contract_id, id);
CREATE INDEX contract_terms_kind ON contract_terms (kind, contract_id);

CREATE TABLE contract_amendments (
    id TEXT PRIMARY KEY NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    number INTEGER NOT NULL,
    reason TEXT NOT NULL,
    changes TEXT NOT NULL,
    actor_key_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    contract_version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX contract_amendments_number ON contract_amendments (contract_id, number);
CREATE INDEX contract_amendments_contract ON contract_amendments (contract_id, id);

-- Risks the scan has announced and that have not cleared since; each key is also claimed in
-- event_keys (the exactly-once guard) and released from both when the risk clears.
CREATE TABLE contract_open_risks (
    risk_key TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    opened_at TIMESTAMP NOT NULL
);
