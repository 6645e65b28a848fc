package io.bpfwatch.monitor.zfs;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A decoded nvlist: its pairs in stream order. Values are Boolean (BOOLEAN, BOOLEAN_VALUE),
 * Long (integers; UINT64 as its two's complement), Double, String, long[] (integer arrays),
 * boolean[], List&lt;String&gt;, NvList or List&lt;NvList&gt;.
 */
public record NvList(List<Pair> pairs) {
    public static final NvList EMPTY = new NvList(List.of());

    public record Pair(String name, NvType type, Object value) {
    }

    /**
     * The value named {@code name}. With duplicate names the last one wins, as in the kernel:
     * libnvpair's lookup table keeps the pair decoded last.
     */
    public Optional<Pair> get(String name) {
        for (int i = pairs.size() - 1; i >= 0; i--) {
            if (pairs.get(i).name.equals(name)) return Optional.of(pairs.get(i));
        }
        return Optional.empty();
    }

    public Optional<NvList> nvlist(String name) {
        return get(name).filter(p -> p.type == NvType.NVLIST).map(p -> (NvList) p.value);
    }

    public Optional<String> string(String name) {
        return get(name).filter(p -> p.type == NvType.STRING).map(p -> (String) p.value);
    }

    /** The names of the pairs, in order, without duplicates. */
    public List<String> names() {
        Set<String> out = new LinkedHashSet<>();
        for (Pair p : pairs) out.add(p.name);
        return new ArrayList<>(out);
    }
}
