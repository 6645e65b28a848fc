package io.bpfwatch.libbpf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A BPF object (one compiled .bpf.o) from open to close. Between {@link #open} and
 * {@link #load} the caller sets `const volatile` filters, map sizes and which programs load;
 * {@link #load} runs CO-RE relocation against the running kernel and the verifier.
 * Not thread-safe: one owner (the supervisor) drives it.
 */
public final class BpfObject implements AutoCloseable {
    private final String label;
    private Pointer obj;
    // native buffers libbpf refers to until close: held here so they are not freed before
    private final Memory elf;
    private final Memory openOpts;
    private boolean loaded;

    private BpfObject(String label, Pointer obj, Memory elf, Memory openOpts) {
        this.label = label;
        this.obj = obj;
        this.elf = elf;
        this.openOpts = openOpts;
    }

    /**
     * Opens an object from its bytes. {@code label} names it in errors, e.g.
     * "monitors/tcp/tcp.bpf.o"; {@code objectName} becomes libbpf's object name (map name prefix).
     */
    public static BpfObject open(String label, String objectName, byte[] bytes) throws BpfException {
        LibbpfLog.begin();
        try {
            Memory elf = new Memory(bytes.length);
            elf.write(0, bytes, 0, bytes.length);
            // struct bpf_object_open_opts { size_t sz; const char *object_name; ... }
            Memory name = new Memory(objectName.length() + 1L);
            name.setString(0, objectName, "US-ASCII");
            Memory opts = new Memory(16 + 8);
            opts.clear();
            opts.setLong(0, 16);
            opts.setPointer(8, name);
            Pointer obj = LibBpf.bpf_object__open_mem(elf, bytes.length, opts);
            int errno = Native.getLastError();
            if (obj == null) throw new BpfException("opening " + label, errno, LibbpfLog.end());
            return new BpfObject(label, obj, elf, opts);
        } finally {
            LibbpfLog.end();
        }
    }

    public String label() {
        return label;
    }

    Pointer handle() {
        if (obj == null) throw new IllegalStateException(label + " is closed");
        return obj;
    }

    public boolean isLoaded() {
        return loaded;
    }

    /** The object's own BTF (borrowed: valid while this object is open). */
    public Btf btf() {
        Pointer b = LibBpf.bpf_object__btf(handle());
        if (b == null) throw new IllegalStateException(label + " has no BTF (built without -g?)");
        return Btf.borrowed(b);
    }

    public List<BpfProgram> programs() {
        List<BpfProgram> out = new ArrayList<>();
        for (Pointer p = LibBpf.bpf_object__next_program(handle(), null); p != null;
             p = LibBpf.bpf_object__next_program(handle(), p)) {
            out.add(new BpfProgram(this, p));
        }
        return out;
    }

    public BpfProgram program(String name) {
        Pointer p = LibBpf.bpf_object__find_program_by_name(handle(), name);
        if (p == null) throw new IllegalArgumentException(label + " has no program " + name);
        return new BpfProgram(this, p);
    }

    public BpfMap map(String name) {
        Pointer m = LibBpf.bpf_object__find_map_by_name(handle(), name);
        if (m == null) throw new IllegalArgumentException(label + " has no map " + name);
        return new BpfMap(this, m, name);
    }

    /** The names of the object's maps, its data sections (.rodata, .bss) among them. */
    public Set<String> mapNames() {
        Set<String> out = new LinkedHashSet<>();
        for (Pointer m = LibBpf.bpf_object__next_map(handle(), null); m != null; m = LibBpf.bpf_object__next_map(handle(), m)) {
            out.add(LibBpf.bpf_map__name(m));
        }
        return out;
    }

    /** The names of the object's `const volatile` variables. */
    public Set<String> constantNames() {
        Pointer b = LibBpf.bpf_object__btf(handle());
        return b == null ? Set.of() : new LinkedHashSet<>(Btf.borrowed(b).variables(".rodata").keySet());
    }

    public boolean hasMap(String name) {
        return LibBpf.bpf_object__find_map_by_name(handle(), name) != null;
    }

    /** Whether the object declares this `const volatile` variable. */
    public boolean hasConstant(String variable) {
        Pointer b = LibBpf.bpf_object__btf(handle());
        return b != null && Btf.borrowed(b).variable(".rodata", variable).isPresent();
    }

    /** Sets a `const volatile` integer in .rodata (1, 2, 4 or 8 bytes, as declared). */
    public void setConstant(String variable, long value) {
        int[] where = rodataVariable(variable);
        Pointer data = rodata();
        switch (where[1]) {
            case 1 -> data.setByte(where[0], (byte) value);
            case 2 -> data.setShort(where[0], (short) value);
            case 4 -> data.setInt(where[0], (int) value);
            case 8 -> data.setLong(where[0], value);
            default -> throw new IllegalArgumentException(label + ": " + variable + " is " + where[1] + " bytes, not an integer");
        }
    }

    /** Sets a `const volatile` array or struct in .rodata; shorter values are zero-padded. */
    public void setConstant(String variable, byte[] value) {
        int[] where = rodataVariable(variable);
        if (value.length > where[1]) {
            throw new IllegalArgumentException(label + ": " + value.length + " bytes do not fit " + variable + " (" + where[1] + ")");
        }
        Pointer data = rodata();
        data.setMemory(where[0], where[1], (byte) 0);
        data.write(where[0], value, 0, value.length);
    }

    private int[] rodataVariable(String variable) {
        if (loaded) throw new IllegalStateException(label + ": constants are fixed once loaded");
        return btf().variable(".rodata", variable)
                .orElseThrow(() -> new IllegalArgumentException(label + " has no const volatile " + variable));
    }

    private Pointer rodata() {
        Pointer m = LibBpf.bpf_object__find_map_by_name(handle(), ".rodata");
        if (m == null) throw new IllegalArgumentException(label + " has no .rodata");
        LongByReference size = new LongByReference();
        Pointer p = LibBpf.bpf_map__initial_value(m, size);
        if (p == null) throw new IllegalStateException(label + ": .rodata is not writable");
        return p;
    }

    /** CO-RE relocation + verification. The libbpf log (verifier included) travels in the error. */
    public void load() throws BpfException {
        LibbpfLog.begin();
        try {
            int err = LibBpf.bpf_object__load(handle());
            if (err < 0) throw new BpfException("loading " + label + describeFailure(LibbpfLog.current()), err, LibbpfLog.current());
            loaded = true;
        } finally {
            LibbpfLog.end();
        }
    }

    /** "verifier rejected program X" when libbpf says which program failed. */
    private static String describeFailure(String log) {
        int i = log.indexOf("prog '");
        if (i < 0) return "";
        int j = log.indexOf('\'', i + 6);
        if (j < 0) return "";
        String prog = log.substring(i + 6, j);
        if (log.contains("BEGIN PROG LOAD LOG")) return ": verifier rejected program " + prog;
        return ": program " + prog;
    }

    @Override
    public void close() {
        if (obj != null) {
            LibBpf.bpf_object__close(obj);
            obj = null;
        }
    }
}
