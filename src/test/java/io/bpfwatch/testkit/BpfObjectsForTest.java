package io.bpfwatch.testkit;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Paths of the compiled BPF objects (target/classes/bpf, target/test-classes/bpf). */
public final class BpfObjectsForTest {
    private BpfObjectsForTest() {}

    public static String path(String name) {
        try {
            var url = BpfObjectsForTest.class.getClassLoader().getResource("bpf/" + name + ".bpf.o");
            if (url == null) throw new IllegalStateException("bpf/" + name + ".bpf.o is not built");
            return Path.of(url.toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
