package io.bpfwatch.top;

import io.bpfwatch.event.Event;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RecentActivityTest {
    private static final long T = 1_780_000_000L; // an epoch second

    /** An event at second {@code s} (plus {@code millis}) naming one destination, and an alerting process if asked. */
    private static Event event(long s, int millis, String dest, String who) {
        return new Event((s * 1000 + millis) * 1_000_000L, 1, 0, "c") {
            @Override
            public String monitor() {
                return "tcp";
            }

            @Override
            public String event() {
                return "connect";
            }

            @Override
            public void writeFields(io.bpfwatch.event.FieldWriter w) {
            }

            @Override
            public void tally(Tally t) {
                t.add("destinations", dest, 1);
                if (who != null) t.add("alerting", who, 1);
            }
        };
    }

    private static void count(RecentActivity r, Event... events) {
        List<Event> batch = List.of(events);
        int[] idx = new int[events.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        r.count(batch, idx, idx.length);
    }

    @Test
    void theWindowSumsItsSecondsAndRanksKeys() {
        RecentActivity r = new RecentActivity();
        count(r, event(T - 5, 0, "old:1", null)); // outside a 2 s window at T+0.5
        count(r, event(T - 2, 100, "a:1", null), event(T - 2, 200, "b:2", null));
        count(r, event(T - 1, 0, "a:1", "curl[7]"), event(T, 400, "a:1", null), event(T, 450, "c:3", null));
        RecentActivity.Window w = r.window(2, T * 1000 + 500, 10);
        assertThat(w.events()).isEqualTo(5);
        assertThat(w.seconds()).isEqualTo(2.5);
        assertThat(w.perSecond()).isEqualTo(2.0);
        assertThat(w.top().get("destinations").entries()).containsExactly(
                new RecentActivity.Entry("a:1", 3), new RecentActivity.Entry("b:2", 1), new RecentActivity.Entry("c:3", 1));
        assertThat(w.top().get("destinations").approximate()).isFalse();
        assertThat(w.top().get("alerting").entries()).containsExactly(new RecentActivity.Entry("curl[7]", 1));
        assertThat(w.top().keySet()).as("busiest category first").containsExactly("destinations", "alerting");
        assertThat(r.window(2, T * 1000 + 500, 1).top().get("destinations").entries()).hasSize(1);
        // longer than kept: clamped to what is kept
        assertThat(r.window(1000, T * 1000 + 500, 10).events()).isEqualTo(6);
    }

    @Test
    void aSlotIsReusedForItsNextSecondAndLateEventsAreNotRanked() {
        RecentActivity r = new RecentActivity();
        count(r, event(T, 0, "a:1", null));
        count(r, event(T + RecentActivity.SECONDS, 0, "b:2", null)); // same slot, later second
        count(r, event(T, 500, "late:9", null)); // older than its slot's second now
        RecentActivity.Window w = r.window(1, (T + RecentActivity.SECONDS) * 1000, 10);
        assertThat(w.events()).isEqualTo(1);
        assertThat(w.top().get("destinations").entries()).extracting(RecentActivity.Entry::key).containsExactly("b:2");
        assertThat(r.window(RecentActivity.MAX_WINDOW, (T + RecentActivity.SECONDS) * 1000, 10).top().get("destinations").entries())
                .extracting(RecentActivity.Entry::key).doesNotContain("late:9", "a:1");
    }

    @Test
    void manyKeysStayBoundedTheHeavyHitterStaysOnTopAndTheRankingSaysApproximate() {
        RecentActivity r = new RecentActivity();
        List<Event> burst = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            burst.add(event(T, i % 1000, "scan:" + i, null));
            if (i % 10 == 0) burst.add(event(T, i % 1000, "c2:4444", null));
        }
        count(r, burst.toArray(Event[]::new));
        RecentActivity.Window w = r.window(1, T * 1000 + 999, RecentActivity.KEYS);
        RecentActivity.Ranking d = w.top().get("destinations");
        assertThat(d.approximate()).isTrue();
        assertThat(d.entries()).hasSizeLessThanOrEqualTo(RecentActivity.KEYS);
        assertThat(d.entries().get(0).key()).isEqualTo("c2:4444");
        // Space-Saving never under-counts
        assertThat(d.entries().get(0).count()).isGreaterThanOrEqualTo(10_000);
        assertThat(w.events()).isEqualTo(110_000);
    }

    @Test
    void categoriesPerSecondAreCapped() {
        RecentActivity r = new RecentActivity();
        Event many = new Event(T * 1_000_000_000L, 1, 0, "c") {
            @Override
            public String monitor() {
                return "x";
            }

            @Override
            public String event() {
                return "x";
            }

            @Override
            public void writeFields(io.bpfwatch.event.FieldWriter w) {
            }

            @Override
            public void tally(Tally t) {
                for (int i = 0; i < 50; i++) t.add("c" + i, "k", 1);
                t.add("c0", null, 1);
                t.add("c0", "zero", 0);
            }
        };
        count(r, many);
        RecentActivity.Window w = r.window(1, T * 1000, 10);
        assertThat(w.top()).hasSize(RecentActivity.CATEGORIES);
        assertThat(w.top().get("c0").entries()).containsExactly(new RecentActivity.Entry("k", 1));
    }
}
