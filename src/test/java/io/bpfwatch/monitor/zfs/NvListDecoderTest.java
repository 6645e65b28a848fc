package io.bpfwatch.monitor.zfs;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.bpfwatch.monitor.zfs.NvPacker.list;
import static io.bpfwatch.monitor.zfs.NvPacker.names;
import static io.bpfwatch.monitor.zfs.NvPacker.pair;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The nvlist decoder against bytes packed by the real libnvpair (fnvlist_pack, through
 * zfsclient), and against hostile bytes: every prefix, every field overwritten with extreme
 * values, and the specific lies a caller can tell (sizes, counts, nesting, terminators).
 */
class NvListDecoderTest {
    @TempDir
    static Path golden;

    @BeforeAll
    static void packWithLibnvpair() throws Exception {
        ZfsClient.pack(golden);
    }

    static byte[] golden(String name) throws Exception {
        return Files.readAllBytes(golden.resolve(name + ".bin"));
    }

    static NvList ok(byte[] bytes) {
        NvListDecoder.Result r = NvListDecoder.decode(bytes);
        assertThat(r.error()).isNull();
        assertThat(r.truncated()).isFalse();
        return r.list();
    }

    static String error(byte[] bytes) {
        NvListDecoder.Result r = NvListDecoder.decode(bytes);
        assertThat(r.error()).as("decoding must fail").isNotNull();
        return r.error();
    }

    @Test
    void snapshotArgumentsFromLibzfsCore() throws Exception {
        NvList l = ok(golden("snapshot"));
        assertThat(l.names()).containsExactly("snaps", "props");
        NvList snaps = l.nvlist("snaps").orElseThrow();
        assertThat(snaps.names()).containsExactly("tank/home@monday", "tank/home/alice@monday");
        assertThat(snaps.pairs()).allSatisfy(p -> assertThat(p.type()).isEqualTo(NvType.BOOLEAN));
        assertThat(l.nvlist("props").orElseThrow().string("user:reason")).contains("nightly");
    }

    @Test
    void destroyHoldReleaseAndRollbackArguments() throws Exception {
        NvList destroy = ok(golden("destroy-snaps"));
        assertThat(destroy.nvlist("snaps").orElseThrow().names()).containsExactly("tank/home@monday", "tank/home/alice@monday");
        assertThat(destroy.get("defer").orElseThrow().type()).isEqualTo(NvType.BOOLEAN);

        NvList hold = ok(golden("hold"));
        assertThat(hold.nvlist("holds").orElseThrow().string("tank@keep")).contains("backup-job");
        assertThat(hold.get("cleanup_fd").orElseThrow().value()).isEqualTo(-1L);

        NvList release = ok(golden("release"));
        assertThat(release.nvlist("tank@keep").orElseThrow().names()).containsExactly("backup-job");

        assertThat(ok(golden("rollback-to")).string("target")).contains("tank/db@before-upgrade");
        assertThat(ok(golden("empty")).pairs()).isEmpty();
    }

    @Test
    void everyDataTypeDecodes() throws Exception {
        NvList l = ok(golden("all-types"));
        assertThat(l.get("boolean").orElseThrow().value()).isEqualTo(true);
        assertThat(l.get("byte").orElseThrow().value()).isEqualTo(0xabL);
        assertThat(l.get("int16").orElseThrow().value()).isEqualTo(-12345L);
        assertThat(l.get("uint16").orElseThrow().value()).isEqualTo(54321L);
        assertThat(l.get("int32").orElseThrow().value()).isEqualTo(-7L);
        assertThat(l.get("uint32").orElseThrow().value()).isEqualTo(4000000000L);
        assertThat(l.get("int64").orElseThrow().value()).isEqualTo(-1L);
        assertThat(l.get("uint64").orElseThrow().value()).isEqualTo(0x8000000000000001L);
        assertThat(l.string("string")).contains("tank/fs@s");
        assertThat((long[]) l.get("byte_array").orElseThrow().value()).containsExactly(1, 2, 0xff);
        assertThat((long[]) l.get("int16_array").orElseThrow().value()).containsExactly(-2, 7);
        assertThat((long[]) l.get("uint32_array").orElseThrow().value()).containsExactly(0xfffffffeL);
        assertThat((long[]) l.get("int64_array").orElseThrow().value()).containsExactly(-9000000000L, 1, 0);
        assertThat((long[]) l.get("uint64_array").orElseThrow().value()).containsExactly(-1L);
        assertThat(l.get("string_array").orElseThrow().value()).isEqualTo(List.of("one", "", "three"));
        assertThat(l.get("hrtime").orElseThrow().value()).isEqualTo(123456789L);
        assertThat(l.nvlist("nvlist").orElseThrow().string("k")).contains("v");
        @SuppressWarnings("unchecked")
        List<NvList> elems = (List<NvList>) l.get("nvlist_array").orElseThrow().value();
        assertThat(elems).hasSize(2);
        assertThat(elems.get(0).get("a").orElseThrow().value()).isEqualTo(1L);
        assertThat(elems.get(1).names()).containsExactly("b");
        assertThat(l.get("boolean_value").orElseThrow().value()).isEqualTo(true);
        assertThat(l.get("int8").orElseThrow().value()).isEqualTo(-128L);
        assertThat(l.get("uint8").orElseThrow().value()).isEqualTo(200L);
        assertThat((boolean[]) l.get("boolean_array").orElseThrow().value()).containsExactly(true, false, true);
        assertThat(l.get("double").orElseThrow().value()).isEqualTo(2.5);
        assertThat(l.get("empty_array").orElseThrow().value()).isEqualTo(List.of());
        assertThat(l.pairs()).hasSize(24);
    }

    @Test
    void namesAreTheCallersBytesEvenWhenOdd() throws Exception {
        NvList l = ok(golden("odd-names"));
        assertThat(l.nvlist("snaps").orElseThrow().names())
                .containsExactly("tank@\"},\"forged\":\"x", "tank@line\nbreak\u001b[31m", "tank@café-✓");
    }

    /** The test's packer is right if it reproduces libnvpair byte for byte; hostile inputs below are built with it. */
    @Test
    void packerMatchesLibnvpairByteForByte() throws Exception {
        for (String name : List.of("snapshot", "destroy-snaps", "hold", "release", "rollback-to", "empty", "odd-names", "all-types", "many-snaps")) {
            byte[] real = golden(name);
            NvList decoded = NvListDecoder.decode(real).list();
            assertThat(NvPacker.pack(decoded)).as(name).isEqualTo(real);
        }
    }

    /** The fuzzer's committed seeds are what the real libnvpair packs (regenerate: zfsclient pack DIR). */
    @Test
    void fuzzSeedsAreRealLibnvpairOutput() throws Exception {
        Path seeds = Path.of(NvListDecoderTest.class.getResource("NvListFuzzerInputs").toURI());
        List<Path> files;
        try (var s = Files.list(seeds)) {
            files = s.sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(9);
        for (Path f : files) {
            assertThat(Files.readAllBytes(f)).as(f.getFileName().toString()).isEqualTo(golden(f.getFileName().toString().replace(".bin", "")));
        }
    }

    @Test
    void nestingDeeperThanTheKernelAllowsIsRefused() throws Exception {
        // libnvpair packs 30 levels in userland; the kernel's decoder stops at 20, and so do we
        String why = error(golden("deep-30"));
        assertThat(why).contains("nested deeper than 20");
        assertThat(NvListDecoder.decode(NvPacker.pack(nest(20))).error()).isNull();
        assertThat(NvListDecoder.decode(NvPacker.pack(nest(21))).error()).contains("nested deeper than 20");
    }

    static NvList nest(int depth) {
        NvList l = names("tank@bottom");
        for (int i = 0; i < depth; i++) l = list(pair("n", NvType.NVLIST, l));
        return l;
    }

    /** Every prefix: as a complete input it is malformed; as a cut-short one it is a partial list. */
    @Test
    void everyPrefixIsAnErrorOrATruncationNeverAnException() throws Exception {
        for (String name : List.of("snapshot", "hold", "release", "all-types", "odd-names")) {
            byte[] full = golden(name);
            List<String> fullNames = flatNames(NvListDecoder.decode(full).list());
            for (int n = 0; n < full.length; n++) {
                ByteBuffer b = ByteBuffer.wrap(full);
                NvListDecoder.Result whole = NvListDecoder.decode(b, 0, n, false);
                assertThat(whole.error()).as("%s cut at %d", name, n).isNotNull();
                NvListDecoder.Result prefix = NvListDecoder.decode(b, 0, n, true);
                if (n >= 12) { // past the headers, a prefix is merely incomplete
                    assertThat(prefix.error()).as("%s cut at %d", name, n).isNull();
                    assertThat(prefix.truncated()).isTrue();
                    List<String> got = flatNames(prefix.list());
                    assertThat(fullNames.subList(0, got.size())).isEqualTo(got);
                }
            }
        }
    }

    static List<String> flatNames(NvList l) {
        List<String> out = new ArrayList<>();
        for (NvList.Pair p : l.pairs()) {
            out.add(p.name());
            if (p.value() instanceof NvList inner) out.addAll(flatNames(inner));
        }
        return out;
    }

    /** Each 32-bit field (and each 16-bit one) set to every extreme value, then each byte flipped: no exception, no hang. */
    @Test
    void everyFieldOverwrittenWithExtremeValuesIsHandled() throws Exception {
        int[] extremes = {0, 1, -1, 7, 24, 0x7fff, 0x8000, 0xffff, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x7ffffff8};
        int cases = 0;
        for (String name : List.of("snapshot", "all-types", "release", "deep-30")) {
            byte[] full = golden(name);
            for (int at = 0; at + 4 <= full.length; at += 2) {
                for (int v : extremes) {
                    byte[] m = full.clone();
                    ByteBuffer.wrap(m).order(ByteOrder.nativeOrder()).putInt(at, v);
                    decodesSafely(m);
                    cases++;
                }
            }
            for (int at = 0; at < full.length; at++) {
                byte[] m = full.clone();
                m[at] ^= (byte) 0xff;
                decodesSafely(m);
                cases++;
            }
        }
        assertThat(cases).isGreaterThan(10_000);
    }

    static void decodesSafely(byte[] m) {
        long start = System.nanoTime();
        for (boolean cut : new boolean[] {false, true}) {
            NvListDecoder.Result r = NvListDecoder.decode(ByteBuffer.wrap(m), 0, m.length, cut);
            assertThat(r).isNotNull();
            assertThat(r.list()).isNotNull();
            assertThat(r.error() == null || !r.error().startsWith("decoder failure")).as(r.error()).isTrue();
            assertThat(countPairs(r.list())).isLessThanOrEqualTo(m.length / 24 + 1);
        }
        // a hang detector, generous for a loaded machine: a valid input of this size decodes in microseconds
        assertThat(System.nanoTime() - start).as("decoding %d bytes", m.length).isLessThan(2_000_000_000L);
    }

    static int countPairs(NvList l) {
        int n = 0;
        for (NvList.Pair p : l.pairs()) {
            n++;
            if (p.value() instanceof NvList inner) n += countPairs(inner);
            if (p.value() instanceof List<?> list) for (Object o : list) if (o instanceof NvList inner) n += countPairs(inner);
        }
        return n;
    }

    // ---- the lies a caller can tell, one by one ----

    static byte[] snapshotBytes() {
        return NvPacker.pack(list(pair("snaps", NvType.NVLIST, names("tank@a", "tank@b"))));
    }

    /** Offset of the first nested pair in snapshotBytes(): header 4 + list header 8 + "snaps" pair 48. */
    static final int FIRST_INNER = 60;

    static byte[] with(byte[] b, int at, int value) {
        byte[] m = b.clone();
        ByteBuffer.wrap(m).order(ByteOrder.nativeOrder()).putInt(at, value);
        return m;
    }

    static byte[] withShort(byte[] b, int at, int value) {
        byte[] m = b.clone();
        ByteBuffer.wrap(m).order(ByteOrder.nativeOrder()).putShort(at, (short) value);
        return m;
    }

    @Test
    void pairSizeLargerThanTheInputIsRefused() {
        assertThat(error(with(snapshotBytes(), FIRST_INNER, Integer.MAX_VALUE))).contains("needs 2147483647 bytes");
        assertThat(error(with(snapshotBytes(), FIRST_INNER, -8))).contains("pair size -8");
        assertThat(error(with(snapshotBytes(), FIRST_INNER, 8))).contains("below the minimum");
    }

    @Test
    void pairSizeThatDoesNotMatchItsValueIsRefused() {
        // 8 bytes more than the BOOLEAN needs: libnvpair's i_validate_nvpair refuses it, so do we
        assertThat(error(with(snapshotBytes(), FIRST_INNER, 24 + 8))).contains("needs 24");
    }

    @Test
    void hugeElementCountsAreRefusedWithoutAllocating() {
        byte[] b = NvPacker.pack(list(pair("a", NvType.UINT64_ARRAY, new long[] {1}),
                pair("s", NvType.STRING_ARRAY, List.of("x")),
                pair("l", NvType.NVLIST_ARRAY, List.of(names("tank@x")))));
        int first = 12;
        assertThat(error(with(b, first + 8, Integer.MAX_VALUE))).contains("needs 17179869176 bytes");
        int second = first + 32;
        assertThat(error(with(b, second + 8, Integer.MAX_VALUE))).contains("needs 17179869176 bytes");
        int third = second + 40;
        assertThat(error(with(b, third + 8, 1 << 30))).contains("needs 34359738368 bytes");
        assertThat(error(with(b, first + 8, -1))).contains("with -1 elements");
    }

    @Test
    void namesMustEndExactlyAtTheirStatedLength() {
        byte[] b = snapshotBytes();
        assertThat(error(withShort(b, FIRST_INNER + 4, 3))).contains("not NUL-terminated");
        assertThat(error(withShort(b, FIRST_INNER + 4, 0))).contains("name size 0");
        assertThat(error(withShort(b, FIRST_INNER + 4, -5))).contains("name size -5");
        assertThat(error(withShort(b, FIRST_INNER + 4, 0x7fff))).contains("overflows");
        byte[] inner = b.clone();
        inner[FIRST_INNER + 16 + 2] = 0; // a NUL inside "tank@a"
        assertThat(error(inner)).contains("NUL inside");
    }

    @Test
    void stringsMustEndInsideTheirPair() {
        byte[] b = NvPacker.pack(list(pair("target", NvType.STRING, "tank@abcdefg")));
        // "target\0" -> value at 12 + 24; the 16 value bytes "tank@abcdefg\0\0\0\0": fill the NULs
        byte[] m = b.clone();
        for (int i = 12 + 24 + 12; i < 12 + 24 + 16; i++) m[i] = 'x';
        assertThat(error(m)).contains("not NUL-terminated within its pair");
    }

    @Test
    void typesAndElementCountsAreChecked() {
        byte[] b = snapshotBytes();
        assertThat(error(with(b, FIRST_INNER + 12, 99))).contains("unknown data type 99");
        assertThat(error(with(b, FIRST_INNER + 12, 0))).contains("unknown data type 0");
        assertThat(error(with(b, FIRST_INNER + 8, 1))).contains("BOOLEAN pair 'tank@a' with 1 elements");
        byte[] bv = NvPacker.pack(list(pair("x", NvType.BOOLEAN_VALUE, true)));
        assertThat(error(with(bv, 12 + 24, 2))).contains("boolean in pair 'x' is 2");
    }

    @Test
    void encodingVersionsAndByteOrderAreChecked() {
        byte[] b = snapshotBytes();
        byte[] xdr = b.clone();
        xdr[0] = 1;
        assertThat(error(xdr)).contains("XDR");
        byte[] other = b.clone();
        other[1] ^= 1;
        assertThat(error(other)).contains("other byte order");
        assertThat(error(with(b, 4, 1))).contains("nvlist version 1");
        assertThat(error(with(b, 12 + 24, 3))).contains("embedded nvlist 'snaps' has version 3");
    }

    @Test
    void missingEndMarksAreErrorsOrTruncation() {
        byte[] b = snapshotBytes();
        byte[] noEnd = java.util.Arrays.copyOf(b, b.length - 4);
        assertThat(error(noEnd)).contains("end of list");
        NvListDecoder.Result cut = NvListDecoder.decode(ByteBuffer.wrap(noEnd), 0, noEnd.length, true);
        assertThat(cut.truncated()).isTrue();
        assertThat(cut.list().nvlist("snaps").orElseThrow().names()).containsExactly("tank@a", "tank@b");
    }

    @Test
    void aBrokenPairKeepsWhatCameBefore() {
        byte[] b = snapshotBytes();
        int second = FIRST_INNER + 24; // "tank@a" BOOLEAN: 16 + 7 name bytes, aligned
        NvListDecoder.Result r = NvListDecoder.decode(with(b, second + 12, 77));
        assertThat(r.error()).contains("unknown data type 77");
        assertThat(r.list().nvlist("snaps").orElseThrow().names()).containsExactly("tank@a");
    }

    @Test
    void duplicateNamesResolveToTheLastLikeTheKernel() {
        byte[] b = NvPacker.pack(list(pair("snaps", NvType.NVLIST, names("tank@decoy")),
                pair("snaps", NvType.NVLIST, names("tank@real"))));
        assertThat(ok(b).nvlist("snaps").orElseThrow().names()).containsExactly("tank@real");
    }

    @Test
    void trailingBytesAfterTheListAreIgnoredLikeLibnvpair() {
        byte[] b = snapshotBytes();
        byte[] longer = java.util.Arrays.copyOf(b, b.length + 64);
        java.util.Arrays.fill(longer, b.length, longer.length, (byte) 0x5a);
        assertThat(ok(longer).nvlist("snaps").orElseThrow().names()).containsExactly("tank@a", "tank@b");
    }

    @Test
    void outOfRangeBoundsAreAnErrorNotAnException() {
        byte[] b = snapshotBytes();
        assertThat(NvListDecoder.decode(ByteBuffer.wrap(b), 10, b.length, false).error()).contains("bounds");
        assertThat(NvListDecoder.decode(ByteBuffer.wrap(b), -1, 4, false).error()).contains("bounds");
        assertThat(NvListDecoder.decode(new byte[0]).error()).contains("header");
    }

    @Test
    void manySmallPairsDecodeInLinearTime() {
        // the largest input the kernel side delivers, filled with the smallest valid pairs
        List<NvList.Pair> pairs = new ArrayList<>();
        for (int i = 0; i < 8192 / 24; i++) pairs.add(pair(Integer.toString(i % 10), NvType.BOOLEAN, true));
        byte[] b = NvPacker.pack(new NvList(pairs));
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) assertThat(ok(b).pairs()).hasSize(pairs.size());
        assertThat((System.nanoTime() - start) / 100).isLessThan(20_000_000L);
    }
}
