package io.bpfwatch.monitor.bpftrace;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.bpfwatch.event.FieldsEvent;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.monitor.Decoder;

/**
 * What a bpftrace script prints is the user's, and often carries names the monitored host
 * chose (comm, paths, arguments): any line bpftrace could write is either refused with a
 * reason or becomes one log line that is valid JSON, with no key twice, its header first
 * (time, monitor, event) and the printed text, when it was not a JSON object, kept whole.
 * Fuzzed in its own JVM for a bounded time (pom.xml: bpftrace-output-fuzz).
 */
class BpftraceOutputFuzzer {
    private static final JsonMapper STRICT = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    @FuzzTest(maxDuration = "30s")
    void anyLineIsRefusedWithAReasonOrBecomesOneValidLogLine(byte[] line) throws Exception {
        // the fast path for bpftrace's usual printf lines reads what the general parser reads
        BpftraceOutput.Printf fast = BpftraceOutput.fastPrintf(line, line.length);
        if (fast != null) {
            BpftraceOutput.Message general;
            try {
                general = BpftraceOutput.parseAny(line, line.length);
            } catch (Decoder.Refused refused) {
                throw new AssertionError("the fast path read " + fast + " from a line the general parser refuses: " + refused.getMessage());
            }
            if (!fast.equals(general)) throw new AssertionError("the fast path read " + fast + ", the general parser " + general);
        }
        BpftraceOutput.Message m;
        try {
            m = BpftraceOutput.parse(line, line.length);
        } catch (Decoder.Refused refused) {
            if (refused.getMessage() == null || refused.getMessage().isBlank()) throw new AssertionError("refused without a reason");
            return;
        }
        if (!(m instanceof BpftraceOutput.Printf p)) return;
        FieldsEvent e = BpftraceProcess.event("fuzz", "line", p, 1_795_000_000_000_000_000L);
        String out = JsonLineEncoder.toLine(e);
        // a text read as ISO-8859-1 is copied as bytes: the same line as any string's escaping gives
        String escaped = JsonLineEncoder.toLine(BpftraceProcess.event("fuzz", "line", new BpftraceOutput.Printf(p.text()), 1_795_000_000_000_000_000L));
        if (!out.equals(escaped)) throw new AssertionError("copied as bytes " + out + ", escaped " + escaped);
        if (out.indexOf('\n') != out.length() - 1) throw new AssertionError("not one line: " + out);
        JsonNode n = STRICT.readTree(out); // throws on a key written twice
        var names = n.fieldNames();
        if (!names.next().equals("time") || !names.next().equals("monitor") || !names.next().equals("event")) {
            throw new AssertionError("the header is not first: " + out);
        }
        if (!n.get("monitor").asText().equals("fuzz") || !n.get("event").isTextual()) throw new AssertionError("header changed: " + out);
        if (n.has("text") && !e.fields().containsKey("text")) throw new AssertionError("a text nobody printed: " + out);
        if (e.fields().get("text") instanceof String t && t.equals(p.text()) && !n.get("text").asText().equals(p.text())) {
            throw new AssertionError("the printed text changed: " + out);
        }
    }
}
