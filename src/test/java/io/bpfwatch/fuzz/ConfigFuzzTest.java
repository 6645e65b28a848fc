package io.bpfwatch.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.bpfwatch.config.ConfigError;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.monitor.MonitorCatalog;

/**
 * The config loader faces whatever is in the file: it either returns a config or reports
 * positioned errors, never anything else. Regression inputs (every crash found) live in
 * src/test/resources/io/bpfwatch/fuzz/ConfigFuzzTestInputs; `make fuzz` fuzzes for real.
 */
class ConfigFuzzTest {
    private static final ConfigLoader LOADER = new ConfigLoader(MonitorCatalog.builtin());

    @FuzzTest(maxDuration = "30s")
    void anyTextEitherLoadsOrGivesPositionedErrors(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
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
