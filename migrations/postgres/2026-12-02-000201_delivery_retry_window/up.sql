-- A failing delivery retries until CHANNELDESK_DELIVERY_RETRY_HOURS have passed since its first
-- attempt (no longer until an attempt count): the window starts here. Deliveries already tried
-- count from when they were made, the closest record of their first attempt.
ALTER TABLE deliveries ADD COLUMN first_attempt_at TIMESTAMP;
UPDATE deliveries SET first_attempt_at = created_at WHERE attempts > 0;
