package io.bpfwatch.context;

import io.bpfwatch.config.IpAddress;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class DnsNamesTest {
    private static final int NS = (int) 4026531840L, OTHER_NS = (int) 4026532297L; // namespace inodes are u32

    /** A dns ring whose reader has handled everything up to {@code consumed}. */
    private static class Ring implements DnsNames.Fence {
        final AtomicLong produced = new AtomicLong(), consumed = new AtomicLong();
        int wakes, passedAsked;

        @Override
        public long mark() {
            return produced.get();
        }

        @Override
        public boolean passed(long mark) {
            passedAsked++;
            return consumed.get() >= mark;
        }

        @Override
        public void wake() {
            wakes++;
        }
    }

    private static byte[] ip(String s) {
        return IpAddress.parse(s);
    }

    @Test
    void aNameIsFoundOnlyInTheNamespaceThatResolvedIt() {
        DnsNames names = new DnsNames(16);
        long now = System.nanoTime();
        names.put(NS, "192.0.2.10", "www.lab.test", 300, now);
        assertThat(names.get(NS, ip("192.0.2.10"), 0, 4, now)).isEqualTo("www.lab.test");
        assertThat(names.get(OTHER_NS, ip("192.0.2.10"), 0, 4, now)).isNull();
        assertThat(names.get(NS, ip("192.0.2.11"), 0, 4, now)).isNull();
    }

    @Test
    void anAnswersBytesAndItsTextAreTheSameKey() {
        DnsNames names = new DnsNames(16);
        long now = System.nanoTime();
        byte[] buf = new byte[32];
        System.arraycopy(ip("2001:db8::20"), 0, buf, 3, 16);
        System.arraycopy(ip("192.0.2.20"), 0, buf, 19, 4);
        names.put(NS, buf, 3, 16, "bytes.lab.test", 300, now);
        names.put(NS, buf, 19, 4, "bytes4.lab.test", 300, now);
        names.put(NS, buf, 0, 5, "wrong.length.test", 300, now);
        assertThat(names.size()).isEqualTo(2);
        assertThat(names.get(NS, ip("2001:db8::20"), 0, 16, now)).isEqualTo("bytes.lab.test");
        assertThat(names.get(NS, ip("::ffff:192.0.2.20"), 0, 16, now)).isEqualTo("bytes4.lab.test");
        names.put(NS, "192.0.2.20", "text.lab.test", 300, now);
        assertThat(names.size()).as("the text put replaced the bytes put").isEqualTo(2);
        assertThat(names.get(NS, ip("192.0.2.20"), 0, 4, now)).isEqualTo("text.lab.test");
    }

    @Test
    void ipv6AndIpv4MappedAddressesAreKeyedAsTheyAreOnTheWire() {
        DnsNames names = new DnsNames(16);
        long now = System.nanoTime();
        names.put(NS, "2001:db8::10", "six.lab.test", 300, now);
        names.put(NS, "192.0.2.10", "four.lab.test", 300, now);
        assertThat(names.get(NS, ip("2001:db8::10"), 0, 16, now)).isEqualTo("six.lab.test");
        assertThat(names.get(NS, ip("::ffff:192.0.2.10"), 0, 16, now)).isEqualTo("four.lab.test");
    }

    @Test
    void anEntryLivesItsTtlButAtLeastAMinute() {
        DnsNames names = new DnsNames(16);
        long now = System.nanoTime();
        names.put(NS, "192.0.2.1", "short.test", 5, now);
        names.put(NS, "192.0.2.2", "long.test", 3600, now);
        long later = now + DnsNames.MIN_TTL_NANOS - 1;
        assertThat(names.get(NS, ip("192.0.2.1"), 0, 4, later)).isEqualTo("short.test");
        long afterMinute = now + DnsNames.MIN_TTL_NANOS + 1;
        assertThat(names.get(NS, ip("192.0.2.1"), 0, 4, afterMinute)).isNull();
        assertThat(names.get(NS, ip("192.0.2.2"), 0, 4, afterMinute)).isEqualTo("long.test");
        assertThat(names.get(NS, ip("192.0.2.2"), 0, 4, now + 3601_000_000_000L)).isNull();
        assertThat(names.size()).as("expired entries are dropped when met").isZero();
    }

    @Test
    void theOldestAnswersGoFirstPastTheBound() {
        DnsNames names = new DnsNames(3);
        long now = System.nanoTime();
        for (int i = 1; i <= 5; i++) names.put(NS, "192.0.2." + i, "n" + i + ".test", 300, now);
        assertThat(names.size()).isEqualTo(3);
        assertThat(names.get(NS, ip("192.0.2.1"), 0, 4, now)).isNull();
        assertThat(names.get(NS, ip("192.0.2.5"), 0, 4, now)).isEqualTo("n5.test");
        names.put(NS, "192.0.2.3", "again.test", 300, now); // refreshed: now the newest
        names.put(NS, "192.0.2.6", "n6.test", 300, now);
        assertThat(names.get(NS, ip("192.0.2.3"), 0, 4, now)).isEqualTo("again.test");
        assertThat(names.get(NS, ip("192.0.2.4"), 0, 4, now)).isNull();
    }

    @Test
    void garbageAddressesAndEmptyNamesAreIgnored() {
        DnsNames names = new DnsNames(16);
        names.put(NS, "not an address", "x.test", 300, System.nanoTime());
        names.put(NS, "192.0.2.1", "", 300, System.nanoTime());
        assertThat(names.size()).isZero();
    }

    @Test
    void withoutARunningDnsMonitorNothingIsNamedOrAwaited() {
        DnsNames names = new DnsNames(16);
        long now = System.nanoTime();
        names.put(NS, "192.0.2.1", "x.test", 300, now);
        assertThat(names.reader().lookup(NS, ip("192.0.2.1"), 0, 4, now)).isNull();
    }

    @Test
    void aConnectIsNamedByWhatWasValidAtItsOwnTime() {
        DnsNames names = new DnsNames(16);
        Ring ring = new Ring(); // everything read: nothing to wait for
        names.fence(ring);
        long answered = System.nanoTime() - DnsNames.MIN_TTL_NANOS - 10_000_000_000L; // long enough ago to have expired since
        names.put(NS, "192.0.2.30", "old.lab.test", 5, answered);
        DnsNames.Reader reader = names.reader();
        assertThat(reader.lookup(NS, ip("192.0.2.30"), 0, 4, answered + 1_000_000_000L))
                .as("a connect made while the name was valid, read after it expired").isEqualTo("old.lab.test");
        assertThat(reader.lookup(NS, ip("192.0.2.30"), 0, 4, System.nanoTime())).as("a connect made now").isNull();
    }

    @Test
    void aConnectWaitsForTheAnswerStillInTheDnsRing() throws Exception {
        DnsNames names = new DnsNames(16);
        Ring ring = new Ring();
        names.fence(ring);
        ring.produced.set(100); // the answer is in the ring, not yet read
        long connectTs = System.nanoTime();
        Thread dnsReader = new Thread(() -> {
            names.put(NS, "192.0.2.10", "www.lab.test", 300, System.nanoTime());
            ring.consumed.set(100);
        });
        DnsNames.Reader reader = names.reader();
        dnsReader.start();
        String name = reader.lookup(NS, ip("192.0.2.10"), 0, 4, connectTs);
        if (name == DnsNames.PENDING) { // the dns reader took longer than the moment the tcp reader waits (a loaded machine)
            long mark = reader.pendingMark();
            dnsReader.join();
            name = reader.resolve(NS, ip("192.0.2.10"), 0, 4, mark, connectTs, System.nanoTime(), false);
        }
        assertThat(name).isEqualTo("www.lab.test");
        dnsReader.join();
        assertThat(ring.wakes).as("a sleeping dns reader is woken").isLessThanOrEqualTo(1);
        assertThat(names.gaveUp()).isZero();
    }

    @Test
    void aConnectTheDnsReaderIsSlowForIsHeldBackAndNamedOnceItCatchesUp() {
        DnsNames names = new DnsNames(16);
        Ring ring = new Ring();
        names.fence(ring);
        ring.produced.set(100);
        DnsNames.Reader reader = names.reader();
        long ts = System.nanoTime();
        long t0 = System.nanoTime();
        assertThat(reader.lookup(NS, ip("192.0.2.10"), 0, 4, ts)).isSameAs(DnsNames.PENDING);
        long waited = System.nanoTime() - t0;
        assertThat(waited).as("the tcp reader waits a moment, not the whole hold").isLessThan(DnsNames.MAX_WAIT_NANOS);
        long mark = reader.pendingMark();
        assertThat(mark).isEqualTo(100);
        // a second connect while the first is held back: held back at once, no second wait
        ring.produced.set(150);
        long t1 = System.nanoTime();
        assertThat(reader.lookup(NS, ip("192.0.2.11"), 0, 4, ts + 1)).isSameAs(DnsNames.PENDING);
        assertThat(System.nanoTime() - t1).isLessThan(DnsNames.INLINE_WAIT_NANOS);
        assertThat(reader.pendingMark()).isEqualTo(150);
        assertThat(reader.resolve(NS, ip("192.0.2.10"), 0, 4, mark, t0, System.nanoTime(), false)).as("not read yet").isSameAs(DnsNames.PENDING);

        names.put(NS, "192.0.2.10", "www.lab.test", 300, System.nanoTime());
        ring.consumed.set(100);
        assertThat(reader.resolve(NS, ip("192.0.2.10"), 0, 4, mark, t0, System.nanoTime(), false)).isEqualTo("www.lab.test");
        assertThat(reader.resolve(NS, ip("192.0.2.11"), 0, 4, 150, t0, System.nanoTime(), false)).isSameAs(DnsNames.PENDING);
        assertThat(names.waits()).isEqualTo(2);
        assertThat(names.gaveUp()).isZero();
    }

    @Test
    void aRingReadToItsEndAndUnchangedAnswersAtOnceButAnAnswerThatCameAfterIsStillFound() {
        DnsNames names = new DnsNames(16);
        Ring ring = new Ring();
        ring.produced.set(500);
        ring.consumed.set(500); // read to its end
        names.fence(ring);
        DnsNames.Reader reader = names.reader();
        assertThat(reader.lookup(NS, ip("192.0.2.40"), 0, 4, System.nanoTime())).isNull();
        int asked = ring.passedAsked;
        assertThat(reader.lookup(NS, ip("192.0.2.40"), 0, 4, System.nanoTime())).as("the ring has not moved").isNull();
        assertThat(ring.passedAsked).as("answered without asking the ring again").isEqualTo(asked);
        // an answer enters the ring and is read: the ring moved, so the next connect looks again
        ring.produced.set(600);
        names.put(NS, "192.0.2.40", "after.lab.test", 300, System.nanoTime());
        ring.consumed.set(600);
        assertThat(reader.lookup(NS, ip("192.0.2.40"), 0, 4, System.nanoTime())).isEqualTo("after.lab.test");
        assertThat(reader.lookup(NS, ip("192.0.2.49"), 0, 4, System.nanoTime())).as("read to its end again, at 600").isNull();
        // a restarted dns monitor's ring may stand at the same position with records not yet
        // read: its reader, woken, handles the answer
        Ring restarted = new Ring() {
            @Override
            public void wake() {
                names.put(NS, "192.0.2.41", "restarted.lab.test", 300, System.nanoTime());
                consumed.set(600);
            }
        };
        restarted.produced.set(600);
        names.fence(restarted);
        String name = reader.lookup(NS, ip("192.0.2.41"), 0, 4, System.nanoTime());
        assertThat(name).as("the new ring's position is not taken for the old one's").isEqualTo("restarted.lab.test");
    }

    @Test
    void onceTheRingIsReadPastAConnectLaterConnectsBeforeThatDoNotWait() {
        DnsNames names = new DnsNames(16);
        Ring ring = new Ring();
        names.fence(ring);
        DnsNames.Reader reader = names.reader();
        long ts = System.nanoTime();
        assertThat(reader.lookup(NS, ip("192.0.2.10"), 0, 4, ts)).isNull();
        ring.produced.set(1_000); // records arrive that no one reads
        assertThat(reader.lookup(NS, ip("192.0.2.11"), 0, 4, ts)).as("made before the ring was seen read").isNull();
        assertThat(names.waits()).isZero();
    }

    @Test
    void aStuckDnsReaderHoldsAConnectBackAtMostTheLimitThenNothingWaitsUntilItCatchesUp() {
        DnsNames names = new DnsNames(16);
        Ring ring = new Ring();
        names.fence(ring);
        ring.produced.set(1_000); // never consumed
        DnsNames.Reader reader = names.reader();
        long ts = System.nanoTime();
        assertThat(reader.lookup(NS, ip("192.0.2.10"), 0, 4, ts)).isSameAs(DnsNames.PENDING);
        long mark = reader.pendingMark();
        long heldSince = System.nanoTime();
        assertThat(reader.resolve(NS, ip("192.0.2.10"), 0, 4, mark, heldSince, heldSince + DnsNames.MAX_WAIT_NANOS - 1, false))
                .isSameAs(DnsNames.PENDING);
        assertThat(reader.resolve(NS, ip("192.0.2.10"), 0, 4, mark, heldSince, heldSince + DnsNames.MAX_WAIT_NANOS, false))
                .as("given up: written without a name").isNull();
        assertThat(names.gaveUp()).isEqualTo(1);
        ring.produced.set(2_000);
        for (int i = 0; i < 100; i++) {
            assertThat(reader.lookup(NS, ip("192.0.2.10"), 0, 4, System.nanoTime())).as("not held while it is stuck").isNull();
        }
        assertThat(names.waits()).isEqualTo(1);

        ring.consumed.set(2_000); // it caught up: names are waited for again
        names.put(NS, "192.0.2.12", "late.test", 300, System.nanoTime());
        assertThat(reader.lookup(NS, ip("192.0.2.12"), 0, 4, System.nanoTime())).isEqualTo("late.test");
    }

    @Test
    void stoppingNamesAHeldConnectWithWhatIsKnown() {
        DnsNames names = new DnsNames(16);
        Ring ring = new Ring();
        names.fence(ring);
        ring.produced.set(10);
        DnsNames.Reader reader = names.reader();
        long ts = System.nanoTime();
        assertThat(reader.lookup(NS, ip("192.0.2.10"), 0, 4, ts)).isSameAs(DnsNames.PENDING);
        names.put(NS, "192.0.2.10", "known.test", 300, System.nanoTime());
        assertThat(reader.resolve(NS, ip("192.0.2.10"), 0, 4, reader.pendingMark(), ts, System.nanoTime(), true)).isEqualTo("known.test");
        assertThat(names.gaveUp()).as("the reader had not passed it: counted").isEqualTo(1);
    }
}
