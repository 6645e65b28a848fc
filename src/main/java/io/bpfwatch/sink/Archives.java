package io.bpfwatch.sink;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPOutputStream;

/**
 * The rotated files of one log: NAME.1 (newest) .. NAME.keep, gzipped in the background as
 * NAME.N.gz. The active file is renamed, never copied and truncated, so no line is lost or split.
 */
final class Archives {
    private static final Logger LOG = Logger.getLogger(Archives.class);
    private static final ExecutorService COMPRESSOR = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bpfwatch-log-compressor");
        t.setDaemon(true);
        return t;
    });

    private volatile CompletableFuture<Void> compressing = CompletableFuture.completedFuture(null);

    /** Moves {@code active} to NAME.1 after shifting older archives; keep=0 deletes it. */
    void rotate(Path active, int keep, boolean compress) throws IOException {
        awaitCompression();
        String name = active.getFileName().toString();
        Path dir = active.toAbsolutePath().getParent();
        if (keep <= 0) {
            Files.deleteIfExists(active);
            return;
        }
        for (String suffix : new String[] {".gz", ""}) Files.deleteIfExists(dir.resolve(name + "." + keep + suffix));
        for (int i = keep - 1; i >= 1; i--) {
            for (String suffix : new String[] {".gz", ""}) {
                Path from = dir.resolve(name + "." + i + suffix);
                if (Files.exists(from)) Files.move(from, dir.resolve(name + "." + (i + 1) + suffix), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Path first = dir.resolve(name + ".1");
        Files.move(active, first, StandardCopyOption.REPLACE_EXISTING);
        if (compress) compressing = CompletableFuture.runAsync(() -> gzip(first), COMPRESSOR);
    }

    /** Waits for a background compression (tests and shutdown call this too). */
    void awaitCompression() {
        try {
            compressing.join();
        } catch (RuntimeException e) {
            // gzip() logs its own failures; the uncompressed archive stays
        }
    }

    /** gzip at level 1: JSON lines still shrink 6-10x, at a fraction of level 6's CPU. */
    private static final class FastGzip extends GZIPOutputStream {
        FastGzip(OutputStream out) throws IOException {
            super(out, 64 << 10);
            def.setLevel(java.util.zip.Deflater.BEST_SPEED);
        }
    }

    private static void gzip(Path file) {
        Path tmp = file.resolveSibling(file.getFileName() + ".gz.tmp");
        Path gz = file.resolveSibling(file.getFileName() + ".gz");
        try (InputStream in = Files.newInputStream(file);
             OutputStream out = new FastGzip(Files.newOutputStream(tmp))) {
            in.transferTo(out);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            LOG.warnf("could not compress %s (kept uncompressed): %s", file, e.getMessage());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to do
            }
            return;
        }
        try {
            LogFiles.copyPermissions(file, tmp);
            Files.move(tmp, gz, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.delete(file);
        } catch (IOException e) {
            LOG.warnf("could not finish compressing %s: %s", file, e.getMessage());
        }
    }
}
