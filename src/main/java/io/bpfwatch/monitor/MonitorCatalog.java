package io.bpfwatch.monitor;

import io.bpfwatch.monitor.bpftrace.BpftraceMonitorType;
import io.bpfwatch.monitor.dns.DnsMonitorType;
import io.bpfwatch.monitor.libbpf.LibbpfMonitorType;
import io.bpfwatch.monitor.tcp.TcpMonitorType;
import io.bpfwatch.monitor.wireguard.WireguardMonitorType;
import io.bpfwatch.monitor.zfs.ZfsMonitorType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The monitor types this build knows. Built-in ones are configured under their own name
 * (monitors.tcp) and always have a state, disabled when not configured; custom kinds are
 * instances the config names itself ({@code monitors.opens: {kind: bpftrace, ...}}).
 */
public final class MonitorCatalog {
    private final Map<String, MonitorType<?, ?>> builtins = new LinkedHashMap<>();
    private final Map<String, MonitorType<?, ?>> kinds = new LinkedHashMap<>();

    public MonitorCatalog(List<MonitorType<?, ?>> builtins, List<MonitorType<?, ?>> kinds) {
        for (MonitorType<?, ?> t : builtins) this.builtins.put(t.name(), t);
        for (MonitorType<?, ?> t : kinds) this.kinds.put(t.name(), t);
    }

    /** What bpfwatch ships. */
    public static MonitorCatalog builtin() {
        return new MonitorCatalog(List.of(new DnsMonitorType(), new TcpMonitorType(), new ZfsMonitorType(), new WireguardMonitorType()),
                List.of(new BpftraceMonitorType(), new LibbpfMonitorType()));
    }

    /** This catalog plus extra built-in types (tests add monitors that exercise failure paths). */
    public MonitorCatalog with(MonitorType<?, ?>... extra) {
        List<MonitorType<?, ?>> all = new ArrayList<>(builtins.values());
        Collections.addAll(all, extra);
        return new MonitorCatalog(all, List.copyOf(kinds.values()));
    }

    /** A built-in monitor or a custom kind, by name. */
    public Optional<MonitorType<?, ?>> get(String name) {
        MonitorType<?, ?> t = builtins.get(name);
        return Optional.ofNullable(t != null ? t : kinds.get(name));
    }

    public boolean isBuiltin(String name) {
        return builtins.containsKey(name);
    }

    /** The built-in monitors' names. */
    public List<String> names() {
        return List.copyOf(builtins.keySet());
    }

    /** The built-in monitors. */
    public List<MonitorType<?, ?>> all() {
        return List.copyOf(builtins.values());
    }

    /** The custom kinds' names (kind: NAME). */
    public List<String> kindNames() {
        return List.copyOf(kinds.keySet());
    }
}
