ALTER TABLE deliveries DROP COLUMN first_attempt_at;
