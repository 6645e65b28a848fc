package io.bpfwatch.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a deadline, capturing its output; for tests that drive real tools. */
public final class Cmd {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public record Result(List<String> command, int exit, String out, String err) {
        public Result ok() {
            if (exit != 0) throw new AssertionError(this.describe());
            return this;
        }

        public String describe() {
            return String.join(" ", command) + "\nexit " + exit + "\n--- stdout\n" + tail(out) + "\n--- stderr\n" + tail(err);
        }

        private static String tail(String s) {
            return s.length() <= 6000 ? s : "...\n" + s.substring(s.length() - 6000);
        }
    }

    private Cmd() {}

    public static Result run(String... command) {
        return run(DEFAULT_TIMEOUT, null, null, List.of(command));
    }

    public static Result ok(String... command) {
        return run(command).ok();
    }

    public static Result run(Duration timeout, String... command) {
        return run(timeout, null, null, List.of(command));
    }

    /** {@code dir} and {@code stdin} may be null (current directory, no input). */
    public static Result run(Duration timeout, Path dir, byte[] stdin, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (dir != null) pb.directory(dir.toFile());
        if (stdin == null) pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        try {
            Process p = pb.start();
            CompletableFuture<byte[]> out = drain(p.getInputStream());
            CompletableFuture<byte[]> err = drain(p.getErrorStream());
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin);
                }
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + ": still running after " + timeout
                        + "\n--- stdout\n" + text(out.getNow(new byte[0])) + "\n--- stderr\n" + text(err.getNow(new byte[0])));
            }
            return new Result(command, p.exitValue(), text(out.join()), text(err.join()));
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** One thread per stream: the common pool may have a single thread, and both pipes must flow. */
    private static final java.util.concurrent.ExecutorService DRAINS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "cmd-drain");
        t.setDaemon(true);
        return t;
    });

    private static CompletableFuture<byte[]> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try (in) {
                in.transferTo(b);
            } catch (IOException ignored) {
                // the process was killed; keep what arrived
            }
            return b.toByteArray();
        }, DRAINS);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
