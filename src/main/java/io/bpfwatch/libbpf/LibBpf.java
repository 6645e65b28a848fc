package io.bpfwatch.libbpf;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;

/**
 * Direct-mapped entry points of the system's libbpf 1.x (Debian's libbpf1). Only what bpfwatch
 * uses; nothing here is called per event. Pointer-returning calls return NULL and set errno
 * (read it right after the call); int calls return -errno.
 */
public final class LibBpf {
    private static final Throwable LOAD_FAILURE;

    static {
        Throwable failure = null;
        try {
            NativeLibrary lib;
            try {
                lib = NativeLibrary.getInstance("libbpf.so.1");
            } catch (UnsatisfiedLinkError e) {
                lib = NativeLibrary.getInstance("bpf");
            }
            Native.register(LibBpf.class, lib);
        } catch (Throwable t) {
            failure = t;
        }
        LOAD_FAILURE = failure;
    }

    private LibBpf() {}

    /** Null if libbpf loaded, else why not (missing libbpf1, or not libbpf 1.x symbols). */
    public static Throwable loadFailure() {
        return LOAD_FAILURE;
    }

    public interface PrintFn extends Callback {
        int invoke(int level, Pointer format, Pointer args);
    }

    public static final int LIBBPF_WARN = 0, LIBBPF_INFO = 1, LIBBPF_DEBUG = 2;

    public static native int libbpf_major_version();

    public static native int libbpf_minor_version();

    public static native String libbpf_version_string();

    public static native Pointer libbpf_set_print(PrintFn fn);

    public static native int libbpf_num_possible_cpus();

    public static native int libbpf_probe_bpf_prog_type(int progType, Pointer opts);

    public static native int libbpf_probe_bpf_map_type(int mapType, Pointer opts);

    public static native int libbpf_probe_bpf_helper(int progType, int helperId, Pointer opts);

    // objects
    public static native Pointer bpf_object__open_mem(Pointer buf, long size, Pointer opts);

    public static native int bpf_object__load(Pointer obj);

    public static native void bpf_object__close(Pointer obj);

    public static native String bpf_object__name(Pointer obj);

    public static native Pointer bpf_object__btf(Pointer obj);

    public static native Pointer bpf_object__next_program(Pointer obj, Pointer prev);

    public static native Pointer bpf_object__find_program_by_name(Pointer obj, String name);

    public static native Pointer bpf_object__next_map(Pointer obj, Pointer prev);

    public static native Pointer bpf_object__find_map_by_name(Pointer obj, String name);

    // programs
    public static native String bpf_program__name(Pointer prog);

    public static native String bpf_program__section_name(Pointer prog);

    public static native int bpf_program__set_autoload(Pointer prog, boolean autoload);

    public static native boolean bpf_program__autoload(Pointer prog);

    public static native int bpf_program__fd(Pointer prog);

    public static native int bpf_program__set_attach_target(Pointer prog, int attachProgFd, String attachFuncName);

    public static native Pointer bpf_program__attach_tracepoint(Pointer prog, String category, String name);

    public static native Pointer bpf_program__attach_raw_tracepoint(Pointer prog, String name);

    public static native Pointer bpf_program__attach_trace(Pointer prog);

    public static native Pointer bpf_program__attach_kprobe(Pointer prog, boolean retprobe, String func);

    public static native Pointer bpf_program__attach_uprobe_opts(Pointer prog, int pid, String binaryPath, long funcOffset, Pointer opts);

    public static native int bpf_link__destroy(Pointer link);

    // low-level program API (feature probes)
    public static native int bpf_prog_load(int progType, String progName, String license, Pointer insns, long insnCnt, Pointer opts);

    public static native int bpf_raw_tracepoint_open(String name, int progFd);

    // maps
    public static native int bpf_map__fd(Pointer map);

    public static native String bpf_map__name(Pointer map);

    public static native int bpf_map__type(Pointer map);

    public static native int bpf_map__max_entries(Pointer map);

    public static native int bpf_map__set_max_entries(Pointer map, int maxEntries);

    public static native int bpf_map__key_size(Pointer map);

    public static native int bpf_map__value_size(Pointer map);

    public static native int bpf_map__btf_key_type_id(Pointer map);

    public static native int bpf_map__btf_value_type_id(Pointer map);

    public static native Pointer bpf_map__initial_value(Pointer map, LongByReference size);

    public static native int bpf_map_lookup_elem(int fd, Pointer key, Pointer value);

    public static native int bpf_map_update_elem(int fd, Pointer key, Pointer value, long flags);

    public static native int bpf_map_delete_elem(int fd, Pointer key);

    public static native int bpf_map_get_next_key(int fd, Pointer key, Pointer nextKey);

    // BTF
    public static native Pointer btf__parse_elf(String path, Pointer ext);

    public static native Pointer btf__parse(String path, Pointer ext);

    public static native Pointer btf__parse_split(String path, Pointer base);

    public static native Pointer btf__load_vmlinux_btf();

    public static native void btf__free(Pointer btf);

    public static native int btf__find_by_name_kind(Pointer btf, String name, int kind);

    public static native Pointer btf__type_by_id(Pointer btf, int id);

    public static native String btf__name_by_offset(Pointer btf, int offset);

    public static native int btf__type_cnt(Pointer btf);

    public static native long btf__resolve_size(Pointer btf, int typeId);
}
