package io.pgcdc.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.List;

/**
 * Finds which column of a rejected row holds the value PostgreSQL cannot convert: a failed
 * conversion from the JSON parameter names the type and the value, never the column. Run only for
 * rows already isolated as rejected, one cheap query per column, each under its own savepoint.
 */
final class ColumnProbe {

    private ColumnProbe() {
    }

    /** The first of {@code columns} whose value in the one row of {@code row} fails to convert, or null. */
    static String culprit(Connection c, TargetTable table, List<String> columns, JsonRows.Parameters row)
            throws SQLException {
        for (String column : columns) {
            Savepoint savepoint = c.setSavepoint();
            try (PreparedStatement ps = c.prepareStatement(PgDialect.convert(table, column))) {
                row.bind(ps, PgDialect.documents(table, List.of(column)));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
                c.releaseSavepoint(savepoint);
            } catch (SQLException e) {
                c.rollback(savepoint);
                if (!SqlErrors.isRowError(e)) {
                    throw e;
                }
                return column;
            }
        }
        return null;
    }
}
