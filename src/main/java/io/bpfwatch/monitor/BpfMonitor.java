package io.bpfwatch.monitor;

import io.bpfwatch.context.ContextField;
import io.bpfwatch.context.ContextResolver;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.BpfProgram;
import io.bpfwatch.transport.RingPoller;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A live BPF monitor, the same for every kind: opens its object, sets the ring sizes and the
 * kind's filters ({@link BpfLogic#configure}), loads only the programs its {@link Plan} names and
 * attaches them in the plan's order, then drains its ring buffers (bpfwatch's objects have one,
 * "events") on a {@link RingPoller} through the kind's decoders into {@link BpfLogic#accept}. A record the decoder refuses is
 * counted (lost{stage="decode"}); an exception from the kind's code stops the monitor, and the
 * supervisor restarts it. The conventions of bpfwatch's own objects (monitors/include/
 * bpfwatch.bpf.h) are used where the object has them: the bw_lost count, the bw_reader idle
 * flag, the bw_wakeup_bytes batching threshold.
 */
public final class BpfMonitor<R> implements Monitor {
    private static final Logger LOG = Logger.getLogger(BpfMonitor.class);
    private static final int WAKEUP_BYTES = 256 << 10;
    public static final String RING = "events", LOST = "bw_lost", IDLE_FLAG = "bw_reader", WAKEUP = "bw_wakeup_bytes",
            CONTEXT = "bw_context", EXE_MAP = "bw_exe", EXEC = "bw_exec", CGROUP_MAP = "bw_cgroups", CGROUP_MKDIR = "bw_cgroup_mkdir",
            CGROUP_ROOT = "bw_cgroup_root";
    /** Fills bw_exe at every execve, for the exe of processes that have exited by the time their event is read. */
    static final Attach.Tracepoint EXEC_TRACEPOINT = new Attach.Tracepoint(EXEC, "sched", "sched_process_exec");
    /** Fills bw_cgroups at every cgroup v2 mkdir, for the path of cgroups removed by the time their events are read. */
    static final Attach.BySection MKDIR_TRACEPOINT = new Attach.BySection(CGROUP_MKDIR, "tp_btf/cgroup_mkdir");

    private final MonitorConfig config;
    private final BpfObjects.Source source;
    private final Plan plan;
    private final MonitorContext context;
    private final BpfLogic<R> logic;
    private final List<KernelCounter> counters = new ArrayList<>();
    private final List<BpfLink> links = new ArrayList<>();
    private final List<Decoder<R>> decoders = new ArrayList<>();
    private BpfObject object;
    private RingPoller poller;

    public BpfMonitor(MonitorConfig config, BpfObjects.Source source, Plan plan, MonitorContext context, BpfLogic<R> logic) {
        this.config = config;
        this.source = source;
        this.plan = plan;
        this.context = context;
        this.logic = logic;
    }

    /** A built-in kind's monitor: its object is the one shipped under its kind's name. */
    public static <R> BpfMonitor<R> builtin(MonitorConfig config, Plan plan, MonitorContext context, BpfLogic<R> logic) {
        return new BpfMonitor<>(config, BpfObjects.builtin(config.kind()), plan, context, logic);
    }

    public String name() {
        return config.name();
    }

    @Override
    public void start(Consumer<Throwable> onFailure) throws BpfException, IOException {
        try {
            object = BpfObject.open(source.label(), source.name(), source.read());
            Map<String, Decoder<R>> rings = logic.rings(object);
            for (String ring : rings.keySet()) {
                BpfMap m = object.map(ring);
                if (m.type() != BpfMap.TYPE_RINGBUF) throw new IllegalArgumentException(source.label() + ": map " + ring + " is not a ring buffer");
                if (config.ringBufferBytes() > 0) m.setMaxEntries(config.ringBufferBytes());
            }
            if (object.hasConstant(WAKEUP)) object.setConstant(WAKEUP, Math.min(WAKEUP_BYTES, config.ringBufferBytes() / 4));
            Set<String> planned = new HashSet<>(plan.programs());
            ContextResolver process = context.process();
            boolean exe = process != null && process.spec().has(ContextField.EXE) && object.hasMap(EXE_MAP)
                    && context.kernel().missingTracepoint("sched", "sched_process_exec").isEmpty();
            if (exe) planned.add(EXEC);
            boolean cgroups = process != null && process.wantsCgroups() && context.host() != null
                    && context.host().cgroups().rootId() > 0 && object.hasMap(CGROUP_MAP) && object.hasConstant(CGROUP_ROOT)
                    && context.kernel().hasVmlinuxBtf() && context.kernel().missingTracepoint("cgroup", "cgroup_mkdir").isEmpty();
            if (cgroups) {
                planned.add(CGROUP_MKDIR);
                object.setConstant(CGROUP_ROOT, context.host().cgroups().rootId());
            }
            for (BpfProgram p : object.programs()) p.setAutoload(planned.contains(p.name()));
            if (object.hasConstant(CONTEXT)) {
                object.setConstant(CONTEXT, (process != null ? process.kernelBits() : 0) | logic.kernelContext());
            }
            logic.configure(object);
            object.load();
            if (process != null) {
                process.bindExeMap(exe ? object.map(EXE_MAP) : null);
                process.bindCgroupMap(cgroups ? object.map(CGROUP_MAP) : null);
            }
            if (object.hasMap(LOST)) attachCounter(LOST, context.health().kernelLoss());
            for (Map.Entry<String, KernelCounter> c : logic.kernelCounters().entrySet()) attachCounter(c.getKey(), c.getValue());
            List<RingPoller.Ring> polled = new ArrayList<>();
            for (Map.Entry<String, Decoder<R>> ring : rings.entrySet()) {
                BpfMap m = object.map(ring.getKey());
                Decoder<R> decoder = ring.getValue();
                decoders.add(decoder);
                polled.add(new RingPoller.Ring(source.label() + " ring buffer " + ring.getKey(), m.fd(), m.maxEntries(),
                        (data, offset, length) -> onRecord(decoder, data, offset, length)));
            }
            if (!polled.isEmpty()) {
                poller = new RingPoller(source.label(), polled, object.hasMap(IDLE_FLAG) ? object.map(IDLE_FLAG).fd() : -1, new Client());
            }
            if (poller != null) logic.reading(poller);
            logic.loaded(object);
            for (Attach a : plan.attachments()) links.add(a.attach(object.program(a.program())));
            if (exe) links.add(EXEC_TRACEPOINT.attach(object.program(EXEC)));
            if (cgroups) links.add(MKDIR_TRACEPOINT.attach(object.program(CGROUP_MKDIR)));
            if (poller != null) poller.start("bpfwatch-" + name() + "-reader", onFailure);
        } catch (BpfException | IOException | RuntimeException | Error e) {
            stop();
            throw e;
        }
    }

    private void attachCounter(String map, KernelCounter counter) {
        if (counters.contains(counter)) return; // one map per counter: a custom object may name bw_lost as its lost-map
        counter.attach(object.map(map));
        counters.add(counter);
    }

    @Override
    public List<String> attachPoints() {
        List<String> out = new ArrayList<>();
        for (BpfLink l : links) out.add(l.attachPoint());
        return out;
    }

    /** The reader turns; an object without ring buffers is alive while it is loaded. */
    @Override
    public boolean alive() {
        RingPoller p = poller;
        if (p != null) return p.alive();
        BpfObject o = object;
        return o != null && o.isLoaded();
    }

    /**
     * Detaches, then delivers what the kernel queued before (so a stop or restart loses nothing;
     * a record that throws now is counted as a decode loss and skipped), then closes.
     */
    @Override
    public void stop() {
        BpfLink.closeAll(links, (l, e) -> LOG.warnf("%s: detaching %s failed: %s", name(), l, e));
        links.clear();
        if (poller != null) {
            poller.stop();
            for (int i = 0; i < decoders.size(); i++) {
                Decoder<R> decoder = decoders.get(i);
                poller.drainRemaining(i, (data, offset, length) -> {
                    try {
                        onRecord(decoder, data, offset, length);
                    } catch (DecodeException counted) {
                        // lost{stage="decode"}, and the rest still delivered
                    }
                });
            }
            try {
                logic.drained();
            } catch (RuntimeException e) {
                LOG.warnf("%s: flushing pending state failed: %s", name(), e);
            }
        }
        if (object != null) {
            try {
                logic.closing(object);
            } catch (RuntimeException e) {
                LOG.warnf("%s: reading its final state failed: %s", name(), e);
            }
        }
        context.output().endOfBatch();
        for (KernelCounter c : counters) c.detach();
        counters.clear();
        decoders.clear();
        if (poller != null) poller.close();
        if (context.process() != null) {
            context.process().bindExeMap(null);
            context.process().bindCgroupMap(null);
        }
        if (object != null) object.close();
        poller = null;
        object = null;
    }

    /** One record: decoded, refused (counted, the monitor goes on), or a failure that stops it. */
    private void onRecord(Decoder<R> decoder, ByteBuffer data, int offset, int length) {
        R r;
        try {
            r = decoder.decode(data, offset, length);
        } catch (Decoder.Refused refused) {
            context.output().malformed(refused.getMessage());
            return;
        } catch (RuntimeException e) {
            throw failed(length, e);
        }
        try {
            logic.accept(r);
        } catch (RuntimeException e) {
            throw failed(length, e);
        }
    }

    private DecodeException failed(int length, RuntimeException e) {
        context.health().lostDecode.increment();
        return new DecodeException(name() + ": decoding a " + length + "-byte record failed", e);
    }

    /** The poller's view: hand what was read to the writer before waiting; the kind's tick. */
    private final class Client implements RingPoller.Client {
        @Override
        public void batchEnd() {
            // about to wait: hand what was read to the writer (under load the writer is woken
            // every thousand events instead, so it writes big batches)
            context.output().endOfBatch();
        }

        @Override
        public void tick(long nowNanos) {
            logic.tick(nowNanos);
            context.output().endOfBatch();
        }

        @Override
        public boolean waitsOnTime() {
            return logic.waitsOnTime();
        }
    }

    /** An exception escaped a monitor's decoding: the monitor is restarted. */
    public static final class DecodeException extends RuntimeException {
        DecodeException(String message, Throwable cause) {
            super(message + ": " + cause, cause);
        }
    }
}
