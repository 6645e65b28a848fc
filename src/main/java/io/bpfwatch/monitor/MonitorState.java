package io.bpfwatch.monitor;

import java.util.Locale;

/** A monitor's lifecycle state, as /monitors and bpfwatch_monitor_state show it. */
public enum MonitorState {
    /** Enabled, being loaded and attached. */
    STARTING,
    /** Attached and delivering events. */
    RUNNING,
    /** Failed; retried after a capped exponential delay with jitter. */
    BACKOFF,
    /** The kernel lacks what it needs (re-probed periodically). */
    UNAVAILABLE,
    /** Not enabled in the config. */
    DISABLED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
