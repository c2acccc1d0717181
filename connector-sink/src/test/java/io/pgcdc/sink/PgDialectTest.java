package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.pgcdc.sink.SinkConfig.GuardMode;

class PgDialectTest {

    private static TargetTable table(String schema, String name, List<String> key, String... columnsAndTypes) {
        return table(false, schema, name, key, columnsAndTypes);
    }

    private static TargetTable table(boolean partitioned, String schema, String name, List<String> key,
                                     String... columnsAndTypes) {
        Map<String, TargetTable.Column> columns = new LinkedHashMap<>();
        for (int i = 0; i < columnsAndTypes.length; i += 2) {
            String type = columnsAndTypes[i + 1];
            columns.put(columnsAndTypes[i], new TargetTable.Column(columnsAndTypes[i], type,
                    type.startsWith("timestamp with") ? "timestamptz" : type));
        }
        return new TargetTable(new TableRef(schema, name), columns, key, partitioned);
    }

    private static final TargetTable ORDERS = table("olap", "orders", List.of("id"),
            "id", "bigint", "total", "numeric(10,2)", "updated_at", "timestamp with time zone");

    /** Counts inserted rows (no xmax) and all rows the statement wrote. */
    private static final String COUNTED = " RETURNING (t.xmax = 0) AS inserted) "
            + "SELECT count(*) FILTER (WHERE inserted), count(*) FROM w";

    @Test
    void guardedUpsertFromOneJsonParameterCountsWhatItWrote() {
        assertEquals("WITH w AS (INSERT INTO \"olap\".\"orders\" AS t (\"id\", \"total\", \"updated_at\") "
                + "SELECT \"id\", \"total\", \"updated_at\" FROM json_to_recordset(?::json) "
                + "AS d(\"id\" bigint, \"total\" numeric(10,2), \"updated_at\" timestamp with time zone) "
                + "ON CONFLICT (\"id\") DO UPDATE SET \"total\" = excluded.\"total\", \"updated_at\" = excluded.\"updated_at\" "
                + "WHERE t.\"updated_at\" IS NULL OR t.\"updated_at\" < excluded.\"updated_at\"" + COUNTED,
                PgDialect.upsert(ORDERS, List.of("id", "total", "updated_at"), new Guard(GuardMode.COLUMN, "updated_at", null, null)));
    }

    @Test
    void documentsTravelBesideTheRowsOneTextArrayPerColumnAndAreCast() {
        TargetTable docs = table("public", "docs", List.of("id"), "id", "int", "doc", "jsonb", "note", "text", "raw", "json");
        assertEquals("WITH w AS (INSERT INTO \"public\".\"docs\" AS t (\"id\", \"doc\", \"note\", \"raw\") "
                + "SELECT \"id\", \"doc\"::jsonb, \"note\", \"raw\"::json "
                + "FROM ROWS FROM (json_to_recordset(?::json) AS (\"id\" int, \"note\" text), unnest(?::text[]), unnest(?::text[])) "
                + "AS d(\"id\", \"note\", \"doc\", \"raw\") "
                + "ON CONFLICT (\"id\") DO UPDATE SET \"doc\" = excluded.\"doc\", \"note\" = excluded.\"note\", "
                + "\"raw\" = excluded.\"raw\"" + COUNTED,
                PgDialect.upsert(docs, List.of("id", "doc", "note", "raw"), new Guard(GuardMode.NONE, null, null, null)));
        assertEquals(List.of("doc", "raw"), PgDialect.documents(docs, List.of("id", "doc", "note", "raw")),
                "parameters in the order of the unnests");
    }

    @Test
    void aStatementOfDocumentsAloneStillReadsOneFieldPerRow() {
        TargetTable docs = table("public", "docs", List.of("id"), "id", "int", "doc", "jsonb");
        assertEquals("SELECT count(\"doc\"::jsonb) FROM ROWS FROM (json_to_recordset(?::json) AS (\"__pgcdc_row\" int), "
                + "unnest(?::text[])) AS d(\"__pgcdc_row\", \"doc\")", PgDialect.convert(docs, "doc"));
        TargetTable keyedByDocument = table("public", "k", List.of("doc"), "doc", "jsonb");
        assertEquals("DELETE FROM \"public\".\"k\" AS t USING ROWS FROM (json_to_recordset(?::json) AS "
                + "(\"__pgcdc_commit_time\" timestamptz, \"__pgcdc_position\" bigint), unnest(?::text[])) "
                + "AS d(\"__pgcdc_commit_time\", \"__pgcdc_position\", \"doc\") WHERE t.\"doc\" = d.\"doc\"::jsonb",
                PgDialect.delete(keyedByDocument, new Guard(GuardMode.NONE, "updated_at", null, null)));
    }

    @Test
    void aPartitionedTableCountsInsertsByTheKeysThatWereNotThere() {
        TargetTable partitioned = table(true, "olap", "events", List.of("day", "id"),
                "day", "date", "id", "bigint", "n", "int", "updated_at", "timestamp with time zone");
        assertEquals("WITH w AS (INSERT INTO \"olap\".\"events\" AS t (\"day\", \"id\", \"n\", \"updated_at\") "
                + "SELECT \"day\", \"id\", \"n\", \"updated_at\" FROM json_to_recordset(?::json) "
                + "AS d(\"day\" date, \"id\" bigint, \"n\" int, \"updated_at\" timestamp with time zone) "
                + "ON CONFLICT (\"day\", \"id\") DO UPDATE SET \"n\" = excluded.\"n\", \"updated_at\" = excluded.\"updated_at\" "
                + "WHERE t.\"updated_at\" IS NULL OR t.\"updated_at\" < excluded.\"updated_at\" "
                + "RETURNING t.\"day\", t.\"id\") SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM \"olap\".\"events\" AS o "
                + "WHERE o.\"day\" = w.\"day\" AND o.\"id\" = w.\"id\")), count(*) FROM w",
                PgDialect.upsert(partitioned, List.of("day", "id", "n", "updated_at"), new Guard(GuardMode.COLUMN, "updated_at", null, null)));
    }

    @Test
    void unguardedUpsertAndKeyOnlyUpsert() {
        assertEquals("WITH w AS (INSERT INTO \"olap\".\"orders\" AS t (\"id\", \"total\") SELECT \"id\", \"total\" FROM "
                + "json_to_recordset(?::json) AS d(\"id\" bigint, \"total\" numeric(10,2)) "
                + "ON CONFLICT (\"id\") DO UPDATE SET \"total\" = excluded.\"total\"" + COUNTED,
                PgDialect.upsert(ORDERS, List.of("id", "total"), new Guard(GuardMode.NONE, "updated_at", null, null)));
        // DO NOTHING returns only the rows it inserted.
        assertEquals("WITH w AS (INSERT INTO \"olap\".\"orders\" AS t (\"id\") SELECT \"id\" FROM json_to_recordset(?::json) "
                + "AS d(\"id\" bigint) ON CONFLICT (\"id\") DO NOTHING" + COUNTED,
                PgDialect.upsert(ORDERS, List.of("id"), new Guard(GuardMode.COLUMN, "updated_at", null, null)));
    }

    @Test
    void deleteIsGuardedByCommitTimeOrPosition() {
        assertEquals("DELETE FROM \"olap\".\"orders\" AS t USING json_to_recordset(?::json) AS d(\"id\" bigint, "
                + "\"__pgcdc_commit_time\" timestamptz, \"__pgcdc_position\" bigint) WHERE t.\"id\" = d.\"id\" AND "
                + "(t.\"updated_at\" IS NULL OR d.\"__pgcdc_commit_time\" IS NULL OR t.\"updated_at\" <= d.\"__pgcdc_commit_time\")",
                PgDialect.delete(ORDERS, new Guard(GuardMode.COLUMN, "updated_at", null, null)));
        TargetTable versioned = table("public", "v", List.of("id"), "id", "int", "pos", "numeric");
        assertEquals("DELETE FROM \"public\".\"v\" AS t USING json_to_recordset(?::json) AS d(\"id\" int, "
                + "\"__pgcdc_commit_time\" timestamptz, \"__pgcdc_position\" bigint) WHERE t.\"id\" = d.\"id\" AND "
                + "(t.\"pos\" IS NULL OR d.\"__pgcdc_position\" IS NULL OR t.\"pos\" < d.\"__pgcdc_position\")",
                PgDialect.delete(versioned, new Guard(GuardMode.SOURCE_LSN, "pos", null, null)));
    }

    @Test
    void withAPositionColumnEqualGuardsAreOrderedAndDeletesGuardedByPosition() {
        TargetTable local = table("public", "l", List.of("id"), "id", "int", "updated_at", "timestamp", "pos", "bigint");
        Guard guard = new Guard(GuardMode.COLUMN, "updated_at", "pos", "Europe/Berlin");
        assertTrue(PgDialect.upsert(local, List.of("id", "pos", "updated_at"), guard).endsWith(" WHERE t.\"updated_at\" "
                + "IS NULL OR t.\"updated_at\" < excluded.\"updated_at\" OR t.\"updated_at\" = excluded.\"updated_at\" "
                + "AND coalesce(t.\"pos\", -1) < excluded.\"pos\"" + COUNTED), "a snapshot's row has no position");
        assertTrue(PgDialect.delete(local, guard).endsWith(" AND CASE WHEN t.\"pos\" IS NOT NULL AND d.\"__pgcdc_position\" "
                + "IS NOT NULL THEN t.\"pos\" < d.\"__pgcdc_position\" ELSE (t.\"updated_at\" IS NULL OR "
                + "d.\"__pgcdc_commit_time\" IS NULL OR (t.\"updated_at\" AT TIME ZONE 'Europe/Berlin') <= "
                + "d.\"__pgcdc_commit_time\") END"), PgDialect.delete(local, guard));
        assertTrue(PgDialect.softDelete(local, "updated_at", guard).contains(", \"pos\" = d.\"__pgcdc_position\" FROM"),
                "a soft delete keeps its position too");
    }

    /** In order, a row is at or after every delete of its table: the ledger is probed only for rows below the latest. */
    @Test
    void anUpsertLooksUpTheLedgerOnlyBelowTheLatestDeletedPosition() {
        TargetTable keyed = table("public", "k", List.of("tenant", "id"), "tenant", "int", "id", "int", "pos", "numeric");
        String upsert = PgDialect.upsert(keyed, List.of("tenant", "id", "pos"), new Guard(GuardMode.SOURCE_LSN, "pos", null, null),
                new TableRef("olap", "deleted"));
        assertTrue(upsert.contains(" WHERE d.\"pos\" >= coalesce((SELECT max(position) FROM \"olap\".\"deleted\" WHERE "
                + "target = 'public.k'), 0) OR NOT EXISTS (SELECT 1 FROM \"olap\".\"deleted\" AS l WHERE l.target = "
                + "'public.k' AND l.key = ROW(d.\"tenant\", d.\"id\")::text AND l.position > d.\"pos\") ON CONFLICT"), upsert);
        assertTrue(String.join("; ", PgDialect.createLedger(new TableRef("olap", "deleted")))
                .endsWith("ON \"olap\".\"deleted\" (target, position)"), "max(position) per target reads an index");
    }

    /** A row moves to its new key unless one holds it already, guarded like a delete. */
    @Test
    void aMoveGivesTheStoredRowItsNewKeyUnlessTaken() {
        TargetTable keyed = table("public", "k", List.of("tenant", "id"), "tenant", "int", "id", "int", "pos", "numeric");
        assertEquals("UPDATE \"public\".\"k\" AS t SET \"tenant\" = d.\"__pgcdc_new_tenant\", \"id\" = d.\"__pgcdc_new_id\" "
                + "FROM json_to_recordset(?::json) AS d(\"tenant\" int, \"id\" int, \"__pgcdc_commit_time\" timestamptz, "
                + "\"__pgcdc_position\" bigint, \"__pgcdc_new_tenant\" int, \"__pgcdc_new_id\" int) "
                + "WHERE t.\"tenant\" = d.\"tenant\" AND t.\"id\" = d.\"id\" AND (t.\"pos\" IS NULL OR d.\"__pgcdc_position\" IS NULL "
                + "OR t.\"pos\" < d.\"__pgcdc_position\") AND NOT EXISTS (SELECT 1 FROM \"public\".\"k\" AS n "
                + "WHERE n.\"tenant\" = d.\"__pgcdc_new_tenant\" AND n.\"id\" = d.\"__pgcdc_new_id\")",
                PgDialect.move(keyed, new Guard(GuardMode.SOURCE_LSN, "pos", null, null)));
    }

    @Test
    void softDeleteSetsTheColumn() {
        TargetTable flagged = table("public", "f", List.of("id"), "id", "int", "deleted", "bool", "updated_at", "timestamp");
        assertEquals("UPDATE \"public\".\"f\" AS t SET \"deleted\" = true FROM json_to_recordset(?::json) AS d(\"id\" int, "
                + "\"__pgcdc_commit_time\" timestamptz, \"__pgcdc_position\" bigint) WHERE t.\"id\" = d.\"id\" AND "
                + "(t.\"updated_at\" IS NULL OR d.\"__pgcdc_commit_time\" IS NULL OR t.\"updated_at\" <= d.\"__pgcdc_commit_time\")",
                PgDialect.softDelete(flagged, "deleted", new Guard(GuardMode.COLUMN, "updated_at", null, null)));
    }

    /** Column names and types, in order. */
    private static Map<String, String> types(String... namesAndTypes) {
        Map<String, String> types = new LinkedHashMap<>();
        for (int i = 0; i < namesAndTypes.length; i += 2) {
            types.put(namesAndTypes[i], namesAndTypes[i + 1]);
        }
        return types;
    }

    @Test
    void createTableIfNotExistsWithItsPrimaryKey() {
        assertEquals("CREATE TABLE IF NOT EXISTS \"olap\".\"orders\" (\"tenant\" integer, \"id\" bigint, "
                + "\"total\" numeric(10,2), \"Tags\" text[], PRIMARY KEY (\"tenant\", \"id\"))",
                PgDialect.createTable(new TableRef("olap", "orders"),
                        types("tenant", "integer", "id", "bigint", "total", "numeric(10,2)", "Tags", "text[]"),
                        List.of("tenant", "id")));
    }

    @Test
    void addColumnsIfNotExists() {
        assertEquals("ALTER TABLE \"olap\".\"orders\" ADD COLUMN IF NOT EXISTS \"note\" text, "
                + "ADD COLUMN IF NOT EXISTS \"seen\" timestamptz",
                PgDialect.addColumns(new TableRef("olap", "orders"), types("note", "text", "seen", "timestamptz")));
    }

    @Test
    void hostileIdentifiersAreQuoted() {
        TargetTable hostile = table("we\"ird", "Order Lines; DROP TABLE x", List.of("Id"), "Id", "int", "select", "text");
        assertEquals("WITH w AS (INSERT INTO \"we\"\"ird\".\"Order Lines; DROP TABLE x\" AS t (\"Id\", \"select\") "
                + "SELECT \"Id\", \"select\" FROM json_to_recordset(?::json) AS d(\"Id\" int, \"select\" text) "
                + "ON CONFLICT (\"Id\") DO UPDATE SET \"select\" = excluded.\"select\"" + COUNTED,
                PgDialect.upsert(hostile, List.of("Id", "select"), new Guard(GuardMode.NONE, "x", null, null)));
        assertEquals("CREATE TABLE IF NOT EXISTS \"we\"\"ird\".\"Order Lines; DROP TABLE x\" (\"Id\" integer, "
                + "\"a\"\"); DROP TABLE x; --\" text, PRIMARY KEY (\"Id\"))",
                PgDialect.createTable(hostile.ref(), types("Id", "integer", "a\"); DROP TABLE x; --", "text"), List.of("Id")));
        assertEquals("ALTER TABLE \"we\"\"ird\".\"Order Lines; DROP TABLE x\" ADD COLUMN IF NOT EXISTS \"b\"\" text\" text",
                PgDialect.addColumns(hostile.ref(), types("b\" text", "text")));
    }

    @Test
    void keptBlockStaysUnderTheSizeUpToWhichGlibcRaisesItsBounds() {
        // repeat()'s varlena header, PostgreSQL's block and chunk headers, glibc's chunk header, then a whole page.
        long mapped = (PgDialect.KEPT_BLOCK_BYTES + 4 + 64 + 16 + 4095) / 4096 * 4096;
        assertTrue(mapped <= 32 << 20, mapped + " bytes");
        assertTrue(mapped > (31 << 20), "a smaller block would keep less than the largest statement needs: " + mapped);
        assertEquals("SELECT length(repeat('x', " + PgDialect.KEPT_BLOCK_BYTES + "))", PgDialect.KEEP_STATEMENT_MEMORY);
    }
}
