package io.bpfwatch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.bpfwatch.it.DaemonIT.awaitLine;
import static io.bpfwatch.it.DaemonIT.awaitReady;
import static io.bpfwatch.it.DaemonIT.config;
import static io.bpfwatch.it.DaemonIT.freePort;
import static io.bpfwatch.it.DaemonIT.get;
import static io.bpfwatch.it.DaemonIT.launcher;
import static io.bpfwatch.it.DaemonIT.signal;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A short job's cgroup is usually gone by the time its events are read (systemd removes a
 * unit's cgroup as soon as its last process exits). Made certain here: the daemon is stopped
 * (SIGSTOP) while a process in a fresh cgroup connects and exits and the cgroup is removed;
 * once continued, the daemon reads the event and names its cgroup and unit from what the
 * kernel recorded at mkdir. The same for a daemon in a cgroup namespace (as in a container),
 * which sees the part of the path below its namespace's root.
 */
@RequiresBpf
class GoneCgroupIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Process> started = new ArrayList<>();
    private Path cgroup;
    private Path namespaceRoot;

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : started) {
            signal(p, "CONT");
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        if (cgroup != null && Files.isDirectory(cgroup)) Files.delete(cgroup);
        if (namespaceRoot != null && Files.isDirectory(namespaceRoot)) Files.delete(namespaceRoot);
    }

    private static Path cgroup2() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = l.split(" ");
            if (f.length > 2 && f[2].equals("cgroup2")) return Path.of(f[1]);
        }
        throw new AssertionError("no cgroup2 mount");
    }

    @Test
    void aCgroupRemovedBeforeItsEventIsReadStillNamesIt(@TempDir Path dir) throws Exception {
        removedCgroupIsNamed(dir, false);
    }

    @Test
    void inACgroupNamespaceTheNameIsThePathBelowItsRoot(@TempDir Path dir) throws Exception {
        removedCgroupIsNamed(dir, true);
    }

    private void removedCgroupIsNamed(Path dir, boolean namespaced) throws Exception {
        int port = freePort();
        Path config = config(dir, port, "  tcp: { alert: { ports: [4444] } }\n");
        Path output = dir.resolve("daemon.out");
        String id = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
        Path parent = cgroup2();
        List<String> command = new ArrayList<>(List.of(launcher(), "run", "--config", config.toString()));
        if (namespaced) {
            // the daemon in a cgroup of its own, then in a cgroup namespace rooted there, with a cgroup2 mount of that view
            namespaceRoot = parent = Files.createDirectory(parent.resolve("bwns-" + id));
            command = new ArrayList<>(List.of("bash", "-c", "echo $$ > " + namespaceRoot.resolve("cgroup.procs")
                    + " && exec unshare --cgroup --mount --propagation private sh -c"
                    + " 'umount -l " + cgroup2() + " && mount -t cgroup2 cgroup2 " + cgroup2() + " && exec \"$0\" \"$@\"' \"$@\"", "bash"));
            command.addAll(List.of(launcher(), "run", "--config", config.toString()));
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        // the JVM's container probe reads cgroup v1 paths too, which this half-made container
        // (its cgroup v1 hierarchies not mounted anew) leaves inconsistent; a real one mounts them all
        if (namespaced) pb.environment().put("JDK_JAVA_OPTIONS", "-XX:-UseContainerSupport");
        Process daemon = pb.start();
        started.add(daemon);
        awaitReady(port, daemon, output);
        if (namespaced) {
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + daemon.pid() + "/ns/cgroup")))
                    .as("the daemon's cgroup namespace").isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/cgroup")));
            assertThat(Files.readString(Path.of("/proc/" + daemon.pid() + "/cgroup"))).contains("0::/" + namespaceRoot.getFileName() + "\n");
        }
        String name = "bwgone-" + id + ".service";
        int dport = 20000 + ThreadLocalRandom.current().nextInt(20000);

        signal(daemon, "STOP");
        cgroup = Files.createDirectory(parent.resolve(name));
        Process job = new ProcessBuilder("bash", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs")
                + " && exec bash -c ': 2>/dev/null 3<>/dev/tcp/127.0.0.1/" + dport + "; true'").inheritIO().start();
        assertThat(job.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(job.exitValue()).isZero();
        Files.delete(cgroup); // empty now: the job has exited
        assertThat(cgroup).doesNotExist();
        signal(daemon, "CONT");

        Path log = dir.resolve("logs/tcp.log");
        awaitLine(log, "\"dport\":" + dport + ",");
        JsonNode e = null;
        for (String l : Files.readAllLines(log)) if (l.contains("\"dport\":" + dport + ",")) e = JSON.readTree(l);
        assertThat(e.path("pid").asLong()).isEqualTo(job.pid());
        assertThat(e.path("cgroup").asText()).as("%s", e).isEqualTo("/" + name);
        assertThat(e.path("unit").asText()).isEqualTo(name);
        assertThat(new Prom(get(port, "/metrics").body()).get("bpfwatch_context_cgroup_recorded_total")).isGreaterThanOrEqualTo(1.0);
    }
}
