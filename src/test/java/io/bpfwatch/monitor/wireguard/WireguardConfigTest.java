package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.wireguard.WireguardSettings.Mode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** monitors.wireguard in the config file and the shipped default (bad values: configs/bad/wireguard-*.yaml). */
class WireguardConfigTest {
    private final ConfigLoader loader = new ConfigLoader(MonitorCatalog.builtin());

    @Test
    void everyKeyIsRead() throws Exception {
        DaemonConfig c = loader.load(Path.of(WireguardConfigTest.class.getResource("/configs/good/wireguard.yaml").toURI()));
        MonitorConfig wg = c.monitors().get("wireguard");
        assertThat(wg.enabled()).isTrue();
        assertThat(wg.settings()).isEqualTo(new WireguardSettings(Duration.ofSeconds(10), 1000, Mode.KPROBE));
    }

    @Test
    void defaultsAre30sIntervalAnd256PeersAttachedAsTheKernelAllows() throws Exception {
        DaemonConfig c = loader.parse("test.yaml", "monitors:\n  wireguard: {}\n");
        assertThat(c.monitors().get("wireguard").settings()).isEqualTo(WireguardSettings.DEFAULT)
                .isEqualTo(new WireguardSettings(Duration.ofSeconds(30), 256, Mode.AUTO));
    }

    @Test
    void theShippedConfigEnablesWireguard() throws Exception {
        DaemonConfig c = loader.load(Path.of("packaging/bpfwatch.yaml"));
        MonitorConfig wg = c.monitors().get("wireguard");
        assertThat(wg).isNotNull();
        assertThat(wg.enabled()).isTrue();
        assertThat(wg.settings()).isEqualTo(WireguardSettings.DEFAULT);
    }
}
