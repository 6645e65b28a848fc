package io.bpfwatch.monitor.tcp;

import io.bpfwatch.config.IpAddress;
import io.bpfwatch.context.DnsNames;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.monitor.Decoder;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes {@code struct tcp_event} (monitors/tcp/tcp.h). Offsets are checked against the
 * compiled object's BTF by TcpEventLayoutTest.
 */
public final class TcpDecoder implements Decoder<TcpEvent> {
    private static final int H = EventHeader.SIZE;
    public static final int FAMILY = H, SPORT = H + 2, DPORT = H + 4, TRIGGER = H + 6, SADDR = H + 8, DADDR = H + 24;
    public static final int SIZE = H + 40;
    public static final int AF_INET = 2, AF_INET6 = 10;

    private final EventHeader header;
    private final TcpAlertRules rules;
    private final DnsNames.Reader names;

    public TcpDecoder(EventHeader header, TcpAlertRules rules) {
        this(header, rules, null);
    }

    /** {@code names}: where destinations' names come from (null: none). */
    public TcpDecoder(EventHeader header, TcpAlertRules rules, DnsNames.Reader names) {
        this.header = header;
        this.rules = rules;
        this.names = names;
    }

    @Override
    public TcpEvent decode(ByteBuffer b, int off, int len) throws Refused {
        if (len < SIZE) throw new Refused("tcp record of " + len + " bytes, expected " + SIZE);
        int family = b.getShort(off + FAMILY) & 0xffff;
        boolean v6;
        if (family == AF_INET) {
            v6 = false;
        } else if (family == AF_INET6) {
            v6 = true;
        } else {
            throw new Refused("tcp record with address family " + family);
        }
        byte[] addrs = new byte[32];
        int n = v6 ? 16 : 4;
        b.get(off + SADDR, addrs, 0, n);
        b.get(off + DADDR, addrs, 16, n);
        if (v6 && IpAddress.isV4Mapped(addrs, 16)) {
            // An IPv4 connection from a dual-stack socket (Java, Go, many daemons): report what
            // the wire carries, 127.0.0.1 rather than ::ffff:127.0.0.1.
            v6 = false;
            n = 4;
            boolean srcMapped = IpAddress.isV4Mapped(addrs, 0);
            for (int i = 0; i < 4; i++) {
                addrs[i] = srcMapped ? addrs[12 + i] : 0;
                addrs[16 + i] = addrs[28 + i];
            }
            Arrays.fill(addrs, 4, 16, (byte) 0);
            Arrays.fill(addrs, 20, 32, (byte) 0);
        }
        int dport = b.getShort(off + DPORT) & 0xffff;
        if (names == null) return new TcpEvent(header, b, off, v6, addrs, null, rules.match(addrs, 16, n, dport, null));
        int netns = header.netns(b, off);
        String name = names.lookup(netns, addrs, 16, n, b.getLong(off + EventHeader.TS_NS));
        if (name == DnsNames.PENDING) {
            // its rules wait for the name too (a domain rule may match it)
            return new TcpEvent(header, b, off, v6, addrs, null, List.of(), names.pendingMark(), netns, System.nanoTime());
        }
        return new TcpEvent(header, b, off, v6, addrs, name, rules.match(addrs, 16, n, dport, name));
    }

    /**
     * A connect held back for its name, named: null while the dns monitor may still bring the
     * name (ask again later); with {@code force} (stopping, too many held), named with what is
     * known now.
     */
    public TcpEvent name(TcpEvent held, long now, boolean force) {
        int n = held.ipv6 ? 16 : 4;
        String name = names.resolve(held.netns, held.addrs, 16, n, held.nameMark, held.heldSince, now, force);
        if (name == DnsNames.PENDING) return null;
        return held.named(name, rules.match(held.addrs, 16, n, held.dport, name));
    }
}
