package io.bpfwatch.supervise;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Capped exponential backoff with ±20% jitter, so restarts of many hosts do not align. */
public record Backoff(Duration initial, Duration max) {
    public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60));

    /** Delay before retry number {@code failures} (1 = after the first failure). */
    public Duration delay(int failures) {
        double base = initial.toMillis() * Math.pow(2, Math.min(30, Math.max(0, failures - 1)));
        double capped = Math.min(base, max.toMillis());
        double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
        return Duration.ofMillis(Math.max(1, Math.round(Math.min(capped * jitter, max.toMillis()))));
    }

    /** From -Dbpfwatch.backoff.initial / .max (milliseconds), for tests; defaults otherwise. */
    public static Backoff fromSystemProperties() {
        long i = Long.getLong("bpfwatch.backoff.initial-ms", DEFAULT.initial.toMillis());
        long m = Long.getLong("bpfwatch.backoff.max-ms", DEFAULT.max.toMillis());
        return new Backoff(Duration.ofMillis(i), Duration.ofMillis(Math.max(i, m)));
    }
}
