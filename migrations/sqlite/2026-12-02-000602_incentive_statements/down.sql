DROP TABLE incentive_statements;
