package io.bpfwatch.cli;

import io.bpfwatch.sink.DaemonRotation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * tail -f against the daemon's own rotation, racing: the writer rotates a small file every few
 * dozen lines (shifting every archive, gzipping NAME.log.1 in the background) while the
 * follower polls without pause, so renames and compressions land in the middle of its looks.
 * Every line must come out once, in order. (A follower that looked for the next file once,
 * then opened the current one, skipped whole files when a rotation fell in between.)
 */
class FollowerRotationTest {
    private static final int LINES = 20_000;

    @Test
    void everyLineOnceAndInOrderWhileRotatingAndCompressingUnderTheFollower(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("tcp.log");
        DaemonRotation rotation = new DaemonRotation();
        AtomicBoolean written = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
                for (int i = 0; i < LINES; i++) {
                    ch.write(ByteBuffer.wrap(("{\"time\":\"2026-12-06T00:00:00Z\",\"monitor\":\"tcp\",\"seq\":" + i + "}\n")
                            .getBytes(StandardCharsets.UTF_8)));
                    if (ch.size() >= 2048) { // between lines, as the daemon does
                        ch.close();
                        rotation.rotate(log, 1000, i % 3 != 0); // most compressed, some left plain
                        ch = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
                    }
                }
                ch.close();
                rotation.awaitCompression();
            } catch (Throwable t) {
                failed.set(t);
            } finally {
                written.set(true);
            }
        });
        List<String> seen = new ArrayList<>();
        java.nio.file.Files.createFile(log);
        try (LogLines.Follower f = new LogLines.Follower(log)) { // from its end: the start, as it is empty
            writer.start();
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (seen.size() < LINES) {
                boolean done = written.get();
                f.poll(seen::add);
                if (done && seen.size() < LINES) {
                    f.poll(seen::add); // everything was written before this poll began
                    break;
                }
                assertThat(System.nanoTime()).as("followed %d of %d lines", seen.size(), LINES).isLessThan(deadline);
            }
            writer.join();
        }
        assertThat(failed.get()).isNull();
        List<Integer> seqs = seen.stream().map(l -> Integer.parseInt(l.replaceAll(".*\"seq\":([0-9]+).*", "$1"))).toList();
        int first = 0;
        while (first < seqs.size() && seqs.get(first) == first) first++;
        assertThat(first).as("lines followed in order before the first missing, repeated or out of order one; then: %s",
                seqs.subList(first, Math.min(seqs.size(), first + 10))).isEqualTo(LINES);
        assertThat(seqs).hasSize(LINES);
    }
}
