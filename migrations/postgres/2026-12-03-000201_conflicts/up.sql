-- Channel conflict cases (渠道冲突): opened by hand or by detection (a fingerprint names the
-- detected condition), worked open → investigating → resolved | dismissed with one of the seed's
-- remedies. Parties and links are rows of their own so a partner's cases and a deal's or risk's
-- case are indexed lookups; the case row keeps the party list for reading.
CREATE TABLE conflicts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    cause TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    party_partner_ids TEXT NOT NULL,
    involves_direct BOOLEAN NOT NULL,
    key_account_id TEXT REFERENCES key_accounts (id),
    territories TEXT NOT NULL,
    product_lines TEXT NOT NULL,
    fingerprint TEXT,
    previous_conflict_id TEXT REFERENCES conflicts (id),
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TIMESTAMP,
    condition_cleared_at TIMESTAMP,
    opened_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One open case per detected condition: the detector joins it instead of opening another.
CREATE UNIQUE INDEX conflicts_open_fingerprint ON conflicts (fingerprint)
    WHERE fingerprint IS NOT NULL AND status IN ('open', 'investigating');
CREATE INDEX conflicts_fingerprint ON conflicts (fingerprint, created_at);
CREATE INDEX conflicts_status ON conflicts (status, id);
CREATE INDEX conflicts_created ON conflicts (created_at);

CREATE TABLE conflict_parties (
    conflict_id TEXT NOT NULL REFERENCES conflicts (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    PRIMARY KEY (conflict_id, partner_id)
);
CREATE INDEX conflict_parties_partner ON conflict_parties (partner_id, conflict_id);

-- What a case is about beyond its parties: deal registrations, contract risks (by risk key), the
-- earlier case a returning conflict follows. `partner_id` is whose the linked thing is, so a
-- partner key sees only its own links.
CREATE TABLE conflict_links (
    conflict_id TEXT NOT NULL REFERENCES conflicts (id),
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    partner_id TEXT,
    PRIMARY KEY (conflict_id, kind, ref_id)
);
CREATE INDEX conflict_links_ref ON conflict_links (kind, ref_id);

CREATE TABLE conflict_comments (
    id TEXT PRIMARY KEY NOT NULL,
    conflict_id TEXT NOT NULL REFERENCES conflicts (id),
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    author TEXT NOT NULL,
    author_partner_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX conflict_comments_conflict ON conflict_comments (conflict_id, id);
