package io.bpfwatch.packaging;

import io.bpfwatch.testkit.Cmd;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Debian 12 machine booted with its own systemd as PID 1 (systemd-nspawn), driven from outside
 * with nsenter, as an admin would drive a host: apt, systemctl, journalctl, logrotate.
 *
 * <p>The image is debootstrapped once and cached under a key made of its recipe and the
 * package's dependency fields. It also holds apt's lists and the .debs the package pulls in,
 * downloaded at image time with the image's own apt: the booted container has no network
 * (--private-network, only its loopback), so {@code apt install ./bpfwatch_*.deb} resolves the
 * dependencies from the package and installs them from apt's cache, offline. Every boot runs
 * on a throw-away overlay (--volatile=overlay): the cached image never changes.
 */
final class SystemdContainer implements AutoCloseable {
    static final String SUITE = "bookworm";
    static final String MIRROR = "http://deb.debian.org/debian";
    /** logrotate: the tests run the shipped logrotate file with the real logrotate. */
    static final List<String> INCLUDE = List.of("systemd", "systemd-sysv", "dbus", "logrotate");
    /** Change when the recipe changes in a way the key does not see. */
    private static final String RECIPE = "1";

    private final Process nspawn;
    private final long leader;
    private final Path console;

    private SystemdContainer(Process nspawn, long leader, Path console) {
        this.nspawn = nspawn;
        this.leader = leader;
        this.console = console;
    }

    /** The cached image for this package, built first if needed (debootstrap: a minute or two). */
    static Path image(Path cacheDir, Path deb) throws Exception {
        String fields = Cmd.ok("dpkg-deb", "-f", deb.toString(), "Pre-Depends", "Depends", "Recommends").out();
        String key = sha256(String.join("\n", RECIPE, SUITE, MIRROR, String.join(",", INCLUDE), fields)).substring(0, 16);
        Path image = cacheDir.resolve("nspawn-" + SUITE + "-" + key);
        if (Files.isDirectory(image)) return image;
        Files.createDirectories(cacheDir);
        try (FileChannel ch = FileChannel.open(cacheDir.resolve("nspawn.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            if (Files.isDirectory(image)) return image;
            // Older images (other keys) are large and never used again.
            try (var old = Files.list(cacheDir)) {
                for (Path p : old.filter(p -> p.getFileName().toString().startsWith("nspawn-")).toList()) Cmd.ok("rm", "-rf", p.toString());
            }
            Path tmp = cacheDir.resolve("nspawn-" + SUITE + "-" + key + ".tmp");
            Cmd.run(Duration.ofMinutes(10), null, null, List.of("debootstrap", "--variant=minbase",
                    "--include=" + String.join(",", INCLUDE), SUITE, tmp.toString(), MIRROR)).ok();
            Cmd.run(Duration.ofMinutes(10), null, null, List.of("systemd-nspawn", "--quiet", "--register=no", "--keep-unit",
                    "-D", tmp.toString(), "--pipe", "--bind-ro=" + deb + ":/tmp/" + deb.getFileName(),
                    "sh", "-c", "apt-get clean && apt-get -q update && apt-get install -q -y --download-only /tmp/" + deb.getFileName())).ok();
            Files.move(tmp, image, StandardCopyOption.ATOMIC_MOVE);
        }
        return image;
    }

    /**
     * Boots the image. eBPF inside needs nspawn's seccomp filter to allow bpf() and
     * perf_event_open(), and the capabilities; CAP_SYS_RAWIO lets the container's systemd mount
     * tracefs at boot as it does on a host (sys-kernel-tracing.mount requires it). {@code binds}
     * are host:container paths, read-only.
     */
    static SystemdContainer boot(Path image, Path workDir, List<String> binds) throws Exception {
        Files.createDirectories(workDir);
        Path console = workDir.resolve("console.log");
        List<String> cmd = new ArrayList<>(List.of("systemd-nspawn", "-D", image.toString(), "--volatile=overlay", "--boot",
                "--register=no", "--keep-unit", "--console=pipe", "--private-network", "--machine=bpfwatch-test-" + ProcessHandle.current().pid(),
                "--system-call-filter=bpf perf_event_open",
                "--capability=CAP_BPF,CAP_PERFMON,CAP_SYS_ADMIN,CAP_SYS_RAWIO"));
        for (String b : binds) cmd.add("--bind-ro=" + b);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long leader = -1;
        while (leader < 0) {
            if (!p.isAlive()) throw new AssertionError("systemd-nspawn exited " + p.exitValue() + ":\n" + Files.readString(console));
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("the container did not start:\n" + Files.readString(console));
            }
            // nspawn forks helpers before the container's init: wait for systemd itself.
            leader = p.children().map(ProcessHandle::pid).filter(SystemdContainer::isSystemd).findFirst().orElse(-1L);
            if (leader < 0) Thread.sleep(50);
        }
        SystemdContainer c = new SystemdContainer(p, leader, console);
        // "degraded" is still booted: some unit a container cannot run failed.
        // Until systemd has made /run/systemd/system, systemctl takes it for another init and
        // answers "offline" at once (seen on a loaded machine); until it has opened its private
        // socket, systemctl cannot connect. Either way: ask again.
        Cmd.Result state = c.exec(Duration.ofSeconds(90), "systemctl", "is-system-running", "--wait");
        while ((state.err().contains("Failed to connect to bus") || state.out().trim().equals("offline"))
                && System.nanoTime() < deadline + TimeUnit.SECONDS.toNanos(60)) {
            Thread.sleep(100);
            state = c.exec(Duration.ofSeconds(90), "systemctl", "is-system-running", "--wait");
        }
        if (!state.out().trim().equals("running") && !state.out().trim().equals("degraded")) {
            c.close();
            throw new AssertionError("the container did not boot: " + state.describe() + "\n" + Files.readString(console));
        }
        return c;
    }

    private static boolean isSystemd(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim().equals("systemd");
        } catch (IOException gone) {
            return false;
        }
    }

    /** Host PID of the container's systemd. */
    long leader() {
        return leader;
    }

    /** The container's root filesystem, seen from the host. */
    Path root() {
        return Path.of("/proc/" + leader + "/root");
    }

    Cmd.Result exec(Duration timeout, String... command) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(leader), "-a"));
        cmd.addAll(List.of(command));
        return Cmd.run(timeout, null, null, cmd);
    }

    Cmd.Result exec(String... command) {
        return exec(Cmd.DEFAULT_TIMEOUT, command);
    }

    Cmd.Result sh(String script) {
        return exec("sh", "-c", script);
    }

    Cmd.Result sh(Duration timeout, String script) {
        return exec(timeout, "sh", "-c", script);
    }

    /** One `systemctl show` property. */
    String property(String unit, String property) {
        return exec("systemctl", "show", "-p", property, "--value", unit).ok().out().trim();
    }

    /** GET on the container's loopback with the host's curl: status line and body. */
    Http get(String url, String... headers) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(leader), "-n", "curl", "-sS", "-m", "5",
                "-o", "-", "-w", "\n%{http_code}"));
        for (String h : headers) cmd.addAll(List.of("-H", h));
        cmd.add(url);
        Cmd.Result r = Cmd.run(Duration.ofSeconds(10), null, null, cmd);
        if (r.exit() != 0) return new Http(0, r.err());
        int nl = r.out().lastIndexOf('\n');
        return new Http(Integer.parseInt(r.out().substring(nl + 1).trim()), r.out().substring(0, nl));
    }

    record Http(int status, String body) {
    }

    String consoleLog() throws IOException {
        return Files.readString(console);
    }

    @Override
    public void close() throws Exception {
        if (!nspawn.isAlive()) return;
        exec(Duration.ofSeconds(10), "systemctl", "poweroff", "--no-block");
        if (!nspawn.waitFor(30, TimeUnit.SECONDS)) {
            nspawn.destroy();
            if (!nspawn.waitFor(10, TimeUnit.SECONDS)) nspawn.destroyForcibly();
        }
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
