package io.bpfwatch.monitor;

import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfObject;

import java.util.Map;

/**
 * What one kind of BPF monitor does beyond what {@link BpfMonitor} does for all of them: how
 * its records decode and what becomes of them (counted, emitted as events), and any work of
 * its own around load, on the reader's periodic tick and at close. Every method but the hooks
 * before start runs on the monitor's reader thread (or on the stopping thread once the reader
 * has ended), one at a time.
 */
public interface BpfLogic<R> {
    /** How the records of the "events" ring decode (bpfwatch's objects have that one ring). */
    default Decoder<R> decoder() {
        throw new UnsupportedOperationException("this monitor reads no \"events\" ring: it names its rings");
    }

    /**
     * The ring buffers to read, by map name, each with its decoder (made from the opened
     * object's BTF, if need be); none for a metrics-only object.
     */
    default Map<String, Decoder<R>> rings(BpfObject object) {
        return Map.of(BpfMonitor.RING, decoder());
    }

    /** One decoded record. Throwing stops the monitor; it is restarted. */
    void accept(R record);

    /** Before load: `const volatile` filters and map sizes. */
    default void configure(BpfObject object) throws BpfException {
    }

    /**
     * Context the kind itself needs in every record's header ({@code BW_CTX_*} bits, e.g. the
     * network namespace), on top of what the monitor's {@code context:} asks for.
     */
    default int kernelContext() {
        return 0;
    }

    /** The poller is made, about to start: for a kind whose progress other threads wait on. */
    default void reading(io.bpfwatch.transport.RingPoller poller) {
    }

    /** After load, before the programs attach: maps to fill or to read at scrape time. */
    default void loaded(BpfObject object) throws BpfException {
    }

    /**
     * Periodic work (timeouts, interval summaries, device checks): every 100 ms while events
     * flow, about every second while the monitor is quiet.
     */
    default void tick(long nowNanos) {
    }

    /** While true, {@link #tick} comes every 100 ms even when no events flow (something waits on time). */
    default boolean waitsOnTime() {
        return false;
    }

    /** After the last record was read on stop (flush pending state as events). */
    default void drained() {
    }

    /** Before the object closes: read final map state. */
    default void closing(BpfObject object) {
    }

    /**
     * Per-CPU u64 counter maps of the object (by map name) to read at scrape time into these
     * counters; attached after load and folded into their base before close, so the counts
     * outlive restarts. The object's {@code bw_lost} is always read into lost{stage="kernel"}.
     */
    default Map<String, KernelCounter> kernelCounters() {
        return Map.of();
    }
}
