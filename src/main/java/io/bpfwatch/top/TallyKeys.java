package io.bpfwatch.top;

import java.util.Objects;

/**
 * The keys events rank under in {@code bpfwatch top} ("example.com A", "destroy ok",
 * "[2001:db8::1]:443"), kept per thread: events repeat their keys, so a writer makes each key's
 * text once instead of concatenating a new string for every event (and the ranking's hash map
 * then finds it by the same instance, its hash already computed). Direct-mapped, 256 entries; a
 * collision only means making the text again.
 */
public final class TallyKeys {
    /** Makes a key's text from its parts, on a miss. A constant (non-capturing) per kind of key. */
    public interface Text {
        String of(String a, String b, long n);
    }

    private static final int SLOTS = 256;
    private static final ThreadLocal<TallyKeys> CACHE = ThreadLocal.withInitial(TallyKeys::new);

    private final Text[] texts = new Text[SLOTS];
    private final String[] as = new String[SLOTS];
    private final String[] bs = new String[SLOTS];
    private final long[] ns = new long[SLOTS];
    private final String[] keys = new String[SLOTS];

    private TallyKeys() {
    }

    /** {@code text.of(a, b, n)}, from this thread's cache when the same parts came before. */
    public static String of(Text text, String a, String b, long n) {
        return CACHE.get().lookup(text, a, b, n);
    }

    private String lookup(Text text, String a, String b, long n) {
        int h = System.identityHashCode(text);
        h = 31 * h + (a == null ? 0 : a.hashCode());
        h = 31 * h + (b == null ? 0 : b.hashCode());
        h = 31 * h + Long.hashCode(n);
        int slot = (h ^ (h >>> 16)) & (SLOTS - 1);
        if (texts[slot] == text && ns[slot] == n && Objects.equals(as[slot], a) && Objects.equals(bs[slot], b)) {
            return keys[slot];
        }
        String key = text.of(a, b, n);
        texts[slot] = text;
        as[slot] = a;
        bs[slot] = b;
        ns[slot] = n;
        keys[slot] = key;
        return key;
    }
}
