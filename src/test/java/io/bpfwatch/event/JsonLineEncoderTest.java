package io.bpfwatch.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.SimpleEvent;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

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

    /**
     * The comm read as two longs is what reading its bytes up to the first NUL gives, in either
     * byte order, whatever follows the NUL; the same bytes give the same string instance, and
     * comms that share a cache slot or differ only after their NUL are not mixed up.
     */
    @Test
    void commsReadAsTwoLongsAreTheirBytesUpToTheFirstNul() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        EventHeader little = new EventHeader();
        EventHeader big = new EventHeader();
        java.util.Map<String, String> seen = new java.util.HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            byte[] comm = new byte[EventHeader.COMM_LEN];
            int nul = r.nextInt(EventHeader.COMM_LEN + 2); // 16 and 17: no NUL
            for (int j = 0; j < comm.length; j++) {
                // a few comms, so most come again; or random bytes (not UTF-8, NULs after the first)
                comm[j] = i % 3 == 0 ? (byte) r.nextInt(256) : (byte) ('a' + (j * 7 + i % 40) % 26);
            }
            if (nul < comm.length) comm[nul] = 0;
            else for (int j = 0; j < comm.length; j++) if (comm[j] == 0) comm[j] = '0';
            int len = 0;
            while (len < comm.length && comm[len] != 0) len++;
            String expected = new String(comm, 0, len, StandardCharsets.UTF_8);
            int off = r.nextInt(8);
            for (EventHeader h : new EventHeader[] {little, big}) {
                ByteBuffer b = ByteBuffer.allocate(off + EventHeader.SIZE).order(h == little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
                b.put(off + EventHeader.COMM, comm);
                String got = h.comm(b, off);
                assertThat(got).as("comm %s", java.util.Arrays.toString(comm)).isEqualTo(expected);
                assertThat(h.comm(b, off)).as("the same bytes again").isSameAs(got);
            }
            seen.put(expected, expected);
        }
        assertThat(seen.size()).as("distinct comms").isGreaterThan(1000);
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
        JsonLineEncoder w = new JsonLineEncoder();
        w.startArray();
        for (long v : values) w.millis(v);
        w.endArray();
        String text = new String(w.array(), 0, w.size(), StandardCharsets.UTF_8);
        String[] got = text.substring(1, text.length() - 1).split(",");
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

    /**
     * Jackson's generator, the reference the encoder replaced: the same bytes for the same calls.
     * With surrogate pairs combined, as the encoder writes them: a character past U+FFFF (an
     * emoji) as its four UTF-8 bytes, where Jackson by default writes two escaped surrogates.
     */
    private static final com.fasterxml.jackson.core.JsonFactory REFERENCE = com.fasterxml.jackson.core.JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.json.JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

    private static String jackson(java.util.function.Consumer<com.fasterxml.jackson.core.JsonGenerator> body) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (com.fasterxml.jackson.core.JsonGenerator g = REFERENCE.createGenerator(out)) {
            body.accept(g);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String ours(java.util.function.Consumer<FieldWriter> body) {
        JsonLineEncoder w = new JsonLineEncoder(16);
        body.accept(w);
        return new String(w.array(), 0, w.size(), StandardCharsets.UTF_8);
    }

    @Test
    void stringsAreEscapedByteForByteAsJacksonEscapesThem() throws Exception {
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        java.util.List<String> strings = new java.util.ArrayList<>(java.util.List.of("", "plain", "\"\\/\u007f\u0080\u07ff\u0800\uffff",
                "\uD83D\uDE00 emoji", "tab\tcr\rlf\nbs\bff\f\u0000\u001f\u2028"));
        for (int i = 0; i < 5_000; i++) {
            StringBuilder b = new StringBuilder();
            int n = r.nextInt(40);
            for (int j = 0; j < n; j++) {
                switch (r.nextInt(6)) {
                    case 0 -> b.append((char) r.nextInt(0x20)); // control
                    case 1 -> b.append((char) (0x20 + r.nextInt(0x60))); // printable ASCII, quote and backslash included
                    case 2 -> b.append((char) (0x80 + r.nextInt(0x780))); // two bytes
                    case 3 -> b.append((char) (0x800 + r.nextInt(0xD000))); // three bytes, below the surrogates
                    case 4 -> b.append((char) (0xD800 + r.nextInt(0x800))); // a surrogate, alone unless the next pairs it
                    default -> b.appendCodePoint(0x10000 + r.nextInt(0x100000)); // a surrogate pair
                }
            }
            strings.add(b.toString());
        }
        for (String s : strings) {
            String expected = jackson(g -> {
                try {
                    g.writeStartObject();
                    g.writeStringField(s, s);
                    g.writeEndObject();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            String got = ours(w -> {
                w.startObject();
                w.name(s);
                w.string(s);
                w.endObject();
            });
            assertThat(got).as("%s", s.chars().mapToObj(c -> String.format("%04x", c)).toList()).isEqualTo(expected);
            assertThat(ours(w -> {
                w.startObject();
                w.field(FieldWriter.Name.of(s), s);
                w.endObject();
            })).as("pre-encoded name").isEqualTo(expected);
        }
    }

    /**
     * ISO-8859-1 strings copied as bytes: every such string (ASCII, quotes, backslashes, control
     * characters, U+0080 to U+00FF) comes out as the escaping path writes it, in arrays and
     * beside other fields; and a string that breaks the promise with a char past U+00FF whose low
     * byte is a quote, backslash or control character still cannot break the line.
     */
    @Test
    void latin1StringsCopiedAsBytesComeOutAsAnyStringDoes() throws Exception {
        java.util.SplittableRandom r = new java.util.SplittableRandom(23);
        java.util.List<String> strings = new java.util.ArrayList<>(java.util.List.of("", "plain", "pid=4400 comm=bpftrace name=tank@snap",
                "\"q\" and \\", "caf\u00e9 \u00ff\u0080", "tab\tnl\n\u0000\u001f\u007f"));
        for (int i = 0; i < 5_000; i++) {
            StringBuilder b = new StringBuilder();
            int n = r.nextInt(60);
            for (int j = 0; j < n; j++) b.append((char) (r.nextInt(8) == 0 ? r.nextInt(0x100) : 0x20 + r.nextInt(0x5f)));
            strings.add(b.toString());
        }
        for (String s : strings) {
            String escaped = ours(w -> {
                w.startObject();
                w.name("a");
                w.string(s);
                w.name("b");
                w.startArray();
                w.string(s);
                w.number(1);
                w.endArray();
                w.endObject();
            });
            String copied = ours(w -> {
                w.startObject();
                w.name("a");
                w.latin1(s);
                w.name("b");
                w.startArray();
                w.latin1(s);
                w.number(1);
                w.endArray();
                w.endObject();
            });
            assertThat(copied).as("%s", s.chars().mapToObj(c -> String.format("%02x", c)).toList()).isEqualTo(escaped);
        }
        for (String liar : new String[] {"x\u0122,\"forged\":1", "\u015c\u0122", "a\u010ab"}) {
            String line = ours(w -> {
                w.startObject();
                w.name("a");
                w.latin1(liar);
                w.endObject();
            });
            assertThat(line).doesNotContain("\n");
            JsonNode n = new ObjectMapper().readTree(line);
            assertThat(n.size()).isEqualTo(1);
            assertThat(n.get("a").asText()).isEqualTo(liar);
        }
    }

    /**
     * Names known only at run time are kept by identity with their JSON form: one encoder, the
     * same String instances again (hits), equal strings that are other instances, names that
     * share a slot, and names too long to keep, all as Jackson writes them.
     */
    @Test
    void namesWrittenAgainByOneEncoderComeOutAsTheFirstTime() throws Exception {
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        java.util.List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            StringBuilder b = new StringBuilder();
            int n = r.nextInt(i % 10 == 0 ? 80 : 12); // every tenth may be past the kept length
            for (int j = 0; j < n; j++) b.append(r.nextInt(4) == 0 ? (char) r.nextInt(0x20, 0x800) : (char) ('a' + r.nextInt(26)));
            names.add(b.toString());
        }
        JsonLineEncoder w = new JsonLineEncoder(16);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < names.size(); i++) {
                // the same instance every round; an equal copy at every seventh
                String name = i % 7 == 0 ? new String(names.get(i).toCharArray()) : names.get(i);
                String other = names.get((i * 31 + round) % names.size());
                int start = w.size();
                w.startObject();
                w.name(name);
                w.number(i);
                w.name(other);
                w.string(name);
                w.endObject();
                String got = new String(w.array(), start, w.size() - start, StandardCharsets.UTF_8);
                String expected = jackson(g -> {
                    try {
                        g.writeStartObject();
                        g.writeNumberField(name, 0);
                        g.writeStringField(other, name);
                        g.writeEndObject();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).replaceFirst(":0,", ":" + i + ",");
                assertThat(got).as("round %d, name %d", round, i).isEqualTo(expected);
                w.reset();
            }
        }
    }

    /**
     * The monitor, event and comm every line starts with are kept by identity too: lines one
     * encoder writes, event after event (the same comm instances again, equal copies, comms that
     * need escaping, long ones, and ones that share a slot), are the lines a fresh encoder writes.
     */
    @Test
    void aLinesHeadWrittenAgainByOneEncoderIsWhatAFreshEncoderWrites() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(9);
        List<String> comms = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            StringBuilder b = new StringBuilder();
            int n = r.nextInt(i % 10 == 0 ? 60 : 16);
            for (int j = 0; j < n; j++) b.append(r.nextInt(5) == 0 ? (char) r.nextInt(0x800) : (char) ('a' + r.nextInt(26)));
            comms.add(b.toString());
        }
        JsonLineEncoder one = new JsonLineEncoder(16);
        for (int i = 0; i < 3_000; i++) {
            String comm = comms.get(r.nextInt(comms.size()));
            if (i % 5 == 0) comm = new String(comm.toCharArray());
            Event e = i % 2 == 0 ? new SimpleEvent(i, i, comm, i, "t") : new FieldsEvent(i, i, 0, comm, comms.get(i % 200),
                    comms.get((i * 7) % 200), new Fields());
            one.reset();
            one.append(e);
            assertThat(new String(one.array(), 0, one.size(), StandardCharsets.UTF_8)).as("event %d", i).isEqualTo(JsonLineEncoder.toLine(e));
        }
    }

    @Test
    void aLoneSurrogateIsEscapedSoItReadsBackAsItselfAndTwoSuchKeysStayTwo() throws Exception {
        String line = ours(w -> {
            w.startObject();
            w.name("a\uD800");
            w.string("x\uDC00y\uD800");
            w.name("a\uDC00");
            w.string("\uD800\uD800\uDC00");
            w.endObject();
        });
        assertThat(line).isEqualTo("{\"a\\uD800\":\"x\\uDC00y\\uD800\",\"a\\uDC00\":\"\\uD800\uD800\uDC00\"}");
        JsonNode n = JSON.readTree(line);
        assertThat(n.get("a\uD800").asText()).isEqualTo("x\uDC00y\uD800");
        assertThat(n.get("a\uDC00").asText()).isEqualTo("\uD800\uD800\uDC00");
    }

    @Test
    void numbersBooleansNullsAndNestingAsJacksonWritesThem() throws Exception {
        long[] longs = {0, 1, -1, 9, 10, 99, 100, 999_999_999_999_999_999L, 1_000_000_000_000_000_000L, Long.MAX_VALUE, Long.MIN_VALUE,
                Long.MIN_VALUE + 1, Integer.MAX_VALUE, 0xffffffffL};
        double[] doubles = {0.0, -0.0, 1.5, 1e-7, 1e7, 123456789.125, Double.MIN_VALUE, Double.MAX_VALUE, 0.1 + 0.2};
        java.math.BigInteger u64 = new java.math.BigInteger("18446744073709551615");
        String expected = jackson(g -> {
            try {
                g.writeStartObject();
                g.writeArrayFieldStart("l");
                for (long v : longs) g.writeNumber(v);
                g.writeEndArray();
                g.writeArrayFieldStart("d");
                for (double v : doubles) g.writeNumber(v);
                g.writeEndArray();
                g.writeNumberField("u", u64);
                g.writeObjectFieldStart("o");
                g.writeBooleanField("t", true);
                g.writeBooleanField("f", false);
                g.writeNullField("n");
                g.writeArrayFieldStart("e");
                g.writeEndArray();
                g.writeObjectFieldStart("eo");
                g.writeEndObject();
                g.writeArrayFieldStart("nested");
                g.writeStartArray();
                g.writeStartObject();
                g.writeEndObject();
                g.writeNull();
                g.writeEndArray();
                g.writeString((String) null);
                g.writeEndArray();
                g.writeEndObject();
                g.writeEndObject();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String got = ours(w -> {
            w.startObject();
            w.name("l");
            w.startArray();
            for (long v : longs) w.number(v);
            w.endArray();
            w.name("d");
            w.startArray();
            for (double v : doubles) w.number(v);
            w.endArray();
            w.name("u");
            w.number(u64);
            w.name("o");
            w.startObject();
            w.field(FieldWriter.Name.of("t"), true);
            w.field(FieldWriter.Name.of("f"), false);
            w.name("n");
            w.nullValue();
            w.field(FieldWriter.Name.of("e"), java.util.List.of());
            w.name("eo");
            w.startObject();
            w.endObject();
            w.name("nested");
            w.startArray();
            w.startArray();
            w.startObject();
            w.endObject();
            w.nullValue();
            w.endArray();
            w.string(null);
            w.endArray();
            w.endObject();
            w.endObject();
        });
        assertThat(got).isEqualTo(expected);
    }

    @Test
    void aNumberThatIsNotFiniteIsWrittenAsNull() throws Exception {
        String line = ours(w -> {
            w.startArray();
            w.number(Double.NaN);
            w.number(Double.POSITIVE_INFINITY);
            w.number(2.5);
            w.endArray();
        });
        assertThat(line).isEqualTo("[null,null,2.5]");
    }

    @Test
    void aCustomMonitorsFieldsNestedAndParsedComeOutAsTheyWentIn() throws Exception {
        String printed = "{\"k\":[1,-2.5,\"s\\n\",true,null,{\"deep\":[[]]},18446744073709551616,1e400],\"o\":{}}";
        JsonNode tree = JSON.readTree(printed);
        java.util.Map<String, Object> fields = new java.util.LinkedHashMap<>();
        fields.put("tree", tree);
        fields.put("list", java.util.List.of(1L, "two", java.util.Map.of("three", 3.0)));
        fields.put("u64", new java.math.BigInteger("18446744073709551615"));
        fields.put("none", null);
        String line = JsonLineEncoder.toLine(new FieldsEvent(0, "custom", "e", fields));
        JsonNode n = JSON.readTree(line);
        assertThat(line.indexOf('\n')).isEqualTo(line.length() - 1);
        assertThat(n.get("tree").get("k").get(0).asLong()).isEqualTo(1);
        assertThat(n.get("tree").get("k").get(1).asDouble()).isEqualTo(-2.5);
        assertThat(n.get("tree").get("k").get(2).asText()).isEqualTo("s\n");
        assertThat(n.get("tree").get("k").get(5).toString()).isEqualTo("{\"deep\":[[]]}");
        assertThat(n.get("tree").get("k").get(6).bigIntegerValue()).isEqualTo(new java.math.BigInteger("18446744073709551616"));
        assertThat(n.get("tree").get("k").get(7).isNull()).as("1e400 reads as infinity: null").isTrue();
        assertThat(n.get("tree").get("o").size()).isZero();
        assertThat(n.get("list").toString()).isEqualTo("[1,\"two\",{\"three\":3.0}]");
        assertThat(n.get("u64").bigIntegerValue()).isEqualTo(new java.math.BigInteger("18446744073709551615"));
        assertThat(n.get("none").isNull()).isTrue();
        assertThat(n.has("pid")).as("no process: no pid").isFalse();
    }

    @Test
    void aBufferThatStartsSmallGrowsForLongStrings() {
        String big = "\u0001".repeat(100_000);
        JsonLineEncoder enc = new JsonLineEncoder(16);
        int n = enc.append(new SimpleEvent(0, 1, "c", 1, big));
        assertThat(n).isGreaterThan(600_000);
        assertThat(enc.array()[n - 1]).isEqualTo((byte) '\n');
    }
}
