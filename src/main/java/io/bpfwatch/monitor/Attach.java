package io.bpfwatch.monitor;

import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfProgram;

/**
 * One program of a monitor's object and where it attaches: one record per kind of kernel hook.
 * A {@link Plan} lists them in attach order; programs it does not list are not loaded.
 */
public sealed interface Attach {
    /** The program's name in the object (its C function name). */
    String program();

    /** Where it attaches, as /monitors and {@code bpfwatch probe} show it ("tracepoint/sock/inet_sock_set_state"). */
    String point();

    BpfLink attach(BpfProgram program) throws BpfException;

    /** A tracepoint: CATEGORY:NAME under tracefs. */
    record Tracepoint(String program, String category, String name) implements Attach {
        /** From "category/name". */
        public static Tracepoint of(String program, String categoryAndName) {
            String[] p = categoryAndName.split("/", 2);
            return new Tracepoint(program, p[0], p[1]);
        }

        @Override
        public String point() {
            return "tracepoint/" + category + "/" + name;
        }

        @Override
        public BpfLink attach(BpfProgram p) throws BpfException {
            return p.attachTracepoint(category, name);
        }
    }

    /** fentry or fexit on a kernel function; the function is the one the program's section names. */
    record Tracing(String program, String function, boolean exit) implements Attach {
        @Override
        public String point() {
            return (exit ? "fexit/" : "fentry/") + function;
        }

        @Override
        public BpfLink attach(BpfProgram p) throws BpfException {
            return p.attachTracing();
        }
    }

    /** A kprobe or kretprobe; {@code function} may be module-qualified ("wireguard:encrypt_packet"). */
    record Kprobe(String program, String function, boolean ret) implements Attach {
        @Override
        public String point() {
            return (ret ? "kretprobe/" : "kprobe/") + function;
        }

        @Override
        public BpfLink attach(BpfProgram p) throws BpfException {
            return p.attachKprobe(function, ret);
        }
    }

    /** Wherever the program's section says, as libbpf's auto-attach reads it (user objects). */
    record BySection(String program, String section) implements Attach {
        @Override
        public String point() {
            return section;
        }

        @Override
        public BpfLink attach(BpfProgram p) throws BpfException {
            return p.attach();
        }
    }
}
