package io.pgcdc.source.pgoutput;

import java.util.List;

/**
 * One logical replication message of the pgoutput plugin (protocol version 1).
 * Tuple values stay in their text form; conversion belongs to the schema layer,
 * which knows the column types.
 */
public sealed interface PgOutputMessage {

    /** BEGIN: {@code finalLsn} is the LSN of the transaction's commit record. */
    record Begin(long finalLsn, long commitTimeMicros, long xid) implements PgOutputMessage { }

    /** COMMIT: {@code endLsn} is the position just past the commit record, the one to confirm. */
    record Commit(long commitLsn, long endLsn, long commitTimeMicros) implements PgOutputMessage { }

    record Origin(long originLsn, String name) implements PgOutputMessage { }

    record Relation(int relationId, String schema, String table, char replicaIdentity, List<Column> columns)
            implements PgOutputMessage {
        public record Column(String name, int typeOid, int typeModifier, boolean key) { }
    }

    record Type(int typeOid, String schema, String name) implements PgOutputMessage { }

    record Insert(int relationId, TupleData newTuple) implements PgOutputMessage { }

    /** {@code oldTuple} is null unless the replica identity changed or is FULL; {@code oldIsKeyOnly} tells which. */
    record Update(int relationId, TupleData oldTuple, boolean oldIsKeyOnly, TupleData newTuple) implements PgOutputMessage { }

    record Delete(int relationId, TupleData oldTuple, boolean oldIsKeyOnly) implements PgOutputMessage { }

    record Truncate(int[] relationIds, boolean cascade, boolean restartIdentity) implements PgOutputMessage { }

    record LogicalMessage(boolean transactional, long lsn, String prefix, byte[] content) implements PgOutputMessage { }
}
