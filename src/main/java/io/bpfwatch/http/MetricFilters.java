package io.bpfwatch.http;

import io.micrometer.core.instrument.config.MeterFilter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Drops two of Micrometer's JVM meters whose names break Prometheus conventions (`promtool
 * check metrics` flags them): system_cpu_count, a gauge named like a summary's count, and
 * process_cpu_time_ns_total, an abbreviated unit. process_cpu_usage and system_cpu_usage stay.
 */
@Singleton
public class MetricFilters {
    @Produces
    @Singleton
    MeterFilter promtoolClean() {
        return MeterFilter.deny(id -> id.getName().equals("system.cpu.count") || id.getName().equals("process.cpu.time"));
    }
}
