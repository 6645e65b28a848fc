package io.bpfwatch.monitor.bpftrace;

import io.bpfwatch.monitor.Decoder;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Lines bpftrace 0.17 printed with -f json (recorded), and what they become. */
class BpftraceOutputTest {
    static BpftraceOutput.Message parse(String line) throws Decoder.Refused {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        return BpftraceOutput.parse(b, b.length);
    }

    @Test
    void aPrintfIsItsTextWithoutTheFinalNewline() throws Exception {
        assertThat(parse("{\"type\": \"printf\", \"data\": \"hello pid=17995 name=x y\\n\"}"))
                .isEqualTo(new BpftraceOutput.Printf("hello pid=17995 name=x y"));
        assertThat(parse("{\"type\": \"printf\", \"data\": \"no newline\"}")).isEqualTo(new BpftraceOutput.Printf("no newline"));
    }

    @Test
    void bytesThatAreNotUtf8ComeBackAsTheCharactersTheyEncodeOrAsReplacements() throws Exception {
        // bpftrace escapes each raw byte sign-extended: "é" (c3 a9) and two invalid bytes
        assertThat(parse("{\"type\": \"printf\", \"data\": \"caf\\uffffffc3\\uffffffa9 \\uffffffff bytes\\n\"}"))
                .isInstanceOfSatisfying(BpftraceOutput.Printf.class, p -> assertThat(p.text()).startsWith("café \ufffd"));
        // a backslash the script printed, followed by text that looks like an escape, stays text
        assertThat(parse("{\"type\": \"printf\", \"data\": \"\\\\uffffffc3\"}"))
                .isEqualTo(new BpftraceOutput.Printf("\\uffffffc3"));
    }

    @Test
    void mapsHistogramsAndStatsAreMaps() throws Exception {
        assertThat(parse("{\"type\": \"map\", \"data\": {\"@keyed\": {\"a\": 1, \"b\": 2}}}"))
                .isInstanceOfSatisfying(BpftraceOutput.Maps.class, m -> {
                    assertThat(m.type()).isEqualTo("map");
                    assertThat(m.maps()).containsOnlyKeys("@keyed");
                    assertThat(m.maps().get("@keyed").get("b").asInt()).isEqualTo(2);
                });
        assertThat(parse("{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 2, \"max\": 3, \"count\": 1}]}}"))
                .isInstanceOfSatisfying(BpftraceOutput.Maps.class, m -> assertThat(m.type()).isEqualTo("hist"));
        assertThat(parse("{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 2, \"average\": 20, \"total\": 40}}}"))
                .isInstanceOfSatisfying(BpftraceOutput.Maps.class, m -> assertThat(m.type()).isEqualTo("stats"));
    }

    @Test
    void attachedProbesAndLostEventsAreReported() throws Exception {
        assertThat(parse("{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}")).isEqualTo(new BpftraceOutput.Attached(3));
        assertThat(parse("{\"type\": \"lost_events\", \"data\": {\"events\": 12}}")).isEqualTo(new BpftraceOutput.Lost(12));
        assertThat(parse("{\"type\": \"time\", \"data\": \"10:00:00\\n\"}")).isEqualTo(new BpftraceOutput.Other("time"));
    }

    @Test
    void linesThatAreNotBpftracesJsonAreRefusedWithAReason() {
        assertThatThrownBy(() -> parse("Attaching 1 probe...")).isInstanceOf(Decoder.Refused.class).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> parse("[1, 2]")).isInstanceOf(Decoder.Refused.class).hasMessageContaining("without a type");
        assertThatThrownBy(() -> parse("{\"type\": \"printf\", \"data\": \"cut off")).isInstanceOf(Decoder.Refused.class);
    }

    private static BpftraceOutput.Printf fast(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        return BpftraceOutput.fastPrintf(b, b.length);
    }

    private static BpftraceOutput.Message parseAny(String line) throws Decoder.Refused {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        return BpftraceOutput.parseAny(b, b.length);
    }

    @Test
    void bpftracesUsualPrintfLinesTakeTheFastPathAndReadAsTheGeneralParserReadsThem() throws Exception {
        String[] usual = {
                "{\"type\": \"printf\", \"data\": \"67706112452950 pid=4400 uid=0 comm=bpftrace cmd=0x5a23 name=tank@snap\\n\"}",
                "{\"type\": \"printf\", \"data\": \"action=snapshot name=\\\"tank@s1\\\" ret=0\\n\"}",
                "{\"type\": \"printf\", \"data\": \"{\\\"pid\\\": 4400, \\\"ms\\\": 1.5}\\n\"}",
                "{\"type\": \"printf\", \"data\": \"caf\\uffffffc3\\uffffffa9 \\uffffffff bytes\\n\"}",
                "{\"type\": \"printf\", \"data\": \"tab\\there \\u00e9\\ud83d\\ude00 \\/ \\\\ \\b\\f\\r no newline\"}",
                "{\"type\": \"printf\", \"data\": \"caf\u00e9 raw UTF-8 and \u00ff\"}",
                "{\"type\": \"printf\", \"data\": \"\"}",
                "{\"type\": \"printf\", \"data\": \"\\n\"}",
                // read from the bytes: an escaped backslash before an n is no newline; one final newline goes
                "{\"type\": \"printf\", \"data\": \"path=C:\\\\new\\n\"}",
                "{\"type\": \"printf\", \"data\": \"two\\n\\n\"}",
                "{\"type\": \"printf\", \"data\": \"end\\\\\"}",
                "{\"type\": \"printf\", \"data\": \"q=\\\"x\\\" t=\\t\\n\"}",
        };
        for (String line : usual) assertThat(fast(line)).as(line).isNotNull().isEqualTo(parseAny(line));
        assertThat(fast("{\"type\": \"printf\", \"data\": \"path=C:\\\\new\\n\"}").text()).isEqualTo("path=C:\\new");
        assertThat(fast("{\"type\": \"printf\", \"data\": \"two\\n\\n\"}").text()).isEqualTo("two\n");
        // not UTF-8 between the quotes: replaced alike
        byte[] bad = "{\"type\": \"printf\", \"data\": \"a\u00ff\u00e2\u0082\\n b\\n\"}".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(BpftraceOutput.fastPrintf(bad, bad.length)).isNotNull().isEqualTo(BpftraceOutput.parseAny(bad, bad.length));
        // anything else is the general parser's
        for (String line : new String[] {
                "{\"type\":\"printf\",\"data\":\"other spacing\"}",
                "{\"type\": \"printf\", \"data\": \"raw\ttab\"}",
                "{\"type\": \"printf\", \"data\": \"bad escape \\x41\"}",
                "{\"type\": \"printf\", \"data\": \"short \\u00\"}",
                "{\"type\": \"printf\", \"data\": \"a \"quote\"}",
                "{\"type\": \"printf\", \"data\": \"ends in a backslash\\\"}",
                "{\"type\": \"printf\", \"data\": \"\\\\\\uffffffc3 after an escaped backslash\"}",
                "{\"type\": \"printf\", \"data\": \"x\"} trailing",
                "{\"type\": \"printf\", \"data\": \"x\", \"more\": 1}"}) {
            assertThat(fast(line)).as(line).isNull();
        }
    }

    /**
     * Lines read from their ASCII bytes say so, and their log lines (their strings copied as
     * bytes) are what the same texts give as strings of any characters.
     */
    @Test
    void asciiPrintfLinesAreMarkedLatin1AndLogAsAnyTextDoes() throws Exception {
        String[] ascii = {
                "{\"type\": \"printf\", \"data\": \"67706112452950 pid=4400 uid=0 comm=bpftrace cmd=0x5a23 name=tank@snap\\n\"}",
                "{\"type\": \"printf\", \"data\": \"action=snapshot name=\\\"tank@s1 x\\\" ret=0\\n\"}",
                "{\"type\": \"printf\", \"data\": \"q=\\\"x\\\" t=\\t path=C:\\\\new\\n\"}",
        };
        for (String line : ascii) {
            BpftraceOutput.Printf p = fast(line);
            assertThat(p.latin1()).as(line).isTrue();
            io.bpfwatch.event.FieldsEvent copied = BpftraceProcess.event("m", "print", p, 7);
            io.bpfwatch.event.FieldsEvent escaped = BpftraceProcess.event("m", "print", new BpftraceOutput.Printf(p.text()), 7);
            assertThat(io.bpfwatch.event.JsonLineEncoder.toLine(copied)).as(line).isEqualTo(io.bpfwatch.event.JsonLineEncoder.toLine(escaped));
        }
        // UTF-8 and \\u escapes are decoded as such: not marked
        assertThat(fast("{\"type\": \"printf\", \"data\": \"caf\u00e9 raw UTF-8\"}").latin1()).isFalse();
        assertThat(fast("{\"type\": \"printf\", \"data\": \"\\u00e9\\ud83d\\ude00\"}").latin1()).isFalse();
        assertThat(((BpftraceOutput.Printf) parseAny(ascii[0])).latin1()).isFalse();
    }

    /** The regular expression raw bytes were once found with, kept as the reference repair must match. */
    private static final java.util.regex.Pattern RAW_BYTES = java.util.regex.Pattern.compile("(?<!\\\\)(?:\\\\uffffff[0-9a-fA-F]{2})+");

    private static String referenceRepair(String json) {
        java.util.regex.Matcher m = RAW_BYTES.matcher(json);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String run = m.group();
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < run.length(); i += 10) bytes.write(Integer.parseInt(run.substring(i + 8, i + 10), 16));
            String chars = new String(bytes.toByteArray(), java.nio.charset.StandardCharsets.UTF_8);
            StringBuilder esc = new StringBuilder();
            for (int i = 0; i < chars.length(); i++) esc.append(String.format("\\u%04x", (int) chars.charAt(i)));
            m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(esc.toString()));
        }
        m.appendTail(out);
        return out.toString();
    }

    @Test
    void rawBytesAreRepairedExactlyAsTheRegularExpressionDid() {
        String[] units = {"\\uffffffc3", "\\uffffffa9", "\\uffffff41", "\\uffffffzz", "\\uffffff4", "\\\\", "\\", "a", "\\u00e9", "\\uffff"};
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        for (int i = 0; i < 100_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int j = r.nextInt(8); j > 0; j--) b.append(units[r.nextInt(units.length)]);
            String s = b.toString();
            assertThat(BpftraceOutput.repair(s)).as("'%s'", s).isEqualTo(referenceRepair(s));
        }
        // a long run was one recursion per byte in the regular expression
        String run = "\\uffffff41".repeat(200_000);
        assertThat(BpftraceOutput.repair("\"" + run + "\"")).isEqualTo("\"" + "\\u0041".repeat(200_000) + "\"");
    }

    @Test
    void anEventWeighsWhatItsLineHoldsForTheLogQueuesBudget() {
        // what the shared heap budget of the log queues counts: a long line weighs its length
        // (twice: the text and what was parsed from it), a short one about a built-in event's
        String line = "big=" + "x".repeat(100_000) + " n=1";
        assertThat(BpftraceProcess.event("m", "print", new BpftraceOutput.Printf(line), 0).weight()).isGreaterThanOrEqualTo(2 * line.length());
        String json = "{\"k\": \"" + "y".repeat(50_000) + "\"}";
        assertThat(BpftraceProcess.event("m", "print", new BpftraceOutput.Printf(json), 0).weight()).isGreaterThanOrEqualTo(2 * json.length());
        assertThat(BpftraceProcess.event("m", "print", new BpftraceOutput.Printf("pid=1 comm=x"), 0).weight()).isBetween(256, 512);
    }
}
