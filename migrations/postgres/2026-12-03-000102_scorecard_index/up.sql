-- The scorecards sum performance records per partner over a window of months: an index that holds
-- every column they read, in (line_key, partner_id, period) order, so a ranking over every partner
-- can be an index-only scan and one partner's scorecard is one range.
CREATE INDEX performance_records_scorecard ON performance_records (line_key, partner_id, period)
    INCLUDE (currency, revenue_minor, units, new_customers, customer_satisfaction, market_share_bp);
