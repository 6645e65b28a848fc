package io.bpfwatch.monitor.zfs;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.Cmd;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.bpfwatch.monitor.zfs.ZfsMonitorTest.delta;
import static io.bpfwatch.monitor.zfs.ZfsMonitorTest.expect;
import static io.bpfwatch.monitor.zfs.ZfsMonitorTest.texts;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs only inside the test VM, on kernels whose image carries OpenZFS's modules (vm/image.sh
 * builds them from the suite's zfs-dkms where it supports the kernel; vm/suite.txt marks this
 * class "if-image zfs"). Not named *Test: surefire leaves it alone on the host.
 *
 * What ZfsMonitorTest cannot show with its stand-in: a real module answering, so results other
 * than its ENOTTY ({@code ok} above all); the module's own copy-in of {@code zfs_cmd_t}, shown by
 * the pool afterwards being what the logged names say it should be; and the match of the real
 * {@code /dev/zfs} character device. The operations are the real OpenZFS client's
 * (libzfs_core), on a pool over a file.
 */
@RequiresBpf
class ZfsModuleCheck {
    private static final String POOL = "bwtest";
    private static final Duration SLOW = Duration.ofSeconds(180); // pool commands under emulation

    @Test
    void operationsOnARealPoolAreAuditedWithWhatTheModuleAnswered(@TempDir Path dir) throws Exception {
        // a small ARC: the guest has 2 GiB, and the tests' JVMs want most of it
        Cmd.run(SLOW, "modprobe", "zfs", "zfs_arc_max=67108864").ok();
        assertThat(Path.of("/dev/zfs")).as("the module's character device").exists();
        Path vdev = dir.resolve("vdev");
        try (RandomAccessFile f = new RandomAccessFile(vdev.toFile(), "rw")) {
            f.setLength(128L << 20);
        }
        Cmd.run(SLOW, "zpool", "create", "-f", "-m", "none", POOL, vdev.toString()).ok();
        try (TestDaemon d = new TestDaemon(dir, ZfsMonitorTest.config(dir, Path.of("/dev/zfs")))) {
            assertThat(d.state("zfs")).isEqualTo(MonitorState.RUNNING);
            Prom before = d.metrics();
            assertThat(before.get("bpfwatch_zfs_device_present")).isEqualTo(1);

            // Three client runs, the pool looked at after each: the module did what the log says.
            List<String> results = new ArrayList<>();
            List<Long> pids = new ArrayList<>();
            run(d, results, pids, 5,
                    new String[] {"snapshot", POOL + "@one"},
                    new String[] {"snapshot", POOL + "@one"},
                    new String[] {"hold", POOL + "@one", "keep"},
                    new String[] {"release", POOL + "@one", "keep"},
                    new String[] {"rename", POOL + "@one", POOL + "@two"});
            assertThat(datasets()).containsExactly(POOL, POOL + "@two");
            run(d, results, pids, 2,
                    new String[] {"rollback-to", POOL, POOL + "@two"},
                    new String[] {"clone", POOL + "/clone", POOL + "@two"});
            assertThat(datasets()).containsExactly(POOL, POOL + "/clone", POOL + "@two");
            assertThat(Cmd.run(SLOW, "zfs", "get", "-H", "-o", "value", "origin", POOL + "/clone").ok().out().strip())
                    .isEqualTo(POOL + "@two");
            run(d, results, pids, 3,
                    new String[] {"raw-destroy", POOL + "/clone"},
                    new String[] {"destroy-snaps", POOL + "@two"},
                    new String[] {"raw-destroy", POOL + "@two"});
            assertThat(datasets()).containsExactly(POOL);

            assertThat(results).as("what the module answered the client").containsExactly(
                    "snapshot ok", "snapshot EEXIST", "hold ok", "release ok", "rename ok",
                    "rollback-to ok", "clone ok",
                    "raw-destroy ok", "destroy-snaps ok", "raw-destroy ENOENT");

            List<JsonNode> lines = new ArrayList<>();
            for (long pid : pids) lines.addAll(d.events("zfs", pid));
            assertThat(lines).hasSize(10);
            for (int i = 0; i < lines.size(); i++) {
                JsonNode l = lines.get(i);
                assertThat(l.get("result").asText()).as("logged as the client saw it: " + l).isEqualTo(results.get(i).split(" ")[1]);
                assertThat(l.get("comm").asText()).isEqualTo("zfsclient");
                assertThat(l.has("decode_error")).as(l.toString()).isFalse();
                assertThat(l.get("truncated").asBoolean()).isFalse();
            }
            expect(lines.get(0), "snapshot", POOL, null, POOL + "@one");
            expect(lines.get(1), "snapshot", POOL, null, POOL + "@one");
            expect(lines.get(2), "hold", POOL, null, POOL + "@one");
            assertThat(texts(lines.get(2).get("tags"))).containsExactly("keep");
            expect(lines.get(3), "release", POOL, null, POOL + "@one");
            assertThat(texts(lines.get(3).get("tags"))).containsExactly("keep");
            expect(lines.get(4), "rename", POOL, null, POOL + "@one");
            assertThat(lines.get(4).get("new_name").asText()).isEqualTo(POOL + "@two");
            expect(lines.get(5), "rollback", POOL, POOL, POOL + "@two");
            expect(lines.get(6), "clone", POOL, POOL + "/clone", POOL + "@two");
            expect(lines.get(7), "destroy", POOL, POOL + "/clone");
            expect(lines.get(8), "destroy", POOL, null, POOL + "@two");
            expect(lines.get(9), "destroy", POOL, null, POOL + "@two");

            // `zpool` and `zfs list` made their own ioctls meanwhile (stats, lists): none is audited
            assertThat(d.lines("zfs")).hasSize(10);
            Prom after = d.metrics();
            assertThat(delta(before, after, "snapshot", "ok")).isEqualTo(1);
            assertThat(delta(before, after, "snapshot", "EEXIST")).isEqualTo(1);
            assertThat(delta(before, after, "destroy", "ok")).isEqualTo(2);
            assertThat(delta(before, after, "destroy", "ENOENT")).isEqualTo(1);
            for (String a : List.of("hold", "release", "rename", "rollback", "clone")) {
                assertThat(delta(before, after, a, "ok")).as(a).isEqualTo(1);
            }
            assertThat(after.sum("bpfwatch_events_lost_total", "monitor=\"zfs\"")).isZero();
        } finally {
            Cmd.run(SLOW, "zpool", "destroy", "-f", POOL);
            Files.deleteIfExists(vdev);
        }
    }

    /** One client run of {@code ops}; its answers and pid are kept once its n events are logged. */
    private static void run(TestDaemon d, List<String> results, List<Long> pids, int n, String[]... ops) throws Exception {
        Process p = ZfsClient.start(ZfsClient.ops(ops));
        results.addAll(ZfsClient.finish(p));
        pids.add(p.pid());
        d.awaitEvents("zfs", p.pid(), n, Duration.ofSeconds(60));
    }

    /** The pool's datasets and snapshots, sorted by name. */
    private static List<String> datasets() {
        return Cmd.run(SLOW, "zfs", "list", "-H", "-t", "all", "-o", "name", "-s", "name", "-r", POOL).ok().out().lines().sorted().toList();
    }
}
