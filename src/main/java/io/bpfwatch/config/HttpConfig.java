package io.bpfwatch.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where /metrics, /monitors and the health endpoints listen, and how they are protected:
 * optional TLS and optional basic auth with bcrypt hashes (as Prometheus exporters' web
 * config does).
 */
public record HttpConfig(String host, int port, Tls tls, Map<String, String> basicAuth) {
    public static final HttpConfig DEFAULT = new HttpConfig("127.0.0.1", 9476, null, Map.of());

    public HttpConfig(String host, int port) {
        this(host, port, null, Map.of());
    }

    /** PEM certificate chain and private key. */
    public record Tls(Path cert, Path key) {
    }

    public String listen() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    public String scheme() {
        return tls == null ? "http" : "https";
    }
}
