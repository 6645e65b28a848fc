package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.event.Event;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;

/**
 * One peer's interval (wireguard.log, "summary"): what its tunnel carried and how long
 * encrypting and decrypting took, written every {@code interval} for each peer that had traffic.
 * Quantiles come from the log2 histograms (interpolated inside a power-of-two bucket, never above
 * the interval's exact max). Not caused by a process: pid and uid 0, comm empty.
 */
public final class SummaryEvent extends Event {
    private static final Name INTERFACE = Name.of("interface"), PEER = Name.of("peer"), ENDPOINT = Name.of("endpoint"),
            INTERVAL_S = Name.of("interval_s"), SENT_BYTES = Name.of("sent_bytes"), SENT_PACKETS = Name.of("sent_packets"),
            RECEIVED_BYTES = Name.of("received_bytes"), RECEIVED_PACKETS = Name.of("received_packets");
    private static final Name[] ENCRYPT = latencyNames("encrypt"), DECRYPT = latencyNames("decrypt");

    private static Name[] latencyNames(String op) {
        return new Name[] {Name.of(op + "_count"), Name.of(op + "_p50_us"), Name.of(op + "_p99_us"), Name.of(op + "_max_us")};
    }
    public final PeerStats delta;
    public final double intervalSeconds;

    SummaryEvent(long time, PeerStats delta, double intervalSeconds) {
        super(time, 0, 0, "");
        this.delta = delta;
        this.intervalSeconds = intervalSeconds;
    }

    @Override
    public String monitor() {
        return "wireguard";
    }

    @Override
    public String event() {
        return "summary";
    }

    @Override
    public void writeFields(FieldWriter w) {
        w.field(INTERFACE, delta.iface());
        w.field(PEER, delta.peer());
        w.field(ENDPOINT, delta.endpoint());
        w.field(INTERVAL_S, Math.round(intervalSeconds * 1000) / 1000.0);
        latency(w, ENCRYPT, delta.encrypt());
        latency(w, DECRYPT, delta.decrypt());
        w.field(SENT_BYTES, delta.sentBytes());
        w.field(SENT_PACKETS, delta.sentPackets());
        w.field(RECEIVED_BYTES, delta.receivedBytes());
        w.field(RECEIVED_PACKETS, delta.receivedPackets());
    }

    private static void latency(FieldWriter w, Name[] names, Log2Histogram h) {
        w.field(names[0], h.count());
        micros(w, names[1], h.count() > 0 ? h.quantileNanos(0.5) : Double.NaN);
        micros(w, names[2], h.count() > 0 ? h.quantileNanos(0.99) : Double.NaN);
        long max = h.intervalMaxNanos();
        micros(w, names[3], h.count() > 0 && max > 0 ? max : Double.NaN);
    }

    /** Microseconds to the nanosecond; null when there is nothing to say. */
    private static void micros(FieldWriter w, Name field, double nanos) {
        w.field(field, Double.isNaN(nanos) ? Double.NaN : Math.round(nanos) / 1000.0); // NaN is written as null
    }

    /** top: packets by interface and peer. */
    @Override
    public void tally(Tally t) {
        t.add("packets", delta.iface() + " " + delta.peer(), delta.sentPackets() + delta.receivedPackets());
    }
}
