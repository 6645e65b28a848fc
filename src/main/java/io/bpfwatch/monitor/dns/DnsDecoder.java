package io.bpfwatch.monitor.dns;

import io.bpfwatch.config.IpAddress;
import io.bpfwatch.context.ProcessContext;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.monitor.Decoder;

import java.nio.ByteBuffer;

/**
 * Decodes {@code struct dns_event} (monitors/dns/dns.h) into a reused {@link Record}: the
 * record returned is valid until the next decode.
 * Records are variable-length: the fixed part, then {@code cap} captured bytes. Offsets are
 * checked against the compiled object's BTF by EventLayoutTest.
 */
public final class DnsDecoder implements Decoder<DnsDecoder.Record> {
    private static final int H = EventHeader.SIZE;
    public static final int CONN = H, STREAM_OFF = H + 8, LEN = H + 16, CAP = H + 20, TRANSPORT = H + 22, SYSCALL = H + 23,
            FAMILY = H + 24, PORT = H + 26, ADDR = H + 32, DATA = H + 48;
    public static final int CAPTURE = 512;
    public static final int SIZE = DATA + CAPTURE;
    public static final int REC_SEND = 1, REC_RECV = 2, REC_TLS = 3, REC_CLOSE = 4;
    public static final int UDP = 1, TCP = 2, TLS = 3;
    static final int AF_INET = 2, AF_INET6 = 10;

    /** One kernel record; valid until the next decode. */
    public static final class Record {
        public int type;
        public long ts;
        public long time;
        public int pid, uid;
        public String comm;
        /** The process context the monitor asked for, or null. */
        public ProcessContext context;
        /** The network namespace (inode) of the process. */
        public int netns;
        public long conn;
        public long streamOff;
        public int len;
        public int cap;
        public int transport;
        public int syscall;
        public int port;
        /** The server as text, or null when the kernel did not know it. */
        public String server;
        public final byte[] data = new byte[CAPTURE];
    }

    private final EventHeader header;
    private final Record record = new Record();
    private final byte[] addr = new byte[16];
    private String lastServer;
    private final byte[] lastAddr = new byte[17];

    public DnsDecoder(EventHeader header) {
        this.header = header;
    }

    @Override
    public Record decode(ByteBuffer b, int off, int len) throws Refused {
        Record r = record;
        if (len < DATA) throw new Refused("dns record of " + len + " bytes, shorter than its fixed part (" + DATA + ")");
        int type = header.type(b, off);
        if (type < REC_SEND || type > REC_CLOSE) throw new Refused("dns record of unknown type " + type);
        int cap = b.getShort(off + CAP) & 0xffff;
        if (cap > CAPTURE || DATA + cap > len) throw new Refused("dns record claims " + cap + " captured bytes in " + len);
        r.type = type;
        r.ts = b.getLong(off + EventHeader.TS_NS);
        r.time = header.time(b, off);
        r.pid = header.pid(b, off);
        r.uid = header.uid(b, off);
        r.comm = header.comm(b, off);
        r.netns = header.netns(b, off);
        // the context of the process that sends a query is the one its event carries; of a
        // response's receiver (usually the same process) nothing is needed
        r.context = type == REC_RECV || type == REC_CLOSE ? null : header.context(b, off);
        r.conn = b.getLong(off + CONN);
        r.streamOff = b.getLong(off + STREAM_OFF);
        r.len = b.getInt(off + LEN);
        r.cap = cap;
        r.transport = b.get(off + TRANSPORT) & 0xff;
        r.syscall = b.get(off + SYSCALL) & 0xff;
        r.port = b.getShort(off + PORT) & 0xffff;
        r.server = server(b, off, b.getShort(off + FAMILY) & 0xffff);
        b.get(off + DATA, r.data, 0, cap);
        return r;
    }

    /** The address as text; consecutive records usually name the same server, so it is cached. */
    private String server(ByteBuffer b, int off, int family) {
        int n;
        if (family == AF_INET) n = 4;
        else if (family == AF_INET6) n = 16;
        else return null;
        b.get(off + ADDR, addr, 0, n);
        if (n == 16 && IpAddress.isV4Mapped(addr, 0)) {
            // a dual-stack socket talking IPv4: report what the wire carries
            System.arraycopy(addr, 12, addr, 0, 4);
            n = 4;
        }
        boolean same = lastServer != null && lastAddr[16] == n;
        for (int i = 0; same && i < n; i++) same = lastAddr[i] == addr[i];
        if (!same) {
            lastServer = IpAddress.format(addr, 0, n);
            System.arraycopy(addr, 0, lastAddr, 0, n);
            lastAddr[16] = (byte) n;
        }
        return lastServer;
    }
}
