package io.bpfwatch.config;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class IpAddressTest {
    /** The rules parseV4 had as regexes, kept here as the reference the hand-written parser must match. */
    private static byte[] referenceV4(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) return null;
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            if (!p[i].matches("[0-9]{1,3}")) return null;
            if (p[i].length() > 1 && p[i].charAt(0) == '0') return null;
            int v = Integer.parseInt(p[i]);
            if (v > 255) return null;
            b[i] = (byte) v;
        }
        return b;
    }

    @Test
    void ipv4ParsesExactlyWhatTheRegexRulesAccepted() {
        List<String> inputs = new ArrayList<>(List.of("0.0.0.0", "255.255.255.255", "192.0.2.1", "256.0.0.1", "1.2.3", "1.2.3.4.",
                ".1.2.3.4", "1..2.3", "01.2.3.4", "1.2.3.04", "1.2.3.0", "1234.1.1.1", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "", "...",
                "1.2.3.999", "99.99.99.99", "1.2.3.-1", "+1.2.3.4", "1.2.3.4\n", "\u0661.2.3.4"));
        SplittableRandom r = new SplittableRandom(5);
        String alphabet = "0123456789..0a -";
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int j = r.nextInt(16); j > 0; j--) b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            inputs.add(b.toString());
        }
        for (int i = 0; i < 20_000; i++) inputs.add(r.nextInt(300) + "." + r.nextInt(300) + "." + r.nextInt(1000) + "." + r.nextInt(260));
        for (String s : inputs) assertThat(IpAddress.parseV4(s)).as("'%s'", s).isEqualTo(referenceV4(s));
    }

    @Test
    void ipv6GroupsAreOneToFourHexDigits() {
        assertThat(IpAddress.parse("2001:db8::1")).hasSize(16);
        assertThat(IpAddress.parse("2001:DB8:0:0:0:0:0:FfFf")).hasSize(16);
        assertThat(IpAddress.parse("::ffff:192.0.2.1")).hasSize(16);
        assertThat(IpAddress.parse("2001:db8::12345")).isNull();
        assertThat(IpAddress.parse("2001:db8::g")).isNull();
        assertThat(IpAddress.parse("2001:db8:::1")).isNull();
        assertThat(IpAddress.parse("1:2:3:4:5:6:7")).isNull();
        assertThat(IpAddress.parse("::ffff:192.0.2.01")).isNull();
        assertThat(IpAddress.format(IpAddress.parse("2001:0db8:0000:0000:0000:0000:0000:0001"))).isEqualTo("2001:db8::1");
    }
}
