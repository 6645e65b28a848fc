package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.config.IpAddress;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.monitor.Decoder;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Decodes {@code struct wg_handshake_event} (monitors/wireguard/wireguard.h), and the pieces the
 * statistics share with it: public keys, interface names, endpoints. Offsets are checked against
 * the compiled object's BTF by WireguardLayoutTest. Everything read is kernel memory the daemon
 * does not trust: names are decoded leniently (bad UTF-8 becomes U+FFFD) and escaped on output.
 */
public final class WireguardDecoder implements Decoder<HandshakeEvent> {
    private static final int H = EventHeader.SIZE;
    public static final int PEER = H, IFNAME = H + 32, ENDPOINT = H + 48, ATTEMPTS = H + 68, ROLE = H + 72, SIZE = H + 80;
    // struct wg_endpoint
    public static final int EP_ADDR = 0, EP_FAMILY = 16, EP_PORT = 18;
    public static final int KEY_LEN = 32, IFNAME_LEN = 16;
    public static final int TYPE_INITIATED = 1, TYPE_COMPLETED = 2;
    public static final int ROLE_UNKNOWN = 0, ROLE_INITIATOR = 1, ROLE_RESPONDER = 2;
    static final int AF_INET = 2, AF_INET6 = 10;

    private final EventHeader header;

    public WireguardDecoder(EventHeader header) {
        this.header = header;
    }

    @Override
    public HandshakeEvent decode(ByteBuffer b, int off, int len) throws Refused {
        if (len < SIZE) throw new Refused("wireguard record of " + len + " bytes, expected " + SIZE);
        int type = header.type(b, off);
        if (type != TYPE_INITIATED && type != TYPE_COMPLETED) throw new Refused("wireguard record of unknown type " + type);
        int role = b.getInt(off + ROLE);
        String roleName = switch (role) {
            case ROLE_INITIATOR -> "initiator";
            case ROLE_RESPONDER -> "responder";
            default -> "unknown";
        };
        long attempts = b.getInt(off + ATTEMPTS) & 0xffffffffL;
        return new HandshakeEvent(header, b, off, type == TYPE_INITIATED, ifname(b, off + IFNAME), publicKey(b, off + PEER),
                endpoint(b, off + ENDPOINT), attempts, roleName);
    }

    /** A public key as WireGuard writes it: standard base64 of the 32 bytes (44 characters). */
    public static String publicKey(ByteBuffer b, int at) {
        byte[] k = new byte[KEY_LEN];
        b.get(at, k);
        return Base64.getEncoder().encodeToString(k);
    }

    /** A NUL-terminated interface name of at most 16 bytes. */
    public static String ifname(ByteBuffer b, int at) {
        int n = 0;
        while (n < IFNAME_LEN && b.get(at + n) != 0) n++;
        byte[] s = new byte[n];
        b.get(at, s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /** "192.0.2.2:51820", "[2001:db8::2]:51820", or null (no endpoint, or a family WireGuard does not use). */
    public static String endpoint(ByteBuffer b, int at) {
        int family = b.getShort(at + EP_FAMILY) & 0xffff;
        int port = b.getShort(at + EP_PORT) & 0xffff;
        byte[] a = new byte[16];
        b.get(at + EP_ADDR, a);
        if (family == AF_INET) return IpAddress.format(a, 0, 4) + ":" + port;
        if (family == AF_INET6) return "[" + IpAddress.format(a, 0, 16) + "]:" + port;
        return null;
    }
}
