package io.bpfwatch.monitor;

import java.util.List;

/**
 * Whether the running kernel can run a monitor: a value, not an exception (cilium/ebpf's
 * feature probes). {@code bpfwatch probe} prints exactly this.
 */
public sealed interface Availability {
    /** Runnable; {@code strategy} names the hook choice, {@code attachPoints} where it attaches. */
    record Supported(String strategy, List<String> attachPoints) implements Availability {
    }

    /** Not on this kernel (yet): a missing tracepoint, module or kernel feature. */
    record Unsupported(String reason) implements Availability {
    }
}
