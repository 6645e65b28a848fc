package io.bpfwatch.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TailTest {
    private static final Instant T0 = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);

    private static String tcp(int s, int dport, boolean alert, String extra) {
        return "{\"time\":\"" + T0.plusSeconds(s) + "\",\"monitor\":\"tcp\",\"event\":\"connect\",\"pid\":" + (100 + s)
                + ",\"uid\":0,\"comm\":\"curl\"" + extra + ",\"family\":\"ipv4\",\"saddr\":\"10.0.0.5\",\"sport\":40000,\"daddr\":\"192.0.2.10\",\"dport\":"
                + dport + ",\"alert\":" + alert + ",\"rules\":[" + (alert ? "\"port:" + dport + "\"" : "") + "]}";
    }

    private static String dns(int s) {
        return "{\"time\":\"" + T0.plusSeconds(s) + "\",\"monitor\":\"dns\",\"event\":\"answered\",\"pid\":7,\"uid\":0,\"comm\":\"resolved\","
                + "\"qname\":\"www.example.com\",\"qtype\":\"A\",\"server\":\"127.0.0.53\",\"port\":53,\"transport\":\"udp\",\"id\":1,"
                + "\"rcode\":\"NOERROR\",\"answers\":1,\"latency_ms\":1.25,\"addresses\":[\"192.0.2.10\"]}";
    }

    private static Tail.Options opts(String... argv) throws Exception {
        return Tail.parse(List.of(argv));
    }

    private record Run(int status, List<String> out, String err) {
    }

    private static Run run(Path dir, boolean color, String... argv) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Tail.run(opts(argv), dir, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                color, ZoneOffset.UTC, () -> true);
        String text = out.toString(StandardCharsets.UTF_8);
        return new Run(status, text.isEmpty() ? List.of() : List.of(text.split("\n")), err.toString(StandardCharsets.UTF_8));
    }

    private static void write(Path f, String... lines) throws Exception {
        Files.writeString(f, String.join("\n", lines) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static void gzip(Path f, String... lines) throws Exception {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f))) {
            o.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void monitorsAndTheirRotatedFilesAreMergedInTimeOrder(@TempDir Path dir) throws Exception {
        gzip(dir.resolve("tcp.log.2.gz"), tcp(1, 80, false, ""), tcp(4, 81, false, ""));
        write(dir.resolve("tcp.log.1"), tcp(6, 82, false, ""));
        write(dir.resolve("tcp.log"), tcp(9, 83, false, ""));
        write(dir.resolve("dns.log"), dns(2), dns(7));
        Files.writeString(dir.resolve("notes.txt"), "not a log");
        Run r = run(dir, false, "--since", "2h", "--json");
        assertThat(r.out()).extracting(l -> l.substring(9, 29)).containsExactly(
                T0.plusSeconds(1).toString(), T0.plusSeconds(2).toString(), T0.plusSeconds(4).toString(),
                T0.plusSeconds(6).toString(), T0.plusSeconds(7).toString(), T0.plusSeconds(9).toString());
        assertThat(run(dir, false, "tcp", "--since", "2h").out()).hasSize(4);
        assertThat(run(dir, false, "--since", "30m").out()).as("nothing in the last half hour").isEmpty();
    }

    @Test
    void theLastNEventsAcrossMonitorsAndFilesByDefaultTen(@TempDir Path dir) throws Exception {
        write(dir.resolve("tcp.log.1"), tcp(1, 80, false, ""), tcp(2, 81, false, ""));
        StringBuilder big = new StringBuilder();
        for (int i = 10; i < 5000; i++) big.append(tcp(i, 1000 + i % 60000, false, "")).append('\n');
        Files.writeString(dir.resolve("tcp.log"), big);
        write(dir.resolve("dns.log"), dns(4998));
        Run ten = run(dir, false, "--json");
        assertThat(ten.out()).hasSize(10);
        assertThat(ten.out().get(9)).contains("\"pid\":5099");
        assertThat(ten.out()).anyMatch(l -> l.contains("\"monitor\":\"dns\""));
        assertThat(run(dir, false, "-n", "3", "dns").out()).hasSize(1);
        // filtered: the last 2 that match, found however far back they are
        Run two = run(dir, false, "-n", "2", "--where", "dport=80", "--where", "dport=80", "--json");
        assertThat(two.out()).hasSize(1).allMatch(l -> l.contains("\"dport\":80,"));
    }

    @Test
    void whereMatchesTextNumbersAndListMembers(@TempDir Path dir) throws Exception {
        write(dir.resolve("tcp.log"), tcp(1, 4444, true, ""), tcp(2, 443, false, ",\"unit\":\"nginx.service\""), tcp(3, 4444, true, ",\"unit\":\"nginx.service\""));
        assertThat(run(dir, false, "--where", "rules=port:4444").out()).hasSize(2);
        assertThat(run(dir, false, "--where", "unit=nginx.service", "--where", "alert=true", "--json").out())
                .singleElement().asString().contains("\"pid\":103");
        assertThat(run(dir, false, "--where", "comm=nope").out()).isEmpty();
    }

    @Test
    void eventsOfEarlierDaysShowTheirDate(@TempDir Path dir) throws Exception {
        Instant old = Instant.parse("2026-01-02T03:04:05.250Z");
        write(dir.resolve("dns.log"), dns(0).replace(T0.toString(), old.toString()));
        assertThat(run(dir, false).out()).singleElement().asString().startsWith("2026-01-02 03:04:05.250 dns ");
    }

    @Test
    void readableLinesPerMonitor(@TempDir Path dir) throws Exception {
        write(dir.resolve("tcp.log"), tcp(1, 4444, true, ",\"ppid\":1,\"pcomm\":\"systemd\",\"unit\":\"backup.service\"")
                .replace("\"alert\"", "\"dns\":\"c2.example.net\",\"alert\""));
        write(dir.resolve("dns.log"), dns(2));
        write(dir.resolve("zfs.log"), "{\"time\":\"" + T0.plusSeconds(3) + "\",\"monitor\":\"zfs\",\"event\":\"operation\",\"pid\":9,\"uid\":0,"
                + "\"comm\":\"zfs\",\"ppid\":8,\"action\":\"destroy\",\"pool\":\"tank\",\"snapshots\":[\"tank/home@monday\"],\"result\":\"EBUSY\","
                + "\"duration_ms\":0.1,\"truncated\":false}");
        write(dir.resolve("opens.log"), "{\"time\":\"" + T0.plusSeconds(4) + "\",\"monitor\":\"opens\",\"event\":\"open\",\"pid\":5,\"uid\":1000,"
                + "\"comm\":\"cat\",\"path\":\"/etc/sha\\u001b[2Jdow\",\"flags\":0}");
        List<String> out = run(dir, false, "--since", "2h").out();
        // the time alone for today's events, the date too for older ones (T0 is an hour ago: yesterday just after midnight)
        java.time.ZonedDateTime first = T0.plusSeconds(1).atZone(ZoneOffset.UTC);
        String hms = String.format("%02d:%02d:%02d.000", first.getHour(), first.getMinute(), first.getSecond());
        String when = first.toLocalDate().equals(java.time.LocalDate.now(ZoneOffset.UTC)) ? hms : first.toLocalDate() + " " + hms;
        assertThat(out.get(0)).startsWith(when + " ")
                .contains("tcp           101 curl            [backup.service]  ALERT -> 192.0.2.10:4444 (c2.example.net) port:4444");
        assertThat(out.get(1)).contains("dns             7 resolved").contains("www.example.com A @127.0.0.53:53 -> NOERROR 1.25ms 192.0.2.10");
        assertThat(out.get(2)).contains("zfs             9 zfs").contains("DESTROY tank/home@monday EBUSY");
        assertThat(out.get(3)).contains("opens           5 cat").contains("open path=/etc/sha\\x1b[2Jdow flags=0");
        for (String l : out) assertThat(l).as("no escape codes when piped").doesNotContain("\u001b");
        assertThat(run(dir, true, "tcp").out().get(0)).contains("\u001b[1;31mALERT\u001b[0m");
    }

    @Test
    void linesThatAreNotEventsAreSkippedAndCounted(@TempDir Path dir) throws Exception {
        write(dir.resolve("tcp.log"), tcp(1, 80, false, ""), "{\"time\":\"cut off by a cr", "garbage", "{\"monitor\":\"tcp\"}", tcp(2, 81, false, ""));
        Run r = run(dir, false, "--since", "2h");
        assertThat(r.status()).isZero();
        assertThat(r.out()).hasSize(2);
        assertThat(r.err()).contains("skipped 3 lines that were not JSON events");
    }

    @Test
    void followingReadsAcrossARenameAndAFileThatAppearsLater(@TempDir Path dir) throws Exception {
        write(dir.resolve("tcp.log"), tcp(1, 80, false, ""));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        AtomicBoolean stop = new AtomicBoolean();
        Thread t = new Thread(() -> {
            try {
                Tail.run(opts("-f", "-n", "1", "--json"), dir, ps, ps, false, ZoneOffset.UTC, stop::get);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        try {
            awaitOutput(out, 1, t); // the last line so far: following has started
            write(dir.resolve("tcp.log"), tcp(2, 82, false, ""));
            awaitOutput(out, 2, t);
            write(dir.resolve("tcp.log"), tcp(3, 83, false, "")); // written, then rotated away before tail looks
            Files.move(dir.resolve("tcp.log"), dir.resolve("tcp.log.1"));
            write(dir.resolve("tcp.log"), tcp(4, 84, false, ""));
            write(dir.resolve("dns.log"), dns(5)); // a monitor that starts logging meanwhile
            awaitOutput(out, 5, t);
        } finally {
            stop.set(true);
            t.join(5000);
        }
        List<String> lines = List.of(out.toString(StandardCharsets.UTF_8).split("\n"));
        assertThat(lines).extracting(l -> l.replaceAll(".*\"pid\":([0-9]+).*", "$1")).containsExactly("101", "102", "103", "104", "7");
    }

    @Test
    void followingReadsEveryFileOfSeveralRotationsBetweenTwoLooks(@TempDir Path dir) throws Exception {
        write(dir.resolve("tcp.log"), tcp(1, 80, false, ""));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        AtomicBoolean stop = new AtomicBoolean();
        Thread t = new Thread(() -> {
            try {
                Tail.run(opts("-f", "-n", "1", "--json"), dir, ps, ps, false, ZoneOffset.UTC, stop::get);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        try {
            awaitOutput(out, 1, t);
            // as the daemon rotates with compression, three times within one poll: the newest archive
            // stays plain (tcp.log.1), older ones are gzip'd and shifted
            write(dir.resolve("tcp.log"), tcp(2, 82, false, ""));
            for (int i = 3; i <= 5; i++) {
                for (int k = 3; k >= 1; k--) {
                    Path gz = dir.resolve("tcp.log." + k + ".gz");
                    if (Files.exists(gz)) Files.move(gz, dir.resolve("tcp.log." + (k + 1) + ".gz"));
                }
                if (Files.exists(dir.resolve("tcp.log.1"))) {
                    gzip(dir.resolve("tcp.log.2.gz"), Files.readAllLines(dir.resolve("tcp.log.1")).toArray(String[]::new));
                    Files.delete(dir.resolve("tcp.log.1"));
                }
                Files.move(dir.resolve("tcp.log"), dir.resolve("tcp.log.1"));
                write(dir.resolve("tcp.log"), tcp(i, 80 + i, false, ""));
            }
            awaitOutput(out, 5, t);
        } finally {
            stop.set(true);
            t.join(5000);
        }
        List<String> lines = List.of(out.toString(StandardCharsets.UTF_8).split("\n"));
        assertThat(lines).extracting(l -> l.replaceAll(".*\"pid\":([0-9]+).*", "$1")).containsExactly("101", "102", "103", "104", "105");
    }

    private static void awaitOutput(ByteArrayOutputStream out, int lines, Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (out.toString(StandardCharsets.UTF_8).split("\n", -1).length - 1 < lines) {
            assertThat(System.nanoTime()).as("%d lines followed", lines).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertThatThrownBy(() -> opts("--since", "10x")).hasMessageContaining("a duration like");
        assertThatThrownBy(() -> opts("--since", "99999999999999999999s")).hasMessageContaining("too large");
        assertThatThrownBy(() -> opts("--since", "999999999999999d")).hasMessageContaining("too large");
        assertThatThrownBy(() -> opts("-n", "many")).hasMessageContaining("needs a number");
        assertThatThrownBy(() -> opts("--where", "novalue")).hasMessageContaining("FIELD=VALUE");
        assertThatThrownBy(() -> opts("--frobnicate")).hasMessageContaining("unknown option");
        assertThatThrownBy(() -> opts("TCP")).hasMessageContaining("not a monitor name");
    }
}
