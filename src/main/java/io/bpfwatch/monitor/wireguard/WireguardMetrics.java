package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.monitor.Meters;
import io.micrometer.core.instrument.Counter;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The wireguard monitor's metrics: handshakes counted as they are logged, and the collector that
 * reads latency histograms and transfer from the kernel at scrape time (null without a
 * Prometheus registry).
 */
final class WireguardMetrics {
    private final Meters meters;
    private final Map<String, Counter> handshakes = new ConcurrentHashMap<>();
    final WireguardCollector collector;

    WireguardMetrics(Meters meters) {
        this.meters = meters;
        this.collector = WireguardCollector.register(meters);
    }

    Counter handshakes(String iface, String event) {
        return handshakes.computeIfAbsent(iface + '\0' + event, k -> meters.add(Counter.builder("bpfwatch.wireguard.handshakes")
                .tags("interface", iface, "event", event)
                .description("WireGuard handshake steps by interface: initiated (a new handshake sent), retried (an initiation sent again after no answer), completed")
                .register(meters.registry())));
    }
}
