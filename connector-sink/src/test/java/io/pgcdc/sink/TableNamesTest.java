package io.pgcdc.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;

class TableNamesTest {

    private static final Map<String, Object> DOTTED = Map.of("schema", "my.schema", "table", "Order Items.v2 \"Ä\"");

    @Test
    void namesFromTheSourceBlockKeepTheirDots() {
        assertEquals(new TableRef("my.schema", "Order Items.v2 \"Ä\""),
                new TableNames("${source.schema}.${source.table}").resolve("app.my_schema.Order_Items_v2", DOTTED));
        assertEquals(new TableRef("olap", "Order Items.v2 \"Ä\""),
                new TableNames("olap.${source.table}").resolve("app.my_schema.Order_Items_v2", DOTTED));
        assertEquals(new TableRef("olap", "my.schema_Order Items.v2 \"Ä\""),
                new TableNames("olap.${source.schema}_${source.table}").resolve("t", DOTTED));
    }

    @Test
    void withoutASourceBlockTheTopicsLastTwoSegmentsStandIn() {
        assertEquals(new TableRef("public", "orders"),
                new TableNames("${source.schema}.${source.table}").resolve("app.public.orders", null));
        assertEquals(new TableRef("public", "orders"), new TableNames("${source.schema}.${source.table}").resolve("orders", null));
    }

    @Test
    void aFormatWithoutItsOwnDotSplitsTheResultAtItsFirstDot() {
        assertEquals(new TableRef("app", "public.orders"), new TableNames("${topic}").resolve("app.public.orders", null));
        assertEquals(new TableRef("public", "orders"), new TableNames("${topic}").resolve("orders", null));
        assertEquals(new TableRef("public", "t_orders"), new TableNames("t_${source.table}").resolve("app.public.orders", null));
    }

    @Test
    void eachRecordOfARunIsResolvedByItsOwnNames() {
        TableNames names = new TableNames("olap.${source.table}_${topic}");
        assertEquals(new TableRef("olap", "a_t"), names.resolve("t", java.util.Map.of("schema", "s", "table", "a")));
        assertEquals(new TableRef("olap", "a_t"), names.resolve("t", java.util.Map.of("schema", "s", "table", "a")));
        assertEquals(new TableRef("olap", "b_t"), names.resolve("t", java.util.Map.of("schema", "s", "table", "b")));
        assertEquals(new TableRef("olap", "b_u"), names.resolve("u", java.util.Map.of("schema", "s", "table", "b")));
        assertEquals(new TableRef("olap", "u_u"), names.resolve("u", null));
    }
}
