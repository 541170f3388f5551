DROP TABLE action_items;
DROP TABLE meeting_partners;
DROP TABLE meetings;
DROP TABLE meeting_series;
