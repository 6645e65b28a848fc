package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.event.Event;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;

import java.nio.ByteBuffer;

/**
 * A handshake step (wireguard.log): "handshake_initiated", this side sent an initiation to the
 * peer ({@code retry}: 0 for a new handshake, n for the n-th retransmission after no answer);
 * "handshake_completed", a session was established ({@code role}: initiator or responder;
 * {@code retries}: retransmissions this side needed). pid, uid and comm are those of whatever
 * the kernel was running (a kworker, or the process a softirq interrupted).
 */
public final class HandshakeEvent extends Event {
    private static final Name INTERFACE = Name.of("interface"), PEER = Name.of("peer"), ENDPOINT = Name.of("endpoint"),
            RETRY = Name.of("retry"), ROLE = Name.of("role"), RETRIES = Name.of("retries");
    public final boolean initiated;
    public final String iface;
    public final String peer;
    public final String endpoint;
    public final long attempts;
    public final String role;

    HandshakeEvent(EventHeader h, ByteBuffer b, int off, boolean initiated, String iface, String peer, String endpoint,
                   long attempts, String role) {
        super(h, b, off);
        this.initiated = initiated;
        this.iface = iface;
        this.peer = peer;
        this.endpoint = endpoint;
        this.attempts = attempts;
        this.role = role;
    }

    @Override
    public String monitor() {
        return "wireguard";
    }

    @Override
    public String event() {
        return initiated ? "handshake_initiated" : "handshake_completed";
    }

    @Override
    public void writeFields(FieldWriter w) {
        w.field(INTERFACE, iface);
        w.field(PEER, peer);
        w.field(ENDPOINT, endpoint);
        if (initiated) {
            w.field(RETRY, attempts);
        } else {
            w.field(ROLE, role);
            w.field(RETRIES, attempts);
        }
    }

    /** top: handshakes by interface and peer. */
    @Override
    public void tally(Tally t) {
        t.add("handshakes", iface + " " + peer, 1);
    }
}
