package io.pgcdc.source.pgoutput;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes pgoutput protocol version 1 messages, as described in the PostgreSQL
 * documentation's "Logical Replication Message Formats". Stateless.
 */
public final class PgOutputDecoder {

    private PgOutputDecoder() {
    }

    public static PgOutputMessage decode(ByteBuffer buffer) {
        char tag = (char) buffer.get();
        switch (tag) {
            case 'B':
                return new PgOutputMessage.Begin(buffer.getLong(), buffer.getLong(), Integer.toUnsignedLong(buffer.getInt()));
            case 'C':
                buffer.get(); // flags, unused
                return new PgOutputMessage.Commit(buffer.getLong(), buffer.getLong(), buffer.getLong());
            case 'O':
                return new PgOutputMessage.Origin(buffer.getLong(), readString(buffer));
            case 'R':
                return decodeRelation(buffer);
            case 'Y':
                return new PgOutputMessage.Type(buffer.getInt(), readString(buffer), readString(buffer));
            case 'I': {
                int relationId = buffer.getInt();
                expect(buffer, 'N', "INSERT");
                return new PgOutputMessage.Insert(relationId, readTuple(buffer));
            }
            case 'U':
                return decodeUpdate(buffer);
            case 'D': {
                int relationId = buffer.getInt();
                char which = (char) buffer.get();
                if (which != 'K' && which != 'O') {
                    throw new IllegalArgumentException("pgoutput DELETE: expected 'K' or 'O', got '" + which + "'");
                }
                return new PgOutputMessage.Delete(relationId, readTuple(buffer), which == 'K');
            }
            case 'T': {
                int count = buffer.getInt();
                byte options = buffer.get();
                int[] relationIds = new int[count];
                for (int i = 0; i < count; i++) {
                    relationIds[i] = buffer.getInt();
                }
                return new PgOutputMessage.Truncate(relationIds, (options & 1) != 0, (options & 2) != 0);
            }
            case 'M': {
                boolean transactional = (buffer.get() & 1) != 0;
                long lsn = buffer.getLong();
                String prefix = readString(buffer);
                byte[] content = new byte[buffer.getInt()];
                buffer.get(content);
                return new PgOutputMessage.LogicalMessage(transactional, lsn, prefix, content);
            }
            default:
                throw new IllegalArgumentException("Unknown pgoutput message type '" + tag + "' (" + (int) tag + ")");
        }
    }

    private static PgOutputMessage decodeRelation(ByteBuffer buffer) {
        int relationId = buffer.getInt();
        String schema = readString(buffer);
        String table = readString(buffer);
        char replicaIdentity = (char) buffer.get();
        int columnCount = buffer.getShort();
        List<PgOutputMessage.Relation.Column> columns = new ArrayList<>(columnCount);
        for (int i = 0; i < columnCount; i++) {
            boolean key = (buffer.get() & 1) != 0;
            String name = readString(buffer);
            int typeOid = buffer.getInt();
            int typeModifier = buffer.getInt();
            columns.add(new PgOutputMessage.Relation.Column(name, typeOid, typeModifier, key));
        }
        return new PgOutputMessage.Relation(relationId, schema, table, replicaIdentity, List.copyOf(columns));
    }

    private static PgOutputMessage decodeUpdate(ByteBuffer buffer) {
        int relationId = buffer.getInt();
        char which = (char) buffer.get();
        TupleData oldTuple = null;
        boolean oldIsKeyOnly = false;
        if (which == 'K' || which == 'O') {
            oldIsKeyOnly = which == 'K';
            oldTuple = readTuple(buffer);
            which = (char) buffer.get();
        }
        if (which != 'N') {
            throw new IllegalArgumentException("pgoutput UPDATE: expected 'N', got '" + which + "'");
        }
        return new PgOutputMessage.Update(relationId, oldTuple, oldIsKeyOnly, readTuple(buffer));
    }

    private static TupleData readTuple(ByteBuffer buffer) {
        int count = buffer.getShort();
        byte[] kinds = new byte[count];
        String[] values = new String[count];
        for (int i = 0; i < count; i++) {
            byte kind = buffer.get();
            kinds[i] = kind;
            switch (kind) {
                case TupleData.NULL:
                case TupleData.UNCHANGED_TOAST:
                    break;
                case TupleData.TEXT: {
                    int length = buffer.getInt();
                    values[i] = new String(buffer.array(), buffer.arrayOffset() + buffer.position(), length, StandardCharsets.UTF_8);
                    buffer.position(buffer.position() + length);
                    break;
                }
                default:
                    throw new IllegalArgumentException("pgoutput tuple column " + i + ": unknown kind '" + (char) kind
                            + "' (binary mode is not requested, so only 'n', 'u' and 't' are expected)");
            }
        }
        return new TupleData(kinds, values);
    }

    private static void expect(ByteBuffer buffer, char expected, String message) {
        char actual = (char) buffer.get();
        if (actual != expected) {
            throw new IllegalArgumentException("pgoutput " + message + ": expected '" + expected + "', got '" + actual + "'");
        }
    }

    private static String readString(ByteBuffer buffer) {
        int start = buffer.position();
        int end = start;
        while (buffer.get(end) != 0) {
            end++;
        }
        String value = new String(buffer.array(), buffer.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
        buffer.position(end + 1);
        return value;
    }
}
