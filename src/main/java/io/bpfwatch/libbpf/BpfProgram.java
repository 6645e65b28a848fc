package io.bpfwatch.libbpf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** One program of a {@link BpfObject}; attach methods return the link that keeps it attached. */
public final class BpfProgram {
    private final BpfObject owner;
    private final Pointer prog;

    BpfProgram(BpfObject owner, Pointer prog) {
        this.owner = owner;
        this.prog = prog;
    }

    public String name() {
        return LibBpf.bpf_program__name(prog);
    }

    public String section() {
        return LibBpf.bpf_program__section_name(prog);
    }

    /** Before load: whether this program is loaded at all (alternatives not chosen are not). */
    public void setAutoload(boolean autoload) {
        int err = LibBpf.bpf_program__set_autoload(prog, autoload);
        if (err < 0) throw new IllegalStateException(owner.label() + ": cannot change autoload of " + name() + ": " + Errno.name(err));
    }

    public boolean autoload() {
        return LibBpf.bpf_program__autoload(prog);
    }

    /** Before load: retarget an fentry/fexit/tp_btf program, e.g. to a module's function. */
    public void setAttachTarget(String function) throws BpfException {
        int err = LibBpf.bpf_program__set_attach_target(prog, 0, function);
        if (err < 0) throw new BpfException("setting attach target " + function + " of " + what(), err);
    }

    public int fd() {
        return LibBpf.bpf_program__fd(prog);
    }

    public BpfLink.Tracepoint attachTracepoint(String category, String name) throws BpfException {
        Pointer l = attachCall(() -> LibBpf.bpf_program__attach_tracepoint(prog, category, name),
                "attaching " + what() + " to tracepoint " + category + ":" + name);
        return new BpfLink.Tracepoint(l, name(), category, name);
    }

    public BpfLink.RawTracepoint attachRawTracepoint(String name) throws BpfException {
        Pointer l = attachCall(() -> LibBpf.bpf_program__attach_raw_tracepoint(prog, name),
                "attaching " + what() + " to raw tracepoint " + name);
        return new BpfLink.RawTracepoint(l, name(), name);
    }

    /** fentry/fexit/tp_btf: the target comes from the section or {@link #setAttachTarget}. */
    public BpfLink.Tracing attachTracing() throws BpfException {
        Pointer l = attachCall(() -> LibBpf.bpf_program__attach_trace(prog), "attaching " + what());
        return new BpfLink.Tracing(l, name(), section());
    }

    public BpfLink.Kprobe attachKprobe(String function, boolean retprobe) throws BpfException {
        Pointer l = attachCall(() -> LibBpf.bpf_program__attach_kprobe(prog, retprobe, function),
                "attaching " + what() + " to " + (retprobe ? "kretprobe " : "kprobe ") + function);
        return new BpfLink.Kprobe(l, name(), function, retprobe);
    }

    /** Uprobe on a function of a binary or library; pid -1 for every process. */
    public BpfLink.Uprobe attachUprobe(String binary, String function, boolean retprobe, int pid) throws BpfException {
        // struct bpf_uprobe_opts { size_t sz; size_t ref_ctr_offset; __u64 bpf_cookie; bool retprobe; const char *func_name; }
        Memory fn = new Memory(function.length() + 1L);
        fn.setString(0, function, "US-ASCII");
        Memory opts = new Memory(40);
        opts.clear();
        opts.setLong(0, 40);
        opts.setByte(24, (byte) (retprobe ? 1 : 0));
        opts.setPointer(32, fn);
        Pointer l = attachCall(() -> LibBpf.bpf_program__attach_uprobe_opts(prog, pid, binary, 0, opts),
                "attaching " + what() + " to " + (retprobe ? "uretprobe " : "uprobe ") + binary + ":" + function);
        return new BpfLink.Uprobe(l, name(), binary, function, retprobe);
    }

    /** Attach by the program's section name (tracepoint/..., raw_tp/..., tp_btf/..., fentry/..., kprobe/...). */
    public BpfLink attach() throws BpfException {
        String sec = section();
        String[] p = sec.split("/", 3);
        switch (p[0]) {
            case "tracepoint", "tp":
                if (p.length == 3) return attachTracepoint(p[1], p[2]);
                break;
            case "raw_tp", "raw_tracepoint":
                if (p.length >= 2) return attachRawTracepoint(sec.substring(p[0].length() + 1));
                break;
            case "tp_btf", "fentry", "fexit", "fmod_ret", "fentry.s", "fexit.s":
                return attachTracing();
            case "kprobe", "kretprobe":
                if (p.length >= 2) return attachKprobe(sec.substring(p[0].length() + 1), p[0].equals("kretprobe"));
                break;
            default:
                break;
        }
        throw new BpfException("attaching " + what() + ": section " + sec + " names no attach point", Errno.EINVAL);
    }

    private interface NativeAttach {
        Pointer call();
    }

    private Pointer attachCall(NativeAttach call, String what) throws BpfException {
        LibbpfLog.begin();
        try {
            Pointer link = call.call();
            int errno = Native.getLastError();
            if (link == null) throw new BpfException(what, errno == 0 ? Errno.EINVAL : errno, LibbpfLog.current());
            return link;
        } finally {
            LibbpfLog.end();
        }
    }

    private String what() {
        return "program " + name() + " of " + owner.label();
    }
}
