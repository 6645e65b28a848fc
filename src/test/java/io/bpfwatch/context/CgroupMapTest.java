package io.bpfwatch.context;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The kernel records a new cgroup's path from the hierarchy's root; the daemon shows the part below its mount's root. */
class CgroupMapTest {
    private static byte[] value(String path) {
        byte[] b = Arrays.copyOf(path.getBytes(StandardCharsets.UTF_8), CgroupMap.PATH_LEN);
        return b;
    }

    @Test
    void onTheHostThePathIsTheKernelsWhole() {
        assertThat(CgroupMap.below(value("/system.slice/x.service"), 2)).isEqualTo("/system.slice/x.service");
        assertThat(CgroupMap.below(value("/bwgone-1.service"), 1)).isEqualTo("/bwgone-1.service");
    }

    @Test
    void inAContainerThePathStartsBelowItsCgroupNamespacesRoot() {
        String kernel = "/machine.slice/machine-bw.scope/payload/system.slice/bwctx-probe.service";
        assertThat(CgroupMap.below(value(kernel), 2)).isEqualTo("/system.slice/bwctx-probe.service");
        assertThat(CgroupMap.below(value(kernel), 1)).isEqualTo("/bwctx-probe.service");
        assertThat(CgroupMap.below(value(kernel), 5)).isEqualTo(kernel);
    }

    @Test
    void aRecordThatDisagreesWithItselfOrWasCutIsNotUsed() {
        assertThat(CgroupMap.below(value("/a/b"), 3)).as("more components counted than the path has").isNull();
        assertThat(CgroupMap.below(value("/a/b"), 0)).isNull();
        assertThat(CgroupMap.below(value(""), 1)).isNull();
        assertThat(CgroupMap.below(value("a/b"), 1)).as("not a path from the root").isNull();
        byte[] full = new byte[CgroupMap.PATH_LEN];
        Arrays.fill(full, (byte) 'a');
        full[0] = '/';
        assertThat(CgroupMap.below(full, 1)).as("no NUL: cut").isNull();
    }
}
