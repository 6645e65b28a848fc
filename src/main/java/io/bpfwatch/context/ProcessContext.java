package io.bpfwatch.context;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;

/**
 * Who is behind an event beyond pid and comm. Immutable and shared: every event of one process
 * (while its parent, cgroup and exe stay the same) carries the same instance. A field that is
 * not known or not asked for is null (ppid: 0) and not written.
 */
public final class ProcessContext {
    private static final com.fasterxml.jackson.core.JsonFactory FACTORY = com.fasterxml.jackson.core.JsonFactory.builder().build();
    private static final SerializedString PPID = new SerializedString("ppid"), PCOMM = new SerializedString("pcomm"),
            EXE = new SerializedString("exe"), CGROUP = new SerializedString("cgroup"), UNIT = new SerializedString("unit"),
            CONTAINER = new SerializedString("container"), POD = new SerializedString("pod");

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
     * The fields after the common ones (pid, uid, comm). Encoded once per context and copied
     * into each line after that: every event of a process shares this object, so its fields
     * cost one copy per line instead of five escaped strings.
     */
    public void write(JsonGenerator g) throws IOException {
        SerializedString f = fragment;
        if (f == null) fragment = f = encode();
        if (f.charLength() > 0) g.writeRaw(f);
    }

    private volatile SerializedString fragment;

    /** ",\"ppid\":1,\"pcomm\":\"init\",..." as Jackson writes those fields (its escaping), or "". */
    private SerializedString encode() throws IOException {
        java.io.StringWriter w = new java.io.StringWriter(128);
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            g.writeStartObject();
            writeFields(g);
            g.writeEndObject();
        }
        String object = w.toString(); // {"ppid":...}
        return new SerializedString(object.length() <= 2 ? "" : "," + object.substring(1, object.length() - 1));
    }

    private void writeFields(JsonGenerator g) throws IOException {
        if (ppid > 0) {
            g.writeFieldName(PPID);
            g.writeNumber(ppid);
            if (pcomm != null) {
                g.writeFieldName(PCOMM);
                g.writeString(pcomm);
            }
        }
        field(g, EXE, exe);
        field(g, CGROUP, cgroup);
        field(g, UNIT, unit);
        field(g, CONTAINER, container);
        field(g, POD, pod);
    }

    private static void field(JsonGenerator g, SerializedString name, String value) throws IOException {
        if (value == null) return;
        g.writeFieldName(name);
        g.writeString(value);
    }

    @Override
    public String toString() {
        return "ProcessContext[ppid=" + ppid + ", pcomm=" + pcomm + ", exe=" + exe + ", cgroup=" + cgroup + ", unit=" + unit
                + ", container=" + container + ", pod=" + pod + "]";
    }
}
