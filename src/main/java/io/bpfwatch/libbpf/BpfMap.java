package io.bpfwatch.libbpf;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import java.util.function.BiConsumer;

/** A map of a {@link BpfObject}: sizing before load, lookups and iteration after. */
public final class BpfMap {
    public static final int TYPE_HASH = 1, TYPE_ARRAY = 2, TYPE_PERCPU_HASH = 5, TYPE_PERCPU_ARRAY = 6,
            TYPE_LRU_HASH = 9, TYPE_RINGBUF = 27;

    private final BpfObject owner;
    private final Pointer map;
    private final String name;

    BpfMap(BpfObject owner, Pointer map, String name) {
        this.owner = owner;
        this.map = map;
        this.name = name;
    }

    public String name() {
        return name;
    }

    public int fd() {
        int fd = LibBpf.bpf_map__fd(map);
        if (fd < 0) throw new IllegalStateException(owner.label() + ": map " + name + " has no fd (not loaded)");
        return fd;
    }

    public int type() {
        return LibBpf.bpf_map__type(map);
    }

    public int maxEntries() {
        return LibBpf.bpf_map__max_entries(map);
    }

    public int keySize() {
        return LibBpf.bpf_map__key_size(map);
    }

    public int valueSize() {
        return LibBpf.bpf_map__value_size(map);
    }

    /** The BTF type id of the key (0 if the map declares none), in its object's BTF. */
    public int btfKeyType() {
        return LibBpf.bpf_map__btf_key_type_id(map);
    }

    /** The BTF type id of the value (0 if the map declares none). */
    public int btfValueType() {
        return LibBpf.bpf_map__btf_value_type_id(map);
    }

    public boolean isPerCpu() {
        int t = type();
        return t == TYPE_PERCPU_ARRAY || t == TYPE_PERCPU_HASH || t == 10;
    }

    /** Before load. For a ring buffer: bytes, a power of two and a multiple of the page size. */
    public void setMaxEntries(int entries) throws BpfException {
        int err = LibBpf.bpf_map__set_max_entries(map, entries);
        if (err < 0) throw new BpfException("sizing map " + name + " of " + owner.label() + " to " + entries, err);
    }

    /** Bytes a lookup fills: value size, or per CPU the 8-aligned value size times possible CPUs. */
    public int lookupSize() {
        int v = valueSize();
        return isPerCpu() ? ((v + 7) & ~7) * possibleCpus() : v;
    }

    /** Copies the value of key into value; false if the key is absent. */
    public boolean lookup(Pointer key, Pointer value) throws BpfException {
        int err = LibBpf.bpf_map_lookup_elem(fd(), key, value);
        if (err == 0) return true;
        if (err == -Errno.ENOENT) return false;
        throw new BpfException("looking up map " + name + " of " + owner.label(), err);
    }

    public void update(Pointer key, Pointer value, long flags) throws BpfException {
        int err = LibBpf.bpf_map_update_elem(fd(), key, value, flags);
        if (err < 0) throw new BpfException("updating map " + name + " of " + owner.label(), err);
    }

    public boolean delete(Pointer key) throws BpfException {
        int err = LibBpf.bpf_map_delete_elem(fd(), key);
        if (err == 0) return true;
        if (err == -Errno.ENOENT) return false;
        throw new BpfException("deleting from map " + name + " of " + owner.label(), err);
    }

    /** Sum over CPUs of a u64 at index {@code key} of a per-CPU array (kernel-side counters). */
    public long sumPerCpuU64(int key) throws BpfException {
        Memory k = new Memory(4);
        k.setInt(0, key);
        Memory v = new Memory(lookupSize());
        if (!lookup(k, v)) return 0;
        int stride = (valueSize() + 7) & ~7;
        long sum = 0;
        for (int cpu = 0, n = possibleCpus(); cpu < n; cpu++) sum += v.getLong((long) cpu * stride);
        return sum;
    }

    /** Visits every key and its value (copies; the map may change while iterating). */
    public void forEach(BiConsumer<Memory, Memory> visitor) throws BpfException {
        Memory key = new Memory(keySize());
        Memory next = new Memory(keySize());
        Memory value = new Memory(lookupSize());
        Pointer prev = null;
        while (true) {
            int err = LibBpf.bpf_map_get_next_key(fd(), prev, next);
            if (err == -Errno.ENOENT) return;
            if (err < 0) throw new BpfException("iterating map " + name + " of " + owner.label(), err);
            if (lookup(next, value)) visitor.accept(next, value);
            key.write(0, next.getByteArray(0, keySize()), 0, keySize());
            prev = key;
        }
    }

    private static volatile int cpus;

    public static int possibleCpus() {
        int n = cpus;
        if (n == 0) {
            n = LibBpf.libbpf_num_possible_cpus();
            if (n <= 0) throw new IllegalStateException("libbpf cannot count possible CPUs: " + Errno.name(n));
            cpus = n;
        }
        return n;
    }
}
