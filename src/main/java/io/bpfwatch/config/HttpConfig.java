package io.bpfwatch.config;

/** Where /metrics, /monitors and the health endpoints listen. */
public record HttpConfig(String host, int port) {
    public static final HttpConfig DEFAULT = new HttpConfig("127.0.0.1", 9476);

    public String listen() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
