DROP TABLE competitor_observations;
DROP TABLE competitors;
