package io.bpfwatch.monitor;

/** One monitor's section: the options every monitor has, plus its own settings. */
public record MonitorConfig(String name, boolean enabled, int ringBufferBytes, MonitorSettings settings) {
}
