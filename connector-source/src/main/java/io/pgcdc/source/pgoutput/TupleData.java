package io.pgcdc.source.pgoutput;

import java.util.List;

/**
 * The columns of one row as pgoutput sent them. A column is null, unchanged TOAST
 * (not sent: its value is unknown, not null) or text.
 */
public final class TupleData {
    public static final byte NULL = 'n';
    public static final byte UNCHANGED_TOAST = 'u';
    public static final byte TEXT = 't';

    private final byte[] kinds;
    private final String[] values;

    TupleData(byte[] kinds, String[] values) {
        this.kinds = kinds;
        this.values = values;
    }

    /** A row read as text outside the stream (a snapshot): every column is null or text. */
    public static TupleData ofText(String[] values) {
        byte[] kinds = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            kinds[i] = values[i] == null ? NULL : TEXT;
        }
        return new TupleData(kinds, values);
    }

    /**
     * This row with each unchanged TOAST column taken from {@code old}, where {@code old} (a whole old row, as
     * REPLICA IDENTITY FULL sends) has it; this row itself when nothing is to take.
     */
    public TupleData withUnchangedFrom(TupleData old) {
        TupleData filled = this;
        for (int i = 0; i < kinds.length && i < old.size(); i++) {
            filled = filled.takeUnchanged(old, i);
        }
        return filled;
    }

    /**
     * This row with each of {@code columns} that is unchanged TOAST taken from {@code old}: a key-only old row
     * holds the key columns (the server sends it when the key is stored out of line), nothing else.
     */
    public TupleData withUnchangedFrom(TupleData old, List<Integer> columns) {
        TupleData filled = this;
        for (int column : columns) {
            filled = filled.takeUnchanged(old, column);
        }
        return filled;
    }

    private TupleData takeUnchanged(TupleData old, int column) {
        if (kinds[column] != UNCHANGED_TOAST || column >= old.size() || old.kind(column) == UNCHANGED_TOAST) {
            return this;
        }
        TupleData filled = new TupleData(kinds.clone(), values.clone());
        filled.kinds[column] = old.kind(column);
        filled.values[column] = old.text(column);
        return filled;
    }

    public int size() {
        return kinds.length;
    }

    public byte kind(int column) {
        return kinds[column];
    }

    public boolean isUnchangedToast(int column) {
        return kinds[column] == UNCHANGED_TOAST;
    }

    /** The text form, or null for SQL NULL and unchanged TOAST values. */
    public String text(int column) {
        return values[column];
    }
}
