package io.bpfwatch.monitor;

/**
 * A monitor's own settings, parsed from its section of the config file. Implementations are
 * records: equality decides whether a reload restarts the monitor.
 */
public interface MonitorSettings {
}
