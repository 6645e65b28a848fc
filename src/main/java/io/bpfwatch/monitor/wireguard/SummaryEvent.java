package io.bpfwatch.monitor.wireguard;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.event.Event;

import java.io.IOException;

/**
 * One peer's interval (wireguard.log, "summary"): what its tunnel carried and how long
 * encrypting and decrypting took, written every {@code interval} for each peer that had traffic.
 * Quantiles come from the log2 histograms (interpolated inside a power-of-two bucket, never above
 * the interval's exact max). Not caused by a process: pid and uid 0, comm empty.
 */
public final class SummaryEvent extends Event {
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
    public void writeFields(JsonGenerator g) throws IOException {
        g.writeStringField("interface", delta.iface());
        g.writeStringField("peer", delta.peer());
        g.writeStringField("endpoint", delta.endpoint());
        g.writeNumberField("interval_s", Math.round(intervalSeconds * 1000) / 1000.0);
        latency(g, "encrypt", delta.encrypt());
        latency(g, "decrypt", delta.decrypt());
        g.writeNumberField("sent_bytes", delta.sentBytes());
        g.writeNumberField("sent_packets", delta.sentPackets());
        g.writeNumberField("received_bytes", delta.receivedBytes());
        g.writeNumberField("received_packets", delta.receivedPackets());
    }

    private static void latency(JsonGenerator g, String op, Log2Histogram h) throws IOException {
        g.writeNumberField(op + "_count", h.count());
        micros(g, op + "_p50_us", h.count() > 0 ? h.quantileNanos(0.5) : Double.NaN);
        micros(g, op + "_p99_us", h.count() > 0 ? h.quantileNanos(0.99) : Double.NaN);
        micros(g, op + "_max_us", h.count() > 0 && h.maxNanos() > 0 ? h.maxNanos() : Double.NaN);
    }

    /** Microseconds to the nanosecond; null when there is nothing to say. */
    private static void micros(JsonGenerator g, String field, double nanos) throws IOException {
        if (Double.isNaN(nanos)) g.writeNullField(field);
        else g.writeNumberField(field, Math.round(nanos) / 1000.0);
    }

    /** top: packets by interface and peer. */
    @Override
    public void tally(Tally t) {
        t.add("packets", delta.iface() + " " + delta.peer(), delta.sentPackets() + delta.receivedPackets());
    }
}
