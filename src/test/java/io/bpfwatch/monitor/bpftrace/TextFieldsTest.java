package io.bpfwatch.monitor.bpftrace;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TextFieldsTest {
    @Test
    void keyValuePairsBecomeFieldsWithNumbersAsNumbers() {
        TextFields.Parsed p = TextFields.parse("open pid=42 file=\"/tmp/a b\" flags=0x8000 ret=-2 took=1.5 ok=true");
        assertThat(p.json()).isFalse();
        assertThat(p.fields()).containsExactly(
                java.util.Map.entry("pid", 42L), java.util.Map.entry("file", "/tmp/a b"), java.util.Map.entry("flags", "0x8000"),
                java.util.Map.entry("ret", -2L), java.util.Map.entry("took", 1.5), java.util.Map.entry("ok", true));
    }

    @Test
    void quotedValuesKeepTheirEscapedQuotesAndOnlyWholeTokensArePairs() {
        TextFields.Parsed p = TextFields.parse("msg=\"say \\\"hi\\\"\" url=http://x/?a=b,c=d");
        assertThat(p.fields()).containsEntry("msg", "say \"hi\"").containsEntry("url", "http://x/?a=b").containsEntry("c", "d");
        assertThat(TextFields.parse("nothing to see here").fields()).isEmpty();
        assertThat(TextFields.parse("x==1").fields()).as("not a pair").containsEntry("x", "=1");
    }

    @Test
    void aJsonObjectIsTakenWhole() {
        TextFields.Parsed p = TextFields.parse("{\"a\": 1, \"b\": \"two\", \"c\": [1, 2], \"d\": {\"e\": null}}");
        assertThat(p.json()).isTrue();
        assertThat(p.fields()).containsEntry("a", 1L).containsEntry("b", "two");
        assertThat(p.fields().get("c").toString()).isEqualTo("[1,2]");
        assertThat(p.fields().get("d").toString()).isEqualTo("{\"e\":null}");
        assertThat(TextFields.parse("{not json} k=v").fields()).containsEntry("k", "v");
    }

    @Test
    void hugeNumbersStayText() {
        assertThat(TextFields.parse("n=123456789012345678901234567890").fields()).containsEntry("n", "123456789012345678901234567890");
    }
}
