package io.bpfwatch.monitor.zfs;

import com.sun.jna.Memory;
import io.bpfwatch.config.Section;
import io.bpfwatch.context.ContextField;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.monitor.Attach;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfLogic;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.OwnedCounter;
import io.bpfwatch.monitor.Plan;
import io.micrometer.core.instrument.Gauge;
import org.jboss.logging.Logger;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * zfs: snapshot operations (create, destroy, rename, rollback, clone, promote, hold,
 * release) from the ioctl syscall tracepoints, filtered in the kernel on ZFS's command
 * numbers and the control device. Needs no ZFS BTF, no kprobes, not even the ZFS module:
 * without /dev/zfs the monitor runs and starts auditing when the device appears.
 */
public final class ZfsMonitorType implements MonitorType<ZfsSettings, ZfsMonitorType.Metrics> {
    private static final Logger LOG = Logger.getLogger(ZfsMonitorType.class);
    static final List<Attach> ATTACH = List.of(
            new Attach.Tracepoint("zfs_ioctl_enter", "syscalls", "sys_enter_ioctl"),
            new Attach.Tracepoint("zfs_ioctl_exit", "syscalls", "sys_exit_ioctl"));

    /** Operations by action and result; whether the device is there to audit. */
    public static final class Metrics {
        private final Meters meters;
        private final Map<String, OwnedCounter> operations = new HashMap<>();
        final AtomicInteger devicePresent = new AtomicInteger();
        // the last operation's counter: a burst of one kind builds no key (reader thread only)
        private String lastAction, lastResult;
        private OwnedCounter lastCounter;

        Metrics(Meters meters) {
            this.meters = meters;
            meters.add(Gauge.builder("bpfwatch.zfs.device.present", devicePresent, AtomicInteger::get)
                    .description("1 while the configured ZFS control device exists and its ioctls are audited, else 0")
                    .register(meters.registry()));
            for (String action : ZfsAction.actions()) operation(action, "ok");
        }

        /** The reader thread's (or, once it has ended, the stopping thread's): one caller at a time. */
        OwnedCounter operation(String action, String result) {
            if (action == lastAction && result.equals(lastResult)) return lastCounter;
            OwnedCounter c = operations.computeIfAbsent(action + '\0' + result, k -> OwnedCounter.register(meters,
                    "bpfwatch.zfs.snapshot.operations", "ZFS snapshot operations by action and result (ok, or the errno name)",
                    "action", action, "result", result));
            lastAction = action;
            lastResult = result;
            lastCounter = c;
            return c;
        }
    }

    /** Its events come from the acting process: all of it by default. */
    @Override
    public java.util.Set<ContextField> defaultContext() {
        return ContextField.DEFAULT;
    }

    @Override
    public String name() {
        return "zfs";
    }

    /**
     * Records are as long as the names and nvlist they carry (~100-300 bytes, up to 8.7 KiB for
     * a batch destroy): 4 MiB holds ~15 000-40 000 operations, enough for an ioctl storm.
     */
    @Override
    public int defaultRingBuffer() {
        return 4 << 20;
    }

    @Override
    public String description() {
        return "ZFS snapshot operations (create, destroy, rename, rollback, clone, promote, hold, release) with names, process and result";
    }

    @Override
    public ZfsSettings parse(Section s) {
        return new ZfsSettings(s.absolutePath("device", ZfsSettings.DEFAULT_DEVICE));
    }

    @Override
    public Availability probe(Kernel kernel, ZfsSettings settings) {
        for (Attach a : ATTACH) {
            Attach.Tracepoint tp = (Attach.Tracepoint) a;
            Optional<String> missing = kernel.missingTracepoint(tp.category(), tp.name());
            if (missing.isPresent()) return new Availability.Unsupported(missing.get());
        }
        Path device = settings.device();
        String state = ZfsDevice.of(device).map(d -> device + " (" + d + ")")
                .orElse(device + " (absent: audited from when it appears)");
        return new Availability.Supported(new Plan("ioctl tracepoints, ZFS commands on " + state, ATTACH, Plan.BUILT_IN));
    }

    @Override
    public Metrics metrics(String monitor, Meters meters) {
        return new Metrics(meters);
    }

    @Override
    public Monitor create(MonitorConfig config, ZfsSettings settings, Plan plan, Metrics metrics, MonitorContext context) {
        return BpfMonitor.builtin(config, plan, context, new Logic(config.name(), settings.device(), metrics, context));
    }

    /**
     * Keeps the kernel side's idea of the control device current, decodes operations into
     * events and counts them. The device is re-checked on every reader tick (~100 ms, one
     * stat()): when it appears (the module loads), changes (reloaded with another minor) or goes,
     * the zfs_devices map follows, so auditing starts within a tick of the device appearing,
     * without a restart.
     */
    private static final class Logic implements BpfLogic<ZfsEvent> {
        private final String name;
        private final Path device;
        private final Metrics metrics;
        private final MonitorContext context;
        private final ZfsDecoder decoder;
        private final Memory key = new Memory(ZfsDevice.KEY_SIZE);
        private final Memory one = new Memory(4);
        private BpfMap devices;
        private ZfsDevice current;
        private boolean checked;
        private long lastDeviceCheck = System.nanoTime();

        /** How often the device path is looked at again (the module loaded or unloaded, the node replaced). */
        static final long DEVICE_CHECK_NANOS = 1_000_000_000L;

        Logic(String name, Path device, Metrics metrics, MonitorContext context) {
            this.name = name;
            this.device = device;
            this.metrics = metrics;
            this.context = context;
            this.decoder = new ZfsDecoder(new EventHeader(context.process()));
            one.setInt(0, 1);
        }

        @Override
        public Decoder<ZfsEvent> decoder() {
            return decoder;
        }

        @Override
        public void loaded(BpfObject object) throws BpfException {
            devices = object.map("zfs_devices");
            refreshDevice();
        }

        @Override
        public void tick(long nowNanos) {
            // once a second: ticks come every 100 ms while events flow, and a look at the device
            // (two stat calls through NIO's attribute map) was a fifth of the reader's time at 16k ioctls/s
            if (nowNanos - lastDeviceCheck < DEVICE_CHECK_NANOS) return;
            lastDeviceCheck = nowNanos;
            try {
                refreshDevice();
            } catch (BpfException e) {
                throw new IllegalStateException(name + ": updating the device filter failed: " + e.getMessage(), e);
            }
        }

        /** Points the kernel-side filter at what the configured path is now. */
        private void refreshDevice() throws BpfException {
            ZfsDevice now = ZfsDevice.of(device).orElse(null);
            if (checked && Objects.equals(now, current)) return;
            if (current != null) {
                current.writeKey(key);
                devices.delete(key);
            }
            if (now != null) {
                now.writeKey(key);
                devices.update(key, one, 0);
                LOG.infof("%s: auditing ZFS ioctls on %s (%s)", name, device, now);
            } else if (!checked) {
                LOG.infof("%s: %s does not exist (ZFS module not loaded?); ZFS ioctls are audited as soon as it appears", name, device);
            } else {
                LOG.infof("%s: %s is gone; ZFS ioctls are audited again when it reappears", name, device);
            }
            current = now;
            checked = true;
            metrics.devicePresent.set(now != null ? 1 : 0);
        }

        @Override
        public void accept(ZfsEvent e) {
            metrics.operation(e.action.action, ZfsResult.label(e.result)).increment();
            context.output().emit(e);
        }

        /**
         * Operations that entered the kernel while attached but had not returned when the programs
         * were detached: their start was seen, so they are logged, with result "unknown".
         */
        @Override
        public void closing(BpfObject object) {
            metrics.devicePresent.set(0);
            if (!object.isLoaded()) return;
            try {
                object.map("inflight").forEach((k, v) -> {
                    ByteBuffer b = v.getByteBuffer(0, v.size()).order(ByteOrder.nativeOrder());
                    if (b.getLong(0) == 0) return; // the thread's last operation returned (h.ts_ns cleared)
                    int len = ZfsDecoder.recordLength(b, 0, (int) v.size());
                    try {
                        accept(decoder.decodeUnfinished(b, 0, len));
                    } catch (Decoder.Refused refused) {
                        context.output().malformed(refused.getMessage());
                    }
                });
            } catch (BpfException | RuntimeException e) {
                LOG.warnf("%s: reading operations still in progress failed: %s", name, e);
            }
        }
    }
}
