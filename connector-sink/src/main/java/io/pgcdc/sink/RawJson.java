package io.pgcdc.sink;

/** JSON text to embed as a JSON value, not as a string (a json or jsonb column's value). */
public record RawJson(String text) {
}
