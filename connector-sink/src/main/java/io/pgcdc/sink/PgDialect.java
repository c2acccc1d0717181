package io.pgcdc.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

import io.pgcdc.sink.SinkConfig.GuardMode;

/**
 * Every SQL text the sink runs is built here. A statement's rows travel as ONE parameter, a
 * JSON array, expanded by {@code json_to_recordset} with the target's own column types;
 * identifiers are always quoted. {@code json_to_recordset} hands each value's text straight
 * to its type's input function, where {@code jsonb_to_recordset} would first build the whole array
 * in its binary form: half the time for 10,000 rows of five plain columns (psql, PostgreSQL 15).
 *
 * <p>Documents (json and jsonb columns) travel beside the array, one {@code text[]} parameter per
 * document column, zipped with the rows by {@code ROWS FROM} and cast: each document is parsed
 * once, from its own text, and a JSON {@code null} stays a document while SQL NULL stays NULL.
 * For 10,000 rows with 4 KiB jsonb documents the guarded upsert took 0.85 s this way, and 1.8 s
 * with the documents inside the array, whether as JSON strings cast one by one or as values of an
 * array parsed whole into jsonb (psql, PostgreSQL 15).
 */
final class PgDialect {

    /** Fields of a delete's JSON row beside the key columns. */
    static final String COMMIT_TIME_FIELD = "__pgcdc_commit_time";
    static final String POSITION_FIELD = "__pgcdc_position";

    /** glibc raises its bounds only for a freed block of at most 32 MiB, headers included: this leaves room for them. */
    static final int KEPT_BLOCK_BYTES = (32 << 20) - (64 << 10);

    /**
     * Run once on each new connection, before any batch: allocates and frees one block just under 32 MiB in
     * the server process. glibc's malloc hands memory freed at the top of its heap back to the system once
     * more than twice the largest block it has mapped and freed lies there, and a statement holds its
     * parameters several times over (see StatementChunks), so without this every statement of documents gave
     * its memory back and the next one faulted it all in afresh: 4.4-6.5 page faults per 4 KiB jsonb row,
     * against 1.2 after this, and 118-149 against 75-83 ms of server CPU per 1,000 rows (PostgreSQL 15,
     * 2,000 and 500-row statements). A 32 MiB block raises that bound to its ceiling of 64 MiB; a larger one
     * would not. The process keeps up to that much of its largest statement's memory. Under another
     * allocator this is one short-lived allocation.
     */
    static final String KEEP_STATEMENT_MEMORY = "SELECT length(repeat('x', " + KEPT_BLOCK_BYTES + "))";

    /** json_to_recordset needs a column: the one it reads when every column of a statement is a document. */
    private static final Field NO_FIELDS = new Field("__pgcdc_row", "int");

    /** A field of the JSON rows, as the recordset declares it. */
    private record Field(String name, String type) { }

    private PgDialect() {
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /**
     * An upsert of {@code columns} (which include the key), as a query whose one row counts the rows
     * it inserted and the rows it wrote (inserted or updated); rows sent but not written were
     * refused by the guard. Under a guard an existing row is only updated by a strictly newer
     * version, so replays and late arrivals change nothing. The counting wraps the one statement,
     * so statement-level triggers still run once.
     */
    static String upsert(TargetTable table, List<String> columns, Guard guard) {
        return upsert(table, columns, guard, null);
    }

    /**
     * The upsert, and with {@code ledger} (the table of deleted keys) not for a row whose key was deleted at a
     * later source position than the row's: a late older version does not bring a deleted row back.
     */
    static String upsert(TargetTable table, List<String> columns, Guard guard, TableRef ledger) {
        StringJoiner names = new StringJoiner(", ");
        columns.forEach(c -> names.add(quote(c)));
        StringBuilder sql = new StringBuilder("WITH w AS (INSERT INTO ").append(table.ref().quoted()).append(" AS t (")
                .append(names).append(") SELECT ").append(values(table, columns)).append(" FROM ")
                .append(recordset(table, columns, List.of()));
        String position = guard.writtenPosition();
        if (ledger != null && position != null) {
            // A row at or after the table's latest deleted position cannot be older than any of its deletes: in a
            // stream that arrives in order, every row, and the ledger is not looked up per row. The latest position
            // is read once per statement, from the ledger's (target, position) index.
            String target = literal(table.ref().toString());
            String rowPosition = "d." + quote(position);
            sql.append(" WHERE ").append(rowPosition).append(" >= coalesce((SELECT max(position) FROM ")
                    .append(ledger.quoted()).append(" WHERE target = ").append(target).append("), 0) OR NOT EXISTS (")
                    .append("SELECT 1 FROM ").append(ledger.quoted()).append(" AS l WHERE l.target = ").append(target)
                    .append(" AND l.key = ").append(keyText(table)).append(" AND l.position > ").append(rowPosition)
                    .append(")");
        }
        sql.append(" ON CONFLICT (");
        StringJoiner keys = new StringJoiner(", ");
        table.keyColumns().forEach(k -> keys.add(quote(k)));
        sql.append(keys).append(") DO ");
        StringJoiner set = new StringJoiner(", ");
        for (String column : columns) {
            if (!table.keyColumns().contains(column)) {
                set.add(quote(column) + " = excluded." + quote(column));
            }
        }
        if (set.length() == 0) {
            sql.append("NOTHING");
        } else {
            sql.append("UPDATE SET ").append(set);
            if (guard.mode() != GuardMode.NONE) {
                String g = quote(guard.column());
                sql.append(" WHERE t.").append(g).append(" IS NULL OR t.").append(g).append(" < excluded.").append(g);
                if (guard.positionColumn() != null) {
                    // Equal guard values (now() is fixed per transaction): the later source position is newer, and a
                    // change with a position is newer than a row stored without one (a snapshot's).
                    String p = quote(guard.positionColumn());
                    sql.append(" OR t.").append(g).append(" = excluded.").append(g).append(" AND coalesce(t.").append(p)
                            .append(", -1) < excluded.").append(p);
                }
            }
        }
        if (table.partitioned()) {
            // A partitioned table cannot return xmax. The outer query reads the table in the statement's
            // snapshot, from before the insert: a returned key that was not there then is an insert (a row
            // another transaction committed since that snapshot counts as inserted, though it was updated).
            StringJoiner returning = new StringJoiner(", ");
            StringJoiner existed = new StringJoiner(" AND ");
            for (String key : table.keyColumns()) {
                returning.add("t." + quote(key));
                existed.add("o." + quote(key) + " = w." + quote(key));
            }
            return sql.append(" RETURNING ").append(returning).append(") SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ")
                    .append(table.ref().quoted()).append(" AS o WHERE ").append(existed).append(")), count(*) FROM w").toString();
        }
        // A row the statement inserted has no xmax; an updated one carries the updating transaction's.
        return sql.append(" RETURNING (t.xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted), count(*) FROM w")
                .toString();
    }

    /** A delete of the keyed rows, guarded like upserts: it does not remove a row written after it. */
    static String delete(TargetTable table, Guard guard) {
        return "DELETE FROM " + table.ref().quoted() + " AS t USING " + deleteRecordset(table) + " WHERE "
                + keyMatch(table) + deleteGuard(table, guard);
    }

    /**
     * Moves stored rows to their new keys (see KeyMoves), guarded like deletes, and not where a row holds the new
     * key already: that row is newer than the key change, which a delete of the old key then completes.
     */
    static String move(TargetTable table, Guard guard) {
        List<Field> fields = new ArrayList<>(List.of(new Field(COMMIT_TIME_FIELD, "timestamptz"),
                new Field(POSITION_FIELD, "bigint")));
        StringJoiner set = new StringJoiner(", ");
        StringJoiner taken = new StringJoiner(" AND ");
        for (String key : table.keyColumns()) {
            String moved = quote(KeyMoves.NEW_KEY_PREFIX + key);
            fields.add(new Field(KeyMoves.NEW_KEY_PREFIX + key, table.columns().get(key).sqlType()));
            set.add(quote(key) + " = d." + moved);
            taken.add("n." + quote(key) + " = d." + moved);
        }
        return "UPDATE " + table.ref().quoted() + " AS t SET " + set + " FROM " + recordset(table, table.keyColumns(), fields)
                + " WHERE " + keyMatch(table) + deleteGuard(table, guard) + " AND NOT EXISTS (SELECT 1 FROM "
                + table.ref().quoted() + " AS n WHERE " + taken + ")";
    }

    /** A soft delete: sets {@code column} to true (boolean) or to the delete's commit time. */
    static String softDelete(TargetTable table, String column, Guard guard) {
        TargetTable.Column target = table.columns().get(column);
        String value = target.isBoolean() ? "true" : "d." + quote(COMMIT_TIME_FIELD);
        String set = quote(column) + " = " + value;
        if (guard.writtenPosition() != null) {
            set += ", " + quote(guard.writtenPosition()) + " = d." + quote(POSITION_FIELD);
        }
        return "UPDATE " + table.ref().quoted() + " AS t SET " + set + " FROM " + deleteRecordset(table) + " WHERE "
                + keyMatch(table) + deleteGuard(table, guard);
    }

    /**
     * Remembers the deleted keys (those with a source position) in the ledger, the same JSON rows as the delete's:
     * a key deleted again keeps the later position.
     */
    static String recordDeletes(TargetTable table, TableRef ledger) {
        return "INSERT INTO " + ledger.quoted() + " AS l (target, key, position, deleted_at) SELECT "
                + literal(table.ref().toString()) + ", " + keyText(table) + ", d." + quote(POSITION_FIELD) + ", now() FROM "
                + deleteRecordset(table) + " WHERE d." + quote(POSITION_FIELD) + " IS NOT NULL ON CONFLICT (target, key) "
                + "DO UPDATE SET position = greatest(l.position, excluded.position), deleted_at = excluded.deleted_at";
    }

    /** The latest position at which a key of a target table (the parameter, as schema.table) was deleted, or null. */
    static String latestDelete(TableRef ledger) {
        return "SELECT max(position) FROM " + ledger.quoted() + " WHERE target = ?";
    }

    /** The ledger of deleted keys, unless it exists (other tasks create it too), its index for purging and for upserts. */
    static List<String> createLedger(TableRef ledger) {
        return List.of("CREATE TABLE IF NOT EXISTS " + ledger.quoted() + " (target text NOT NULL, key text NOT NULL, "
                        + "position bigint NOT NULL, deleted_at timestamptz NOT NULL, PRIMARY KEY (target, key))",
                "CREATE INDEX IF NOT EXISTS " + quote(ledger.table() + "_deleted_at") + " ON " + ledger.quoted()
                        + " (deleted_at)",
                "CREATE INDEX IF NOT EXISTS " + quote(ledger.table() + "_target_position") + " ON " + ledger.quoted()
                        + " (target, position)");
    }

    /** Forgets the keys deleted longer ago than the parameter's seconds. */
    static String purgeLedger(TableRef ledger) {
        return "DELETE FROM " + ledger.quoted() + " WHERE deleted_at < now() - make_interval(secs => ?)";
    }

    /** A row's key as text, the same from an upsert's recordset as from a delete's: the ledger's key. */
    private static String keyText(TargetTable table) {
        StringJoiner parts = new StringJoiner(", ", "ROW(", ")::text");
        table.keyColumns().forEach(k -> parts.add(value(table, k, "d.")));
        return parts.toString();
    }

    /**
     * A table with {@code columns} (name to type, in order) keyed by {@code key}, unless it exists: another
     * task may be creating the same table.
     */
    static String createTable(TableRef table, Map<String, String> columns, List<String> key) {
        StringJoiner definitions = new StringJoiner(", ");
        columns.forEach((name, type) -> definitions.add(quote(name) + " " + type));
        StringJoiner keys = new StringJoiner(", ");
        key.forEach(k -> keys.add(quote(k)));
        return "CREATE TABLE IF NOT EXISTS " + table.quoted() + " (" + definitions + ", PRIMARY KEY (" + keys + "))";
    }

    /** Nullable columns (name to type), each unless it exists: another task may be adding the same ones. */
    static String addColumns(TableRef table, Map<String, String> columns) {
        StringJoiner additions = new StringJoiner(", ");
        columns.forEach((name, type) -> additions.add("ADD COLUMN IF NOT EXISTS " + quote(name) + " " + type));
        return "ALTER TABLE " + table.quoted() + " " + additions;
    }

    /** Converts one column of the JSON rows to its type, and nothing else: which column a rejected value is in. */
    static String convert(TargetTable table, String column) {
        return "SELECT count(" + value(table, column, "") + ") FROM " + recordset(table, List.of(column), List.of());
    }

    /**
     * Which of {@code columns} are documents, in the order of their parameters: each one's
     * {@code text[]} follows the JSON rows.
     */
    static List<String> documents(TargetTable table, List<String> columns) {
        return columns.stream().filter(c -> table.columns().get(c).isJson()).toList();
    }

    private static String deleteRecordset(TargetTable table) {
        return recordset(table, table.keyColumns(), List.of(
                new Field(COMMIT_TIME_FIELD, "timestamptz"), new Field(POSITION_FIELD, "bigint")));
    }

    private static String keyMatch(TargetTable table) {
        StringJoiner match = new StringJoiner(" AND ");
        table.keyColumns().forEach(k -> match.add("t." + quote(k) + " = " + value(table, k, "d.")));
        return match.toString();
    }

    /**
     * A delete carries no guard value of its own (only its key is real under the default replica identity), so
     * it is placed by what it does carry. Source-position mode compares positions. Column mode compares the
     * row's position with the delete's where both are known (the table has a position column), and otherwise
     * the row's timestamp guard with the delete's commit time: the row must not have been written after the
     * delete committed. A guard of another type cannot be compared with a time, so such deletes are unguarded.
     */
    private static String deleteGuard(TargetTable table, Guard guard) {
        String position = "d." + quote(POSITION_FIELD);
        if (guard.mode() == GuardMode.SOURCE_LSN) {
            String g = "t." + quote(guard.column());
            return " AND (" + g + " IS NULL OR " + position + " IS NULL OR " + g + " < " + position + ")";
        }
        String byTime = guard.mode() == GuardMode.COLUMN ? commitTimeGuard(table, guard) : null;
        if (guard.mode() == GuardMode.COLUMN && guard.positionColumn() != null) {
            String p = "t." + quote(guard.positionColumn());
            return " AND CASE WHEN " + p + " IS NOT NULL AND " + position + " IS NOT NULL THEN " + p + " < " + position
                    + " ELSE " + (byTime == null ? "true" : byTime) + " END";
        }
        return byTime == null ? "" : " AND " + byTime;
    }

    /** The row's timestamp guard is no later than the delete's commit time; null for a guard of another type. */
    private static String commitTimeGuard(TargetTable table, Guard guard) {
        TargetTable.Column column = table.columns().get(guard.column());
        if (column == null || !column.isTimestamp()) {
            return null;
        }
        String g = "t." + quote(guard.column());
        String instant = column.typeName().equals("timestamp") && guard.zone() != null
                ? "(" + g + " AT TIME ZONE " + literal(guard.zone()) + ")" : g;
        return "(" + g + " IS NULL OR d." + quote(COMMIT_TIME_FIELD) + " IS NULL OR " + instant + " <= d."
                + quote(COMMIT_TIME_FIELD) + ")";
    }

    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static String values(TargetTable table, List<String> columns) {
        StringJoiner values = new StringJoiner(", ");
        columns.forEach(c -> values.add(value(table, c, "")));
        return values.toString();
    }

    /** A column's value read from the recordset (named with {@code qualifier}), as its target type. */
    private static String value(TargetTable table, String column, String qualifier) {
        TargetTable.Column target = table.columns().get(column);
        String value = qualifier + quote(column);
        return target.isJson() ? value + "::" + target.sqlType() : value;
    }

    /**
     * The JSON rows as a recordset with the target's column types, and each document column's
     * {@code text[]} beside them (see the class comment); documents are cast by {@link #value}.
     */
    private static String recordset(TargetTable table, List<String> columns, List<Field> extraFields) {
        List<Field> fields = new ArrayList<>();
        for (String column : columns) {
            TargetTable.Column target = table.columns().get(column);
            if (!target.isJson()) {
                fields.add(new Field(column, target.sqlType()));
            }
        }
        fields.addAll(extraFields);
        if (fields.isEmpty()) {
            fields.add(NO_FIELDS);
        }
        StringJoiner definitions = new StringJoiner(", ");
        fields.forEach(f -> definitions.add(quote(f.name()) + " " + f.type()));
        List<String> documents = documents(table, columns);
        if (documents.isEmpty()) {
            return "json_to_recordset(?::json) AS d(" + definitions + ")";
        }
        StringJoiner functions = new StringJoiner(", ", "ROWS FROM (", ")");
        functions.add("json_to_recordset(?::json) AS (" + definitions + ")");
        StringJoiner names = new StringJoiner(", ");
        fields.forEach(f -> names.add(quote(f.name())));
        for (String document : documents) {
            functions.add("unnest(?::text[])");
            names.add(quote(document));
        }
        return functions + " AS d(" + names + ")";
    }
}
