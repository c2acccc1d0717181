package io.pgcdc.cutover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TableNameFormatTest {

    private static final TableName ORDERS = new TableName("shop", "Orders.2024");

    @Test
    void sameNameByDefault() {
        assertEquals(ORDERS, new TableNameFormat(TableNameFormat.SAME_NAME).target(ORDERS));
    }

    @Test
    void anotherSchemaOrPrefixAsTheSinksFormatSays() {
        assertEquals(new TableName("olap", "Orders.2024"), new TableNameFormat("olap.${source.table}").target(ORDERS));
        // Split at the first dot, as the sink splits it.
        assertEquals(new TableName("shop_Orders", "2024"), new TableNameFormat("${source.schema}_${source.table}")
                .target(ORDERS));
        assertEquals(new TableName("public", "shop_lines"), new TableNameFormat("${source.schema}_${source.table}")
                .target(new TableName("shop", "lines")));
    }

    @Test
    void theTopicIsNotKnownHere() {
        assertThrows(IllegalArgumentException.class, () -> new TableNameFormat("olap.${topic}"));
    }

    @Test
    void quotedNamesDoubleTheirQuotes() {
        assertEquals("\"my \"\"s\"\"\".\"t\"", new TableName("my \"s\"", "t").quoted());
    }
}
