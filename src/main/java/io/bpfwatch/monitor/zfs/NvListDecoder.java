package io.bpfwatch.monitor.zfs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Decodes libnvpair's native packed encoding (NV_ENCODE_NATIVE, what fnvlist_pack and
 * libzfs_core produce) as strictly as libnvpair's own decoder (nvpair.c, nvs_native_*): every
 * size is checked against the bytes present, names must be NUL-terminated exactly at their
 * stated length, each value must fill its pair exactly, nesting stops at the kernel's depth
 * limit. It never throws: the result carries what was decoded up to the first problem and
 * says why it stopped. Work is linear in the input (every pair consumes at least 24 bytes).
 *
 * Layout: a 4-byte header (encoding, endianness, 2 reserved), the top list's version and
 * flags (2 x int32), then pairs, each ended list marked by an int32 0. A pair is
 * {int32 size, int16 name_sz, int16 reserved, int32 nelem, int32 type}, the name, padding
 * to 8, the value; an embedded list's pairs follow its pair, an nvlist array's lists follow
 * one after another.
 */
public final class NvListDecoder {
    /** libnvpair's nvpair_max_recursion in the kernel: deeper lists are refused there too. */
    public static final int MAX_DEPTH = 20;
    private static final int PAIR_HEADER = 16;
    private static final int NVLIST_T = 24;          // sizeof (nvlist_t), the embedded value
    private static final int MIN_PAIR = 24;          // NVP_SIZE_CALC(1, 0)
    private static final int NV_ENCODE_NATIVE = 0, NV_ENCODE_XDR = 1;
    private static final int HOST_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 1 : 0;

    /**
     * What came out: the list (possibly partial), whether the input ended early because it was
     * cut short on purpose, and the first problem (null when the list decoded cleanly).
     */
    public record Result(NvList list, boolean truncated, String error) {
        public boolean ok() {
            return error == null && !truncated;
        }
    }

    private final ByteBuffer b;
    private final int end;
    private final boolean cutShort;

    private NvListDecoder(ByteBuffer b, int end, boolean cutShort) {
        this.b = b;
        this.end = end;
        this.cutShort = cutShort;
    }

    /** Decodes all of {@code bytes}. */
    public static Result decode(byte[] bytes) {
        return decode(ByteBuffer.wrap(bytes), 0, bytes.length, false);
    }

    /**
     * Decodes {@code len} bytes at {@code off}. With {@code cutShort} the bytes are a prefix of
     * a longer list: running out of them ends decoding as truncated rather than as an error.
     */
    public static Result decode(ByteBuffer buf, int off, int len, boolean cutShort) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.nativeOrder());
        List<NvList.Pair> top = new ArrayList<>();
        try {
            if (off < 0 || len < 0 || off > b.capacity() - len) throw new Malformed(0, "bounds outside the buffer");
            NvListDecoder d = new NvListDecoder(b, off + len, cutShort);
            d.decodeTop(off, top);
            return new Result(freeze(top), false, null);
        } catch (Truncated t) {
            return new Result(freeze(top), true, null);
        } catch (Malformed m) {
            return new Result(freeze(top), false, m.getMessage());
        } catch (RuntimeException e) {
            // a decoder bug must not take the monitor down: report it like a malformed list
            return new Result(freeze(top), false, "decoder failure: " + e);
        }
    }

    private void decodeTop(int p, List<NvList.Pair> out) {
        need(p, 4, "header");
        int encoding = b.get(p) & 0xff, endian = b.get(p + 1) & 0xff;
        if (encoding == NV_ENCODE_XDR) throw new Malformed(p, "XDR-encoded nvlist (only the native encoding is decoded)");
        if (encoding != NV_ENCODE_NATIVE) throw new Malformed(p, "unknown nvlist encoding " + encoding);
        if (endian != HOST_ENDIAN) throw new Malformed(p + 1, "nvlist packed with the other byte order");
        p += 4;
        need(p, 8, "list header");
        int version = b.getInt(p);
        if (version != 0) throw new Malformed(p, "nvlist version " + version);
        pairs(p + 8, out, 0);
    }

    /** Decodes pairs at {@code p} up to and including the end mark; returns the position after it. */
    private int pairs(int p, List<NvList.Pair> out, int depth) {
        while (true) {
            need(p, 4, "pair size or end of list");
            int size = b.getInt(p);
            if (size == 0) return p + 4;
            if (size < MIN_PAIR) throw new Malformed(p, "pair size " + size + " is below the minimum " + MIN_PAIR);
            need(p, size, "pair of " + size + " bytes");
            p = pair(p, size, out, depth);
        }
    }

    /** One pair of {@code size} bytes at {@code p} (all present); returns the position after it and its lists. */
    private int pair(int p, int size, List<NvList.Pair> out, int depth) {
        int nameSz = b.getShort(p + 4);
        int nelem = b.getInt(p + 8);
        int code = b.getInt(p + 12);
        if (nameSz <= 0) throw new Malformed(p + 4, "name size " + nameSz);
        int valOff = align8(PAIR_HEADER + nameSz);
        if (valOff > size) throw new Malformed(p + 4, "name of " + nameSz + " bytes overflows the " + size + "-byte pair");
        String name = cString(p + PAIR_HEADER, nameSz, "pair name");
        NvType type = NvType.of(code);
        if (type == null) throw new Malformed(p + 12, "unknown data type " + code + " of pair '" + name + "'");
        checkNelem(p, type, nelem, name);
        int v = p + valOff;
        int room = size - valOff;
        int after = p + size;
        Object value;
        long valueSize;
        switch (type) {
            case BOOLEAN -> {
                value = Boolean.TRUE;
                valueSize = 0;
            }
            case BOOLEAN_VALUE -> {
                fits(p, room, 4, name);
                value = bool(v, name);
                valueSize = 4;
            }
            case STRING -> {
                int n = strlen(v, room, name);
                value = utf8(v, n);
                valueSize = n + 1L;
            }
            case STRING_ARRAY -> {
                long slots = 8L * nelem;
                fits(p, room, slots, name);
                List<String> strings = new ArrayList<>();
                long q = v + slots;
                for (int i = 0; i < nelem; i++) {
                    int n = strlen((int) q, (int) (after - q), name);
                    strings.add(utf8((int) q, n));
                    q += n + 1;
                }
                value = Collections.unmodifiableList(strings);
                valueSize = q - v;
            }
            case NVLIST -> {
                fits(p, room, NVLIST_T, name);
                embeddedVersion(v, name);
                value = null; // the list follows the pair
                valueSize = NVLIST_T;
            }
            case NVLIST_ARRAY -> {
                valueSize = (8L + NVLIST_T) * nelem;
                fits(p, room, valueSize, name);
                for (int i = 0; i < nelem; i++) embeddedVersion(v + 8 * nelem + NVLIST_T * i, name);
                value = null; // the lists follow the pair
            }
            case BOOLEAN_ARRAY -> {
                valueSize = 4L * nelem;
                fits(p, room, valueSize, name);
                boolean[] bools = new boolean[nelem];
                for (int i = 0; i < nelem; i++) bools[i] = bool(v + 4 * i, name);
                value = bools;
            }
            case DOUBLE -> {
                fits(p, room, 8, name);
                value = b.getDouble(v);
                valueSize = 8;
            }
            default -> {
                int es = type.elementSize();
                long count = type.isArray() ? nelem : 1;
                valueSize = es * count;
                fits(p, room, valueSize, name);
                if (type.isArray()) {
                    long[] values = new long[(int) count];
                    for (int i = 0; i < count; i++) values[i] = integer(v + es * i, es, type.isSigned());
                    value = values;
                } else {
                    value = integer(v, es, type.isSigned());
                }
            }
        }
        if (room != align8(valueSize)) {
            throw new Malformed(p, "pair '" + name + "' is " + size + " bytes, its " + type + " value needs " + (valOff + align8(valueSize)));
        }
        if (type == NvType.NVLIST) {
            if (depth + 1 > MAX_DEPTH) throw new Malformed(p, "nvlists nested deeper than " + MAX_DEPTH);
            List<NvList.Pair> inner = new ArrayList<>();
            out.add(new NvList.Pair(name, type, new NvList(Collections.unmodifiableList(inner))));
            return pairs(after, inner, depth + 1);
        }
        if (type == NvType.NVLIST_ARRAY) {
            if (depth + 1 > MAX_DEPTH) throw new Malformed(p, "nvlists nested deeper than " + MAX_DEPTH);
            List<NvList> lists = new ArrayList<>();
            out.add(new NvList.Pair(name, type, Collections.unmodifiableList(lists)));
            int q = after;
            for (int i = 0; i < nelem; i++) {
                List<NvList.Pair> inner = new ArrayList<>();
                lists.add(new NvList(Collections.unmodifiableList(inner)));
                q = pairs(q, inner, depth + 1);
            }
            return q;
        }
        out.add(new NvList.Pair(name, type, value));
        return after;
    }

    private static void checkNelem(int p, NvType type, int nelem, String name) {
        if (type == NvType.BOOLEAN) {
            if (nelem != 0) throw new Malformed(p + 8, "BOOLEAN pair '" + name + "' with " + nelem + " elements");
        } else if (type.isArray()) {
            if (nelem < 0) throw new Malformed(p + 8, "array pair '" + name + "' with " + nelem + " elements");
        } else if (nelem != 1) {
            throw new Malformed(p + 8, type + " pair '" + name + "' with " + nelem + " elements");
        }
    }

    private static void fits(int p, int room, long needed, String name) {
        if (needed > room) throw new Malformed(p, "value of pair '" + name + "' needs " + needed + " bytes, the pair has " + room);
    }

    private void embeddedVersion(int at, String name) {
        int version = b.getInt(at);
        if (version != 0) throw new Malformed(at, "embedded nvlist '" + name + "' has version " + version);
    }

    private boolean bool(int at, String name) {
        int v = b.getInt(at);
        if (v != 0 && v != 1) throw new Malformed(at, "boolean in pair '" + name + "' is " + v);
        return v == 1;
    }

    private long integer(int at, int size, boolean signed) {
        return switch (size) {
            case 1 -> signed ? b.get(at) : b.get(at) & 0xffL;
            case 2 -> signed ? b.getShort(at) : b.getShort(at) & 0xffffL;
            case 4 -> signed ? b.getInt(at) : b.getInt(at) & 0xffffffffL;
            default -> b.getLong(at);
        };
    }

    /** A name of exactly {@code size} bytes: NUL at the end and nowhere before. */
    private String cString(int at, int size, String what) {
        for (int i = 0; i < size - 1; i++) {
            if (b.get(at + i) == 0) throw new Malformed(at + i, what + " has a NUL inside its " + size + " bytes");
        }
        if (b.get(at + size - 1) != 0) throw new Malformed(at + size - 1, what + " is not NUL-terminated");
        return utf8(at, size - 1);
    }

    /** Length of the NUL-terminated string at {@code at} within {@code room} bytes. */
    private int strlen(int at, int room, String name) {
        for (int i = 0; i < room; i++) if (b.get(at + i) == 0) return i;
        throw new Malformed(at, "string in pair '" + name + "' is not NUL-terminated within its pair");
    }

    /** Bytes as UTF-8; invalid sequences become U+FFFD (names are attacker-chosen bytes). */
    private String utf8(int at, int len) {
        byte[] s = new byte[len];
        b.get(at, s, 0, len);
        return new String(s, StandardCharsets.UTF_8);
    }

    private void need(int p, long n, String what) {
        if (p + n <= end) return;
        if (cutShort) throw Truncated.INSTANCE;
        throw new Malformed(p, what + " needs " + n + " bytes, " + Math.max(0, end - p) + " remain");
    }

    private static long align8(long x) {
        return (x + 7) & ~7L;
    }

    private static int align8(int x) {
        return (x + 7) & ~7;
    }

    private static NvList freeze(List<NvList.Pair> top) {
        return new NvList(Collections.unmodifiableList(top));
    }

    /** Stops decoding: the input is not a valid packed nvlist. Carries no stack trace. */
    private static final class Malformed extends RuntimeException {
        Malformed(int at, String message) {
            super(message + " (byte " + at + ")", null, false, false);
        }
    }

    /** Stops decoding: the input was cut short on purpose. */
    private static final class Truncated extends RuntimeException {
        static final Truncated INSTANCE = new Truncated();

        private Truncated() {
            super("truncated", null, false, false);
        }
    }
}
