DROP TABLE bulletin_recipients;
DROP TABLE bulletins;
