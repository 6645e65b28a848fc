package io.bpfwatch.monitor;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class OwnedCounterTest {

    @Test
    void scrapesAsTheSameCounterSeriesNameHelpAndLabelsExactAfterEachIncrement() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Meters meters = new Meters(registry);
        OwnedCounter c = OwnedCounter.register(meters, "bpfwatch.sim.things", "Things seen, by kind", "kind", "a");
        assertThat(registry.scrape()).contains("# HELP bpfwatch_sim_things_total Things seen, by kind",
                "# TYPE bpfwatch_sim_things_total counter", "bpfwatch_sim_things_total{kind=\"a\",} 0.0");
        for (int i = 1; i <= 1000; i++) {
            c.increment();
            assertThat(registry.get("bpfwatch.sim.things").tag("kind", "a").functionCounter().count()).isEqualTo(i);
        }
        assertThat(registry.scrape()).contains("bpfwatch_sim_things_total{kind=\"a\",} 1000.0");
        meters.close();
        assertThat(registry.find("bpfwatch.sim.things").meters()).as("removed with the monitor").isEmpty();
    }

    /** A restart's new reader takes over after the old one ended: the count goes on from there. */
    @Test
    void aNewOwnerThreadContinuesTheCountAndAnotherThreadReadsIt() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        OwnedCounter c = OwnedCounter.register(new Meters(registry), "bpfwatch.sim.things", "Things seen");
        FunctionCounter seen = registry.get("bpfwatch.sim.things").functionCounter();
        for (int owner = 1; owner <= 3; owner++) {
            Thread t = new Thread(() -> {
                for (int i = 0; i < 200_000; i++) c.increment();
            });
            t.start();
            t.join();
            assertThat(seen.count()).as("after owner %d", owner).isEqualTo(owner * 200_000);
        }
        // read while it counts: never backwards
        CountDownLatch started = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            started.countDown();
            for (int i = 0; i < 2_000_000; i++) c.increment();
        });
        writer.start();
        started.await();
        double last = 0;
        while (writer.isAlive()) {
            double now = seen.count();
            if (now < last) failure.set(new AssertionError(now + " after " + last));
            last = now;
        }
        writer.join();
        assertThat(failure.get()).isNull();
        assertThat(seen.count()).isEqualTo(2_600_000);
    }
}
