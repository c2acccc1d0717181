package io.pgcdc.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

import io.pgcdc.source.SourceConfig.DecimalHandling;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.pgoutput.TupleData;
import io.pgcdc.source.schema.PgType;
import io.pgcdc.source.schema.TableSchema;
import io.pgcdc.source.schema.TableSchemaBuilder;

class ChangeRecordFactoryTest {

    private static final PgType INT8 = new PgType(20, "pg_catalog", "int8", 'b', 'N', 0, 0, -1);

    @Test
    void theSourceBlockCarriesEachFactInItsOwnField() {
        Relation relation = new Relation(1, "public", "t", 'd', List.of(new Relation.Column("id", 20, -1, true)));
        TableSchema table = new TableSchemaBuilder("cdc", DecimalHandling.PRECISE, false)
                .build(relation, Set::of, oid -> INT8);
        ChangeRecordFactory records = new ChangeRecordFactory(Map.of("slot", "s"), "cdc", "oltp", "1.2.3");
        // Every number differs from the others, so that two facts swapped between fields of one type show.
        ChangeRecordFactory.Transaction tx = new ChangeRecordFactory.Transaction(11L, 22L, 33_000_444L);
        Struct row = table.row(TupleData.ofText(new String[] {"5"}));
        SourceRecord record = records.change(table, tx, "c", table.keyOf(row), null, row, List.of("big"), 55L, 6, null,
                new SourceOffset(new ChangePosition(22L, 6, 0), false, 0L));

        Struct value = (Struct) record.value();
        assertNull(value.get("before"));
        assertEquals(row, value.get("after"));
        assertEquals("c", value.get("op"));
        Struct source = value.getStruct("source");
        assertEquals("1.2.3", source.get("version"));
        assertEquals("pgcdc", source.get("connector"));
        assertEquals("cdc", source.get("name"));
        assertEquals(33_000L, source.get("ts_ms"));
        assertEquals(33_000_444L, source.get("ts_us"));
        assertEquals("oltp", source.get("db"));
        assertEquals("public", source.get("schema"));
        assertEquals("t", source.get("table"));
        assertEquals(11L, source.get("txId"));
        assertEquals(55L, source.get("lsn"));
        assertEquals(22L, source.get("lsn_commit"));
        assertEquals(6, source.get("change_index"));
        assertEquals(List.of("big"), source.get("unchanged_toast"));
    }
}
