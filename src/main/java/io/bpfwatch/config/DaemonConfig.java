package io.bpfwatch.config;

import io.bpfwatch.monitor.MonitorConfig;

import java.util.Map;

/** A whole validated config file. Immutable; a reload builds a new one and diffs. */
public record DaemonConfig(String file, HttpConfig http, LogsConfig logs, Map<String, MonitorConfig> monitors) {
}
