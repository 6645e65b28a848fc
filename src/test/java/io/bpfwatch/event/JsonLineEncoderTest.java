package io.bpfwatch.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.SimpleEvent;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class JsonLineEncoderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void commonFieldsComeFirstInProductOrder() throws Exception {
        String line = JsonLineEncoder.toLine(new SimpleEvent(1_795_000_000_123_456_789L, 7, "curl", 5, "t"));
        assertThat(line).isEqualTo("{\"time\":\"2026-11-18T11:06:40.123456789Z\",\"monitor\":\"sim\",\"event\":\"sample\",\"pid\":7,\"uid\":1000,\"comm\":\"curl\",\"seq\":5,\"text\":\"t\"}\n");
    }

    @Test
    void hostileStringsCannotBreakTheLineOrForgeFields() throws Exception {
        String evil = "a\"b\\c\nd\re\u0000f\u001b[31m\",\"alert\":false,\"x\":\"\u2028";
        String line = JsonLineEncoder.toLine(new SimpleEvent(0, 1, evil, 1, evil));
        assertThat(line.indexOf('\n')).isEqualTo(line.length() - 1);
        assertThat(line).doesNotContain("\r").doesNotContain("\u0000").doesNotContain("\u001b");
        JsonNode n = JSON.readTree(line);
        assertThat(n.get("comm").asText()).isEqualTo(evil);
        assertThat(n.get("text").asText()).isEqualTo(evil);
        assertThat(n.has("alert")).isFalse();
        assertThat(n.size()).isEqualTo(8);
    }

    @Test
    void commBytesThatAreNotUtf8BecomeReplacementCharacters() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(EventHeader.SIZE).order(ByteOrder.nativeOrder());
        byte[] comm = {'b', 'a', 'd', (byte) 0xff, (byte) 0xc3, '"', '\n', 0, 'x'};
        b.put(EventHeader.COMM, comm);
        EventHeader h = new EventHeader();
        String s = h.comm(b, 0);
        assertThat(s).isEqualTo("bad\ufffd\ufffd\"\n");
        assertThat(h.comm(b, 0)).as("cached").isSameAs(s);
        String line = JsonLineEncoder.toLine(new SimpleEvent(0, 1, s, 1, ""));
        assertThat(JSON.readTree(line).get("comm").asText()).isEqualTo("bad\ufffd\ufffd\"\n");
        assertThat(line.getBytes(StandardCharsets.UTF_8)).doesNotContain((byte) 0xff);
    }

    @Test
    void aFullSixteenByteCommHasNoTerminator() {
        ByteBuffer b = ByteBuffer.allocate(EventHeader.SIZE + 8).order(ByteOrder.nativeOrder());
        b.put(EventHeader.COMM, "0123456789abcdefXYZ".getBytes(StandardCharsets.US_ASCII));
        assertThat(new EventHeader().comm(b, 0)).isEqualTo("0123456789abcdef");
    }

    @Test
    void rfc3339HasNanosecondsAndUtc() {
        Rfc3339 f = new Rfc3339();
        assertThat(f.toString(0)).isEqualTo("1970-01-01T00:00:00.000000000Z");
        assertThat(f.toString(1_000_000_001L)).isEqualTo("1970-01-01T00:00:01.000000001Z");
        assertThat(f.toString(1_795_000_000_999_999_999L)).isEqualTo("2026-11-18T11:06:40.999999999Z");
        assertThat(f.toString(1_795_000_001_000_000_000L)).isEqualTo("2026-11-18T11:06:41.000000000Z");
        assertThat(f.toString(951_782_400_000_000_000L)).isEqualTo("2000-02-29T00:00:00.000000000Z");
    }

    @Test
    void millisecondsAreWrittenAsDoubleToStringWroteThem() throws Exception {
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        long[] fixed = {0, 1, 499, 500, 999, 1000, 1500, 32_000, 320_000, 300_000, 1_000_000, 12_500_000, 999_999_499, 1_234_567_890L};
        java.util.List<Long> values = new java.util.ArrayList<>();
        for (long v : fixed) values.add(v);
        for (int i = 0; i < 20_000; i++) values.add(r.nextLong(9_999_999_000_000L)); // below 10^7 ms, where Double.toString has no exponent
        java.io.StringWriter w = new java.io.StringWriter();
        try (com.fasterxml.jackson.core.JsonGenerator g = JSON.getFactory().createGenerator(w)) {
            g.writeStartArray();
            for (long v : values) Event.writeMillis(g, v);
            g.writeEndArray();
        }
        String[] got = w.toString().substring(1, w.toString().length() - 1).split(",");
        for (int i = 0; i < values.size(); i++) {
            assertThat(got[i]).as("%d ns", values.get(i)).isEqualTo(Double.toString(Math.round(values.get(i) / 1000.0) / 1000.0));
        }
    }

    @Test
    void linesOfABatchEndWhereSizeSaidAndATruncatedLineLeavesTheRest() throws Exception {
        JsonLineEncoder enc = new JsonLineEncoder();
        int first = enc.append(new SimpleEvent(0, 1, "a", 1, "one"));
        int before = enc.size();
        assertThat(before).isEqualTo(first);
        int second = enc.append(new SimpleEvent(0, 2, "b", 2, "two"));
        enc.truncate(before); // as the writer does when an event's fields throw
        int third = enc.append(new SimpleEvent(0, 3, "c", 3, "three"));
        String text = new String(enc.array(), 0, enc.size(), StandardCharsets.UTF_8);
        String[] lines = text.split("\n");
        assertThat(lines).hasSize(2);
        assertThat(JSON.readTree(lines[0]).get("text").asText()).isEqualTo("one");
        assertThat(JSON.readTree(lines[1]).get("text").asText()).isEqualTo("three");
        assertThat(text.charAt(first - 1)).isEqualTo('\n');
        assertThat(second).isGreaterThan(first);
        assertThat(third).isEqualTo(enc.size()).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
    }
}
