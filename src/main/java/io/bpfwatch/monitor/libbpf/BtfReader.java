package io.bpfwatch.monitor.libbpf;

import io.bpfwatch.config.IpAddress;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.libbpf.Errno;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a value of some BTF type out of a record, as what a JSON line or a label shows:
 * integers as numbers, char arrays as strings (up to the first NUL; bytes that are not UTF-8
 * become U+FFFD), other arrays as lists, structs and unions as objects, enums by name, pointers
 * in hex. A field's decoder can say otherwise: {@code ipv4}, {@code ipv6} or {@code ip} (an
 * address as text), {@code hex}, {@code errno} (a negative errno by name), {@code string},
 * {@code number}, {@code skip}. Built once per struct from the object's BTF; reading allocates
 * only the values.
 */
abstract class BtfReader {
    /** The decoders a field may be given, by name. */
    static final List<String> DECODERS = List.of("number", "string", "hex", "ipv4", "ipv6", "ip", "errno", "skip");
    private static final int MAX_ARRAY = 4096, MAX_DEPTH = 16;

    /** The value at {@code off}; the caller has checked the record holds {@link #size} bytes there. */
    abstract Object read(ByteBuffer b, int off);

    final int size;

    BtfReader(int size) {
        this.size = size;
    }

    /** The value as a label: text, bounded. */
    String label(ByteBuffer b, int off) {
        Object v = read(b, off);
        String s = v instanceof String str ? str : String.valueOf(v);
        return s.length() > 128 ? s.substring(0, 128) : s;
    }

    /**
     * The type id of the member at {@code path} ("a.b": member b of struct member a; members of
     * anonymous structs and unions are found through them), or -1.
     */
    static int memberType(Btf btf, int structId, String path) {
        int id = btf.resolve(structId);
        for (String part : path.split("\\.")) {
            Btf.Type t = btf.type(id);
            if (!t.isStructOrUnion()) return -1;
            int found = find(btf, t, part);
            if (found < 0) return -1;
            id = btf.resolve(found);
        }
        return id;
    }

    private static int find(Btf btf, Btf.Type t, String name) {
        for (Btf.Member m : btf.members(t)) {
            if (m.name().equals(name)) return m.type();
            if (m.name().isEmpty()) {
                Btf.Type inner = btf.type(btf.resolve(m.type()));
                if (inner.isStructOrUnion()) {
                    int f = find(btf, inner, name);
                    if (f >= 0) return f;
                }
            }
        }
        return -1;
    }

    /** Why a decoder does not fit a type, or null if it does. */
    static String unfit(Btf btf, int typeId, String decoder) {
        int id = btf.resolve(typeId);
        Btf.Type t = btf.type(id);
        long size = btf.size(id);
        return switch (decoder) {
            case "ipv4" -> size == 4 ? null : "ipv4 needs 4 bytes (a __be32 or u8[4]), not " + size;
            case "ipv6" -> size == 16 ? null : "ipv6 needs 16 bytes (u8[16]), not " + size;
            case "ip" -> size == 4 || size == 16 ? null : "ip needs 4 or 16 bytes, not " + size;
            case "errno", "number" -> t.kind() == Btf.KIND_INT || t.kind() == Btf.KIND_ENUM || t.kind() == Btf.KIND_ENUM64
                    ? null : decoder + " needs an integer";
            case "hex" -> t.kind() == Btf.KIND_INT || t.kind() == Btf.KIND_PTR || t.kind() == Btf.KIND_ARRAY
                    || t.kind() == Btf.KIND_ENUM ? null : "hex needs an integer, pointer or array";
            case "string" -> t.kind() == Btf.KIND_ARRAY && btf.size(btf.resolve(btf.array(t).elemType())) == 1
                    ? null : "string needs a byte array (char[N] or u8[N])";
            case "skip" -> null;
            default -> "unknown decoder " + decoder + " (one of " + String.join(", ", DECODERS) + ")";
        };
    }

    /**
     * The reader of type {@code typeId}; {@code decoders} by member path ("a.b") apply to the
     * members they name, {@code path} is where this type sits ("" at the top).
     */
    static BtfReader of(Btf btf, int typeId, Map<String, String> decoders, String path) {
        return of(btf, typeId, decoders, path, 0);
    }

    private static BtfReader of(Btf btf, int typeId, Map<String, String> decoders, String path, int depth) {
        int id = btf.resolve(typeId);
        Btf.Type t = btf.type(id);
        int size = (int) Math.max(0, btf.size(id));
        String decoder = decoders.get(path);
        if (decoder != null) {
            switch (decoder) {
                case "ipv4", "ipv6", "ip": return new Address(size);
                case "hex": return t.kind() == Btf.KIND_ARRAY ? new HexBytes(size) : new Hex(size);
                case "errno": return new ErrnoName(integer(btf, t, size));
                case "string": return new Chars(size);
                case "number": return t.kind() == Btf.KIND_INT ? integer(btf, t, size) : new Int(size, false);
                default: break;
            }
        }
        if (depth > MAX_DEPTH) return new Hex(Math.min(size, 8));
        switch (t.kind()) {
            case Btf.KIND_INT:
                return integer(btf, t, size);
            case Btf.KIND_ENUM:
            case Btf.KIND_ENUM64:
                return new EnumName(size, btf.enumValues(t));
            case Btf.KIND_PTR:
                return new Hex(size);
            case Btf.KIND_FLOAT:
                return new Float(size);
            case Btf.KIND_ARRAY: {
                Btf.Array a = btf.array(t);
                int elem = btf.resolve(a.elemType());
                int elemSize = (int) btf.size(elem);
                Btf.Type e = btf.type(elem);
                if (elemSize == 1 && e.kind() == Btf.KIND_INT && (btf.intEncoding(e).encoding() & Btf.INT_CHAR) != 0
                        || elemSize == 1 && e.name().equals("char")) {
                    return new Chars(size);
                }
                return new Array(size, of(btf, elem, decoders, path, depth + 1), elemSize, Math.min(a.nelems(), MAX_ARRAY));
            }
            case Btf.KIND_STRUCT:
            case Btf.KIND_UNION: {
                List<Member> members = new ArrayList<>();
                for (Btf.Member m : btf.members(t)) {
                    String name = m.name().isEmpty() ? "" : m.name();
                    String sub = path.isEmpty() ? name : path + "." + name;
                    if ("skip".equals(decoders.get(sub))) continue;
                    BtfReader r;
                    if (m.bitSize() > 0 || m.bitOffset() % 8 != 0) {
                        Btf.Type mt = btf.type(btf.resolve(m.type()));
                        boolean signed = mt.kind() == Btf.KIND_INT && btf.intEncoding(mt).signed();
                        r = new Bitfield(m.bitOffset() % 8, m.bitSize() > 0 ? m.bitSize() : btf.intEncoding(mt).bits(), signed);
                        members.add(new Member(name, m.bitOffset() / 8, r, name.isEmpty()));
                        continue;
                    }
                    r = of(btf, m.type(), decoders, name.isEmpty() ? path : sub, depth + 1);
                    members.add(new Member(name, m.bitOffset() / 8, r, name.isEmpty()));
                }
                return new Struct(size, members);
            }
            default:
                return new Hex(Math.min(size, 8));
        }
    }

    private static BtfReader integer(Btf btf, Btf.Type t, int size) {
        if (t.kind() != Btf.KIND_INT) return new Int(size, false);
        Btf.IntEncoding e = btf.intEncoding(t);
        if ((e.encoding() & Btf.INT_BOOL) != 0) return new Bool(size);
        if (size == 16) return new HexBytes(16);
        return new Int(size, e.signed());
    }

    static long readInt(ByteBuffer b, int off, int size, boolean signed) {
        return switch (size) {
            case 1 -> signed ? b.get(off) : b.get(off) & 0xffL;
            case 2 -> signed ? b.getShort(off) : b.getShort(off) & 0xffffL;
            case 4 -> signed ? b.getInt(off) : b.getInt(off) & 0xffffffffL;
            default -> b.getLong(off);
        };
    }

    /** A member of a struct; an anonymous struct or union's members are the parent's. */
    record Member(String name, int offset, BtfReader reader, boolean anonymous) {
    }

    static final class Int extends BtfReader {
        private final boolean signed;

        Int(int size, boolean signed) {
            super(size);
            this.signed = signed;
        }

        @Override
        Object read(ByteBuffer b, int off) {
            long v = readInt(b, off, size, signed);
            if (size == 8 && !signed && v < 0) return new BigInteger(Long.toUnsignedString(v));
            return v;
        }
    }

    static final class Bitfield extends BtfReader {
        private final int bit, bits;
        private final boolean signed;

        Bitfield(int bit, int bits, boolean signed) {
            super((bit + bits + 7) / 8);
            this.bit = bit;
            this.bits = bits;
            this.signed = signed;
        }

        @Override
        Object read(ByteBuffer b, int off) {
            long v = 0;
            for (int i = size - 1; i >= 0; i--) v = (v << 8) | (b.get(off + i) & 0xff); // little endian
            v >>>= bit;
            if (bits < 64) {
                v &= (1L << bits) - 1;
                if (signed && (v & (1L << (bits - 1))) != 0) v -= 1L << bits;
            }
            return v;
        }
    }

    static final class Bool extends BtfReader {
        Bool(int size) {
            super(size);
        }

        @Override
        Object read(ByteBuffer b, int off) {
            return readInt(b, off, size, false) != 0;
        }
    }

    static final class Float extends BtfReader {
        Float(int size) {
            super(size);
        }

        @Override
        Object read(ByteBuffer b, int off) {
            return size == 4 ? (double) b.getFloat(off) : b.getDouble(off);
        }
    }

    static final class Hex extends BtfReader {
        Hex(int size) {
            super(size);
        }

        @Override
        Object read(ByteBuffer b, int off) {
            return "0x" + Long.toHexString(readInt(b, off, Math.min(size, 8), false));
        }
    }

    static final class HexBytes extends BtfReader {
        HexBytes(int size) {
            super(size);
        }

        @Override
        Object read(ByteBuffer b, int off) {
            StringBuilder s = new StringBuilder(size * 2);
            for (int i = 0; i < size; i++) s.append(String.format("%02x", b.get(off + i) & 0xff));
            return s.toString();
        }
    }

    static final class Chars extends BtfReader {
        Chars(int size) {
            super(size);
        }

        @Override
        Object read(ByteBuffer b, int off) {
            int n = 0;
            while (n < size && b.get(off + n) != 0) n++;
            byte[] s = new byte[n];
            b.get(off, s, 0, n);
            return new String(s, StandardCharsets.UTF_8);
        }
    }

    /** 4 bytes (network order, as the kernel stores them) or 16; an IPv4-mapped IPv6 address as IPv4. */
    static final class Address extends BtfReader {
        Address(int size) {
            super(size);
        }

        @Override
        Object read(ByteBuffer b, int off) {
            byte[] a = new byte[size];
            b.get(off, a);
            if (size == 16 && IpAddress.isV4Mapped(a, 0)) return IpAddress.format(a, 12, 4);
            return IpAddress.format(a, 0, size);
        }
    }

    static final class ErrnoName extends BtfReader {
        private final BtfReader number;

        ErrnoName(BtfReader number) {
            super(number.size);
            this.number = number;
        }

        @Override
        Object read(ByteBuffer b, int off) {
            Object v = number.read(b, off);
            if (v instanceof Long l && l < 0 && l > -4096) return Errno.name((int) -l);
            return v;
        }
    }

    static final class EnumName extends BtfReader {
        private final Map<Long, String> names;

        EnumName(int size, Map<Long, String> names) {
            super(size);
            this.names = names;
        }

        @Override
        Object read(ByteBuffer b, int off) {
            long v = readInt(b, off, size, size < 8);
            String n = names.get(v);
            return n != null ? n : (Object) v;
        }
    }

    static final class Array extends BtfReader {
        private final BtfReader elem;
        private final int stride, count;

        Array(int size, BtfReader elem, int stride, int count) {
            super(size);
            this.elem = elem;
            this.stride = stride;
            this.count = count;
        }

        @Override
        Object read(ByteBuffer b, int off) {
            List<Object> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) out.add(elem.read(b, off + i * stride));
            return out;
        }
    }

    static final class Struct extends BtfReader {
        final List<Member> members;

        Struct(int size, List<Member> members) {
            super(size);
            this.members = members;
        }

        @Override
        Object read(ByteBuffer b, int off) {
            Map<String, Object> out = new LinkedHashMap<>();
            readInto(b, off, out);
            return out;
        }

        void readInto(ByteBuffer b, int off, Map<String, Object> out) {
            for (Member m : members) {
                if (m.anonymous() && m.reader() instanceof Struct s) {
                    s.readInto(b, off + m.offset(), out);
                } else {
                    out.put(m.name(), m.reader().read(b, off + m.offset()));
                }
            }
        }

        /** The member reader at a top-level name, or null. */
        Member member(String name) {
            for (Member m : members) if (m.name().equals(name)) return m;
            return null;
        }

        Set<String> names() {
            Set<String> out = new HashSet<>();
            for (Member m : members) out.add(m.name());
            return out;
        }
    }
}
