package io.bpfwatch.monitor.dns;

import io.bpfwatch.context.DnsNames;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.monitor.Meters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The Java work of one DNS query over UDP, after the kernel: its send and its answer as the
 * decoder leaves them (records reused, as the decoder reuses its one), paired by the tracker
 * (parse, metrics, the answer's addresses into the names connections are named by), and its
 * line encoded. Not included: reading the ring and the header (HotPathBench's tcp rows show
 * what those cost) and writing the line.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DnsBench {
    // www.example.com A, id 0x1234; the answer: two addresses, the second name a compression pointer
    private static final byte[] QUERY = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
            3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
    private static final byte[] RESPONSE = {0x12, 0x34, (byte) 0x81, (byte) 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
            3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
            (byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, (byte) 184, (byte) 216, 34,
            (byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, (byte) 184, (byte) 216, 35};

    private DnsTracker tracker;
    private DnsDecoder.Record send, recv;
    private JsonLineEncoder encoder;
    private DnsEvent last;
    private long ts;

    private static DnsDecoder.Record record(int type, byte[] payload) {
        DnsDecoder.Record r = new DnsDecoder.Record();
        r.type = type;
        r.transport = DnsDecoder.UDP;
        r.conn = 42;
        r.pid = 4242;
        r.comm = "curl";
        r.server = "127.0.0.53";
        r.port = 53;
        System.arraycopy(payload, 0, r.data, 0, payload.length);
        r.cap = r.len = payload.length;
        return r;
    }

    @Setup
    public void setup() {
        tracker = new DnsTracker(5_000_000_000L, 4096, new DnsMetrics(new Meters(new SimpleMeterRegistry())), e -> last = e,
                why -> {
                    throw new IllegalStateException(why);
                }, new DnsNames(DnsNames.DEFAULT_MAX_ENTRIES));
        send = record(DnsDecoder.REC_SEND, QUERY);
        recv = record(DnsDecoder.REC_RECV, RESPONSE);
        encoder = new JsonLineEncoder();
        ts = System.nanoTime();
        queryAnswered();
        if (last == null || last.kind() != DnsEvent.Kind.ANSWERED || last.addresses.size() != 2) {
            throw new IllegalStateException("the query was not paired with its answer: " + last);
        }
    }

    @Benchmark
    public int queryAnswered() {
        ts += 1000;
        send.ts = send.time = ts;
        recv.ts = recv.time = ts + 500;
        tracker.record(send);
        tracker.record(recv);
        encoder.reset();
        return encoder.append(last);
    }

    /** The same without the line: what pairing alone costs. */
    @Benchmark
    public Object queryAnsweredNoLine() {
        ts += 1000;
        send.ts = send.time = ts;
        recv.ts = recv.time = ts + 500;
        tracker.record(send);
        tracker.record(recv);
        return last;
    }
}
