package io.bpfwatch.monitor.zfs;

import io.bpfwatch.testkit.Skip;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real OpenZFS userland client (src/test/c/zfsclient.c over Debian's libzfs_core.so.3
 * and libnvpair.so.3), compiled once per test run. Without those libraries the tests that need
 * it are skipped with the reason, or fail under BPFWATCH_REQUIRE_BPF=1 (`make test` installs them).
 */
final class ZfsClient {
    private static final Path SOURCE = Path.of("src/test/c/zfsclient.c");
    private static final Path BINARY = Path.of("target/zfsclient/zfsclient");
    private static String problem;
    private static boolean built;

    private ZfsClient() {}

    /** The compiled client, or the test is aborted (failed under BPFWATCH_REQUIRE_BPF=1). */
    static synchronized Path binary() {
        if (!built) {
            built = true;
            problem = build();
        }
        if (problem != null) {
            String message = "the OpenZFS client cannot be built (install libzfs4linux and libnvpair3linux from Debian contrib: make deps): " + problem;
            throw Skip.because(message);
        }
        return BINARY.toAbsolutePath();
    }

    private static String build() {
        try {
            // built already (by an earlier run, or on the host for the VM suite, whose guest has no gcc)
            if (Files.isExecutable(BINARY) && Files.getLastModifiedTime(BINARY).compareTo(Files.getLastModifiedTime(SOURCE)) >= 0) {
                return null;
            }
            Files.createDirectories(BINARY.getParent());
            Result r = run(List.of("gcc", "-O1", "-Wall", "-Werror", "-o", BINARY.toString(), SOURCE.toString(),
                    "-l:libzfs_core.so.3", "-l:libnvpair.so.3"), 60);
            return r.exit == 0 ? null : r.output.strip();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Golden nvlists packed by the real fnvlist_pack into {@code dir}/NAME.bin. */
    static void pack(Path dir) throws IOException {
        Result r = run(List.of(binary().toString(), "pack", dir.toString()), 30);
        if (r.exit != 0) throw new IOException("zfsclient pack failed: " + r.output);
    }

    /** {@code ops} joined by ";" as one client run. */
    static List<String> ops(String[]... ops) {
        List<String> args = new ArrayList<>();
        for (String[] op : ops) {
            if (!args.isEmpty()) args.add(";");
            args.addAll(List.of(op));
        }
        return args;
    }

    /**
     * Starts the client in a private mount namespace where {@code standIn} is bind-mounted
     * over /dev/zfs (on a private tmpfs /dev), so libzfs_core opens the stand-in as the ZFS
     * device. {@code prefix} wraps the client (e.g. setpriv to run as another user).
     */
    static Process startWithDevice(Path standIn, List<String> prefix, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o size=64k,mode=755 bpfwatch-test /dev && : > /dev/zfs && mount --bind \"$1\" /dev/zfs && shift && exec \"$@\"",
                "sh", standIn.toString()));
        cmd.addAll(prefix);
        cmd.add(binary().toString());
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Starts the client as it is, in this mount namespace. */
    static Process start(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary().toString());
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Waits for a started client; its output lines ("OP RESULT" per operation). */
    static List<String> finish(Process p) throws Exception {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("zfsclient did not finish within 30 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) throw new AssertionError("zfsclient exited " + p.exitValue() + ": " + out);
        return out.lines().toList();
    }

    record Result(int exit, String output) {
    }

    static Result run(List<String> cmd, int timeoutSeconds) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", cmd) + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(-1, "interrupted");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
