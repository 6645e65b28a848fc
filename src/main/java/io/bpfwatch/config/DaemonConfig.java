package io.bpfwatch.config;

import io.bpfwatch.monitor.MonitorConfig;

import java.util.Map;

/** A whole validated config file. Immutable; a reload builds a new one and diffs. {@code otlp}: null when not exporting. */
public record DaemonConfig(String file, HttpConfig http, LogsConfig logs, Map<String, MonitorConfig> monitors, OtlpConfig otlp) {
    public DaemonConfig(String file, HttpConfig http, LogsConfig logs, Map<String, MonitorConfig> monitors) {
        this(file, http, logs, monitors, null);
    }
}
