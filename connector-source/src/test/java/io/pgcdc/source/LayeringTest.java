package io.pgcdc.source;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The source's layers, as docs/architecture.md draws them: the wire format knows nothing but Java, the
 * schemas nothing of the task that uses them, and nothing reaches into the Connect worker's internals.
 */
class LayeringTest {

    private static final JavaClasses SOURCE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.pgcdc.source");

    @Test
    void thePgoutputDecoderDependsOnJavaAlone() {
        classes().that().resideInAPackage("io.pgcdc.source.pgoutput..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.pgcdc.source.pgoutput..", "java..")
                .check(SOURCE);
    }

    /** They read their settings from SourceConfig, and nothing else of the connector. */
    @Test
    void schemasKnowNothingOfTheTaskOrTheStream() {
        noClasses().that().resideInAPackage("io.pgcdc.source.schema..")
                .should().dependOnClassesThat(resideInAnyPackage("io.pgcdc.source", "org.apache.kafka.connect.source..",
                        "org.postgresql.replication..").and(not(belongToAnyOf(SourceConfig.class))))
                .check(SOURCE);
    }

    @Test
    void nothingUsesTheWorkersInternals() {
        noClasses().should().dependOnClassesThat().resideInAPackage("org.apache.kafka.connect.runtime..").check(SOURCE);
    }
}
