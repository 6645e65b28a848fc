package io.bpfwatch.monitor.dns;

import io.bpfwatch.config.Section;
import io.bpfwatch.context.DnsNames;
import io.bpfwatch.transport.RingBufferReader;
import io.bpfwatch.transport.RingPoller;
import io.bpfwatch.context.ContextField;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.monitor.Attach;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfLogic;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.KernelCounter;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.Plan;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** dns: every DNS query a process sends, who sent it, and how (and whether) it was answered. */
public final class DnsMonitorType implements MonitorType<DnsSettings, DnsMetrics> {
    /** The system calls that move DNS bytes, entry and exit each, plus connect and close. */
    static final List<String> SYSCALLS = List.of("write", "writev", "sendto", "sendmsg", "sendmmsg",
            "read", "readv", "recvfrom", "recvmsg", "recvmmsg");

    /**
     * The system-call tracepoint programs of dns.bpf.o and their tracepoints, exits first: an
     * entry must never park a call whose exit is not yet watched.
     */
    static final List<Attach> ATTACH = attachments();

    private static List<Attach> attachments() {
        List<Attach> exits = new ArrayList<>(), rest = new ArrayList<>();
        rest.add(new Attach.Tracepoint("dns_connect", "syscalls", "sys_enter_connect"));
        rest.add(new Attach.Tracepoint("dns_close", "syscalls", "sys_enter_close"));
        for (String s : SYSCALLS) {
            rest.add(new Attach.Tracepoint("dns_enter_" + s, "syscalls", "sys_enter_" + s));
            exits.add(new Attach.Tracepoint("dns_exit_" + s, "syscalls", "sys_exit_" + s));
        }
        exits.addAll(rest);
        return List.copyOf(exits);
    }

    /**
     * The socket-layer programs (fentry/fexit on the functions every inet socket's sends and
     * receives pass through), exits first for the same reason.
     */
    static final List<Attach> SOCKET_ATTACH = List.of(
            new Attach.Tracing("dns_sent4", "inet_sendmsg", true),
            new Attach.Tracing("dns_sent6", "inet6_sendmsg", true),
            new Attach.Tracing("dns_rcvd4", "inet_recvmsg", true),
            new Attach.Tracing("dns_rcvd6", "inet6_recvmsg", true),
            new Attach.Tracing("dns_release", "inet_release", false),
            new Attach.Tracing("dns_connect_sk", "inet_stream_connect", false),
            new Attach.Tracing("dns_connect_dgram", "inet_dgram_connect", false),
            new Attach.Tracing("dns_send4", "inet_sendmsg", false),
            new Attach.Tracing("dns_send6", "inet6_sendmsg", false),
            new Attach.Tracing("dns_recv4", "inet_recvmsg", false),
            new Attach.Tracing("dns_recv6", "inet6_recvmsg", false));

    static final List<String> SOCKET_FUNCTIONS = SOCKET_ATTACH.stream().map(a -> ((Attach.Tracing) a).function()).distinct().toList();

    /** Each plan's own socket table; the other plan's is shrunk to one entry before load. */
    private static final String TRACEPOINT_SOCKETS = "socks", SOCKET_LAYER_SOCKETS = "sk_socks";

    /**
     * Why the socket-layer programs failed to load or attach on this kernel, once they have: the
     * next probe (the supervisor's retry) then plans the tracepoints. A kernel whose verifier
     * or BTF differs from the ones tested may refuse them; the monitor must not stay down for it.
     */
    private volatile String socketLayerFailed;

    /** Its events come from the acting process: all of it by default. */
    @Override
    public java.util.Set<ContextField> defaultContext() {
        return ContextField.DEFAULT;
    }

    @Override
    public String name() {
        return "dns";
    }

    /** A query and its answer are two records of 100-600 bytes: 4 MiB holds ~5 000-20 000 queries. */
    @Override
    public int defaultRingBuffer() {
        return 4 << 20;
    }

    @Override
    public String description() {
        return "every DNS query (UDP, TCP; IPv4, IPv6) with process, name, type, server, response code and latency; timeouts; encrypted-DNS connections";
    }

    @Override
    public DnsSettings parse(Section s) {
        List<Integer> ports = s.ports("ports", DnsSettings.DEFAULT_PORTS);
        String where = s.path() + ".tls-ports";
        List<Integer> tls = s.list("tls-ports", DnsSettings.DEFAULT_TLS_PORTS.stream().filter(ports::contains).toList(), n -> {
            int p = s.port(n, where, -1);
            if (p < 0) return null;
            if (!ports.contains(p)) {
                s.problems().at(n, where + ": port " + p + " is not one of " + s.path() + ".ports");
                return null;
            }
            return p;
        });
        Duration timeout = s.duration("timeout", DnsSettings.DEFAULT_TIMEOUT, Duration.ofMillis(100), Duration.ofMinutes(5));
        long maxPending = s.integer("max-pending", DnsSettings.DEFAULT_MAX_PENDING, 16, 1 << 22);
        DnsSettings.Mode attach = DnsSettings.Mode.of(s.oneOf("attach", DnsSettings.Mode.AUTO.word, DnsSettings.Mode.WORDS));
        return new DnsSettings(ports, tls, timeout, (int) maxPending, attach);
    }

    /**
     * fentry/fexit on the socket layer where the kernel has them (and attach allows), else the
     * system-call tracepoints. Both need the kernel's BTF.
     */
    @Override
    public Availability probe(Kernel kernel, DnsSettings settings) {
        if (!kernel.hasVmlinuxBtf()) {
            return new Availability.Unsupported("the kernel has no BTF (/sys/kernel/btf/vmlinux): the dns programs need CO-RE");
        }
        boolean tracepoints = settings.attach() == DnsSettings.Mode.TRACEPOINT;
        String noSocketLayer = tracepoints ? null : socketLayerProblem(kernel);
        if (!tracepoints && noSocketLayer == null) {
            return new Availability.Supported(new Plan("fentry/fexit on the socket layer (" + String.join(", ", SOCKET_FUNCTIONS) + ")",
                    SOCKET_ATTACH, Plan.BUILT_IN));
        }
        if (settings.attach() == DnsSettings.Mode.FENTRY) return new Availability.Unsupported("attach: fentry, but " + noSocketLayer);
        for (Attach a : ATTACH) {
            Attach.Tracepoint tp = (Attach.Tracepoint) a;
            var missing = kernel.missingTracepoint(tp.category(), tp.name());
            if (missing.isPresent()) return new Availability.Unsupported(missing.get());
        }
        String strategy = "syscall tracepoints (" + ATTACH.size() + ")" + (noSocketLayer == null ? "" : " (no fentry: " + noSocketLayer + ")");
        return new Availability.Supported(new Plan(strategy, ATTACH, Plan.BUILT_IN));
    }

    /** Why the socket-layer programs cannot be used here, or null. */
    private String socketLayerProblem(Kernel kernel) {
        String failed = socketLayerFailed;
        if (failed != null) return "its programs failed here: " + failed;
        var fentry = kernel.missingFentry();
        if (fentry.isPresent()) return fentry.get();
        List<String> missing = kernel.missingBtfFunctions(SOCKET_FUNCTIONS);
        if (!missing.isEmpty()) return String.join(", ", missing) + (missing.size() == 1 ? " is" : " are") + " not in the kernel's BTF";
        return null;
    }

    @Override
    public DnsMetrics metrics(String monitor, Meters meters) {
        return new DnsMetrics(meters);
    }

    /**
     * With attach: auto, a socket-layer start that libbpf fails (verifier, BTF, attach) is
     * remembered, so the supervisor's next attempt probes the tracepoints instead.
     */
    @Override
    public Monitor create(MonitorConfig config, DnsSettings settings, Plan plan, DnsMetrics metrics, MonitorContext context) {
        boolean socketLayer = plan.attachments().equals(SOCKET_ATTACH);
        Monitor m = BpfMonitor.builtin(config, plan, context, new Logic(settings, metrics, context, socketLayer));
        if (!socketLayer || settings.attach() != DnsSettings.Mode.AUTO) return m;
        return new Monitor() {
            @Override
            public void start(Consumer<Throwable> onFailure) throws Exception {
                try {
                    m.start(onFailure);
                } catch (BpfException e) {
                    socketLayerFailed = e.getMessage().lines().findFirst().orElse(e.toString());
                    throw e;
                }
            }

            @Override
            public void stop() {
                m.stop();
            }

            @Override
            public List<String> attachPoints() {
                return m.attachPoints();
            }

            @Override
            public boolean alive() {
                return m.alive();
            }
        };
    }

    /** Decodes records and pairs queries with responses (DnsTracker); expires what waits too long. */
    private static final class Logic implements BpfLogic<DnsDecoder.Record> {
        /** With no record read for a whole tick, everything older than this has been read. */
        private static final long IDLE_SLACK_NANOS = 20_000_000L;

        private final DnsSettings settings;
        private final DnsMetrics metrics;
        private final MonitorContext context;
        private final DnsDecoder decoder;
        private final DnsTracker tracker;
        private final boolean socketLayer;
        private long newestTs;
        private int recordsSinceTick;

        Logic(DnsSettings settings, DnsMetrics metrics, MonitorContext context, boolean socketLayer) {
            this.settings = settings;
            this.socketLayer = socketLayer;
            this.metrics = metrics;
            this.context = context;
            this.decoder = new DnsDecoder(new EventHeader(context.process()));
            tracker = new DnsTracker(settings.timeout().toNanos(), settings.maxPending(), metrics,
                    context.output()::emit, context.output()::malformed, context.host().names());
        }

        @Override
        public Decoder<DnsDecoder.Record> decoder() {
            return decoder;
        }

        @Override
        public void configure(BpfObject object) throws BpfException {
            object.setConstant("port_kind", settings.portKinds());
            // the other plan's socket table is created with the object but never used
            object.map(socketLayer ? TRACEPOINT_SOCKETS : SOCKET_LAYER_SOCKETS).setMaxEntries(1);
        }

        /** Answers are filed by namespace (for the tcp monitor's names). */
        @Override
        public int kernelContext() {
            return ContextField.Bits.NETNS;
        }

        /** The tcp monitor's reader waits on this ring's progress for the names of new connections. */
        @Override
        public void reading(RingPoller poller) {
            RingBufferReader ring = poller.ring(0);
            context.host().names().fence(new DnsNames.Fence() {
                @Override
                public long mark() {
                    return ring.producerPosition();
                }

                @Override
                public boolean passed(long mark) {
                    return ring.consumedPosition() >= mark;
                }

                @Override
                public void wake() {
                    poller.wake();
                }
            });
        }

        @Override
        public void closing(BpfObject object) {
            context.host().names().fence(null);
        }

        @Override
        public Map<String, KernelCounter> kernelCounters() {
            return Map.of("aux_lost", metrics.responsesLost);
        }

        @Override
        public void accept(DnsDecoder.Record record) {
            if (record.ts > newestTs) newestTs = record.ts;
            recordsSinceTick++;
            try {
                tracker.record(record);
            } catch (RuntimeException e) {
                // the parser is built not to throw; if it ever does, lose this record, not the monitor
                context.output().malformed("dns record could not be processed: " + e);
            }
        }

        @Override
        public void tick(long nowNanos) {
            long horizon = recordsSinceTick > 0 ? newestTs : nowNanos - IDLE_SLACK_NANOS;
            recordsSinceTick = 0;
            tracker.expire(horizon);
        }

        @Override
        public void drained() {
            tracker.flush();
        }
    }
}
