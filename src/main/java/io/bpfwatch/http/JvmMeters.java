package io.bpfwatch.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.quarkus.micrometer.runtime.binder.JVMInfoBinder;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * The JVM's meters on /metrics, without a listener on its garbage collections. Micrometer's
 * JVM binder (off in application.properties) has JvmGcMetrics and JvmHeapPressureMetrics
 * subscribe to the JVM's GC notifications, and then the JVM builds a JMX notification at every
 * young collection: under a burst of events (a collection every few thousand events) that was
 * 3-4 % of the daemon's CPU. What it had is kept but for the notification-fed meters (the
 * pause histogram, allocated and promoted bytes, live data size, GC overhead); collections and
 * their time are read from the collectors when /metrics is scraped instead:
 * jvm_gc_collections_total and jvm_gc_collection_seconds_total, by collector.
 */
@Singleton
public class JvmMeters {
    @Produces
    @Singleton
    MeterBinder jvm() {
        return registry -> {
            new ClassLoaderMetrics().bindTo(registry);
            new JvmMemoryMetrics().bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new JVMInfoBinder().bindTo(registry);
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                FunctionCounter.builder("jvm.gc.collections", gc, GarbageCollectorMXBean::getCollectionCount)
                        .tag("gc", gc.getName()).description("Garbage collections by this collector")
                        .register(registry);
                FunctionCounter.builder("jvm.gc.collection", gc, g -> g.getCollectionTime() / 1000.0)
                        .tag("gc", gc.getName()).baseUnit("seconds").description("Time spent in garbage collections by this collector")
                        .register(registry);
            }
        };
    }
}
