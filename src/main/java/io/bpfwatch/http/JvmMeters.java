package io.bpfwatch.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * The registry /metrics scrapes, with the JVM's and the process's meters on it. Every meter of
 * the daemon goes straight to this one registry (no composite: a composite counter's increment
 * walks its children on every event).
 *
 * <p>The JVM's meters are Micrometer's but for those fed by the JVM's GC notifications
 * (JvmGcMetrics, JvmHeapPressureMetrics): with a listener subscribed, the JVM builds a JMX
 * notification at every young collection, and under a burst of events (a collection every few
 * thousand events) that was 3-4 % of the daemon's CPU. Collections and their time are read from
 * the collectors when /metrics is scraped instead: jvm_gc_collections_total and
 * jvm_gc_collection_seconds_total, by collector.
 *
 * <p>Two of Micrometer's meters are dropped for names that break Prometheus conventions
 * (`promtool check metrics` flags them): system_cpu_count, a gauge named like a summary's count,
 * and process_cpu_time_ns_total, an abbreviated unit. process_cpu_usage and system_cpu_usage stay.
 */
public final class JvmMeters {
    private JvmMeters() {}

    public static PrometheusMeterRegistry registry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("system.cpu.count") || id.getName().equals("process.cpu.time")));
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        jvmInfo(registry);
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            FunctionCounter.builder("jvm.gc.collections", gc, GarbageCollectorMXBean::getCollectionCount)
                    .tag("gc", gc.getName()).description("Garbage collections by this collector")
                    .register(registry);
            FunctionCounter.builder("jvm.gc.collection", gc, g -> g.getCollectionTime() / 1000.0)
                    .tag("gc", gc.getName()).baseUnit("seconds").description("Time spent in garbage collections by this collector")
                    .register(registry);
        }
        return registry;
    }

    /** jvm_info_total{runtime,vendor,version} 1, as Quarkus's JVM binder had it. */
    static void jvmInfo(MeterRegistry registry) {
        Counter.builder("jvm.info").description("JVM version info")
                .tag("version", System.getProperty("java.runtime.version", "unknown"))
                .tag("vendor", System.getProperty("java.vm.vendor", "unknown"))
                .tag("runtime", System.getProperty("java.runtime.name", "unknown"))
                .register(registry).increment();
    }
}
