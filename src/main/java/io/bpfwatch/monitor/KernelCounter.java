package io.bpfwatch.monitor;

import com.sun.jna.Memory;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.LibBpf;

/**
 * A count the kernel side keeps in a one-element per-CPU u64 array (records the ring could not
 * take, responses lost), read at scrape time. A restart loads a new object; what the old one
 * counted is kept as a base, so the exported counter never goes back.
 */
public final class KernelCounter {
    private long base;
    private int fd = -1;
    private Memory key;
    private Memory value;
    private int stride;
    private int cpus;

    public synchronized void attach(BpfMap map) {
        fd = map.fd();
        cpus = BpfMap.possibleCpus();
        stride = (map.valueSize() + 7) & ~7;
        key = new Memory(4);
        key.setInt(0, 0);
        value = new Memory((long) stride * cpus);
    }

    /** Losses reported otherwise than through a map (bpftrace's lost-events messages). */
    public synchronized void add(long n) {
        base += n;
    }

    /** Before the map's object closes: fold its count into the base. */
    public synchronized void detach() {
        base += current();
        fd = -1;
    }

    public synchronized double read() {
        return base + current();
    }

    private long current() {
        if (fd < 0) return 0;
        if (LibBpf.bpf_map_lookup_elem(fd, key, value) != 0) return 0;
        long sum = 0;
        for (int c = 0; c < cpus; c++) sum += value.getLong((long) c * stride);
        return sum;
    }
}
