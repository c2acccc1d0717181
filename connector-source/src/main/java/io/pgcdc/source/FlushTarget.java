package io.pgcdc.source;

/** Decides how far the slot may be confirmed, from what Connect has durably stored. */
final class FlushTarget {

    private FlushTarget() {
    }

    /**
     * @param stored the offset Connect holds now, read back from its offset store (null: none)
     * @param quiet  the newest position the server reported between transactions, with the
     *               offset of the last record emitted before it (null: none yet)
     * @return the LSN to confirm; 0 for nothing
     */
    static long of(SourceOffset stored, ChangeEventEmitter.QuietPoint quiet) {
        long target = stored == null ? 0 : stored.flushLsn();
        // Past the last stored record only if nothing emitted after it is still in flight.
        if (quiet != null && java.util.Objects.equals(quiet.after(), stored)) {
            target = Math.max(target, quiet.lsn());
        }
        return target;
    }
}
