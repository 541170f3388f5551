-- Bulletins (信息共享): information shared with partners, and who received and read each one.

CREATE TABLE bulletins (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    -- Lower-cased copies for the case-insensitive `q` search (lowered in Rust, Unicode-aware, so
    -- both backends match the same way).
    title_key TEXT NOT NULL,
    body TEXT NOT NULL,
    body_key TEXT NOT NULL,
    category TEXT NOT NULL,
    importance TEXT NOT NULL,
    audience TEXT NOT NULL,
    attachments TEXT NOT NULL,
    pinned BOOLEAN NOT NULL,
    expires_at TIMESTAMP,
    status TEXT NOT NULL,
    recipient_count BIGINT NOT NULL,
    published_at TIMESTAMP,
    archived_at TIMESTAMP,
    -- The list order after `pinned`: published_at once published, created_at for drafts (never
    -- NULL, so that the cursor and both backends' NULL ordering cannot disagree).
    sort_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bulletins_order ON bulletins (pinned, sort_at, id);
CREATE INDEX bulletins_status ON bulletins (status, pinned, sort_at, id);
CREATE INDEX bulletins_category ON bulletins (category, pinned, sort_at, id);
CREATE INDEX bulletins_importance ON bulletins (importance, pinned, sort_at, id);
CREATE INDEX bulletins_published ON bulletins (published_at);

-- The partners a bulletin was addressed to, resolved once at publishing and never rewritten, with
-- each partner's read receipt. `pinned` and `published_at` repeat the bulletin's so that a
-- partner's list is read in order straight from an index.
CREATE TABLE bulletin_recipients (
    bulletin_id TEXT NOT NULL REFERENCES bulletins (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    pinned BOOLEAN NOT NULL,
    published_at TIMESTAMP NOT NULL,
    acknowledged BOOLEAN NOT NULL,
    read_at TIMESTAMP,
    contact_id TEXT,
    contact_name TEXT,
    recorded_by TEXT,
    on_behalf BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (bulletin_id, partner_id)
);
CREATE INDEX bulletin_recipients_partner ON bulletin_recipients (partner_id, pinned, published_at, bulletin_id);
CREATE INDEX bulletin_recipients_partner_unread
    ON bulletin_recipients (partner_id, acknowledged, pinned, published_at, bulletin_id);
CREATE INDEX bulletin_recipients_receipts ON bulletin_recipients (bulletin_id, acknowledged, partner_id);
