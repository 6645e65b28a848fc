package io.bpfwatch.monitor.dns;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.context.ProcessContext;
import com.fasterxml.jackson.core.io.SerializedString;
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
    // field names pre-encoded: Jackson copies their bytes instead of escaping them per line
    private static final SerializedString QNAME = new SerializedString("qname"),
            QTYPE = new SerializedString("qtype"), SERVER = new SerializedString("server"),
            PORT = new SerializedString("port"), TRANSPORT = new SerializedString("transport"),
            ID = new SerializedString("id"), RCODE = new SerializedString("rcode"),
            ANSWERS = new SerializedString("answers"), LATENCY_MS = new SerializedString("latency_ms"),
            TRUNCATED = new SerializedString("truncated"), ADDRESSES = new SerializedString("addresses"),
            PROBLEM = new SerializedString("problem");

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
    public void writeFields(JsonGenerator g) throws IOException {
        if (kind != Kind.CONNECT) {
            g.writeFieldName(QNAME);
            g.writeString(qname);
            g.writeFieldName(QTYPE);
            g.writeString(qtype < 0 ? null : DnsCodes.typeName(qtype));
        }
        g.writeFieldName(SERVER);
        g.writeString(server);
        g.writeFieldName(PORT);
        g.writeNumber(port);
        g.writeFieldName(TRANSPORT);
        g.writeString(transport);
        if (kind == Kind.CONNECT) return;
        g.writeFieldName(ID);
        g.writeNumber(id);
        if (kind == Kind.ANSWERED) {
            g.writeFieldName(RCODE);
            g.writeString(DnsCodes.rcodeName(rcode));
            g.writeFieldName(ANSWERS);
            g.writeNumber(answers);
            g.writeFieldName(LATENCY_MS);
            writeMillis(g, latencyNanos);
            if (truncated) {
                g.writeFieldName(TRUNCATED);
                g.writeBoolean(true);
            }
            if (!addresses.isEmpty()) {
                g.writeFieldName(ADDRESSES);
                g.writeStartArray();
                for (String a : addresses) g.writeString(a);
                g.writeEndArray();
            }
        }
        if (problem != null) {
            g.writeFieldName(PROBLEM);
            g.writeString(problem);
        }
    }

    /** top: the names asked ("example.com A") and those that failed ("example.com A NXDOMAIN", "... timeout"). */
    @Override
    public void tally(Tally t) {
        if (kind == Kind.CONNECT || qname == null) return;
        String name = qname + " " + (qtype < 0 ? "?" : DnsCodes.typeName(qtype));
        t.add("names", name, 1);
        if (kind == Kind.TIMEOUT || kind == Kind.UNANSWERED) t.add("failures", name + " " + kind.label, 1);
        else if (rcode > 0) t.add("failures", name + " " + DnsCodes.rcodeName(rcode), 1);
    }
}
