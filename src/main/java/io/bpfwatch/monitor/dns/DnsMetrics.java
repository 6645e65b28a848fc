package io.bpfwatch.monitor.dns;

import io.bpfwatch.monitor.KernelCounter;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.OwnedCounter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dns monitor's own metrics. Labels are bounded: qtype from {@link DnsCodes#TYPE_LABELS}
 * or "other", transport udp/tcp, rcode from {@link DnsCodes#RCODE_LABELS} or "other"; never a
 * name, pid or address. One per configured monitor, kept across its restarts; used by one
 * reader thread at a time.
 */
final class DnsMetrics {
    private final Meters meters;
    private final MeterRegistry registry;
    // per query and per answer, on the reader thread: counters it owns
    private final Map<String, OwnedCounter> queries = new HashMap<>();
    private final Map<String, OwnedCounter> responses = new HashMap<>();
    // the response counters of the common codes by number (the rest look their label up)
    private final OwnedCounter[] byRcode = new OwnedCounter[32];
    final DnsLatency latency = new DnsLatency();
    final Counter timeouts;
    final Counter unanswered;
    final Counter unmatched;
    final Counter overflow;
    final Counter desyncs;
    final Counter tls;
    /** Queries waiting for a response, read at scrape time (set lazily: no fence per query). */
    final AtomicInteger pending = new AtomicInteger();
    /** Received DNS data the kernel could not queue (the object's aux_lost). */
    final KernelCounter responsesLost = new KernelCounter();

    DnsMetrics(Meters meters) {
        this.meters = meters;
        this.registry = meters.registry();
        meters.collector(latency); // where there is no Prometheus registry (tests) it only counts
        timeouts = meters.add(Counter.builder("bpfwatch.dns.timeouts").description("DNS queries that got no response within monitors.dns.timeout").register(registry));
        unanswered = meters.add(Counter.builder("bpfwatch.dns.unanswered")
                .description("DNS queries the monitor stopped waiting for early (stopped, reloaded, or too many pending)").register(registry));
        unmatched = meters.add(Counter.builder("bpfwatch.dns.unmatched.responses")
                .description("DNS responses that matched no pending query (late, duplicate, or unsolicited)").register(registry));
        overflow = meters.add(Counter.builder("bpfwatch.dns.pending.overflow")
                .description("Pending DNS queries given up because monitors.dns.max-pending queries were already waiting").register(registry));
        desyncs = meters.add(Counter.builder("bpfwatch.dns.tcp.desyncs")
                .description("DNS-over-TCP streams abandoned because their message boundaries were lost").register(registry));
        tls = meters.add(Counter.builder("bpfwatch.dns.tls.connections")
                .description("Connections to encrypted-DNS ports (monitors.dns.tls-ports)").register(registry));
        meters.add(Gauge.builder("bpfwatch.dns.pending", pending, AtomicInteger::get)
                .description("DNS queries waiting for a response").register(registry));
        meters.add(FunctionCounter.builder("bpfwatch.dns.responses.lost", responsesLost, KernelCounter::read)
                .description("Received DNS data the kernel ring buffer could not take (those queries then time out)")
                .register(registry));
        for (String rcode : DnsCodes.RCODE_LABELS) response(rcode);
        response("other");
        for (int rcode = 0; rcode < byRcode.length; rcode++) byRcode[rcode] = response(DnsCodes.rcodeLabel(rcode));
    }

    // the counter of the last query's type and transport: most queries repeat it, so the common
    // case builds no key
    private int lastQtype = Integer.MIN_VALUE;
    private String lastTransport;
    private OwnedCounter lastQuery;

    void query(int qtype, String transport) {
        if (qtype == lastQtype && transport == lastTransport) {
            lastQuery.increment();
            return;
        }
        String label = qtype < 0 ? "other" : DnsCodes.typeLabel(qtype);
        String key = label + "/" + transport;
        OwnedCounter c = queries.get(key);
        if (c == null) {
            c = OwnedCounter.register(meters, "bpfwatch.dns.queries", "DNS queries sent, by query type and transport",
                    "qtype", label, "transport", transport);
            queries.put(key, c);
        }
        lastQtype = qtype;
        lastTransport = transport;
        lastQuery = c;
        c.increment();
    }

    private OwnedCounter response(String label) {
        return responses.computeIfAbsent(label, l -> OwnedCounter.register(meters, "bpfwatch.dns.responses",
                "DNS queries answered, by response code", "rcode", l));
    }

    void answered(int rcode, long latencyNanos) {
        (rcode >= 0 && rcode < byRcode.length ? byRcode[rcode] : response(DnsCodes.rcodeLabel(rcode))).increment();
        latency.record(latencyNanos);
    }
}
