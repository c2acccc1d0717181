package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class KeyMovesTest {

    private static final TargetTable TABLE = new TargetTable(new TableRef("public", "t"), Map.of(
            "id", new TargetTable.Column("id", "bigint", "bigint"), "body", new TargetTable.Column("body", "text", "text")),
            List.of("id"), false);

    private static RowChange change(RowChange.Op op, long id, Integer otherId, long position) {
        Map<String, Object> columns = new LinkedHashMap<>();
        columns.put("id", id);
        return new RowChange(TABLE.ref(), op, columns, null, position, null, null, null,
                otherId == null ? null : Map.of("id", (long) otherId));
    }

    private static List<String> moves(List<RowChange> moves) {
        return moves.stream().map(m -> m.columns().get("id") + ">" + m.columns().get("__pgcdc_new_id")).toList();
    }

    @Test
    void eitherHalfOfAKeyChangeAsksForTheSameMoveOnceInSourceOrder() {
        List<RowChange> changes = List.of(
                change(RowChange.Op.UPSERT, 20, 2, 12), // the create of a later key change, first in the batch
                change(RowChange.Op.DELETE, 1, 10, 5),
                change(RowChange.Op.UPSERT, 10, 1, 7),
                change(RowChange.Op.UPSERT, 3, null, 8), // no key change
                change(RowChange.Op.DELETE, 2, 20, 10),
                change(RowChange.Op.DELETE, 4, 4, 11)); // a header naming the same key: nothing to move
        List<RowChange> moves = KeyMoves.of(TABLE, changes);
        assertEquals(List.of("1>10", "2>20"), moves(moves));
        assertEquals(5L, moves.get(0).position(), "the first half seen places the move");
    }

    @Test
    void aChainMovesOneLinkPerStatementInOrder() {
        List<RowChange> moves = KeyMoves.of(TABLE, List.of(change(RowChange.Op.DELETE, 5, 2005, 1),
                change(RowChange.Op.DELETE, 6, 2006, 2), change(RowChange.Op.DELETE, 2005, 3005, 3),
                change(RowChange.Op.DELETE, 7, 2007, 4)));
        assertEquals(List.of(List.of("5>2005", "6>2006"), List.of("2005>3005", "7>2007")),
                KeyMoves.chunks(moves, List.of("id"), 100).stream().map(KeyMovesTest::moves).toList());
        assertEquals(List.of(List.of("5>2005"), List.of("6>2006"), List.of("2005>3005"), List.of("7>2007")),
                KeyMoves.chunks(moves, List.of("id"), 1).stream().map(KeyMovesTest::moves).toList());
    }
}
