package io.bpfwatch.monitor.zfs;

import io.bpfwatch.event.EventHeader;
import io.bpfwatch.monitor.Decoder;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static io.bpfwatch.monitor.zfs.NvPacker.list;
import static io.bpfwatch.monitor.zfs.NvPacker.names;
import static io.bpfwatch.monitor.zfs.NvPacker.pair;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** struct zfs_event records, as the kernel side builds them, into events. */
class ZfsDecoderTest {
    private final ZfsDecoder decoder = new ZfsDecoder(new EventHeader());

    /**
     * A record like the kernel side's: header, fields, then back to back the name and (if not
     * empty, as for a rename) the value, each with its NUL, and {@code nvl} as the copied nvlist bytes.
     */
    static ByteBuffer record(int cmd, long ret, String name, String value, byte[] nvl, long nvlSize, int flags) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] v = value.isEmpty() ? new byte[0] : (value + "\0").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(ZfsDecoder.DATA + n.length + v.length + nvl.length).order(ByteOrder.nativeOrder());
        b.putInt(EventHeader.PID, 4242).putInt(EventHeader.UID, 1000).putInt(EventHeader.TYPE, 1);
        b.put(EventHeader.COMM, "zfs\0".getBytes(StandardCharsets.US_ASCII));
        b.putLong(ZfsDecoder.DURATION_NS, 1_234_567).putLong(ZfsDecoder.RET, ret).putLong(ZfsDecoder.NVL_SIZE, nvlSize);
        b.putInt(ZfsDecoder.CMD, cmd).putInt(ZfsDecoder.PPID, 1).putInt(ZfsDecoder.NVL_LEN, nvl.length).putInt(ZfsDecoder.FLAGS, flags);
        b.putShort(ZfsDecoder.NAME_LENGTH, (short) n.length).putShort(ZfsDecoder.VALUE_LENGTH, (short) v.length);
        b.put(ZfsDecoder.DATA, n).put(ZfsDecoder.DATA + n.length, v).put(ZfsDecoder.DATA + n.length + v.length, nvl);
        return b;
    }

    static byte[] snaps(String... names) {
        return NvPacker.pack(list(pair("snaps", NvType.NVLIST, names(names))));
    }

    ZfsEvent decode(ByteBuffer b) {
        try {
            return decoder.decode(b, 0, b.capacity());
        } catch (Decoder.Refused refused) {
            throw new AssertionError("refused: " + refused.getMessage());
        }
    }

    void assertRefused(ByteBuffer b, int len, String why) {
        assertThatThrownBy(() -> decoder.decode(b, 0, len)).isInstanceOf(Decoder.Refused.class).hasMessageContaining(why);
    }

    @Test
    void snapshotNamesComeFromTheNvlist() {
        byte[] nvl = snaps("tank/a@1", "tank/b@1");
        ZfsEvent e = decode(record(0x5a23, 0, "tank", "", nvl, nvl.length, 0));
        assertThat(e.action).isEqualTo(ZfsAction.SNAPSHOT);
        assertThat(e.snapshots).containsExactly("tank/a@1", "tank/b@1");
        assertThat(e.pool).isEqualTo("tank");
        assertThat(e.result).isEqualTo("ok");
        assertThat(e.durationNanos).isEqualTo(1_234_567);
        assertThat(e.pid).isEqualTo(4242);
        assertThat(e.uid).isEqualTo(1000);
        assertThat(e.comm).isEqualTo("zfs");
        assertThat(e.truncated).isFalse();
        assertThat(e.decodeError).isNull();
    }

    @Test
    void topRanksOperationsByActionAndResult() {
        byte[] nvl = snaps("tank@x");
        java.util.List<String> keys = new java.util.ArrayList<>();
        io.bpfwatch.event.Event.Tally t = (category, key, weight) -> keys.add(category + "|" + key);
        for (int i = 0; i < 2; i++) { // the second time from the cache of keys: the same text
            decode(record(0x5a23, 0, "tank", "", nvl, nvl.length, 0)).tally(t);
            decode(record(0x5a3b, -16, "tank", "", nvl, nvl.length, 0)).tally(t);
        }
        assertThat(keys).containsExactly("operations|snapshot ok", "operations|destroy EBUSY",
                "operations|snapshot ok", "operations|destroy EBUSY");
    }

    @Test
    void resultsAreErrnoOrZfsErrorNames() {
        byte[] nvl = snaps("tank@x");
        assertThat(decode(record(0x5a3b, -16, "tank", "", nvl, nvl.length, 0)).result).isEqualTo("EBUSY");
        assertThat(decode(record(0x5a3b, -1033, "tank", "", nvl, nvl.length, 0)).result).isEqualTo("ZFS_ERR_WRONG_PARENT");
        assertThat(ZfsResult.of(-3999)).isEqualTo("errno 3999");
        assertThat(ZfsResult.label(ZfsResult.of(-3999))).isEqualTo("other");
        assertThat(ZfsResult.label("ENOENT")).isEqualTo("ENOENT");
    }

    @Test
    void legacyCommandsNameTheirTargetInZcName() {
        ZfsEvent destroySnap = decode(record(0x5a18, -2, "tank/fs@old", "", new byte[0], 0, 0));
        assertThat(destroySnap.snapshots).containsExactly("tank/fs@old");
        assertThat(destroySnap.dataset).isNull();
        assertThat(destroySnap.result).isEqualTo("ENOENT");
        ZfsEvent destroyFs = decode(record(0x5a18, 0, "pool2/fs", "", new byte[0], 0, 0));
        assertThat(destroyFs.snapshots).isEmpty();
        assertThat(destroyFs.dataset).isEqualTo("pool2/fs");
        assertThat(destroyFs.pool).isEqualTo("pool2");

        ByteBuffer rename = record(0x5a1a, 0, "tank/fs@a", "tank/fs@b", new byte[0], 0, 0);
        rename.putLong(ZfsDecoder.COOKIE, 3);
        ZfsEvent r = decode(rename);
        assertThat(r.newName).isEqualTo("tank/fs@b");
        assertThat(r.recursive).isTrue();

        ZfsEvent promote = decode(record(0x5a22, 0, "tank/clone", "", new byte[0], 0, 0));
        assertThat(promote.dataset).isEqualTo("tank/clone");
        assertThat(promote.snapshots).isEmpty();
    }

    @Test
    void holdAndReleaseNameSnapshotsAndTags() {
        byte[] hold = NvPacker.pack(list(pair("holds", NvType.NVLIST, list(pair("tank@a", NvType.STRING, "t1"), pair("tank@b", NvType.STRING, "t1"))),
                pair("cleanup_fd", NvType.INT32, -1L)));
        ZfsEvent h = decode(record(0x5a30, 0, "tank", "", hold, hold.length, 0));
        assertThat(h.snapshots).containsExactly("tank@a", "tank@b");
        assertThat(h.tags).containsExactly("t1");
        byte[] release = NvPacker.pack(list(pair("tank@a", NvType.NVLIST, names("t1", "t2"))));
        ZfsEvent r = decode(record(0x5a31, 0, "tank", "", release, release.length, 0));
        assertThat(r.snapshots).containsExactly("tank@a");
        assertThat(r.tags).containsExactly("t1", "t2");
    }

    @Test
    void theNvlistCutByTheKernelSideIsMarkedTruncated() {
        byte[] full = snaps("tank@a", "tank@b", "tank@c");
        byte[] cut = java.util.Arrays.copyOf(full, 100); // through "tank@a" and part of "tank@b"
        ZfsEvent e = decode(record(0x5a3b, 0, "tank", "", cut, full.length, 0));
        assertThat(e.truncated).isTrue();
        assertThat(e.snapshots).containsExactly("tank@a");
        assertThat(e.decodeError).isNull();
    }

    @Test
    void unreadableOrMalformedInputIsSaidNotDropped() {
        ZfsEvent fault = decode(record(0x5a23, -14, "", "", new byte[0], 4096, ZfsDecoder.F_NVL_FAULT | ZfsDecoder.F_CMD_FAULT));
        assertThat(fault.decodeError).contains("zfs_cmd_t was not readable").contains("nvlist was not readable");
        assertThat(fault.result).isEqualTo("EFAULT");
        assertThat(fault.snapshots).isEmpty();

        byte[] garbage = "not an nvlist at all".getBytes(StandardCharsets.US_ASCII);
        ZfsEvent bad = decode(record(0x5a23, -22, "tank", "", garbage, garbage.length, 0));
        assertThat(bad.decodeError).startsWith("nvlist: unknown nvlist encoding");
        assertThat(bad.pool).isEqualTo("tank");

        ZfsEvent nullList = decode(record(0x5a23, -14, "tank", "", new byte[0], 64, 0));
        assertThat(nullList.decodeError).isEqualTo("zc_nvlist_src_size is 64 but zc_nvlist_src is null");

        ZfsEvent longName = decode(record(0x5a18, -36, "tank/" + "x".repeat(250), "", new byte[0], 0, ZfsDecoder.F_NAME_TRUNCATED));
        assertThat(longName.truncated).isTrue();
    }

    @Test
    void malformedRecordsAreRefusedWithAReason() {
        assertRefused(ByteBuffer.allocate(90), 90, "expected at least");
        ByteBuffer unknown = record(0x5a12, 0, "tank", "", new byte[0], 0, 0);
        assertRefused(unknown, unknown.capacity(), "0x5a12");
        ByteBuffer lying = record(0x5a23, 0, "tank", "", new byte[16], 16, 0);
        lying.putInt(ZfsDecoder.NVL_LEN, 9000);
        assertRefused(lying, lying.capacity(), "9000 nvlist bytes");
        ByteBuffer longName = record(0x5a23, 0, "tank", "", new byte[0], 0, 0);
        longName.putShort(ZfsDecoder.NAME_LENGTH, (short) 300);
        assertRefused(longName, longName.capacity(), "300 name");
        // lengths that fit the struct but not the record the ring delivered
        ByteBuffer past = record(0x5a1a, 0, "tank/a", "tank/b", new byte[0], 0, 0);
        assertRefused(past, past.capacity() - 1, "claims 7 name, 7 value");
    }

    @Test
    void anOperationStillInFlightHasAnUnknownResult() throws Exception {
        byte[] nvl = snaps("tank@slow");
        ByteBuffer b = record(0x5a3b, 0, "tank", "", nvl, nvl.length, 0);
        ZfsEvent e = decoder.decodeUnfinished(b, 0, b.capacity());
        assertThat(e.result).isEqualTo("unknown");
        assertThat(e.durationNanos).isEqualTo(-1);
        assertThat(e.snapshots).containsExactly("tank@slow");
    }

    @Test
    void poolIsTheFirstComponent() {
        assertThat(ZfsDecoder.pool("tank/a/b@s")).isEqualTo("tank");
        assertThat(ZfsDecoder.pool("tank@s")).isEqualTo("tank");
        assertThat(ZfsDecoder.pool("tank#bm")).isEqualTo("tank");
        assertThat(ZfsDecoder.pool("tank")).isEqualTo("tank");
        assertThat(ZfsDecoder.pool("")).isEmpty();
    }

    @Test
    void devicesAreIdentifiedTheWayTheKernelSeesThem() {
        // /dev/null is character device 1:3 everywhere
        ZfsDevice nul = ZfsDevice.of(Path.of("/dev/null")).orElseThrow();
        assertThat(nul.kind()).isEqualTo(ZfsDevice.CHAR);
        assertThat(nul.dev()).isEqualTo((1 << 20) | 3);
        assertThat(nul.ino()).isZero();
        assertThat(ZfsDevice.of(Path.of("/nonexistent/zfs"))).isEmpty();
        // glibc's dev_t encoding of major 259, minor 300 -> kernel MKDEV
        long glibc = (300 & 0xff) | ((259L & 0xfff) << 8) | ((300L & ~0xffL) << 12);
        assertThat(ZfsDevice.kernelDev(glibc)).isEqualTo((259 << 20) | 300);
        assertThat(List.of(ZfsAction.values())).extracting(a -> a.cmd)
                .containsExactly(0x5a18, 0x5a19, 0x5a1a, 0x5a22, 0x5a23, 0x5a30, 0x5a31, 0x5a3b, 0x5a42);
    }
}
