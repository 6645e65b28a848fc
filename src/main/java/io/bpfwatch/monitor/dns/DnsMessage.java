package io.bpfwatch.monitor.dns;

import io.bpfwatch.config.IpAddress;
import io.bpfwatch.context.DnsNames;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the dns monitor reads from one DNS message (RFC 1035 4.1): the header, the first
 * question, and for responses the A/AAAA answers and the EDNS extended response code, as far
 * as the captured bytes go.
 *
 * The bytes come from whatever a process sent to or received from port 53, so they are
 * hostile: {@link #parse} never throws, never loops, never reads outside
 * {@code [start, start + length)}, and reports what stopped it in {@link #problem}.
 * Names print as dig prints them: labels joined by dots, special characters backslash-escaped,
 * non-printable bytes as \DDD; the root is ".". No trailing dot.
 */
public final class DnsMessage {
    public static final int HEADER = 12;
    /** RFC 1035 2.3.4: a name is at most 255 octets on the wire, a label at most 63. */
    public static final int MAX_NAME = 255, MAX_LABEL = 63;
    /** No legitimate name needs more than 127 compression pointers (one per label). */
    static final int MAX_POINTERS = 127;
    private static final int TYPE_A = 1, TYPE_AAAA = 28, TYPE_OPT = 41;
    /** A bound on addresses kept per response, whatever the message claims. */
    static final int MAX_ADDRESSES = 64;

    public int id;
    public int flags;
    public int qdcount, ancount, nscount, arcount;
    /** The first question's name, or null if there is none or it could not be read. */
    public String qname;
    public int qtype = -1, qclass = -1;
    /** Header RCODE, extended by the OPT record's upper bits when that was seen. */
    public int rcode;
    /** A and AAAA answers found in the captured bytes, as text. */
    public List<String> addresses = List.of();
    // those answers' bytes, back to back, for putAddresses: the text need not be parsed back,
    // nothing is allocated per answer, and the parsed buffer is not held on to
    private final byte[] addressBytes = new byte[MAX_ADDRESSES * 16];
    private final int[] addressLength = new int[MAX_ADDRESSES];
    /** The smallest TTL of those answers (seconds). */
    public long minTtl;
    /** Why reading stopped before the end of the sections, or null. */
    public String problem;

    private byte[] b;
    private int start, end;
    private Scratch scratch;

    /**
     * Tells {@code names} that this response's addresses are {@link #qname} for {@link #minTtl},
     * from the answers' bytes as they came.
     */
    public void putAddresses(DnsNames names, int netns, long nowNanos) {
        for (int i = 0; i < addresses.size(); i++) names.put(netns, addressBytes, i * 16, addressLength[i], qname, minTtl, nowNanos);
    }

    public boolean isResponse() {
        return (flags & 0x8000) != 0;
    }

    public int opcode() {
        return (flags >>> 11) & 0xf;
    }

    /** TC: the server had more to say than fit (the client usually retries over TCP). */
    public boolean truncated() {
        return (flags & 0x0200) != 0;
    }

    /** Parses {@code length} bytes at {@code start}; null if they cannot hold a header. */
    public static DnsMessage parse(byte[] bytes, int start, int length) {
        return parse(bytes, start, length, new DnsMessage(), null);
    }

    /**
     * Parses into {@code into} (every field is overwritten), with {@code scratch}'s name buffer
     * and recent names when given (the reader thread's, so a repeated name costs no String).
     * Returns {@code into}, or null (and leaves it alone) if the bytes cannot hold a header.
     */
    public static DnsMessage parse(byte[] bytes, int start, int length, DnsMessage into, Scratch scratch) {
        if (bytes == null || start < 0 || length < HEADER || start > bytes.length - length) return null;
        DnsMessage m = into;
        m.qname = null;
        m.qtype = m.qclass = -1;
        m.addresses = List.of();
        m.minTtl = 0;
        m.problem = null;
        m.b = bytes;
        m.start = start;
        m.end = length;
        m.scratch = scratch;
        m.text = scratch != null ? scratch.name : new byte[MAX_TEXT];
        m.read();
        m.b = null;
        m.scratch = null;
        m.text = null;
        return m;
    }

    /**
     * Reusable parsing state for one thread: the name buffer, and the question names seen last
     * (direct-mapped by hash), so that a name asked again and again (and its response's copy of
     * the question) is one String, not a new one per message.
     */
    public static final class Scratch {
        private static final int NAMES = 256;
        private final byte[] name = new byte[MAX_TEXT];
        private final String[] names = new String[NAMES];
        private final byte[][] nameBytes = new byte[NAMES][];

        String text(byte[] b, int len) {
            int h = 0;
            for (int i = 0; i < len; i++) h = 31 * h + b[i];
            int slot = (h ^ (h >>> 16)) & (NAMES - 1);
            byte[] k = nameBytes[slot];
            if (k != null && k.length == len && Arrays.equals(k, 0, len, b, 0, len)) return names[slot];
            k = Arrays.copyOf(b, len);
            String s = new String(k, StandardCharsets.ISO_8859_1);
            nameBytes[slot] = k;
            names[slot] = s;
            return s;
        }
    }

    /**
     * A name's text is at most this long: at most 254 octets of labels (RFC 1035's 255 with
     * the root), each shown as up to 4 characters (\DDD), and the dots between labels.
     */
    static final int MAX_TEXT = 4 * MAX_NAME + MAX_NAME / 2;

    // the first question's name as text, printable ASCII (appendLabel escapes everything else)
    private byte[] text;
    private int textLength;

    private String text() {
        return scratch != null ? scratch.text(text, textLength) : new String(text, 0, textLength, StandardCharsets.ISO_8859_1);
    }

    private int u16(int pos) {
        return ((b[start + pos] & 0xff) << 8) | (b[start + pos + 1] & 0xff);
    }

    private long u32(int pos) {
        return ((long) u16(pos) << 16) | u16(pos + 2);
    }

    private void read() {
        id = u16(0);
        flags = u16(2);
        qdcount = u16(4);
        ancount = u16(6);
        nscount = u16(8);
        arcount = u16(10);
        rcode = flags & 0xf;
        int pos = HEADER;
        for (int q = 0; q < qdcount; q++) {
            textLength = 0;
            pos = name(pos, q == 0);
            if (pos < 0) return;
            if (pos + 4 > end) {
                problem = "question " + (q + 1) + " is cut short";
                if (q == 0) qname = text();
                return;
            }
            if (q == 0) {
                qname = text();
                qtype = u16(pos);
                qclass = u16(pos + 2);
            }
            pos += 4;
        }
        List<String> found = null;
        int records = ancount + nscount + arcount;
        for (int r = 0; r < records; r++) {
            pos = name(pos, false);
            if (pos < 0) return;
            if (pos + 10 > end) {
                problem = "record " + (r + 1) + " is cut short";
                break;
            }
            int type = u16(pos);
            long ttl = u32(pos + 4);
            int rdlen = u16(pos + 8);
            pos += 10;
            if (pos + rdlen > end) {
                problem = "record " + (r + 1) + " data is cut short";
                break;
            }
            if (r < ancount && (type == TYPE_A && rdlen == 4 || type == TYPE_AAAA && rdlen == 16)) {
                if (found == null) {
                    found = new ArrayList<>(4);
                    minTtl = ttl;
                } else if (ttl < minTtl) {
                    minTtl = ttl;
                }
                if (found.size() < MAX_ADDRESSES) {
                    addressLength[found.size()] = rdlen;
                    System.arraycopy(b, start + pos, addressBytes, found.size() * 16, rdlen);
                    found.add(IpAddress.format(b, start + pos, rdlen));
                }
            } else if (r >= ancount + nscount && type == TYPE_OPT) {
                rcode = (int) (((ttl >>> 24) & 0xff) << 4) | (flags & 0xf);
            }
            pos += rdlen;
        }
        if (found != null) addresses = found;
    }

    /**
     * Reads the name at {@code pos} into {@link #text} if {@code keep} (or just skips it); returns the position
     * after it, or -1 with {@link #problem} set. Every pointer must point before the run of
     * labels it ends, so the walk only ever moves backwards between runs: no loop can form.
     */
    private int name(int pos, boolean keep) {
        int runStart = pos;
        int after = -1;
        int wire = 0;
        int pointers = 0;
        while (true) {
            if (pos >= end) {
                problem = "name at offset " + runStart + " runs past the end";
                return -1;
            }
            int len = b[start + pos] & 0xff;
            if ((len & 0xc0) == 0xc0) {
                if (pos + 1 >= end) {
                    problem = "compression pointer at offset " + pos + " is cut short";
                    return -1;
                }
                int target = ((len & 0x3f) << 8) | (b[start + pos + 1] & 0xff);
                if (target >= runStart) {
                    problem = "compression pointer at offset " + pos + " points forward or into itself (" + target + ")";
                    return -1;
                }
                if (++pointers > MAX_POINTERS) {
                    problem = "more than " + MAX_POINTERS + " compression pointers in one name";
                    return -1;
                }
                if (after < 0) after = pos + 2;
                pos = runStart = target;
                continue;
            }
            if (len > MAX_LABEL) {
                problem = "label type 0x" + Integer.toHexString(len >>> 6) + " at offset " + pos + " is not supported";
                return -1;
            }
            if (len == 0) {
                if (keep && textLength == 0) text[textLength++] = '.';
                return after < 0 ? pos + 1 : after;
            }
            wire += len + 1;
            if (wire + 1 > MAX_NAME) {
                problem = "name longer than " + MAX_NAME + " octets";
                return -1;
            }
            if (pos + 1 + len > end) {
                problem = "label at offset " + pos + " runs past the end";
                return -1;
            }
            if (keep) {
                if (textLength > 0) text[textLength++] = '.';
                textLength = appendLabel(text, textLength, b, start + pos + 1, len);
            }
            pos += 1 + len;
        }
    }

    /**
     * dig's presentation format: specials escaped with a backslash, the rest as \DDD; into
     * {@code out} at {@code at}, returning where it ends.
     */
    static int appendLabel(byte[] out, int at, byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            int c = b[off + i] & 0xff;
            switch (c) {
                case '.', '\\', '"', '(', ')', ';', '@', '$' -> {
                    out[at++] = '\\';
                    out[at++] = (byte) c;
                }
                default -> {
                    if (c > 0x20 && c < 0x7f) {
                        out[at++] = (byte) c;
                    } else {
                        out[at++] = '\\';
                        out[at++] = (byte) ('0' + c / 100);
                        out[at++] = (byte) ('0' + c / 10 % 10);
                        out[at++] = (byte) ('0' + c % 10);
                    }
                }
            }
        }
        return at;
    }
}
