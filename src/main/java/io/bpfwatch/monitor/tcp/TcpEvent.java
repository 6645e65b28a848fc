package io.bpfwatch.monitor.tcp;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.EventHeader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** An outgoing TCP connect attempt (tcp.log, event "connect"). */
public final class TcpEvent extends Event {
    public final boolean ipv6;
    public final int sport;
    public final int dport;
    /** saddr in [0,16), daddr in [16,32); IPv4 uses the first 4 bytes of each. */
    public final byte[] addrs;
    public final List<String> rules;

    TcpEvent(EventHeader h, ByteBuffer b, int off, boolean ipv6, byte[] addrs, List<String> rules) {
        super(h, b, off);
        this.ipv6 = ipv6;
        this.sport = b.getShort(off + TcpDecoder.SPORT) & 0xffff;
        this.dport = b.getShort(off + TcpDecoder.DPORT) & 0xffff;
        this.addrs = addrs;
        this.rules = rules;
    }

    @Override
    public String monitor() {
        return "tcp";
    }

    @Override
    public String event() {
        return "connect";
    }

    public String saddr() {
        return AddressText.of(addrs, 0, ipv6 ? 16 : 4);
    }

    public String daddr() {
        return AddressText.of(addrs, 16, ipv6 ? 16 : 4);
    }

    @Override
    public void writeFields(JsonGenerator g) throws IOException {
        g.writeStringField("family", ipv6 ? "ipv6" : "ipv4");
        g.writeStringField("saddr", saddr());
        g.writeNumberField("sport", sport);
        g.writeStringField("daddr", daddr());
        g.writeNumberField("dport", dport);
        g.writeBooleanField("alert", !rules.isEmpty());
        g.writeArrayFieldStart("rules");
        for (String r : rules) g.writeString(r);
        g.writeEndArray();
    }
}
