package io.bpfwatch.http;

import io.bpfwatch.Daemon;

/** The running daemon, for HTTP handlers that exist before it does. */
public final class DaemonHolder {
    private static volatile Daemon daemon;

    private DaemonHolder() {}

    public static Daemon get() {
        return daemon;
    }

    public static void set(Daemon d) {
        daemon = d;
    }
}
