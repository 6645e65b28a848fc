package io.bpfwatch.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code export.otlp}: events as OTLP log records and metrics as OTLP metrics, sent to a
 * collector beside the files and /metrics. Null in {@link DaemonConfig} when the section is
 * absent or disabled.
 *
 * @param endpoint   the collector: {@code http://host:4317} (grpc) or {@code http://host:4318}
 *                   (http/protobuf, /v1/logs and /v1/metrics are appended); https for TLS
 * @param monitors   the monitors whose events are sent; empty: all of them
 * @param queueSize  events waiting for the collector at most; beyond, counted lost{stage=export}
 */
public record OtlpConfig(URI endpoint, Protocol protocol, Map<String, String> headers, Tls tls, boolean gzip,
                         Duration timeout, boolean logs, boolean metrics, Duration metricsInterval, List<String> monitors,
                         int queueSize, int batchSize, Map<String, String> resource) {
    public enum Protocol {
        GRPC("grpc", 4317), HTTP_PROTOBUF("http/protobuf", 4318);

        public final String word;
        public final int defaultPort;

        Protocol(String word, int defaultPort) {
            this.word = word;
            this.defaultPort = defaultPort;
        }
    }

    /** Files: the CA that signed the collector's certificate (else the system's), and a client certificate and key. */
    public record Tls(Path ca, Path cert, Path key) {
    }

    public static final int DEFAULT_QUEUE = 65536, DEFAULT_BATCH = 512;

    /** Whether {@code monitor}'s events are sent. */
    public boolean selects(String monitor) {
        return logs && (monitors.isEmpty() || monitors.contains(monitor));
    }
}
