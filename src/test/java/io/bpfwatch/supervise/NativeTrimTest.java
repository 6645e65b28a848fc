package io.bpfwatch.supervise;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NativeTrimTest {
    private static final long S = 1_000_000_000L;

    /** Feeds looks 5 s apart: the process's CPU per look and the JIT's compile time. */
    private static final class Feed {
        final NativeTrim trim = new NativeTrim();
        long now = 100 * S, cpu, compile;

        /** Past the first look and the quiet one after it that gives the start's memory back. */
        static Feed afterStart() {
            Feed f = new Feed();
            f.trim.due(f.now, f.cpu, f.compile);
            assertThat(f.look(0.001, 0)).isTrue();
            return f;
        }

        boolean look(double cpuFractionOfOneCpu, long compiledMillis) {
            now += 5 * S;
            cpu += (long) (cpuFractionOfOneCpu * 5 * S);
            compile += compiledMillis;
            return trim.due(now, cpu, compile);
        }
    }

    @Test
    void whatTheStartLeftIsGivenBackAtTheFirstQuietLookThenAnIdleDaemonNeverTrims() {
        Feed f = new Feed();
        assertThat(f.trim.due(f.now, f.cpu, f.compile)).as("the first look only starts counting").isFalse();
        assertThat(f.look(0.003, 0)).as("quiet after the start").isTrue();
        for (int i = 0; i < 100; i++) assertThat(f.look(0.003, 0)).as("idle, look %d", i).isFalse();
    }

    @Test
    void aBusyDaemonTrimsOnceAMinuteAndOnceMoreWhenItGoesQuiet() {
        Feed f = Feed.afterStart();
        int trims = 0;
        for (int i = 0; i < 36; i++) if (f.look(0.4, 3)) trims++; // three minutes of a storm, compiling too
        assertThat(trims).as("in 3 minutes of load").isEqualTo(3);
        assertThat(f.look(0.002, 0)).as("the first quiet look after it").isTrue();
        assertThat(f.look(0.002, 0)).isFalse();
    }

    @Test
    void aDaemonStartedUnderLoadTrimsWhenItsJitGoesQuietNotAMinuteLater() {
        Feed f = new Feed();
        f.trim.due(f.now, f.cpu, f.compile);
        assertThat(f.look(0.5, 400)).as("warming up under load").isFalse();
        assertThat(f.look(0.5, 90)).as("still compiling").isFalse();
        assertThat(f.look(0.4, 0)).as("the JIT has gone quiet: its arenas are given back").isTrue();
        for (int i = 0; i < 10; i++) assertThat(f.look(0.4, 0)).as("busy, look %d", i).isFalse();
        assertThat(f.look(0.4, 2)).as("a late compile").isFalse();
        assertThat(f.look(0.4, 0)).as("quiet after it again").isTrue();
        int trims = 0;
        for (int i = 0; i < 12; i++) if (f.look(0.4, 0)) trims++;
        assertThat(trims).as("a minute of load with no compiles").isEqualTo(1);
    }

    @Test
    void aCompileWhileQuietIsGivenBackAtTheNextLook() {
        Feed f = Feed.afterStart();
        assertThat(f.look(0.004, 0)).isFalse();
        assertThat(f.look(0.004, 12)).as("a scrape's first compiles").isTrue();
        assertThat(f.look(0.004, 0)).isFalse();
    }

    @Test
    void busyIsMoreThanTwoPercentOfACpuOverTheTimeSinceTheLastLook() {
        Feed f = Feed.afterStart();
        assertThat(f.look(0.019, 0)).as("1.9 %: quiet, nothing to give back").isFalse();
        assertThat(f.look(0.05, 0)).as("5 %: busy, a minute not yet past").isFalse();
        assertThat(f.look(0.001, 0)).as("quiet again after it").isTrue();
    }

    @Test
    void glibcsMallocTrimIsBoundAndAnswers() {
        assertThat(NativeTrim.Glibc.load()).as("Debian's C library is glibc").isTrue();
        assertThat(NativeTrim.Glibc.malloc_trim(0)).as("1: memory given back, 0: none").isBetween(0, 1);
    }
}
