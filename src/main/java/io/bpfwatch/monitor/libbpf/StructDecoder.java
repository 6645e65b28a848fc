package io.bpfwatch.monitor.libbpf;

import io.bpfwatch.event.Fields;
import io.bpfwatch.event.FieldsEvent;
import io.bpfwatch.event.WallClock;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.monitor.Decoder;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes the records of one ring buffer as one struct of the object's BTF, every member a field
 * of the event (BtfReader). A record shorter than the struct is refused and counted: the object
 * and its config disagree. When the struct has pid, uid and comm members they are the event's
 * process fields; {@code time} (a member holding bpf_ktime_get_ns()) is its time, else the time
 * it was read.
 */
final class StructDecoder implements Decoder<FieldsEvent> {
    private final String monitor;
    private final String event;
    private final String struct;
    private final BtfReader.Struct reader;
    private final BtfReader.Member time, pid, uid, comm;

    StructDecoder(Btf btf, String monitor, LibbpfSettings.Events spec) {
        int id = btf.find(spec.struct(), Btf.KIND_STRUCT);
        if (id < 0) throw new IllegalArgumentException("the object's BTF has no struct " + spec.struct());
        Map<String, String> decoders = new LinkedHashMap<>(spec.fields());
        this.monitor = monitor;
        this.event = spec.name();
        this.struct = spec.struct();
        BtfReader.Struct all = (BtfReader.Struct) BtfReader.of(btf, id, decoders, "");
        time = spec.time() == null ? null : all.member(spec.time());
        BtfReader.Member p = all.member("pid"), u = all.member("uid"), c = all.member("comm");
        boolean process = p != null && u != null && c != null && p.reader() instanceof BtfReader.Int
                && u.reader() instanceof BtfReader.Int && c.reader() instanceof BtfReader.Chars;
        pid = process ? p : null;
        uid = process ? u : null;
        comm = process ? c : null;
        java.util.List<BtfReader.Member> fields = new java.util.ArrayList<>();
        for (BtfReader.Member m : all.members) {
            if (m == time || (process && (m == p || m == u || m == c))) continue;
            fields.add(m);
        }
        reader = new BtfReader.Struct(all.size, fields);
    }

    @Override
    public FieldsEvent decode(ByteBuffer b, int off, int len) throws Refused {
        if (len < reader.size) throw new Refused("a record of " + len + " bytes, but struct " + struct + " is " + reader.size);
        Map<String, Object> fields = new Fields(reader.members.size());
        reader.readInto(b, off, fields);
        long at = time == null ? WallClock.toEpochNanos(System.nanoTime())
                : WallClock.toEpochNanos(b.getLong(off + time.offset()));
        if (pid == null) return new FieldsEvent(at, monitor, event, fields, reader.size);
        return new FieldsEvent(at, (int) BtfReader.readInt(b, off + pid.offset(), pid.reader().size, true),
                (int) BtfReader.readInt(b, off + uid.offset(), uid.reader().size, false),
                (String) comm.reader().read(b, off + comm.offset()), monitor, event, fields, reader.size);
    }
}
