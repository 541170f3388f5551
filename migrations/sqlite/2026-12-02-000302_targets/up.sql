-- Joint targets (共同目标): a partner's goal for a month, a quarter or a year. `period` is what the
-- client wrote (2026-03, 2026-Q1, 2026); first_month/last_month are the months it covers, so
-- actuals are a range scan of performance_records and the missed-target scan finds ended periods
-- by index. settled_at is set once the scan has judged an ended period (met or missed).
CREATE TABLE targets (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    period TEXT NOT NULL,
    first_month TEXT NOT NULL,
    last_month TEXT NOT NULL,
    metric TEXT NOT NULL,
    target_value BIGINT NOT NULL,
    meeting_id TEXT REFERENCES meetings (id),
    status TEXT NOT NULL,
    agreed_at TIMESTAMP,
    settled_at TIMESTAMP,
    missed BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX targets_key ON targets (partner_id, period, metric);
CREATE INDEX targets_partner ON targets (partner_id, id);
CREATE INDEX targets_unsettled ON targets (status, settled_at, last_month);
