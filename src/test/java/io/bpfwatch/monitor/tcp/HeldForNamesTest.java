package io.bpfwatch.monitor.tcp;

import io.bpfwatch.context.DnsNames;
import io.bpfwatch.event.EventHeader;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Connects whose names the dns reader has not brought yet are held back, in order, and released named. */
class HeldForNamesTest {
    /** A dns ring whose reader has handled everything up to {@code consumed}. */
    private static final class Ring implements DnsNames.Fence {
        final AtomicLong produced = new AtomicLong(), consumed = new AtomicLong();

        @Override
        public long mark() {
            return produced.get();
        }

        @Override
        public boolean passed(long mark) {
            return consumed.get() >= mark;
        }

        @Override
        public void wake() {
        }
    }

    /** A tcp_event record: a connect to 192.0.2.{last}:443 made now, in netns 0. */
    private static ByteBuffer connect(int last) {
        ByteBuffer b = ByteBuffer.allocate(TcpDecoder.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(EventHeader.TS_NS, System.nanoTime());
        b.putInt(EventHeader.PID, 100 + last);
        b.put(EventHeader.COMM, "curl".getBytes());
        b.putShort(TcpDecoder.FAMILY, (short) TcpDecoder.AF_INET);
        b.putShort(TcpDecoder.SPORT, (short) 40000);
        b.putShort(TcpDecoder.DPORT, (short) 443);
        b.put(TcpDecoder.SADDR, new byte[] {10, 0, 0, 1});
        b.put(TcpDecoder.DADDR, new byte[] {(byte) 192, 0, 2, (byte) last});
        return b;
    }

    private final DnsNames names = new DnsNames(64);
    private final Ring ring = new Ring();
    private final TcpDecoder decoder = new TcpDecoder(new EventHeader(),
            new TcpAlertRules(new TcpSettings(List.of(), List.of(), List.of(), List.of("*.lab.test"))), names.reader());
    private final List<TcpEvent> out = new ArrayList<>();

    HeldForNamesTest() {
        names.fence(ring);
    }

    @Test
    void aConnectHeldForItsNameKeepsTheOnesAfterItBehindAndIsWrittenNamedWithItsDomainRule() throws Exception {
        HeldForNames held = new HeldForNames(decoder, out::add, 100);
        ring.produced.set(10); // the answer for .1 is in the dns ring, unread
        TcpEvent first = decoder.decode(connect(1), 0, TcpDecoder.SIZE);
        assertThat(first.namePending()).isTrue();
        held.accept(first);
        TcpEvent second = decoder.decode(connect(2), 0, TcpDecoder.SIZE);
        held.accept(second);
        held.release(System.nanoTime(), 0);
        assertThat(out).as("nothing overtakes the held connect").isEmpty();
        assertThat(held.size()).isEqualTo(2);

        names.put(0, "192.0.2.1", "www.lab.test", 300, System.nanoTime());
        ring.consumed.set(10);
        held.release(System.nanoTime(), 0);
        assertThat(out).extracting(TcpEvent::daddr).containsExactly("192.0.2.1", "192.0.2.2");
        assertThat(out.get(0).dns).isEqualTo("www.lab.test");
        assertThat(out.get(0).rules).containsExactly("domain:*.lab.test");
        assertThat(out.get(0).namePending()).isFalse();
        assertThat(out.get(0).pid).isEqualTo(101);
        assertThat(out.get(0).time).isEqualTo(first.time);
        assertThat(out.get(1).dns).isNull();
        assertThat(held.size()).isZero();
        assertThat(names.gaveUp()).isZero();
    }

    @Test
    void pastItsLimitTheOldestGoesWithWhatIsKnownAndStoppingReleasesAll() throws Exception {
        HeldForNames held = new HeldForNames(decoder, out::add, 2);
        ring.produced.set(10); // never read
        for (int i = 1; i <= 3; i++) held.accept(decoder.decode(connect(i), 0, TcpDecoder.SIZE));
        assertThat(out).extracting(TcpEvent::daddr).containsExactly("192.0.2.1");
        assertThat(held.size()).isEqualTo(2);
        held.release(System.nanoTime(), Integer.MAX_VALUE); // stopping
        assertThat(out).extracting(TcpEvent::daddr).containsExactly("192.0.2.1", "192.0.2.2", "192.0.2.3");
        assertThat(out).allSatisfy(e -> assertThat(e.namePending()).isFalse());
    }

    @Test
    void withTheDnsReaderUpToDateNothingIsHeld() throws Exception {
        HeldForNames held = new HeldForNames(decoder, out::add, 100);
        names.put(0, "192.0.2.7", "api.lab.test", 300, System.nanoTime());
        TcpEvent e = decoder.decode(connect(7), 0, TcpDecoder.SIZE);
        held.accept(e);
        assertThat(out).containsExactly(e);
        assertThat(e.dns).isEqualTo("api.lab.test");
        assertThat(names.waits()).isZero();
    }
}
