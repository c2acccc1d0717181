package io.pgcdc.sink;

import io.pgcdc.sink.SinkConfig.GuardMode;

/**
 * How the versions of one table's rows are ordered in SQL: the guard mode and column, the column that keeps
 * each row's source position (null unless the table has it, in 'column' mode), and the zone a zone-less
 * guard column's values are written in (null: read as UTC, the sink session's zone).
 */
record Guard(GuardMode mode, String column, String positionColumn, String zone) {

    static Guard of(SinkConfig config, TargetTable table) {
        String position = config.positionColumn();
        return new Guard(config.guardMode(), config.guardColumn(),
                position != null && table.columns().containsKey(position) ? position : null, config.guardTimeZone());
    }

    /** The column each upsert writes its source position into, or null. */
    String writtenPosition() {
        return mode == GuardMode.SOURCE_LSN ? column : positionColumn;
    }
}
