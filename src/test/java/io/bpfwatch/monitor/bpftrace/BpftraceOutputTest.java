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
}
