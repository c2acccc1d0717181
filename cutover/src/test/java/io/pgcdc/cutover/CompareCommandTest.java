package io.pgcdc.cutover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

class CompareCommandTest {

    private static String errors(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = CompareCommand.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true,
                StandardCharsets.UTF_8));
        assertEquals(2, code);
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void badOptionsExitWithTwoAndTheUsage() {
        assertTrue(errors("--source=jdbc:postgresql://h/db").startsWith("Both --source and --target are required"));
        assertTrue(errors("--source=x", "--target=y", "--wait").startsWith("Option --wait has no value"));
        assertTrue(errors("--verbose=1").startsWith("Unknown option --verbose=1"));
        assertTrue(errors("--source=mysql://h/db", "--target=jdbc:postgresql://h/db").startsWith("Not a PostgreSQL JDBC URL"));
        assertTrue(errors("--tables=shop\\.(a").contains("is not a valid regular expression"));
        assertTrue(errors("--tables=x").contains("usage: compare.sh --source=JDBC_URL --target=JDBC_URL"));
    }

    @Test
    void anUnreachableServerCannotBeCompared() {
        assertTrue(errors("--source=jdbc:postgresql://127.0.0.1:1/app", "--target=jdbc:postgresql://127.0.0.1:1/replica")
                .startsWith("Cannot compare: "));
    }

    @Test
    void tablesMatchAsTheSourceConnectorsIncludeList() {
        Predicate<TableName> filter = CompareCommand.tableFilter("shop\\.orders, shop\\.line.*");
        assertTrue(filter.test(new TableName("shop", "orders")));
        assertTrue(filter.test(new TableName("shop", "lines")));
        assertFalse(filter.test(new TableName("shop", "orders_archive")), "a whole-name match");
        assertFalse(filter.test(new TableName("public", "orders")));
    }
}
