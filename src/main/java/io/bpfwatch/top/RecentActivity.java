package io.bpfwatch.top;

import io.bpfwatch.event.Event;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One monitor's last seconds as {@code bpfwatch top} shows them: events written per second and,
 * per category its events name ("destinations", "names", ...), the keys that came up most.
 * Memory is bounded whatever the events: {@value #SECONDS} one-second slots, each keeping at most
 * {@value #KEYS} keys per category by the Space-Saving algorithm (a new key takes the place of
 * the least counted one and inherits its count, so a key's count is never under its true one
 * and a slot that evicted says it is approximate). Slots are indexed by the events' own time.
 * Filled by the monitor's log writer, a batch at a time under this object's lock; read by the
 * HTTP thread.
 */
public final class RecentActivity implements Event.Tally {
    /** Slots kept: the longest window asked for is one less (the current second is partial). */
    public static final int SECONDS = 12;
    public static final int MAX_WINDOW = SECONDS - 2;
    /** Keys per category per second. */
    public static final int KEYS = 32;
    /** Categories an event kind may use per second (more are ignored). */
    static final int CATEGORIES = 4;

    private final Second[] ring = new Second[SECONDS];
    private Second current;

    /** Counts written events {@code idx[0..n)} of {@code batch}. */
    public synchronized void count(List<Event> batch, int[] idx, int n) {
        for (int i = 0; i < n; i++) count1(batch.get(idx[i]));
    }

    public synchronized void count(Event e) {
        count1(e);
    }

    private void count1(Event e) {
        long s = Math.floorDiv(e.time, 1_000_000_000L);
        int i = (int) Math.floorMod(s, SECONDS);
        Second x = ring[i];
        if (x == null) ring[i] = x = new Second(s);
        else if (x.second != s) {
            // an event older than the slot's second (a late one, over SECONDS behind) is not ranked
            if (s < x.second) return;
            x.reset(s);
        }
        current = x;
        x.events++;
        e.tally(this);
    }

    @Override
    public void add(String category, String key, long weight) {
        if (current != null && key != null && weight > 0) current.add(category, key, weight);
    }

    /** One ranked key: its count over the window (an upper bound when the window is approximate). */
    public record Entry(String key, long count) {
    }

    public record Ranking(boolean approximate, List<Entry> entries) {
    }

    /** Events and rankings from the start of second {@code now - seconds} to now. */
    public record Window(double seconds, long events, Map<String, Ranking> top) {
        public double perSecond() {
            return seconds <= 0 ? 0 : events / seconds;
        }
    }

    /**
     * The last {@code seconds} whole seconds and the current partial one (1 to
     * {@link #MAX_WINDOW}); the top {@code n} keys of each category.
     */
    public synchronized Window window(int seconds, long nowMillis, int n) {
        seconds = Math.max(1, Math.min(MAX_WINDOW, seconds));
        long nowSecond = Math.floorDiv(nowMillis, 1000L);
        long from = nowSecond - seconds;
        long events = 0;
        Map<String, Map<String, Long>> sums = new LinkedHashMap<>();
        Map<String, Boolean> approximate = new HashMap<>();
        for (Second x : ring) {
            if (x == null || x.second < from || x.second > nowSecond) continue;
            events += x.events;
            for (Map.Entry<String, Table> c : x.categories.entrySet()) {
                Map<String, Long> sum = sums.computeIfAbsent(c.getKey(), k -> new HashMap<>());
                c.getValue().counts.forEach((k, v) -> sum.merge(k, v[0], Long::sum));
                if (c.getValue().evicted) approximate.put(c.getKey(), true);
            }
        }
        // the busiest category first (destinations before alerting, names before failures)
        List<Map.Entry<String, Map<String, Long>>> categories = new ArrayList<>(sums.entrySet());
        categories.sort(java.util.Comparator.comparingLong((Map.Entry<String, Map<String, Long>> c) ->
                -c.getValue().values().stream().mapToLong(Long::longValue).sum()).thenComparing(Map.Entry::getKey));
        Map<String, Ranking> top = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Long>> c : categories) {
            List<Entry> entries = new ArrayList<>();
            c.getValue().forEach((k, v) -> entries.add(new Entry(k, v)));
            entries.sort((a, b) -> a.count != b.count ? Long.compare(b.count, a.count) : a.key.compareTo(b.key));
            top.put(c.getKey(), new Ranking(approximate.getOrDefault(c.getKey(), false),
                    List.copyOf(entries.subList(0, Math.min(n, entries.size())))));
        }
        return new Window((nowMillis - from * 1000L) / 1000.0, events, top);
    }

    private static final class Second {
        long second;
        long events;
        final Map<String, Table> categories = new LinkedHashMap<>(8);

        Second(long second) {
            this.second = second;
        }

        void reset(long s) {
            second = s;
            events = 0;
            for (Table t : categories.values()) t.clear();
        }

        void add(String category, String key, long weight) {
            Table t = categories.get(category);
            if (t == null) {
                if (categories.size() >= CATEGORIES) return;
                categories.put(category, t = new Table());
            }
            t.add(key, weight);
        }
    }

    /** Space-Saving over at most {@link #KEYS} keys. */
    private static final class Table {
        final HashMap<String, long[]> counts = new HashMap<>(64);
        boolean evicted;

        void clear() {
            counts.clear();
            evicted = false;
        }

        void add(String key, long weight) {
            long[] c = counts.get(key);
            if (c != null) {
                c[0] += weight;
                return;
            }
            if (counts.size() < KEYS) {
                counts.put(key, new long[] {weight});
                return;
            }
            String least = null;
            long min = Long.MAX_VALUE;
            for (Map.Entry<String, long[]> e : counts.entrySet()) {
                if (e.getValue()[0] < min) {
                    min = e.getValue()[0];
                    least = e.getKey();
                }
            }
            long[] slot = counts.remove(least);
            slot[0] = min + weight;
            counts.put(key, slot);
            evicted = true;
        }
    }
}
