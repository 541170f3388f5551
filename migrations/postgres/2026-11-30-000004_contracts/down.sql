DROP TABLE contract_open_risks;
DROP TABLE contract_amendments;
DROP TABLE contract_terms;
DROP TABLE contracts;
