package io.bpfwatch.export;

import io.bpfwatch.context.ProcessContext;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.JsonLineEncoder;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.data.Body;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
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
    private final InstrumentationScopeInfo scope;
    private final Function<String, Resource> resourceOf;
    private final JsonLineEncoder line = new JsonLineEncoder();
    private final AttributesGenerator fields = new AttributesGenerator();

    EventRecords(InstrumentationScopeInfo scope, Function<String, Resource> resourceOf) {
        this.scope = scope;
        this.resourceOf = resourceOf;
    }

    private static final AttributeKey<String> EVENT = AttributeKey.stringKey("event"), COMM = AttributeKey.stringKey("comm"),
            PCOMM = AttributeKey.stringKey("pcomm"), EXE = AttributeKey.stringKey("exe"), CGROUP = AttributeKey.stringKey("cgroup"),
            UNIT = AttributeKey.stringKey("unit"), CONTAINER = AttributeKey.stringKey("container"), POD = AttributeKey.stringKey("pod");
    private static final AttributeKey<Long> PID = AttributeKey.longKey("pid"), UID = AttributeKey.longKey("uid"),
            PPID = AttributeKey.longKey("ppid");
    /** bpfwatch.MONITOR.EVENT, made once per pair. */
    private final Map<String, Map<String, String>> eventNames = new HashMap<>();
    /** The most attributes a record has had: the next ones are made that large at once. */
    private int expected = 16;

    LogRecordData record(Event e, long observedNanos) throws IOException {
        EventAttributes a = new EventAttributes(expected);
        String event = e.event();
        a.put(EVENT, event);
        if (e.comm != null) {
            a.put(PID, (long) e.pid);
            a.put(UID, e.uid & 0xffffffffL);
            a.put(COMM, e.comm);
        }
        ProcessContext c = e.context;
        if (c != null) {
            if (c.ppid > 0) {
                a.put(PPID, (long) c.ppid);
                put(a, PCOMM, c.pcomm);
            }
            put(a, EXE, c.exe);
            put(a, CGROUP, c.cgroup);
            put(a, UNIT, c.unit);
            put(a, CONTAINER, c.container);
            put(a, POD, c.pod);
        }
        fields.reset(a);
        fields.startObject();
        e.writeFields(fields);
        fields.endObject();
        boolean alert = fields.alert;
        if (a.size() > expected) expected = Math.min(64, a.size());
        line.reset();
        int n = line.append(e);
        String body = new String(line.array(), 0, n - 1, StandardCharsets.UTF_8);
        String monitor = e.monitor();
        String name = eventNames.computeIfAbsent(monitor, m -> new HashMap<>()).computeIfAbsent(event, v -> "bpfwatch." + monitor + "." + v);
        return new Record(resourceOf.apply(monitor), scope, e.time, observedNanos, alert ? Severity.WARN : Severity.INFO,
                body, a.build(), name);
    }

    private static void put(EventAttributes a, AttributeKey<String> key, String value) {
        if (value != null) a.put(key, value);
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
