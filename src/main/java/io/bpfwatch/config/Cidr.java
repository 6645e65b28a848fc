package io.bpfwatch.config;

import java.util.Arrays;

/**
 * An IPv4 or IPv6 network. Parsed strictly: host bits must be zero ("10.1.0.0/8" is an error
 * that suggests "10.0.0.0/8"), a bare address is a /32 or /128. IPv4 networks also match
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), so a dual-stack socket cannot slip past a rule.
 */
public record Cidr(byte[] network, int prefix, String text) {
    /** Parses {@code s}; throws IllegalArgumentException with a message fit for a config error. */
    public static Cidr parse(String s) {
        String t = s.trim();
        int slash = t.indexOf('/');
        String addr = slash < 0 ? t : t.substring(0, slash);
        byte[] bytes = IpAddress.parse(addr);
        if (bytes == null) throw new IllegalArgumentException("'" + s + "' is not an IPv4 or IPv6 network (want e.g. 10.0.0.0/8 or fd00::/8)");
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}")) throw new IllegalArgumentException("'" + s + "': prefix length '" + p + "' is not a number");
            prefix = Integer.parseInt(p);
            if (prefix > max) throw new IllegalArgumentException("'" + s + "': prefix length " + prefix + " is longer than " + max);
        }
        byte[] masked = mask(bytes, prefix);
        if (!Arrays.equals(masked, bytes)) {
            throw new IllegalArgumentException("'" + s + "' has host bits set; did you mean " + IpAddress.format(masked) + "/" + prefix + "?");
        }
        return new Cidr(masked, prefix, IpAddress.format(masked) + "/" + prefix);
    }

    private static byte[] mask(byte[] a, int prefix) {
        byte[] m = a.clone();
        for (int i = 0; i < m.length; i++) {
            int bits = Math.max(0, Math.min(8, prefix - i * 8));
            m[i] &= (byte) (0xff << (8 - bits));
        }
        return m;
    }

    public boolean isV4() {
        return network.length == 4;
    }

    /**
     * Whether the address (4 or 16 bytes at {@code off} of {@code addr}) is inside this network.
     * IPv4-mapped IPv6 addresses are compared as IPv4.
     */
    public boolean contains(byte[] addr, int off, int len) {
        if (len == 16 && isV4() && IpAddress.isV4Mapped(addr, off)) {
            off += 12;
            len = 4;
        }
        if (len != network.length) return false;
        int full = prefix / 8, rest = prefix % 8;
        for (int i = 0; i < full; i++) if (addr[off + i] != network[i]) return false;
        if (rest == 0) return true;
        int m = 0xff << (8 - rest) & 0xff;
        return (addr[off + full] & m) == (network[full] & 0xff);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        return text;
    }
}
