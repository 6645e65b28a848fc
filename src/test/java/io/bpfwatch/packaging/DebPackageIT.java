package io.bpfwatch.packaging;

import io.bpfwatch.testkit.Cmd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The .deb as Debian's tools see it, and `make install` / `make uninstall` into a staging root. */
class DebPackageIT {
    private static Path deb;

    @BeforeAll
    static void tools() {
        Packaging.requireTools("dpkg-deb", "lintian", "make");
        deb = Packaging.deb();
    }

    @Test
    void lintianFindsNoErrorsOrWarnings() {
        Cmd.Result r = Cmd.run(Duration.ofMinutes(3), "lintian", "--allow-root", "--fail-on", "error,warning", deb.toString());
        assertThat(r.out().lines().filter(l -> l.startsWith("E: ") || l.startsWith("W: ")).toList()).as(r.describe()).isEmpty();
        assertThat(r.exit()).as(r.describe()).isZero();
    }

    @Test
    void controlFieldsDeclareTheRuntimeAndNoArchitecture() {
        String version = Cmd.ok("dpkg-deb", "-f", deb.toString(), "Version").out().trim();
        assertThat(deb.getFileName().toString()).isEqualTo("bpfwatch_" + version + "_all.deb");
        assertThat(Cmd.ok("dpkg-deb", "-f", deb.toString(), "Package", "Architecture", "Depends").out()).isEqualTo(
                "Package: bpfwatch\nArchitecture: all\n"
                        + "Depends: libbpf1 (>= 1:1.0), default-jre-headless (>= 2:1.17) | java17-runtime-headless, procps\n");
    }

    @Test
    void layoutConffileAndMaintainerScripts(@TempDir Path dir) throws Exception {
        List<String> paths = Cmd.ok("dpkg-deb", "-c", deb.toString()).out().lines()
                .map(l -> l.substring(l.indexOf("./") + 1)).toList();
        assertThat(paths).contains("/usr/bin/bpfwatch", "/usr/lib/bpfwatch/quarkus-run.jar", "/etc/bpfwatch/bpfwatch.yaml",
                "/lib/systemd/system/bpfwatch.service", "/usr/share/doc/bpfwatch/examples/logrotate",
                "/usr/share/doc/bpfwatch/copyright", "/usr/share/doc/bpfwatch/changelog.gz", "/usr/share/man/man1/bpfwatch.1.gz",
                "/usr/share/doc/bpfwatch/examples/monitors/dnswatch.bt", "/usr/share/doc/bpfwatch/examples/monitors/dnswatch.yaml",
                "/usr/share/doc/bpfwatch/examples/monitors/zfs-snapshots.bt", "/usr/share/doc/bpfwatch/examples/monitors/wireguard-latency.bt");
        assertThat(paths).noneMatch(p -> p.startsWith("/etc/logrotate.d"));
        assertThat(paths.stream().filter(p -> p.startsWith("/usr/lib/bpfwatch/") && p.endsWith(".bpf.o"))).isEmpty(); // inside the jar

        Cmd.ok("dpkg-deb", "-e", deb.toString(), dir.resolve("DEBIAN").toString());
        assertThat(Files.readString(dir.resolve("DEBIAN/conffiles"))).isEqualTo("/etc/bpfwatch/bpfwatch.yaml\n");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Path p = dir.resolve("DEBIAN").resolve(script);
            assertThat(p).isExecutable();
            Cmd.ok("sh", "-n", p.toString());
        }
        // Reload systemd, never enable or start: the service is the admin's.
        String postinst = Files.readString(dir.resolve("DEBIAN/postinst"));
        assertThat(postinst).contains("daemon-reload").contains("try-restart").doesNotContain("deb-systemd-invoke start");
        assertThat(Files.readString(dir.resolve("DEBIAN/postrm"))).contains("deb-systemd-helper purge bpfwatch.service");
        // The packaged unit is the repository's, paths unchanged for PREFIX=/usr.
        Cmd.ok("dpkg-deb", "-x", deb.toString(), dir.resolve("root").toString());
        assertThat(Files.readString(dir.resolve("root/lib/systemd/system/bpfwatch.service")))
                .isEqualTo(Files.readString(Packaging.file("packaging/systemd/bpfwatch.service")));
        assertThat(Files.readString(dir.resolve("root/usr/share/doc/bpfwatch/examples/logrotate")))
                .isEqualTo(Files.readString(Packaging.file("packaging/logrotate/bpfwatch")));
    }

    @Test
    void makeInstallLaysOutARunnableTreeAndUninstallKeepsOnlyAnEditedConfig(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("root");
        make("install-files", "DESTDIR=" + root);
        Path launcher = root.resolve("usr/local/bin/bpfwatch");
        assertThat(launcher).isExecutable();
        assertThat(root.resolve("usr/local/lib/bpfwatch/quarkus-run.jar")).isRegularFile();
        assertThat(Files.readString(root.resolve("usr/local/lib/systemd/system/bpfwatch.service")))
                .contains("ExecStart=/usr/local/bin/bpfwatch run --config /etc/bpfwatch/bpfwatch.yaml")
                .contains("ExecReload=/usr/local/bin/bpfwatch check --config /etc/bpfwatch/bpfwatch.yaml")
                .contains("Documentation=file:/usr/local/share/doc/bpfwatch/README.md");
        // The launcher finds its application relative to itself.
        assertThat(Cmd.ok(launcher.toString(), "version").out()).startsWith("bpfwatch ");

        // A second install keeps the admin's file and puts the new default beside it.
        Path config = root.resolve("etc/bpfwatch/bpfwatch.yaml");
        Files.writeString(config, Files.readString(config) + "# edited\n");
        make("install-files", "DESTDIR=" + root);
        assertThat(Files.readString(config)).endsWith("# edited\n");
        assertThat(root.resolve("etc/bpfwatch/bpfwatch.yaml.default")).isRegularFile();

        make("uninstall", "DESTDIR=" + root);
        try (Stream<Path> files = Files.walk(root)) {
            assertThat(files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).toList())
                    .containsExactly("etc/bpfwatch/bpfwatch.yaml");
        }
        Files.writeString(config, Files.readString(Packaging.file("packaging/bpfwatch.yaml")));
        make("uninstall", "DESTDIR=" + root);
        assertThat(root.resolve("etc/bpfwatch")).doesNotExist();
    }

    private static void make(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("make", "--no-print-directory", "-s"));
        cmd.addAll(List.of(args));
        Cmd.run(Duration.ofMinutes(2), Packaging.basedir(), null, cmd).ok();
    }
}
