package io.pgcdc.sink;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkTask;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.junit.jupiter.api.Test;

/**
 * The sink's pure parts stay pure, as docs/architecture.md draws them: planning a batch (newest change per
 * key, key moves, statement chunks, guard order) and writing its SQL text need neither a connection nor the
 * task; and nothing reaches into the Connect worker's internals.
 */
class LayeringTest {

    private static final JavaClasses SINK = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.pgcdc.sink");

    private static final Class<?>[] PLANNING = {
        BatchReducer.class, KeyMoves.class, StatementChunks.class, Guard.class, GuardValue.class, PgDialect.class,
    };

    @Test
    void planningAndSqlTextUseNoConnection() {
        noClasses().that().belongToAnyOf(PLANNING)
                .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..", "org.postgresql..")
                .check(SINK);
    }

    /** A record's Kafka coordinates order the last tie; the task, its context and the writers stay out. */
    @Test
    void planningAndSqlTextKnowNothingOfTheTask() {
        noClasses().that().belongToAnyOf(PLANNING)
                .should().dependOnClassesThat().belongToAnyOf(SinkTask.class, SinkTaskContext.class,
                        ErrantRecordReporter.class, PgSinkTask.class, BackgroundWriter.class, BatchWriter.class)
                .check(SINK);
    }

    @Test
    void nothingUsesTheWorkersInternals() {
        noClasses().should().dependOnClassesThat().resideInAPackage("org.apache.kafka.connect.runtime..").check(SINK);
    }
}
