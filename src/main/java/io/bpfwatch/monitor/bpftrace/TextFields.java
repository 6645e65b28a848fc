package io.bpfwatch.monitor.bpftrace;

import io.bpfwatch.event.Fields;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Iterator;
import java.util.Map;

/**
 * The fields in one line a script printed: a JSON object's members, else its {@code key=value}
 * pairs ({@code value} bare up to the next blank, or "double quoted" with \" and \\ escapes).
 * Values that read as whole or decimal numbers become numbers, true and false booleans.
 * Anything else in the line is left to the event's {@code text}.
 */
final class TextFields {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The parsed fields, and whether they came from a JSON object (then the text adds nothing). */
    record Parsed(Map<String, Object> fields, boolean json) {
    }

    private TextFields() {}

    static Parsed parse(String text) {
        String t = text.strip();
        if (t.length() >= 2 && t.charAt(0) == '{' && t.charAt(t.length() - 1) == '}') {
            try {
                JsonNode n = JSON.readTree(t);
                if (n != null && n.isObject()) {
                    Map<String, Object> out = new Fields();
                    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> e = it.next();
                        JsonNode v = e.getValue();
                        out.put(e.getKey(), v.isTextual() ? v.asText() : v.isIntegralNumber() && v.canConvertToLong() ? (Object) v.asLong() : v);
                    }
                    return new Parsed(out, true);
                }
            } catch (Exception notJson) {
                // then it is text
            }
        }
        return new Parsed(pairs(t), false);
    }

    /**
     * Every {@code key=value} that starts the text or follows a blank, comma or semicolon: a key
     * of 1 to 64 characters ({@code [A-Za-z_][A-Za-z0-9_.-]*}), then a value that is either
     * "double quoted" (a backslash escapes the next character unless that ends a line) or bare up
     * to the next blank, comma or semicolon. Scanned in one pass, never recursing: a regular
     * expression with an alternation inside a repetition (as this was) recurses once per
     * character and overflows the stack on a long quoted value.
     */
    static Map<String, Object> pairs(String t) {
        Map<String, Object> out = new Fields();
        int n = t.length();
        int i = 0;
        while (i < n) {
            if (!keyStart(t.charAt(i)) || (i > 0 && !separator(t.charAt(i - 1)))) {
                i++;
                continue;
            }
            int k = i + 1;
            while (k < n && keyPart(t.charAt(k))) k++;
            if (k - i > 64 || k >= n || t.charAt(k) != '=') {
                i++;
                continue;
            }
            int v = k + 1;
            int end = quotedEnd(t, v);
            if (end < 0) {
                end = v;
                while (end < n && !separator(t.charAt(end))) end++;
            }
            // a whole number (most values) is read in place; anything else as before
            out.put(key(t, i, k), integer(t, v, end) ? (Object) whole(t, v, end) : value(t.substring(v, end)));
            i = end;
        }
        return out;
    }

    /**
     * Keys made before, by a hash of their characters. A script prints the same few keys on
     * every line, so most lines make no key strings, and the map's hash of each key is the one
     * the cached string already computed. Racy by design: a slot holds an immutable string, and
     * whichever one a thread sees is used only if its characters are the key's.
     */
    private static final String[] KEYS = new String[512];

    /** {@code t}'s characters from {@code from} to {@code to} as a string, the cached one when it is there. */
    static String key(String t, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) h = 31 * h + t.charAt(i);
        int slot = (h ^ (h >>> 16)) & (KEYS.length - 1);
        String k = KEYS[slot];
        int len = to - from;
        if (k != null && k.length() == len && t.regionMatches(from, k, 0, len)) return k;
        k = t.substring(from, to);
        KEYS[slot] = k;
        return k;
    }

    /** Where a quoted value starting at {@code v} ends (after its closing quote), or -1. */
    private static int quotedEnd(String t, int v) {
        int n = t.length();
        if (v >= n || t.charAt(v) != '"') return -1;
        int i = v + 1;
        while (i < n) {
            char c = t.charAt(i);
            if (c == '"') return i + 1;
            if (c == '\\') {
                if (i + 1 >= n || lineEnd(t.charAt(i + 1))) return -1;
                i += 2;
            } else {
                i++;
            }
        }
        return -1;
    }

    private static boolean keyStart(char c) {
        return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_';
    }

    private static boolean keyPart(char c) {
        return keyStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-';
    }

    /** A blank as regular expressions' {@code \\s} has it (space, tab, line feed, vertical tab, form feed, carriage return), a comma or a semicolon. */
    private static boolean separator(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r' || c == ',' || c == ';';
    }

    private static boolean lineEnd(char c) {
        return c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
    }

    /** {@code -?(0|[1-9][0-9]{0,17})}: a whole number a long holds, without leading zeros. */
    static boolean integer(String s) {
        return integer(s, 0, s.length());
    }

    /** {@link #integer(String)} of {@code s}'s characters from {@code from} to {@code n}. */
    static boolean integer(String s, int from, int n) {
        int i = from < n && s.charAt(from) == '-' ? from + 1 : from;
        if (i >= n) return false;
        if (s.charAt(i) == '0') return i + 1 == n;
        if (n - i > 18) return false;
        for (int k = i; k < n; k++) if (!digit(s.charAt(k))) return false;
        return true;
    }

    /**
     * The value of characters {@link #integer(String, int, int)} accepted: at most 18 digits, so
     * no overflow, and no need for {@link Long#parseLong}'s checks and per-digit lookups.
     */
    static long whole(String s, int from, int to) {
        boolean negative = s.charAt(from) == '-';
        long v = 0;
        for (int i = negative ? from + 1 : from; i < to; i++) v = v * 10 + (s.charAt(i) - '0');
        return negative ? -v : v;
    }

    /** {@code -?(0|[1-9][0-9]*)\.[0-9]+}: a decimal number. */
    static boolean decimal(String s) {
        int n = s.length();
        int i = n > 0 && s.charAt(0) == '-' ? 1 : 0;
        if (i >= n || !digit(s.charAt(i))) return false;
        if (s.charAt(i++) != '0') while (i < n && digit(s.charAt(i))) i++;
        if (i >= n || s.charAt(i++) != '.' || i >= n) return false;
        for (; i < n; i++) if (!digit(s.charAt(i))) return false;
        return true;
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    static Object value(String raw) {
        if (raw.length() >= 2 && raw.charAt(0) == '"' && raw.charAt(raw.length() - 1) == '"') {
            StringBuilder b = new StringBuilder(raw.length());
            for (int i = 1; i < raw.length() - 1; i++) {
                char c = raw.charAt(i);
                if (c == '\\' && i + 1 < raw.length() - 1) c = raw.charAt(++i);
                b.append(c);
            }
            return b.toString();
        }
        if (integer(raw)) return Long.parseLong(raw);
        if (raw.length() < 32 && decimal(raw)) return Double.parseDouble(raw);
        if (raw.equals("true")) return Boolean.TRUE;
        if (raw.equals("false")) return Boolean.FALSE;
        return raw;
    }
}
