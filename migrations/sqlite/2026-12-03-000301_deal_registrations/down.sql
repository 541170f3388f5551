DROP TABLE deal_registration_lines;
DROP TABLE deal_registrations;
