package io.bpfwatch.monitor.dns;

import io.bpfwatch.context.DnsNames;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Pairs queries with responses so that every query is written exactly once.
 *
 * A query waits in {@code pending}, keyed by its socket and DNS id, in send order. A response
 * on the same socket with the same id, the same question and (when both are known) the same
 * server completes the oldest such query: {@code answered}. Queries still waiting
 * {@code timeout} after they were sent become {@code timeout}; if {@code maxPending} are
 * already waiting, the oldest is given up as {@code unanswered} and counted. A response may be
 * read before its query when another thread of the process received it first; it waits briefly
 * as an orphan for the query to show up, then counts as unmatched.
 *
 * Time is the kernel's CLOCK_MONOTONIC from the records; {@link #expire} is told how far the
 * records have certainly been read, so a backlog in the ring never turns into false timeouts.
 * Single-threaded: the monitor's reader thread owns it.
 */
final class DnsTracker implements DnsStream.Messages {
    static final long ORPHAN_NANOS = 1_000_000_000L;
    static final int MAX_ORPHANS = 4096;
    static final int MAX_STREAMS = 4096;

    record Key(long conn, int id) {
    }

    /**
     * A waiting query, on two doubly linked lists: all pending in send order, and its key's
     * chain (oldest first; the head, which the map holds, knows the tail), so adding and
     * removing are O(1) however many queries share a socket and id.
     */
    private static final class Pending {
        final DnsEvent event;
        final Key key;
        final int qclass;
        Pending older, newer, prevSame, nextSame, chainTail;

        Pending(DnsEvent event, Key key, int qclass) {
            this.event = event;
            this.key = key;
            this.qclass = qclass;
        }
    }

    private record Orphan(DnsMessage message, long ts, String server) {
    }

    private final long timeoutNanos;
    private final int maxPending;
    private final DnsMetrics metrics;
    private final Consumer<DnsEvent> out;
    private final Consumer<String> malformed;
    private final DnsNames names;

    private final Map<Key, Pending> pending = new HashMap<>();
    private Pending oldest, newest;
    private int size;
    private final LinkedHashMap<Key, Orphan> orphans = new LinkedHashMap<>();
    private final LinkedHashMap<Long, DnsStream> streams = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, DnsStream> eldest) {
            return size() > MAX_STREAMS;
        }
    };

    // parsing state reused from message to message (reader thread only): a message is parsed
    // into `spare` unless the last one was kept as an orphan
    private final DnsMessage.Scratch scratch = new DnsMessage.Scratch();
    private DnsMessage spare;

    // the record whose TCP stream is being fed (messages arrive through the callback)
    private DnsDecoder.Record current;
    private boolean currentSent;

    DnsTracker(long timeoutNanos, int maxPending, DnsMetrics metrics, Consumer<DnsEvent> out, Consumer<String> malformed) {
        this(timeoutNanos, maxPending, metrics, out, malformed, null);
    }

    /** {@code names}: where answers' addresses go, by the answering namespace (null: nowhere). */
    DnsTracker(long timeoutNanos, int maxPending, DnsMetrics metrics, Consumer<DnsEvent> out, Consumer<String> malformed,
               DnsNames names) {
        this.names = names;
        this.timeoutNanos = timeoutNanos;
        this.maxPending = maxPending;
        this.metrics = metrics;
        this.out = out;
        this.malformed = malformed;
    }

    int pendingCount() {
        return size;
    }

    void record(DnsDecoder.Record r) {
        switch (r.type) {
            case DnsDecoder.REC_SEND, DnsDecoder.REC_RECV -> {
                boolean sent = r.type == DnsDecoder.REC_SEND;
                if (r.transport == DnsDecoder.TCP) {
                    feed(r, sent);
                } else {
                    message(r, sent, r.data, r.cap, r.len);
                }
            }
            case DnsDecoder.REC_TLS -> {
                metrics.tls.increment();
                out.accept(new DnsEvent(DnsEvent.Kind.CONNECT, r.time, r.pid, r.uid, r.comm, r.context, r.ts, null, -1,
                        r.server, r.port, "tls", 0, null));
            }
            case DnsDecoder.REC_CLOSE -> {
                streams.remove(r.conn << 1);
                streams.remove((r.conn << 1) | 1);
            }
            default -> malformed.accept("dns record of unknown type " + r.type);
        }
    }

    private void feed(DnsDecoder.Record r, boolean sent) {
        long key = (r.conn << 1) | (sent ? 0 : 1);
        DnsStream s = streams.get(key);
        if (s == null) {
            s = new DnsStream();
            streams.put(key, s);
        }
        current = r;
        currentSent = sent;
        if (!s.feed(r.streamOff, r.len, r.data, r.cap, this)) metrics.desyncs.increment();
        current = null;
    }

    @Override
    public void message(byte[] buf, int captured, int length) {
        message(current, currentSent, buf, captured, length);
    }

    private void message(DnsDecoder.Record r, boolean sent, byte[] buf, int captured, int length) {
        if (spare == null) spare = new DnsMessage();
        DnsMessage m = DnsMessage.parse(buf, 0, Math.min(captured, length), spare, scratch);
        if (m == null) {
            // fewer than 12 bytes: not DNS, whatever a process sent to a DNS port
            if (sent) malformed.accept(length + "-byte message to DNS port " + r.port + " has no DNS header");
            return;
        }
        if (sent && !m.isResponse()) {
            query(r, m);
        } else if (!sent && m.isResponse()) {
            response(r, m);
        }
    }

    private void query(DnsDecoder.Record r, DnsMessage m) {
        String transport = r.transport == DnsDecoder.TCP ? "tcp" : "udp";
        metrics.query(m.qtype, transport);
        DnsEvent e = new DnsEvent(DnsEvent.Kind.UNANSWERED, r.time, r.pid, r.uid, r.comm, r.context, r.ts, m.qname, m.qtype,
                r.server, r.port, transport, m.id, m.qname == null ? m.problem : null);
        Key key = new Key(r.conn, m.id);
        Orphan o = orphans.get(key);
        if (o != null && o.ts >= r.ts && answers(o.message, o.server, e, m.qclass)) {
            orphans.remove(key);
            answer(e, o.message, o.ts);
            return;
        }
        if (size >= maxPending) {
            Pending victim = oldest;
            unlink(victim);
            metrics.overflow.increment();
            finish(victim.event, DnsEvent.Kind.UNANSWERED);
        }
        Pending p = new Pending(e, key, m.qclass);
        Pending head = pending.get(key);
        if (head == null) {
            p.chainTail = p;
            pending.put(key, p);
        } else {
            Pending tail = head.chainTail;
            tail.nextSame = p;
            p.prevSame = tail;
            head.chainTail = p;
        }
        p.older = newest;
        if (newest != null) newest.newer = p;
        newest = p;
        if (oldest == null) oldest = p;
        size++;
        metrics.pending.lazySet(size);
    }

    private void response(DnsDecoder.Record r, DnsMessage m) {
        if (names != null && m.rcode == 0 && !m.addresses.isEmpty() && m.qname != null) {
            // whoever asked, this namespace's processes now know these addresses by this name,
            // from when the answer came: the kernel's monotonic clock, System.nanoTime()'s, which
            // the tcp monitor asks with its connects' times too (and no clock is read here)
            m.putAddresses(names, r.netns, r.ts);
        }
        Key key = new Key(r.conn, m.id);
        for (Pending p = pending.get(key); p != null; p = p.nextSame) {
            if (answers(m, r.server, p.event, p.qclass)) {
                unlink(p);
                answer(p.event, m, r.ts);
                return;
            }
        }
        if (orphans.size() >= MAX_ORPHANS) {
            Iterator<Orphan> it = orphans.values().iterator();
            it.next();
            it.remove();
            metrics.unmatched.increment();
        }
        // a second response for the same key replaces the first, which is then unmatched
        if (orphans.remove(key) != null) metrics.unmatched.increment();
        orphans.put(key, new Orphan(m, r.ts, r.server));
        spare = null; // kept: the next message parses into a new one
    }

    /** Whether response m can be the answer to query e: same question, same server if known. */
    private static boolean answers(DnsMessage m, String server, DnsEvent e, int qclass) {
        if (server != null && e.server != null && !server.equals(e.server)) return false;
        if (m.qdcount == 0) return true; // FORMERR/REFUSED may come without the question
        if (m.qname == null || e.qname == null) return m.qname == null && e.qname == null;
        return m.qtype == e.qtype && m.qclass == qclass && m.qname.equalsIgnoreCase(e.qname);
    }

    private void answer(DnsEvent e, DnsMessage m, long ts) {
        e.rcode = m.rcode;
        e.answers = m.ancount;
        e.latencyNanos = Math.max(0, ts - e.sentNanos);
        e.truncated = m.truncated();
        e.addresses = m.addresses;
        metrics.answered(m.rcode, e.latencyNanos);
        finish(e, DnsEvent.Kind.ANSWERED);
    }

    private void finish(DnsEvent e, DnsEvent.Kind kind) {
        e.kind = kind;
        if (kind == DnsEvent.Kind.TIMEOUT) metrics.timeouts.increment();
        else if (kind == DnsEvent.Kind.UNANSWERED) metrics.unanswered.increment();
        out.accept(e);
    }

    private void unlink(Pending p) {
        if (p.prevSame == null) {
            Pending next = p.nextSame;
            if (next == null) {
                pending.remove(p.key);
            } else {
                next.prevSame = null;
                next.chainTail = p.chainTail;
                pending.put(p.key, next);
            }
        } else {
            p.prevSame.nextSame = p.nextSame;
            if (p.nextSame != null) p.nextSame.prevSame = p.prevSame;
            else pending.get(p.key).chainTail = p.prevSame;
        }
        if (p.older != null) p.older.newer = p.newer;
        else oldest = p.newer;
        if (p.newer != null) p.newer.older = p.older;
        else newest = p.older;
        p.older = p.newer = p.prevSame = p.nextSame = p.chainTail = null;
        size--;
        metrics.pending.lazySet(size);
    }

    /**
     * Every record up to kernel time {@code horizon} has been read: queries sent more than
     * the timeout before it time out, orphans older than {@link #ORPHAN_NANOS} are unmatched.
     */
    void expire(long horizon) {
        while (oldest != null && horizon - oldest.event.sentNanos >= timeoutNanos) {
            Pending p = oldest;
            unlink(p);
            finish(p.event, DnsEvent.Kind.TIMEOUT);
        }
        Iterator<Orphan> it = orphans.values().iterator();
        while (it.hasNext()) {
            Orphan o = it.next();
            if (horizon - o.ts < ORPHAN_NANOS) break;
            it.remove();
            metrics.unmatched.increment();
        }
    }

    /** The monitor is stopping: every query still waiting is written as unanswered. */
    void flush() {
        while (oldest != null) {
            Pending p = oldest;
            unlink(p);
            finish(p.event, DnsEvent.Kind.UNANSWERED);
        }
        metrics.unmatched.increment(orphans.size());
        orphans.clear();
        streams.clear();
    }
}
