package io.bpfwatch.monitor.dns;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.Meters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Coverage-guided fuzzing (Jazzer) of everything that reads attacker-controlled bytes: the
 * DNS parser, the kernel-record decoder, TCP reassembly and query/response pairing.
 *
 * Plain `mvn test` replays the committed corpus (src/test/resources/.../DnsFuzzTestInputs)
 * as a regression test; the `dns-fuzz` surefire execution, part of `make test`, fuzzes for
 * a bounded time (JAZZER_FUZZ=1). Any input that throws, hangs or breaks an invariant fails
 * the build and is written next to the corpus as a crash file.
 *
 * Invariants: nothing throws; a name is printable ASCII without spaces (escaped as dig does);
 * every query that goes in comes out exactly once.
 */
class DnsFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void hostileBytesNeverBreakTheMonitor(FuzzedDataProvider data) {
        switch (data.consumeInt(0, 2)) {
            case 0 -> parse(data.consumeRemainingAsBytes());
            case 1 -> decode(data.consumeRemainingAsBytes());
            default -> track(data);
        }
    }

    private static void parse(byte[] b) {
        DnsMessage m = DnsMessage.parse(b, 0, b.length);
        if (b.length < DnsMessage.HEADER) {
            assertThat(m).isNull();
            return;
        }
        checkName(m.qname);
        assertThat(m.addresses.size()).isLessThanOrEqualTo(DnsMessage.MAX_ADDRESSES);
        assertThat(DnsCodes.typeName(m.qtype)).isNotEmpty();
        assertThat(DnsCodes.rcodeName(m.rcode)).isNotEmpty();
    }

    static void checkName(String name) {
        if (name == null) return;
        // 255 octets, each at worst \DDD, plus the dots
        assertThat(name.length()).isLessThanOrEqualTo(255 * 4);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= 0x20 || c >= 0x7f) throw new AssertionError("unescaped byte " + (int) c + " in " + name);
        }
    }

    private static void decode(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        DnsDecoder decoder = new DnsDecoder(new io.bpfwatch.event.EventHeader());
        try {
            assertThat(decoder.decode(buf, 0, b.length).cap).isBetween(0, DnsDecoder.CAPTURE);
        } catch (Decoder.Refused refused) {
            assertThat(refused.getMessage()).isNotEmpty();
        }
    }

    private static void track(FuzzedDataProvider data) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DnsMetrics metrics = new DnsMetrics(new Meters(registry));
        List<DnsEvent> out = new ArrayList<>();
        // with the name table connections are named from: every answer's addresses go into it
        io.bpfwatch.context.DnsNames names = new io.bpfwatch.context.DnsNames(64);
        DnsTracker tracker = new DnsTracker(1_000_000_000L, 16, metrics, out::add, why -> { }, names);
        long ts = 0;
        long[] offsets = new long[8];
        int records = data.consumeInt(0, 64);
        for (int i = 0; i < records && data.remainingBytes() > 0; i++) {
            DnsDecoder.Record r = new DnsDecoder.Record();
            r.type = data.consumeInt(DnsDecoder.REC_SEND, DnsDecoder.REC_CLOSE);
            r.transport = data.consumeBoolean() ? DnsDecoder.TCP : DnsDecoder.UDP;
            r.conn = data.consumeInt(0, 3);
            r.server = data.consumeBoolean() ? "192.0.2.53" : null;
            r.port = 53;
            r.comm = "fuzz";
            ts += data.consumeLong(0, 2_000_000_000L);
            r.ts = r.time = ts;
            byte[] payload = data.consumeBytes(data.consumeInt(0, DnsDecoder.CAPTURE));
            System.arraycopy(payload, 0, r.data, 0, payload.length);
            r.cap = payload.length;
            r.len = payload.length + (data.consumeBoolean() ? data.consumeInt(0, 5000) : 0);
            int dir = (int) (r.conn << 1) | (r.type == DnsDecoder.REC_SEND ? 0 : 1);
            r.streamOff = data.consumeBoolean() ? offsets[dir] : data.consumeLong(0, 1 << 20);
            offsets[dir] = r.streamOff + r.len;
            tracker.record(r);
            if (data.consumeBoolean()) tracker.expire(ts);
        }
        tracker.flush();
        double queries = registry.find("bpfwatch.dns.queries").functionCounters().stream().mapToDouble(FunctionCounter::count).sum();
        long queryLines = out.stream().filter(e -> e.kind() != DnsEvent.Kind.CONNECT).count();
        assertThat((double) queryLines).as("each query exactly once").isEqualTo(queries);
        assertThat(tracker.pendingCount()).isZero();
        assertThat(names.size()).isLessThanOrEqualTo(64);
        for (DnsEvent e : out) {
            checkName(e.qname);
            if (e.kind() == DnsEvent.Kind.ANSWERED) assertThat(e.latencyNanos).isNotNegative();
        }
    }
}
