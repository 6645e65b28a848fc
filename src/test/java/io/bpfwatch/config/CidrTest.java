package io.bpfwatch.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {
    private static boolean in(String cidr, String addr) {
        byte[] a = IpAddress.parse(addr);
        return Cidr.parse(cidr).contains(a, 0, a.length);
    }

    @Test
    void ipv4NetworksContainTheirAddressesOnly() {
        assertThat(in("10.0.0.0/8", "10.255.1.2")).isTrue();
        assertThat(in("10.0.0.0/8", "11.0.0.1")).isFalse();
        assertThat(in("192.168.1.0/25", "192.168.1.127")).isTrue();
        assertThat(in("192.168.1.0/25", "192.168.1.128")).isFalse();
        assertThat(in("0.0.0.0/0", "8.8.8.8")).isTrue();
        assertThat(in("192.0.2.7", "192.0.2.7")).isTrue();
        assertThat(in("192.0.2.7", "192.0.2.8")).isFalse();
    }

    @Test
    void ipv6NetworksContainTheirAddressesOnly() {
        assertThat(in("2001:db8::/32", "2001:db8:ffff::1")).isTrue();
        assertThat(in("2001:db8::/32", "2001:db9::1")).isFalse();
        assertThat(in("::1/128", "::1")).isTrue();
        assertThat(in("fe80::/10", "febf::1")).isTrue();
        assertThat(in("fe80::/10", "fec0::1")).isFalse();
    }

    @Test
    void ipv4RulesMatchIpv4MappedIpv6Addresses() {
        assertThat(in("203.0.113.0/24", "::ffff:203.0.113.9")).isTrue();
        assertThat(in("203.0.113.0/24", "::ffff:203.0.114.9")).isFalse();
        assertThat(in("::ffff:0:0/96", "1.2.3.4")).isFalse();
    }

    @Test
    void familiesDoNotMix() {
        assertThat(in("0.0.0.0/0", "::1")).isFalse();
        assertThat(in("::/0", "127.0.0.1")).isFalse();
    }

    @Test
    void malformedNetworksSayWhatIsWrong() {
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessage("'10.0.0.0/33': prefix length 33 is longer than 32");
        assertThatThrownBy(() -> Cidr.parse("10.1.0.0/8")).hasMessage("'10.1.0.0/8' has host bits set; did you mean 10.0.0.0/8?");
        assertThatThrownBy(() -> Cidr.parse("10.0.0/8")).hasMessageContaining("is not an IPv4 or IPv6 network");
        assertThatThrownBy(() -> Cidr.parse("010.0.0.0/8")).hasMessageContaining("is not an IPv4 or IPv6 network");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessage("'10.0.0.0/x': prefix length 'x' is not a number");
        assertThatThrownBy(() -> Cidr.parse("2001:db8::1::/64")).hasMessageContaining("is not an IPv4 or IPv6 network");
    }

    @Test
    void addressesFormatAsRfc5952() {
        assertThat(IpAddress.format(IpAddress.parse("2001:0DB8:0:0:0:0:0:1"))).isEqualTo("2001:db8::1");
        assertThat(IpAddress.format(IpAddress.parse("::1"))).isEqualTo("::1");
        assertThat(IpAddress.format(IpAddress.parse("::"))).isEqualTo("::");
        assertThat(IpAddress.format(IpAddress.parse("2001:db8:0:1:1:1:1:1"))).isEqualTo("2001:db8:0:1:1:1:1:1");
        assertThat(IpAddress.format(IpAddress.parse("2001:0:0:1:0:0:0:1"))).isEqualTo("2001:0:0:1::1");
        assertThat(IpAddress.format(IpAddress.parse("::ffff:192.0.2.1"))).isEqualTo("::ffff:192.0.2.1");
        assertThat(IpAddress.format(IpAddress.parse("fe80::1:0:0:0"))).isEqualTo("fe80::1:0:0:0");
        assertThat(IpAddress.format(IpAddress.parse("fe80:0:0:1:0:0:0:0"))).isEqualTo("fe80:0:0:1::");
        assertThat(IpAddress.format(IpAddress.parse("127.0.0.1"))).isEqualTo("127.0.0.1");
    }
}
