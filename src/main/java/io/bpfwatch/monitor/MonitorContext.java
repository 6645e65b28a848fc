package io.bpfwatch.monitor;

import io.bpfwatch.context.ContextResolver;
import io.bpfwatch.context.HostContext;
import io.bpfwatch.kernel.Kernel;

/**
 * What a live monitor is given by its supervisor slot: its name, its self-health metrics, where
 * its events go, the kernel its plan was made for, how its events' process context is resolved
 * (null: none asked for) and what the daemon's monitors share.
 */
public record MonitorContext(String monitor, MonitorMetrics health, EventOutput output, Kernel kernel,
                             ContextResolver process, HostContext host) {
}
