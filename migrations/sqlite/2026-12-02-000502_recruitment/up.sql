-- Recruitment (新渠道拓展): campaigns that bring in new partners, and on each partner how it came
-- (`source`), which campaign brought it (`campaign_id`) and when it first became active
-- (`activated_at`, which the funnel's time to active is measured to). Campaigns are archived,
-- never destroyed, and the store checks that a linked campaign exists, so `campaign_id` carries
-- no foreign key: SQLite cannot drop a column that has one, and every down.sql must work.
CREATE TABLE recruitment_campaigns (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    region TEXT,
    cost_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    notes TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX recruitment_campaigns_kind ON recruitment_campaigns (kind, id);
CREATE INDEX recruitment_campaigns_region ON recruitment_campaigns (region, id);

ALTER TABLE partners ADD COLUMN source TEXT;
ALTER TABLE partners ADD COLUMN campaign_id TEXT;
ALTER TABLE partners ADD COLUMN activated_at TIMESTAMP;
CREATE INDEX partners_source ON partners (source, id);
CREATE INDEX partners_campaign ON partners (campaign_id, id);

-- Partners that were active before this column existed: the first audit event that moved them
-- to active (the audit trail stores `{"status":{"new":"active","old":…}}`, keys sorted).
UPDATE partners SET activated_at = (
    SELECT MIN(a.occurred_at) FROM audit_events a
    WHERE a.resource_type = 'partner' AND a.resource_id = partners.id
      AND a.changes LIKE '%"status":{"new":"active"%'
);
