package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

import io.pgcdc.source.pgoutput.PgOutputMessage;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.pgoutput.TupleData;
import io.pgcdc.source.schema.PgType;
import io.pgcdc.source.schema.TableSchemaBuilder;

/** A signalled snapshot's chunk meeting concurrent changes, through the emitter. */
class IncrementalSnapshotTest {

    private static final Catalog CATALOG = new Catalog() {
        @Override
        public Set<String> primaryKey(int relationId) {
            return Set.of("id");
        }

        @Override
        public PgType type(int oid) {
            return new PgType(oid, "pg_catalog", oid == 23 ? "int4" : "text", 'b', 'N', 0, 0, -1);
        }
    };
    private static final Relation T = new Relation(1, "public", "t", 'd',
            List.of(new Relation.Column("id", 23, -1, true), new Relation.Column("v", 25, -1, false)));

    private final SourceConfig config = new SourceConfig(Map.of("database.hostname", "h", "database.user", "u",
            "database.dbname", "db", "topic.prefix", "cdc", "signal.prefix", "sig"));
    private final List<SourceRecord> out = new ArrayList<>();
    private final ChangeEventEmitter emitter = new ChangeEventEmitter(config, CATALOG, TableSchemaBuilder.of(config),
            new ChangeRecordFactory(SourceOffset.partition("db", "slot"), "cdc", "db", "test"), null,
            (r, b) -> out.add(r), new SourceMetrics());
    private long lsn = 1000;

    private static TupleData row(String id, String v) {
        return TupleData.ofText(new String[] {id, v});
    }

    private void message(PgOutputMessage m) throws InterruptedException {
        emitter.accept(m, lsn += 10, 10);
    }

    private void transaction(long xid, PgOutputMessage change) throws InterruptedException {
        long commit = lsn + 50;
        message(new PgOutputMessage.Begin(commit, 0, xid));
        message(change);
        message(new PgOutputMessage.Commit(commit, commit + 8, 0));
    }

    private void logical(boolean transactional, String prefix, String content) throws InterruptedException {
        message(new PgOutputMessage.LogicalMessage(transactional, lsn + 10, prefix, content.getBytes(StandardCharsets.UTF_8)));
    }

    /** The chunk transaction's commit, as the stream delivers it. */
    private void watermark(String id) throws InterruptedException {
        long commit = lsn + 50;
        message(new PgOutputMessage.Begin(commit, 0, 999));
        logical(true, "sig", Signal.watermark(id));
        message(new PgOutputMessage.Commit(commit, commit + 8, 0));
    }

    private IncrementalSnapshot.Chunk chunk(String visibility, boolean last, String... idsAndValues) {
        SnapshotTable table = new SnapshotTable("public.t", T,
                new TableSchemaBuilder("cdc", SourceConfig.DecimalHandling.PRECISE, false).build(T, () -> Set.of("id"),
                        CATALOG::type), 4);
        LinkedHashMap<String, String[]> rows = new LinkedHashMap<>();
        for (int i = 0; i < idsAndValues.length; i += 2) {
            String[] values = {idsAndValues[i], idsAndValues[i + 1]};
            rows.put(table.keyText(values), values);
        }
        return new IncrementalSnapshot.Chunk(table, "w1", SnapshotVisibility.parse(visibility), rows,
                KeyText.encode(List.of(idsAndValues[idsAndValues.length - 2])), last);
    }

    private static String describe(SourceRecord r) {
        Struct value = (Struct) r.value();
        if (value == null) {
            return "tombstone";
        }
        Struct row = value.getStruct(value.getString("op").equals("d") ? "before" : "after");
        return value.getString("op") + " " + row.get("id") + (row.get("v") == null ? "" : "=" + row.get("v"));
    }

    @Test
    void changesTheChunkDidNotSeeWinAndTheRestIsEmittedAtTheWatermark() throws Exception {
        message(T);
        logical(false, "sig", "{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\"]}}");
        IncrementalSnapshot incremental = emitter.incremental();
        assertTrue(incremental.wantsChunk());
        assertEquals("public.t", incremental.table());

        assertTrue(incremental.chunkRead(chunk("100:103:101", true, "1", "a", "2", "b", "3", "c", "4", "d")));
        transaction(101, new PgOutputMessage.Update(1, null, false, row("2", "b2")));   // not in the chunk's snapshot
        transaction(102, new PgOutputMessage.Update(1, null, false, row("3", "c")));    // seen by it
        transaction(104, new PgOutputMessage.Delete(1, row("4", null), true));          // committed after it was read
        watermark("someone else's");
        assertEquals(List.of("u 2=b2", "u 3=c", "d 4", "tombstone"), out.stream().map(IncrementalSnapshotTest::describe).toList());

        out.clear();
        watermark("w1");
        assertEquals(List.of("r 1=a", "r 3=c"), out.stream().map(IncrementalSnapshotTest::describe).toList(),
                "rows changed by transactions the chunk did not see are not emitted: their newer changes were");
        Struct source = ((Struct) out.get(0).value()).getStruct("source");
        assertEquals("incremental", source.get("snapshot"));
        SourceOffset first = SourceOffset.fromMap(out.get(0).sourceOffset());
        assertEquals(new SourceOffset.IncrementalProgress(List.of("public.t"), KeyText.encode(List.of("1"))),
                first.incremental(), "a crash after the first row resumes after it");
        assertTrue(first.complete(), "between transactions: a Kafka transaction may end here");
        assertNull(SourceOffset.fromMap(out.get(1).sourceOffset()).incremental(), "the last chunk's last row ends it");
        assertFalse(incremental.wantsChunk());
    }

    @Test
    void aChunkWhoseSnapshotMissesAStreamedTransactionIsReadAgain() throws Exception {
        message(T);
        logical(false, "sig", "{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\"]}}");
        transaction(101, new PgOutputMessage.Update(1, null, false, row("2", "b2")));
        IncrementalSnapshot incremental = emitter.incremental();
        assertFalse(incremental.chunkRead(chunk("100:103:101", false, "1", "a", "2", "b")),
                "transaction 101 was streamed (its commit is in the WAL) but was not visible to the chunk yet");
        assertTrue(incremental.wantsChunk());
        assertTrue(incremental.chunkRead(chunk("100:103:", false, "1", "a", "2", "b2")));
        watermark("w1");
        SourceOffset last = SourceOffset.fromMap(out.get(out.size() - 1).sourceOffset());
        assertEquals(new SourceOffset.IncrementalProgress(List.of("public.t"), KeyText.encode(List.of("2"))),
                last.incremental(), "not the last chunk: the next one starts after its last key");
    }

    @Test
    void transactionalSignalTakesEffectAtCommitAndRidesOnItsOffsets() throws Exception {
        message(T);
        long commit = lsn + 50;
        message(new PgOutputMessage.Begin(commit, 0, 7));
        logical(true, "sig", "{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\",\"other.x\"]}}");
        assertFalse(emitter.incremental().wantsChunk(), "not before its transaction commits");
        message(new PgOutputMessage.Insert(1, row("9", "z")));
        message(new PgOutputMessage.Commit(commit, commit + 8, 0));
        assertTrue(emitter.incremental().wantsChunk());
        assertEquals(new SourceOffset.IncrementalProgress(List.of("public.t", "other.x"), null),
                SourceOffset.fromMap(out.get(0).sourceOffset()).incremental());

        ChangeEventEmitter resumed = new ChangeEventEmitter(config, CATALOG, TableSchemaBuilder.of(config),
                new ChangeRecordFactory(SourceOffset.partition("db", "slot"), "cdc", "db", "test"),
                SourceOffset.fromMap(out.get(0).sourceOffset()), (r, b) -> { }, new SourceMetrics());
        assertEquals("public.t", resumed.incremental().table(), "a restarted task continues the snapshot");
    }

    @Test
    void tablesAnInitialSnapshotLeftAreReadEachFromWhereItGotEvenAcrossARestart() throws Exception {
        message(T);
        Map<String, String> left = new java.util.LinkedHashMap<>();
        left.put("public.t", "k1");
        left.put("public.u", "k2");
        left.put("public.v", null);
        emitter.resumeInChunks(left);
        IncrementalSnapshot incremental = emitter.incremental();
        assertEquals("public.t", incremental.table());
        assertEquals("k1", incremental.lastKey());
        assertEquals(List.of(), incremental.resume(Map.of("public.t", "k0")), "a table already queued keeps its progress");
        assertEquals("k1", incremental.lastKey());

        IncrementalSnapshot resumed = new IncrementalSnapshot(
                SourceOffset.fromMap(new SourceOffset(new ChangePosition(lsn, 0, 0), true, 0, null, incremental.progress())
                        .toMap()).incremental());
        for (IncrementalSnapshot s : List.of(incremental, resumed)) {
            s.skipTable();
            assertEquals("public.u", s.table());
            assertEquals("k2", s.lastKey(), "the second table continues after its own key");
            s.skipTable();
            assertEquals("public.v", s.table());
            assertNull(s.lastKey());
        }
    }
}
