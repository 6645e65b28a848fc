package io.bpfwatch.monitor.dns;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds DNS messages byte by byte, hostile ones included. */
final class Packets {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static Packets header(int id, int flags, int qd, int an, int ns, int ar) {
        return new Packets().u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }

    static byte[] query(int id, String name, int qtype) {
        return header(id, 0x0100, 1, 0, 0, 0).name(name).u16(qtype).u16(1).bytes();
    }

    /** A response to {@link #query}: the question, then A/AAAA answers pointing back at it. */
    static byte[] response(int id, int rcode, String name, int qtype, byte[]... addresses) {
        Packets p = header(id, 0x8180 | rcode, 1, addresses.length, 0, 0).name(name).u16(qtype).u16(1);
        for (byte[] a : addresses) p.u16(0xc00c).u16(a.length == 4 ? 1 : 28).u16(1).u32(300).u16(a.length).raw(a);
        return p.bytes();
    }

    Packets u8(int v) {
        out.write(v);
        return this;
    }

    Packets u16(int v) {
        out.write(v >>> 8);
        out.write(v);
        return this;
    }

    Packets u32(long v) {
        return u16((int) (v >>> 16)).u16((int) v);
    }

    Packets raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    /** Dotted name as labels plus the root; "" or "." is the root alone. */
    Packets name(String dotted) {
        if (!dotted.isEmpty() && !dotted.equals(".")) {
            for (String l : dotted.split("\\.")) label(l.getBytes(StandardCharsets.ISO_8859_1));
        }
        return u8(0);
    }

    Packets label(byte[] l) {
        out.write(l.length);
        out.writeBytes(l);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
