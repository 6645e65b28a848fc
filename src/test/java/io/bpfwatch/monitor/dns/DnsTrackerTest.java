package io.bpfwatch.monitor.dns;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Pairing queries with responses from kernel records: each query comes out exactly once. */
class DnsTrackerTest {
    private static final long MS = 1_000_000L, TIMEOUT = 1000 * MS;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final DnsMetrics metrics = new DnsMetrics(new io.bpfwatch.monitor.Meters(registry));
    private final List<DnsEvent> out = new ArrayList<>();
    private final List<String> malformed = new ArrayList<>();
    private DnsTracker tracker = new DnsTracker(TIMEOUT, 1000, metrics, out::add, malformed::add);

    static DnsDecoder.Record record(int type, long conn, long ts, String server, byte[] payload) {
        DnsDecoder.Record r = new DnsDecoder.Record();
        r.type = type;
        r.ts = ts;
        r.time = ts;
        r.pid = 42;
        r.comm = "test";
        r.conn = conn;
        r.len = payload.length;
        r.cap = Math.min(payload.length, DnsDecoder.CAPTURE);
        System.arraycopy(payload, 0, r.data, 0, r.cap);
        r.transport = DnsDecoder.UDP;
        r.port = 53;
        r.server = server;
        return r;
    }

    void send(long conn, long ts, byte[] q) {
        tracker.record(record(DnsDecoder.REC_SEND, conn, ts, "10.0.0.53", q));
    }

    void recv(long conn, long ts, byte[] r) {
        tracker.record(record(DnsDecoder.REC_RECV, conn, ts, "10.0.0.53", r));
    }

    @Test
    void aQueryAndItsResponseMakeOneAnsweredLine() {
        send(1, 100 * MS, Packets.query(7, "www.lab.test", 1));
        assertThat(out).isEmpty();
        recv(1, 103 * MS, Packets.response(7, 0, "www.lab.test", 1, new byte[] {1, 2, 3, 4}));
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(DnsEvent.Kind.ANSWERED);
            assertThat(e.qname).isEqualTo("www.lab.test");
            assertThat(e.latencyNanos).isEqualTo(3 * MS);
            assertThat(e.addresses).containsExactly("1.2.3.4");
            assertThat(e.server).isEqualTo("10.0.0.53");
        });
        assertThat(tracker.pendingCount()).isZero();
        assertThat(registry.get("bpfwatch.dns.responses").tag("rcode", "NOERROR").functionCounter().count()).isEqualTo(1);
        assertThat(registry.get("bpfwatch.dns.queries").tags("qtype", "A", "transport", "udp").functionCounter().count()).isEqualTo(1);
        assertThat(metrics.latency.count()).isEqualTo(1);
    }

    @Test
    void anAnswersAddressesAreNamedInItsNamespaceAndAFailedOnesAreNot() {
        io.bpfwatch.context.DnsNames names = new io.bpfwatch.context.DnsNames(64);
        tracker = new DnsTracker(TIMEOUT, 1000, metrics, out::add, malformed::add, names);
        byte[] v6 = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x34};
        DnsDecoder.Record answer = record(DnsDecoder.REC_RECV, 1, 103 * MS, "10.0.0.53",
                Packets.response(7, 0, "www.lab.test", 1, new byte[] {(byte) 192, 0, 2, 34}, v6));
        answer.netns = 77;
        send(1, 100 * MS, Packets.query(7, "www.lab.test", 1));
        tracker.record(answer);
        recv(2, 104 * MS, Packets.response(8, 3, "nx.lab.test", 1, new byte[] {(byte) 192, 0, 2, 35}));
        long now = 104 * MS; // the records' clock: the answer's time starts its TTL
        assertThat(names.get(77, new byte[] {(byte) 192, 0, 2, 34}, 0, 4, now)).isEqualTo("www.lab.test");
        assertThat(names.get(77, v6, 0, 16, now)).isEqualTo("www.lab.test");
        assertThat(names.get(0, new byte[] {(byte) 192, 0, 2, 34}, 0, 4, now)).as("another namespace").isNull();
        assertThat(names.get(0, new byte[] {(byte) 192, 0, 2, 35}, 0, 4, now)).as("NXDOMAIN names nothing").isNull();
        assertThat(names.size()).isEqualTo(2);
        // the answers' TTL (300 s) runs from the answer's own time, 103 ms
        assertThat(names.get(77, v6, 0, 16, 103 * MS + 300_000 * MS - 1)).isEqualTo("www.lab.test");
        assertThat(names.get(77, v6, 0, 16, 103 * MS + 300_000 * MS + 1)).as("expired").isNull();
    }

    @Test
    void aResponseReadBeforeItsQueryStillPairs() {
        recv(1, 105 * MS, Packets.response(7, 3, "x.test", 1));
        send(1, 100 * MS, Packets.query(7, "x.test", 1));
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(DnsEvent.Kind.ANSWERED);
            assertThat(e.rcode).isEqualTo(3);
            assertThat(e.latencyNanos).isEqualTo(5 * MS);
        });
    }

    @Test
    void anOrphanThatNeverFindsItsQueryIsUnmatched() {
        recv(1, 100 * MS, Packets.response(7, 0, "x.test", 1));
        tracker.expire(100 * MS + DnsTracker.ORPHAN_NANOS);
        assertThat(registry.get("bpfwatch.dns.unmatched.responses").counter().count()).isEqualTo(1);
        send(1, 2000 * MS, Packets.query(7, "x.test", 1));
        assertThat(out).isEmpty();
    }

    @Test
    void aRetransmissionIsItsOwnQuery() {
        send(1, 0, Packets.query(7, "x.test", 1));
        send(1, 500 * MS, Packets.query(7, "x.test", 1));
        recv(1, 600 * MS, Packets.response(7, 0, "x.test", 1));
        assertThat(out).singleElement().satisfies(e -> assertThat(e.latencyNanos).isEqualTo(600 * MS));
        tracker.expire(1500 * MS);
        assertThat(out).hasSize(2);
        assertThat(out.get(1).kind()).isEqualTo(DnsEvent.Kind.TIMEOUT);
        assertThat(registry.get("bpfwatch.dns.timeouts").counter().count()).isEqualTo(1);
    }

    @Test
    void aResponseToAnotherQuestionOrFromAnotherServerDoesNotAnswer() {
        send(1, 0, Packets.query(7, "x.test", 1));
        recv(1, MS, Packets.response(7, 0, "y.test", 1));
        recv(1, MS, Packets.response(7, 0, "x.test", 28));
        tracker.record(record(DnsDecoder.REC_RECV, 1, MS, "10.9.9.9", Packets.response(7, 0, "x.test", 1)));
        recv(2, MS, Packets.response(7, 0, "x.test", 1));
        assertThat(out).isEmpty();
        tracker.expire(TIMEOUT + DnsTracker.ORPHAN_NANOS);
        assertThat(out).singleElement().satisfies(e -> assertThat(e.kind()).isEqualTo(DnsEvent.Kind.TIMEOUT));
        assertThat(registry.get("bpfwatch.dns.unmatched.responses").counter().count()).isEqualTo(4);
    }

    @Test
    void queriesSharingASocketAndIdAreAnsweredInOrderWhateverLeavesTheChainFirst() {
        tracker = new DnsTracker(TIMEOUT, 100_000, metrics, out::add, malformed::add);
        send(1, 0, Packets.query(7, "a.test", 1));
        send(1, MS, Packets.query(7, "b.test", 1));
        send(1, 2 * MS, Packets.query(7, "c.test", 1));
        send(1, 3 * MS, Packets.query(7, "b.test", 1));
        // the middle of the chain, then its head, then its tail, then the one left
        recv(1, 10 * MS, Packets.response(7, 0, "b.test", 1));
        recv(1, 11 * MS, Packets.response(7, 0, "a.test", 1));
        recv(1, 12 * MS, Packets.response(7, 0, "b.test", 1));
        recv(1, 13 * MS, Packets.response(7, 0, "c.test", 1));
        assertThat(out).extracting(e -> e.qname + "@" + e.sentNanos / MS)
                .containsExactly("b.test@1", "a.test@0", "b.test@3", "c.test@2");
        assertThat(tracker.pendingCount()).isZero();

        // A flood on one socket with one id (a stub resolver that never varies it, or a
        // hostile one): each query is added and answered in constant time, oldest first.
        out.clear();
        byte[] q = Packets.query(9, "flood.test", 1), r = Packets.response(9, 0, "flood.test", 1);
        for (int i = 0; i < 50_000; i++) send(2, 20 * MS + i, q);
        assertThat(tracker.pendingCount()).isEqualTo(50_000);
        for (int i = 0; i < 50_000; i++) recv(2, 30 * MS + i, r);
        assertThat(out).hasSize(50_000).allSatisfy(e -> assertThat(e.kind()).isEqualTo(DnsEvent.Kind.ANSWERED));
        assertThat(out.get(0).sentNanos).isEqualTo(20 * MS);
        assertThat(out.get(49_999).sentNanos).isEqualTo(20 * MS + 49_999);
        assertThat(tracker.pendingCount()).isZero();
    }

    @Test
    void caseRandomisedResponsesAnswer() {
        send(1, 0, Packets.query(7, "wWw.LaB.tEsT", 1));
        recv(1, MS, Packets.response(7, 0, "www.lab.test", 1));
        assertThat(out).singleElement().satisfies(e -> assertThat(e.kind()).isEqualTo(DnsEvent.Kind.ANSWERED));
    }

    @Test
    void aResponseWithoutItsQuestionAnswersByIdAlone() {
        send(1, 0, Packets.query(7, "x.test", 1));
        recv(1, MS, Packets.header(7, 0x8001, 0, 0, 0, 0).bytes());
        assertThat(out).singleElement().satisfies(e -> assertThat(DnsCodes.rcodeName(e.rcode)).isEqualTo("FORMERR"));
    }

    @Test
    void timeoutsWaitForTheHorizonNotTheWallClock() {
        send(1, 0, Packets.query(7, "x.test", 1));
        tracker.expire(TIMEOUT - 1);
        assertThat(out).isEmpty();
        tracker.expire(TIMEOUT);
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(DnsEvent.Kind.TIMEOUT);
            assertThat(e.rcode).isEqualTo(-1);
        });
        recv(1, TIMEOUT + MS, Packets.response(7, 0, "x.test", 1));
        tracker.expire(TIMEOUT + MS + DnsTracker.ORPHAN_NANOS);
        assertThat(out).as("a late response does not make a second line").hasSize(1);
    }

    @Test
    void overflowGivesUpTheOldestAndCountsIt() {
        tracker = new DnsTracker(TIMEOUT, 16, metrics, out::add, malformed::add);
        for (int i = 0; i < 20; i++) send(1, i, Packets.query(i, "x.test", 1));
        assertThat(tracker.pendingCount()).isEqualTo(16);
        assertThat(out).hasSize(4).allSatisfy(e -> assertThat(e.kind()).isEqualTo(DnsEvent.Kind.UNANSWERED));
        assertThat(out).extracting(e -> e.id).containsExactly(0, 1, 2, 3);
        assertThat(registry.get("bpfwatch.dns.pending.overflow").counter().count()).isEqualTo(4);
        tracker.flush();
        assertThat(out).hasSize(20);
        assertThat(tracker.pendingCount()).isZero();
        assertThat(registry.get("bpfwatch.dns.pending").gauge().value()).isZero();
    }

    @Test
    void tcpChunksAreReassembledPerConnectionAndDirection() {
        byte[] q = Packets.query(9, "t.test", 15), r = Packets.response(9, 0, "t.test", 15);
        DnsDecoder.Record a = record(DnsDecoder.REC_SEND, 5, 0, "::1", new Packets().u16(q.length).bytes());
        a.transport = DnsDecoder.TCP;
        tracker.record(a);
        DnsDecoder.Record b = record(DnsDecoder.REC_SEND, 5, MS, "::1", q);
        b.transport = DnsDecoder.TCP;
        b.streamOff = 2;
        tracker.record(b);
        DnsDecoder.Record c = record(DnsDecoder.REC_RECV, 5, 2 * MS, "::1", new Packets().u16(r.length).raw(r).bytes());
        c.transport = DnsDecoder.TCP;
        tracker.record(c);
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.transport).isEqualTo("tcp");
            assertThat(e.qname).isEqualTo("t.test");
            assertThat(e.latencyNanos).isEqualTo(MS);
        });
    }

    @Test
    void aLostTcpChunkIsCountedOnce() {
        DnsDecoder.Record a = record(DnsDecoder.REC_SEND, 5, 0, "::1", new Packets().u16(40).bytes());
        a.transport = DnsDecoder.TCP;
        a.streamOff = 100;
        tracker.record(a);
        tracker.record(a);
        assertThat(registry.get("bpfwatch.dns.tcp.desyncs").counter().count()).isEqualTo(1);
    }

    @Test
    void encryptedDnsIsAConnectLine() {
        DnsDecoder.Record r = record(DnsDecoder.REC_TLS, 0, 0, "9.9.9.9", new byte[0]);
        r.port = 853;
        tracker.record(r);
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(DnsEvent.Kind.CONNECT);
            assertThat(e.transport).isEqualTo("tls");
            assertThat(e.qname).isNull();
        });
    }

    @Test
    void bytesThatAreNotDnsAreMalformedNotQueries() {
        send(1, 0, new byte[] {1, 2, 3});
        assertThat(malformed).hasSize(1);
        assertThat(out).isEmpty();
        // a query whose name cannot be read is still a query, with the reason
        send(1, 0, Packets.header(3, 0x0100, 1, 0, 0, 0).u16(0xc00c).bytes());
        tracker.flush();
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.qname).isNull();
            assertThat(e.problem).contains("compression pointer");
        });
    }
}
