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

    /** One printf call's text, without its final newline. */
    record Printf(String text) implements Message {
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
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            int end = at;
            for (; rawByte(json, end); end += 10) bytes.write(Integer.parseInt(json, end + 8, end + 10, 16));
            out.append(json, copied, at);
            String chars = new String(bytes.toByteArray(), StandardCharsets.UTF_8);
            for (int i = 0; i < chars.length(); i++) out.append(String.format("\\u%04x", (int) chars.charAt(i)));
            copied = end;
            at = json.indexOf("\\uffffff", end);
        }
        out.append(json, copied, json.length());
        return out.toString();
    }

    /** Whether {@code \\uffffffXX} (X a hex digit) starts at {@code i}. */
    private static boolean rawByte(String s, int i) {
        return i + 10 <= s.length() && s.startsWith("\\uffffff", i) && hex(s.charAt(i + 8)) && hex(s.charAt(i + 9));
    }

    private static boolean hex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }
}
