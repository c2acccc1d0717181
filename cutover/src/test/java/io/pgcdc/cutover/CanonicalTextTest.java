package io.pgcdc.cutover;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class CanonicalTextTest {

    @Test
    void valuesAreCastToTheSourcesBuiltInTypeByItsQualifiedInternalName() {
        assertEquals("CAST(CAST(\"code\" AS pg_catalog.\"bpchar\") AS text)", CanonicalText.of(new Column("code", "bpchar")));
        assertEquals("CAST(CAST(\"n\" AS pg_catalog.\"_int4\") AS text)", CanonicalText.of(new Column("n", "_int4")));
    }

    @Test
    void numbersLoseTrailingZerosAndTimesWithZoneMoveToUtc() {
        assertEquals("CAST(pg_catalog.trim_scale(CAST(\"p\" AS pg_catalog.\"numeric\")) AS text)",
                CanonicalText.of(new Column("p", "numeric")));
        assertEquals("CAST((CAST(\"t\" AS pg_catalog.\"timetz\") AT TIME ZONE 'UTC') AS text)",
                CanonicalText.of(new Column("t", "timetz")));
    }

    @Test
    void typesOnlyTheSourceHasCompareAsText() {
        assertEquals("CAST(\"mood\" AS text)", CanonicalText.of(new Column("mood", null)));
    }

    @Test
    void jsonComparesAsJsonb() {
        assertEquals("jsonb", CanonicalText.castType("json"));
        assertEquals("_jsonb", CanonicalText.castType("_json"));
        assertEquals("varchar", CanonicalText.castType("varchar"));
    }

    @Test
    void oneRowTextWithQuotedNames() {
        assertEquals("CAST(ROW(CAST(CAST(\"id\" AS pg_catalog.\"int8\") AS text), CAST(\"a\"\"b\" AS text)) AS text)",
                CanonicalText.row(List.of(new Column("id", "int8"), new Column("a\"b", null))));
    }
}
