package io.bpfwatch.monitor;

import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.sink.EventLog;
import io.bpfwatch.sink.QueueBudget;
import io.bpfwatch.testkit.SimpleEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class EventOutputTest {

    /**
     * events_total is what the monitor's log accepted: exact after every event, with no batch
     * to end, and kept across the outputs a monitor's restarts make over the same log.
     */
    @Test
    void eventsTotalIsWhatTheLogAcceptedAfterEveryEventAndAcrossRestarts(@TempDir Path dir) {
        MonitorMetrics metrics = new MonitorMetrics("sim", new Meters(new SimpleMeterRegistry()));
        assertThat(metrics.events.count()).isZero();
        try (EventLog log = new EventLog("sim", new LogsConfig(dir, LogsConfig.Rotation.EXTERNAL), 1_000_000, metrics.lostQueue, metrics.lostWrite)) {
            EventOutput out = new EventOutput(metrics, log);
            for (int i = 1; i <= 1500; i++) {
                out.emit(new SimpleEvent(i));
                assertThat(metrics.events.count()).isEqualTo(i);
            }
            EventOutput restarted = new EventOutput(metrics, log);
            restarted.emit(new SimpleEvent(1501));
            assertThat(metrics.events.count()).isEqualTo(1501);
        }
    }

    @Test
    void eventsTheQueueRefusesAreLostAtOnceAndNeverCounted(@TempDir Path dir) {
        MonitorMetrics metrics = new MonitorMetrics("sim", new Meters(new SimpleMeterRegistry()));
        // a heap budget of nothing: the log takes no event
        try (EventLog log = new EventLog("sim", new LogsConfig(dir, LogsConfig.Rotation.EXTERNAL), 16, new QueueBudget(0),
                metrics.lostQueue, metrics.lostWrite, null)) {
            EventOutput out = new EventOutput(metrics, log);
            for (int i = 0; i < 5; i++) out.emit(new SimpleEvent(i));
            assertThat(metrics.lostQueue.count()).isEqualTo(5);
            assertThat(metrics.events.count()).isZero();
        }
    }
}
