package io.bpfwatch.libbpf;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Read-only view of a BTF blob (an object file's, the kernel's, or a module's): enough to find
 * struct layouts, functions and data-section variables. Owned views free themselves on close.
 */
public final class Btf implements AutoCloseable {
    public static final int KIND_INT = 1, KIND_PTR = 2, KIND_ARRAY = 3, KIND_STRUCT = 4, KIND_UNION = 5,
            KIND_ENUM = 6, KIND_FWD = 7, KIND_TYPEDEF = 8, KIND_VOLATILE = 9, KIND_CONST = 10,
            KIND_RESTRICT = 11, KIND_FUNC = 12, KIND_FUNC_PROTO = 13, KIND_VAR = 14, KIND_DATASEC = 15,
            KIND_FLOAT = 16, KIND_DECL_TAG = 17, KIND_TYPE_TAG = 18, KIND_ENUM64 = 19;
    /** BTF_INT_* encoding bits. */
    public static final int INT_SIGNED = 1, INT_CHAR = 2, INT_BOOL = 4;

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

    /** One BTF type: its kind, name, and size (or referenced type id); details by kind below. */
    public record Type(int id, int kind, String name, int sizeOrType, int vlen, boolean kflag) {
        public boolean isStructOrUnion() {
            return kind == KIND_STRUCT || kind == KIND_UNION;
        }
    }

    /** A struct or union member: byte offset and, for a bitfield, bit offset within and width. */
    public record Member(String name, int type, int bitOffset, int bitSize) {
    }

    public record Array(int elemType, int nelems) {
    }

    /** An integer's encoding (INT_SIGNED, INT_CHAR, INT_BOOL) and width in bits. */
    public record IntEncoding(int encoding, int bits) {
        public boolean signed() {
            return (encoding & INT_SIGNED) != 0;
        }
    }

    public int typeCount() {
        return LibBpf.btf__type_cnt(btf);
    }

    /** The type with this id (0 is void). */
    public Type type(int id) {
        if (id == 0) return new Type(0, 0, "void", 0, 0, false);
        Pointer t = LibBpf.btf__type_by_id(btf, id);
        if (t == null) throw new IllegalArgumentException("no BTF type " + id);
        int info = t.getInt(4);
        String name = LibBpf.btf__name_by_offset(btf, t.getInt(0));
        return new Type(id, (info >>> 24) & 0x1f, name == null ? "" : name, t.getInt(8), info & 0xffff, (info >>> 31) != 0);
    }

    /** The id past typedefs and qualifiers (const, volatile, restrict, type tags). */
    public int resolve(int id) {
        for (int i = 0; i < 64 && id != 0; i++) {
            Type t = type(id);
            if (t.kind() != KIND_TYPEDEF && t.kind() != KIND_CONST && t.kind() != KIND_VOLATILE
                    && t.kind() != KIND_RESTRICT && t.kind() != KIND_TYPE_TAG) {
                return id;
            }
            id = t.sizeOrType();
        }
        return id;
    }

    /** Bytes a type takes (arrays and typedefs resolved); negative if it has no size. */
    public long size(int id) {
        return LibBpf.btf__resolve_size(btf, id);
    }

    public List<Member> members(Type t) {
        if (!t.isStructOrUnion()) throw new IllegalArgumentException(t.name() + " is not a struct or union");
        Pointer raw = LibBpf.btf__type_by_id(btf, t.id());
        List<Member> out = new ArrayList<>(t.vlen());
        for (int i = 0; i < t.vlen(); i++) {
            long m = 12L + 12L * i;
            String name = LibBpf.btf__name_by_offset(btf, raw.getInt(m));
            int off = raw.getInt(m + 8);
            int bits = t.kflag() ? off & 0xffffff : off;
            int size = t.kflag() ? off >>> 24 : 0;
            out.add(new Member(name == null ? "" : name, raw.getInt(m + 4), bits, size));
        }
        return out;
    }

    public Array array(Type t) {
        if (t.kind() != KIND_ARRAY) throw new IllegalArgumentException(t.name() + " is not an array");
        Pointer raw = LibBpf.btf__type_by_id(btf, t.id());
        return new Array(raw.getInt(12), raw.getInt(20));
    }

    public IntEncoding intEncoding(Type t) {
        if (t.kind() != KIND_INT) throw new IllegalArgumentException(t.name() + " is not an integer");
        int v = LibBpf.btf__type_by_id(btf, t.id()).getInt(12);
        return new IntEncoding((v >>> 24) & 0x0f, v & 0xff);
    }

    /** An enum's names by value. */
    public Map<Long, String> enumValues(Type t) {
        Pointer raw = LibBpf.btf__type_by_id(btf, t.id());
        Map<Long, String> out = new LinkedHashMap<>();
        if (t.kind() == KIND_ENUM) {
            for (int i = 0; i < t.vlen(); i++) {
                long e = 12L + 8L * i;
                long v = t.kflag() ? raw.getInt(e + 4) : raw.getInt(e + 4) & 0xffffffffL;
                out.putIfAbsent(v, LibBpf.btf__name_by_offset(btf, raw.getInt(e)));
            }
        } else if (t.kind() == KIND_ENUM64) {
            for (int i = 0; i < t.vlen(); i++) {
                long e = 12L + 12L * i;
                long v = (raw.getInt(e + 4) & 0xffffffffL) | ((long) raw.getInt(e + 8) << 32);
                out.putIfAbsent(v, LibBpf.btf__name_by_offset(btf, raw.getInt(e)));
            }
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
