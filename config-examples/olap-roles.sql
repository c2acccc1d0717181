-- Least privilege for the sink: write the tables it feeds, read the catalog.
CREATE ROLE sink LOGIN PASSWORD 'sink';
GRANT USAGE ON SCHEMA olap TO sink;
GRANT SELECT, INSERT, UPDATE, DELETE ON olap.projects, olap.time_entries TO sink;
-- The deleted keys it remembers, and forgets after their retention.
GRANT SELECT, INSERT, UPDATE, DELETE ON olap.pgcdc_deleted_keys TO sink;
-- The statement-level triggers run as the sink and maintain the totals.
GRANT SELECT, INSERT, UPDATE ON olap.project_totals TO sink;
