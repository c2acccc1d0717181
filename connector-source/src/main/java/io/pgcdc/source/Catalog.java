package io.pgcdc.source;

import java.util.Set;

import io.pgcdc.source.schema.PgType;

/** What the change stream needs from the database's catalog beyond what pgoutput sends. */
public interface Catalog {

    /** The primary key column names of a table; empty if it has none. */
    Set<String> primaryKey(int relationId);

    /** A type by OID; one the database no longer knows comes back as a type without mapping (carried as text). */
    PgType type(int oid);
}
