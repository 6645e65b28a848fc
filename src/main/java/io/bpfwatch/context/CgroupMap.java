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
    public static final int PATH = 0, PATH_LEN = 256, VALUE_SIZE = PATH + PATH_LEN;

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

    /** The path the kernel saw the cgroup made with, or null. */
    String path(long id) {
        if (map == null) return null;
        key.setLong(0, id);
        try {
            if (!map.lookup(key, value)) return null;
        } catch (BpfException e) {
            return null;
        }
        byte[] b = value.getByteArray(PATH, PATH_LEN);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        if (n == 0 || n == b.length || b[0] != '/') return null;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
