-- Channel evaluation data (渠道效果/成本评估): each partner's monthly performance, optionally per
-- product line, and its costs by category. Months are TEXT `YYYY-MM` (fixed width: text order is
-- time order). Money is BIGINT minor units (fen) with its ISO 4217 currency; shares are basis points.

CREATE TABLE performance_records (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    period TEXT NOT NULL,
    product_line TEXT,
    -- The product line as the uniqueness rule compares it ('' for the whole business), so that
    -- "no product line" is unique too: a nullable column in a unique index would let NULLs repeat.
    line_key TEXT NOT NULL,
    revenue_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    units BIGINT NOT NULL,
    orders BIGINT NOT NULL,
    new_customers BIGINT NOT NULL,
    customer_satisfaction INTEGER,
    market_share_bp INTEGER,
    notes TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One record per (partner, month, product line); also the index of one partner's months.
CREATE UNIQUE INDEX performance_records_key ON performance_records (partner_id, period, line_key);
-- Lists newest month first, and the scorecards' scans of a window of months.
CREATE INDEX performance_records_period ON performance_records (period, id);
CREATE INDEX performance_records_line ON performance_records (line_key, period, partner_id);

CREATE TABLE cost_records (
    id TEXT PRIMARY KEY NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    period TEXT NOT NULL,
    category TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    notes TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cost_records_partner ON cost_records (partner_id, period, id);
CREATE INDEX cost_records_period ON cost_records (period, id);
