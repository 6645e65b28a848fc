package io.bpfwatch.monitor;

import java.util.List;

/**
 * Whether the running kernel can run a monitor: a value, not an exception (cilium/ebpf's
 * feature probes). {@code bpfwatch probe} prints exactly this, and a supported answer carries
 * the plan the monitor is then created with.
 */
public sealed interface Availability {
    /** Runnable, with this plan. */
    record Supported(Plan plan) implements Availability {
        public String strategy() {
            return plan.strategy();
        }

        public List<String> attachPoints() {
            return plan.attachPoints();
        }
    }

    /** Not on this kernel (yet): a missing tracepoint, module or kernel feature. */
    record Unsupported(String reason) implements Availability {
    }
}
