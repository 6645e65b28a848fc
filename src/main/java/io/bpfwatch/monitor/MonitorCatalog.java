package io.bpfwatch.monitor;

import io.bpfwatch.monitor.dns.DnsMonitorType;
import io.bpfwatch.monitor.tcp.TcpMonitorType;
import io.bpfwatch.monitor.wireguard.WireguardMonitorType;
import io.bpfwatch.monitor.zfs.ZfsMonitorType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The monitor types this build knows, by name. */
public final class MonitorCatalog {
    private final Map<String, MonitorType<?, ?>> types = new LinkedHashMap<>();

    public MonitorCatalog(List<MonitorType<?, ?>> types) {
        for (MonitorType<?, ?> t : types) this.types.put(t.name(), t);
    }

    /** What bpfwatch ships. */
    public static MonitorCatalog builtin() {
        return new MonitorCatalog(List.of(new DnsMonitorType(), new TcpMonitorType(), new ZfsMonitorType(), new WireguardMonitorType()));
    }

    /** This catalog plus extra types (tests add monitors that exercise failure paths). */
    public MonitorCatalog with(MonitorType<?, ?>... extra) {
        List<MonitorType<?, ?>> all = new ArrayList<>(types.values());
        Collections.addAll(all, extra);
        return new MonitorCatalog(all);
    }

    public Optional<MonitorType<?, ?>> get(String name) {
        return Optional.ofNullable(types.get(name));
    }

    public List<String> names() {
        return List.copyOf(types.keySet());
    }

    public List<MonitorType<?, ?>> all() {
        return List.copyOf(types.values());
    }
}
