package io.bpfwatch.systemd;

import io.bpfwatch.libbpf.LibC;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;

/**
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (a leading '@' means an
 * abstract socket). Does nothing when not started by systemd with Type=notify.
 */
public final class SdNotify {
    private static final Logger LOG = Logger.getLogger(SdNotify.class);
    private final String socketPath;
    private boolean warned;

    public SdNotify(String socketPath) {
        this.socketPath = socketPath == null || socketPath.isEmpty() ? null : socketPath;
    }

    public static SdNotify fromEnvironment() {
        return new SdNotify(System.getenv("NOTIFY_SOCKET"));
    }

    public boolean enabled() {
        return socketPath != null;
    }

    /** Watchdog interval systemd expects pings within, or 0 if none (WATCHDOG_USEC, WATCHDOG_PID). */
    public static long watchdogMicros() {
        String usec = System.getenv("WATCHDOG_USEC");
        if (usec == null) return 0;
        String pid = System.getenv("WATCHDOG_PID");
        if (pid != null && !pid.equals(String.valueOf(ProcessHandle.current().pid()))) return 0;
        try {
            return Long.parseLong(usec);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public synchronized void send(String state) {
        if (socketPath == null) return;
        byte[] path = socketPath.getBytes(StandardCharsets.UTF_8);
        if (path.length > 107) {
            warnOnce("NOTIFY_SOCKET path is too long");
            return;
        }
        // struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; }
        byte[] addr = new byte[2 + path.length + 1];
        addr[0] = (byte) LibC.AF_UNIX;
        System.arraycopy(path, 0, addr, 2, path.length);
        int len = 2 + path.length + 1;
        if (path[0] == '@') {
            addr[2] = 0;
            len = 2 + path.length; // abstract: no trailing NUL
        }
        int fd = LibC.socket(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            warnOnce("cannot create a socket for sd_notify");
            return;
        }
        try {
            byte[] msg = state.getBytes(StandardCharsets.UTF_8);
            if (LibC.sendto(fd, msg, msg.length, LibC.MSG_NOSIGNAL, addr, len) < 0) {
                warnOnce("sd_notify to " + socketPath + " failed: errno " + LibC.errno());
            }
        } finally {
            LibC.close(fd);
        }
    }

    private void warnOnce(String what) {
        if (!warned) LOG.warn(what);
        warned = true;
    }
}
