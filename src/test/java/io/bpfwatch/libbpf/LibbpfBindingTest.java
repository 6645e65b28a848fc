package io.bpfwatch.libbpf;

import com.sun.jna.Memory;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The JNA binding over the system's libbpf, against real objects and the real verifier. */
@RequiresBpf
class LibbpfBindingTest {
    private static BpfObject open(String name) throws Exception {
        return BpfObject.open("src/test/bpf/" + name + "/" + name + ".bpf.o", name,
                Files.readAllBytes(Path.of(BpfObjectsForTest.path(name))));
    }

    @Test
    void libbpfIsVersionOne() {
        assertThat(LibBpf.libbpf_major_version()).isEqualTo(1);
        assertThat(io.bpfwatch.kernel.Kernel.libbpfProblem()).isNull();
    }

    @Test
    void aRejectedProgramCarriesTheVerifierLogInItsError() throws Exception {
        try (BpfObject o = open("rejected")) {
            assertThatThrownBy(o::load)
                    .isInstanceOfSatisfying(BpfException.class, e -> {
                        assertThat(e.getMessage()).startsWith("loading src/test/bpf/rejected/rejected.bpf.o: verifier rejected program rejected_prog: EACCES");
                        assertThat(e.errnoName()).isEqualTo("EACCES");
                        assertThat(e.log()).contains("map_value_or_null");
                        assertThat(e.getMessage()).contains("map_value_or_null");
                    });
        }
    }

    @Test
    void attachingToAMissingTracepointSaysWhatAndWhy() throws Exception {
        try (BpfObject o = open("broken")) {
            o.load();
            assertThatThrownBy(() -> o.program("broken_probe").attach())
                    .isInstanceOfSatisfying(BpfException.class, e -> {
                        assertThat(e.getMessage()).startsWith("attaching program broken_probe of src/test/bpf/broken/broken.bpf.o to tracepoint bpfwatch_test:does_not_exist: ENOENT");
                        assertThat(e.errno()).isEqualTo(Errno.ENOENT);
                    });
        }
    }

    @Test
    void constantsAreSetBeforeLoadAndFixedAfter() throws Exception {
        try (BpfObject o = open("ringtest")) {
            o.setConstant("target_pid", 4242);
            assertThat(o.btf().variable(".rodata", "target_pid")).isPresent();
            assertThatThrownBy(() -> o.setConstant("no_such_constant", 1)).hasMessageContaining("has no const volatile no_such_constant");
            o.load();
            assertThatThrownBy(() -> o.setConstant("target_pid", 1)).hasMessageContaining("fixed once loaded");
        }
    }

    @Test
    void mapsAreLookedUpUpdatedAndIterated() throws Exception {
        try (BpfObject o = open("ringtest")) {
            o.load();
            BpfMap seq = o.map("seq");
            Memory key = new Memory(4);
            key.setInt(0, 0);
            Memory value = new Memory(8);
            value.setLong(0, 41);
            seq.update(key, value, 0);
            Memory read = new Memory(8);
            assertThat(seq.lookup(key, read)).isTrue();
            assertThat(read.getLong(0)).isEqualTo(41);
            key.setInt(0, 7);
            assertThat(seq.lookup(key, read)).as("past the end of an array").isFalse();
            List<Integer> keys = new ArrayList<>();
            seq.forEach((k, v) -> keys.add(k.getInt(0)));
            assertThat(keys).containsExactly(0);
            assertThat(o.map("bw_lost").isPerCpu()).isTrue();
            assertThat(o.map("bw_lost").sumPerCpuU64(0)).isZero();
        }
    }

    @Test
    void linksDescribeWhereTheyAttachAndDetachTwiceSafely() throws Exception {
        try (BpfObject o = open("ringtest")) {
            o.load();
            BpfLink l = o.program("ringtest_getpgid").attachTracepoint("syscalls", "sys_enter_getpgid");
            assertThat(l.attachPoint()).isEqualTo("tracepoint/syscalls/sys_enter_getpgid");
            assertThat(l.isAttached()).isTrue();
            l.close();
            l.close();
            assertThat(l.isAttached()).isFalse();
        }
    }

    /** getpgid() in libc: the uprobe target, and a syscall for the raw and BTF tracepoints. */
    static final class Libc {
        static {
            com.sun.jna.Native.register(Libc.class, com.sun.jna.NativeLibrary.getInstance("c"));
        }

        static native int getpgid(int pid);
    }

    @Test
    void rawTracepointBtfTracepointUprobeAndUretprobeAttachAndFire() throws Exception {
        String libc = java.nio.file.Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .map(l -> l.substring(l.lastIndexOf(' ') + 1))
                .filter(f -> f.matches(".*/libc\\.so\\.6$|.*/libc-[0-9.]+\\.so$"))
                .findFirst().orElseThrow();
        try (BpfObject o = open("hooks")) {
            o.setConstant("target_pid", LibC.getpid());
            o.load();
            List<BpfLink> links = List.of(
                    o.program("hooks_raw_tp").attachRawTracepoint("sys_enter"),
                    o.program("hooks_tp_btf").attachTracing(),
                    o.program("hooks_uprobe").attachUprobe(libc, "getpgid", false, -1),
                    o.program("hooks_uretprobe").attachUprobe(libc, "getpgid", true, -1));
            try {
                assertThat(links).extracting(BpfLink::attachPoint).containsExactly(
                        "raw_tp/sys_enter", "tp_btf/sys_enter", "uprobe/" + libc + ":getpgid", "uretprobe/" + libc + ":getpgid");
                for (int i = 0; i < 25; i++) Libc.getpgid(0);
                BpfMap hits = o.map("hits");
                Memory k = new Memory(4), v = new Memory(8);
                long[] n = new long[4];
                for (int i = 0; i < 4; i++) {
                    k.setInt(0, i);
                    hits.lookup(k, v);
                    n[i] = v.getLong(0);
                }
                assertThat(n[0]).as("raw_tp sees every syscall of this process").isGreaterThanOrEqualTo(25);
                assertThat(n[1]).as("tp_btf likewise").isGreaterThanOrEqualTo(25);
                assertThat(n[2]).as("uprobe on getpgid").isEqualTo(25);
                assertThat(n[3]).as("uretprobe on getpgid").isEqualTo(25);
            } finally {
                for (BpfLink l : links) l.close();
            }
        }
    }

    @Test
    void errnoNamesAreReadable() {
        assertThat(Errno.name(-2)).isEqualTo("ENOENT");
        assertThat(Errno.name(25)).isEqualTo("ENOTTY");
        assertThat(Errno.name(524)).isEqualTo("ENOTSUPP");
        assertThat(Errno.name(4000)).isEqualTo("errno 4000");
    }
}
