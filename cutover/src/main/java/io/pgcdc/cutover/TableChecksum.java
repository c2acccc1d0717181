package io.pgcdc.cutover;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Counts a table's rows and sums a 64-bit hash of each row's canonical text, in one scan on the
 * server. The hash is the first 64 bits of the MD5 of the text's UTF-8 bytes: unlike PostgreSQL's
 * internal hash functions it is the same on every platform and server version. A sum does not
 * depend on the order the rows are read in and, unlike xor, does not cancel out rows that appear
 * twice (tables keyed only by REPLICA IDENTITY FULL may hold duplicates).
 */
final class TableChecksum {

    private TableChecksum() {
    }

    static String sql(TableName table, List<Column> columns) {
        String hash = "CAST(CAST('x' || left(md5(convert_to(" + CanonicalText.row(columns) + ", 'UTF8')), 16) AS bit(64)) AS bigint)";
        // sum(bigint) is numeric: exact, no overflow; reduced modulo 2^64 afterwards.
        return "SELECT count(*), coalesce(sum(" + hash + "), 0) FROM " + table.quoted();
    }

    static Checksum compute(Connection connection, TableName table, List<Column> columns) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(sql(table, columns))) {
            rs.next();
            return Checksum.of(rs.getLong(1), rs.getBigDecimal(2).toBigIntegerExact());
        }
    }
}
