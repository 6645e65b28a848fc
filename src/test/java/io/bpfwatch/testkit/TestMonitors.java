package io.bpfwatch.testkit;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.config.Section;
import io.bpfwatch.event.Event;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.LibC;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorSettings;
import io.bpfwatch.monitor.MonitorType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Monitors that exist only in tests, to drive the supervisor through its failure paths with
 * real BPF objects (src/test/bpf).
 */
public final class TestMonitors {
    private TestMonitors() {}

    /** "broken": loads, but its tracepoint does not exist, so every attach fails (ENOENT). */
    public static final class Broken implements MonitorType {
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
        public MonitorSettings parse(Section s) {
            return new Settings();
        }

        @Override
        public Availability probe(Kernel kernel, MonitorSettings settings) {
            return new Availability.Supported("tracepoint/bpfwatch_test/does_not_exist", List.of("tracepoint/bpfwatch_test/does_not_exist"));
        }

        @Override
        public BpfMonitor create(MonitorConfig config, MonitorContext context) {
            return new BpfMonitor(config, context) {
                @Override
                protected void configure(BpfObject object) {
                }

                @Override
                protected void attach(BpfObject object, List<BpfLink> links) throws BpfException {
                    links.add(object.program("broken_probe").attach());
                }

                @Override
                protected void onRecord(ByteBuffer data, int offset, int length) {
                    throw new AssertionError("never attached, never called");
                }
            };
        }
    }

    /**
     * "echo": one event per getpgid(2^30 + len) call of this JVM (the ringtest object). A record
     * whose len equals {@code poison} makes the decoder throw. {@code available} switches the
     * probe's answer, standing in for a kernel module that comes and goes.
     */
    public static final class Echo implements MonitorType {
        public record Settings(int poison, String tag) implements MonitorSettings {
        }

        public final AtomicBoolean available = new AtomicBoolean(true);
        /** What running instances answer to attachmentLost(), standing in for a module reloaded under them. */
        public final java.util.concurrent.atomic.AtomicReference<String> lost = new java.util.concurrent.atomic.AtomicReference<>();

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
        public MonitorSettings parse(Section s) {
            return new Settings((int) s.integer("poison", -1, -1, 1023), s.string("tag", ""));
        }

        @Override
        public Availability probe(Kernel kernel, MonitorSettings settings) {
            if (!available.get()) return new Availability.Unsupported("test module not loaded");
            return new Availability.Supported("tracepoint/syscalls/sys_enter_getpgid", List.of("tracepoint/syscalls/sys_enter_getpgid"));
        }

        @Override
        public BpfMonitor create(MonitorConfig config, MonitorContext context) {
            int poison = ((Settings) config.settings()).poison();
            return new BpfMonitor(config, context) {
                @Override
                protected String objectName() {
                    return "ringtest";
                }

                @Override
                public String attachmentLost() {
                    return lost.get();
                }

                @Override
                protected void configure(BpfObject object) {
                    object.setConstant("target_pid", LibC.getpid());
                }

                @Override
                protected void attach(BpfObject object, List<BpfLink> links) throws BpfException {
                    links.add(object.program("ringtest_getpgid").attachTracepoint("syscalls", "sys_enter_getpgid"));
                }

                @Override
                protected void onRecord(ByteBuffer data, int offset, int length) {
                    long seq = data.getLong(offset + 40);
                    int len = data.getInt(offset + 48);
                    if (len == poison) throw new IllegalStateException("poison record " + seq);
                    context.output().emit(new EchoEvent(header, data, offset, seq, len));
                }
            };
        }
    }

    public static final class EchoEvent extends Event {
        final long seq;
        final int len;

        EchoEvent(io.bpfwatch.event.EventHeader h, ByteBuffer b, int off, long seq, int len) {
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
        public void writeFields(JsonGenerator g) throws IOException {
            g.writeNumberField("seq", seq);
            g.writeNumberField("len", len);
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
