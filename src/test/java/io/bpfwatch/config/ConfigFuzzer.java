package io.bpfwatch.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.bpfwatch.monitor.MonitorCatalog;

/**
 * The config loader faces whatever is in the file: it either returns a config or reports
 * positioned errors, never anything else. Surefire fuzzes it in its own JVM for a bounded
 * time (pom.xml: config-fuzz); crashes found become regression inputs in ConfigFuzzerInputs.
 */
class ConfigFuzzer {
    private static final ConfigLoader LOADER = new ConfigLoader(MonitorCatalog.builtin());

    @FuzzTest(maxDuration = "30s")
    void anyTextEitherLoadsOrGivesPositionedErrors(byte[] data) {
        // the seeds are real config files (ConfigFuzzerInputs); the loader reads UTF-8
        String text = new String(data, java.nio.charset.StandardCharsets.UTF_8);
        try {
            LOADER.parse("fuzz.yaml", text);
        } catch (ConfigException e) {
            if (e.errors().isEmpty()) throw new AssertionError("a ConfigException without errors");
            for (ConfigError err : e.errors()) {
                if (err.line() < 1 || err.column() < 1) throw new AssertionError("error without a position: " + err);
                if (err.message().isBlank()) throw new AssertionError("error without a message: " + err);
            }
        }
    }
}
