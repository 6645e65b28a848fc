package io.bpfwatch.monitor;

import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.sink.EventLog;
import io.bpfwatch.testkit.SimpleEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class EventOutputTest {

    /**
     * events_total is added to per batch, not per event: exact at the end of every batch, and a
     * batch that goes on (a ring that never runs empty) is counted every 1024 events meanwhile.
     * Events the queue refused are lost{stage="queue"} at once, never in events_total.
     */
    @Test
    void eventsAreCountedAtTheEndOfEachBatchAndEvery1024EventsOfALongOne(@TempDir Path dir) {
        MonitorMetrics metrics = new MonitorMetrics("sim", new Meters(new SimpleMeterRegistry()));
        try (EventLog log = new EventLog("sim", new LogsConfig(dir, LogsConfig.Rotation.EXTERNAL), 1_000_000, metrics.lostQueue, metrics.lostWrite)) {
            EventOutput out = new EventOutput(metrics, log);
            for (int i = 0; i < 3; i++) out.emit(new SimpleEvent(i));
            assertThat(metrics.events.count()).isZero();
            out.endOfBatch();
            assertThat(metrics.events.count()).isEqualTo(3);
            for (int i = 0; i < 1023; i++) out.emit(new SimpleEvent(i));
            assertThat(metrics.events.count()).isEqualTo(3);
            out.emit(new SimpleEvent(1023));
            assertThat(metrics.events.count()).isEqualTo(3 + 1024);
            out.emit(new SimpleEvent(1024));
            out.endOfBatch();
            out.endOfBatch();
            assertThat(metrics.events.count()).isEqualTo(3 + 1024 + 1);
        }
    }

    @Test
    void eventsTheQueueRefusesAreLostAtOnceAndNeverCounted(@TempDir Path dir) {
        MonitorMetrics metrics = new MonitorMetrics("sim", new Meters(new SimpleMeterRegistry()));
        // a budget of nothing: the queue takes no event
        try (EventLog log = new EventLog("sim", new LogsConfig(dir, LogsConfig.Rotation.EXTERNAL), 16,
                new io.bpfwatch.sink.QueueBudget(0), metrics.lostQueue, metrics.lostWrite, null)) {
            EventOutput out = new EventOutput(metrics, log);
            for (int i = 0; i < 5; i++) out.emit(new SimpleEvent(i));
            assertThat(metrics.lostQueue.count()).isEqualTo(5);
            out.endOfBatch();
            assertThat(metrics.events.count()).isZero();
        }
    }
}
