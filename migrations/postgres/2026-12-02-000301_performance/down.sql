DROP TABLE cost_records;
DROP TABLE performance_records;
