-- Recurring series: the template and rule its occurrences were generated from.
CREATE TABLE meeting_series (
    id TEXT PRIMARY KEY NOT NULL,
    template TEXT NOT NULL,
    rule TEXT NOT NULL,
    status TEXT NOT NULL,
    cancel_reason TEXT,
    cancelled_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX meeting_series_status ON meeting_series (status, id);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    series_id TEXT REFERENCES meeting_series (id),
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    partner_ids TEXT NOT NULL,
    key_account_id TEXT REFERENCES key_accounts (id),
    organizer TEXT NOT NULL,
    organizer_email TEXT,
    attendees TEXT NOT NULL,
    agenda TEXT NOT NULL,
    location TEXT,
    online_url TEXT,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    timezone TEXT NOT NULL,
    status TEXT NOT NULL,
    minutes TEXT,
    decisions TEXT NOT NULL,
    cancel_reason TEXT,
    held_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Lists are ordered by start time; each filter has its own index in that order.
CREATE INDEX meetings_starts ON meetings (starts_at, id);
CREATE INDEX meetings_status ON meetings (status, starts_at, id);
CREATE INDEX meetings_kind ON meetings (kind, starts_at, id);
CREATE INDEX meetings_organizer ON meetings (organizer, starts_at, id);
CREATE INDEX meetings_series ON meetings (series_id, starts_at, id);
CREATE INDEX meetings_key_account ON meetings (key_account_id, starts_at, id);

-- Which partners a meeting includes, with its start time copied so that one partner's
-- meetings are read in start order from the index alone.
CREATE TABLE meeting_partners (
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    partner_id TEXT NOT NULL REFERENCES partners (id),
    starts_at TIMESTAMP NOT NULL,
    PRIMARY KEY (meeting_id, partner_id)
);
CREATE INDEX meeting_partners_partner ON meeting_partners (partner_id, starts_at, meeting_id);

CREATE TABLE action_items (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    due_date TEXT,
    -- due_date, or '9999-12-31' when there is none: lists sort by it, undated items last.
    due_sort TEXT NOT NULL,
    -- The instant the item becomes overdue: the start of the day after due_date in the
    -- meeting's timezone.
    overdue_at TIMESTAMP,
    overdue_notified_at TIMESTAMP,
    status TEXT NOT NULL,
    done_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX action_items_meeting ON action_items (meeting_id, id);
CREATE INDEX action_items_due ON action_items (due_sort, id);
CREATE INDEX action_items_status ON action_items (status, due_sort, id);
CREATE INDEX action_items_owner ON action_items (owner, due_sort, id);
CREATE INDEX action_items_partner ON action_items (partner_id, due_sort, id);
CREATE INDEX action_items_partner_status ON action_items (partner_id, status, due_sort, id);
-- What the overdue scan still has to announce.
CREATE INDEX action_items_overdue_pending ON action_items (overdue_at)
    WHERE status = 'open' AND overdue_notified_at IS NULL;
