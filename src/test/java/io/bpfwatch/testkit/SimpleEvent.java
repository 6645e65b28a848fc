package io.bpfwatch.testkit;

import io.bpfwatch.event.Event;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;

import java.io.IOException;

/** An event made up by a test (sinks and encoders do not care where events come from). */
public final class SimpleEvent extends Event {
    private static final Name SEQ = Name.of("seq"), TEXT = Name.of("text");
    public final long seq;
    public final String text;

    public SimpleEvent(long time, int pid, String comm, long seq, String text) {
        super(time, pid, 1000, comm);
        this.seq = seq;
        this.text = text;
    }

    public SimpleEvent(long seq) {
        this(1_795_000_000_000_000_000L + seq, 42, "test", seq, "x".repeat(64));
    }

    @Override
    public String monitor() {
        return "sim";
    }

    @Override
    public String event() {
        return "sample";
    }

    @Override
    public void writeFields(FieldWriter w) {
        w.field(SEQ, seq);
        w.field(TEXT, text);
    }
}
