package io.bpfwatch.export;

import io.bpfwatch.event.Event;
import io.bpfwatch.event.FieldsEvent;
import io.bpfwatch.event.JsonLineEncoder;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** An event as a log record: the JSON line as body, its fields as typed attributes, alerts as WARN. */
class EventRecordsTest {
    private final EventRecords records = new EventRecords(OtlpExport.SCOPE,
            m -> Resource.create(Attributes.of(AttributeKey.stringKey("bpfwatch.monitor"), m)));

    @Test
    void fieldsBecomeTypedAttributesAndTheBodyIsTheLine() throws Exception {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("qname", "evil.example\n\"x\"");
        f.put("latency_ms", 1.5);
        f.put("count", 7L);
        f.put("ok", true);
        f.put("names", List.of("a", "b"));
        f.put("ports", List.of(53L, 853L));
        f.put("mixed", List.of("a", 1L));
        f.put("where", Map.of("host", "h1"));
        f.put("nothing", null);
        Event e = new FieldsEvent(1_700_000_000_123_456_789L, 42, 1000, "dig", "mine", "query", f);
        LogRecordData r = records.record(e, 5);
        Attributes a = r.getAttributes();
        assertThat(a.get(AttributeKey.stringKey("qname"))).isEqualTo("evil.example\n\"x\"");
        assertThat(a.get(AttributeKey.doubleKey("latency_ms"))).isEqualTo(1.5);
        assertThat(a.get(AttributeKey.longKey("count"))).isEqualTo(7L);
        assertThat(a.get(AttributeKey.booleanKey("ok"))).isTrue();
        assertThat(a.get(AttributeKey.stringArrayKey("names"))).containsExactly("a", "b");
        assertThat(a.get(AttributeKey.longArrayKey("ports"))).containsExactly(53L, 853L);
        assertThat(a.get(AttributeKey.stringKey("mixed"))).isEqualTo("[\"a\",1]");
        assertThat(a.get(AttributeKey.stringKey("where.host"))).isEqualTo("h1");
        assertThat(a.asMap().keySet().stream().map(AttributeKey::getKey)).doesNotContain("nothing");
        assertThat(a.get(AttributeKey.longKey("pid"))).isEqualTo(42L);
        assertThat(a.get(AttributeKey.longKey("uid"))).isEqualTo(1000L);
        assertThat(a.get(AttributeKey.stringKey("comm"))).isEqualTo("dig");
        assertThat(a.get(AttributeKey.stringKey("event"))).isEqualTo("query");
        assertThat(r.getBodyValue().asString()).isEqualTo(JsonLineEncoder.toLine(e).strip());
        assertThat(r.getTimestampEpochNanos()).isEqualTo(1_700_000_000_123_456_789L);
        assertThat(r.getObservedTimestampEpochNanos()).isEqualTo(5);
        assertThat(r.getSeverity()).isEqualTo(Severity.INFO);
        assertThat(r.getEventName()).isEqualTo("bpfwatch.mine.query");
        assertThat(r.getResource().getAttribute(AttributeKey.stringKey("bpfwatch.monitor"))).isEqualTo("mine");
    }

    @Test
    void anAlertIsAWarningAndAnEventWithoutAProcessHasNoProcessFields() throws Exception {
        Event e = new FieldsEvent(1, "tcpish", "connect", Map.of("alert", true));
        LogRecordData r = records.record(e, 1);
        assertThat(r.getSeverity()).isEqualTo(Severity.WARN);
        assertThat(r.getAttributes().get(AttributeKey.longKey("pid"))).isNull();
        assertThat(r.getAttributes().get(AttributeKey.stringKey("comm"))).isNull();
    }

    @Test
    void aFieldNamedLikeACommonOneKeepsTheLastValueAndTheOrderIsTheLines() throws Exception {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("pid", "from the program");
        f.put("b", 2L);
        f.put("a", 1L);
        Event e = new FieldsEvent(1, 42, 0, "x", "mine", "hit", f);
        Attributes a = records.record(e, 1).getAttributes();
        List<String> names = new java.util.ArrayList<>();
        a.forEach((k, v) -> names.add(k.getKey()));
        assertThat(names).containsExactly("event", "uid", "comm", "pid", "b", "a");
        assertThat(a.get(AttributeKey.stringKey("pid"))).isEqualTo("from the program");
        assertThat(a.size()).isEqualTo(6);
    }

    @Test
    void bothOfTheSdksMarshalersEncodeTheRecordsAttributes() throws Exception {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("qname", "example.net");
        f.put("latency_ms", 0.25);
        f.put("ports", List.of(53L, 853L));
        Event e = new FieldsEvent(7, 42, 1000, "dig", "dns", "query", f);
        LogRecordData r = records.record(e, 8);
        Map<String, String> expected = new LinkedHashMap<>();
        r.getAttributes().forEach((k, v) -> expected.put(k.getKey(), String.valueOf(v)));
        var immutable = new java.io.ByteArrayOutputStream();
        io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler.create(List.of(r)).writeBinaryTo(immutable);
        var reusable = new java.io.ByteArrayOutputStream();
        var m = new io.opentelemetry.exporter.internal.otlp.logs.LowAllocationLogsRequestMarshaler();
        m.initialize(List.of(r));
        m.writeBinaryTo(reusable);
        for (byte[] bytes : List.of(immutable.toByteArray(), reusable.toByteArray())) {
            var req = io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(bytes);
            var rec = req.getResourceLogs(0).getScopeLogs(0).getLogRecords(0);
            Map<String, String> got = new LinkedHashMap<>();
            for (var kv : rec.getAttributesList()) {
                var v = kv.getValue();
                got.put(kv.getKey(), switch (v.getValueCase()) {
                    case STRING_VALUE -> v.getStringValue();
                    case INT_VALUE -> String.valueOf(v.getIntValue());
                    case DOUBLE_VALUE -> String.valueOf(v.getDoubleValue());
                    case BOOL_VALUE -> String.valueOf(v.getBoolValue());
                    case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(x -> String.valueOf(x.getIntValue())).toList().toString();
                    default -> v.toString();
                });
            }
            assertThat(got).containsExactlyEntriesOf(expected);
            assertThat(rec.getBody().getStringValue()).isEqualTo(JsonLineEncoder.toLine(e).strip());
            assertThat(rec.getEventName()).isEqualTo("bpfwatch.dns.query");
        }
    }
}
