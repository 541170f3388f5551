DROP TABLE conflict_comments;
DROP TABLE conflict_links;
DROP TABLE conflict_parties;
DROP TABLE conflicts;
