package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.source.pgoutput.PgOutputDecoder;
import io.pgcdc.source.pgoutput.PgOutputMessage;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.schema.PgType;
import io.pgcdc.source.schema.TableSchemaBuilder;

/** Runs the stream captured for {@code PgOutputDecoderTest} through the emitter. */
class ChangeEventEmitterTest {

    private static final Map<Integer, PgType> TYPES = Map.of(
            20, builtin(20, "int8"), 23, builtin(23, "int4"), 25, builtin(25, "text"),
            1184, builtin(1184, "timestamptz"), 1700, builtin(1700, "numeric"),
            1007, new PgType(1007, "pg_catalog", "_int4", 'b', 'A', 23, 0, -1),
            16413, new PgType(16413, "public", "mood", 'e', 'E', 0, 0, -1));

    private static List<CapturedStream.Message> captured;

    @BeforeAll
    static void load() throws Exception {
        captured = CapturedStream.load("/pgoutput/sample-v1.txt");
    }

    private static PgType builtin(int oid, String name) {
        return new PgType(oid, "pg_catalog", name, 'b', 'N', 0, 0, -1);
    }

    private static final Catalog CATALOG = new Catalog() {
        @Override
        public Set<String> primaryKey(int relationId) {
            return Set.of("id");
        }

        @Override
        public PgType type(int oid) {
            return TYPES.get(oid);
        }
    };

    private static SourceConfig config(Map<String, String> extra) {
        Map<String, String> props = new HashMap<>(Map.of("database.hostname", "h", "database.user", "u",
                "database.dbname", "db", "topic.prefix", "cdc"));
        props.putAll(extra);
        return new SourceConfig(props);
    }

    private static List<SourceRecord> run(SourceConfig config, SourceOffset resumeAfter, int messages) throws Exception {
        return run(config, resumeAfter, messages, new SourceMetrics());
    }

    private static List<SourceRecord> run(SourceConfig config, SourceOffset resumeAfter, int messages,
                                          SourceMetrics metrics) throws Exception {
        List<SourceRecord> out = new ArrayList<>();
        ChangeRecordFactory factory = new ChangeRecordFactory(SourceOffset.partition("db", "slot"), "cdc", "db", "test");
        ChangeEventEmitter emitter = new ChangeEventEmitter(config, CATALOG, TableSchemaBuilder.of(config), factory, resumeAfter, (r, b) -> out.add(r),
                metrics);
        for (int i = 0; i < messages; i++) {
            CapturedStream.Message m = captured.get(i);
            emitter.accept(PgOutputDecoder.decode(m.buffer()), m.lsn(), m.bytes().length);
        }
        return out;
    }

    private static List<SourceRecord> runAll(SourceConfig config, SourceOffset resumeAfter) throws Exception {
        return run(config, resumeAfter, captured.size());
    }

    /** The captured stream with {@code extra} handed over after the first transaction's COMMIT (message 5). */
    private static List<SourceRecord> runWithAfterFirstCommit(PgOutputMessage extra) throws Exception {
        List<SourceRecord> out = new ArrayList<>();
        ChangeRecordFactory factory = new ChangeRecordFactory(SourceOffset.partition("db", "slot"), "cdc", "db", "test");
        SourceConfig config = config(Map.of());
        ChangeEventEmitter emitter = new ChangeEventEmitter(config, CATALOG, TableSchemaBuilder.of(config), factory, null,
                (r, b) -> out.add(r), new SourceMetrics());
        for (int i = 0; i < captured.size(); i++) {
            CapturedStream.Message m = captured.get(i);
            emitter.accept(PgOutputDecoder.decode(m.buffer()), m.lsn(), m.bytes().length);
            if (i == 5) {
                emitter.accept(extra, m.lsn(), 1);
            }
        }
        return out;
    }

    private static List<SourceRecord> accountChanges(List<SourceRecord> records) {
        return records.stream().filter(r -> r.topic().equals("cdc.public.accounts") && r.value() != null).toList();
    }

    private static String describe(SourceRecord r) {
        if (r.value() == null) {
            return r.topic() + " tombstone " + ((Struct) r.key()).get("id");
        }
        Struct value = (Struct) r.value();
        if (r.topic().endsWith(".transaction")) {
            return value.getString("status");
        }
        return r.topic() + " " + value.getString("op") + " " + (r.key() == null ? "-" : ((Struct) r.key()).get("id"));
    }

    @Test
    void emitsEveryChangeInCommitOrderWithDebeziumLikeEnvelopes() throws Exception {
        List<SourceRecord> records = runAll(config(Map.of()), null);
        assertEquals(List.of(
                "cdc.public.accounts c 1", "cdc.public.accounts c 2",
                "cdc.public.accounts u 1",
                "cdc.public.accounts d 2", "cdc.public.accounts tombstone 2", "cdc.public.accounts c 3",
                "cdc.public.accounts d 3", "cdc.public.accounts tombstone 3",
                "cdc.public.notes c 1", "cdc.public.notes u 1", "cdc.public.notes d 1", "cdc.public.notes tombstone 1"),
                records.stream().map(ChangeEventEmitterTest::describe).toList(), "truncate is skipped by default");

        Struct first = (Struct) records.get(0).value();
        Struct after = first.getStruct("after");
        assertEquals(1L, after.get("id"));
        assertEquals(new BigDecimal("10.50"), after.get("balance"));
        assertEquals("happy", after.get("mood"));
        assertEquals(java.util.Arrays.asList(1, 2, null), after.get("tags"));
        assertEquals("2024-01-02T03:04:05.123456Z", after.get("updated_at"));
        Struct source = first.getStruct("source");
        assertEquals("accounts", source.get("table"));
        assertEquals(0, source.get("change_index"));
        assertNull(source.get("unchanged_toast"));
    }

    @Test
    void aRelationMessageSentAgainUnchangedKeepsTheSchemaInstancesRecordsCarry() throws Exception {
        // pgoutput sends it again after VACUUM or ANALYZE of the table; converters cache by schema.
        List<SourceRecord> accounts = accountChanges(runWithAfterFirstCommit(PgOutputDecoder.decode(captured.get(2).buffer())));
        assertEquals(6, accounts.size(), "two before the Relation message, four after");
        for (SourceRecord r : accounts) {
            assertSame(accounts.get(0).valueSchema(), r.valueSchema(), describe(r));
            assertSame(accounts.get(0).keySchema(), r.keySchema(), describe(r));
            assertSame(((Struct) accounts.get(0).value()).getStruct("after").schema(),
                    ((Struct) r.value()).schema().field("after").schema(), describe(r));
        }
    }

    @Test
    void aChangedRelationMessageChangesTheSchemaOfTheRecordsAfterIt() throws Exception {
        Relation relation = (Relation) PgOutputDecoder.decode(captured.get(2).buffer());
        List<Relation.Column> columns = new ArrayList<>(relation.columns());
        Relation.Column name = columns.get(1);
        columns.set(1, new Relation.Column("full_name", name.typeOid(), name.typeModifier(), name.key()));
        List<SourceRecord> accounts = accountChanges(runWithAfterFirstCommit(
                new Relation(relation.relationId(), relation.schema(), relation.table(), relation.replicaIdentity(), columns)));
        Struct before = ((Struct) accounts.get(1).value()).getStruct("after");
        Struct after = ((Struct) accounts.get(2).value()).getStruct("after");
        assertEquals("bob", before.get("name"));
        assertEquals("alice", after.get("full_name"));
        assertNull(after.schema().field("name"));
        assertNotSame(accounts.get(1).valueSchema(), accounts.get(2).valueSchema());
    }

    @Test
    void metricsCountWhatIsHandedOverOnce() throws Exception {
        SourceMetrics all = new SourceMetrics();
        List<SourceRecord> records = run(config(Map.of()), null, captured.size(), all);
        assertEquals(4, all.getCreates());
        assertEquals(2, all.getUpdates());
        assertEquals(3, all.getDeletes());
        assertEquals(0, all.getTruncates(), "truncate is skipped by default");
        assertEquals(9, all.getChangesEmitted(), "tombstones are not changes");
        assertEquals(-1, all.getTransactionInFlightXid());
        assertTrue(all.getLargestTransactionChanges() >= 2);
        long transactions = records.stream().map(r -> r.sourceOffset().get(SourceOffset.LSN_COMMIT)).distinct().count();
        assertEquals(transactions, all.getTransactionsEmitted());

        // Resumed after the fourth record: what was handed over before is not counted again.
        SourceMetrics resumed = new SourceMetrics();
        List<SourceRecord> rest = run(config(Map.of()), SourceOffset.fromMap(records.get(3).sourceOffset()),
                captured.size(), resumed);
        assertEquals(records.size() - 4, rest.size());
        assertEquals(all.getChangesEmitted() - 4, resumed.getChangesEmitted(), "c, c, u, d were handed over already");
    }

    @Test
    void unchangedToastIsNamedNotNulled() throws Exception {
        Struct update = (Struct) runAll(config(Map.of()), null).get(2).value();
        assertNull(update.getStruct("after").get("big"));
        assertEquals(List.of("big"), update.getStruct("source").getArray("unchanged_toast"));
    }

    @Test
    void fullReplicaIdentityFillsBefore() throws Exception {
        Struct update = (Struct) runAll(config(Map.of()), null).get(9).value();
        assertEquals("n1", update.getStruct("before").get("body"));
        assertEquals("n2", update.getStruct("after").get("body"));
    }

    @Test
    void onlyTheLastRecordOfATransactionClosesItAtItsEndLsn() throws Exception {
        List<SourceRecord> records = runAll(config(Map.of()), null);
        SourceOffset firstInsert = SourceOffset.fromMap(records.get(0).sourceOffset());
        SourceOffset secondInsert = SourceOffset.fromMap(records.get(1).sourceOffset());
        long commitLsn = ((Struct) records.get(0).value()).getStruct("source").getInt64("lsn_commit");
        assertFalse(firstInsert.complete());
        assertEquals(commitLsn, firstInsert.position().commitLsn());
        assertTrue(secondInsert.complete());
        assertEquals(captured.get(5).lsn(), secondInsert.flushLsn(), "the end LSN from COMMIT");
        SourceOffset keyChangeDelete = SourceOffset.fromMap(records.get(3).sourceOffset());
        assertEquals(secondInsert.flushLsn() < keyChangeDelete.flushLsn() ? keyChangeDelete.flushLsn() : -1,
                SourceOffset.fromMap(records.get(2).sourceOffset()).flushLsn(),
                "a record inside a transaction may confirm up to the previous transaction's end");
    }

    @Test
    void lastRecordIsHeldBackUntilCommit() throws Exception {
        assertEquals(0, run(config(Map.of()), null, 4).size(), "BEGIN, Type, Relation, first INSERT");
        assertEquals(1, run(config(Map.of()), null, 5).size());
        assertEquals(2, run(config(Map.of()), null, 6).size(), "COMMIT releases the held record");
    }

    @Test
    void resumingSkipsExactlyWhatWasEmitted() throws Exception {
        List<SourceRecord> all = runAll(config(Map.of()), null);
        for (int i = 0; i < all.size(); i++) {
            SourceOffset stored = SourceOffset.fromMap(all.get(i).sourceOffset());
            List<SourceRecord> resumed = runAll(config(Map.of()), stored);
            assertEquals(all.subList(i + 1, all.size()).stream().map(ChangeEventEmitterTest::describe).toList(),
                    resumed.stream().map(ChangeEventEmitterTest::describe).toList(), "resumed after record " + i);
        }
    }

    @Test
    void transactionMetadataWrapsEachTransaction() throws Exception {
        List<SourceRecord> records = runAll(config(Map.of("provide.transaction.metadata", "true")), null);
        assertEquals(List.of("BEGIN", "cdc.public.accounts c 1", "cdc.public.accounts c 2", "END"),
                records.subList(0, 4).stream().map(ChangeEventEmitterTest::describe).toList());
        Struct end = (Struct) records.get(3).value();
        assertEquals(2L, end.get("event_count"));
        assertEquals(captured.get(5).lsn(), end.get("lsn_end"));
        assertTrue(SourceOffset.fromMap(records.get(3).sourceOffset()).complete());
        assertFalse(SourceOffset.fromMap(records.get(2).sourceOffset()).complete());
        Struct block = ((Struct) records.get(2).value()).getStruct("transaction");
        assertEquals(2L, block.get("total_order"));
        assertEquals(((Struct) records.get(0).value()).get("id"), block.get("id"));
    }

    @Test
    void truncateEmitsOneEventPerTableWhenNotSkipped() throws Exception {
        List<SourceRecord> records = runAll(config(Map.of("skipped.operations", "none")), null);
        assertEquals(List.of("cdc.public.notes t -", "cdc.public.accounts t -"),
                records.subList(records.size() - 2, records.size()).stream().map(ChangeEventEmitterTest::describe).toList());
    }

    @Test
    void excludedTablesAreNotEmittedButTheirTransactionsStillAdvanceTheQuietPoint() throws Exception {
        List<SourceRecord> out = new ArrayList<>();
        ChangeRecordFactory factory = new ChangeRecordFactory(SourceOffset.partition("db", "slot"), "cdc", "db", "test");
        SourceConfig config = config(Map.of("table.exclude.list", "public\\.notes"));
        ChangeEventEmitter emitter = new ChangeEventEmitter(config, CATALOG, TableSchemaBuilder.of(config), factory, null,
                (r, b) -> out.add(r), new SourceMetrics());
        for (CapturedStream.Message m : captured) {
            emitter.accept(PgOutputDecoder.decode(m.buffer()), m.lsn(), m.bytes().length);
        }
        assertTrue(out.stream().noneMatch(r -> r.topic().contains("notes")));
        ChangeEventEmitter.QuietPoint quiet = emitter.quietPoint();
        assertEquals(captured.get(captured.size() - 1).lsn(), quiet.lsn());
        assertEquals(SourceOffset.fromMap(out.get(out.size() - 1).sourceOffset()), quiet.after());
    }

    /** An emitter from the start, dropping what it emits, that takes a keepalive's position after 1 s without transactions. */
    private static ChangeEventEmitter emitterQuietAfterOneSecond() {
        ChangeRecordFactory factory = new ChangeRecordFactory(SourceOffset.partition("db", "slot"), "cdc", "db", "test");
        SourceConfig config = config(Map.of("status.update.interval.ms", "1000"));
        return new ChangeEventEmitter(config, CATALOG, TableSchemaBuilder.of(config), factory, null, (r, b) -> { },
                new SourceMetrics());
    }

    @Test
    void keepalivePositionCountsOnlyAfterAQuietInterval() throws Exception {
        ChangeEventEmitter emitter = emitterQuietAfterOneSecond();
        for (CapturedStream.Message m : captured.subList(0, 6)) {
            emitter.accept(PgOutputDecoder.decode(m.buffer()), m.lsn(), m.bytes().length);
        }
        long now = System.nanoTime();
        emitter.idle(0x9000_0000L, now);
        assertNull(emitter.quietPoint(), "right after a transaction a keepalive may point among uncommitted changes");
        emitter.idle(0x9000_0000L, now + 2_000_000_000L);
        assertEquals(0x9000_0000L, emitter.quietPoint().lsn());
    }
    /**
     * A signal's transaction emits no record: the slot may not be confirmed past it until a record's offset carries the
     * request, or a crash in between forgets the request.
     */
    @Test
    void theSlotStaysBeforeASignalNoStoredOffsetCarries() throws Exception {
        ChangeEventEmitter emitter = emitterQuietAfterOneSecond();
        byte[] request = "{\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.notes\"]}}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        emitter.accept(new PgOutputMessage.Begin(0x8000_0100L, 0, 900), 0x8000_0000L, 0);
        emitter.accept(new PgOutputMessage.LogicalMessage(true, 0x8000_0050L, "pgcdc", request), 0x8000_0050L, 0);
        emitter.accept(new PgOutputMessage.Commit(0x8000_0100L, 0x8000_0108L, 0), 0x8000_0100L, 0);
        assertEquals(1, emitter.incremental().tablesLeft(), "the signal was taken");
        assertNull(emitter.quietPoint(), "its commit is not a position to confirm");
        emitter.idle(0x9000_0000L, System.nanoTime() + 2_000_000_000L);
        assertNull(emitter.quietPoint(), "nor is a later keepalive's");
    }
}
