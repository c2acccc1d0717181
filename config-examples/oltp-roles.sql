-- Least privilege for the source: REPLICATION to read the slot, SELECT on the captured
-- tables. The publication is created here by the tables' owner, so the connector never
-- needs to own tables (publication.autocreate.mode=filtered leaves a matching one alone).
CREATE ROLE cdc LOGIN REPLICATION PASSWORD 'cdc';
GRANT SELECT ON teams, users, projects, time_entries TO cdc;
CREATE PUBLICATION pgcdc_app FOR TABLE teams, users, projects, time_entries;
