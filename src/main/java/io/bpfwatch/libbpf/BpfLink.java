package io.bpfwatch.libbpf;

import com.sun.jna.Pointer;

/**
 * An attached program. One subtype per kind of kernel hook, so what is attached where is
 * visible in types and in {@link #attachPoint()} ("tracepoint/sock/inet_sock_set_state").
 */
public abstract sealed class BpfLink implements AutoCloseable
        permits BpfLink.Tracepoint, BpfLink.RawTracepoint, BpfLink.Tracing, BpfLink.Kprobe, BpfLink.Uprobe {
    private Pointer link;
    private final String program;

    BpfLink(Pointer link, String program) {
        this.link = link;
        this.program = program;
    }

    public String program() {
        return program;
    }

    /** Where the program is attached, in libbpf section syntax. */
    public abstract String attachPoint();

    public boolean isAttached() {
        return link != null;
    }

    /** Detach; safe to call twice. */
    @Override
    public synchronized void close() {
        if (link != null) {
            LibBpf.bpf_link__destroy(link);
            link = null;
        }
    }

    @Override
    public String toString() {
        return program + " -> " + attachPoint();
    }

    /**
     * Detaches every link at once, each on a thread of its own, and returns when all are
     * detached (or after 5 s). Detaching a perf-event link waits for an RCU grace period in the
     * kernel (tracepoint_synchronize_unregister), ~50 ms here: one after the other, a monitor
     * with 22 tracepoints took over a second to stop; at once, the waits overlap.
     * {@code onFailure} gets a link whose detach threw.
     */
    public static void closeAll(java.util.List<? extends BpfLink> links, java.util.function.BiConsumer<BpfLink, RuntimeException> onFailure) {
        if (links.size() == 1) {
            close(links.get(0), onFailure);
            return;
        }
        java.util.List<Thread> threads = new java.util.ArrayList<>(links.size());
        for (BpfLink l : links) {
            Thread t = new Thread(() -> close(l, onFailure), "bpfwatch-detach");
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void close(BpfLink l, java.util.function.BiConsumer<BpfLink, RuntimeException> onFailure) {
        try {
            l.close();
        } catch (RuntimeException e) {
            onFailure.accept(l, e);
        }
    }

    public static final class Tracepoint extends BpfLink {
        private final String category, name;

        Tracepoint(Pointer link, String program, String category, String name) {
            super(link, program);
            this.category = category;
            this.name = name;
        }

        @Override
        public String attachPoint() {
            return "tracepoint/" + category + "/" + name;
        }
    }

    public static final class RawTracepoint extends BpfLink {
        private final String name;

        RawTracepoint(Pointer link, String program, String name) {
            super(link, program);
            this.name = name;
        }

        @Override
        public String attachPoint() {
            return "raw_tp/" + name;
        }
    }

    /** fentry, fexit, tp_btf, fmod_ret: BTF-typed trampolines and tracepoints. */
    public static final class Tracing extends BpfLink {
        private final String section;

        Tracing(Pointer link, String program, String section) {
            super(link, program);
            this.section = section;
        }

        @Override
        public String attachPoint() {
            return section;
        }
    }

    public static final class Kprobe extends BpfLink {
        private final String function;
        private final boolean ret;

        Kprobe(Pointer link, String program, String function, boolean ret) {
            super(link, program);
            this.function = function;
            this.ret = ret;
        }

        @Override
        public String attachPoint() {
            return (ret ? "kretprobe/" : "kprobe/") + function;
        }
    }

    public static final class Uprobe extends BpfLink {
        private final String binary, function;
        private final boolean ret;

        Uprobe(Pointer link, String program, String binary, String function, boolean ret) {
            super(link, program);
            this.binary = binary;
            this.function = function;
            this.ret = ret;
        }

        @Override
        public String attachPoint() {
            return (ret ? "uretprobe/" : "uprobe/") + binary + ":" + function;
        }
    }
}
