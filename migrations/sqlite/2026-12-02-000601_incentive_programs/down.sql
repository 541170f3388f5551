DROP TABLE incentive_programs;
