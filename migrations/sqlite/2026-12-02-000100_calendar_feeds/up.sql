-- Calendar subscription URLs (`GET /feeds/{token}.ics`). Calendar apps cannot send a bearer
-- header, so each feed carries its own unguessable token, stored only as its SHA-256. A feed reads
-- with the scope of the API key that made it, with the filters stored here (JSON), and stops when
-- it or that key is revoked.
CREATE TABLE calendar_feeds (
    id TEXT PRIMARY KEY NOT NULL,
    api_key_id TEXT NOT NULL REFERENCES api_keys (id),
    token_hash TEXT NOT NULL,
    filters TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX calendar_feeds_token_hash ON calendar_feeds (token_hash);
CREATE INDEX calendar_feeds_api_key ON calendar_feeds (api_key_id, id);
