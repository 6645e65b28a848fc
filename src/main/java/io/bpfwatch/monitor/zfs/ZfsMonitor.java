package io.bpfwatch.monitor.zfs;

import com.sun.jna.Memory;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live zfs monitor: attaches zfs.bpf.o to the ioctl tracepoints, keeps the kernel side's
 * idea of the control device current, decodes operations into events and counts them.
 *
 * The device is re-checked on every reader tick (~100 ms, one stat()): when it appears (the
 * module loads), changes (reloaded with another minor) or goes, the zfs_devices map follows,
 * so auditing starts within a tick of the device appearing, without a restart.
 */
final class ZfsMonitor extends BpfMonitor {
    private static final Logger LOG = Logger.getLogger(ZfsMonitor.class);
    /** bpfwatch_zfs_device_present, per registry; it outlives restarts of the monitor. */
    private static final Map<MeterRegistry, AtomicInteger> DEVICE_PRESENT = new WeakHashMap<>();

    private final Path device;
    private final ZfsDecoder decoder;
    private final MeterRegistry registry;
    private final Map<String, Counter> operations = new HashMap<>();
    private final AtomicInteger present;
    private final Memory key = new Memory(ZfsDevice.KEY_SIZE);
    private final Memory one = new Memory(4);
    private BpfMap devices;
    private ZfsDevice current;
    private boolean checked;

    ZfsMonitor(MonitorConfig config, MonitorContext context) {
        super(config, context);
        device = ((ZfsSettings) config.settings()).device();
        decoder = new ZfsDecoder(header);
        registry = context.registry();
        present = devicePresent(registry);
        one.setInt(0, 1);
        for (String action : ZfsAction.actions()) counter(action, "ok");
    }

    private static AtomicInteger devicePresent(MeterRegistry registry) {
        synchronized (DEVICE_PRESENT) {
            return DEVICE_PRESENT.computeIfAbsent(registry, r -> {
                AtomicInteger a = new AtomicInteger();
                Gauge.builder("bpfwatch.zfs.device.present", a, AtomicInteger::get)
                        .description("1 while the configured ZFS control device exists and its ioctls are audited, else 0")
                        .register(r);
                return a;
            });
        }
    }

    // the last operation's counter: a burst of one kind builds no key
    private String lastAction, lastResult;
    private Counter lastCounter;

    private Counter counter(String action, String result) {
        if (action == lastAction && result.equals(lastResult)) return lastCounter;
        String k = action + '\0' + result;
        Counter c = operations.get(k);
        if (c == null) {
            c = Counter.builder("bpfwatch.zfs.snapshot.operations").tags("action", action, "result", result)
                    .description("ZFS snapshot operations by action and result (ok, or the errno name)")
                    .register(registry);
            operations.put(k, c);
        }
        lastAction = action;
        lastResult = result;
        lastCounter = c;
        return c;
    }

    @Override
    protected void configure(BpfObject object) {
        // the command filter is compiled in; the device is a map, set once loaded
    }

    @Override
    protected void attach(BpfObject object, java.util.List<BpfLink> links) throws BpfException {
        devices = object.map("zfs_devices");
        refreshDevice();
        links.add(object.program("zfs_ioctl_enter").attachTracepoint("syscalls", "sys_enter_ioctl"));
        links.add(object.program("zfs_ioctl_exit").attachTracepoint("syscalls", "sys_exit_ioctl"));
    }

    @Override
    protected void tick(long nowNanos) {
        try {
            refreshDevice();
        } catch (BpfException e) {
            throw new IllegalStateException(name() + ": updating the device filter failed: " + e.getMessage(), e);
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
            LOG.infof("%s: auditing ZFS ioctls on %s (%s)", name(), device, now);
        } else if (!checked) {
            LOG.infof("%s: %s does not exist (ZFS module not loaded?); ZFS ioctls are audited as soon as it appears", name(), device);
        } else {
            LOG.infof("%s: %s is gone; ZFS ioctls are audited again when it reappears", name(), device);
        }
        current = now;
        checked = true;
        present.set(now != null ? 1 : 0);
    }

    @Override
    protected void onRecord(ByteBuffer data, int offset, int length) {
        ZfsEvent e = decoder.decode(data, offset, length);
        if (e == null) {
            context.output().malformed(decoder.problem);
            return;
        }
        deliver(e);
    }

    private void deliver(ZfsEvent e) {
        counter(e.action.action, ZfsResult.label(e.result)).increment();
        context.output().emit(e);
    }

    /**
     * Operations that entered the kernel while attached but had not returned when the programs
     * were detached: their start was seen, so they are logged, with result "unknown".
     */
    @Override
    protected void beforeClose(BpfObject object) {
        present.set(0);
        if (!object.isLoaded()) return;
        try {
            object.map("inflight").forEach((k, v) -> {
                ByteBuffer b = v.getByteBuffer(0, v.size()).order(ByteOrder.nativeOrder());
                if (b.getLong(0) == 0) return; // the thread's last operation returned (h.ts_ns cleared)
                int len = ZfsDecoder.recordLength(b, 0, (int) v.size());
                ZfsEvent e = decoder.decodeUnfinished(b, 0, len);
                if (e == null) context.output().malformed(decoder.problem); else deliver(e);
            });
        } catch (BpfException | RuntimeException e) {
            LOG.warnf("%s: reading operations still in progress failed: %s", name(), e);
        }
    }
}
