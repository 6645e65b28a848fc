package io.bpfwatch.monitor;

import java.nio.ByteBuffer;

/**
 * Turns one ring buffer record into what its monitor works with, or refuses it. A refusal is
 * a record that does not make sense (wrong size, unknown type, lengths past its end): it is
 * counted in {@code bpfwatch_events_lost_total{stage="decode"}} and the monitor goes on. Any
 * other exception is a bug in the decoder: the monitor is restarted.
 */
@FunctionalInterface
public interface Decoder<R> {
    R decode(ByteBuffer b, int off, int len) throws Refused;

    /** Why a record was refused. Thrown rarely, so it carries no stack trace. */
    final class Refused extends Exception {
        public Refused(String why) {
            super(why, null, false, false);
        }
    }
}
