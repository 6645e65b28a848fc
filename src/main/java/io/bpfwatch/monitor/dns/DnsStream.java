package io.bpfwatch.monitor.dns;

/**
 * One direction of a DNS-over-TCP connection (RFC 1035 4.2.2, RFC 7766): messages, each
 * behind a two-byte length, split across or packed into send/receive calls however the
 * process liked. The kernel reports each call's bytes with their offset in the stream and
 * the first {@link DnsDecoder#CAPTURE} of them; this reassembles the first CAPTURE bytes of
 * every message. A gap in the offsets (a record lost to a full ring) or a length prefix the
 * capture did not include means message boundaries are unknown from then on: the stream goes
 * dead and the caller counts it.
 */
final class DnsStream {
    interface Messages {
        void message(byte[] buf, int captured, int length);
    }

    private long next;
    private boolean dead;
    private int prefixBytes;   // 0 or 1 byte of the length prefix seen
    private int prefix;
    private boolean inMessage;
    private int length, consumed;
    private final byte[] buf = new byte[DnsDecoder.CAPTURE];
    private int buffered;

    boolean dead() {
        return dead;
    }

    /**
     * Feeds one call's bytes: {@code len} moved at stream offset {@code off}, the first
     * {@code cap} of them in {@code data}. Returns false if this made the stream go dead.
     */
    boolean feed(long off, int len, byte[] data, int cap, Messages out) {
        if (dead) return true;
        if (off != next || len < 0) {
            dead = true;
            return false;
        }
        next += len;
        int i = 0;
        while (i < len) {
            if (!inMessage) {
                if (i >= cap) {
                    dead = true;
                    return false;
                }
                prefix = (prefix << 8) | (data[i++] & 0xff);
                if (++prefixBytes < 2) continue;
                length = prefix & 0xffff;
                prefix = 0;
                prefixBytes = 0;
                consumed = 0;
                buffered = 0;
                inMessage = length > 0;
                continue;
            }
            int take = Math.min(len - i, length - consumed);
            int copy = Math.min(Math.min(take, Math.max(0, cap - i)), buf.length - buffered);
            if (copy > 0) {
                System.arraycopy(data, i, buf, buffered, copy);
                buffered += copy;
            }
            i += take;
            consumed += take;
            if (consumed == length) {
                inMessage = false;
                out.message(buf, buffered, length);
            }
        }
        return true;
    }
}
