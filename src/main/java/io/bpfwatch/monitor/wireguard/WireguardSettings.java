package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.monitor.MonitorSettings;

import java.time.Duration;

/**
 * monitors.wireguard: how often each peer's summary is logged, how many peers get series of
 * their own, and which kind of hook to attach with.
 */
public record WireguardSettings(Duration interval, int maxPeers, Attach attach) implements MonitorSettings {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_PEERS = 256;
    public static final WireguardSettings DEFAULT = new WireguardSettings(DEFAULT_INTERVAL, DEFAULT_MAX_PEERS, Attach.AUTO);

    /** monitors.wireguard.attach */
    public enum Attach {
        /** fentry/fexit where the kernel has them, else kprobes */
        AUTO("auto"),
        FENTRY("fentry"),
        /** kprobes even where fentry works: they do not pin the module, so `rmmod wireguard` works */
        KPROBE("kprobe");

        public final String word;

        Attach(String word) {
            this.word = word;
        }

        static Attach of(String word) {
            for (Attach a : values()) if (a.word.equals(word)) return a;
            return null;
        }
    }
}
