package io.bpfwatch.monitor;

import io.bpfwatch.kernel.Kernel;

/**
 * What a live monitor is given by its supervisor slot: its name, its self-health metrics, where
 * its events go, and the kernel its plan was made for.
 */
public record MonitorContext(String monitor, MonitorMetrics health, EventOutput output, Kernel kernel) {
}
