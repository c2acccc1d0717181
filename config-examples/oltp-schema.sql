-- The OLTP side of the worked example: a time-tracking application.
-- Every table has updated_at, kept by a trigger: the sink's guard compares it, so a
-- replayed or late change never overwrites a newer one in the OLAP database.

CREATE TABLE teams (
    id          bigint PRIMARY KEY,
    name        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE users (
    id          bigint PRIMARY KEY,
    team_id     bigint NOT NULL REFERENCES teams,
    email       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE projects (
    id          bigint PRIMARY KEY,
    team_id     bigint NOT NULL REFERENCES teams,
    name        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE time_entries (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users,
    project_id  bigint NOT NULL REFERENCES projects,
    duration_s  integer NOT NULL CHECK (duration_s >= 0),
    description text,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- clock_timestamp(), not now(): now() is the transaction's start time, the same for two
-- updates of one row in one transaction, and equal guard values cannot tell them apart.
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END $$;

CREATE TRIGGER teams_touch BEFORE UPDATE ON teams FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER projects_touch BEFORE UPDATE ON projects FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER time_entries_touch BEFORE UPDATE ON time_entries FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
