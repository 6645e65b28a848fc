package io.bpfwatch.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The JVM's and the process's meters on the daemon's registry, and the two left out for their names. */
class JvmMetersTest {
    @Test
    void theJvmAndProcessMetersAreThereButTheTwoBadlyNamedOnes() {
        String text = JvmMeters.registry().scrape();
        assertThat(text).contains("jvm_info_total{runtime=\"" + System.getProperty("java.runtime.name") + "\",vendor=\"" + System.getProperty("java.vm.vendor")
                        + "\",version=\"" + System.getProperty("java.runtime.version") + "\",} 1.0\n")
                .contains("\njvm_memory_used_bytes{area=\"heap\"").contains("\njvm_threads_live_threads ").contains("\njvm_classes_loaded_classes ")
                .contains("\njvm_gc_collections_total{gc=\"").contains("\njvm_gc_collection_seconds_total{gc=\"")
                .contains("\nprocess_uptime_seconds ").contains("\nprocess_start_time_seconds ").contains("\nprocess_files_open_files ")
                .contains("\nprocess_cpu_usage ").contains("\nsystem_cpu_usage ").contains("\nsystem_load_average_1m ")
                .doesNotContain("system_cpu_count").doesNotContain("process_cpu_time");
    }
}
