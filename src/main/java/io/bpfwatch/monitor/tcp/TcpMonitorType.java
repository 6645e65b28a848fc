package io.bpfwatch.monitor.tcp;

import io.bpfwatch.config.Section;
import io.bpfwatch.context.ContextField;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Attach;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfLogic;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.OwnedCounter;
import io.bpfwatch.monitor.Plan;
import io.micrometer.core.instrument.Counter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * tcp: every outgoing TCP connect attempt, IPv4 and IPv6, with alert rules. The kernel side
 * (monitors/tcp/tcp.bpf.c) keeps only CLOSE->SYN_SENT of TCP sockets.
 */
public final class TcpMonitorType implements MonitorType<TcpSettings, TcpMonitorType.Metrics> {
    static final Attach.Tracepoint STATE = new Attach.Tracepoint("tcp_set_state", "sock", "inet_sock_set_state");
    /** Optional: sooner source ports. Without them an attempt is emitted when it leaves SYN_SENT. */
    static final List<Attach.Tracepoint> OPTIONAL = List.of(
            new Attach.Tracepoint("tcp_connect_return", "syscalls", "sys_exit_connect"),
            new Attach.Tracepoint("tcp_retransmit", "tcp", "tcp_retransmit_skb"));

    /** Connections by family, alerts by rule (rules come and go with reloads; their series stay). */
    public record Metrics(OwnedCounter ipv4, OwnedCounter ipv6, Map<String, Counter> alerts, Meters meters) {
        Counter alert(String rule) {
            return alerts.computeIfAbsent(rule, r -> meters.add(Counter.builder("bpfwatch.tcp.alerts").tag("rule", r)
                    .description("Outgoing TCP connect attempts that matched an alert rule, by rule").register(meters.registry())));
        }
    }

    /** Its events come from the acting process: all of it by default. */
    @Override
    public java.util.Set<ContextField> defaultContext() {
        return ContextField.DEFAULT;
    }

    @Override
    public String name() {
        return "tcp";
    }

    /** ~100-byte records: 2 MiB holds ~20 000 connects, a second of a very busy proxy's. */
    @Override
    public int defaultRingBuffer() {
        return 2 << 20;
    }

    @Override
    public String description() {
        return "every outgoing TCP connect attempt (IPv4, IPv6) with process, addresses, ports and alert rules";
    }

    @Override
    public TcpSettings parse(Section s) {
        Section alert = s.section("alert");
        TcpSettings settings = new TcpSettings(
                alert.ports("ports", TcpSettings.DEFAULT_ALERT_PORTS),
                alert.cidrs("networks", List.of()),
                alert.cidrs("ignore-networks", List.of()),
                alert.list("domains", List.of(), n -> TcpAlertRules.domainPattern(alert, n)));
        alert.finish();
        return settings;
    }

    @Override
    public Availability probe(Kernel kernel, TcpSettings settings) {
        var missing = kernel.missingTracepoint(STATE.category(), STATE.name());
        if (missing.isPresent()) return new Availability.Unsupported(missing.get());
        List<Attach> attach = new ArrayList<>();
        attach.add(STATE);
        for (Attach.Tracepoint tp : OPTIONAL) {
            if (kernel.missingTracepoint(tp.category(), tp.name()).isEmpty()) attach.add(tp);
        }
        return new Availability.Supported(new Plan(String.join(" + ", attach.stream().map(Attach::point).toList()), attach, Plan.BUILT_IN));
    }

    @Override
    public Metrics metrics(String monitor, Meters meters) {
        return new Metrics(connections(meters, "ipv4"), connections(meters, "ipv6"), new ConcurrentHashMap<>(), meters);
    }

    private static OwnedCounter connections(Meters meters, String family) {
        return OwnedCounter.register(meters, "bpfwatch.tcp.connections", "Outgoing TCP connect attempts", "family", family);
    }

    /** Connects held back for names at most; past it the oldest is written with what is known. */
    static final int MAX_HELD = 16384;

    @Override
    public Monitor create(MonitorConfig config, TcpSettings settings, Plan plan, Metrics metrics, MonitorContext context) {
        TcpAlertRules rules = new TcpAlertRules(settings);
        Map<String, Counter> alerts = new ConcurrentHashMap<>();
        for (String r : rules.ruleNames()) alerts.put(r, metrics.alert(r)); // every rule's series exists from the start
        TcpDecoder decoder = new TcpDecoder(new EventHeader(context.process()), rules, context.host().names().reader());
        return BpfMonitor.builtin(config, plan, context, new BpfLogic<TcpEvent>() {
            @Override
            public Decoder<TcpEvent> decoder() {
                return decoder;
            }

            /** The namespace of each connect, to name its destination from the dns monitor's answers. */
            @Override
            public int kernelContext() {
                return ContextField.Bits.NETNS;
            }

            private final HeldForNames held = new HeldForNames(decoder, this::deliver, MAX_HELD);

            @Override
            public void accept(TcpEvent e) {
                held.accept(e);
            }

            @Override
            public void tick(long nowNanos) {
                held.release(nowNanos, 0);
            }

            /** A held connect is written within ~100 ms of the dns reader passing it, not at the next quiet tick. */
            @Override
            public boolean waitsOnTime() {
                return held.size() > 0;
            }

            @Override
            public void drained() {
                held.release(System.nanoTime(), Integer.MAX_VALUE);
            }

            private void deliver(TcpEvent e) {
                (e.ipv6 ? metrics.ipv6() : metrics.ipv4()).increment();
                for (String r : e.rules) alerts.get(r).increment();
                context.output().emit(e);
            }
        });
    }
}
