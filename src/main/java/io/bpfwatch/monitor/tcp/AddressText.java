package io.bpfwatch.monitor.tcp;

import io.bpfwatch.config.IpAddress;

import java.util.Arrays;

/**
 * The text of addresses already written, per thread: connections go to few distinct addresses,
 * so the writer formats each once instead of twice per event. Direct-mapped, 256 entries; a
 * collision only means formatting again.
 */
final class AddressText {
    private static final int SLOTS = 256;
    private static final ThreadLocal<AddressText> CACHE = ThreadLocal.withInitial(AddressText::new);

    private final byte[][] keys = new byte[SLOTS][];
    private final String[] texts = new String[SLOTS];

    static String of(byte[] a, int off, int len) {
        return CACHE.get().lookup(a, off, len);
    }

    private String lookup(byte[] a, int off, int len) {
        int h = len;
        for (int i = 0; i < len; i++) h = 31 * h + a[off + i];
        int slot = (h ^ (h >>> 16)) & (SLOTS - 1);
        byte[] k = keys[slot];
        if (k != null && Arrays.equals(k, 0, k.length, a, off, off + len)) return texts[slot];
        String text = IpAddress.format(a, off, len);
        keys[slot] = Arrays.copyOfRange(a, off, off + len);
        texts[slot] = text;
        return text;
    }
}
