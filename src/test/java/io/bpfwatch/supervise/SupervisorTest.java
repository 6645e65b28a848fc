package io.bpfwatch.supervise;

import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import io.bpfwatch.testkit.TestMonitors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static io.bpfwatch.testkit.TestDaemon.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Supervision with real BPF: failures stay inside their monitor, reloads touch only what changed. */
@RequiresBpf
class SupervisorTest {
    private static final Backoff FAST = new Backoff(Duration.ofMillis(100), Duration.ofMillis(400));

    private static TestDaemon daemon(Path dir, String monitors, TestMonitors.Echo echo) throws Exception {
        MonitorCatalog catalog = MonitorCatalog.builtin().with(new TestMonitors.Broken(), echo);
        return new TestDaemon(dir, TestDaemon.yaml(dir, monitors), catalog, FAST, Duration.ofMillis(200));
    }

    @Test
    void aMonitorThatCannotAttachBacksOffWhileOthersKeepWorking(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "  tcp: {}\n  broken: {}\n", new TestMonitors.Echo())) {
            MonitorStatus broken = d.status("broken");
            assertThat(broken.state()).isEqualTo(MonitorState.BACKOFF);
            assertThat(broken.lastError()).contains("attaching program broken_probe").contains("ENOENT");
            assertThat(broken.nextAttempt()).isNotNull();
            assertThat(d.state("tcp")).isEqualTo(MonitorState.RUNNING);

            await("three restarts of broken", Duration.ofSeconds(10),
                    () -> d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"broken\"}") >= 3);
            Prom m = d.metrics();
            assertThat(m.get("bpfwatch_monitor_state{monitor=\"broken\",state=\"backoff\"}") + m.get("bpfwatch_monitor_state{monitor=\"broken\",state=\"starting\"}")).isEqualTo(1);
            assertThat(m.get("bpfwatch_monitor_up{monitor=\"broken\"}")).isZero();
            assertThat(m.get("bpfwatch_monitor_up{monitor=\"tcp\"}")).isEqualTo(1);
            assertThat(m.get("bpfwatch_monitor_restarts_total{monitor=\"tcp\"}")).isZero();

            // the delay grows and is capped
            var inBackoff = new java.util.concurrent.atomic.AtomicReference<MonitorStatus>();
            await("a backoff snapshot", Duration.ofSeconds(15), () -> {
                MonitorStatus s = d.status("broken");
                if (s.state() != MonitorState.BACKOFF) return false;
                inBackoff.set(s);
                return true;
            });
            assertThat(Duration.between(inBackoff.get().lastErrorAt(), inBackoff.get().nextAttempt()))
                    .isLessThanOrEqualTo(FAST.max().plusMillis(50));

            Process p = Connector.run("connect", "127.0.0.1:4444");
            await("tcp still logs", Duration.ofSeconds(10), () -> {
                try {
                    d.drain("tcp");
                    return d.lines("tcp").stream().anyMatch(l -> l.contains("\"pid\":" + p.pid() + ","));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    @Test
    void anExceptionInADecoderRestartsOnlyThatMonitorAndLosesNothingElse(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "  tcp: {}\n  echo: { poison: 13 }\n", new TestMonitors.Echo())) {
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);
            Instant tcpBefore = d.status("tcp").since();
            for (int i = 0; i < 5; i++) TestMonitors.echo(1);
            TestMonitors.echo(13);
            for (int i = 0; i < 5; i++) TestMonitors.echo(2);

            await("echo restarted", Duration.ofSeconds(10),
                    () -> d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"echo\"}") >= 1 && d.state("echo") == MonitorState.RUNNING);
            assertThat(d.status("echo").lastError()).contains("poison record 5");
            d.drain("echo");
            // the 10 good records around the poison are delivered; the poison is counted, not lost silently
            assertThat(d.lines("echo")).hasSize(10);
            Prom m = d.metrics();
            assertThat(m.get("bpfwatch_events_total{monitor=\"echo\"}")).isEqualTo(10);
            assertThat(m.get("bpfwatch_events_lost_total{monitor=\"echo\",stage=\"decode\"}")).isEqualTo(1);
            assertThat(d.status("tcp").since()).as("tcp untouched").isEqualTo(tcpBefore);

            TestMonitors.echo(3);
            await("echo delivers after the restart", Duration.ofSeconds(10), () -> {
                try {
                    d.drain("echo");
                    return d.lines("echo").size() == 11;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    @Test
    void aValidReloadRestartsOnlyTheMonitorsWhoseConfigChanged(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "  tcp: {}\n  echo: { tag: a }\n", new TestMonitors.Echo())) {
            Instant tcp = d.status("tcp").since();
            Instant echo = d.status("echo").since();

            d.writeConfig(TestDaemon.yaml(dir, "  tcp: {}\n  echo: { tag: b }\n"));
            assertThat(d.daemon.reload()).isTrue();
            assertThat(d.status("tcp").since()).isEqualTo(tcp);
            assertThat(d.status("echo").since()).isAfter(echo);
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);
            assertThat(d.metrics().get("bpfwatch_config_reloads_total{result=\"success\"}")).isEqualTo(1);

            d.writeConfig(TestDaemon.yaml(dir, "  tcp: {}\n  echo: { enabled: false, tag: b }\n"));
            assertThat(d.daemon.reload()).isTrue();
            assertThat(d.state("echo")).isEqualTo(MonitorState.DISABLED);
            assertThat(d.status("echo").attachPoints()).isEmpty();
            assertThat(d.status("tcp").since()).isEqualTo(tcp);
            // detached: its records are no longer produced
            long before = (long) d.metrics().get("bpfwatch_events_total{monitor=\"echo\"}");
            TestMonitors.echo(1);
            Thread.sleep(100);
            assertThat((long) d.metrics().get("bpfwatch_events_total{monitor=\"echo\"}")).isEqualTo(before);
        }
    }

    @Test
    void anInvalidReloadKeepsTheRunningMonitors(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "  tcp: {}\n  echo: {}\n", new TestMonitors.Echo())) {
            Instant tcp = d.status("tcp").since();
            Instant echo = d.status("echo").since();
            d.writeConfig(TestDaemon.yaml(dir, "  tcp: { alert: { ports: [99999] } }\n  echo: { enabled: false }\n"));
            assertThat(d.daemon.reload()).isFalse();
            assertThat(d.status("tcp").since()).isEqualTo(tcp);
            assertThat(d.status("echo").since()).isEqualTo(echo);
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);
            Prom m = d.metrics();
            assertThat(m.get("bpfwatch_config_reloads_total{result=\"failure\"}")).isEqualTo(1);
            assertThat(m.get("bpfwatch_config_last_reload_successful")).isZero();
        }
    }

    @Test
    void anUnavailableMonitorStartsByItselfWhenItsKernelSupportAppearsAndStopsWhenItGoes(@TempDir Path dir) throws Exception {
        TestMonitors.Echo echo = new TestMonitors.Echo();
        echo.available.set(false);
        try (TestDaemon d = daemon(dir, "  echo: {}\n", echo)) {
            assertThat(d.state("echo")).isEqualTo(MonitorState.UNAVAILABLE);
            assertThat(d.status("echo").lastError()).isEqualTo("test module not loaded");
            assertThat(d.daemon.ready()).as("unavailable counts as settled").isTrue();

            echo.available.set(true);
            await("echo running", Duration.ofSeconds(15), () -> d.state("echo") == MonitorState.RUNNING);
            TestMonitors.echo(1);
            await("an event", Duration.ofSeconds(15), () -> d.metrics().get("bpfwatch_events_total{monitor=\"echo\"}") == 1);

            echo.available.set(false);
            await("echo unavailable again", Duration.ofSeconds(15), () -> d.state("echo") == MonitorState.UNAVAILABLE);
            assertThat(d.status("echo").attachPoints()).isEmpty();
            assertThat(d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"echo\"}")).as("not a failure").isZero();
        }
    }

    @Test
    void aRunningMonitorOnWhatTheKernelHasBuiltInIsNotProbedAgainButOthersAre(@TempDir Path dir) throws Exception {
        TestMonitors.Echo builtIn = new TestMonitors.Echo();
        builtIn.builtIn.set(true);
        try (TestDaemon d = daemon(dir, "  echo: {}\n", builtIn)) {
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);
            int atStart = builtIn.probes.get();
            // housekeeping re-probes running monitors (every 200 ms here): let it run five times
            long before = d.daemon.supervisor().housekeepingRuns();
            await("five housekeeping rounds", Duration.ofSeconds(10), () -> d.daemon.supervisor().housekeepingRuns() >= before + 5);
            assertThat(builtIn.probes.get()).as("probes while running").isEqualTo(atStart);
        }
        TestMonitors.Echo module = new TestMonitors.Echo();
        try (TestDaemon d = daemon(java.nio.file.Files.createDirectories(dir.resolve("2")), "  echo: {}\n", module)) {
            int atStart = module.probes.get();
            await("probed again while running", Duration.ofSeconds(10), () -> module.probes.get() >= atStart + 2);
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);
        }
    }

    @Test
    void aMonitorWhoseHooksWentAwayIsDetachedAndProbedAgain(@TempDir Path dir) throws Exception {
        TestMonitors.Echo echo = new TestMonitors.Echo();
        try (TestDaemon d = daemon(dir, "  echo: {}\n", echo)) {
            Instant first = d.status("echo").since();

            // the module came back before any re-probe could notice it gone: a fresh instance attaches
            echo.lost.set("the test module was reloaded");
            await("a new echo instance", Duration.ofSeconds(15),
                    () -> {
                        // one snapshot: state and since read apart could pair the old instance's
                        // RUNNING with the new one's since while it is still starting
                        MonitorStatus st = d.status("echo");
                        return st.state() == MonitorState.RUNNING && st.since().isAfter(first);
                    });
            echo.lost.set(null);
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);
            TestMonitors.echo(2);
            await("an event from the new instance", Duration.ofSeconds(15),
                    () -> d.metrics().get("bpfwatch_events_total{monitor=\"echo\"}") == 1);

            // gone for good: unavailable with the probe's reason, not a failure
            echo.available.set(false);
            echo.lost.set("the test module was unloaded");
            await("echo unavailable", Duration.ofSeconds(15), () -> d.state("echo") == MonitorState.UNAVAILABLE);
            assertThat(d.status("echo").lastError()).isEqualTo("test module not loaded");
            assertThat(d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"echo\"}")).isZero();
        }
    }
}
