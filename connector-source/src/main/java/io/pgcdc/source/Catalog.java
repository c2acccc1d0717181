package io.pgcdc.source;

import java.util.Set;

import io.pgcdc.source.schema.PgType;

/** What the change stream needs from the database's catalog beyond what pgoutput sends. */
public interface Catalog {

    /** The primary key column names of a table; empty if it has none. */
    Set<String> primaryKey(int relationId);

    /** A type by OID; fails with a clear message if the database does not know it. */
    PgType type(int oid);
}
