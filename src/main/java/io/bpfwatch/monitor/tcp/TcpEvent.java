package io.bpfwatch.monitor.tcp;

import io.bpfwatch.event.Event;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;
import io.bpfwatch.top.TallyKeys;

import java.nio.ByteBuffer;
import java.util.List;

/** An outgoing TCP connect attempt (tcp.log, event "connect"). */
public final class TcpEvent extends Event {
    private static final Name FAMILY = Name.of("family"), SADDR = Name.of("saddr"), SPORT = Name.of("sport"),
            DADDR = Name.of("daddr"), DPORT = Name.of("dport"), DNS = Name.of("dns"), ALERT = Name.of("alert"),
            RULES = Name.of("rules");

    public final boolean ipv6;
    public final int sport;
    public final int dport;
    /** saddr in [0,16), daddr in [16,32); IPv4 uses the first 4 bytes of each. */
    public final byte[] addrs;
    public final List<String> rules;
    /** The name this namespace's processes last resolved to daddr (from the dns monitor), or null. */
    public final String dns;

    /** Held back for its name (see {@link io.bpfwatch.context.DnsNames.Reader#resolve}): the dns ring's position to wait for, else 0. */
    final long nameMark;
    /** Its network namespace and when it was held back, for naming it later. */
    final int netns;
    final long heldSince;

    TcpEvent(EventHeader h, ByteBuffer b, int off, boolean ipv6, byte[] addrs, String dns, List<String> rules) {
        this(h, b, off, ipv6, addrs, dns, rules, 0, 0, 0);
    }

    TcpEvent(EventHeader h, ByteBuffer b, int off, boolean ipv6, byte[] addrs, String dns, List<String> rules, long nameMark,
             int netns, long heldSince) {
        super(h, b, off);
        this.ipv6 = ipv6;
        this.sport = b.getShort(off + TcpDecoder.SPORT) & 0xffff;
        this.dport = b.getShort(off + TcpDecoder.DPORT) & 0xffff;
        this.addrs = addrs;
        this.dns = dns;
        this.rules = rules;
        this.nameMark = nameMark;
        this.netns = netns;
        this.heldSince = heldSince;
    }

    /** This connect with the name it waited for and the rules that apply with it. */
    private TcpEvent(TcpEvent held, String dns, List<String> rules) {
        super(held.time, held.pid, held.uid, held.comm, held.context);
        this.ipv6 = held.ipv6;
        this.sport = held.sport;
        this.dport = held.dport;
        this.addrs = held.addrs;
        this.dns = dns;
        this.rules = rules;
        this.nameMark = 0;
        this.netns = held.netns;
        this.heldSince = 0;
    }

    TcpEvent named(String dns, List<String> rules) {
        return new TcpEvent(this, dns, rules);
    }

    /** Whether it waits for the dns monitor to name its destination before it is written. */
    public boolean namePending() {
        return nameMark != 0;
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
    public void writeFields(FieldWriter w) {
        w.field(FAMILY, ipv6 ? "ipv6" : "ipv4");
        w.field(SADDR, saddr());
        w.field(SPORT, sport);
        w.field(DADDR, daddr());
        w.field(DPORT, dport);
        if (dns != null) {
            w.name(DNS);
            w.latin1(dns); // a question's name as DnsMessage reads it: printable ASCII
        }
        w.field(ALERT, !rules.isEmpty());
        w.field(RULES, rules);
    }

    /** top: destinations ("name 192.0.2.1:443", "[2001:db8::1]:443") and alerting processes. */
    @Override
    public void tally(Tally t) {
        t.add("destinations", TallyKeys.of(DESTINATION, daddr(), dns, dport), 1);
        if (!rules.isEmpty()) t.add("alerting", who(), 1);
    }

    /** "name 192.0.2.1:443", "[2001:db8::1]:443": an IPv6 address's text, and only that, has a ':'. */
    private static final TallyKeys.Text DESTINATION = (a, name, port) -> {
        String dest = (a.indexOf(':') >= 0 ? "[" + a + "]" : a) + ":" + port;
        return name == null ? dest : name + " " + dest;
    };

    private String who() {
        String unit = context == null ? null : context.unit;
        return comm + "[" + pid + "]" + (unit == null ? "" : " " + unit) + " " + String.join(",", rules);
    }
}
