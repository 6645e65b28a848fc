package io.bpfwatch.testkit;

import org.opentest4j.TestAbortedException;

/**
 * The one way a test is skipped. On a developer's machine a test whose needs are missing
 * (root, BPF, a tool, a kernel feature) is skipped with the reason; with
 * {@value #REQUIRE}=1 (set by .ci/run and by make test-vm) the same call fails it instead, so
 * in CI a skip is a failure and nothing passes by not running.
 */
public final class Skip {
    public static final String REQUIRE = "BPFWATCH_REQUIRE_BPF";

    private Skip() {
    }

    /** Skips (or, when required, fails) the running test because {@code why}. */
    public static RuntimeException because(String why) {
        if (required()) throw new AssertionError(why + " (" + REQUIRE + "=1: a skip is a failure)");
        throw new TestAbortedException(why);
    }

    /** Skips (or fails) unless {@code condition} holds. */
    public static void unless(boolean condition, String why) {
        if (!condition) because(why);
    }

    public static boolean required() {
        return "1".equals(System.getenv(REQUIRE));
    }
}
