package io.bpfwatch.libbpf;

import com.sun.jna.Memory;

/**
 * Asks the kernel whether a kind of program works by loading and attaching a no-op one for a
 * moment: the only honest answer where a kernel accepts the program type but cannot attach
 * it (no ftrace direct calls, lockdown, a seccomp or LSM policy).
 */
public final class FeatureProbe {
    private static final int BPF_PROG_TYPE_TRACING = 26;
    private static final int BPF_TRACE_FENTRY = 24;

    private FeatureProbe() {}

    /** Loads a no-op fentry program on a kernel function and attaches it; throws why not. */
    public static void fentry(String function) throws BpfException {
        int btfId;
        try (Btf vmlinux = Btf.vmlinux()) {
            btfId = vmlinux.find(function, Btf.KIND_FUNC);
        }
        if (btfId < 0) throw new BpfException("finding " + function + " in the kernel's BTF", Errno.ENOENT);
        // r0 = 0; exit
        Memory insns = new Memory(16);
        insns.clear();
        insns.setByte(0, (byte) 0xb7);
        insns.setByte(8, (byte) 0x95);
        // struct bpf_prog_load_opts (libbpf 1.x): sz @0, expected_attach_type @12, attach_btf_id @32; 104 bytes
        Memory opts = new Memory(104);
        opts.clear();
        opts.setLong(0, 104);
        opts.setInt(12, BPF_TRACE_FENTRY);
        opts.setInt(32, btfId);
        int prog = LibBpf.bpf_prog_load(BPF_PROG_TYPE_TRACING, "bw_probe_fentry", "GPL", insns, 2, opts);
        if (prog < 0) throw new BpfException("loading an fentry program on " + function, prog);
        try {
            int link = LibBpf.bpf_raw_tracepoint_open(null, prog);
            if (link < 0) throw new BpfException("attaching an fentry program to " + function, link);
            LibC.close(link);
        } finally {
            LibC.close(prog);
        }
    }
}
