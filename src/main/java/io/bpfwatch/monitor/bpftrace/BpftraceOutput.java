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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of {@code bpftrace -f json} output (bpftrace 0.17): a printf, printed maps (type
 * map, hist or stats), the probes attached, events bpftrace itself lost. The text is the
 * user's: bytes that are not UTF-8 come out of bpftrace as sign-extended escapes
 * ({@code \uffffffc3}), which are turned back into the bytes they were and decoded leniently.
 */
final class BpftraceOutput {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern RAW_BYTES = Pattern.compile("(?<!\\\\)(?:\\\\uffffff[0-9a-fA-F]{2})+");

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
        if (json.indexOf("\\uffffff") < 0) return json;
        Matcher m = RAW_BYTES.matcher(json);
        StringBuilder out = new StringBuilder(json.length());
        while (m.find()) {
            String run = m.group();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(run.length() / 10);
            for (int i = 0; i < run.length(); i += 10) bytes.write(Integer.parseInt(run.substring(i + 8, i + 10), 16));
            String chars = new String(bytes.toByteArray(), StandardCharsets.UTF_8);
            StringBuilder esc = new StringBuilder();
            for (int i = 0; i < chars.length(); i++) esc.append(String.format("\\u%04x", (int) chars.charAt(i)));
            m.appendReplacement(out, Matcher.quoteReplacement(esc.toString()));
        }
        m.appendTail(out);
        return out.toString();
    }
}
