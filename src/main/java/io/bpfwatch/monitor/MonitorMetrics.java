package io.bpfwatch.monitor;

import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.LibBpf;
import com.sun.jna.Memory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The self-health metrics every monitor has (PRODUCT.md). They outlive monitor restarts:
 * events caused = bpfwatch_events_total + lost{kernel} + lost{queue}, always; lost{decode}
 * counts records the decoder refused, lost{write} events the file write failed for.
 */
public final class MonitorMetrics {
    public final String monitor;
    public final Counter events;
    public final Counter lostQueue;
    public final Counter lostWrite;
    public final Counter lostDecode;
    public final Counter restarts;
    private final KernelLoss kernelLoss = new KernelLoss();
    private final AtomicReference<MonitorState> state = new AtomicReference<>(MonitorState.DISABLED);

    public MonitorMetrics(String monitor, MeterRegistry registry) {
        this.monitor = monitor;
        events = Counter.builder("bpfwatch.events").tag("monitor", monitor)
                .description("Events decoded from the kernel and queued for the log (a full queue counts in lost{stage=queue} instead)").register(registry);
        lostQueue = lost(registry, "queue");
        lostWrite = lost(registry, "write");
        lostDecode = lost(registry, "decode");
        FunctionCounter.builder("bpfwatch.events.lost", kernelLoss, KernelLoss::read)
                .tags("monitor", monitor, "stage", "kernel")
                .description("Events lost, by stage: kernel (ring buffer full), queue (writer queue full), write (file write failed), decode (malformed record)")
                .register(registry);
        restarts = Counter.builder("bpfwatch.monitor.restarts").tag("monitor", monitor)
                .description("Times the monitor was restarted after a failure").register(registry);
        Gauge.builder("bpfwatch.monitor.up", state, s -> s.get() == MonitorState.RUNNING ? 1 : 0)
                .tag("monitor", monitor).description("1 if the monitor is attached and running, else 0").register(registry);
        for (MonitorState s : MonitorState.values()) {
            Gauge.builder("bpfwatch.monitor.state", state, st -> st.get() == s ? 1 : 0)
                    .tags("monitor", monitor, "state", s.label())
                    .description("1 for the monitor's current state, 0 for the others").register(registry);
        }
    }

    private Counter lost(MeterRegistry registry, String stage) {
        return Counter.builder("bpfwatch.events.lost").tags("monitor", monitor, "stage", stage)
                .description("Events lost, by stage: kernel (ring buffer full), queue (writer queue full), write (file write failed), decode (malformed record)")
                .register(registry);
    }

    public void state(MonitorState s) {
        state.set(s);
    }

    public MonitorState state() {
        return state.get();
    }

    public KernelLoss kernelLoss() {
        return kernelLoss;
    }

    /**
     * Records the kernel could not queue, from the object's per-CPU "bw_lost" map, read at
     * scrape time. A restart loads a new object; what the old one counted is kept as a base.
     */
    public static final class KernelLoss {
        private long base;
        private int fd = -1;
        private Memory key;
        private Memory value;
        private int stride;
        private int cpus;

        public synchronized void attach(BpfMap map) {
            fd = map.fd();
            cpus = BpfMap.possibleCpus();
            stride = (map.valueSize() + 7) & ~7;
            key = new Memory(4);
            key.setInt(0, 0);
            value = new Memory((long) stride * cpus);
        }

        /** Before the map's object closes: fold its count into the base. */
        public synchronized void detach() {
            base += current();
            fd = -1;
        }

        public synchronized double read() {
            return base + current();
        }

        private long current() {
            if (fd < 0) return 0;
            if (LibBpf.bpf_map_lookup_elem(fd, key, value) != 0) return 0;
            long sum = 0;
            for (int c = 0; c < cpus; c++) sum += value.getLong((long) c * stride);
            return sum;
        }
    }
}
