package io.pgcdc.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Splits a group of rows into the statements that write it: at most {@code batch.max.rows} rows
 * each, and about {@link #MAX_CHARS} characters of values each, however few rows that is.
 *
 * <p>PostgreSQL holds a statement's parameters several times over while it runs (the message, each
 * parameter received, the array, the function scan's rows), each copy in memory of its own, and it
 * refuses a message of 1 GB or more. The process keeps the memory of a statement for the next one only
 * up to 64 MiB (PgDialect.KEEP_STATEMENT_MEMORY); above that, every page of every copy is faulted in
 * afresh: 10,000 rows with 4 KiB jsonb documents (40 MB) cost the server process 0.95-1.25 s of CPU
 * as one guarded upsert, against 0.8-0.87 s as four of 2,500 rows (10 MB; PostgreSQL 15).
 * Plain rows stay far below the bound: 10,000 rows of a few short columns are about 1.5 MB.
 */
final class StatementChunks {

    static final long MAX_CHARS = 8L << 20;

    /** What a value other than text, JSON or a container adds to the parameters, about. */
    private static final int SCALAR_CHARS = 16;

    private StatementChunks() {
    }

    /** Consecutive runs of {@code rows}, each within both bounds unless it is a single row. */
    static List<List<RowChange>> of(List<RowChange> rows, int maxRows, long maxChars) {
        List<List<RowChange>> chunks = new ArrayList<>();
        int start = 0;
        long chars = 0;
        for (int i = 0; i < rows.size(); i++) {
            long size = chars(rows.get(i));
            if (i > start && (i - start == maxRows || chars + size > maxChars)) {
                chunks.add(rows.subList(start, i));
                start = i;
                chars = 0;
            }
            chars += size;
        }
        if (start < rows.size()) {
            chunks.add(rows.subList(start, rows.size()));
        }
        return chunks;
    }

    /** About how many characters a row's values take in the statement's parameters. */
    static long chars(RowChange row) {
        long[] chars = {0};
        row.columns().forEach((name, value) -> chars[0] += name.length() + chars(value));
        return chars[0];
    }

    private static long chars(Object value) {
        if (value instanceof String text) {
            return text.length();
        }
        if (value instanceof RawJson json) {
            return json.text().length();
        }
        if (value instanceof List<?> list) {
            long chars = 2;
            for (Object element : list) {
                chars += 1 + chars(element);
            }
            return chars;
        }
        if (value instanceof Map<?, ?> map) {
            long chars = 2;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                chars += 2 + chars(String.valueOf(e.getKey())) + chars(e.getValue());
            }
            return chars;
        }
        return SCALAR_CHARS;
    }
}
