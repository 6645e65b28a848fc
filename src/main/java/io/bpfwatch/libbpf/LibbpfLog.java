package io.bpfwatch.libbpf;

import com.sun.jna.Pointer;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;

/**
 * Routes libbpf's printouts to our log and captures them per thread while an operation runs,
 * so a failed load carries its verifier log and CO-RE messages inside the exception.
 */
public final class LibbpfLog {
    private static final Logger LOG = Logger.getLogger("io.bpfwatch.libbpf");
    private static final ThreadLocal<StringBuilder> CAPTURE = new ThreadLocal<>();
    private static final int MAX_CAPTURE = 256 * 1024;
    // Held strongly: libbpf keeps the function pointer for the life of the process.
    private static final LibBpf.PrintFn PRINT = LibbpfLog::print;
    private static volatile boolean installed;

    private LibbpfLog() {}

    public static synchronized void install() {
        if (installed) return;
        LibBpf.libbpf_set_print(PRINT);
        installed = true;
    }

    /** Start capturing on this thread; returns what was captured by {@link #end()}. */
    static void begin() {
        install();
        CAPTURE.set(new StringBuilder());
    }

    static String end() {
        StringBuilder sb = CAPTURE.get();
        CAPTURE.remove();
        return sb == null ? "" : sb.toString();
    }

    /** The text captured so far on this thread, without ending the capture. */
    static String current() {
        StringBuilder sb = CAPTURE.get();
        return sb == null ? "" : sb.toString();
    }

    // A va_list can be formatted only once, so the buffer must fit a whole verifier log.
    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[1 << 20]);

    private static int print(int level, Pointer format, Pointer args) {
        try {
            byte[] buf = BUFFER.get();
            int n = LibC.vsnprintf(buf, buf.length, format, args);
            if (n < 0) return 0;
            String text = new String(buf, 0, Math.min(n, buf.length - 1), StandardCharsets.UTF_8);
            if (n >= buf.length) text += "\n[libbpf message truncated at " + buf.length + " bytes]\n";
            StringBuilder sb = CAPTURE.get();
            if (sb != null && level <= LibBpf.LIBBPF_INFO && sb.length() < MAX_CAPTURE) {
                sb.append(text);
            }
            String line = text.stripTrailing();
            if (level == LibBpf.LIBBPF_WARN) {
                // Failures are reported once, in the exception that carries this text.
                if (sb == null) LOG.warn(line); else LOG.debug(line);
            } else if (level == LibBpf.LIBBPF_INFO) {
                LOG.debug(line);
            } else {
                LOG.trace(line);
            }
        } catch (Throwable t) {
            // never unwind into libbpf
        }
        return 0;
    }
}
