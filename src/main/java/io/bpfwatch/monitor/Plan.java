package io.bpfwatch.monitor;

import java.util.List;

/**
 * How a monitor runs on this kernel, as its type's probe decided: which programs attach where,
 * in which order, and in words ({@code strategy}). {@code bpfwatch probe} prints it, and the
 * live instance carries out exactly this plan: nothing re-plans behind the probe's back.
 *
 * {@code guard} says when the plan stops holding although the monitor still runs (the kernel
 * module it probes was unloaded or reloaded): the supervisor asks it every second and, on an
 * answer, stops the monitor and probes again. A plan without a guard of its own
 * ({@link #ALWAYS}) is probed again every few seconds while it runs, in case what it attaches
 * to went away; one on what the kernel has built in ({@link #BUILT_IN}: syscall, sched, sock
 * tracepoints) cannot lose it and is not.
 */
public record Plan(String strategy, List<Attach> attachments, Guard guard) {
    /** Why the plan no longer holds, or null while it does. Cheap and safe from any thread. */
    @FunctionalInterface
    public interface Guard {
        String lost();
    }

    public static final Guard ALWAYS = () -> null;

    /** Attaches only to what is built into the kernel: holds as long as the kernel runs. */
    public static final Guard BUILT_IN = () -> null;

    public Plan {
        attachments = List.copyOf(attachments);
    }

    public Plan(String strategy, List<Attach> attachments) {
        this(strategy, attachments, ALWAYS);
    }

    public List<String> attachPoints() {
        return attachments.stream().map(Attach::point).toList();
    }

    /** The programs the plan attaches, by name. */
    public List<String> programs() {
        return attachments.stream().map(Attach::program).toList();
    }
}
