package io.pgcdc.cutover;

/**
 * A source column and the built-in type both sides' values are cast to before they are compared,
 * by its internal name in pg_catalog (null: compared as text, for types only the source has, such as enums).
 */
public record Column(String name, String castType) {
}
