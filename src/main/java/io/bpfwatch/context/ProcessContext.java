package io.bpfwatch.context;

import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;
import io.bpfwatch.event.JsonLineEncoder;

/**
 * Who is behind an event beyond pid and comm. Immutable and shared: every event of one process
 * (while its parent, cgroup and exe stay the same) carries the same instance. A field that is
 * not known or not asked for is null (ppid: 0) and not written.
 */
public final class ProcessContext {
    private static final Name PPID = Name.of("ppid"), PCOMM = Name.of("pcomm"), EXE = Name.of("exe"), CGROUP = Name.of("cgroup"),
            UNIT = Name.of("unit"), CONTAINER = Name.of("container"), POD = Name.of("pod");

    public final int ppid;
    public final String pcomm;
    public final String exe;
    public final String cgroup;
    public final String unit;
    public final String container;
    public final String pod;

    public ProcessContext(int ppid, String pcomm, String exe, String cgroup, String unit, String container, String pod) {
        this.ppid = ppid;
        this.pcomm = pcomm;
        this.exe = exe;
        this.cgroup = cgroup;
        this.unit = unit;
        this.container = container;
        this.pod = pod;
    }

    /**
     * The fields after the common ones (pid, uid, comm) as JSON: {@code ,"ppid":1,"pcomm":"init",...},
     * or nothing. Encoded once per context and copied into each line after that: every event of a
     * process shares this object, so its fields cost one copy per line instead of five escaped
     * strings.
     */
    public byte[] json() {
        byte[] j = json;
        if (j == null) json = j = encode();
        return j;
    }

    private volatile byte[] json;

    private byte[] encode() {
        JsonLineEncoder e = new JsonLineEncoder(256);
        e.startObject();
        writeFields(e);
        e.endObject();
        int n = e.size(); // {"ppid":...}
        if (n <= 2) return new byte[0];
        byte[] b = java.util.Arrays.copyOf(e.array(), n - 1);
        b[0] = ',';
        return b;
    }

    private void writeFields(FieldWriter w) {
        if (ppid > 0) {
            w.field(PPID, ppid);
            if (pcomm != null) w.field(PCOMM, pcomm);
        }
        field(w, EXE, exe);
        field(w, CGROUP, cgroup);
        field(w, UNIT, unit);
        field(w, CONTAINER, container);
        field(w, POD, pod);
    }

    private static void field(FieldWriter w, Name name, String value) {
        if (value != null) w.field(name, value);
    }

    @Override
    public String toString() {
        return "ProcessContext[ppid=" + ppid + ", pcomm=" + pcomm + ", exe=" + exe + ", cgroup=" + cgroup + ", unit=" + unit
                + ", container=" + container + ", pod=" + pod + "]";
    }
}
