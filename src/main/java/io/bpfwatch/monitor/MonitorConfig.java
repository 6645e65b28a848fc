package io.bpfwatch.monitor;

import io.bpfwatch.context.ContextSpec;

/**
 * One monitor's section of the config: its name, its kind (a built-in's is its name), the
 * options every monitor has (the context its events carry among them), and the settings its
 * kind parsed. Equal configs mean a reload leaves the running monitor alone.
 */
public record MonitorConfig(String name, String kind, boolean enabled, int ringBufferBytes, ContextSpec context,
                            MonitorSettings settings) {
    public MonitorConfig(String name, String kind, boolean enabled, int ringBufferBytes, MonitorSettings settings) {
        this(name, kind, enabled, ringBufferBytes, ContextSpec.NONE, settings);
    }
}
