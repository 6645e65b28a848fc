package io.bpfwatch.monitor.dns;

import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.context.HostContext;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.EventOutput;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorMetrics;
import io.bpfwatch.monitor.Plan;
import io.bpfwatch.sink.EventLog;
import io.bpfwatch.testkit.FakeKernel;
import io.bpfwatch.testkit.RequiresBpf;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which hooks the dns monitor plans: fentry/fexit on the socket layer where the kernel has
 * them, the system-call tracepoints otherwise, as attach says; and a socket-layer start the
 * kernel refuses makes the next probe plan the tracepoints (the monitor does not stay down).
 */
@RequiresBpf
class DnsPlanTest {
    private static Kernel everything, noFentry, noFunctions;

    @BeforeAll
    static void kernels(@TempDir Path dir) throws Exception {
        List<String> tracepoints = DnsMonitorType.ATTACH.stream().map(a -> a.point().substring("tracepoint/".length())).toList();
        everything = new FakeKernel(dir.resolve("all")).tracepoints(tracepoints).functions(DnsMonitorType.SOCKET_FUNCTIONS).build(true);
        noFentry = new FakeKernel(dir.resolve("nofentry")).tracepoints(tracepoints).functions(DnsMonitorType.SOCKET_FUNCTIONS).build(false);
        noFunctions = new FakeKernel(dir.resolve("nofunctions")).tracepoints(tracepoints)
                .functions(List.of("inet_sendmsg", "inet_recvmsg", "inet_release", "inet_stream_connect", "inet_dgram_connect")).build(true);
    }

    private static DnsSettings attach(DnsSettings.Mode mode) {
        DnsSettings d = DnsSettings.DEFAULT;
        return new DnsSettings(d.ports(), d.tlsPorts(), d.timeout(), d.maxPending(), mode);
    }

    private static Plan plan(Availability a) {
        assertThat(a).isInstanceOf(Availability.Supported.class);
        return ((Availability.Supported) a).plan();
    }

    @Test
    void autoTakesTheSocketLayerWhereTheKernelHasItElseTheTracepoints() {
        DnsMonitorType type = new DnsMonitorType();
        Plan fentry = plan(type.probe(everything, DnsSettings.DEFAULT));
        assertThat(fentry.strategy()).startsWith("fentry/fexit on the socket layer (inet_sendmsg, inet6_sendmsg, inet_recvmsg, inet6_recvmsg");
        assertThat(fentry.attachPoints()).allMatch(p -> p.startsWith("fentry/") || p.startsWith("fexit/")).hasSize(11);
        assertThat(fentry.attachPoints().subList(0, 4)).as("exits first").allMatch(p -> p.startsWith("fexit/"));
        assertThat(fentry.guard()).isSameAs(Plan.BUILT_IN);

        Plan tracepoints = plan(type.probe(noFentry, DnsSettings.DEFAULT));
        assertThat(tracepoints.strategy()).isEqualTo("syscall tracepoints (22) (no fentry: fentry/fexit cannot be used on this (fake) kernel)");
        assertThat(tracepoints.attachments()).isEqualTo(DnsMonitorType.ATTACH);

        assertThat(plan(type.probe(noFunctions, DnsSettings.DEFAULT)).strategy())
                .isEqualTo("syscall tracepoints (22) (no fentry: inet6_sendmsg, inet6_recvmsg are not in the kernel's BTF)");
    }

    @Test
    void attachChoosesOrRefuses() {
        DnsMonitorType type = new DnsMonitorType();
        assertThat(plan(type.probe(everything, attach(DnsSettings.Mode.TRACEPOINT))).strategy()).isEqualTo("syscall tracepoints (22)");
        assertThat(plan(type.probe(everything, attach(DnsSettings.Mode.FENTRY))).attachments()).isEqualTo(DnsMonitorType.SOCKET_ATTACH);
        assertThat(type.probe(noFentry, attach(DnsSettings.Mode.FENTRY))).isInstanceOfSatisfying(Availability.Unsupported.class,
                u -> assertThat(u.reason()).isEqualTo("attach: fentry, but fentry/fexit cannot be used on this (fake) kernel"));
    }

    /**
     * The socket-layer plan started for real on this kernel: where fentry works it runs; where
     * it does not (the kernel refuses the programs, as an untested kernel's verifier might),
     * the start fails and the type's next probe, even of a kernel that claims fentry, plans the
     * tracepoints and says why.
     */
    @Test
    void aSocketLayerStartTheKernelRefusesMakesTheNextProbeTakeTheTracepoints(@TempDir Path dir) throws Exception {
        DnsMonitorType type = new DnsMonitorType();
        Plan fentry = plan(type.probe(everything, DnsSettings.DEFAULT));
        Meters meters = new Meters(new SimpleMeterRegistry());
        MonitorMetrics health = new MonitorMetrics("dns", meters);
        MonitorConfig config = new MonitorConfig("dns", "dns", true, type.defaultRingBuffer(), DnsSettings.DEFAULT);
        try (EventLog log = new EventLog("dns", new LogsConfig(dir, LogsConfig.Rotation.EXTERNAL), 16, health.lostQueue, health.lostWrite)) {
            Monitor m = type.create(config, DnsSettings.DEFAULT, fentry, type.metrics("dns", meters),
                    new MonitorContext("dns", health, new EventOutput(health, log), Kernel.system(), null, HostContext.system()));
            BpfException refused = null;
            try {
                m.start(failure -> { });
            } catch (BpfException e) {
                refused = e;
            } finally {
                m.stop();
            }
            if (Kernel.system().missingFentry().isEmpty()) {
                assertThat(refused).as("fentry works on this kernel: the socket-layer programs load").isNull();
                assertThat(plan(type.probe(everything, DnsSettings.DEFAULT)).attachments()).isEqualTo(DnsMonitorType.SOCKET_ATTACH);
            } else {
                assertThat(refused).as("this kernel has no fentry: the start must fail").isNotNull();
                Plan next = plan(type.probe(everything, DnsSettings.DEFAULT));
                assertThat(next.attachments()).isEqualTo(DnsMonitorType.ATTACH);
                assertThat(next.strategy()).startsWith("syscall tracepoints (22) (no fentry: its programs failed here: ")
                        .contains(refused.getMessage().lines().findFirst().orElseThrow());
                assertThat(type.probe(everything, attach(DnsSettings.Mode.FENTRY))).isInstanceOf(Availability.Unsupported.class);
            }
        } finally {
            meters.close();
        }
    }
}
