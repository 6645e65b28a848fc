package io.bpfwatch.monitor.bpftrace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fields in one line a script printed: a JSON object's members, else its {@code key=value}
 * pairs ({@code value} bare up to the next blank, or "double quoted" with \" and \\ escapes).
 * Values that read as whole or decimal numbers become numbers, true and false booleans.
 * Anything else in the line is left to the event's {@code text}.
 */
final class TextFields {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PAIR = Pattern.compile("(?<![^\\s,;])([A-Za-z_][A-Za-z0-9_.-]{0,63})=(\"(?:[^\"\\\\]|\\\\.)*\"|[^\\s,;]*)");
    private static final Pattern INTEGER = Pattern.compile("-?(0|[1-9][0-9]{0,17})");
    private static final Pattern DECIMAL = Pattern.compile("-?(0|[1-9][0-9]*)\\.[0-9]+");

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
                    Map<String, Object> out = new LinkedHashMap<>();
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
        Map<String, Object> out = new LinkedHashMap<>();
        Matcher m = PAIR.matcher(t);
        while (m.find()) out.put(m.group(1), value(m.group(2)));
        return new Parsed(out, false);
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
        if (INTEGER.matcher(raw).matches()) return Long.parseLong(raw);
        if (DECIMAL.matcher(raw).matches() && raw.length() < 32) return Double.parseDouble(raw);
        if (raw.equals("true")) return Boolean.TRUE;
        if (raw.equals("false")) return Boolean.FALSE;
        return raw;
    }
}
