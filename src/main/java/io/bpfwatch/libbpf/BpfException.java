package io.bpfwatch.libbpf;

/**
 * A libbpf or bpf() failure: what was being done, the errno, and (for a rejected program or a
 * failed CO-RE relocation) the log libbpf printed while doing it.
 */
public class BpfException extends Exception {
    private final int errno;
    private final String log;

    public BpfException(String what, int errno, String log) {
        super(what + ": " + Errno.name(errno) + (log == null || log.isBlank() ? "" : "\n" + excerpt(log)));
        this.errno = Math.abs(errno);
        this.log = log == null ? "" : log;
    }

    public BpfException(String what, int errno) {
        this(what, errno, null);
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }

    /** Everything libbpf printed during the failed operation (verifier log included). */
    public String log() {
        return log;
    }

    /** The end of a verifier log says why; keep the message readable but useful. */
    static String excerpt(String log) {
        String[] lines = log.strip().split("\n");
        int keep = 25;
        if (lines.length <= keep) return log.strip();
        StringBuilder sb = new StringBuilder("... (" + (lines.length - keep) + " earlier lines of the libbpf log omitted)\n");
        for (int i = lines.length - keep; i < lines.length; i++) sb.append(lines[i]).append('\n');
        return sb.toString().strip();
    }
}
