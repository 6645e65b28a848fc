package io.bpfwatch.context;

import java.util.EnumSet;
import java.util.Set;

/**
 * What an event can say about the process behind it, beyond pid, uid and comm: the {@code context:}
 * list of a monitor's config. Each names the kernel work it needs ({@code BW_CTX_*} in
 * monitors/include/bpfwatch.h), so a monitor pays only for what it asked for.
 */
public enum ContextField {
    /** {@code ppid} and {@code pcomm}. */
    PARENT("parent", Bits.PARENT),
    /** {@code exe}: the path the process was executed from. */
    EXE("exe", Bits.PROCESS),
    /** {@code cgroup}: the cgroup v2 path. */
    CGROUP("cgroup", Bits.CGROUP),
    /** {@code unit}: the systemd unit of that cgroup. */
    UNIT("unit", Bits.CGROUP),
    /** {@code container} and {@code pod}: the container id and Kubernetes pod UID the cgroup names. */
    CONTAINER("container", Bits.CGROUP);

    /** The kernel's bits (bw_context). */
    public static final class Bits {
        public static final int PARENT = 1, CGROUP = 2, PROCESS = 4, NETNS = 8;

        private Bits() {
        }
    }

    /** What the built-in monitors that run in the acting process carry unless configured. */
    public static final Set<ContextField> DEFAULT = EnumSet.allOf(ContextField.class);

    public final String key;
    public final int kernelBits;

    ContextField(String key, int kernelBits) {
        this.key = key;
        this.kernelBits = kernelBits;
    }

    public static ContextField of(String key) {
        for (ContextField f : values()) if (f.key.equals(key)) return f;
        return null;
    }

    public static int kernelBits(Set<ContextField> fields) {
        int bits = 0;
        for (ContextField f : fields) bits |= f.kernelBits;
        return bits;
    }
}
