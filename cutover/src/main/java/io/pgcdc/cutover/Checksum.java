package io.pgcdc.cutover;

import java.math.BigInteger;

/** A table's row count and the sum of its rows' 64-bit hashes, modulo 2^64: the same whatever the rows' order. */
public record Checksum(long rows, BigInteger sum) {

    private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

    public static Checksum of(long rows, BigInteger sum) {
        return new Checksum(rows, sum.mod(TWO_TO_64));
    }

    public String hex() {
        return String.format("%016x", sum);
    }
}
