package io.pgcdc.source.schema;

/**
 * A row of {@code pg_type}, reduced to what choosing a converter needs.
 *
 * @param kind        {@code typtype}: b base, e enum, d domain, c composite, r range, m multirange, p pseudo
 * @param elementOid  {@code typelem} of an array type (category 'A'), else 0
 * @param baseOid     {@code typbasetype} of a domain, else 0
 * @param baseTypmod  {@code typtypmod} of a domain, else -1
 */
public record PgType(int oid, String schema, String name, char kind, char category, int elementOid, int baseOid,
                     int baseTypmod) {

    public boolean isArray() {
        return category == 'A' && elementOid != 0;
    }

    public boolean isDomain() {
        return kind == 'd';
    }

    public boolean isEnum() {
        return kind == 'e';
    }

    public boolean isBuiltin() {
        return "pg_catalog".equals(schema);
    }
}
