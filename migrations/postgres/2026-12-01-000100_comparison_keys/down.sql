DROP INDEX key_accounts_name_key;
ALTER TABLE key_accounts DROP COLUMN name_key;
DROP TABLE data_upgrades;
