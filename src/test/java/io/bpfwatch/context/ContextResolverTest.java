package io.bpfwatch.context;

import io.bpfwatch.event.EventHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The header's context part into fields, against a cgroup tree and a /proc made in a temporary directory. */
class ContextResolverTest {
    private static final long TICK = 10_000_000L; // /proc's start time unit (USER_HZ 100)

    @TempDir
    Path dir;

    private CgroupResolver cgroups() {
        return new CgroupResolver(dir.resolve("cgroup"), 64, Duration.ZERO);
    }

    private long cgroup(String path) throws Exception {
        Path p = dir.resolve("cgroup" + path);
        Files.createDirectories(p);
        return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    /** A process in the fake /proc: its exe link and a stat line with its start time. */
    private void process(int pid, String exe, long startNs) throws Exception {
        Path p = dir.resolve("proc/" + pid);
        Files.createDirectories(p);
        Files.deleteIfExists(p.resolve("exe"));
        Files.createSymbolicLink(p.resolve("exe"), Path.of(exe));
        StringBuilder stat = new StringBuilder(pid + " (odd) name) S 1 1 1 0 -1 4194304");
        for (int f = 10; f <= 21; f++) stat.append(" 0");
        stat.append(' ').append(startNs / TICK).append(" 0 0\n");
        Files.writeString(p.resolve("stat"), stat);
    }

    private static ByteBuffer header(int pid, String comm, long start, long cgroupId, int ppid, String pcomm) {
        ByteBuffer b = ByteBuffer.allocate(EventHeader.SIZE).order(ByteOrder.nativeOrder());
        b.putLong(EventHeader.TS_NS, System.nanoTime()).putInt(EventHeader.PID, pid).putInt(EventHeader.TID, pid);
        b.put(EventHeader.COMM, comm.getBytes(StandardCharsets.UTF_8));
        b.putLong(EventHeader.CGROUP_ID, cgroupId).putLong(EventHeader.START_NS, start).putInt(EventHeader.PPID, ppid);
        b.put(EventHeader.PCOMM, pcomm.getBytes(StandardCharsets.UTF_8));
        return b;
    }

    private ContextResolver resolver(Set<ContextField> fields) {
        return new ContextResolver(new ContextSpec(fields, 0), cgroups(), new ExeResolver(dir.resolve("proc")));
    }

    @Test
    void everyFieldFromAServiceProcess() throws Exception {
        long id = cgroup("/system.slice/nginx.service");
        process(4321, "/usr/sbin/nginx", 5_000 * TICK);
        ProcessContext c = resolver(ContextField.DEFAULT).resolve(header(4321, "nginx", 5_000 * TICK, id, 1, "systemd"), 0);
        assertThat(c.ppid).isEqualTo(1);
        assertThat(c.pcomm).isEqualTo("systemd");
        assertThat(c.exe).isEqualTo("/usr/sbin/nginx");
        assertThat(c.cgroup).isEqualTo("/system.slice/nginx.service");
        assertThat(c.unit).isEqualTo("nginx.service");
        assertThat(c.container).isNull();
        assertThat(c.pod).isNull();
    }

    @Test
    void aContainerAndItsPodAreNamedFromTheCgroup() throws Exception {
        String cid = "3f4e1a2b".repeat(8);
        long id = cgroup("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_1111_2222_3333_444455556666.slice/cri-containerd-" + cid + ".scope");
        ProcessContext c = resolver(EnumSet.of(ContextField.CONTAINER)).resolve(header(77, "app", 0, id, 5, "containerd-shim"), 0);
        assertThat(c.container).isEqualTo(cid);
        assertThat(c.pod).isEqualTo("0a1b2c3d-1111-2222-3333-444455556666");
        assertThat(c.cgroup).as("not asked for").isNull();
        assertThat(c.ppid).as("not asked for").isZero();
    }

    @Test
    void eventsOfOneProcessShareOneContext() throws Exception {
        long id = cgroup("/user.slice/user-1000.slice/session-3.scope");
        process(1000, "/usr/bin/bash", 7 * TICK);
        ContextResolver r = resolver(ContextField.DEFAULT);
        ProcessContext first = r.resolve(header(1000, "bash", 7 * TICK, id, 999, "sshd"), 0);
        ProcessContext again = r.resolve(header(1000, "bash", 7 * TICK, id, 999, "sshd"), 0);
        assertThat(again).isSameAs(first);
        assertThat(first.unit).isEqualTo("session-3.scope");
    }

    @Test
    void aReusedPidIsAnotherProcess() throws Exception {
        long id = cgroup("/system.slice/cron.service");
        process(555, "/usr/sbin/cron", 100 * TICK);
        ContextResolver r = resolver(ContextField.DEFAULT);
        assertThat(r.resolve(header(555, "cron", 100 * TICK, id, 1, "systemd"), 0).exe).isEqualTo("/usr/sbin/cron");
        // the pid now belongs to a process started later, which /proc no longer describes as the first
        ProcessContext reused = r.resolve(header(555, "cron", 900 * TICK, id, 1, "systemd"), 0);
        assertThat(reused.exe).as("the /proc entry is of another start time").isNull();
        process(555, "/usr/bin/python3", 900 * TICK);
        assertThat(r.resolve(header(555, "python3", 900 * TICK, id, 1, "systemd"), 0).exe).isEqualTo("/usr/bin/python3");
    }

    @Test
    void aDeletedCgroupLeavesThePathAbsentNotWrong() throws Exception {
        long id = cgroup("/system.slice/gone.service");
        Files.delete(dir.resolve("cgroup/system.slice/gone.service"));
        ProcessContext c = resolver(ContextField.DEFAULT).resolve(header(42, "x", 0, id, 1, "systemd"), 0);
        assertThat(c.cgroup).isNull();
        assertThat(c.unit).isNull();
    }

    @Test
    void theKernelsOwnWorkHasNoContext() {
        assertThat(resolver(ContextField.DEFAULT).resolve(header(0, "swapper/0", 0, 1, 0, ""), 0)).isNull();
        assertThat(new ContextResolver(ContextSpec.NONE, cgroups(), new ExeResolver(dir)).resolve(header(9, "x", 0, 1, 1, "init"), 0)).isNull();
    }

    @Test
    void oddBytesInTheParentsNameAreReplacedNotFatal() throws Exception {
        ByteBuffer b = header(9, "x", 0, 0, 1, "");
        b.put(EventHeader.PCOMM, new byte[] {(byte) 0xff, 'a', '"', '\n', (byte) 0xc3});
        ProcessContext c = resolver(EnumSet.of(ContextField.PARENT)).resolve(b, 0);
        assertThat(c.pcomm).isEqualTo("\ufffda\"\n\ufffd");
    }

    @Test
    void theKernelBitsFollowTheFieldsAskedFor() {
        assertThat(resolver(EnumSet.of(ContextField.PARENT)).kernelBits()).isEqualTo(ContextField.Bits.PARENT);
        assertThat(resolver(EnumSet.of(ContextField.UNIT, ContextField.CONTAINER)).kernelBits()).isEqualTo(ContextField.Bits.CGROUP);
        assertThat(resolver(EnumSet.of(ContextField.EXE)).kernelBits()).isEqualTo(ContextField.Bits.PROCESS);
    }

    @Test
    void startTimeIsField22WhateverTheCommandNameHolds() {
        assertThat(ExeResolver.startTicks("12 (a) b) (c) S 1 1 1 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0")).isEqualTo(987654);
        assertThat(ExeResolver.startTicks("garbage")).isEqualTo(-1);
    }
}
