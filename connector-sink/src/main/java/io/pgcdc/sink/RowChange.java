package io.pgcdc.sink;

import java.util.Map;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * One change to one target row, parsed from a record of any accepted shape.
 *
 * @param columns      the values to write (upserts) or that identify the row (deletes), by column
 *                     name, in JSON-ready form; a column absent here is left as stored (unchanged TOAST)
 * @param schema       the row's Connect schema (an envelope's row struct, or the flat record's), or null for
 *                     schemaless records: what tables are created and evolved from
 * @param position     the change's WAL position, which orders the changes of one key (see RecordParser.position),
 *                     or null
 * @param commitMicros the source commit time in microseconds since the epoch, or null
 * @param shape        non-null when {@code columns} hold exactly the fields of {@code schema}: changes of one op
 *                     with the same shape have the same fields, known without comparing them
 * @param otherKey     for one half of a key change, the key on the other side, by column: the new key for the
 *                     delete, the old key for the create (see KeyMoves); else null
 */
public record RowChange(TableRef table, Op op, Map<String, Object> columns, Schema schema, Long position, Long commitMicros,
                        SinkRecord record, Schema shape, Map<String, Object> otherKey) {

    public enum Op { UPSERT, DELETE }

    /** A change that is not part of a key change. */
    public RowChange(TableRef table, Op op, Map<String, Object> columns, Schema schema, Long position, Long commitMicros,
                     SinkRecord record, Schema shape) {
        this(table, op, columns, schema, position, commitMicros, record, shape, null);
    }

    /** A change whose fields are not known to be its schema's. */
    public RowChange(TableRef table, Op op, Map<String, Object> columns, Schema schema, Long position, Long commitMicros,
                     SinkRecord record) {
        this(table, op, columns, schema, position, commitMicros, record, null, null);
    }

    /** {@code schema} when {@code fields} (read from a record of that struct schema) hold all of its fields. */
    static Schema shapeOf(Schema schema, Map<String, Object> fields) {
        return schema != null && schema.type() == Schema.Type.STRUCT && fields.size() == schema.fields().size() ? schema : null;
    }
}
