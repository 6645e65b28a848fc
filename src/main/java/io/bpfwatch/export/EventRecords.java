package io.bpfwatch.export;

import io.bpfwatch.context.ProcessContext;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.JsonLineEncoder;
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
        fields.reset(a);
        fields.writeStartObject();
        e.writeFields(fields);
        fields.writeEndObject();
        boolean alert = fields.alert;
        line.reset();
        int n = line.append(e);
        String body = new String(line.array(), 0, n - 1, StandardCharsets.UTF_8);
        return new Record(resourceOf.apply(e.monitor()), scope, e.time, observedNanos, alert ? Severity.WARN : Severity.INFO,
                body, a.build(), "bpfwatch." + e.monitor() + "." + e.event());
    }

    private static void put(AttributesBuilder a, String key, String value) {
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
