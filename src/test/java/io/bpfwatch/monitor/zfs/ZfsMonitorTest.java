package io.bpfwatch.monitor.zfs;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The zfs monitor with its real BPF programs, driven by the real OpenZFS client (libzfs_core)
 * in a private mount namespace where a regular file stands in for /dev/zfs. Without a ZFS
 * module every ioctl fails with ENOTTY, which the audit line must show.
 */
@RequiresBpf
class ZfsMonitorTest {

    static Path standIn(Path dir, String name) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw-rw-"));
        return p;
    }

    static String config(Path dir, Path device) {
        return TestDaemon.yaml(dir, "  zfs:\n    device: " + device + "\n");
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void everyOperationOfTheRealClientIsAuditedOnce(@TempDir Path dir) throws Exception {
        Path dev = standIn(dir, "zfs-standin");
        try (TestDaemon d = new TestDaemon(dir, config(dir, dev))) {
            assertThat(d.state("zfs")).isEqualTo(MonitorState.RUNNING);
            Prom before = d.metrics();
            Process p = ZfsClient.startWithDevice(dev, List.of(), ZfsClient.ops(
                    new String[] {"snapshot", "tank/home@monday", "tank/home/alice@monday"},
                    new String[] {"destroy-snaps", "tank/home@monday", "tank/home/alice@monday"},
                    new String[] {"rollback", "tank/db"},
                    new String[] {"rollback-to", "tank/db", "tank/db@before"},
                    new String[] {"clone", "tank/clone", "tank/db@before"},
                    new String[] {"promote", "tank/clone"},
                    new String[] {"hold", "tank@keep", "backup-job"},
                    new String[] {"release", "tank@keep", "backup-job"},
                    new String[] {"rename", "tank/fs@old", "tank/fs@new"},
                    new String[] {"destroy", "tank/fs@gone"},
                    new String[] {"exists", "tank/fs"},          // ZFS_IOC_OBJSET_STATS: not audited
                    new String[] {"raw-destroy", "tank/fs@raw"},
                    new String[] {"raw-rename", "tank/fs@a", "tank/fs@b", "1"},
                    new String[] {"raw-destroy", "tank/old-fs"}));
            List<String> out = ZfsClient.finish(p);
            assertThat(out).as("the client issued every ioctl and got ENOTTY from the stand-in").containsExactly(
                    "snapshot ENOTTY", "destroy-snaps ENOTTY", "rollback ENOTTY", "rollback-to ENOTTY", "clone ENOTTY",
                    "promote ENOTTY", "hold ENOTTY", "release ENOTTY", "rename ENOTTY", "destroy ENOTTY", "exists ENOTTY",
                    "raw-destroy ENOTTY", "raw-rename ENOTTY", "raw-destroy ENOTTY");

            d.awaitEvents("zfs", p.pid(), 13, Duration.ofSeconds(10));
            // a later process's audited ioctl: once it is logged, every record before it in the
            // ring has been read, so nothing more of the client's can come
            Process marker = ZfsClient.startWithDevice(dev, List.of(), ZfsClient.ops(new String[] {"snapshot", "tank@marker"}));
            ZfsClient.finish(marker);
            d.awaitEvents("zfs", marker.pid(), 1, Duration.ofSeconds(10));
            List<JsonNode> lines = d.events("zfs", p.pid());
            assertThat(lines).hasSize(13);
            long testPid = ProcessHandle.current().pid();
            for (JsonNode l : lines) {
                assertThat(l.get("monitor").asText()).isEqualTo("zfs");
                assertThat(l.get("event").asText()).isEqualTo("operation");
                assertThat(l.get("comm").asText()).isEqualTo("zfsclient");
                assertThat(l.get("uid").asLong()).isZero();
                assertThat(l.get("ppid").asLong()).as("the client's parent is this JVM").isEqualTo(testPid);
                assertThat(l.get("result").asText()).isEqualTo("ENOTTY");
                assertThat(l.get("duration_ms").asDouble()).isBetween(0.0, 1000.0);
                assertThat(l.get("truncated").asBoolean()).isFalse();
                assertThat(l.has("decode_error")).as(l.toString()).isFalse();
                assertThat(l.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");
            }
            expect(lines.get(0), "snapshot", "tank", null, "tank/home@monday", "tank/home/alice@monday");
            expect(lines.get(1), "destroy", "tank", null, "tank/home@monday", "tank/home/alice@monday");
            expect(lines.get(2), "rollback", "tank", "tank/db");
            expect(lines.get(3), "rollback", "tank", "tank/db", "tank/db@before");
            expect(lines.get(4), "clone", "tank", "tank/clone", "tank/db@before");
            expect(lines.get(5), "promote", "tank", "tank/clone");
            expect(lines.get(6), "hold", "tank", null, "tank@keep");
            assertThat(texts(lines.get(6).get("tags"))).containsExactly("backup-job");
            expect(lines.get(7), "release", "tank", null, "tank@keep");
            assertThat(texts(lines.get(7).get("tags"))).containsExactly("backup-job");
            expect(lines.get(8), "rename", "tank", null, "tank/fs@old");
            assertThat(lines.get(8).get("new_name").asText()).isEqualTo("tank/fs@new");
            assertThat(lines.get(8).get("recursive").asBoolean()).isFalse();
            expect(lines.get(9), "destroy", "tank", null, "tank/fs@gone");
            expect(lines.get(10), "destroy", "tank", null, "tank/fs@raw");
            expect(lines.get(11), "rename", "tank", null, "tank/fs@a");
            assertThat(lines.get(11).get("new_name").asText()).isEqualTo("tank/fs@b");
            assertThat(lines.get(11).get("recursive").asBoolean()).as("zc_cookie bit 0").isTrue();
            expect(lines.get(12), "destroy", "tank", "tank/old-fs");

            Prom after = d.metrics();
            assertThat(delta(before, after, "snapshot", "ENOTTY")).as("the client's and the marker's").isEqualTo(2);
            assertThat(delta(before, after, "destroy", "ENOTTY")).isEqualTo(4);
            assertThat(delta(before, after, "rollback", "ENOTTY")).isEqualTo(2);
            assertThat(delta(before, after, "rename", "ENOTTY")).isEqualTo(2);
            for (String a : List.of("clone", "promote", "hold", "release")) assertThat(delta(before, after, a, "ENOTTY")).as(a).isEqualTo(1);
            assertThat(after.get("bpfwatch_zfs_snapshot_operations_total{action=\"snapshot\",result=\"ok\"}")).isZero();
            assertThat(after.get("bpfwatch_zfs_device_present")).isEqualTo(1);
            assertThat(after.get("bpfwatch_events_total{monitor=\"zfs\"}")).isEqualTo(d.lines("zfs").size());
            assertThat(after.sum("bpfwatch_events_lost_total", "monitor=\"zfs\"")).isZero();
        }
    }

    static double delta(Prom before, Prom after, String action, String result) {
        String k = "bpfwatch_zfs_snapshot_operations_total{action=\"" + action + "\",result=\"" + result + "\"}";
        return after.get(k) - before.get(k);
    }

    static void expect(JsonNode l, String action, String pool, String dataset, String... snapshots) {
        assertThat(l.get("action").asText()).as(l.toString()).isEqualTo(action);
        assertThat(l.get("pool").asText()).as(l.toString()).isEqualTo(pool);
        if (dataset == null) assertThat(l.has("dataset")).as(l.toString()).isFalse();
        else assertThat(l.get("dataset").asText()).as(l.toString()).isEqualTo(dataset);
        assertThat(texts(l.get("snapshots"))).as(l.toString()).containsExactly(snapshots);
    }

    /** The same command numbers on any other file, character device or path to the stand-in's content: nothing. */
    @Test
    void theSameIoctlsOnOtherFilesAreNotAudited(@TempDir Path dir) throws Exception {
        Path dev = standIn(dir, "zfs-standin");
        Path other = standIn(dir, "other");
        Files.writeString(dev, "x"); // same content, different inode
        Files.writeString(other, "x");
        try (TestDaemon d = new TestDaemon(dir, config(dir, dev))) {
            Process raw = ZfsClient.start(ZfsClient.ops(new String[] {"raw-all", other.toString()}, new String[] {"raw-all", "/dev/null"}));
            assertThat(ZfsClient.finish(raw)).containsExactly("raw-all ENOTTY", "raw-all ENOTTY");
            // libzfs_core opening a /dev/zfs that is another file
            Process lzc = ZfsClient.startWithDevice(other, List.of(), ZfsClient.ops(
                    new String[] {"snapshot", "tank@x"}, new String[] {"destroy-snaps", "tank@x"}, new String[] {"rename", "tank@x", "tank@y"}));
            assertThat(ZfsClient.finish(lzc)).containsExactly("snapshot ENOTTY", "destroy-snaps ENOTTY", "rename ENOTTY");
            // a control run on the real stand-in proves the monitor was listening all along
            Process control = ZfsClient.startWithDevice(dev, List.of(), ZfsClient.ops(new String[] {"snapshot", "tank@control"}));
            ZfsClient.finish(control);
            d.awaitEvents("zfs", control.pid(), 1, Duration.ofSeconds(10));
            assertThat(d.events("zfs", raw.pid())).isEmpty();
            assertThat(d.events("zfs", lzc.pid())).isEmpty();
            assertThat(d.lines("zfs")).hasSize(1);
        }
    }

    @Test
    void callerIdentityIsTheCallersNotRoots(@TempDir Path dir) throws Exception {
        Path dev = standIn(dir, "zfs-standin");
        try (TestDaemon d = new TestDaemon(dir, config(dir, dev))) {
            Process p = ZfsClient.startWithDevice(dev, List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                    ZfsClient.ops(new String[] {"destroy-snaps", "tank/www@deploy-41"}));
            assertThat(ZfsClient.finish(p)).containsExactly("destroy-snaps ENOTTY");
            JsonNode l = d.awaitEvents("zfs", p.pid(), 1, Duration.ofSeconds(10)).get(0);
            assertThat(l.get("uid").asLong()).isEqualTo(65534);
            expect(l, "destroy", "tank", null, "tank/www@deploy-41");
        }
    }

    /** Names are the caller's bytes: quotes, newlines and escapes stay inside their JSON strings. */
    @Test
    void hostileNamesCannotForgeFields(@TempDir Path dir) throws Exception {
        Path dev = standIn(dir, "zfs-standin");
        String forged = "tank@x\",\"result\":\"ok";
        String newline = "tank@a\nb\u001b[31m";
        try (TestDaemon d = new TestDaemon(dir, config(dir, dev))) {
            Process p = ZfsClient.startWithDevice(dev, List.of(), ZfsClient.ops(new String[] {"snapshot", forged, newline}));
            ZfsClient.finish(p);
            JsonNode l = d.awaitEvents("zfs", p.pid(), 1, Duration.ofSeconds(10)).get(0);
            assertThat(texts(l.get("snapshots"))).containsExactly(forged, newline);
            assertThat(l.get("result").asText()).isEqualTo("ENOTTY");
            assertThat(d.lines("zfs")).hasSize(1);
        }
    }

    /** A batch larger than the kernel side keeps: the names that fit, marked truncated. */
    @Test
    void aHugeBatchIsLoggedTruncatedNotLost(@TempDir Path dir) throws Exception {
        Path dev = standIn(dir, "zfs-standin");
        List<String> op = new ArrayList<>(List.of("destroy-snaps"));
        for (int i = 0; i < 400; i++) op.add(String.format("tank/vm/disk%03d@daily", i));
        try (TestDaemon d = new TestDaemon(dir, config(dir, dev))) {
            Process p = ZfsClient.startWithDevice(dev, List.of(), op);
            ZfsClient.finish(p);
            JsonNode l = d.awaitEvents("zfs", p.pid(), 1, Duration.ofSeconds(10)).get(0);
            assertThat(l.get("truncated").asBoolean()).isTrue();
            assertThat(l.has("decode_error")).isFalse();
            List<String> names = texts(l.get("snapshots"));
            assertThat(names.size()).isBetween(100, 399);
            assertThat(names).isEqualTo(op.subList(1, 1 + names.size()));
        }
    }

    /**
     * No device yet (no ZFS module): the monitor runs, audits nothing, and starts auditing
     * within a tick of the device appearing, without a restart; it stops when the device goes.
     */
    @Test
    void aDeviceThatAppearsLaterIsAuditedWithoutRestart(@TempDir Path dir) throws Exception {
        Path dev = dir.resolve("zfs-later");
        try (TestDaemon d = new TestDaemon(dir, config(dir, dev))) {
            assertThat(d.state("zfs")).isEqualTo(MonitorState.RUNNING);
            // the plan's tracepoints, then those that name the exe of short-lived processes and the cgroups of short jobs
            assertThat(d.status("zfs").attachPoints()).containsExactly("tracepoint/syscalls/sys_enter_ioctl", "tracepoint/syscalls/sys_exit_ioctl",
                    "tracepoint/sched/sched_process_exec", "tp_btf/cgroup_mkdir");
            assertThat(d.metrics().get("bpfwatch_zfs_device_present")).isZero();

            standIn(dir, "zfs-later");
            TestDaemon.await("the device to be noticed", Duration.ofSeconds(10), () -> d.metrics().get("bpfwatch_zfs_device_present") == 1);
            Process p = ZfsClient.startWithDevice(dev, List.of(), ZfsClient.ops(new String[] {"snapshot", "tank@after-load"}));
            ZfsClient.finish(p);
            expect(d.awaitEvents("zfs", p.pid(), 1, Duration.ofSeconds(10)).get(0), "snapshot", "tank", null, "tank@after-load");

            Files.delete(dev);
            TestDaemon.await("the device to be gone", Duration.ofSeconds(10), () -> d.metrics().get("bpfwatch_zfs_device_present") == 0);
            standIn(dir, "zfs-later"); // a new inode at the same path, like a reloaded module's new node
            TestDaemon.await("the new device", Duration.ofSeconds(10), () -> d.metrics().get("bpfwatch_zfs_device_present") == 1);
            Process again = ZfsClient.startWithDevice(dev, List.of(), ZfsClient.ops(new String[] {"destroy-snaps", "tank@after-reload"}));
            ZfsClient.finish(again);
            expect(d.awaitEvents("zfs", again.pid(), 1, Duration.ofSeconds(10)).get(0), "destroy", "tank", null, "tank@after-reload");
            assertThat(d.status("zfs").restarts()).isZero();
            assertThat(d.state("zfs")).isEqualTo(MonitorState.RUNNING);
        }
    }
}
