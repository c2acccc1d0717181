-- The OLAP side of the worked example, fed by the sink (table.name.format=olap.${source.table}).
CREATE SCHEMA olap;

-- Transformation tables: the rows the reports need, in the shape they need. Only the
-- columns the reports use; the sink writes the columns a table has and ignores the rest.
CREATE TABLE olap.projects (
    id          bigint PRIMARY KEY,
    team_id     bigint NOT NULL,
    name        text,
    updated_at  timestamptz,
    -- Kept by the sink (upsert.position.column): orders versions with equal updated_at and guards deletes.
    pgcdc_position bigint
);

CREATE TABLE olap.time_entries (
    id          bigint PRIMARY KEY,
    user_id     bigint,
    project_id  bigint NOT NULL,
    duration_s  integer NOT NULL,
    updated_at  timestamptz,
    pgcdc_position bigint,
    -- A generated column: computed once on write instead of in every report query.
    duration_h  numeric GENERATED ALWAYS AS (duration_s / 3600.0) STORED
);

-- An inclusive index: per-project sums read the index alone, never the table.
CREATE INDEX time_entries_by_project ON olap.time_entries (project_id) INCLUDE (duration_s);

-- Totals per project, maintained by statement-level triggers: the sink writes a whole
-- batch in one statement per table, so each trigger runs once per batch and sees every
-- changed row at once in its transition tables, instead of once per row.
CREATE TABLE olap.project_totals (
    project_id  bigint PRIMARY KEY,
    total_s     bigint NOT NULL
);

CREATE FUNCTION olap.add_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO olap.project_totals AS t (project_id, total_s)
    SELECT project_id, sum(duration_s) FROM new_rows GROUP BY project_id
    ON CONFLICT (project_id) DO UPDATE SET total_s = t.total_s + excluded.total_s;
    RETURN NULL;
END $$;

CREATE FUNCTION olap.change_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO olap.project_totals AS t (project_id, total_s)
    SELECT project_id, sum(d) FROM (
        SELECT project_id, duration_s AS d FROM new_rows
        UNION ALL
        SELECT project_id, -duration_s FROM old_rows) changes
    GROUP BY project_id
    ON CONFLICT (project_id) DO UPDATE SET total_s = t.total_s + excluded.total_s;
    RETURN NULL;
END $$;

CREATE FUNCTION olap.remove_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE olap.project_totals t SET total_s = t.total_s - o.total_s
    FROM (SELECT project_id, sum(duration_s) AS total_s FROM old_rows GROUP BY project_id) o
    WHERE t.project_id = o.project_id;
    RETURN NULL;
END $$;

CREATE TRIGGER entries_added AFTER INSERT ON olap.time_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION olap.add_entries();
CREATE TRIGGER entries_changed AFTER UPDATE ON olap.time_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION olap.change_entries();
CREATE TRIGGER entries_removed AFTER DELETE ON olap.time_entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION olap.remove_entries();

-- Team totals: projects and time entries travel on different topics, in no order
-- relative to each other, so the project-to-team mapping is joined at read time.
CREATE VIEW olap.team_totals AS
SELECT p.team_id, sum(t.total_s) AS total_s
FROM olap.project_totals t JOIN olap.projects p ON p.id = t.project_id
GROUP BY p.team_id;

-- The sink's own: each key it hard-deleted, with the delete's source position, kept for
-- delete.ledger.retention.ms so that an older version arriving late (a replay, a
-- re-snapshot) does not bring the row back (delete.ledger.table).
CREATE TABLE olap.pgcdc_deleted_keys (
    target      text NOT NULL,
    key         text NOT NULL,
    position    bigint NOT NULL,
    deleted_at  timestamptz NOT NULL,
    PRIMARY KEY (target, key)
);
CREATE INDEX pgcdc_deleted_keys_deleted_at ON olap.pgcdc_deleted_keys (deleted_at);
CREATE INDEX pgcdc_deleted_keys_target_position ON olap.pgcdc_deleted_keys (target, position);
