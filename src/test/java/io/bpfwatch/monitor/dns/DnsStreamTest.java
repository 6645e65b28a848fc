package io.bpfwatch.monitor.dns;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** DNS over TCP: messages behind two-byte lengths, however the process split its sends. */
class DnsStreamTest {
    private final DnsStream stream = new DnsStream();
    private final List<byte[]> messages = new ArrayList<>();
    private final List<Integer> lengths = new ArrayList<>();
    private long off;

    private boolean feed(byte[] chunk) {
        return feed(chunk, Math.min(chunk.length, DnsDecoder.CAPTURE));
    }

    private boolean feed(byte[] chunk, int cap) {
        boolean ok = stream.feed(off, chunk.length, chunk, cap, (buf, captured, length) -> {
            messages.add(Arrays.copyOf(buf, captured));
            lengths.add(length);
        });
        off += chunk.length;
        return ok;
    }

    static byte[] framed(byte[]... msgs) {
        Packets p = new Packets();
        for (byte[] m : msgs) p.u16(m.length).raw(m);
        return p.bytes();
    }

    @Test
    void aPrefixSentApartFromItsMessage() {
        byte[] q = Packets.query(1, "a.test", 1);
        assertThat(feed(new byte[] {0})).isTrue();
        assertThat(feed(new byte[] {(byte) q.length})).isTrue();
        assertThat(messages).isEmpty();
        assertThat(feed(Arrays.copyOf(q, 5))).isTrue();
        assertThat(feed(Arrays.copyOfRange(q, 5, q.length))).isTrue();
        assertThat(messages).singleElement().isEqualTo(q);
    }

    @Test
    void severalMessagesInOneSend() {
        byte[] a = Packets.query(1, "a.test", 1), b = Packets.query(2, "b.test", 28);
        assertThat(feed(framed(a, b))).isTrue();
        assertThat(messages).containsExactly(a, b);
    }

    @Test
    void aMessageLongerThanTheCaptureKeepsItsStartAndItsBoundary() {
        byte[] big = new byte[3000];
        byte[] head = Packets.response(5, 0, "big.test", 16);
        System.arraycopy(head, 0, big, 0, head.length);
        byte[] next = Packets.response(6, 3, "n.test", 1);
        byte[] all = framed(big, next);
        // the kernel captured only the first 512 bytes of the first call, all of the second
        assertThat(feed(Arrays.copyOf(all, 2000), DnsDecoder.CAPTURE)).isTrue();
        assertThat(feed(Arrays.copyOfRange(all, 2000, all.length), all.length - 2000)).isTrue();
        assertThat(messages).hasSize(2);
        assertThat(lengths).containsExactly(3000, next.length);
        assertThat(messages.get(0)).hasSize(DnsDecoder.CAPTURE).startsWith(head);
        assertThat(messages.get(1)).isEqualTo(next);
    }

    @Test
    void aGapInTheOffsetsKillsTheStream() {
        byte[] a = framed(Packets.query(1, "a.test", 1));
        assertThat(feed(a)).isTrue();
        off += 10; // a record the ring could not take
        assertThat(feed(a)).isFalse();
        assertThat(stream.dead()).isTrue();
        assertThat(feed(a)).as("dead streams stay quiet").isTrue();
        assertThat(messages).hasSize(1);
    }

    @Test
    void aLengthPrefixBeyondTheCaptureKillsTheStream() {
        byte[] q = Packets.query(1, "a.test", 1);
        byte[] chunk = new byte[600];
        byte[] framed = framed(new byte[597 - 2], q);
        System.arraycopy(framed, 0, chunk, 0, Math.min(600, framed.length));
        assertThat(feed(chunk, DnsDecoder.CAPTURE)).isFalse();
        assertThat(stream.dead()).isTrue();
    }

    @Test
    void emptyMessagesAreSkipped() {
        byte[] a = Packets.query(1, "a.test", 1);
        assertThat(feed(new Packets().u16(0).u16(a.length).raw(a).bytes())).isTrue();
        assertThat(messages).containsExactly(a);
    }
}
