package io.bpfwatch.monitor.bpftrace;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /** The regular expression pairs were once found with, kept as the reference the scanner must match. */
    private static final Pattern REFERENCE = Pattern.compile("(?<![^\\s,;])([A-Za-z_][A-Za-z0-9_.-]{0,63})=(\"(?:[^\"\\\\]|\\\\.)*\"|[^\\s,;]*)");

    private static Map<String, Object> reference(String t) {
        Map<String, Object> out = new LinkedHashMap<>();
        Matcher m = REFERENCE.matcher(t);
        while (m.find()) out.put(m.group(1), TextFields.value(m.group(2)));
        return out;
    }

    @Test
    void pairsAreExactlyWhatTheRegularExpressionFound() {
        List<String> inputs = new ArrayList<>(List.of("a=1", "a=\"x y\" b=2", "a=\"x\\\"y\"", "a=\"open", "a=\"x\\\ny\" b=1", "=1", "1a=2",
                "a=b=c", "x,y=1;z=\"\"", "k" + "e".repeat(63) + "=v", "k" + "e".repeat(64) + "=v", "a=\"\\\u2028\" b", "\u00e9=1 _=2"));
        SplittableRandom r = new SplittableRandom(7);
        String alphabet = "ab_Z09.-==\"\"\\ ,;\t\n\re\u2028\u0085\u000b";
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int j = r.nextInt(24); j > 0; j--) b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            inputs.add(b.toString());
        }
        for (String s : inputs) assertThat(TextFields.pairs(s)).as("'%s'", s).isEqualTo(reference(s));
    }

    @Test
    void aLongQuotedValueIsReadWithoutRecursing() {
        // the regular expression overflowed the stack on values like these (found by BpftraceOutputFuzzer)
        String plain = "x".repeat(1_000_000);
        String escapes = "\\\"".repeat(500_000);
        assertThat(TextFields.parse("a=\"" + plain + "\" b=1").fields()).containsEntry("a", plain).containsEntry("b", 1L);
        assertThat(TextFields.parse("a=\"" + escapes + "\"").fields()).containsEntry("a", "\"".repeat(500_000));
        assertThat(TextFields.parse("a=\"" + plain).fields()).as("never closed: bare").containsEntry("a", "\"" + plain);
    }

    /** The patterns numbers were once recognised by, kept as the reference the hand-written checks must match. */
    private static final Pattern INTEGER = Pattern.compile("-?(0|[1-9][0-9]{0,17})");
    private static final Pattern DECIMAL = Pattern.compile("-?(0|[1-9][0-9]*)\\.[0-9]+");

    @Test
    void numbersAreWhatTheReferencePatternsSayOnEveryShortTokenAndOnLongOnes() {
        char[] alphabet = {'-', '0', '1', '9', '.', 'x', '\u0661'}; // the last an Arabic-Indic digit: not a number here
        List<String> tokens = new ArrayList<>(List.of("", "123456789012345678", "1234567890123456789", "-123456789012345678",
                "0.0", "10.25", "-0.5", "1.", ".5", "00", "01.5", "1.2.3", "1e5", "+1"));
        for (int len = 1; len <= 6; len++) {
            int[] ix = new int[len];
            while (true) {
                StringBuilder b = new StringBuilder();
                for (int k : ix) b.append(alphabet[k]);
                tokens.add(b.toString());
                int d = len - 1;
                while (d >= 0 && ++ix[d] == alphabet.length) ix[d--] = 0;
                if (d < 0) break;
            }
        }
        int integers = 0, decimals = 0;
        for (String t : tokens) {
            assertThat(TextFields.integer(t)).as("integer(%s)", t).isEqualTo(INTEGER.matcher(t).matches());
            assertThat(TextFields.integer("x=" + t + " ", 2, 2 + t.length())).as("integer(%s) in place", t).isEqualTo(INTEGER.matcher(t).matches());
            assertThat(TextFields.decimal(t)).as("decimal(%s)", t).isEqualTo(DECIMAL.matcher(t).matches());
            if (TextFields.integer(t)) {
                integers++;
                assertThat(TextFields.whole("x=" + t + " ", 2, 2 + t.length())).as("whole(%s)", t).isEqualTo(Long.parseLong(t));
            }
            if (TextFields.decimal(t)) decimals++;
        }
        assertThat(integers).as("tokens that are whole numbers").isGreaterThan(100);
        assertThat(decimals).as("tokens that are decimals").isGreaterThan(100);
    }

    @Test
    void aKeySeenBeforeIsTheSameStringAndCollidingKeysStayApart() {
        String a = TextFields.pairs("pid=1 comm=x").keySet().iterator().next();
        String b = TextFields.pairs("tid=7 pid=2").keySet().stream().filter("pid"::equals).findFirst().orElseThrow();
        assertThat(b).isEqualTo("pid").isSameAs(a);
        // "Aa" and "BB" have the same hash: each is still itself, whichever the slot holds
        for (int round = 0; round < 3; round++) {
            assertThat(TextFields.pairs("Aa=1 BB=2")).containsExactly(java.util.Map.entry("Aa", 1L), java.util.Map.entry("BB", 2L));
            assertThat(TextFields.pairs("BB=3")).containsOnlyKeys("BB");
            assertThat(TextFields.pairs("Aa=4")).containsOnlyKeys("Aa");
        }
        assertThat(TextFields.key("xpidx", 1, 4)).isEqualTo("pid");
    }
}
