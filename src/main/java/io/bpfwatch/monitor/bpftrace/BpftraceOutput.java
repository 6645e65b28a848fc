package io.bpfwatch.monitor.bpftrace;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.monitor.Decoder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of {@code bpftrace -f json} output (bpftrace 0.17): a printf, printed maps (type
 * map, hist or stats), the probes attached, events bpftrace itself lost. The text is the
 * user's: bytes that are not UTF-8 come out of bpftrace as sign-extended escapes
 * ({@code \uffffffc3}), which are turned back into the bytes they were and decoded leniently.
 */
final class BpftraceOutput {
    private static final ObjectMapper JSON = new ObjectMapper();

    sealed interface Message permits Printf, Maps, Attached, Lost, Other {
    }

    /**
     * One printf call's text, without its final newline. {@code latin1}: every character of it is
     * ISO-8859-1 (it was read from bytes as such), so its JSON line may copy it as bytes. Equal
     * texts are equal Printfs whichever path read them.
     */
    record Printf(String text, boolean latin1) implements Message {
        Printf(String text) {
            this(text, false);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Printf p && p.text.equals(text);
        }

        @Override
        public int hashCode() {
            return text.hashCode();
        }
    }

    /** Maps printed by print(), at exit, or by interval probes: {@code type} map, hist or stats. */
    record Maps(String type, Map<String, JsonNode> maps) implements Message {
    }

    record Attached(int probes) implements Message {
    }

    /** Events bpftrace's own perf buffer dropped. */
    record Lost(long events) implements Message {
    }

    /** Anything else (time, join, syscall output...): ignored. */
    record Other(String type) implements Message {
    }

    private BpftraceOutput() {}

    static Message parse(byte[] line, int len) throws Decoder.Refused {
        Printf fast = fastPrintf(line, len);
        if (fast != null) return fast;
        return parseAny(line, len);
    }

    /** What {@link #parse} answers without its fast path (the reference the fast path must agree with). */
    static Message parseAny(byte[] line, int len) throws Decoder.Refused {
        String text = repair(decode(line, len));
        Printf p = printf(text);
        if (p != null) return p;
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (Exception e) {
            throw new Decoder.Refused("bpftrace printed a line that is not JSON (" + len + " bytes)");
        }
        if (n == null || !n.isObject() || !n.path("type").isTextual()) {
            throw new Decoder.Refused("bpftrace printed JSON without a type (" + len + " bytes)");
        }
        String type = n.get("type").asText();
        JsonNode data = n.path("data");
        switch (type) {
            case "printf":
                String s = data.asText("");
                return new Printf(s.endsWith("\n") ? s.substring(0, s.length() - 1) : s);
            case "map", "hist", "stats":
                Map<String, JsonNode> maps = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = data.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    maps.put(e.getKey(), e.getValue());
                }
                return new Maps(type, maps);
            case "attached_probes":
                return new Attached(data.path("probes").asInt());
            case "lost_events":
                return new Lost(data.path("events").asLong());
            default:
                return new Other(type);
        }
    }

    /**
     * The common case without building a tree: {"type": "printf", "data": "..."} (bpftrace writes
     * the type first). Null for anything else, which the tree parser then reads.
     */
    private static Printf printf(String text) {
        try (JsonParser p = JSON.getFactory().createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT || p.nextToken() != JsonToken.FIELD_NAME || !"type".equals(p.getCurrentName())) return null;
            if (!"printf".equals(p.nextTextValue())) return null;
            if (p.nextToken() != JsonToken.FIELD_NAME || !"data".equals(p.getCurrentName())) return null;
            String s = p.nextTextValue();
            if (s == null || p.nextToken() != JsonToken.END_OBJECT) return null;
            return new Printf(s.endsWith("\n") ? s.substring(0, s.length() - 1) : s);
        } catch (IOException e) {
            return null;
        }
    }

    private static final byte[] PRINTF = "{\"type\": \"printf\", \"data\": \"".getBytes(StandardCharsets.US_ASCII);

    /**
     * A printf line exactly as bpftrace writes it, {"type": "printf", "data": "..."} and nothing
     * after, read from the bytes without a JSON parser: most lines a script prints. Null for
     * anything else or anything unusual (other spacing, a raw control character, an escape
     * JSON does not have, a raw byte right after an escaped backslash), which the general
     * parser then reads; where this answers, it answers what {@link #parseAny} does.
     */
    static Printf fastPrintf(byte[] line, int len) {
        int start = PRINTF.length;
        if (len < start + 2 || line[len - 1] != '}' || line[len - 2] != '"') return null;
        for (int i = 0; i < start; i++) if (line[i] != PRINTF[i]) return null;
        // most lines, read from the bytes: printable ASCII (where UTF-8 and Latin-1 read alike)
        // with one-character escapes (\" \\ \n ...), in one copy, or two with escapes other than
        // the final newline; anything else (non-ASCII, \\u escapes) is left to the path below
        Printf ascii = asciiPrintf(line, start, len - 2);
        if (ascii != null) return ascii;
        // decoded whole, as the general parser decodes the line: malformed bytes become U+FFFD alike
        String body = new String(line, start, len - 2 - start, StandardCharsets.UTF_8);
        int n = body.length();
        int first = 0;
        for (; first < n; first++) {
            char c = body.charAt(first);
            if (c == '\\') break;
            if (c == '"' || c < 0x20) return null;
        }
        if (first == n) return new Printf(body);
        // the usual line: its only escape the final newline
        if (first == n - 2 && body.charAt(n - 1) == 'n') return new Printf(body.substring(0, first));
        StringBuilder out = new StringBuilder(n).append(body, 0, first);
        boolean afterBackslash = false;
        for (int i = first; i < n; ) {
            char c = body.charAt(i);
            if (c != '\\') {
                if (c == '"' || c < 0x20) return null;
                out.append(c);
                i++;
                afterBackslash = false;
                continue;
            }
            if (i + 1 >= n) return null;
            char e = body.charAt(i + 1);
            i += 2;
            boolean backslash = false;
            switch (e) {
                case '"' -> out.append('"');
                case '\\' -> {
                    out.append('\\');
                    backslash = true;
                }
                case '/' -> out.append('/');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    int at = i - 2;
                    if (rawByte(body, at)) {
                        if (afterBackslash) return null; // the general parser reads this run as text
                        int end = rawRunEnd(body, at);
                        out.append(rawRun(body, at, end));
                        i = end;
                    } else {
                        if (i + 4 > n) return null;
                        int v = 0;
                        for (int k = i; k < i + 4; k++) {
                            char h = body.charAt(k);
                            if (!hex(h)) return null;
                            v = v << 4 | Character.digit(h, 16);
                        }
                        out.append((char) v);
                        i += 4;
                    }
                }
                default -> {
                    return null;
                }
            }
            afterBackslash = backslash;
        }
        int m = out.length();
        if (m > 0 && out.charAt(m - 1) == '\n') out.setLength(m - 1);
        return new Printf(out.toString());
    }

    /** {@link #fastPrintf}'s body in {@code [start, close)} when it is printable ASCII with one-character escapes; else null. */
    private static Printf asciiPrintf(byte[] line, int start, int close) {
        byte[] out = null; // made at the first escape that is not the final newline
        int k = 0;
        for (int i = start; i < close; ) {
            byte b = line[i];
            if (b != '\\') {
                if (b < 0x20 || b == '"') return null; // (bytes past 0x7f are negative)
                if (out != null) out[k++] = b;
                i++;
                continue;
            }
            if (i + 1 >= close) return null;
            byte c;
            switch (line[i + 1]) {
                case '"' -> c = '"';
                case '\\' -> c = '\\';
                case '/' -> c = '/';
                case 'b' -> c = '\b';
                case 'f' -> c = '\f';
                case 'n' -> c = '\n';
                case 'r' -> c = '\r';
                case 't' -> c = '\t';
                default -> {
                    return null;
                }
            }
            if (c == '\n' && i + 2 == close && out == null) { // the usual line: its only escape the final newline
                return new Printf(new String(line, start, i - start, StandardCharsets.ISO_8859_1), true);
            }
            if (out == null) {
                out = new byte[close - start];
                k = i - start;
                System.arraycopy(line, start, out, 0, k);
            }
            out[k++] = c;
            i += 2;
        }
        if (out == null) return new Printf(new String(line, start, close - start, StandardCharsets.ISO_8859_1), true);
        if (k > 0 && out[k - 1] == '\n') k--;
        return new Printf(new String(out, 0, k, StandardCharsets.ISO_8859_1), true);
    }

    /** The line as UTF-8, bytes that are not replaced by U+FFFD. */
    private static String decode(byte[] line, int len) {
        return new String(line, 0, len, StandardCharsets.UTF_8); // malformed input becomes U+FFFD
    }

    /** Runs of {@code \uffffffXX} (one raw byte each) as the characters those bytes encode, escaped again. */
    static String repair(String json) {
        int at = json.indexOf("\\uffffff");
        if (at < 0) return json;
        StringBuilder out = new StringBuilder(json.length());
        int copied = 0;
        while (at >= 0) {
            if (!rawByte(json, at) || (at > 0 && json.charAt(at - 1) == '\\')) {
                at = json.indexOf("\\uffffff", at + 1);
                continue;
            }
            int end = rawRunEnd(json, at);
            out.append(json, copied, at);
            String chars = rawRun(json, at, end);
            for (int i = 0; i < chars.length(); i++) out.append(String.format("\\u%04x", (int) chars.charAt(i)));
            copied = end;
            at = json.indexOf("\\uffffff", end);
        }
        out.append(json, copied, json.length());
        return out.toString();
    }

    /** Where the run of {@code \\uffffffXX} escapes starting at {@code at} ends. */
    private static int rawRunEnd(String s, int at) {
        while (rawByte(s, at)) at += 10;
        return at;
    }

    /** The run of raw-byte escapes in {@code [at, end)} as the characters those bytes encode (leniently). */
    private static String rawRun(String s, int at, int end) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (; at < end; at += 10) bytes.write(Integer.parseInt(s, at + 8, at + 10, 16));
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    /** Whether {@code \\uffffffXX} (X a hex digit) starts at {@code i}. */
    private static boolean rawByte(String s, int i) {
        return i + 10 <= s.length() && s.startsWith("\\uffffff", i) && hex(s.charAt(i + 8)) && hex(s.charAt(i + 9));
    }

    private static boolean hex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }
}
