package io.bpfwatch.monitor.dns;

import io.bpfwatch.context.ProcessContext;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;
import io.bpfwatch.top.TallyKeys;

import java.util.List;

/**
 * One line of dns.log. A query is written once, when its fate is known: {@code answered}
 * (with rcode, answers, latency_ms), {@code timeout} (no response within monitors.dns.timeout)
 * or {@code unanswered} (the monitor stopped waiting early: it was stopped, or too many queries
 * were pending). {@code connect} is a connection to an encrypted-DNS port: server and process,
 * no name. {@code time} is when the query was sent (or the connection attempted).
 */
public final class DnsEvent extends Event {
    private static final Name QNAME = Name.of("qname"), QTYPE = Name.of("qtype"), SERVER = Name.of("server"),
            PORT = Name.of("port"), TRANSPORT = Name.of("transport"), ID = Name.of("id"), RCODE = Name.of("rcode"),
            ANSWERS = Name.of("answers"), LATENCY_MS = Name.of("latency_ms"), TRUNCATED = Name.of("truncated"),
            ADDRESSES = Name.of("addresses"), PROBLEM = Name.of("problem");

    public enum Kind {
        ANSWERED("answered"), TIMEOUT("timeout"), UNANSWERED("unanswered"), CONNECT("connect");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    Kind kind;
    /** Null when the question could not be read (then {@link #problem} says why). */
    public final String qname;
    public final int qtype;
    /** Null when the socket is unconnected and the call named no address (never for queries). */
    public final String server;
    public final int port;
    public final String transport;
    public final int id;
    /** CLOCK_MONOTONIC nanoseconds of the send, for latency. */
    final long sentNanos;
    final String problem;

    public int rcode = -1;
    public int answers;
    public long latencyNanos = -1;
    public boolean truncated;
    public List<String> addresses = List.of();

    DnsEvent(Kind kind, long time, int pid, int uid, String comm, ProcessContext context, long sentNanos, String qname, int qtype,
             String server, int port, String transport, int id, String problem) {
        super(time, pid, uid, comm, context);
        this.kind = kind;
        this.sentNanos = sentNanos;
        this.qname = qname;
        this.qtype = qtype;
        this.server = server;
        this.port = port;
        this.transport = transport;
        this.id = id;
        this.problem = problem;
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public String monitor() {
        return "dns";
    }

    @Override
    public String event() {
        return kind.label;
    }

    @Override
    public void writeFields(FieldWriter w) {
        if (kind != Kind.CONNECT) {
            w.name(QNAME);
            w.latin1(qname); // DnsMessage: printable ASCII, everything else escaped as \DDD
            w.field(QTYPE, qtype < 0 ? null : DnsCodes.typeName(qtype));
        }
        w.field(SERVER, server);
        w.field(PORT, port);
        w.field(TRANSPORT, transport);
        if (kind == Kind.CONNECT) return;
        w.field(ID, id);
        if (kind == Kind.ANSWERED) {
            w.field(RCODE, DnsCodes.rcodeName(rcode));
            w.field(ANSWERS, answers);
            w.name(LATENCY_MS);
            w.millis(latencyNanos);
            if (truncated) w.field(TRUNCATED, true);
            if (!addresses.isEmpty()) w.field(ADDRESSES, addresses);
        }
        if (problem != null) w.field(PROBLEM, problem);
    }

    /** top: the names asked ("example.com A") and those that failed ("example.com A NXDOMAIN", "... timeout"). */
    @Override
    public void tally(Tally t) {
        if (kind == Kind.CONNECT || qname == null) return;
        t.add("names", TallyKeys.of(NAME, qname, null, qtype), 1);
        if (kind == Kind.TIMEOUT || kind == Kind.UNANSWERED) t.add("failures", TallyKeys.of(FAILURE, qname, kind.label, qtype), 1);
        else if (rcode > 0) t.add("failures", TallyKeys.of(FAILURE, qname, DnsCodes.rcodeName(rcode), qtype), 1);
    }

    /** "example.com A"; a failure adds why: "example.com A timeout", "example.com AAAA NXDOMAIN". */
    private static final TallyKeys.Text NAME = (qname, unused, qtype) -> qname + " " + (qtype < 0 ? "?" : DnsCodes.typeName((int) qtype));
    private static final TallyKeys.Text FAILURE = (qname, why, qtype) -> NAME.of(qname, null, qtype) + " " + why;
}
