package io.pgcdc.source.schema;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

import io.pgcdc.source.pgoutput.TupleData;

/**
 * How the rows of one captured table become Connect data, as of the latest Relation
 * message for it: the topic, the key schema (primary key, else replica identity
 * index columns), the row schema and the envelope schema.
 */
public final class TableSchema {

    private final String schemaName;
    private final String tableName;
    private final String topic;
    private final String[] columnNames;
    private final ColumnConverter[] converters;
    private final int[] keyColumns;
    private final Schema keySchema;
    private final Schema rowSchema;
    private final Schema envelopeSchema;

    TableSchema(String schemaName, String tableName, String topic, String[] columnNames, ColumnConverter[] converters,
                int[] keyColumns, Schema keySchema, Schema rowSchema, Schema envelopeSchema) {
        this.schemaName = schemaName;
        this.tableName = tableName;
        this.topic = topic;
        this.columnNames = columnNames;
        this.converters = converters;
        this.keyColumns = keyColumns;
        this.keySchema = keySchema;
        this.rowSchema = rowSchema;
        this.envelopeSchema = envelopeSchema;
    }

    public String schemaName() {
        return schemaName;
    }

    public String tableName() {
        return tableName;
    }

    public String topic() {
        return topic;
    }

    /** The positions of the key columns among the table's columns, in key order. */
    public List<Integer> keyColumnIndexes() {
        return Arrays.stream(keyColumns).boxed().toList();
    }

    /** Null when the table has neither a primary key nor a replica identity index. */
    public Schema keySchema() {
        return keySchema;
    }

    public Schema envelopeSchema() {
        return envelopeSchema;
    }

    public Schema rowSchema() {
        return rowSchema;
    }

    /** Whether the other describes the same table, topic, key and rows: records of either are alike. */
    public boolean sameAs(TableSchema other) {
        return schemaName.equals(other.schemaName) && tableName.equals(other.tableName) && topic.equals(other.topic)
                && Arrays.equals(columnNames, other.columnNames)
                && Arrays.equals(keyColumns, other.keyColumns) && Objects.equals(keySchema, other.keySchema)
                && envelopeSchema.equals(other.envelopeSchema);
    }

    /** The key of a row, or null for a table without key. */
    public Struct key(TupleData tuple) {
        if (keySchema == null) {
            return null;
        }
        Struct key = new Struct(keySchema);
        for (int i = 0; i < keyColumns.length; i++) {
            int column = keyColumns[i];
            key.put(keySchema.fields().get(i), convert(tuple, column));
        }
        return key;
    }

    /** The key of a row already converted: the key columns are not converted a second time. */
    public Struct keyOf(Struct row) {
        if (keySchema == null) {
            return null;
        }
        Struct key = new Struct(keySchema);
        for (Field field : keySchema.fields()) {
            key.put(field, row.get(field.name()));
        }
        return key;
    }

    /** Whether two tuples carry the same key values (text forms compared). */
    public boolean sameKey(TupleData a, TupleData b) {
        for (int column : keyColumns) {
            String x = a.text(column);
            String y = b.text(column);
            if (x == null ? y != null : !x.equals(y)) {
                return false;
            }
        }
        return true;
    }

    /** The row as a Struct; unchanged TOAST columns stay null and are named by {@link #unchangedToast}. */
    public Struct row(TupleData tuple) {
        return row(tuple, null);
    }

    /**
     * The row as a Struct. A value outside the key that its column's Connect type cannot hold (say NaN in a
     * numeric read as a Decimal) is left null and described in {@code unconvertible}, rather than failing the
     * row; without that list, and always for a key column, it fails the row.
     */
    public Struct row(TupleData tuple, List<String> unconvertible) {
        checkWidth(tuple);
        Struct row = new Struct(rowSchema);
        List<Field> fields = rowSchema.fields();
        for (int i = 0; i < columnNames.length; i++) {
            if (tuple.isUnchangedToast(i)) {
                continue;
            }
            try {
                row.put(fields.get(i), convert(tuple, i));
            } catch (IllegalArgumentException e) {
                if (unconvertible == null || isKey(i)) {
                    throw e;
                }
                unconvertible.add(e.getMessage());
            }
        }
        return row;
    }

    private boolean isKey(int column) {
        for (int key : keyColumns) {
            if (key == column) {
                return true;
            }
        }
        return false;
    }

    /** Names of the columns marked unchanged TOAST in a tuple; empty in the common case. */
    public List<String> unchangedToast(TupleData tuple) {
        List<String> names = null;
        for (int i = 0; i < tuple.size(); i++) {
            if (tuple.isUnchangedToast(i)) {
                if (names == null) {
                    names = new ArrayList<>();
                }
                names.add(columnNames[i]);
            }
        }
        return names == null ? List.of() : names;
    }

    private Object convert(TupleData tuple, int column) {
        try {
            return converters[column].convert(tuple.text(column));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Cannot convert column \"" + columnNames[column] + "\" of "
                    + schemaName + "." + tableName + " (value '" + PgText.abbreviate(String.valueOf(tuple.text(column)))
                    + "'): " + e.getMessage(), e);
        }
    }

    private void checkWidth(TupleData tuple) {
        if (tuple.size() != columnNames.length) {
            throw new IllegalStateException("Row of " + schemaName + "." + tableName + " has " + tuple.size()
                    + " columns but its Relation message announced " + columnNames.length);
        }
    }
}
