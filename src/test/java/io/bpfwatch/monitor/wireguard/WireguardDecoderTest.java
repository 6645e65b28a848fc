package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.event.EventHeader;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.monitor.Decoder;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Handshake records as the kernel writes them, decoded and written as JSON lines; malformed ones refused. */
class WireguardDecoderTest {
    private final WireguardDecoder decoder = new WireguardDecoder(new EventHeader());

    static ByteBuffer record(int type, String ifname, int attempts, int role) {
        ByteBuffer b = ByteBuffer.allocate(WireguardDecoder.SIZE).order(ByteOrder.nativeOrder());
        b.putLong(EventHeader.TS_NS, System.nanoTime());
        b.putInt(EventHeader.PID, 77).putInt(EventHeader.TID, 77).putInt(EventHeader.UID, 0).putInt(EventHeader.TYPE, type);
        b.put(EventHeader.COMM, "kworker/0:1".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 32; i++) b.put(WireguardDecoder.PEER + i, (byte) (0xc5 - i));
        byte[] n = ifname.getBytes(StandardCharsets.UTF_8);
        b.put(WireguardDecoder.IFNAME, n, 0, Math.min(16, n.length));
        b.put(WireguardDecoder.ENDPOINT, new byte[] {(byte) 198, 51, 100, 7});
        b.putShort(WireguardDecoder.ENDPOINT + WireguardDecoder.EP_FAMILY, (short) 2);
        b.putShort(WireguardDecoder.ENDPOINT + WireguardDecoder.EP_PORT, (short) 51820);
        b.putInt(WireguardDecoder.ATTEMPTS, attempts);
        b.putInt(WireguardDecoder.ROLE, role);
        return b;
    }

    static String json(HandshakeEvent e) throws Exception {
        return JsonLineEncoder.toLine(e);
    }

    @Test
    void anInitiationRetryIsLoggedWithItsNumber() throws Exception {
        HandshakeEvent e = decoder.decode(record(1, "wg0", 3, 0), 0, WireguardDecoder.SIZE);
        assertThat(e.event()).isEqualTo("handshake_initiated");
        String j = json(e);
        assertThat(j).contains("\"monitor\":\"wireguard\"", "\"event\":\"handshake_initiated\"", "\"comm\":\"kworker/0:1\"",
                "\"interface\":\"wg0\"", "\"endpoint\":\"198.51.100.7:51820\"", "\"retry\":3");
        assertThat(j).doesNotContain("role");
        assertThat(e.peer).hasSize(44).endsWith("=");
    }

    @Test
    void aCompletedHandshakeSaysWhichSideAndHowManyRetries() throws Exception {
        assertThat(json(decoder.decode(record(2, "wg0", 1, 1), 0, WireguardDecoder.SIZE)))
                .contains("\"event\":\"handshake_completed\"", "\"role\":\"initiator\"", "\"retries\":1");
        assertThat(json(decoder.decode(record(2, "wg0", 0, 2), 0, WireguardDecoder.SIZE))).contains("\"role\":\"responder\"");
        assertThat(json(decoder.decode(record(2, "wg0", 0, 9), 0, WireguardDecoder.SIZE))).contains("\"role\":\"unknown\"");
    }

    @Test
    void hostileInterfaceNamesAreEscaped() throws Exception {
        String j = json(decoder.decode(record(1, "a\"}\n{\"x\\", 0, 0), 0, WireguardDecoder.SIZE));
        assertThat(j).contains("\"interface\":\"a\\\"}\\n{\\\"x\\\\\"");
        assertThat(j.indexOf('\n')).as("one line").isEqualTo(j.length() - 1);
    }

    @Test
    void shortAndUnknownRecordsAreRefused() {
        assertThatThrownBy(() -> decoder.decode(record(1, "wg0", 0, 0), 0, WireguardDecoder.SIZE - 1))
                .isInstanceOf(Decoder.Refused.class).hasMessageContaining((WireguardDecoder.SIZE - 1) + " bytes");
        assertThatThrownBy(() -> decoder.decode(record(7, "wg0", 0, 0), 0, WireguardDecoder.SIZE))
                .isInstanceOf(Decoder.Refused.class).hasMessageContaining("unknown type 7");
    }
}
