package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.monitor.MonitorSettings;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * monitors.wireguard: how often each peer's summary is logged, how many peers get series of
 * their own, and which kind of hook to attach with.
 */
public record WireguardSettings(Duration interval, int maxPeers, Mode attach) implements MonitorSettings {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_PEERS = 256;
    public static final WireguardSettings DEFAULT = new WireguardSettings(DEFAULT_INTERVAL, DEFAULT_MAX_PEERS, Mode.AUTO);

    /** monitors.wireguard.attach */
    public enum Mode {
        /** fentry/fexit where the kernel has them, else kprobes */
        AUTO("auto"),
        FENTRY("fentry"),
        /** kprobes even where fentry works: they do not pin the module, so `rmmod wireguard` works */
        KPROBE("kprobe");

        public final String word;

        Mode(String word) {
            this.word = word;
        }

        static final List<String> WORDS = Arrays.stream(values()).map(m -> m.word).toList();

        static Mode of(String word) {
            for (Mode a : values()) if (a.word.equals(word)) return a;
            throw new IllegalArgumentException(word);
        }
    }
}
