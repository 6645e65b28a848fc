package io.bpfwatch.monitor;

/**
 * One monitor's section of the config: its name, its kind (a built-in's is its name), the
 * options every monitor has, and the settings its kind parsed. Equal configs mean a reload
 * leaves the running monitor alone.
 */
public record MonitorConfig(String name, String kind, boolean enabled, int ringBufferBytes, MonitorSettings settings) {
}
