package io.pgcdc.source.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

import io.pgcdc.source.SourceConfig.DecimalHandling;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation.Column;
import io.pgcdc.source.pgoutput.TupleData;

class TableSchemaBuilderTest {

    private static final PgType INT8 = new PgType(20, "pg_catalog", "int8", 'b', 'N', 0, 0, -1);
    private static final PgType TEXT = new PgType(25, "pg_catalog", "text", 'b', 'S', 0, 0, -1);
    private final TableSchemaBuilder builder = new TableSchemaBuilder("cdc", DecimalHandling.PRECISE, false);

    private static List<String> keyFields(TableSchema schema) {
        return schema.keySchema() == null ? null : schema.keySchema().fields().stream().map(Field::name).toList();
    }

    private static ColumnConverter.TypeResolver types() {
        return oid -> oid == 20 ? INT8 : TEXT;
    }

    @Test
    void replicaIdentityIndexIsTheKeyBecauseDeletesCarryOnlyIt() {
        Relation relation = new Relation(1, "public", "users", 'i', List.of(
                new Column("id", 20, -1, false), new Column("email", 25, -1, true)));
        TableSchema schema = builder.build(relation, () -> Set.of("id"), types());
        assertEquals(List.of("email"), keyFields(schema));
    }

    @Test
    void fullIdentityUsesThePrimaryKey() {
        Relation relation = new Relation(1, "public", "users", 'f', List.of(
                new Column("id", 20, -1, true), new Column("email", 25, -1, true)));
        assertEquals(List.of("id"), keyFields(builder.build(relation, () -> Set.of("id"), types())));
        assertNull(keyFields(builder.build(relation, Set::of, types())), "FULL without primary key: no key");
    }

    @Test
    void topicAndSchemaNamesAreSanitised() {
        Relation relation = new Relation(1, "my schema", "2024 orders", 'd', List.of(new Column("id", 20, -1, true)));
        TableSchema schema = builder.build(relation, Set::of, types());
        assertEquals("cdc.my_schema.2024_orders", schema.topic());
        assertEquals("cdc.my_schema._2024_orders.Envelope", schema.envelopeSchema().name());
    }

    @Test
    void aTableDescribedAgainTheSameWayKeepsItsSchemaInstances() {
        Relation relation = new Relation(1, "public", "users", 'd', List.of(
                new Column("id", 20, -1, true), new Column("email", 25, -1, false)));
        TableSchema first = builder.build(relation, Set::of, types());
        Relation again = new Relation(1, "public", "users", 'd', List.of(
                new Column("id", 20, -1, true), new Column("email", 25, -1, false)));
        assertSame(first, builder.build(again, Set::of, types()));
    }

    @Test
    void aChangedTableGetsNewSchemasEvenWhereTheyWouldCompareEqual() {
        Relation relation = new Relation(1, "public", "users", 'f', List.of(
                new Column("id", 20, -1, true), new Column("email", 25, -1, true)));
        TableSchema first = builder.build(relation, () -> Set.of("id"), types());

        TableSchema newKey = builder.build(relation, () -> Set.of("email"), types());
        assertNotSame(first, newKey, "a new primary key under REPLICA IDENTITY FULL");
        assertEquals(List.of("email"), keyFields(newKey));

        Relation varchar = new Relation(1, "public", "users", 'f', List.of(
                new Column("id", 20, -1, true), new Column("email", 25, 54, true)));
        TableSchema retyped = builder.build(varchar, () -> Set.of("email"), types());
        assertEquals(newKey.envelopeSchema(), retyped.envelopeSchema());
        assertNotSame(newKey, retyped, "converters are made for the column types, which changed");

        // Both names give the topic cdc.public.user_s and the same schema names; the source block names the table.
        TableSchema spaced = builder.build(new Relation(2, "public", "user s", 'd', List.of(new Column("id", 20, -1, true))),
                Set::of, types());
        TableSchema renamed = builder.build(new Relation(2, "public", "user_s", 'd', List.of(new Column("id", 20, -1, true))),
                Set::of, types());
        assertEquals(spaced.envelopeSchema(), renamed.envelopeSchema());
        assertEquals("user_s", renamed.tableName(), "a renamed table");
    }

    @Test
    void aValueItsTypeCannotHoldIsLeftNullAndDescribedUnlessItIsTheKey() {
        PgType numeric = new PgType(1700, "pg_catalog", "numeric", 'b', 'N', 0, 0, -1);
        int tenTwo = ((10 << 16) | 2) + 4;
        Relation relation = new Relation(1, "public", "prices", 'd', List.of(
                new Column("id", 1700, tenTwo, true), new Column("amount", 1700, tenTwo, false)));
        TableSchema schema = builder.build(relation, () -> Set.of("id"), oid -> numeric);
        List<String> unconvertible = new ArrayList<>();
        Struct row = schema.row(
                TupleData.ofText(new String[] {"1.00", "NaN"}), unconvertible);
        assertNull(row.get("amount"));
        assertEquals(1, unconvertible.size());
        assertTrue(unconvertible.get(0).contains("\"amount\" of public.prices (value 'NaN')")
                && unconvertible.get(0).contains("decimal.handling.mode"), unconvertible.get(0));
        assertThrows(IllegalArgumentException.class, () -> schema.row(
                TupleData.ofText(new String[] {"NaN", "1.00"}), unconvertible),
                "a record without its key would be worse than a failed task");
        assertThrows(IllegalArgumentException.class, () -> schema.row(
                TupleData.ofText(new String[] {"1.00", "NaN"})), "no list: the row fails");
    }
}
