package io.bpfwatch.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The log folder as {@code bpfwatch tail} reads it: each monitor's current file
 * ({@code NAME.log}) and its rotated ones ({@code NAME.log.1}, {@code NAME.log.2.gz}, ...,
 * the higher the number the older), read whole or from the end, and followed across
 * rotations (the daemon's renames and logrotate's).
 */
final class LogLines {
    private static final Pattern NAME = Pattern.compile("([a-z][a-z0-9_-]{0,31})\\.log(?:\\.([0-9]{1,6})(\\.gz)?)?");

    /** One monitor's files, oldest first; the last is the current file (it may not exist yet). */
    record Files_(String monitor, List<Path> files) {
    }

    private LogLines() {
    }

    /** The monitors with files in {@code dir} (all of them if {@code only} is empty), each with its files oldest first. */
    static List<Files_> list(Path dir, List<String> only) throws IOException {
        Map<String, TreeMap<Integer, Path>> byMonitor = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (!m.matches() || (!only.isEmpty() && !only.contains(m.group(1)))) continue;
                int n = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
                byMonitor.computeIfAbsent(m.group(1), k -> new TreeMap<>(Comparator.reverseOrder())).put(n, p);
            }
        }
        for (String m : only) byMonitor.computeIfAbsent(m, k -> new TreeMap<>(Comparator.reverseOrder()));
        List<Files_> out = new ArrayList<>();
        for (Map.Entry<String, TreeMap<Integer, Path>> e : byMonitor.entrySet()) {
            List<Path> files = new ArrayList<>(e.getValue().values());
            Path current = dir.resolve(e.getKey() + ".log");
            files.remove(current);
            files.add(current); // last, even before it exists
            out.add(new Files_(e.getKey(), files));
        }
        return out;
    }

    /** Every whole line of a file (gzip'd or plain) to {@code sink}; a missing file has none. */
    static void readAll(Path file, Consumer<String> sink) throws IOException {
        readAll(file, Long.MAX_VALUE, sink);
    }

    /** The same, of the file's first {@code limit} bytes. */
    static void readAll(Path file, long limit, Consumer<String> sink) throws IOException {
        if (!Files.exists(file)) return;
        try (InputStream raw = limited(Files.newInputStream(file), limit);
             InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            for (String l = r.readLine(); l != null; l = r.readLine()) sink.accept(l);
        } catch (java.io.EOFException cutShort) {
            // a gzip'd file still being written by the daemon's compressor: what was there
        }
    }

    private static InputStream limited(InputStream in, long limit) {
        if (limit == Long.MAX_VALUE) return in;
        return new java.io.FilterInputStream(in) {
            long left = limit;

            @Override
            public int read() throws IOException {
                if (left <= 0) return -1;
                int b = super.read();
                if (b >= 0) left--;
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) return -1;
                int n = super.read(b, off, (int) Math.min(len, left));
                if (n > 0) left -= n;
                return n;
            }
        };
    }

    /**
     * The last {@code n} whole lines of a plain file, reading back from its end in chunks (a
     * 100 MiB log costs a few reads, not a scan); a line not yet ended is not one.
     */
    static List<String> last(Path file, int n) throws IOException {
        return last(file, n, Long.MAX_VALUE);
    }

    /** The same, of the file's first {@code limit} bytes (where a follower took over). */
    static List<String> last(Path file, int n, long limit) throws IOException {
        if (n <= 0 || !Files.exists(file)) return List.of();
        if (file.getFileName().toString().endsWith(".gz")) {
            ArrayDeque<String> q = new ArrayDeque<>(n);
            readAll(file, l -> {
                if (q.size() == n) q.pollFirst();
                q.addLast(l);
            });
            return new ArrayList<>(q);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long end = Math.min(ch.size(), limit);
            long pos = end;
            byte[] acc = new byte[0];
            int chunk = 64 << 10;
            while (pos > 0) {
                int len = (int) Math.min(chunk, pos);
                pos -= len;
                ByteBuffer b = ByteBuffer.allocate(len);
                while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
                    // until the chunk is read
                }
                byte[] joined = new byte[len + acc.length];
                System.arraycopy(b.array(), 0, joined, 0, len);
                System.arraycopy(acc, 0, joined, len, acc.length);
                acc = joined;
                if (newlines(acc) > n) break;
            }
            List<String> lines = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < acc.length; i++) {
                if (acc[i] == '\n') {
                    lines.add(new String(acc, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            if (pos > 0 && !lines.isEmpty()) lines.remove(0); // began mid-line
            return lines.size() <= n ? lines : new ArrayList<>(lines.subList(lines.size() - n, lines.size()));
        }
    }

    private static int newlines(byte[] b) {
        int c = 0;
        for (byte x : b) if (x == '\n') c++;
        return c;
    }

    /**
     * A current file followed as it grows: whole lines only, and across rotations (the path
     * names another file, or the file shrank). It goes from file to file in the order they were
     * written: the old file is read to its end, then the one written after it, found as the
     * archive just newer than it (NAME.log.N-1 when it is NAME.log.N now) or the current file
     * when it is NAME.log.1. While the daemon is rotating again meanwhile (renaming every archive
     * one up, compressing NAME.log.1), that look is repeated until two agree, so a file renamed
     * or compressed under the follower's eyes is neither skipped nor read twice.
     */
    static final class Follower implements AutoCloseable {
        private static final int LOOKS = 200;
        private static final long LOOK_AGAIN_NANOS = 5_000_000;

        /** What identifies a log file once it may have been compressed: its size and first line. */
        private record Ident(Object key, long size, String first) {
        }

        private final Path path;
        private FileChannel ch;
        private Object key;
        private long pos;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        private byte[] partial = new byte[0];
        /** Set while the file last read was an archive read whole (it was already compressed). */
        private Ident archived;
        /** Which archive the file being read was when it was opened (0: the current file). */
        private int seenAt;

        /** Starts at the current end of {@code path} (or at its start once it appears). */
        Follower(Path path) throws IOException {
            this(path, true);
        }

        /** {@code atEnd} false: from the start of the file as it is now. */
        Follower(Path path, boolean atEnd) throws IOException {
            this.path = path;
            open(atEnd);
        }

        private void open(boolean atEnd) throws IOException {
            if (!Files.exists(path)) return;
            try {
                ch = FileChannel.open(path, StandardOpenOption.READ);
                key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
                pos = atEnd ? ch.size() : 0;
            } catch (java.nio.file.NoSuchFileException gone) {
                ch = null;
            }
        }

        /** Where following starts in the current file: what lies before is history. */
        long position() {
            return ch == null ? 0 : pos;
        }

        /** Whole lines written since the last poll, in order. */
        void poll(Consumer<String> sink) throws IOException {
            if (ch == null && archived == null) {
                open(false);
                if (ch == null) return;
            }
            while (true) {
                if (ch != null) {
                    drain(sink);
                    Object now = key(path);
                    if (key.equals(now)) {
                        if (ch.size() < pos) { // truncated where it is (copytruncate): from its start again
                            pos = 0;
                            partial = new byte[0];
                            drain(sink);
                        }
                        return;
                    }
                    drain(sink); // what it got before it was renamed
                }
                if (!next(sink)) return;
            }
        }

        /**
         * Moves on to the file written after the one read last and reads what it has; false
         * when there is none yet (renamed away, and the new current file not created yet).
         */
        private boolean next(Consumer<String> sink) throws IOException {
            Ident last = ch != null ? new Ident(key, ch.size(), firstLine(ch)) : archived;
            for (int look = 1; ; look++) {
                // not found, or found but what follows it cannot be opened, look after look: it
                // was deleted (by hand, or past keep) or renamed otherwise: the current file, whole
                boolean giveUp = look >= LOOKS;
                int n = giveUp ? 0 : indexOf(last);
                if (n < 0) {
                    pause();
                    continue;
                }
                Path plain = n <= 1 ? path : path.resolveSibling(path.getFileName() + "." + (n - 1));
                FileChannel c = null;
                Object k = null;
                byte[] whole = null;
                try {
                    c = FileChannel.open(plain, StandardOpenOption.READ);
                    k = Files.readAttributes(plain, BasicFileAttributes.class).fileKey();
                } catch (java.nio.file.NoSuchFileException notPlain) {
                    if (c != null) c.close();
                    c = null;
                    if (n > 1) whole = gunzip(plain.resolveSibling(plain.getFileName() + ".gz"));
                }
                if (c == null && whole == null) {
                    if (n <= 1) return false; // the current file is not there yet: look next time
                    pause();
                    continue; // renamed meanwhile
                }
                if (!giveUp && indexOf(last) != n) { // renamed again meanwhile: what was opened may be another file
                    if (c != null) c.close();
                    pause();
                    continue;
                }
                if (ch != null) ch.close();
                ch = c;
                key = k;
                seenAt = Math.max(0, n - 1);
                pos = 0;
                partial = new byte[0];
                archived = null;
                if (whole != null) {
                    int start = 0;
                    for (int i = 0; i < whole.length; i++) {
                        if (whole[i] == '\n') {
                            sink.accept(new String(whole, start, i - start, StandardCharsets.UTF_8));
                            start = i + 1;
                        }
                    }
                    int end = 0;
                    while (end < whole.length && whole[end] != '\n') end++;
                    archived = new Ident(null, whole.length, new String(whole, 0, end, StandardCharsets.UTF_8));
                }
                return true;
            }
        }

        private static void pause() {
            java.util.concurrent.locks.LockSupport.parkNanos(LOOK_AGAIN_NANOS);
        }

        /**
         * Which archive {@code f} is now (N of NAME.log.N or NAME.log.N.gz), or -1. Files only
         * move up (NAME.log.1 becomes .2, ...), so the look starts where it was last seen and
         * goes up, past one gap (an archive mid-rename), then, should it be elsewhere, below.
         */
        private int indexOf(Ident f) {
            String name = path.getFileName().toString();
            int from = Math.max(1, seenAt);
            for (int i = from, gap = 0; gap < 3; i++) {
                int match = at(f, name, i);
                if (match > 0) return i;
                gap = match < 0 ? gap + 1 : 0;
            }
            for (int i = 1; i < from; i++) if (at(f, name, i) > 0) return i;
            return -1;
        }

        /** 1: {@code f} is archive {@code i}; 0: another file is; -1: none is. */
        private int at(Ident f, String name, int i) {
            Path plain = path(name, i, false), gz = path(name, i, true);
            Object k = key(plain);
            if (k != null && (f.key() != null ? f.key().equals(k) : samePlain(plain, f))) return 1;
            boolean gzThere = Files.exists(gz);
            if (gzThere && sameAsGzip(gz, f.size(), f.first())) return 1;
            return k != null || gzThere ? 0 : -1;
        }

        private Path path(String name, int i, boolean gz) {
            return path.resolveSibling(name + "." + i + (gz ? ".gz" : ""));
        }

        private static boolean samePlain(Path p, Ident f) {
            try (FileChannel c = FileChannel.open(p, StandardOpenOption.READ)) {
                return c.size() == f.size() && firstLine(c).equals(f.first());
            } catch (IOException e) {
                return false;
            }
        }

        private static byte[] gunzip(Path gz) throws IOException {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(gz), 1 << 16)) {
                return in.readAllBytes();
            } catch (java.nio.file.NoSuchFileException gone) {
                return null;
            }
        }

        private static Object key(Path p) {
            try {
                return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
            } catch (IOException gone) {
                return null;
            }
        }

        private static String firstLine(FileChannel ch) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(4096);
            int n = ch.read(b, 0);
            if (n <= 0) return "";
            int end = 0;
            while (end < n && b.get(end) != '\n') end++;
            return new String(b.array(), 0, end, StandardCharsets.UTF_8);
        }

        private static boolean sameAsGzip(Path gz, long size, String first) {
            try (FileChannel c = FileChannel.open(gz, StandardOpenOption.READ)) {
                if (c.size() < 4) return false;
                ByteBuffer t = ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                c.read(t, c.size() - 4);
                if ((t.getInt(0) & 0xffffffffL) != (size & 0xffffffffL)) return false; // ISIZE: the size mod 2^32
            } catch (IOException e) {
                return false;
            }
            try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(gz)), StandardCharsets.UTF_8))) {
                String l = r.readLine();
                return l == null ? first.isEmpty() : l.equals(first) || first.length() >= 2048 && l.startsWith(first.substring(0, 2048));
            } catch (IOException e) {
                return false;
            }
        }

        private void drain(Consumer<String> sink) throws IOException {
            while (true) {
                buf.clear();
                int n = ch.read(buf, pos);
                if (n <= 0) return;
                pos += n;
                byte[] b = new byte[partial.length + n];
                System.arraycopy(partial, 0, b, 0, partial.length);
                System.arraycopy(buf.array(), 0, b, partial.length, n);
                int start = 0;
                for (int i = 0; i < b.length; i++) {
                    if (b[i] == '\n') {
                        sink.accept(new String(b, start, i - start, StandardCharsets.UTF_8));
                        start = i + 1;
                    }
                }
                partial = java.util.Arrays.copyOfRange(b, start, b.length);
            }
        }

        @Override
        public void close() throws IOException {
            if (ch != null) ch.close();
        }
    }
}
