package io.bpfwatch.supervise;

import io.bpfwatch.monitor.MonitorState;

import java.time.Instant;
import java.util.List;

/** An immutable snapshot of one monitor, as /monitors and STATUS= show it. */
public record MonitorStatus(
        String name,
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
        String logProblem) {
}
