package io.bpfwatch.monitor.tcp;

import io.bpfwatch.config.Cidr;
import io.bpfwatch.monitor.MonitorSettings;

import java.util.List;

/** monitors.tcp: which outgoing connections raise an alert. */
public record TcpSettings(List<Integer> alertPorts, List<Cidr> alertNetworks, List<Cidr> ignoreNetworks,
                          List<String> alertDomains) implements MonitorSettings {
    /** The ports the seed's tcpwatch script flagged: common reverse-shell and C2 defaults. */
    public static final List<Integer> DEFAULT_ALERT_PORTS = List.of(4444, 5555, 6666, 8888, 9999, 1337, 31337, 12345);
    public static final TcpSettings DEFAULT = new TcpSettings(DEFAULT_ALERT_PORTS, List.of(), List.of(), List.of());

    public TcpSettings(List<Integer> alertPorts, List<Cidr> alertNetworks, List<Cidr> ignoreNetworks) {
        this(alertPorts, alertNetworks, ignoreNetworks, List.of());
    }
}
