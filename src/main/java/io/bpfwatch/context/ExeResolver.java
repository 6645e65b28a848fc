package io.bpfwatch.context;

import com.sun.jna.Memory;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfMap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's executable path, for a pid and the process's start time (which tells a reused pid
 * apart). First from the object's {@code bw_exe} map, which the kernel fills at every execve
 * while the monitor runs (so a process that has exited since is still named), then from
 * {@code /proc/PID/exe} for processes started before that, checked against
 * {@code /proc/PID/stat}'s start time. Null when neither knows: a process that came and went
 * before the monitor was loaded, or one the daemon may not inspect.
 */
public final class ExeResolver {
    /** USER_HZ: /proc/PID/stat's start time is in these ticks on every architecture Linux has. */
    private static final long NANOS_PER_TICK = 1_000_000_000L / 100;
    /** struct bw_exe (monitors/include/bpfwatch.h). */
    public static final int START = 0, PATH = 8, PATH_LEN = 256, VALUE_SIZE = PATH + PATH_LEN;

    private final Path proc;
    private BpfMap map;
    private Memory key;
    private Memory value;

    public ExeResolver(Path proc) {
        this.proc = proc;
    }

    /** The loaded object's {@code bw_exe} map, or null once it is closed. Reader thread only. */
    public void bind(BpfMap exeMap) {
        this.map = exeMap;
        if (exeMap != null && key == null) {
            key = new Memory(4);
            value = new Memory(VALUE_SIZE);
        }
    }

    public String exe(int pid, long startNs) {
        String fromMap = fromMap(pid, startNs);
        if (fromMap != null && fromMap.startsWith("/")) return fromMap;
        String fromProc = fromProc(pid, startNs);
        return fromProc != null ? fromProc : fromMap; // a relative path as execve was given it beats none
    }

    private String fromMap(int pid, long startNs) {
        if (map == null) return null;
        key.setInt(0, pid);
        try {
            if (!map.lookup(key, value)) return null;
        } catch (BpfException e) {
            return null;
        }
        if (value.getLong(START) != startNs) return null;
        byte[] b = value.getByteArray(PATH, PATH_LEN);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return n == 0 ? null : new String(b, 0, n, StandardCharsets.UTF_8);
    }

    String fromProc(int pid, long startNs) {
        Path dir = proc.resolve(Integer.toString(pid));
        try {
            String exe = Files.readSymbolicLink(dir.resolve("exe")).toString();
            if (startNs != 0 && startTicks(Files.readString(dir.resolve("stat"), StandardCharsets.ISO_8859_1)) != startNs / NANOS_PER_TICK) {
                return null; // the pid has been reused since
            }
            return exe;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Field 22 of /proc/PID/stat, counted after the command name (which may hold spaces and parentheses). */
    static long startTicks(String stat) {
        int i = stat.lastIndexOf(')');
        if (i < 0) return -1;
        String[] f = stat.substring(i + 2).trim().split(" ");
        // f[0] is field 3 (state): field 22 is f[19]
        return f.length > 19 ? Long.parseLong(f[19]) : -1;
    }
}
