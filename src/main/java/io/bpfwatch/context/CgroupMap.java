package io.bpfwatch.context;

import com.sun.jna.Memory;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfMap;

import java.nio.charset.StandardCharsets;

/**
 * The object's {@code bw_cgroups} map: the path of every cgroup v2 made while it was loaded,
 * written by the kernel at mkdir (monitors/include/bpfwatch.bpf.h), so a cgroup removed before
 * its events are read (a short job's unit) still has its path. One per monitor, used on its
 * reader thread.
 */
public final class CgroupMap {
    /** struct bw_cgroup (monitors/include/bpfwatch.h). */
    public static final int PATH = 0, PATH_LEN = 256, DEPTH = PATH + PATH_LEN, VALUE_SIZE = DEPTH + 4;

    private BpfMap map;
    private Memory key;
    private Memory value;

    void bind(BpfMap m) {
        this.map = m;
        if (m != null && key == null) {
            key = new Memory(8);
            value = new Memory(VALUE_SIZE);
        }
    }

    /** The path of the cgroup as the daemon's cgroup2 mount shows it, or null. */
    String path(long id) {
        if (map == null) return null;
        key.setLong(0, id);
        try {
            if (!map.lookup(key, value)) return null;
        } catch (BpfException e) {
            return null;
        }
        return below(value.getByteArray(PATH, PATH_LEN), value.getInt(DEPTH));
    }

    /**
     * The last {@code depth} components of the NUL-terminated path in {@code b} (the kernel's,
     * from the hierarchy's root), as a path from "/": what lies below the mount's root cgroup.
     */
    static String below(byte[] b, int depth) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        if (n == 0 || n == b.length || b[0] != '/' || depth <= 0) return null;
        int from = n;
        for (int seen = 0; seen < depth; seen++) {
            from--;
            while (from > 0 && b[from] != '/') from--;
            if (from < 0 || b[from] != '/') return null;
            if (from == 0 && seen < depth - 1) return null; // fewer components than the kernel counted
        }
        return new String(b, from, n - from, StandardCharsets.UTF_8);
    }
}
