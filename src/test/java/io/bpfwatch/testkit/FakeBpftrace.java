package io.bpfwatch.testkit;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A stand-in for bpftrace that prints what no real script can (src/test/resources/bpftrace/
 * fake-bpftrace.py: its modes are listed there), run as a custom monitor's {@code bpftrace}.
 */
public final class FakeBpftrace {
    private FakeBpftrace() {}

    /** Copies it into {@code dir} as an executable named bpftrace; returns its path. */
    public static Path install(Path dir) throws Exception {
        Path src;
        try {
            src = Path.of(FakeBpftrace.class.getResource("/bpftrace/fake-bpftrace.py").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        Path exe = dir.resolve("bpftrace");
        Files.copy(src, exe);
        Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
        return exe;
    }
}
