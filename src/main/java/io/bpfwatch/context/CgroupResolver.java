package io.bpfwatch.context;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * Finds a cgroup's path from its id, the value of bpf_get_current_cgroup_id(). On cgroup v2 that
 * id is the inode number of the cgroup's directory in the cgroup2 filesystem, so one walk of the
 * tree learns every id there is; the answers are cached, least recently used first to go. An id
 * is never reused and a cgroup v2 is never renamed, so no cached answer turns wrong.
 *
 * <p>A miss walks the tree again, at most once per minimum interval, and only if the last walk
 * started before the event: a cgroup held the event's process at the event's time, so a walk
 * started later that did not find it means the cgroup is gone, and the id is remembered as
 * unknown. (The kernel's bpf_ktime_get_ns() and System.nanoTime() both read CLOCK_MONOTONIC.)
 *
 * <p>Paths are relative to the cgroup2 mount: "/" for the root, "/system.slice/x.service" below.
 */
public final class CgroupResolver {
    public static final int DEFAULT_CAPACITY = 8192;
    public static final Duration DEFAULT_MIN_SCAN_INTERVAL = Duration.ofMillis(50);
    private static final Logger LOG = Logger.getLogger(CgroupResolver.class);
    static final int MAX_DEPTH = 64;
    static final int MAX_PATH_CHARS = 4096;
    /** Cached for an id a walk proved gone; no path looks like it (paths start with '/'). */
    private static final String GONE = "gone";
    private static final long NO_MARK = 0;

    private final Path root; // null: there is no cgroup2 here and every answer is null
    private final LongLru cache;
    private final long minScanInterval;
    private final LongSupplier clock;
    /**
     * The kernel's cgroup2 keeps a directory's link count at 2 + its subdirectories, so a leaf
     * (most cgroups) need not be listed, which saves a stat of each of its dozens of files.
     * Dropped for good if a listing disagrees while the directory stands still.
     */
    private boolean exactLinkCounts;
    private long lastScanStart;
    /** Everything the last walk found is still cached, so what it did not find did not exist. */
    private boolean lastScanWhole;
    private volatile long scans;
    private volatile long unresolved;
    private volatile long fromKernel;
    private final long rootId;
    private long wanted;
    private String wantedPath;

    public CgroupResolver(Path root) {
        this(root, DEFAULT_CAPACITY, DEFAULT_MIN_SCAN_INTERVAL);
    }

    /** The cgroup2 filesystem mounted at {@code root}, caching up to {@code capacity} ids. */
    public CgroupResolver(Path root, int capacity, Duration minScanInterval) {
        this(Objects.requireNonNull(root, "root"), capacity, minScanInterval, System::nanoTime);
    }

    CgroupResolver(Path root, int capacity, Duration minScanInterval, LongSupplier clock) {
        this.root = root;
        this.cache = new LongLru(capacity);
        this.minScanInterval = minScanInterval.toNanos();
        this.clock = clock;
        this.exactLinkCounts = root != null && isCgroup2(root);
        this.rootId = root != null ? Math.max(inode(root), 0) : 0;
    }

    /**
     * The host's cgroup2 filesystem, found in /proc/self/mounts (at /sys/fs/cgroup, or at
     * /sys/fs/cgroup/unified beside cgroup v1); without one (a cgroup v1-only host) a resolver
     * that answers null to everything.
     */
    public static CgroupResolver system() {
        Optional<String> mount;
        try {
            // not Files.readString: a mount point's bytes need not be UTF-8
            mount = cgroup2Mount(new String(Files.readAllBytes(Path.of("/proc/self/mounts")), StandardCharsets.UTF_8));
        } catch (IOException e) {
            mount = Optional.empty();
        }
        Path root = null;
        try {
            if (mount.isPresent() && Files.isDirectory(Path.of(mount.get()))) root = Path.of(mount.get());
        } catch (RuntimeException e) {
            // a mount point Java cannot name
        }
        if (root != null) return new CgroupResolver(root);
        LOG.info("no cgroup2 filesystem is mounted: events carry no cgroup path");
        return unavailable();
    }

    /** A resolver for a host without cgroup2: every answer is null. */
    public static CgroupResolver unavailable() {
        return new CgroupResolver(null, 1, Duration.ZERO, System::nanoTime);
    }

    /** The mount point of the first cgroup2 filesystem in the text of /proc/self/mounts. */
    static Optional<String> cgroup2Mount(String mounts) {
        for (String line : mounts.split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length >= 3 && fields[2].equals("cgroup2")) return Optional.of(unescapeMountField(fields[1]));
        }
        return Optional.empty();
    }

    /** The kernel writes space, tab, newline and backslash in a mount point as \040 \011 \012 \134. */
    private static String unescapeMountField(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && octal(field, i + 1)) {
                out.append((char) Integer.parseInt(field, i + 1, i + 4, 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean octal(String s, int from) {
        if (from + 3 > s.length()) return false;
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') return false;
        }
        return s.charAt(from) <= '3';
    }

    private static boolean isCgroup2(Path root) {
        try {
            return Files.getFileStore(root).type().equals("cgroup2");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether there is a cgroup2 filesystem to ask. */
    public boolean available() {
        return root != null;
    }

    /**
     * The path of cgroup {@code id}, seen by an event at {@code eventMonotonicNanos}; null if the
     * cgroup is gone (or deeper than a walk goes), or was made after the last walk and the next
     * may not start yet.
     */
    public synchronized String path(long id, long eventMonotonicNanos) {
        return path(id, eventMonotonicNanos, null);
    }

    /**
     * As {@link #path(long, long)}, asking {@code made} (the kernel's record of cgroups made
     * since a monitor attached, by id) before walking the tree: a cgroup already removed is
     * found there (the kernel recorded it below {@link #rootId}, as this mount shows it).
     */
    public synchronized String path(long id, long eventMonotonicNanos, LongFunction<String> made) {
        String cached = cache.get(id);
        if (cached != null && cached != GONE) return cached;
        if (root == null) return nothing();
        if (made != null) {
            String p = made.apply(id);
            if (p != null) {
                fromKernel++;
                remember(id, p, NO_MARK);
                return p;
            }
        }
        if (cached != null) return nothing();
        if (scans > 0 && lastScanWhole && lastScanStart - eventMonotonicNanos > 0) return gone(id);
        long now = clock.getAsLong();
        if (scans > 0 && now - lastScanStart < minScanInterval) return nothing();
        String found = scan(id, now);
        if (found != null) return found;
        return now - eventMonotonicNanos > 0 ? gone(id) : nothing();
    }

    /**
     * The id of the cgroup this mount shows as "/" (its directory's inode): 1, the hierarchy's
     * root, unless the daemon runs in a cgroup namespace or sees a bind-mounted subtree; 0
     * without a cgroup2 filesystem.
     */
    public long rootId() {
        return rootId;
    }

    /** Paths found in the kernel's record of cgroups made (cgroups gone from the tree, mostly). */
    public long fromKernel() {
        return fromKernel;
    }

    /** Walks of the tree so far. */
    public long scans() {
        return scans;
    }

    /** Lookups answered null. */
    public long unresolved() {
        return unresolved;
    }

    synchronized int cached() {
        return cache.size();
    }

    private String nothing() {
        unresolved++;
        return null;
    }

    private String gone(long id) {
        remember(id, GONE, NO_MARK);
        return nothing();
    }

    private void remember(long id, String path, long mark) {
        if (cache.put(id, path, mark) == scans) lastScanWhole = false;
    }

    private String scan(long id, long start) {
        scans++;
        lastScanStart = start;
        lastScanWhole = true;
        wanted = id;
        wantedPath = null;
        try {
            Map<String, Object> a = Files.readAttributes(root, "unix:ino,nlink");
            visit(root, "/", (Long) a.get("ino"), (Integer) a.get("nlink"), 0);
        } catch (IOException e) {
            LOG.debugf("cannot read the cgroup2 root %s: %s", root, e);
        }
        // asked for last, so a tree larger than the cache still leaves this answer in it
        if (wantedPath != null) remember(id, wantedPath, scans);
        return wantedPath;
    }

    /** Learns DIR and the cgroups below it. What cannot be read, or vanishes meanwhile, is passed over. */
    private void visit(Path dir, String path, long ino, int links, int depth) {
        remember(ino, path, scans);
        if (ino == wanted) wantedPath = path;
        if (depth == MAX_DEPTH || depth > 0 && exactLinkCounts && links == 2) return;
        List<Child> children = children(dir);
        if (children == null) return;
        // a count that disagrees while the directory stands still is not to be trusted again
        if (exactLinkCounts && links != 2 + children.size() && links(dir) == links) exactLinkCounts = false;
        for (Child c : children) {
            String child = (depth == 0 ? "/" : path + "/") + c.dir.getFileName();
            if (child.length() <= MAX_PATH_CHARS) visit(c.dir, child, c.ino, c.links, depth + 1);
        }
    }

    private record Child(Path dir, long ino, int links) {}

    /** The subdirectories, listed before any is visited so one directory is open at a time; null if unreadable. */
    private static List<Child> children(Path dir) {
        List<Child> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                Map<String, Object> a;
                try {
                    a = Files.readAttributes(entry, "unix:isDirectory,ino,nlink", LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    continue;
                }
                // a symbolic link is not a directory here: it is not followed
                if ((Boolean) a.get("isDirectory")) out.add(new Child(entry, (Long) a.get("ino"), (Integer) a.get("nlink")));
            }
        } catch (IOException | DirectoryIteratorException e) {
            return null;
        }
        return out;
    }

    private static long inode(Path dir) {
        try {
            return (Long) Files.getAttribute(dir, "unix:ino");
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static int links(Path dir) {
        try {
            return (Integer) Files.getAttribute(dir, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return -1;
        }
    }
}
