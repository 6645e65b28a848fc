package io.bpfwatch.monitor;

import io.bpfwatch.config.Section;
import io.bpfwatch.kernel.Kernel;

/**
 * A kind of monitor (dns, tcp, zfs, wireguard): how to read its config section, whether this
 * kernel can run it, and how to make a live instance. Its BPF object is derived from the name:
 * monitors/NAME/NAME.bpf.o, shipped as the resource bpf/NAME.bpf.o.
 */
public interface MonitorType {
    String name();

    /** One line for {@code bpfwatch probe} and the README. */
    String description();

    /**
     * The kernel ring buffer's size unless the config sets {@code ring-buffer}: sized for the
     * monitor's records and the rates it can meet (the kernel allocates the whole ring at load
     * and the reader maps it, so an oversized ring costs memory for nothing).
     */
    int defaultRingBuffer();

    /** Reads this monitor's own keys; {@code enabled} and {@code ring-buffer} are read by the loader. */
    MonitorSettings parse(Section section);

    /** Can this kernel run it with these settings, and how. Must be cheap: it is re-run while unavailable. */
    Availability probe(Kernel kernel, MonitorSettings settings);

    /** A live instance, not yet started. */
    BpfMonitor create(MonitorConfig config, MonitorContext context);
}
