package io.pgcdc.sink;

import java.math.BigInteger;
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
 * @param position     the source position (commit order, then order within the transaction), or null
 * @param commitMicros the source commit time in microseconds since the epoch, or null
 */
public record RowChange(TableRef table, Op op, Map<String, Object> columns, Schema schema, BigInteger position, Long commitMicros,
                        SinkRecord record) {

    public enum Op { UPSERT, DELETE }
}
