package io.bpfwatch.event;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The log line writer is what keeps attacker-chosen names (process, DNS, snapshot names, a custom
 * monitor's strings) inside their fields: whatever strings and numbers an event carries, its line
 * is one line that a JSON parser reads back as the same fields, in order, with the same values
 * (lone surrogates included). Fuzzed in its own JVM for a bounded time (pom.xml: json-line-fuzz).
 */
class JsonLineFuzzer {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = "30s")
    void anyFieldsMakeOneLineThatReadsBackAsThemselves(FuzzedDataProvider data) throws Exception {
        Map<String, Object> fields = new LinkedHashMap<>();
        int n = data.consumeInt(0, 8);
        for (int i = 0; i < n; i++) fields.put(data.consumeString(64), value(data, 0));
        String comm = data.consumeString(32);
        FieldsEvent e = new FieldsEvent(data.consumeLong(), data.consumeInt(), data.consumeInt(), comm, data.consumeString(16),
                data.consumeString(16), fields);
        String line = JsonLineEncoder.toLine(e);
        if (line.indexOf('\n') != line.length() - 1) throw new AssertionError("not one line: " + line);
        if (line.indexOf('\r') >= 0) throw new AssertionError("carriage return in " + line);
        JsonNode got = JSON.readTree(line);
        List<String> own = List.copyOf(fields.keySet());
        if (!own.contains("comm") && !got.get("comm").textValue().equals(comm)) throw new AssertionError("comm changed: " + line);
        if (!own.contains("monitor") && !got.get("monitor").textValue().equals(e.monitor())) {
            throw new AssertionError("monitor changed: " + line);
        }
        // the common fields first (time, monitor, event, pid, uid, comm), then the event's own, in order;
        // a field named like a common one would be a duplicate key, which the reader merges
        List<String> names = new ArrayList<>();
        got.fieldNames().forEachRemaining(names::add);
        List<String> expected = new ArrayList<>(List.of("time", "monitor", "event", "pid", "uid", "comm"));
        for (String k : fields.keySet()) if (!expected.contains(k)) expected.add(k);
        if (!names.equals(expected)) throw new AssertionError("fields " + names + ", expected " + expected + ": " + line);
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            if (List.of("time", "monitor", "event", "pid", "uid", "comm").contains(f.getKey())) continue;
            if (!same(f.getValue(), got.get(f.getKey()))) throw new AssertionError("field " + f.getKey() + " changed: " + line);
        }
    }

    private static Object value(FuzzedDataProvider data, int depth) {
        switch (data.consumeInt(0, depth < 3 ? 6 : 4)) {
            case 0:
                return data.consumeString(128);
            case 1:
                return data.consumeLong();
            case 2:
                return data.consumeRegularDouble();
            case 3:
                return data.consumeBoolean();
            case 4:
                return null;
            case 5: {
                List<Object> l = new ArrayList<>();
                for (int i = data.consumeInt(0, 4); i > 0; i--) l.add(value(data, depth + 1));
                return l;
            }
            default: {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = data.consumeInt(0, 4); i > 0; i--) m.put(data.consumeString(16), value(data, depth + 1));
                return m;
            }
        }
    }

    private static boolean same(Object v, JsonNode n) {
        if (v == null) return n.isNull();
        if (v instanceof String s) return n.isTextual() && n.textValue().equals(s);
        if (v instanceof Long l) return n.isIntegralNumber() && n.canConvertToLong() && n.longValue() == l;
        if (v instanceof Double d) return n.isNumber() && n.doubleValue() == d;
        if (v instanceof Boolean b) return n.isBoolean() && n.booleanValue() == b;
        if (v instanceof List<?> l) {
            if (!n.isArray() || n.size() != l.size()) return false;
            for (int i = 0; i < l.size(); i++) if (!same(l.get(i), n.get(i))) return false;
            return true;
        }
        if (v instanceof Map<?, ?> m) {
            if (!n.isObject()) return false;
            Map<String, Object> byName = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) byName.put((String) e.getKey(), e.getValue());
            if (n.size() != byName.size()) return false;
            for (Map.Entry<String, Object> e : byName.entrySet()) if (!n.has(e.getKey()) || !same(e.getValue(), n.get(e.getKey()))) return false;
            return true;
        }
        return false;
    }
}
