package io.bpfwatch.monitor.dns;

import io.bpfwatch.monitor.MonitorSettings;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * monitors.dns: which server ports are DNS, which of them carry encrypted DNS (only the
 * connection is seen there), how long a query may wait for its response, how many
 * queries may wait at once, and which hooks take the bytes.
 */
public record DnsSettings(List<Integer> ports, List<Integer> tlsPorts, Duration timeout, int maxPending, Mode attach)
        implements MonitorSettings {
    public static final List<Integer> DEFAULT_PORTS = List.of(53, 853);
    /** DNS over TLS (RFC 7858) and over QUIC (RFC 9250) both use 853. */
    public static final List<Integer> DEFAULT_TLS_PORTS = List.of(853);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_PENDING = 65536;
    public static final DnsSettings DEFAULT = new DnsSettings(DEFAULT_PORTS, DEFAULT_TLS_PORTS, DEFAULT_TIMEOUT, DEFAULT_MAX_PENDING, Mode.AUTO);

    /** monitors.dns.attach */
    public enum Mode {
        /** fentry/fexit on the socket layer where the kernel has them, else the system-call tracepoints */
        AUTO("auto"),
        FENTRY("fentry"),
        /** the system-call tracepoints even where fentry works */
        TRACEPOINT("tracepoint");

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

    /** What the kernel side gets: per port 0 (not watched), 1 (DNS) or 2 (encrypted DNS). */
    public byte[] portKinds() {
        byte[] kinds = new byte[65536];
        for (int p : ports) kinds[p] = 1;
        for (int p : tlsPorts) if (kinds[p] != 0) kinds[p] = 2;
        return kinds;
    }
}
