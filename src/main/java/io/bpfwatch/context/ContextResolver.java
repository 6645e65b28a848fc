package io.bpfwatch.context;

import io.bpfwatch.libbpf.BpfMap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Turns the context part of a record's header ({@code struct bw_header}: parent, cgroup id,
 * process start) into a {@link ProcessContext}, as one monitor's {@link ContextSpec} asks. One
 * per monitor instance, used on its reader thread.
 *
 * Resolving costs a cgroup lookup and an exe lookup (a map read or /proc), so results are kept in
 * a direct-mapped cache keyed by everything they derive from: pid, process start, comm (an exec
 * changes it), parent and cgroup. Events of the same process hit it and allocate nothing. A
 * result that lacks something that may yet be found (a cgroup made a moment ago, between two
 * scans) is retried after a second.
 */
public final class ContextResolver {
    /** Offsets in struct bw_header (checked against the objects' BTF by StructLayoutTest). */
    public static final int TS_NS = 0, PID = 8, COMM = 24, CGROUP_ID = 40, START_NS = 48, PPID = 56, NETNS = 60, PCOMM = 64;
    public static final int COMM_LEN = 16;
    private static final int SLOTS = 1024;
    private static final long RETRY_NANOS = 1_000_000_000L;

    private final ContextSpec spec;
    private final boolean parent, exe, cgroup, cgroupDerived;
    private final CgroupResolver cgroups;
    private final ExeResolver exes;
    private final CgroupMap made = new CgroupMap();
    private final Entry[] cache = new Entry[SLOTS];
    private final byte[] scratch = new byte[COMM_LEN];

    private static final class Entry {
        int pid, ppid;
        long start, cgroupId, comm0, comm1, pcomm0, pcomm1;
        long retryAfter; // 0: complete
        ProcessContext context;
    }

    public ContextResolver(ContextSpec spec, CgroupResolver cgroups, ExeResolver exes) {
        this.spec = spec;
        this.parent = spec.has(ContextField.PARENT);
        this.exe = spec.has(ContextField.EXE);
        this.cgroup = spec.has(ContextField.CGROUP);
        this.cgroupDerived = spec.has(ContextField.UNIT) || spec.has(ContextField.CONTAINER);
        this.cgroups = cgroups;
        this.exes = exes;
    }

    public ContextSpec spec() {
        return spec;
    }

    /** What the kernel must fill in for this spec (bw_context), besides what the monitor itself asks for. */
    public int kernelBits() {
        return ContextField.kernelBits(spec.fields());
    }

    /** The loaded object's exe map ({@code bw_exe}), or null when it closes. */
    public void bindExeMap(BpfMap map) {
        exes.bind(map);
    }

    /** Whether the spec needs events' cgroups (cgroup, unit or container). */
    public boolean wantsCgroups() {
        return cgroup || cgroupDerived;
    }

    /** The loaded object's cgroup map ({@code bw_cgroups}), or null when it closes. */
    public void bindCgroupMap(BpfMap map) {
        made.bind(map);
    }

    /** The context of the record at {@code off}, or null if the spec asks for none or the record has no process. */
    public ProcessContext resolve(ByteBuffer b, int off) {
        if (spec.isEmpty()) return null;
        int pid = b.getInt(off + PID);
        if (pid <= 0) return null; // the kernel's own work: no process to describe
        long start = exe ? b.getLong(off + START_NS) : 0;
        long cgroupId = cgroup || cgroupDerived ? b.getLong(off + CGROUP_ID) : 0;
        int ppid = parent ? b.getInt(off + PPID) : 0;
        long pcomm0 = parent ? b.getLong(off + PCOMM) : 0, pcomm1 = parent ? b.getLong(off + PCOMM + 8) : 0;
        long comm0 = b.getLong(off + COMM), comm1 = b.getLong(off + COMM + 8);
        long h = pid * 0x9E3779B97F4A7C15L ^ start ^ cgroupId * 31 ^ ppid ^ comm0 ^ pcomm0;
        int slot = (int) (h ^ (h >>> 29) ^ (h >>> 47)) & (SLOTS - 1);
        Entry e = cache[slot];
        if (e != null && e.pid == pid && e.start == start && e.cgroupId == cgroupId && e.ppid == ppid && e.comm0 == comm0
                && e.comm1 == comm1 && e.pcomm0 == pcomm0 && e.pcomm1 == pcomm1
                && (e.retryAfter == 0 || System.nanoTime() < e.retryAfter)) {
            return e.context;
        }
        if (e == null) cache[slot] = e = new Entry();
        e.pid = pid;
        e.start = start;
        e.cgroupId = cgroupId;
        e.ppid = ppid;
        e.comm0 = comm0;
        e.comm1 = comm1;
        e.pcomm0 = pcomm0;
        e.pcomm1 = pcomm1;
        boolean incomplete = false;
        String pcomm = parent && ppid > 0 ? comm(b, off + PCOMM) : null;
        String exePath = null;
        if (exe) {
            exePath = exes.exe(pid, start);
            incomplete = exePath == null;
        }
        String path = null, unit = null, container = null, pod = null;
        if (cgroupId != 0) {
            path = cgroups.path(cgroupId, b.getLong(off + TS_NS), made::path);
            if (path == null) {
                incomplete = true;
            } else if (cgroupDerived) {
                if (spec.has(ContextField.UNIT)) unit = CgroupPath.unit(path);
                if (spec.has(ContextField.CONTAINER)) {
                    container = CgroupPath.container(path);
                    pod = CgroupPath.pod(path);
                }
            }
        }
        e.context = new ProcessContext(parent ? ppid : 0, pcomm, exePath, cgroup ? path : null, unit, container, pod);
        e.retryAfter = incomplete ? System.nanoTime() + RETRY_NANOS : 0;
        return e.context;
    }

    private String comm(ByteBuffer b, int at) {
        int len = 0;
        while (len < COMM_LEN) {
            byte c = b.get(at + len);
            if (c == 0) break;
            scratch[len++] = c;
        }
        return len == 0 ? null : new String(scratch, 0, len, StandardCharsets.UTF_8);
    }
}
