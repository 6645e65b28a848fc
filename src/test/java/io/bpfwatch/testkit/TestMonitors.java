package io.bpfwatch.testkit;

import io.bpfwatch.config.Section;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.LibC;
import io.bpfwatch.monitor.Attach;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfLogic;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.BpfObjects;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorSettings;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.Plan;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Monitors that exist only in tests, to drive the supervisor through its failure paths with
 * real BPF objects (src/test/bpf).
 */
public final class TestMonitors {
    private TestMonitors() {}

    /** "broken": loads, but its tracepoint does not exist, so every attach fails (ENOENT). */
    public static final class Broken implements MonitorType<Broken.Settings, Void> {
        public record Settings() implements MonitorSettings {
        }

        @Override
        public String name() {
            return "broken";
        }

        @Override
        public int defaultRingBuffer() {
            return 1 << 20;
        }

        @Override
        public String description() {
            return "test: attach always fails";
        }

        @Override
        public Settings parse(Section s) {
            return new Settings();
        }

        @Override
        public Availability probe(Kernel kernel, Settings settings) {
            return new Availability.Supported(new Plan("tracepoint/bpfwatch_test/does_not_exist",
                    List.of(new Attach.Tracepoint("broken_probe", "bpfwatch_test", "does_not_exist"))));
        }

        @Override
        public Void metrics(String monitor, Meters meters) {
            return null;
        }

        @Override
        public Monitor create(MonitorConfig config, Settings settings, Plan plan, Void metrics, MonitorContext context) {
            return BpfMonitor.builtin(config, plan, context, new BpfLogic<Void>() {
                @Override
                public Decoder<Void> decoder() {
                    return (b, off, len) -> {
                        throw new AssertionError("never attached, never called");
                    };
                }

                @Override
                public void accept(Void record) {
                }
            });
        }
    }

    /**
     * "echo": one event per getpgid(2^30 + len) call of this JVM (the ringtest object). A record
     * whose len equals {@code poison} makes the decoder throw. {@code available} switches the
     * probe's answer, standing in for a kernel module that comes and goes; {@code lost} is what
     * the plan's guard answers, standing in for a module reloaded under a running instance.
     * {@link #gate} holds the reader inside one record, so the ring fills behind it.
     */
    public static final class Echo implements MonitorType<Echo.Settings, Void> {
        public record Settings(int poison, String tag) implements MonitorSettings {
        }

        public final AtomicBoolean available = new AtomicBoolean(true);
        public final AtomicReference<String> lost = new AtomicReference<>();
        /** Probe answers "built in" plans (never re-probed while running); counts its calls. */
        public final AtomicBoolean builtIn = new AtomicBoolean();
        public final java.util.concurrent.atomic.AtomicInteger probes = new java.util.concurrent.atomic.AtomicInteger();
        public final Gate gate = new Gate();

        @Override
        public String name() {
            return "echo";
        }

        @Override
        public int defaultRingBuffer() {
            return 1 << 20;
        }

        @Override
        public String description() {
            return "test: echoes getpgid calls of the test JVM";
        }

        @Override
        public Settings parse(Section s) {
            return new Settings((int) s.integer("poison", -1, -1, 1023), s.string("tag", ""));
        }

        @Override
        public Availability probe(Kernel kernel, Settings settings) {
            probes.incrementAndGet();
            if (!available.get()) return new Availability.Unsupported("test module not loaded");
            return new Availability.Supported(new Plan("tracepoint/syscalls/sys_enter_getpgid",
                    List.of(new Attach.Tracepoint("ringtest_getpgid", "syscalls", "sys_enter_getpgid")),
                    builtIn.get() ? Plan.BUILT_IN : lost::get));
        }

        @Override
        public Void metrics(String monitor, Meters meters) {
            return null;
        }

        @Override
        public Monitor create(MonitorConfig config, Settings settings, Plan plan, Void metrics, MonitorContext context) {
            EventHeader header = new EventHeader();
            return new BpfMonitor<>(config, BpfObjects.builtin("ringtest"), plan, context, new BpfLogic<EchoEvent>() {
                @Override
                public Decoder<EchoEvent> decoder() {
                    return (data, offset, length) -> {
                        long seq = data.getLong(offset + EventHeader.SIZE);
                        int len = data.getInt(offset + EventHeader.SIZE + 8);
                        if (len == settings.poison()) throw new IllegalStateException("poison record " + seq);
                        return new EchoEvent(header, data, offset, seq, len);
                    };
                }

                @Override
                public void configure(BpfObject object) {
                    object.setConstant("target_pid", LibC.getpid());
                }

                @Override
                public void accept(EchoEvent e) {
                    gate.pass();
                    context.output().emit(e);
                }
            });
        }
    }

    /** Holds the echo reader inside the next record it handles until released. */
    public static final class Gate {
        private final AtomicBoolean armed = new AtomicBoolean();
        private volatile CountDownLatch held = new CountDownLatch(1);
        private volatile CountDownLatch release = new CountDownLatch(1);

        /** The next record the reader handles holds it. */
        public void holdNext() {
            held = new CountDownLatch(1);
            release = new CountDownLatch(1);
            armed.set(true);
        }

        /** Waits until the reader is held. */
        public void awaitHeld() throws InterruptedException {
            if (!held.await(10, TimeUnit.SECONDS)) throw new AssertionError("the echo reader never reached the gate");
        }

        public void release() {
            release.countDown();
        }

        void pass() {
            if (!armed.compareAndSet(true, false)) return;
            held.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) throw new AssertionError("the gate was never released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public static final class EchoEvent extends Event {
        private static final Name SEQ = Name.of("seq"), LEN = Name.of("len");
        final long seq;
        final int len;

        EchoEvent(EventHeader h, ByteBuffer b, int off, long seq, int len) {
            super(h, b, off);
            this.seq = seq;
            this.len = len;
        }

        @Override
        public String monitor() {
            return "echo";
        }

        @Override
        public String event() {
            return "echo";
        }

        @Override
        public void writeFields(FieldWriter w) {
            w.field(SEQ, seq);
            w.field(LEN, len);
        }
    }

    /** getpgid(2^30 + len): an echo record with that len (no such process; the tracepoint fires anyway). */
    public static void echo(int len) {
        Sys.getpgid((1 << 30) + len);
    }

    static final class Sys {
        static {
            com.sun.jna.Native.register(Sys.class, com.sun.jna.NativeLibrary.getInstance("c"));
        }

        static native int getpgid(int pid);
    }
}
