package io.bpfwatch.packaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.Cmd;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The .deb under real systemd, as an admin lives with it: apt install, enable --now, events in
 * /var/log/bpfwatch, reload, logrotate, the watchdog, an upgrade, stop, purge, and a source
 * install after it. One booted container; the steps run in order and build on each other.
 */
@RequiresBpf
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SystemdServiceIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONFIG = "/etc/bpfwatch/bpfwatch.yaml";
    private static final String METRICS = "http://127.0.0.1:9476/metrics";
    private static SystemdContainer c;
    private static Path deb;

    @BeforeAll
    static void boot() throws Exception {
        Packaging.requireTools("systemd-nspawn", "debootstrap", "nsenter", "curl", "dpkg-deb");
        deb = Packaging.deb();
        long t0 = System.nanoTime();
        Path image = SystemdContainer.image(Packaging.cache(), deb);
        long t1 = System.nanoTime();
        c = SystemdContainer.boot(image, Packaging.basedir().resolve("target/systemd-it"),
                List.of(deb + ":/root/" + deb.getFileName()));
        System.out.printf("container image %s ready in %.1f s, booted in %.1f s%n", image.getFileName(),
                (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
    }

    @AfterAll
    static void shutDown() throws Exception {
        if (c == null) return;
        Path journal = Packaging.basedir().resolve("target/systemd-it/journal.txt");
        Files.writeString(journal, c.exec("journalctl", "--no-pager", "-o", "short-precise").out());
        c.close();
    }

    @Test
    @Order(1)
    void installsOfflineWithItsDependenciesAndLeavesTheServiceToTheAdmin() {
        assertThat(c.exec("dpkg", "-s", "libbpf1").exit()).as("libbpf1 is not in the image yet").isNotZero();
        long t0 = System.nanoTime();
        Cmd.Result install = c.exec(Duration.ofMinutes(5), "sh", "-c",
                "cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y ./" + deb.getFileName()).ok();
        System.out.printf("apt install with dependencies, offline: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(install.out()).contains("Setting up bpfwatch (").contains("Setting up libbpf1").contains("Setting up openjdk-17-jre-headless");
        assertThat(c.exec("dpkg-query", "-W", "-f", "${Status}\\n", "libbpf1", "procps", "default-jre-headless").ok().out())
                .isEqualTo("install ok installed\n".repeat(3));

        assertThat(c.exec("systemctl", "is-enabled", "bpfwatch").out().trim()).isEqualTo("disabled");
        assertThat(c.exec("systemctl", "is-active", "bpfwatch").out().trim()).isEqualTo("inactive");
        for (String f : List.of("/usr/bin/bpfwatch", "/usr/lib/bpfwatch/quarkus-run.jar", CONFIG, "/lib/systemd/system/bpfwatch.service",
                "/usr/share/doc/bpfwatch/examples/logrotate", "/usr/share/man/man1/bpfwatch.1.gz")) {
            assertThat(c.exec("test", "-f", f).exit()).as(f).isZero();
        }
        assertThat(c.exec("test", "-e", "/etc/logrotate.d/bpfwatch").exit())
                .as("the logrotate file is an example: the default config rotates by itself").isNotZero();
        assertThat(c.exec("bpfwatch", "version").ok().out()).startsWith("bpfwatch ").contains("libbpf v1.");
        assertThat(c.exec("bpfwatch", "check").ok().out()).startsWith(CONFIG + ": OK");
    }

    @Test
    @Order(2)
    void theUnitVerifiesCleanAndIsLessExposedThanFalcos() throws Exception {
        Cmd.Result verify = c.exec("systemd-analyze", "verify", "bpfwatch.service");
        assertThat(verify.exit()).as(verify.describe()).isZero();
        assertThat(verify.err()).as("systemd-analyze verify only warns, on stderr").isEmpty();

        String falco = Files.readString(Packaging.file("src/test/resources/falco/falco-modern-bpf.service"));
        Cmd.run(Duration.ofSeconds(30), null, falco.getBytes(StandardCharsets.UTF_8), List.of("nsenter", "-t", Long.toString(c.leader()), "-a",
                "sh", "-c", "cat > /etc/systemd/system/falco-modern-bpf.service && systemctl daemon-reload")).ok();
        double ours = exposure(c.exec("systemd-analyze", "security", "--no-pager", "bpfwatch.service").ok().out(), "bpfwatch.service");
        double theirs = exposure(c.exec("systemd-analyze", "security", "--no-pager", "falco-modern-bpf.service").ok().out(), "falco-modern-bpf.service");
        c.sh("rm /etc/systemd/system/falco-modern-bpf.service && systemctl daemon-reload").ok();
        // The same, offline, on the unit files themselves.
        double oursOffline = exposure(Cmd.ok("systemd-analyze", "security", "--offline=true",
                Packaging.file("packaging/systemd/bpfwatch.service").toString()).out(), "bpfwatch.service");
        double theirsOffline = exposure(Cmd.ok("systemd-analyze", "security", "--offline=true",
                Packaging.file("src/test/resources/falco/falco-modern-bpf.service").toString()).out(), "falco-modern-bpf.service");
        System.out.printf("systemd-analyze security exposure: bpfwatch %.1f (offline %.1f), Falco %.1f (offline %.1f)%n",
                ours, oursOffline, theirs, theirsOffline);
        assertThat(ours).isLessThan(theirs);
        assertThat(oursOffline).isLessThan(theirsOffline);
        // The README states the numbers measured here.
        String readme = Files.readString(Packaging.file("README.md"));
        assertThat(readme).contains(String.format("| bpfwatch.service | %.1f | %.1f |", ours, oursOffline))
                .contains(String.format("| Falco's falco-modern-bpf.service | %.1f | %.1f |", theirs, theirsOffline));
    }

    private static double exposure(String report, String unit) {
        Matcher m = Pattern.compile("Overall exposure level for " + Pattern.quote(unit) + ": (\\d+\\.\\d)").matcher(report);
        assertThat(m.find()).as(report).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    @Order(3)
    void enableNowReturnsOnlyOnceMetricsAnswer() {
        c.exec(Duration.ofSeconds(90), "systemctl", "enable", "--now", "bpfwatch").ok();
        // No retry: Type=notify means systemctl returned after READY=1, which comes after HTTP is up.
        SystemdContainer.Http m = c.get(METRICS);
        assertThat(m.status()).as(m.body()).isEqualTo(200);
        assertThat(new Prom(m.body()).get("bpfwatch_monitor_up{monitor=\"tcp\"}")).isEqualTo(1.0);
        assertThat(c.property("bpfwatch", "ActiveState")).isEqualTo("active");
        // STATUS= carries the summary: one entry per enabled monitor of the shipped config.
        assertThat(c.property("bpfwatch", "StatusText")).contains("tcp running");
        String log = c.exec("journalctl", "-u", "bpfwatch", "-o", "cat", "--no-pager").ok().out();
        int ready = log.indexOf("ready: ");
        assertThat(ready).as(log).isPositive().isLessThan(log.indexOf("Started bpfwatch.service"));
        assertThat(log.substring(ready, log.indexOf('\n', ready))).contains("tcp running");
    }

    @Test
    @Order(4)
    void liveMetricsPassPromtoolLint() {
        // promtool reads the Prometheus text format; without this Accept header Quarkus serves OpenMetrics.
        SystemdContainer.Http m = c.get(METRICS, "Accept: text/plain; version=0.0.4");
        assertThat(m.status()).isEqualTo(200);
        Cmd.Result lint = Cmd.run(Duration.ofSeconds(30), null, m.body().getBytes(StandardCharsets.UTF_8),
                List.of(Packaging.promtool().toString(), "check", "metrics"));
        assertThat(lint.out() + lint.err()).isEmpty();
        assertThat(lint.exit()).isZero();
    }

    @Test
    @Order(5)
    void aConnectionMadeInTheContainerIsLogged() throws Exception {
        connect(4444);
        JsonNode e = await("a tcp.log line for port 4444", () -> tcpEvents().stream()
                .filter(j -> j.path("dport").asInt() == 4444 && j.path("comm").asText().equals("bwconnect")).findFirst().orElse(null));
        assertThat(e.path("daddr").asText()).isEqualTo("127.0.0.1");
        assertThat(e.path("alert").asBoolean()).isTrue();
        assertThat(e.path("rules").toString()).isEqualTo("[\"port:4444\"]");
        assertThat(metrics().get("bpfwatch_tcp_alerts_total{rule=\"port:4444\"}")).isGreaterThanOrEqualTo(1.0);
        // entered from outside (nsenter), the shell stays in a cgroup the container cannot see: no cgroup, no unit
        assertThat(e.has("unit")).as("%s", e).isFalse();

        // a process systemd started as a unit of its own is known by that unit, its cgroup and its parent,
        // even when its cgroup is gone before the event is read (the unit's process exits at once): the
        // kernel records each cgroup made, and the daemon in the container's cgroup namespace sees its part
        assertThat(c.exec("journalctl", "-u", "bpfwatch", "-o", "cat", "--no-pager").ok().out())
                .containsPattern("tcp: running, attached to .*tp_btf/cgroup_mkdir");
        c.sh("[ -x /usr/local/bin/bwconnect ] || cp /bin/bash /usr/local/bin/bwconnect").ok();
        c.exec("systemd-run", "--unit", "bwctx-probe", "--wait", "--quiet", "/usr/local/bin/bwconnect", "-c",
                "true 2>/dev/null 3<>/dev/tcp/127.0.0.1/4445; true").ok();
        JsonNode u = await("a tcp.log line for port 4445", () -> tcpEvents().stream()
                .filter(j -> j.path("dport").asInt() == 4445 && j.path("comm").asText().equals("bwconnect")).findFirst().orElse(null));
        assertThat(u.path("unit").asText()).as("%s", u).isEqualTo("bwctx-probe.service");
        assertThat(u.path("cgroup").asText()).isEqualTo("/system.slice/bwctx-probe.service");
        assertThat(u.path("ppid").asInt()).as("the host's pid of the container's systemd").isPositive();
        assertThat(u.path("pcomm").asText()).isEqualTo("systemd");
        assertThat(u.path("exe").asText()).isEqualTo("/usr/local/bin/bwconnect");
        assertThat(u.has("container")).as("no container layout").isFalse();
    }

    @Test
    @Order(6)
    void reloadAppliesAValidChangeAndABrokenFileFailsItKeepingTheRunningSet() throws Exception {
        String pid = c.property("bpfwatch", "MainPID");
        c.sh("sed -i 's/ports: \\[4444,/ports: [7777, 4444,/' " + CONFIG).ok();
        c.exec("systemctl", "reload", "bpfwatch").ok();
        // systemctl reload returns once SIGHUP is sent (ExecReload); the daemon counts the reload
        // when the changed monitor is running again, after its new rules were registered
        await("the reload to be applied", () -> metrics().get("bpfwatch_config_reloads_total{result=\"success\"}") == 1.0 ? true : null);
        assertThat(metrics().has("bpfwatch_tcp_alerts_total{rule=\"port:7777\"}")).isTrue();
        connect(7777);
        await("an alert on the new rule", () -> tcpEvents().stream().filter(j -> j.path("dport").asInt() == 7777
                && j.path("comm").asText().equals("bwconnect") && j.path("rules").toString().equals("[\"port:7777\"]")).findFirst().orElse(null));

        // ExecReload runs `bpfwatch check` first: the reload job fails, the daemon is not even signalled.
        c.sh("sed -i 's/ports: \\[7777,/ports: [77777,/' " + CONFIG).ok();
        Cmd.Result refused = c.exec("systemctl", "reload", "bpfwatch");
        assertThat(refused.exit()).isNotZero();
        assertThat(c.exec("journalctl", "-u", "bpfwatch", "-o", "cat", "--no-pager").out())
                .contains(CONFIG + ":").contains("port 77777 is out of range");
        // A HUP that bypasses the check: the daemon validates too, and keeps what runs.
        c.exec("systemctl", "kill", "--signal=HUP", "--kill-who=main", "bpfwatch").ok();
        await("the refused reload counted", () -> metrics().get("bpfwatch_config_reloads_total{result=\"failure\"}") == 1.0 ? true : null);
        Prom after = metrics();
        assertThat(after.get("bpfwatch_config_last_reload_successful")).isEqualTo(0.0);
        assertThat(after.has("bpfwatch_tcp_alerts_total{rule=\"port:7777\"}")).isTrue();
        assertThat(after.get("bpfwatch_monitor_up{monitor=\"tcp\"}")).isEqualTo(1.0);
        assertThat(c.property("bpfwatch", "ActiveState")).isEqualTo("active");
        assertThat(c.property("bpfwatch", "MainPID")).isEqualTo(pid);

        c.sh("sed -i 's/ports: \\[77777,/ports: [7777,/' " + CONFIG).ok();
        c.exec("systemctl", "reload", "bpfwatch").ok();
        await("the good file back", () -> metrics().get("bpfwatch_config_last_reload_successful") == 1.0 ? true : null);
    }

    /**
     * A bpftrace monitor under the shipped unit's sandbox (capabilities, system call filter,
     * ProtectSystem=strict): added by a reload, it runs, logs and exports its map; removed by the
     * next, its bpftrace is gone.
     */
    @Test
    @Order(7)
    void aBpftraceMonitorRunsUnderTheUnitsSandbox() throws Exception {
        assertThat(c.exec("dpkg-query", "-W", "-f", "${Status}", "bpftrace").ok().out()).as("bpftrace came as a Recommends")
                .isEqualTo("install ok installed");
        c.sh("cp " + CONFIG + " /root/bpfwatch.yaml.before && cat >> " + CONFIG + " <<'EOF'\n"
                + "  ticks:\n    kind: bpftrace\n    program: |\n"
                + "      interval:ms:200 { @n = count(); printf(\"tick n=%d\\n\", 1); print(@n); }\nEOF").ok();
        try {
            double reloads = metrics().get("bpfwatch_config_reloads_total{result=\"success\"}");
            c.exec("systemctl", "reload", "bpfwatch").ok();
            await("the ticks monitor running", () -> metrics().get("bpfwatch_monitor_up{monitor=\"ticks\"}") == 1.0 ? true : null);
            JsonNode tick = await("a line in ticks.log", () -> {
                Cmd.Result r = c.exec("sh", "-c", "head -n1 /var/log/bpfwatch/ticks.log 2>/dev/null");
                return r.out().isBlank() ? null : JSON.readTree(r.out());
            });
            assertThat(tick.path("monitor").asText()).isEqualTo("ticks");
            assertThat(tick.path("n").asInt()).isEqualTo(1);
            await("the printed map on /metrics", () -> metrics().get("bpfwatch_custom_ticks_n") > 0 ? true : null);
            assertThat(c.exec("systemctl", "status", "--no-pager", "-l", "bpfwatch").out())
                    .as("bpftrace runs in the service's cgroup, under setpriv's pdeathsig").contains("bpftrace -f json");
            assertThat(metrics().get("bpfwatch_config_reloads_total{result=\"success\"}")).isEqualTo(reloads + 1);
        } finally {
            c.sh("cp /root/bpfwatch.yaml.before " + CONFIG).ok();
            c.exec("systemctl", "reload", "bpfwatch").ok();
        }
        await("the ticks monitor gone", () -> metrics().has("bpfwatch_monitor_up{monitor=\"ticks\"}") ? null : true);
        await("its bpftrace gone", () -> c.exec("pgrep", "-x", "bpftrace").exit() != 0 ? true : null);
    }

    /**
     * The shipped logrotate file, unchanged, with `rotate: external`: forced rotations while a
     * process makes 4000 numbered connections. Every one of them is a line, once; every line
     * is whole JSON; the lines in all the files match the daemon's own count.
     */
    @Test
    @Order(8)
    void logrotateRotatesWhileEventsFlowAndNoLineIsLostOrSplit() throws Exception {
        c.sh("systemctl stop bpfwatch && rm -f /var/log/bpfwatch/tcp.log* && "
                + "sed -i 's/^  rotate: .*/  rotate: external/' " + CONFIG + " && bpfwatch check && "
                + "cp /usr/share/doc/bpfwatch/examples/logrotate /etc/logrotate.d/bpfwatch && systemctl start bpfwatch").ok();
        int first = 20000;
        int count = 4000;
        int rotations = 6;
        // A copy of bash named bwload: its events are told apart from the rest of the machine's.
        c.sh("cp /bin/bash /usr/local/bin/bwload && rm -f /tmp/load.done && (bwload -c '"
                + "for p in $(seq " + first + " " + (first + count - 1) + "); do true 3<>/dev/tcp/127.0.0.1/$p; "
                + "[ $((p % 10)) = 0 ] && sleep 0.01; done 2>/dev/null; touch /tmp/load.done' </dev/null >/dev/null 2>&1 &)").ok();
        long t0 = System.nanoTime();
        int done = 0;
        while (done < rotations) {
            Thread.sleep(500);
            c.exec("logrotate", "-f", "-s", "/var/lib/logrotate/bpfwatch-test.state", "/etc/logrotate.d/bpfwatch").ok();
            done++;
            assertThat(c.exec("test", "-e", "/tmp/load.done").exit()).as("the load outlasts the rotations").isNotZero();
        }
        await("the load to finish", () -> c.exec("test", "-e", "/tmp/load.done").exit() == 0 ? true : null);
        System.out.printf("%d connections, %d forced rotations in %.1f s%n", count, rotations, (System.nanoTime() - t0) / 1e9);

        await("the tcp writer to drain", () -> tcpPending() == 0 ? true : null);
        Prom before = metrics();
        List<String> lines = tcpLogLines(true);
        Prom after = metrics();
        List<String> files = List.of(c.sh("ls /var/log/bpfwatch/").ok().out().trim().split("\n"));
        assertThat(files).contains("tcp.log", "tcp.log.1", "tcp.log.2.gz", "tcp.log." + rotations + ".gz");
        assertThat(after.get("bpfwatch_config_reloads_total{result=\"success\"}")).as("postrotate sent one HUP per rotation").isEqualTo(rotations);

        Map<Integer, Integer> seen = new HashMap<>();
        for (String line : lines) {
            JsonNode j = JSON.readTree(line); // a split line would not parse
            assertThat(j.path("monitor").asText()).as(line).isEqualTo("tcp");
            if (j.path("comm").asText().equals("bwload")) seen.merge(j.path("dport").asInt(), 1, Integer::sum);
        }
        List<Integer> wrong = new ArrayList<>();
        for (int p = first; p < first + count; p++) if (seen.getOrDefault(p, 0) != 1) wrong.add(p);
        assertThat(wrong).as("ports not logged exactly once").isEmpty();
        assertThat(seen.keySet()).hasSize(count);
        // Every event counted before reading is a line; lines appear only for counted events.
        assertThat((double) lines.size()).isBetween(written(before), written(after));
        assertThat(before.sum("bpfwatch_events_lost_total", "monitor=\"tcp\"")).isZero();

        c.sh("rm /etc/logrotate.d/bpfwatch").ok();
    }

    /** The tcp log's events accepted and not yet written, from /monitors. */
    private static long tcpPending() throws IOException {
        SystemdContainer.Http m = c.get("http://127.0.0.1:9476/monitors");
        assertThat(m.status()).as(m.body()).isEqualTo(200);
        for (JsonNode n : JSON.readTree(m.body()).path("monitors")) {
            if (n.path("name").asText().equals("tcp")) return n.path("log_pending").asLong();
        }
        throw new AssertionError("no tcp in /monitors: " + m.body());
    }

    private static double written(Prom p) {
        return p.get("bpfwatch_events_total{monitor=\"tcp\"}") - p.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"queue\"}")
                - p.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"write\"}");
    }

    @Test
    @Order(9)
    void theWatchdogRestartsAStoppedDaemon() throws Exception {
        c.sh("mkdir -p /etc/systemd/system/bpfwatch.service.d && printf '[Service]\\nWatchdogSec=3s\\n' > "
                + "/etc/systemd/system/bpfwatch.service.d/watchdog.conf && systemctl daemon-reload && systemctl restart bpfwatch").ok();
        String pid = c.property("bpfwatch", "MainPID");
        String restarts = c.property("bpfwatch", "NRestarts");
        // a live daemon keeps pinging: systemd sees two pings more, and no restart
        String ping = c.property("bpfwatch", "WatchdogTimestampMonotonic");
        for (int i = 0; i < 2; i++) {
            String seen = ping;
            ping = await("a watchdog ping", () -> {
                String now = c.property("bpfwatch", "WatchdogTimestampMonotonic");
                return now.equals(seen) ? null : now;
            });
        }
        assertThat(c.property("bpfwatch", "MainPID")).isEqualTo(pid);
        assertThat(c.property("bpfwatch", "NRestarts")).isEqualTo(restarts);

        c.exec("kill", "-STOP", pid).ok();
        await("a restart by the watchdog", () -> !c.property("bpfwatch", "NRestarts").equals(restarts)
                && c.property("bpfwatch", "ActiveState").equals("active") ? true : null);
        assertThat(c.property("bpfwatch", "MainPID")).isNotEqualTo(pid);
        assertThat(c.exec("journalctl", "-u", "bpfwatch", "-o", "cat", "--no-pager").out()).contains("Watchdog timeout (limit 3s)");
        assertThat(c.get(METRICS).status()).isEqualTo(200);
        c.sh("rm -r /etc/systemd/system/bpfwatch.service.d && systemctl daemon-reload").ok();
    }

    @Test
    @Order(10)
    void anUpgradeKeepsTheEditedConfigAndRestartsTheRunningService() {
        String pid = c.property("bpfwatch", "MainPID");
        c.exec(Duration.ofMinutes(2), "sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall /root/" + deb.getFileName()).ok();
        assertThat(c.exec("cat", CONFIG).ok().out()).contains("ports: [7777, 4444,").contains("rotate: external");
        assertThat(c.exec("test", "-e", CONFIG + ".dpkg-dist").exit()).isNotZero();
        assertThat(c.property("bpfwatch", "ActiveState")).isEqualTo("active");
        assertThat(c.property("bpfwatch", "MainPID")).isNotEqualTo(pid);
        assertThat(c.get(METRICS).status()).isEqualTo(200);
    }

    @Test
    @Order(11)
    void stopDetachesFlushesAndExitsZero() {
        long t0 = System.nanoTime();
        c.exec("systemctl", "stop", "bpfwatch").ok();
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("systemctl stop: %.2f s%n", seconds);
        assertThat(seconds).isLessThan(5.0);
        assertThat(c.property("bpfwatch", "Result")).isEqualTo("success");
        assertThat(c.property("bpfwatch", "ExecMainStatus")).isEqualTo("0");
        assertThat(c.exec("journalctl", "-u", "bpfwatch", "-o", "cat", "--no-pager", "-n", "20").out()).contains("stopped in ");
        assertThat(c.get(METRICS).status()).isZero();
    }

    @Test
    @Order(12)
    void purgeRemovesWhatThePackageAdded() {
        List<String> owned = List.of(c.exec("dpkg", "-L", "bpfwatch").ok().out().trim().split("\n"));
        assertThat(c.exec("test", "-L", "/etc/systemd/system/multi-user.target.wants/bpfwatch.service").exit())
                .as("enabled by the admin earlier").isZero();
        c.exec(Duration.ofMinutes(2), "sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get purge -y bpfwatch").ok();

        List<String> left = new ArrayList<>();
        for (String path : owned) {
            if (List.of("/.", "/etc", "/lib", "/lib/systemd", "/lib/systemd/system", "/usr", "/usr/bin", "/usr/lib", "/usr/share",
                    "/usr/share/doc", "/usr/share/man", "/usr/share/man/man1", "/usr/share/lintian", "/usr/share/lintian/overrides").contains(path)) {
                continue; // shared with the rest of the system
            }
            if (c.exec("test", "-e", path).exit() == 0) left.add(path);
        }
        for (String path : List.of("/var/log/bpfwatch", "/etc/bpfwatch", "/etc/systemd/system/multi-user.target.wants/bpfwatch.service",
                "/var/lib/systemd/deb-systemd-helper-enabled/bpfwatch.service.dsh-also", "/run/bpfwatch")) {
            if (c.exec("test", "-e", path).exit() == 0 || c.exec("test", "-L", path).exit() == 0) left.add(path);
        }
        assertThat(left).isEmpty();
        assertThat(c.exec("dpkg-query", "-W", "-f", "${Status}", "bpfwatch").out()).isIn("", "unknown ok not-installed");
        assertThat(c.exec("systemctl", "cat", "bpfwatch.service").exit()).isNotZero();
    }

    /** `make install-files` and `make uninstall` from the host into the container's root: a source install, started by systemd. */
    @Test
    @Order(13)
    void aSourceInstallRunsUnderSystemdAndUninstallsCleanly() throws Exception {
        String destdir = "DESTDIR=" + c.root();
        Cmd.run(Duration.ofMinutes(2), Packaging.basedir(), null, List.of("make", "--no-print-directory", "-s", "install-files", destdir)).ok();
        assertThat(c.exec("grep", "^ExecStart=", "/usr/local/lib/systemd/system/bpfwatch.service").ok().out())
                .isEqualTo("ExecStart=/usr/local/bin/bpfwatch run --config /etc/bpfwatch/bpfwatch.yaml\n");
        c.exec("systemctl", "daemon-reload").ok();
        Cmd.Result verify = c.exec("systemd-analyze", "verify", "bpfwatch.service");
        assertThat(verify.exit()).as(verify.describe()).isZero();
        assertThat(verify.err()).isEmpty();
        c.exec(Duration.ofSeconds(90), "systemctl", "start", "bpfwatch").ok();
        assertThat(c.get(METRICS).status()).isEqualTo(200);
        assertThat(c.property("bpfwatch", "StatusText")).contains("tcp running");
        c.exec("systemctl", "stop", "bpfwatch").ok();

        Cmd.run(Duration.ofMinutes(1), Packaging.basedir(), null, List.of("make", "--no-print-directory", "-s", "uninstall", destdir)).ok();
        c.exec("systemctl", "daemon-reload").ok();
        String left = c.sh("ls -d /usr/local/bin/bpfwatch /usr/local/lib/bpfwatch /usr/local/lib/systemd/system/bpfwatch.service "
                + "/usr/local/share/doc/bpfwatch /usr/local/share/man/man1/bpfwatch.1 /etc/bpfwatch 2>/dev/null; true").out();
        assertThat(left).isEmpty();
    }

    /** One refused connection from a process named bwconnect (a copy of bash), told apart from the machine's others. */
    private static void connect(int port) {
        c.sh("[ -x /usr/local/bin/bwconnect ] || cp /bin/bash /usr/local/bin/bwconnect").ok();
        c.exec("bwconnect", "-c", "true 2>/dev/null 3<>/dev/tcp/127.0.0.1/" + port + "; true").ok();
    }

    private static Prom metrics() {
        SystemdContainer.Http m = c.get(METRICS);
        assertThat(m.status()).as(m.body()).isEqualTo(200);
        return new Prom(m.body());
    }

    private static List<JsonNode> tcpEvents() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : tcpLogLines(false)) out.add(JSON.readTree(l));
        return out;
    }

    /**
     * Every line of tcp.log and its rotated files, decompressed. While the daemon writes, the
     * last line may be arriving: {@code whole} says it must not be (the writer has drained).
     */
    private static List<String> tcpLogLines(boolean whole) throws IOException {
        Path dir = c.root().resolve("var/log/bpfwatch");
        List<String> lines = new ArrayList<>();
        TreeSet<String> names = new TreeSet<>();
        try (var files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("tcp.log")).forEach(names::add);
        }
        for (String n : names) {
            byte[] b = Files.readAllBytes(dir.resolve(n));
            if (n.endsWith(".gz")) b = new GZIPInputStream(new ByteArrayInputStream(b)).readAllBytes();
            String text = new String(b, StandardCharsets.UTF_8);
            if (whole && !text.isEmpty()) assertThat(text).as(n + " ends with a whole line").endsWith("\n");
            if (!whole && !text.endsWith("\n")) text = text.substring(0, text.lastIndexOf('\n') + 1);
            if (!text.isEmpty()) lines.addAll(List.of(text.split("\n")));
        }
        return lines;
    }

    interface Probe<T> {
        T get() throws Exception;
    }

    private static <T> T await(String what, Probe<T> probe) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            T v = probe.get();
            if (v != null) return v;
            if (System.nanoTime() > deadline) throw new AssertionError("waited 30 s for " + what);
            Thread.sleep(200);
        }
    }
}
