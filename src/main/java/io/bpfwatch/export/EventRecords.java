package io.bpfwatch.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.POJONode;
import com.fasterxml.jackson.databind.util.RawValue;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.bpfwatch.context.ProcessContext;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.JsonLineEncoder;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.data.Body;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Events as OTLP log records. The record's attributes are the event's fields under the names the
 * JSON line uses (pid, comm, qname, daddr, ...; nested objects as dotted names, lists of one
 * kind as arrays, other lists as JSON text); its body is the JSON line itself, so a collector
 * that forwards bodies (Loki, a file) gets what the log file has; its event name is
 * {@code bpfwatch.MONITOR.EVENT}; its severity WARN for an event that raised an alert, else INFO.
 * Its resource names the host, bpfwatch and the monitor. Not thread-safe: one per export thread.
 */
final class EventRecords {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final InstrumentationScopeInfo scope;
    private final Function<String, Resource> resourceOf;
    private final JsonLineEncoder line = new JsonLineEncoder();

    EventRecords(InstrumentationScopeInfo scope, Function<String, Resource> resourceOf) {
        this.scope = scope;
        this.resourceOf = resourceOf;
    }

    LogRecordData record(Event e, long observedNanos) throws IOException {
        AttributesBuilder a = Attributes.builder();
        a.put("event", e.event());
        if (e.comm != null) {
            a.put("pid", e.pid);
            a.put("uid", e.uid & 0xffffffffL);
            a.put("comm", e.comm);
        }
        ProcessContext c = e.context;
        if (c != null) {
            if (c.ppid > 0) {
                a.put("ppid", c.ppid);
                if (c.pcomm != null) a.put("pcomm", c.pcomm);
            }
            put(a, "exe", c.exe);
            put(a, "cgroup", c.cgroup);
            put(a, "unit", c.unit);
            put(a, "container", c.container);
            put(a, "pod", c.pod);
        }
        TokenBuffer fields = new TokenBuffer(JSON, false);
        fields.writeStartObject();
        e.writeFields(fields);
        fields.writeEndObject();
        JsonNode tree = JSON.readTree(fields.asParser());
        boolean alert = false;
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("alert") && f.getValue().isBoolean() && f.getValue().booleanValue()) alert = true;
            attribute(a, f.getKey(), f.getValue(), 0);
        }
        line.reset();
        int n = line.append(e);
        String body = new String(line.array(), 0, n - 1, StandardCharsets.UTF_8);
        return new Record(resourceOf.apply(e.monitor()), scope, e.time, observedNanos, alert ? Severity.WARN : Severity.INFO,
                body, a.build(), "bpfwatch." + e.monitor() + "." + e.event());
    }

    private static void put(AttributesBuilder a, String key, String value) {
        if (value != null) a.put(key, value);
    }

    /** One field: scalars as themselves, objects as dotted names, lists of one kind as arrays, other lists as JSON text. */
    static void attribute(AttributesBuilder a, String key, JsonNode v, int depth) {
        if (v == null || v.isNull() || v.isMissingNode()) return;
        if (v.isTextual()) {
            a.put(key, v.textValue());
        } else if (v.isBoolean()) {
            a.put(key, v.booleanValue());
        } else if (v.isIntegralNumber()) {
            if (v.canConvertToLong()) a.put(key, v.longValue());
            else a.put(key, v.asText());
        } else if (v.isNumber()) {
            a.put(key, v.doubleValue());
        } else if (v instanceof POJONode p && p.getPojo() instanceof RawValue raw) {
            // a number written raw (Event.writeMillis)
            String text = String.valueOf(raw.rawValue());
            try {
                a.put(key, Double.parseDouble(text));
            } catch (NumberFormatException x) {
                a.put(key, text);
            }
        } else if (v.isObject() && depth < 4) {
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                attribute(a, key + "." + f.getKey(), f.getValue(), depth + 1);
            }
        } else if (v.isArray()) {
            array(a, key, v);
        } else {
            a.put(key, v.toString());
        }
    }

    private static void array(AttributesBuilder a, String key, JsonNode v) {
        boolean strings = true, longs = true, doubles = true, bools = true;
        for (JsonNode x : v) {
            strings &= x.isTextual();
            longs &= x.isIntegralNumber() && x.canConvertToLong();
            doubles &= x.isNumber();
            bools &= x.isBoolean();
        }
        if (strings) {
            List<String> out = new ArrayList<>(v.size());
            for (JsonNode x : v) out.add(x.textValue());
            a.put(AttributeKey.stringArrayKey(key), out);
        } else if (longs) {
            List<Long> out = new ArrayList<>(v.size());
            for (JsonNode x : v) out.add(x.longValue());
            a.put(AttributeKey.longArrayKey(key), out);
        } else if (doubles) {
            List<Double> out = new ArrayList<>(v.size());
            for (JsonNode x : v) out.add(x.doubleValue());
            a.put(AttributeKey.doubleArrayKey(key), out);
        } else if (bools) {
            List<Boolean> out = new ArrayList<>(v.size());
            for (JsonNode x : v) out.add(x.booleanValue());
            a.put(AttributeKey.booleanArrayKey(key), out);
        } else {
            a.put(key, v.toString());
        }
    }

    /** An immutable log record. */
    record Record(Resource resource, InstrumentationScopeInfo scope, long time, long observed, Severity severity,
                  String body, Attributes attributes, String eventName) implements LogRecordData {
        @Override
        public Resource getResource() {
            return resource;
        }

        @Override
        public InstrumentationScopeInfo getInstrumentationScopeInfo() {
            return scope;
        }

        @Override
        public long getTimestampEpochNanos() {
            return time;
        }

        @Override
        public long getObservedTimestampEpochNanos() {
            return observed;
        }

        @Override
        public SpanContext getSpanContext() {
            return SpanContext.getInvalid();
        }

        @Override
        public Severity getSeverity() {
            return severity;
        }

        @Override
        public String getSeverityText() {
            return severity.name();
        }

        @Override
        @SuppressWarnings("deprecation")
        public Body getBody() {
            return Body.string(body);
        }

        @Override
        public Value<?> getBodyValue() {
            return Value.of(body);
        }

        @Override
        public Attributes getAttributes() {
            return attributes;
        }

        @Override
        public int getTotalAttributeCount() {
            return attributes.size();
        }

        @Override
        public String getEventName() {
            return eventName;
        }
    }
}
