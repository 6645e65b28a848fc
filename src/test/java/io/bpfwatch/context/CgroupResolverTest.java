package io.bpfwatch.context;

import io.bpfwatch.testkit.Skip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class CgroupResolverTest {
    private static final long MS = 1_000_000L;
    /** The resolver's clock: tests move it by hand. */
    private final AtomicLong now = new AtomicLong(1_000 * MS);

    private CgroupResolver resolver(Path root, int capacity, Duration interval) {
        return new CgroupResolver(root, capacity, interval, now::get);
    }

    private static long ino(Path dir) throws IOException {
        return (Long) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    private static Path mkdirs(Path root, String relative) throws IOException {
        return Files.createDirectories(root.resolve(relative.substring(1)));
    }

    /** A little systemd host: each directory's path by its inode. */
    private static Map<Long, String> host(Path root) throws IOException {
        Map<Long, String> tree = new LinkedHashMap<>();
        tree.put(ino(root), "/");
        for (String p : List.of("/system.slice", "/system.slice/nginx.service", "/system.slice/nginx.service/worker",
                "/user.slice", "/user.slice/user-1000.slice", "/user.slice/user-1000.slice/session-3.scope")) {
            tree.put(ino(mkdirs(root, p)), p);
        }
        Files.writeString(root.resolve("cgroup.procs"), "1\n");
        Files.writeString(root.resolve("system.slice/nginx.service/memory.max"), "max\n");
        return tree;
    }

    @Test
    void nestedCgroupsResolveByTheirInodeAndTheRootIsSlash(@TempDir Path root) throws IOException {
        Map<Long, String> tree = host(root);
        CgroupResolver r = resolver(root, 100, Duration.ofMillis(50));
        tree.forEach((id, path) -> assertThat(r.path(id, now.get() - MS)).isEqualTo(path));
        assertThat(r.path(ino(root), now.get())).isEqualTo("/");
        assertThat(r.scans()).as("one walk learned the whole tree").isEqualTo(1);
        assertThat(r.unresolved()).isZero();
    }

    @Test
    void anIdAWalkAfterTheEventDidNotFindIsRememberedAsGone(@TempDir Path root) throws IOException {
        host(root);
        CgroupResolver r = resolver(root, 100, Duration.ZERO);
        long event = now.get() - MS;
        assertThat(r.path(987_654_321L, event)).isNull();
        assertThat(r.scans()).isEqualTo(1);
        now.addAndGet(10 * MS);
        assertThat(r.path(987_654_321L, event)).isNull();
        assertThat(r.path(987_654_321L, now.get())).as("even asked for by a later event").isNull();
        assertThat(r.scans()).as("no walk to learn it again").isEqualTo(1);
        assertThat(r.unresolved()).isEqualTo(3);
    }

    @Test
    void anUnknownIdFromAnEventBeforeTheLastWalkNeedsNoNewWalk(@TempDir Path root) throws IOException {
        Map<Long, String> tree = host(root);
        CgroupResolver r = resolver(root, 100, Duration.ZERO);
        long event = now.get() - MS;
        assertThat(r.path(tree.keySet().iterator().next(), event)).isEqualTo("/");
        now.addAndGet(10 * MS);
        assertThat(r.path(987_654_321L, event)).isNull();
        assertThat(r.scans()).isEqualTo(1);
    }

    @Test
    void aCgroupMadeAfterAWalkIsFoundByTheNextMissOfALaterEvent(@TempDir Path root) throws IOException {
        host(root);
        CgroupResolver r = resolver(root, 100, Duration.ofMillis(50));
        assertThat(r.path(ino(root), now.get())).isEqualTo("/");
        Path late = mkdirs(root, "/system.slice/docker-0123456789ab.scope");
        now.addAndGet(60 * MS);
        assertThat(r.path(ino(late), now.get() - MS)).isEqualTo("/system.slice/docker-0123456789ab.scope");
        assertThat(r.scans()).isEqualTo(2);
    }

    @Test
    void walksAreRateLimitedAndALimitedMissIsNotRememberedAsGone(@TempDir Path root) throws IOException {
        host(root);
        CgroupResolver r = resolver(root, 100, Duration.ofMillis(50));
        long first = now.get();
        assertThat(r.path(ino(root), first)).isEqualTo("/");
        Path late = mkdirs(root, "/late.scope");
        now.addAndGet(10 * MS);
        assertThat(r.path(ino(late), first + MS)).as("within the interval").isNull();
        assertThat(r.scans()).isEqualTo(1);
        now.addAndGet(45 * MS);
        assertThat(r.path(ino(late), first + MS)).isEqualTo("/late.scope");
        assertThat(r.scans()).isEqualTo(2);
        assertThat(r.unresolved()).isEqualTo(1);
    }

    @Test
    void theCacheKeepsAtMostItsCapacityAndAlwaysTheAnswerAskedFor(@TempDir Path root) throws IOException {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) ids.add(ino(mkdirs(root, "/c" + i)));
        CgroupResolver r = resolver(root, 4, Duration.ZERO);
        for (int i = 0; i < 10; i++) {
            long event = now.get();
            now.addAndGet(MS);
            assertThat(r.path(ids.get(i), event)).isEqualTo("/c" + i);
            assertThat(r.cached()).isLessThanOrEqualTo(4);
            long scans = r.scans();
            assertThat(r.path(ids.get(i), event)).as("asked for, so kept").isEqualTo("/c" + i);
            assertThat(r.scans()).isEqualTo(scans);
        }
    }

    @Test
    void anIdTheCacheHadNoRoomForIsNotTakenForGone(@TempDir Path root) throws IOException {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) ids.add(ino(mkdirs(root, "/c" + i)));
        CgroupResolver r = resolver(root, 4, Duration.ZERO);
        long event = now.get() - MS;
        // every event happened before the first walk, which found all ten but could keep four
        for (int i = 0; i < 10; i++) {
            now.addAndGet(MS);
            assertThat(r.path(ids.get(i), event)).isEqualTo("/c" + i);
        }
        assertThat(r.unresolved()).isZero();
    }

    @Test
    void aDeletedCgroupKeepsItsAnswerAndBreaksNothing(@TempDir Path root) throws IOException {
        Map<Long, String> tree = host(root);
        Path gone = mkdirs(root, "/system.slice/run-r1.scope");
        long goneId = ino(gone);
        CgroupResolver r = resolver(root, 100, Duration.ZERO);
        assertThat(r.path(goneId, now.get())).isEqualTo("/system.slice/run-r1.scope");
        Files.delete(gone);
        now.addAndGet(MS);
        // an event from just before it went still names it; other lookups walk on without it
        assertThat(r.path(goneId, now.get())).isEqualTo("/system.slice/run-r1.scope");
        assertThat(r.path(123_456_789L, now.get())).isNull();
        tree.forEach((id, path) -> assertThat(r.path(id, now.get())).isEqualTo(path));
    }

    @Test
    void cgroupsComingAndGoingDuringWalksBreakNothing(@TempDir Path root) throws Exception {
        Map<Long, String> tree = host(root);
        CgroupResolver r = new CgroupResolver(root, 1000, Duration.ZERO);
        AtomicBoolean stop = new AtomicBoolean();
        Thread churn = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                try {
                    Path d = Files.createDirectories(root.resolve("system.slice/run-u" + i + ".scope/sub"));
                    Files.delete(d);
                    Files.delete(d.getParent());
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }
        });
        churn.start();
        try {
            long deadline = System.nanoTime() + 300 * MS;
            for (long unknown = 1L << 40; System.nanoTime() < deadline; unknown++) {
                assertThat(r.path(unknown, System.nanoTime())).isNull();
            }
        } finally {
            stop.set(true);
            churn.join();
        }
        assertThat(r.scans()).isGreaterThan(1);
        tree.forEach((id, path) -> assertThat(r.path(id, System.nanoTime())).isEqualTo(path));
    }

    @Test
    void oddNamesComeBackExactly(@TempDir Path root) throws IOException {
        CgroupResolver r = resolver(root, 100, Duration.ZERO);
        for (String name : List.of("a\nb", "with space", "tab\there", "back\\slash", "ünïcødé", "\\x2d", "x".repeat(255))) {
            if (!Charset.forName(System.getProperty("sun.jnu.encoding")).newEncoder().canEncode(name)) continue; // a C locale
            Path dir = mkdirs(root, "/system.slice/" + name);
            now.addAndGet(MS);
            assertThat(r.path(ino(dir), now.get() - 1)).isEqualTo("/system.slice/" + name);
        }
    }

    @Test
    void symbolicLinksAreNotFollowed(@TempDir Path root, @TempDir Path elsewhere) throws IOException {
        Path outside = Files.createDirectories(elsewhere.resolve("outside"));
        Files.createSymbolicLink(root.resolve("link"), elsewhere);
        Files.createSymbolicLink(root.resolve("loop"), root);
        CgroupResolver r = resolver(root, 100, Duration.ZERO);
        assertThat(r.path(ino(outside), now.get() - 1)).isNull();
        assertThat(r.path(ino(root), now.get() - 1)).isEqualTo("/");
    }

    @Test
    void aTreeDeeperThanTheBoundIsCutOff(@TempDir Path root) throws IOException {
        CgroupResolver r = resolver(root, 1000, Duration.ZERO);
        Path dir = root;
        List<Long> ids = new ArrayList<>();
        for (int depth = 1; depth <= CgroupResolver.MAX_DEPTH + 2; depth++) {
            dir = Files.createDirectory(dir.resolve("d"));
            ids.add(ino(dir));
        }
        assertThat(r.path(ids.get(CgroupResolver.MAX_DEPTH - 1), now.get() - 1)).isEqualTo("/d".repeat(CgroupResolver.MAX_DEPTH));
        assertThat(r.path(ids.get(CgroupResolver.MAX_DEPTH), now.get() - 1)).isNull();
    }

    @Test
    void aCachedAnswerAllocatesNothing(@TempDir Path root) throws IOException {
        Map<Long, String> tree = host(root);
        CgroupResolver r = new CgroupResolver(root);
        long[] ids = tree.keySet().stream().mapToLong(Long::longValue).toArray();
        long event = System.nanoTime();
        for (int i = 0; i < 200_000; i++) r.path(ids[i % ids.length], event);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        int found = 0;
        for (int i = 0; i < 100_000; i++) if (r.path(ids[i % ids.length], event) != null) found++;
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(found).isEqualTo(100_000);
        assertThat(allocated).as("bytes for 100000 hits").isLessThan(10_000);
    }

    @Test
    void theLeastRecentlyUsedEntryGoesFirst() {
        LongLru lru = new LongLru(3);
        assertThat(lru.put(1000, "/a", 1)).isEqualTo(LongLru.NOTHING_EVICTED);
        lru.put(2000, "/b", 2);
        lru.put(3000, "/c", 3);
        assertThat(lru.get(1000)).isEqualTo("/a");
        assertThat(lru.put(4000, "/d", 4)).as("/b, the eldest, was evicted").isEqualTo(2);
        assertThat(lru.get(2000)).isNull();
        assertThat(lru.put(1000, "/a2", 5)).isEqualTo(LongLru.NOTHING_EVICTED);
        assertThat(lru.get(1000)).isEqualTo("/a2");
        assertThat(lru.get(3000)).isEqualTo("/c");
        assertThat(lru.get(4000)).isEqualTo("/d");
        assertThat(lru.size()).isEqualTo(3);
        for (long k = 0; k < 100_000; k += 7) lru.put(k << 20, "/" + k, 0);
        assertThat(lru.size()).isEqualTo(3);
        assertThat(lru.get((99_995L / 7 * 7) << 20)).isEqualTo("/" + 99_995L / 7 * 7);
    }

    @Test
    void mountsAreReadWithTheKernelsEscapes() {
        String mounts = """
                sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
                tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0
                cgroup2 /sys/fs/cgroup/my\\040cgroup\\011x\\012y\\134z cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0
                cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0
                cgroup2 /second cgroup2 rw 0 0
                """;
        assertThat(CgroupResolver.cgroup2Mount(mounts)).contains("/sys/fs/cgroup/my cgroup\tx\ny\\z");
        assertThat(CgroupResolver.cgroup2Mount("cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n")).contains("/sys/fs/cgroup/unified");
        assertThat(CgroupResolver.cgroup2Mount("cgroup2 /not-cgroup2 tmpfs rw 0 0\nbroken line\n\n")).isEmpty();
        assertThat(CgroupResolver.cgroup2Mount("none /a\\9x\\04 cgroup2 rw 0 0")).contains("/a\\9x\\04");
    }

    @Test
    void withoutCgroup2EveryAnswerIsNull() {
        CgroupResolver r = CgroupResolver.unavailable();
        assertThat(r.available()).isFalse();
        assertThat(r.path(1, System.nanoTime())).isNull();
        assertThat(r.scans()).isZero();
        assertThat(r.unresolved()).isEqualTo(1);
    }

    private static Optional<Path> hostCgroup2() throws IOException {
        String mounts = new String(Files.readAllBytes(Path.of("/proc/self/mounts")), StandardCharsets.UTF_8);
        return CgroupResolver.cgroup2Mount(mounts).map(Path::of).filter(Files::isReadable);
    }

    @Test
    void theSystemResolverNamesItsOwnRoot() throws IOException {
        Optional<Path> mount = hostCgroup2();
        Skip.unless(mount.isPresent(), "no readable cgroup2 mount");
        CgroupResolver r = CgroupResolver.system();
        assertThat(r.available()).isTrue();
        assertThat(r.path(ino(mount.get()), System.nanoTime())).isEqualTo("/");
    }

    @Test
    void everyCgroupOfThisHostResolvesToItsPath() throws IOException {
        Optional<Path> mount = hostCgroup2();
        Skip.unless(mount.isPresent(), "no readable cgroup2 mount");
        Path root = mount.get();
        Map<Long, String> truth = new LinkedHashMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String rel = root.relativize(dir).toString();
                truth.put(ino(dir), "/" + rel);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        CgroupResolver r = new CgroupResolver(root, CgroupResolver.DEFAULT_CAPACITY, Duration.ZERO);
        truth.forEach((id, path) -> {
            String found = r.path(id, System.nanoTime());
            Path dir = root.resolve(path.substring(1));
            boolean stillThere;
            try {
                stillThere = Files.isDirectory(dir) && ino(dir) == id;
            } catch (IOException e) {
                stillThere = false;
            }
            if (stillThere) assertThat(found).isEqualTo(path);
        });
    }
}
