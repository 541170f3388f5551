DROP INDEX partners_campaign;
DROP INDEX partners_source;
ALTER TABLE partners DROP COLUMN activated_at;
ALTER TABLE partners DROP COLUMN campaign_id;
ALTER TABLE partners DROP COLUMN source;
DROP TABLE recruitment_campaigns;
