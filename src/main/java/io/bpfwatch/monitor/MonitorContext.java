package io.bpfwatch.monitor;

import io.micrometer.core.instrument.MeterRegistry;

/** What a live monitor is given: its name, metrics, and where its events go. */
public record MonitorContext(String monitor, MeterRegistry registry, MonitorMetrics metrics, EventOutput output) {
}
