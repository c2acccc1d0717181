package io.pgcdc.sink;

/**
 * A Debezium {@code MicroDuration}: a number of microseconds. An interval column would read the bare
 * number as seconds, so it gets the unit spelled out; other columns get the number.
 */
public record DurationMicros(long micros) {
}
