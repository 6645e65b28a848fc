package io.bpfwatch.monitor.zfs;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.bpfwatch.event.EventHeader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Coverage-guided fuzzing (Jazzer) of the nvlist decoder and the zfs record decoder: any bytes
 * at all, starting from a committed corpus of nvlists packed by the real libnvpair
 * (NvListFuzzerInputs: `zfsclient pack DIR` writes them) and hostile variants.
 * Surefire runs it in its own JVM, in fuzzing mode, for a bounded time (pom.xml: the
 * nvlist-fuzz execution); its name keeps it out of the ordinary test run.
 */
class NvListFuzzer {
    @FuzzTest(maxDuration = "30s")
    @DictionaryFile(resourcePath = "nvlist.dict")
    void decodersNeverThrowAndAgreeWithThemselves(byte[] input) throws Exception {
        // the kernel side delivers at most NVL_MAX bytes; longer inputs only slow the search
        if (input.length > ZfsDecoder.NVL_MAX) input = Arrays.copyOf(input, ZfsDecoder.NVL_MAX);
        NvListDecoder.Result r = NvListDecoder.decode(input);
        assertThat(r.error() == null || !r.error().startsWith("decoder failure")).as(String.valueOf(r.error())).isTrue();
        assertThat(pairs(r.list())).isLessThanOrEqualTo(input.length / 24 + 1);

        if (r.ok()) {
            // what decoded cleanly packs and decodes to the same list
            NvListDecoder.Result again = NvListDecoder.decode(NvPacker.pack(r.list()));
            assertThat(again.ok()).isTrue();
            assertThat(render(again.list())).isEqualTo(render(r.list()));
            // and every prefix past the headers is a clean, truncated part of it
            int cut = 12 + (input.length > 12 ? (input[input.length - 1] & 0xff) % (input.length - 12) : 0);
            if (cut < input.length) {
                NvListDecoder.Result prefix = NvListDecoder.decode(ByteBuffer.wrap(input), 0, cut, true);
                assertThat(prefix.error()).isNull();
                List<String> all = names(r.list()), some = names(prefix.list());
                assertThat(some.size()).isLessThanOrEqualTo(all.size());
                assertThat(all.subList(0, some.size())).isEqualTo(some);
            }
        }

        // the same bytes as the nvlist of a kernel record, for one audited command (picked by the input)
        ZfsDecoder decoder = new ZfsDecoder(new EventHeader());
        int len = Math.min(input.length, ZfsDecoder.NVL_MAX);
        // the name: the input's first bytes as the caller's zc_name (no NUL in the first nameLen bytes is fine too)
        int nameLen = Math.min(input.length, ZfsDecoder.NAME_LEN);
        ByteBuffer rec = ByteBuffer.allocate(ZfsDecoder.DATA + nameLen + len).order(ByteOrder.nativeOrder());
        rec.put(ZfsDecoder.DATA, input, 0, nameLen);
        rec.put(ZfsDecoder.DATA + nameLen, input, 0, len);
        rec.putShort(ZfsDecoder.NAME_LENGTH, (short) nameLen);
        rec.putInt(ZfsDecoder.NVL_LEN, len).putLong(ZfsDecoder.NVL_SIZE, input.length);
        ZfsAction a = ZfsAction.values()[input.length == 0 ? 0 : (input[0] & 0xff) % ZfsAction.values().length];
        rec.putInt(ZfsDecoder.CMD, a.cmd);
        ZfsEvent e = decoder.decode(rec, 0, rec.capacity()); // refusing a record whose lengths fit would throw
        assertThat(e.action).isEqualTo(a);
        assertThat(e.snapshots).doesNotContainNull();
    }

    static int pairs(NvList l) {
        int n = 0;
        for (NvList.Pair p : l.pairs()) {
            n++;
            if (p.value() instanceof NvList inner) n += pairs(inner);
            if (p.value() instanceof List<?> list) for (Object o : list) if (o instanceof NvList inner) n += pairs(inner);
        }
        return n;
    }

    static List<String> names(NvList l) {
        List<String> out = new ArrayList<>();
        for (NvList.Pair p : l.pairs()) {
            out.add(p.name());
            if (p.value() instanceof NvList inner) out.addAll(names(inner));
            if (p.value() instanceof List<?> list) for (Object o : list) if (o instanceof NvList inner) out.addAll(names(inner));
        }
        return out;
    }

    /** A list as text, arrays by content, so two decodings can be compared. */
    static String render(NvList l) {
        StringBuilder s = new StringBuilder("{");
        for (NvList.Pair p : l.pairs()) {
            s.append(p.name()).append(':').append(p.type()).append('=');
            Object v = p.value();
            if (v instanceof NvList inner) s.append(render(inner));
            else if (v instanceof long[] a) s.append(Arrays.toString(a));
            else if (v instanceof boolean[] a) s.append(Arrays.toString(a));
            else if (v instanceof List<?> list) {
                s.append('[');
                for (Object o : list) s.append(o instanceof NvList inner ? render(inner) : String.valueOf(o)).append(',');
                s.append(']');
            } else s.append(v);
            s.append(';');
        }
        return s.append('}').toString();
    }
}
