package io.bpfwatch.monitor.dns;

import io.bpfwatch.config.Section;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorSettings;
import io.bpfwatch.monitor.MonitorType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** dns: every DNS query a process sends, who sent it, and how (and whether) it was answered. */
public final class DnsMonitorType implements MonitorType {
    /** The system calls that move DNS bytes, entry and exit each, plus connect and close. */
    static final List<String> SYSCALLS = List.of("write", "writev", "sendto", "sendmsg", "sendmmsg",
            "read", "readv", "recvfrom", "recvmsg", "recvmmsg");

    static List<String> tracepoints() {
        List<String> tps = new ArrayList<>();
        tps.add("syscalls/sys_enter_connect");
        tps.add("syscalls/sys_enter_close");
        for (String s : SYSCALLS) {
            tps.add("syscalls/sys_enter_" + s);
            tps.add("syscalls/sys_exit_" + s);
        }
        return tps;
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
    public MonitorSettings parse(Section s) {
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
        return new DnsSettings(ports, tls, timeout, (int) maxPending);
    }

    @Override
    public Availability probe(Kernel kernel, MonitorSettings settings) {
        List<String> tps = tracepoints();
        var missing = kernel.missingTracepoints(tps);
        if (missing.isPresent()) return new Availability.Unsupported(missing.get());
        if (!kernel.hasVmlinuxBtf()) {
            return new Availability.Unsupported("the kernel has no BTF (/sys/kernel/btf/vmlinux): the fd-to-socket lookup needs CO-RE");
        }
        List<String> points = new ArrayList<>();
        for (String tp : tps) points.add("tracepoint/" + tp);
        return new Availability.Supported("syscall tracepoints (" + tps.size() + ")", points);
    }

    @Override
    public BpfMonitor create(MonitorConfig config, MonitorContext context) {
        return new DnsMonitor(config, context);
    }
}
