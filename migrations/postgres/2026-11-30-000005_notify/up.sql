-- Bot push (WeCom / DingTalk group robots), signed webhooks, their deliveries, and the inbound
-- bot callbacks' replay record.

CREATE TABLE bot_channels (
    id TEXT PRIMARY KEY NOT NULL,
    platform TEXT NOT NULL,
    name TEXT NOT NULL,
    webhook_url TEXT NOT NULL,
    secret TEXT,
    keyword TEXT,
    enabled BOOLEAN NOT NULL,
    partner_id TEXT REFERENCES partners (id),
    chat_id TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bot_channels_platform ON bot_channels (platform, id);
CREATE INDEX bot_channels_partner ON bot_channels (partner_id, id);
CREATE UNIQUE INDEX bot_channels_chat ON bot_channels (platform, chat_id) WHERE chat_id IS NOT NULL;

CREATE TABLE bot_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    channel_id TEXT NOT NULL REFERENCES bot_channels (id),
    event_types TEXT NOT NULL,
    partner_tiers TEXT NOT NULL,
    regions TEXT NOT NULL,
    partner_ids TEXT NOT NULL,
    min_importance TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bot_subscriptions_channel ON bot_subscriptions (channel_id, id);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    event_types TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    parts_total INTEGER NOT NULL,
    parts_sent INTEGER NOT NULL,
    body TEXT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    lease_token TEXT,
    last_attempt_at TIMESTAMP,
    last_error TEXT,
    last_http_status INTEGER,
    last_errcode BIGINT,
    sent_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX deliveries_event_target ON deliveries (event_id, target_id);
CREATE UNIQUE INDEX deliveries_seq ON deliveries (seq);
CREATE INDEX deliveries_target_queue ON deliveries (target_id, status, seq);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at, seq);
CREATE INDEX deliveries_status ON deliveries (status, id);
CREATE INDEX deliveries_target ON deliveries (target_id, id);

-- One row per message sent to a robot, for the per-robot rate limit (pruned after a minute).
CREATE TABLE bot_send_log (
    id TEXT PRIMARY KEY NOT NULL,
    target_id TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL
);
CREATE INDEX bot_send_log_target ON bot_send_log (target_id, sent_at);
CREATE INDEX bot_send_log_sent ON bot_send_log (sent_at);

-- The fan-out's one row: the next delivery sequence number, and the fan-out's lock (the events
-- still to fan out are the outbox's pending rows).
CREATE TABLE notify_state (
    name TEXT PRIMARY KEY NOT NULL,
    next_seq BIGINT NOT NULL
);
INSERT INTO notify_state (name, next_seq) VALUES ('fanout', 1);

-- Inbound bot messages already answered: a platform's retry gets the first answer.
CREATE TABLE bot_inbound (
    platform TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    reply TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (platform, msg_id)
);
CREATE INDEX bot_inbound_created ON bot_inbound (created_at);

-- Chat commands find the sender's partner by platform userid.
CREATE INDEX partner_contacts_wecom_userid ON partner_contacts (wecom_userid);
CREATE INDEX partner_contacts_dingtalk_userid ON partner_contacts (dingtalk_userid);
