package io.bpfwatch.packaging;

import io.bpfwatch.testkit.Skip;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the packaging tests find what Maven and make built for them: the .deb, the source tree,
 * promtool and the cache for container images. A missing tool skips the test with the reason,
 * unless BPFWATCH_REQUIRE_BPF=1 (CI), where `make test` has installed everything and a skip
 * would hide a broken setup.
 */
final class Packaging {
    private Packaging() {}

    static Path basedir() {
        return Path.of(System.getProperty("bpfwatch.basedir", ".")).toAbsolutePath().normalize();
    }

    static Path deb() {
        Path deb = Path.of(System.getProperty("bpfwatch.deb", "target/bpfwatch_0.1.0_all.deb")).toAbsolutePath();
        if (!Files.isRegularFile(deb)) unavailable("no package at " + deb + " (Maven builds it before the integration tests)");
        return deb;
    }

    static Path cache() {
        return Path.of(System.getProperty("bpfwatch.test.cache", "target/test-cache")).toAbsolutePath();
    }

    static Path promtool() {
        Path p = Path.of(System.getProperty("bpfwatch.promtool", "target/test-cache/promtool/promtool")).toAbsolutePath();
        if (!Files.isExecutable(p)) unavailable("no promtool at " + p + " (`make test` unpacks it from Debian's prometheus package)");
        return p;
    }

    static Path file(String relative) {
        return basedir().resolve(relative);
    }

    /** Each tool must be on the PATH. */
    static void requireTools(String... tools) {
        for (String t : tools) {
            boolean found = false;
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                if (Files.isExecutable(Path.of(dir, t))) found = true;
            }
            for (String dir : new String[] {"/usr/sbin", "/sbin"}) {
                if (Files.isExecutable(Path.of(dir, t))) found = true;
            }
            if (!found) unavailable(t + " is not installed (`make test` installs it)");
        }
    }

    static void unavailable(String why) {
        Skip.because(why);
    }
}
