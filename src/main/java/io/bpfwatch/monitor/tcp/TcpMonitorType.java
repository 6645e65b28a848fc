package io.bpfwatch.monitor.tcp;

import io.bpfwatch.config.Section;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorSettings;
import io.bpfwatch.monitor.MonitorType;

import java.util.ArrayList;
import java.util.List;

/** tcp: every outgoing TCP connect attempt, IPv4 and IPv6, with alert rules. */
public final class TcpMonitorType implements MonitorType {
    static final String STATE_TP = "sock/inet_sock_set_state";
    /** Optional: sooner source ports. Without them an attempt is emitted when it leaves SYN_SENT. */
    static final List<String> OPTIONAL_TPS = List.of("syscalls/sys_exit_connect", "tcp/tcp_retransmit_skb");

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
    public MonitorSettings parse(Section s) {
        Section alert = s.section("alert");
        TcpSettings settings = new TcpSettings(
                alert.ports("ports", TcpSettings.DEFAULT_ALERT_PORTS),
                alert.cidrs("networks", List.of()),
                alert.cidrs("ignore-networks", List.of()));
        alert.finish();
        return settings;
    }

    @Override
    public Availability probe(Kernel kernel, MonitorSettings settings) {
        var missing = kernel.missingTracepoint("sock", "inet_sock_set_state");
        if (missing.isPresent()) return new Availability.Unsupported(missing.get());
        List<String> points = new ArrayList<>();
        points.add("tracepoint/" + STATE_TP);
        for (String tp : OPTIONAL_TPS) {
            String[] p = tp.split("/");
            if (kernel.missingTracepoint(p[0], p[1]).isEmpty()) points.add("tracepoint/" + tp);
        }
        return new Availability.Supported(String.join(" + ", points), points);
    }

    @Override
    public BpfMonitor create(MonitorConfig config, MonitorContext context) {
        return new TcpMonitor(config, context);
    }
}
