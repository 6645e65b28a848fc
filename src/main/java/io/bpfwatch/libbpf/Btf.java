package io.bpfwatch.libbpf;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Read-only view of a BTF blob (an object file's, the kernel's, or a module's): enough to find
 * struct layouts, functions and data-section variables. Owned views free themselves on close.
 */
public final class Btf implements AutoCloseable {
    public static final int KIND_INT = 1, KIND_PTR = 2, KIND_ARRAY = 3, KIND_STRUCT = 4, KIND_UNION = 5,
            KIND_ENUM = 6, KIND_FWD = 7, KIND_TYPEDEF = 8, KIND_VOLATILE = 9, KIND_CONST = 10,
            KIND_RESTRICT = 11, KIND_FUNC = 12, KIND_FUNC_PROTO = 13, KIND_VAR = 14, KIND_DATASEC = 15;

    private Pointer btf;
    private final boolean owned;

    private Btf(Pointer btf, boolean owned) {
        this.btf = btf;
        this.owned = owned;
    }

    static Btf borrowed(Pointer btf) {
        return new Btf(btf, false);
    }

    /** BTF of a compiled BPF object file (its .BTF section). */
    public static Btf ofElf(String path) throws BpfException {
        Pointer p = LibBpf.btf__parse_elf(path, null);
        if (p == null) throw new BpfException("reading BTF of " + path, Native.getLastError());
        return new Btf(p, true);
    }

    /** The running kernel's BTF (/sys/kernel/btf/vmlinux). */
    public static Btf vmlinux() throws BpfException {
        Pointer p = LibBpf.btf__load_vmlinux_btf();
        if (p == null) throw new BpfException("loading the kernel's BTF", Native.getLastError());
        return new Btf(p, true);
    }

    /** A kernel module's BTF (/sys/kernel/btf/NAME), split on top of the kernel's. */
    public static Btf module(String name, Btf vmlinux) throws BpfException {
        return module(name, "/sys/kernel/btf/" + name, vmlinux);
    }

    /** A kernel module's BTF from {@code path}, split on top of the kernel's. */
    public static Btf module(String name, String path, Btf vmlinux) throws BpfException {
        Pointer p = LibBpf.btf__parse_split(path, vmlinux.btf);
        if (p == null) throw new BpfException("reading BTF of module " + name + " (" + path + ")", Native.getLastError());
        return new Btf(p, true);
    }

    /** BTF from a file: raw BTF (as under /sys/kernel/btf) or the .BTF section of an ELF object. */
    public static Btf parse(String path) throws BpfException {
        Pointer p = LibBpf.btf__parse(path, null);
        if (p == null) throw new BpfException("reading BTF of " + path, Native.getLastError());
        return new Btf(p, true);
    }

    public int find(String name, int kind) {
        int id = LibBpf.btf__find_by_name_kind(btf, name, kind);
        return id > 0 ? id : -1;
    }

    public boolean has(String name, int kind) {
        return find(name, kind) > 0;
    }

    /** A struct's byte size and member byte offsets, in declaration order. */
    public Optional<StructLayout> struct(String name) {
        int id = find(name, KIND_STRUCT);
        if (id < 0) return Optional.empty();
        Pointer t = LibBpf.btf__type_by_id(btf, id);
        int info = t.getInt(4);
        int vlen = info & 0xffff;
        boolean kflag = (info >>> 31) != 0;
        int size = t.getInt(8);
        Map<String, Integer> members = new LinkedHashMap<>();
        for (int i = 0; i < vlen; i++) {
            long m = 12L + 12L * i;
            String member = LibBpf.btf__name_by_offset(btf, t.getInt(m));
            int bits = t.getInt(m + 8);
            if (kflag) bits &= 0xffffff;
            members.put(member, bits / 8);
        }
        return Optional.of(new StructLayout(name, size, members));
    }

    /** Byte offset and size of a global variable in a data section (".rodata", ".bss", ...). */
    public Optional<int[]> variable(String section, String variable) {
        return Optional.ofNullable(variables(section).get(variable));
    }

    /** The variables of a data section by name: byte offset and size of each, in section order. */
    public Map<String, int[]> variables(String section) {
        Map<String, int[]> out = new LinkedHashMap<>();
        int id = find(section, KIND_DATASEC);
        if (id < 0) return out;
        Pointer t = LibBpf.btf__type_by_id(btf, id);
        int vlen = t.getInt(4) & 0xffff;
        for (int i = 0; i < vlen; i++) {
            long v = 12L + 12L * i;
            int varType = t.getInt(v);
            Pointer var = LibBpf.btf__type_by_id(btf, varType);
            out.put(LibBpf.btf__name_by_offset(btf, var.getInt(0)), new int[] {t.getInt(v + 4), t.getInt(v + 8)});
        }
        return out;
    }

    @Override
    public void close() {
        if (owned && btf != null) LibBpf.btf__free(btf);
        btf = null;
    }

    public record StructLayout(String name, int size, Map<String, Integer> offsets) {
        public int offset(String member) {
            Integer o = offsets.get(member);
            if (o == null) throw new IllegalArgumentException("struct " + name + " has no member " + member);
            return o;
        }
    }
}
