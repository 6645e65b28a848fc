package io.bpfwatch.monitor.zfs;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Packs an NvList in libnvpair's native encoding, for tests: NvListDecoderTest checks it
 * byte for byte against the real fnvlist_pack, then uses it to build hostile inputs.
 */
final class NvPacker {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static byte[] pack(NvList l) {
        NvPacker p = new NvPacker();
        p.out.write(0);   // NV_ENCODE_NATIVE
        p.out.write(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 1 : 0);
        p.out.write(0);
        p.out.write(0);
        p.int32(0);       // nvl_version
        p.int32(1);       // nvl_nvflag: NV_UNIQUE_NAME, as fnvlist_alloc makes them
        p.pairs(l);
        return p.out.toByteArray();
    }

    static NvList.Pair pair(String name, NvType type, Object value) {
        return new NvList.Pair(name, type, value);
    }

    static NvList list(NvList.Pair... pairs) {
        return new NvList(List.of(pairs));
    }

    /** {name: boolean} for each name: what libzfs_core's "snaps" lists hold. */
    static NvList names(String... names) {
        List<NvList.Pair> pairs = new ArrayList<>();
        for (String n : names) pairs.add(pair(n, NvType.BOOLEAN, Boolean.TRUE));
        return new NvList(pairs);
    }

    private void pairs(NvList l) {
        for (NvList.Pair p : l.pairs()) pair(p);
        int32(0);
    }

    @SuppressWarnings("unchecked")
    private void pair(NvList.Pair p) {
        byte[] name = (p.name() + "\0").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        int nelem = 1;
        switch (p.type()) {
            case BOOLEAN -> nelem = 0;
            case BOOLEAN_VALUE -> v.writeBytes(le(4, (Boolean) p.value() ? 1 : 0));
            case STRING -> v.writeBytes(((String) p.value() + "\0").getBytes(StandardCharsets.UTF_8));
            case DOUBLE -> v.writeBytes(le(8, Double.doubleToRawLongBits((Double) p.value())));
            case NVLIST -> v.writeBytes(nvlistT());
            case NVLIST_ARRAY -> {
                List<NvList> lists = (List<NvList>) p.value();
                nelem = lists.size();
                v.writeBytes(new byte[8 * nelem]);
                for (int i = 0; i < nelem; i++) v.writeBytes(nvlistT());
            }
            case STRING_ARRAY -> {
                List<String> strings = (List<String>) p.value();
                nelem = strings.size();
                v.writeBytes(new byte[8 * nelem]);
                for (String s : strings) v.writeBytes((s + "\0").getBytes(StandardCharsets.UTF_8));
            }
            case BOOLEAN_ARRAY -> {
                boolean[] b = (boolean[]) p.value();
                nelem = b.length;
                for (boolean x : b) v.writeBytes(le(4, x ? 1 : 0));
            }
            default -> {
                int es = p.type().elementSize();
                if (p.type().isArray()) {
                    long[] a = (long[]) p.value();
                    nelem = a.length;
                    for (long x : a) v.writeBytes(le(es, x));
                } else {
                    v.writeBytes(le(es, (Long) p.value()));
                }
            }
        }
        int valOff = align8(16 + name.length);
        int size = valOff + align8(v.size());
        int32(size);
        out.writeBytes(le(2, name.length));
        out.writeBytes(le(2, 0));
        int32(nelem);
        int32(p.type().ordinal());
        out.writeBytes(name);
        out.writeBytes(new byte[valOff - 16 - name.length]);
        out.writeBytes(v.toByteArray());
        out.writeBytes(new byte[align8(v.size()) - v.size()]);
        if (p.type() == NvType.NVLIST) pairs((NvList) p.value());
        if (p.type() == NvType.NVLIST_ARRAY) for (NvList l : (List<NvList>) p.value()) pairs(l);
    }

    /** An embedded nvlist_t as packed: version 0, NV_UNIQUE_NAME, no private pointer. */
    private static byte[] nvlistT() {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder());
        b.putInt(0, 0).putInt(4, 1);
        return b.array();
    }

    private void int32(int v) {
        out.writeBytes(le(4, v));
    }

    private static byte[] le(int size, long v) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, v);
        byte[] out = new byte[size];
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) System.arraycopy(b.array(), 0, out, 0, size);
        else System.arraycopy(b.array(), 8 - size, out, 0, size);
        return out;
    }

    private static int align8(int x) {
        return (x + 7) & ~7;
    }
}
