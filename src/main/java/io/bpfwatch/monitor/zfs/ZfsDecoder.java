package io.bpfwatch.monitor.zfs;

import io.bpfwatch.event.EventHeader;
import io.bpfwatch.monitor.Decoder;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Decodes {@code struct zfs_event} (monitors/zfs/zfs.h) into what the operation did. Offsets
 * are checked against the compiled object's BTF by EventLayoutTest. The names come from
 * attacker-controlled bytes: nothing here throws on them, and whatever could not be read or
 * decoded is said in the event ({@code truncated}, {@code decode_error}), not dropped.
 */
public final class ZfsDecoder implements Decoder<ZfsEvent> {
    private static final int H = EventHeader.SIZE;
    public static final int DURATION_NS = H, RET = H + 8, NVL_SIZE = H + 16, COOKIE = H + 24, CMD = H + 32, PPID = H + 36,
            FLAGS = H + 40, NVL_LEN = H + 44, NAME_LENGTH = H + 48, VALUE_LENGTH = H + 50, DATA = H + 56;
    /** data holds zc_name, then zc_value, then the nvlist bytes, each as long as its length field. */
    public static final int NAME_LEN = 256, NVL_MAX = 8192, SIZE = DATA + 2 * NAME_LEN + NVL_MAX;
    static final int F_NAME_TRUNCATED = 1, F_VALUE_TRUNCATED = 2, F_CMD_FAULT = 4, F_NVL_FAULT = 8;

    private final EventHeader header;

    public ZfsDecoder(EventHeader header) {
        this.header = header;
    }

    /** A finished operation. */
    @Override
    public ZfsEvent decode(ByteBuffer b, int off, int len) throws Refused {
        return decode(b, off, len, false);
    }

    /** An operation the kernel side saw start but not finish (its in-flight entry). */
    public ZfsEvent decodeUnfinished(ByteBuffer b, int off, int len) throws Refused {
        return decode(b, off, len, true);
    }

    private ZfsEvent decode(ByteBuffer b, int off, int len, boolean unfinished) throws Refused {
        if (len < DATA) throw new Refused("zfs record of " + len + " bytes, expected at least " + DATA);
        int cmd = b.getInt(off + CMD);
        ZfsAction action = ZfsAction.of(cmd);
        if (action == null) throw new Refused("zfs record for ioctl 0x" + Integer.toHexString(cmd) + ", which is not audited");
        int nameLen = b.getShort(off + NAME_LENGTH) & 0xffff, valueLen = b.getShort(off + VALUE_LENGTH) & 0xffff;
        long nvlLen = b.getInt(off + NVL_LEN) & 0xffffffffL;
        if (nameLen > NAME_LEN || valueLen > NAME_LEN || nvlLen > NVL_MAX || DATA + nameLen + valueLen + nvlLen > len) {
            throw new Refused("zfs record of " + len + " bytes claims " + nameLen + " name, " + valueLen + " value and "
                    + nvlLen + " nvlist bytes");
        }
        int flags = b.getInt(off + FLAGS);
        long nvlSize = b.getLong(off + NVL_SIZE);
        String name = cString(b, off + DATA, nameLen);
        String value = cString(b, off + DATA + nameLen, valueLen);
        int nvl = off + DATA + nameLen + valueLen;

        List<String> errors = new ArrayList<>(2);
        if ((flags & F_CMD_FAULT) != 0) errors.add("the zfs_cmd_t was not readable");
        if ((flags & F_NVL_FAULT) != 0) errors.add("the nvlist was not readable" + (nvlLen > 0 ? " past byte " + nvlLen : ""));
        NvList nv = NvList.EMPTY;
        boolean truncated = (flags & (F_NAME_TRUNCATED | F_VALUE_TRUNCATED)) != 0;
        if (nvlLen == 0 && nvlSize != 0 && (flags & F_NVL_FAULT) == 0) {
            errors.add("zc_nvlist_src_size is " + Long.toUnsignedString(nvlSize) + " but zc_nvlist_src is null");
        }
        if (nvlLen > 0) {
            boolean cutShort = Long.compareUnsigned(nvlSize, nvlLen) > 0 || (flags & F_NVL_FAULT) != 0;
            NvListDecoder.Result r = NvListDecoder.decode(b, nvl, (int) nvlLen, cutShort);
            nv = r.list();
            truncated |= r.truncated();
            if (r.error() != null) errors.add("nvlist: " + r.error());
        }

        String dataset = null, newName = null;
        List<String> snapshots = List.of(), tags = null;
        boolean recursive = false;
        switch (action) {
            case SNAPSHOT, DESTROY_SNAPS -> snapshots = nv.nvlist("snaps").map(NvList::names).orElse(List.of());
            case HOLD -> {
                NvList holds = nv.nvlist("holds").orElse(NvList.EMPTY);
                snapshots = holds.names();
                Set<String> t = new LinkedHashSet<>();
                for (NvList.Pair p : holds.pairs()) if (p.type() == NvType.STRING) t.add((String) p.value());
                tags = List.copyOf(t);
            }
            case RELEASE -> {
                snapshots = nv.names();
                Set<String> t = new LinkedHashSet<>();
                for (NvList.Pair p : nv.pairs()) if (p.type() == NvType.NVLIST) t.addAll(((NvList) p.value()).names());
                tags = List.copyOf(t);
            }
            case ROLLBACK -> {
                dataset = name;
                snapshots = nv.string("target").map(List::of).orElse(List.of());
            }
            case CLONE -> {
                dataset = name;
                snapshots = nv.string("origin").map(List::of).orElse(List.of());
            }
            case PROMOTE -> dataset = name;
            case DESTROY -> {
                if (isSnapshot(name)) snapshots = List.of(name); else dataset = name;
            }
            case RENAME -> {
                if (isSnapshot(name)) snapshots = List.of(name); else dataset = name;
                newName = value;
                recursive = (b.getLong(off + COOKIE) & 1) != 0;
            }
        }
        String pool = pool(name);
        if (pool.isEmpty() && !snapshots.isEmpty()) pool = pool(snapshots.get(0));

        String result = unfinished ? ZfsResult.UNKNOWN : ZfsResult.of(b.getLong(off + RET));
        long duration = unfinished ? -1 : b.getLong(off + DURATION_NS);
        return new ZfsEvent(header.time(b, off), header.pid(b, off), header.uid(b, off), header.comm(b, off), header.context(b, off),
                b.getInt(off + PPID), action, pool, dataset, snapshots, newName, recursive, tags, result, duration,
                truncated, errors.isEmpty() ? null : String.join("; ", errors));
    }

    static boolean isSnapshot(String name) {
        return name.indexOf('@') >= 0;
    }

    /** The pool: a dataset name up to its first '/', '@' or '#'. */
    static String pool(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == '@' || c == '#') return name.substring(0, i);
        }
        return name;
    }

    /**
     * The length of the record at {@code off} as its length fields give it (at most {@code max}): what
     * an in-flight map element holds, whose value is always the whole struct.
     */
    public static int recordLength(ByteBuffer b, int off, int max) {
        long n = DATA + (b.getShort(off + NAME_LENGTH) & 0xffff) + (b.getShort(off + VALUE_LENGTH) & 0xffff)
                + (b.getInt(off + NVL_LEN) & 0xffffffffL);
        return (int) Math.min(n, max);
    }

    /** The string in {@code len} bytes up to the first NUL (the kernel side stores one, but a name never reads past len). */
    private static String cString(ByteBuffer b, int at, int len) {
        int n = 0;
        while (n < len && b.get(at + n) != 0) n++;
        byte[] s = new byte[n];
        b.get(at, s, 0, n);
        return new String(s, StandardCharsets.UTF_8);
    }
}
