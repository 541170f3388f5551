-- Competitors (渠道竞争分析) and what was observed of their channels. Internal intelligence: no
-- partner owns these rows. Names are unique among current competitors by `name_key`
-- (validation::comparison_key, computed in Rust). Dates are TEXT in ISO form (YYYY-MM-DD).
CREATE TABLE competitors (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    website TEXT,
    notes TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE UNIQUE INDEX competitors_name_key ON competitors (name_key) WHERE archived_at IS NULL;

CREATE TABLE competitor_observations (
    id TEXT PRIMARY KEY NOT NULL,
    competitor_id TEXT NOT NULL REFERENCES competitors (id),
    region TEXT,
    channel_type TEXT,
    kind TEXT,
    partner_names TEXT NOT NULL,
    market_share_bp BIGINT,
    price_position TEXT,
    strategy TEXT,
    observed_on TEXT NOT NULL,
    source TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX competitor_observations_competitor ON competitor_observations (competitor_id, id);
-- The market-share view: each competitor's latest observation in a region up to a date.
CREATE INDEX competitor_observations_region ON competitor_observations (region, competitor_id, observed_on);
