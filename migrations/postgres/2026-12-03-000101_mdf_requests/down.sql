DROP TABLE mdf_requests;
