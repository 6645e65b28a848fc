package io.bpfwatch.supervise;

import io.bpfwatch.monitor.MonitorState;

import java.time.Instant;
import java.util.List;

/**
 * One monitor as /monitors and STATUS= show it: its state and since when, its plan and attach
 * points, its last error, its events and its log ({@code logPending}: events accepted and not
 * yet written), its events lost at every stage, and its last seconds for bpfwatch top.
 */
public record MonitorStatus(
        String name,
        String kind,
        MonitorState state,
        Instant since,
        long restarts,
        String strategy,
        List<String> attachPoints,
        String lastError,
        Instant lastErrorAt,
        Instant nextAttempt,
        long events,
        String log,
        String logProblem,
        long logPending,
        long lost,
        io.bpfwatch.top.RecentActivity recent) {
}
