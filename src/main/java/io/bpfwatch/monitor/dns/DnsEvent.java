package io.bpfwatch.monitor.dns;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.event.Event;

import java.io.IOException;
import java.util.List;

/**
 * One line of dns.log. A query is written once, when its fate is known: {@code answered}
 * (with rcode, answers, latency_ms), {@code timeout} (no response within monitors.dns.timeout)
 * or {@code unanswered} (the monitor stopped waiting early: it was stopped, or too many queries
 * were pending). {@code connect} is a connection to an encrypted-DNS port: server and process,
 * no name. {@code time} is when the query was sent (or the connection attempted).
 */
public final class DnsEvent extends Event {
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

    DnsEvent(Kind kind, long time, int pid, int uid, String comm, long sentNanos, String qname, int qtype,
             String server, int port, String transport, int id, String problem) {
        super(time, pid, uid, comm);
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
    public void writeFields(JsonGenerator g) throws IOException {
        if (kind != Kind.CONNECT) {
            g.writeStringField("qname", qname);
            g.writeStringField("qtype", qtype < 0 ? null : DnsCodes.typeName(qtype));
        }
        g.writeStringField("server", server);
        g.writeNumberField("port", port);
        g.writeStringField("transport", transport);
        if (kind == Kind.CONNECT) return;
        g.writeNumberField("id", id);
        if (kind == Kind.ANSWERED) {
            g.writeStringField("rcode", DnsCodes.rcodeName(rcode));
            g.writeNumberField("answers", answers);
            g.writeFieldName("latency_ms");
            writeMillis(g, latencyNanos);
            if (truncated) g.writeBooleanField("truncated", true);
            if (!addresses.isEmpty()) {
                g.writeArrayFieldStart("addresses");
                for (String a : addresses) g.writeString(a);
                g.writeEndArray();
            }
        }
        if (problem != null) g.writeStringField("problem", problem);
    }
}
