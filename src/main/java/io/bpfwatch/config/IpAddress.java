package io.bpfwatch.config;

/**
 * IP literals to bytes and back without DNS or InetAddress allocation. Text output follows
 * RFC 5952 (lowercase, longest zero run compressed, IPv4-mapped shown as ::ffff:a.b.c.d).
 */
public final class IpAddress {
    private IpAddress() {}

    /** 4 or 16 bytes, or null if {@code s} is not an IP literal. */
    public static byte[] parse(String s) {
        if (s.indexOf(':') >= 0) return parseV6(s);
        return parseV4(s);
    }

    /**
     * a.b.c.d: four decimal parts of one to three digits, each at most 255, none with a leading
     * zero (no octal-looking forms). By hand, not by regex: the dns monitor parses every answer's
     * addresses with it.
     */
    static byte[] parseV4(String s) {
        int n = s.length();
        byte[] b = new byte[4];
        int i = 0;
        for (int part = 0; ; ) {
            int start = i, v = 0;
            while (i < n && i - start < 3) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') break;
                v = v * 10 + (c - '0');
                i++;
            }
            if (i == start || v > 255 || (i - start > 1 && s.charAt(start) == '0')) return null;
            b[part++] = (byte) v;
            if (part == 4) return i == n ? b : null;
            if (i >= n || s.charAt(i) != '.') return null;
            i++;
        }
    }

    static byte[] parseV6(String s) {
        if (s.startsWith("[") && s.endsWith("]")) s = s.substring(1, s.length() - 1);
        if (s.indexOf('%') >= 0) return null;
        int dbl = s.indexOf("::");
        if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) return null;
        String head = dbl >= 0 ? s.substring(0, dbl) : s;
        String tail = dbl >= 0 ? s.substring(dbl + 2) : "";
        int[] words = new int[8];
        int[] h = groups(head);
        int[] t = groups(tail);
        if (h == null || t == null) return null;
        // an embedded IPv4 tail counts as two groups
        int total = h.length + t.length;
        if (dbl < 0 && total != 8) return null;
        if (dbl >= 0 && total > 7) return null;
        System.arraycopy(h, 0, words, 0, h.length);
        System.arraycopy(t, 0, words, 8 - t.length, t.length);
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[2 * i] = (byte) (words[i] >> 8);
            b[2 * i + 1] = (byte) words[i];
        }
        return b;
    }

    private static int[] groups(String part) {
        if (part.isEmpty()) return new int[0];
        String[] g = part.split(":", -1);
        boolean v4Tail = g[g.length - 1].indexOf('.') >= 0;
        int[] out = new int[g.length + (v4Tail ? 1 : 0)];
        for (int i = 0; i < g.length; i++) {
            if (v4Tail && i == g.length - 1) {
                byte[] v4 = parseV4(g[i]);
                if (v4 == null) return null;
                out[i] = (v4[0] & 0xff) << 8 | (v4[1] & 0xff);
                out[i + 1] = (v4[2] & 0xff) << 8 | (v4[3] & 0xff);
            } else {
                if (!hexGroup(g[i])) return null;
                out[i] = Integer.parseInt(g[i], 16);
            }
        }
        return out;
    }

    /** One to four hex digits. */
    private static boolean hexGroup(String g) {
        if (g.isEmpty() || g.length() > 4) return false;
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) return false;
        }
        return true;
    }

    public static boolean isV4Mapped(byte[] a, int off) {
        for (int i = 0; i < 10; i++) if (a[off + i] != 0) return false;
        return a[off + 10] == (byte) 0xff && a[off + 11] == (byte) 0xff;
    }

    public static String format(byte[] a) {
        return format(a, 0, a.length);
    }

    public static String format(byte[] a, int off, int len) {
        StringBuilder sb = new StringBuilder(len == 4 ? 15 : 39);
        append(sb, a, off, len);
        return sb.toString();
    }

    public static void append(StringBuilder sb, byte[] a, int off, int len) {
        if (len == 4) {
            for (int i = 0; i < 4; i++) {
                if (i > 0) sb.append('.');
                sb.append(a[off + i] & 0xff);
            }
            return;
        }
        if (isV4Mapped(a, off)) {
            sb.append("::ffff:");
            append(sb, a, off + 12, 4);
            return;
        }
        int[] w = new int[8];
        for (int i = 0; i < 8; i++) w[i] = (a[off + 2 * i] & 0xff) << 8 | (a[off + 2 * i + 1] & 0xff);
        int bestStart = -1, bestLen = 1; // RFC 5952: only runs of two or more zero groups
        for (int i = 0; i < 8; ) {
            if (w[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && w[j] == 0) j++;
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (i > 0 && i != bestStart + bestLen) sb.append(':');
            sb.append(Integer.toHexString(w[i]));
        }
    }
}
