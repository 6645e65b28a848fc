package io.bpfwatch.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.testkit.SimpleEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

class EventLogTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Counter lostQueue = registry.counter("q");
    private final Counter lostWrite = registry.counter("w");

    private EventLog log(Path dir, LogsConfig.Rotation r, int capacity) {
        return new EventLog("sim", new LogsConfig(dir, r), capacity, lostQueue, lostWrite);
    }

    /** Every line of the active file and all archives (gzipped or not), each parsed as JSON. */
    static List<JsonNode> allLines(Path dir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("sim.log")).sorted().toList();
        }
        for (Path f : files) {
            try (InputStream raw = Files.newInputStream(f);
                 InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
                 BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) out.add(JSON.readTree(line)); // a split line would not parse
            }
            byte[] bytes = f.toString().endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(f)).readAllBytes() : Files.readAllBytes(f);
            if (bytes.length > 0) assertThat(bytes[bytes.length - 1]).as(f + " ends with a complete line").isEqualTo((byte) '\n');
        }
        return out;
    }

    @Test
    void sizeRotationKeepsNFilesCompressedAndNeverSplitsALine(@TempDir Path dir) throws Exception {
        try (EventLog log = log(dir, new LogsConfig.Rotation(false, 64 << 10, 3, true), 100_000)) {
            for (int i = 0; i < 5000; i++) assertThat(log.offer(new SimpleEvent(i))).isTrue();
            assertThat(log.awaitDrained(10_000)).isTrue();
            log.awaitArchives();
        }
        List<String> names;
        try (Stream<Path> s = Files.list(dir)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(names).containsExactly("sim.log", "sim.log.1.gz", "sim.log.2.gz", "sim.log.3.gz");
        // the newest lines survive, in order, each whole; older archives beyond keep are gone
        List<JsonNode> lines = allLines(dir);
        TreeSet<Long> seqs = new TreeSet<>();
        for (JsonNode n : lines) seqs.add(n.get("seq").asLong());
        assertThat(seqs.last()).isEqualTo(4999);
        assertThat(seqs.size()).isEqualTo(lines.size());
        assertThat(seqs.last() - seqs.first() + 1).isEqualTo(seqs.size());
        assertThat(Files.size(dir.resolve("sim.log"))).isLessThan(64 << 10);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("sim.log")))).isEqualTo("rw-r-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("sim.log.1.gz")))).isEqualTo("rw-r-----");
        assertThat(lostWrite.count() + lostQueue.count()).isZero();
    }

    @Test
    void aBatchLargerThanOneWriteSegmentIsWrittenWholeInOrderAcrossRotations(@TempDir Path dir) throws Exception {
        // 4000 events of ~2 KiB offered at once: the writer takes them in batches of up to 1024
        // and writes each in segments of ~256 KiB; rotation at 1 MiB falls between segments too.
        String text = "y".repeat(2000);
        try (EventLog log = log(dir, new LogsConfig.Rotation(false, 1 << 20, 20, false), 10_000)) {
            for (int i = 0; i < 4000; i++) {
                assertThat(log.offer(new SimpleEvent(1_795_000_000_000_000_000L + i, 42, "test", i, text))).isTrue();
            }
            assertThat(log.awaitDrained(20_000)).isTrue();
            log.awaitArchives();
        }
        List<JsonNode> lines = allLines(dir);
        List<Long> seqs = new ArrayList<>();
        for (JsonNode n : lines) seqs.add(n.get("seq").asLong());
        assertThat(seqs).hasSize(4000);
        assertThat(new TreeSet<>(seqs)).hasSize(4000).first().isEqualTo(0L);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) assertThat(Files.size(f)).as(f.toString()).isLessThanOrEqualTo((1 << 20) + 2100);
        }
        assertThat(lostWrite.count() + lostQueue.count()).isZero();
    }

    @Test
    void withoutCompressionArchivesArePlainFiles(@TempDir Path dir) throws Exception {
        try (EventLog log = log(dir, new LogsConfig.Rotation(false, 16 << 10, 2, false), 10_000)) {
            for (int i = 0; i < 1000; i++) log.offer(new SimpleEvent(i));
            assertThat(log.awaitDrained(10_000)).isTrue();
        }
        assertThat(Files.exists(dir.resolve("sim.log.1"))).isTrue();
        assertThat(Files.exists(dir.resolve("sim.log.2"))).isTrue();
        assertThat(Files.exists(dir.resolve("sim.log.3"))).isFalse();
        assertThat(allLines(dir)).isNotEmpty();
    }

    @Test
    void externalRotationLosesNoLineAcrossRenameAndReopen(@TempDir Path dir) throws Exception {
        try (EventLog log = log(dir, LogsConfig.Rotation.EXTERNAL, 100_000)) {
            Thread producer = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    while (!log.offer(new SimpleEvent(i))) Thread.onSpinWait();
                }
            });
            producer.start();
            for (int r = 1; r <= 5; r++) {
                Thread.sleep(20);
                while (!Files.exists(dir.resolve("sim.log"))) Thread.sleep(1); // logrotate skips a missing file too
                Files.move(dir.resolve("sim.log"), dir.resolve("sim.log.rot" + r)); // what logrotate does
                log.reopen();                                                     // its postrotate SIGHUP
            }
            producer.join();
            assertThat(log.awaitDrained(10_000)).isTrue();
        }
        List<JsonNode> lines = allLines(dir);
        TreeSet<Long> seqs = new TreeSet<>();
        for (JsonNode n : lines) seqs.add(n.get("seq").asLong());
        assertThat(lines).hasSize(20_000 - (int) lostQueue.count());
        assertThat(seqs).hasSize(lines.size());
        assertThat(lostWrite.count()).isZero();
    }

    @Test
    void aDeletedFolderIsRecreatedAndNothingIsWrittenIntoTheVoid(@TempDir Path dir) throws Exception {
        Path logs = dir.resolve("logs");
        try (EventLog log = log(logs, LogsConfig.Rotation.DEFAULT, 10_000)) {
            for (int i = 0; i < 10; i++) log.offer(new SimpleEvent(i));
            assertThat(log.awaitDrained(5000)).isTrue();
            try (Stream<Path> s = Files.walk(logs)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            assertThat(Files.exists(logs)).isFalse();
            for (int i = 10; i < 20; i++) log.offer(new SimpleEvent(i));
            assertThat(log.awaitDrained(5000)).isTrue();
        }
        List<JsonNode> lines = allLines(logs);
        assertThat(lines).extracting(n -> n.get("seq").asLong()).containsExactly(10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(logs))).isEqualTo("rwxr-x---");
    }

    @Test
    void eventsWaitWhileTheFolderCannotBeMadeAndAreAllWrittenInOrderOnceItCan(@TempDir Path dir) throws Exception {
        Path blocker = dir.resolve("logs");
        Files.writeString(blocker, "a file where the folder should be");
        try (EventLog log = log(blocker, LogsConfig.Rotation.DEFAULT, 10_000)) {
            for (int i = 0; i < 7; i++) log.offer(new SimpleEvent(i));
            awaitCondition(() -> log.problem() != null && log.problem().contains("cannot open"));
            assertThat(log.pending()).as("waiting, not dropped").isEqualTo(7);
            assertThat(lostWrite.count()).isZero();

            Files.delete(blocker);
            for (int i = 7; i < 10; i++) log.offer(new SimpleEvent(i));
            log.signal();
            assertThat(log.awaitDrained(5000)).isTrue();
            assertThat(log.problem()).isNull();
        }
        assertThat(allLines(blocker)).extracting(n -> n.get("seq").asLong()).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(lostWrite.count()).isZero();
        assertThat(lostQueue.count()).isZero();
    }

    @Test
    void whileTheFileFailsOnlyWhatOverflowsTheQueueIsLostAndStoppingCountsWhatWaits(@TempDir Path dir) throws Exception {
        Path blocker = dir.resolve("logs");
        Files.writeString(blocker, "a file where the folder should be");
        int accepted = 0;
        try (EventLog log = log(blocker, LogsConfig.Rotation.DEFAULT, 100)) {
            log.offer(new SimpleEvent(0));
            log.signal();
            // the writer has taken the first event and holds it (the file failed): from now on the
            // queue only fills. Without this wait, a writer that slept through the first offer was
            // woken by the full queue and took a whole batch with it, and 199 were accepted.
            awaitCondition(() -> log.held() == 1);
            for (int i = 1; i < 1000; i++) if (log.offer(new SimpleEvent(i))) accepted++;
            assertThat(lostQueue.count()).isEqualTo(999 - accepted);
            // the queue holds its capacity, no more: held events keep the writer from taking new ones
            assertThat(accepted).isEqualTo(100);
            assertThat(lostWrite.count()).isZero();
        } // closed while the folder still cannot be made
        assertThat(lostWrite.count()).isEqualTo(accepted + 1);
        assertThat(lostWrite.count() + lostQueue.count()).isEqualTo(1000);
    }

    @Test
    void theHeapBudgetIsSharedByEveryLogAndGivenBackOnceEventsAreWrittenOrCountedLost(@TempDir Path dir) throws Exception {
        int weight = new SimpleEvent(0).weight();
        QueueBudget budget = new QueueBudget(100L * weight); // 100 waiting events in all
        Path blockerA = dir.resolve("a"), blockerB = dir.resolve("b");
        Files.writeString(blockerA, "a file where the folder should be");
        Files.writeString(blockerB, "a file where the folder should be");
        Counter lostQueueB = registry.counter("qb"), lostWriteB = registry.counter("wb");
        try (EventLog a = new EventLog("sim", new LogsConfig(blockerA, LogsConfig.Rotation.DEFAULT), 1000, budget, lostQueue, lostWrite, null)) {
            try (EventLog b = new EventLog("sim", new LogsConfig(blockerB, LogsConfig.Rotation.DEFAULT), 1000, budget, lostQueueB, lostWriteB, null)) {
                for (int i = 0; i < 60; i++) assertThat(a.offer(new SimpleEvent(i))).as("a's %d", i).isTrue();
                int acceptedB = 0;
                for (int i = 0; i < 60; i++) if (b.offer(new SimpleEvent(i))) acceptedB++;
                // each queue holds 1000, but together they may hold 100
                assertThat(acceptedB).isEqualTo(40);
                assertThat(lostQueueB.count()).isEqualTo(20);
                assertThat(budget.used()).isEqualTo(100L * weight);

                // a's folder can be made again: its 60 are written and their share comes back
                Files.delete(blockerA);
                a.signal();
                assertThat(a.awaitDrained(5000)).isTrue();
                assertThat(a.linesWritten()).isEqualTo(60);
                assertThat(budget.used()).isEqualTo(40L * weight);
                for (int i = 60; i < 120; i++) assertThat(b.offer(new SimpleEvent(i))).as("b's %d", i).isTrue();
                assertThat(b.offer(new SimpleEvent(120))).isFalse();
            } // b closed while its folder still cannot be made: what waits is counted lost and given back
            assertThat(lostWriteB.count()).isEqualTo(100);
            assertThat(budget.used()).isZero();
        }
        assertThat(lostQueue.count()).isZero();
        assertThat(lostWrite.count()).isZero();
    }

    /** Polls an observable condition of the writer (it retries on a timer). */
    private static void awaitCondition(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not reached in 10 s");
            Thread.sleep(5);
        }
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfBlocking(@TempDir Path dir) throws Exception {
        Path blocker = dir.resolve("logs");
        try (EventLog log = log(blocker, LogsConfig.Rotation.DEFAULT, 4)) {
            int accepted = 0;
            for (int i = 0; i < 10_000; i++) if (log.offer(new SimpleEvent(i))) accepted++;
            assertThat(log.awaitDrained(5000)).isTrue();
            assertThat(accepted + (long) lostQueue.count()).isEqualTo(10_000);
            assertThat(lostQueue.count()).isPositive();
            assertThat(log.linesWritten()).isEqualTo(accepted);
        }
    }

    @Test
    void aLineCutOffByACrashIsDroppedSoTheFileStaysLineComplete(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("sim.log"), "{\"seq\":0}\n{\"time\":\"cut off by kill -9");
        try (EventLog log = log(dir, LogsConfig.Rotation.DEFAULT, 100)) {
            log.offer(new SimpleEvent(1));
            assertThat(log.awaitDrained(5000)).isTrue();
        }
        List<String> lines = Files.readAllLines(dir.resolve("sim.log"));
        assertThat(lines).hasSize(2);
        assertThat(JSON.readTree(lines.get(0)).get("seq").asLong()).isZero();
        assertThat(JSON.readTree(lines.get(1)).get("seq").asLong()).isEqualTo(1);
    }
}
