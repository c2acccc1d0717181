package io.pgcdc.source.pgoutput;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.pgcdc.source.CapturedStream;
import io.pgcdc.source.pgoutput.PgOutputMessage.Begin;
import io.pgcdc.source.pgoutput.PgOutputMessage.Commit;
import io.pgcdc.source.pgoutput.PgOutputMessage.Delete;
import io.pgcdc.source.pgoutput.PgOutputMessage.Insert;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.pgoutput.PgOutputMessage.Truncate;
import io.pgcdc.source.pgoutput.PgOutputMessage.Type;
import io.pgcdc.source.pgoutput.PgOutputMessage.Update;

/**
 * Decodes messages captured from PostgreSQL 15 for this scenario:
 * <pre>
 * CREATE TYPE mood AS ENUM ('sad','happy');
 * CREATE TABLE accounts (id bigint PRIMARY KEY, name text, balance numeric(12,2), big text, mood mood,
 *                        tags int[], updated_at timestamptz);
 * ALTER TABLE accounts ALTER big SET STORAGE EXTERNAL;  -- stored out of line, uncompressed
 * CREATE TABLE notes (id int PRIMARY KEY, body text); ALTER TABLE notes REPLICA IDENTITY FULL;
 * BEGIN; INSERT accounts 1 (with a 10,000-byte 'big'); INSERT accounts 2 (NULLs); COMMIT;
 * UPDATE accounts SET balance = 11.00 WHERE id = 1;     -- big is unchanged TOAST
 * UPDATE accounts SET id = 3 WHERE id = 2;              -- key change: old key sent
 * DELETE FROM accounts WHERE id = 3;
 * INSERT notes 1; UPDATE notes; DELETE notes;           -- REPLICA IDENTITY FULL: old row sent
 * TRUNCATE notes, accounts;
 * </pre>
 */
class PgOutputDecoderTest {

    private static List<CapturedStream.Message> captured;

    @BeforeAll
    static void load() throws Exception {
        captured = CapturedStream.load("/pgoutput/sample-v1.txt");
    }

    private static PgOutputMessage decode(int index) {
        return PgOutputDecoder.decode(captured.get(index).buffer());
    }

    @Test
    void beginCarriesTheCommitLsnOfItsCommit() {
        Begin begin = assertInstanceOf(Begin.class, decode(0));
        Commit commit = assertInstanceOf(Commit.class, decode(5));
        assertEquals(begin.finalLsn(), commit.commitLsn());
        assertTrue(Long.compareUnsigned(commit.endLsn(), commit.commitLsn()) > 0, "end LSN lies past the commit record");
        assertEquals(begin.commitTimeMicros(), commit.commitTimeMicros());
        assertTrue(begin.xid() > 0);
    }

    @Test
    void typeAndRelationDescribeTheTable() {
        Type type = assertInstanceOf(Type.class, decode(1));
        assertEquals("mood", type.name());
        assertEquals("public", type.schema());
        Relation relation = assertInstanceOf(Relation.class, decode(2));
        assertEquals("accounts", relation.table());
        assertEquals('d', relation.replicaIdentity());
        assertEquals(List.of("id", "name", "balance", "big", "mood", "tags", "updated_at"),
                relation.columns().stream().map(Relation.Column::name).toList());
        assertTrue(relation.columns().get(0).key());
        assertFalse(relation.columns().get(1).key());
        assertEquals(20, relation.columns().get(0).typeOid());
        assertEquals(type.typeOid(), relation.columns().get(4).typeOid());
        assertEquals(1700, relation.columns().get(2).typeOid());
        assertEquals((12 << 16 | 2) + 4, relation.columns().get(2).typeModifier());
    }

    @Test
    void insertCarriesTextValuesAndNulls() {
        Insert first = assertInstanceOf(Insert.class, decode(3));
        assertEquals("1", first.newTuple().text(0));
        assertEquals("alice", first.newTuple().text(1));
        assertEquals("10.50", first.newTuple().text(2));
        assertEquals(10_000, first.newTuple().text(3).length());
        assertEquals("{1,2,NULL}", first.newTuple().text(5));
        assertEquals("2024-01-02 03:04:05.123456+00", first.newTuple().text(6));
        Insert second = assertInstanceOf(Insert.class, decode(4));
        assertEquals(TupleData.NULL, second.newTuple().kind(2));
        assertNull(second.newTuple().text(2));
    }

    @Test
    void updateMarksUnchangedToastAsUnknownNotNull() {
        Update update = assertInstanceOf(Update.class, decode(7));
        assertNull(update.oldTuple());
        assertTrue(update.newTuple().isUnchangedToast(3));
        assertEquals(TupleData.UNCHANGED_TOAST, update.newTuple().kind(3));
        assertEquals("11.00", update.newTuple().text(2));
    }

    @Test
    void keyChangeSendsTheOldKey() {
        Update update = assertInstanceOf(Update.class, decode(10));
        assertTrue(update.oldIsKeyOnly());
        assertEquals("2", update.oldTuple().text(0));
        assertNull(update.oldTuple().text(1));
        assertEquals("3", update.newTuple().text(0));
    }

    @Test
    void deleteUnderDefaultIdentitySendsOnlyTheKey() {
        Delete delete = assertInstanceOf(Delete.class, decode(13));
        assertTrue(delete.oldIsKeyOnly());
        assertEquals("3", delete.oldTuple().text(0));
        assertEquals(TupleData.NULL, delete.oldTuple().kind(1));
    }

    @Test
    void fullIdentitySendsTheWholeOldRow() {
        Update update = assertInstanceOf(Update.class, decode(20));
        assertFalse(update.oldIsKeyOnly());
        assertEquals("n1", update.oldTuple().text(1));
        assertEquals("n2", update.newTuple().text(1));
        Delete delete = assertInstanceOf(Delete.class, decode(23));
        assertFalse(delete.oldIsKeyOnly());
        assertEquals("n2", delete.oldTuple().text(1));
    }

    @Test
    void truncateListsEveryRelation() {
        Truncate truncate = assertInstanceOf(Truncate.class, decode(29));
        assertEquals(2, truncate.relationIds().length);
        assertFalse(truncate.cascade());
        Relation notes = assertInstanceOf(Relation.class, decode(26));
        Relation accounts = assertInstanceOf(Relation.class, decode(28));
        assertArrayEquals(new int[] {notes.relationId(), accounts.relationId()}, truncate.relationIds());
    }

    @Test
    void logicalMessageIsDecoded() {
        ByteBuffer buffer = ByteBuffer.allocate(64);
        buffer.put((byte) 'M').put((byte) 1).putLong(42L).put("sig\0".getBytes()).putInt(2).put(new byte[] {7, 8});
        buffer.flip();
        PgOutputMessage.LogicalMessage message = assertInstanceOf(PgOutputMessage.LogicalMessage.class,
                PgOutputDecoder.decode(buffer));
        assertTrue(message.transactional());
        assertEquals("sig", message.prefix());
        assertArrayEquals(new byte[] {7, 8}, message.content());
    }

    @Test
    void unknownMessageTypeIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PgOutputDecoder.decode(ByteBuffer.wrap(new byte[] {'Z'})));
        assertTrue(e.getMessage().contains("'Z'"), e.getMessage());
    }
}
