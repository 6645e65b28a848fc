package io.bpfwatch.monitor.wireguard;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/** struct wg_peer_stats as the kernel leaves it, per CPU, decoded into one peer. */
class PeerTableTest {
    private static final int STRIDE = PeerTable.SIZE;

    static ByteBuffer key(byte fill) {
        ByteBuffer k = ByteBuffer.allocate(PeerTable.KEY_SIZE).order(ByteOrder.nativeOrder());
        k.putLong(PeerTable.KEY_DEVICE, 0xffff888001234000L);
        for (int i = 0; i < 32; i++) k.put(PeerTable.KEY_PEER + i, (byte) (fill + i));
        return k;
    }

    static ByteBuffer cpus(int n) {
        return ByteBuffer.allocate(STRIDE * n).order(ByteOrder.nativeOrder());
    }

    /** One sample of {@code ns} into the histogram at {@code hist} of CPU {@code cpu}, stamped with interval {@code seq}. */
    static void sample(ByteBuffer v, int cpu, int hist, long ns, long seq) {
        int at = cpu * STRIDE + hist;
        int slot = Log2Histogram.slotOf(ns);
        v.putLong(at + PeerTable.HIST_SLOTS + 8 * slot, v.getLong(at + PeerTable.HIST_SLOTS + 8 * slot) + 1);
        v.putLong(at + PeerTable.HIST_COUNT, v.getLong(at + PeerTable.HIST_COUNT) + 1);
        v.putLong(at + PeerTable.HIST_SUM, v.getLong(at + PeerTable.HIST_SUM) + ns);
        if (v.getLong(at + PeerTable.HIST_MAX_SEQ) != seq || ns > v.getLong(at + PeerTable.HIST_MAX)) {
            v.putLong(at + PeerTable.HIST_MAX, ns);
            v.putLong(at + PeerTable.HIST_MAX_SEQ, seq);
        }
    }

    static void seen(ByteBuffer v, int cpu, long ns, String ifname, int family, byte[] addr, int port) {
        int at = cpu * STRIDE;
        v.putLong(at + PeerTable.SEEN_NS, ns);
        byte[] name = ifname.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 16; i++) v.put(at + PeerTable.IFNAME + i, i < name.length ? name[i] : 0);
        for (int i = 0; i < addr.length; i++) v.put(at + PeerTable.ENDPOINT + WireguardDecoder.EP_ADDR + i, addr[i]);
        v.putShort(at + PeerTable.ENDPOINT + WireguardDecoder.EP_FAMILY, (short) family);
        v.putShort(at + PeerTable.ENDPOINT + WireguardDecoder.EP_PORT, (short) port);
    }

    @Test
    void cpusAreSummedAndTheFreshestCopyNamesInterfaceAndEndpoint() {
        ByteBuffer v = cpus(3);
        sample(v, 0, PeerTable.ENCRYPT, 700, 4);
        sample(v, 0, PeerTable.ENCRYPT, 9000, 3);   // an older interval: counted, but not this interval's max
        sample(v, 2, PeerTable.ENCRYPT, 1500, 4);
        sample(v, 2, PeerTable.DECRYPT, 2500, 4);
        v.putLong(PeerTable.SENT_BYTES, 148).putLong(PeerTable.SENT_PACKETS, 1);
        v.putLong(2 * STRIDE + PeerTable.SENT_BYTES, 1000).putLong(2 * STRIDE + PeerTable.SENT_PACKETS, 10);
        v.putLong(2 * STRIDE + PeerTable.RECEIVED_BYTES, 92).putLong(2 * STRIDE + PeerTable.RECEIVED_PACKETS, 1);
        seen(v, 0, 100, "wg-old", 2, new byte[] {(byte) 192, 0, 2, 9}, 51820);
        seen(v, 2, 200, "wg0", 2, new byte[] {(byte) 192, 0, 2, 2}, 51821);

        PeerStats p = PeerTable.decode(key((byte) 1), v, 3, STRIDE, false, 4);
        assertThat(p.iface()).isEqualTo("wg0");
        assertThat(p.endpoint()).isEqualTo("192.0.2.2:51821");
        byte[] expectedKey = new byte[32];
        for (int i = 0; i < 32; i++) expectedKey[i] = (byte) (1 + i);
        assertThat(p.peer()).isEqualTo(Base64.getEncoder().encodeToString(expectedKey)).hasSize(44);
        assertThat(p.encrypt().count()).isEqualTo(3);
        assertThat(p.encrypt().sumNanos()).isEqualTo(700 + 9000 + 1500);
        assertThat(p.encrypt().maxNanos()).as("max of interval 4 only").isEqualTo(1500);
        assertThat(p.encrypt().cumulative(10)).isEqualTo(1);
        assertThat(p.decrypt().count()).isEqualTo(1);
        assertThat(p.sentBytes()).isEqualTo(1148);
        assertThat(p.sentPackets()).isEqualTo(11);
        assertThat(p.receivedBytes()).isEqualTo(92);
        assertThat(p.receivedPackets()).isEqualTo(1);

        assertThat(PeerTable.decode(key((byte) 1), v, 3, STRIDE, false, -1).encrypt().maxNanos()).as("maxima ignored").isZero();
    }

    @Test
    void anEntryNoCpuFilledYetIsSkipped() {
        assertThat(PeerTable.decode(key((byte) 1), cpus(2), 2, STRIDE, false, 1)).isNull();
    }

    @Test
    void theOverflowEntryIsTheInterfacesOtherPeers() {
        ByteBuffer v = cpus(1);
        sample(v, 0, PeerTable.DECRYPT, 800, 1);
        seen(v, 0, 5, "wg1", 10, new byte[16], 1);
        PeerStats p = PeerTable.decode(key((byte) 0), v, 1, STRIDE, true, 1);
        assertThat(p.peer()).isEqualTo("other");
        assertThat(p.isOther()).isTrue();
        assertThat(p.endpoint()).as("no single endpoint").isNull();
        assertThat(p.label()).isEqualTo("wg1\0other");
    }

    @Test
    void ipv6EndpointsAreBracketedAndAMissingOneIsNull() {
        ByteBuffer v = cpus(1);
        byte[] a = new byte[16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = (byte) 0xb8;
        a[15] = 2;
        seen(v, 0, 1, "wg0", 10, a, 51820);
        assertThat(PeerTable.decode(key((byte) 1), v, 1, STRIDE, false, 1).endpoint()).isEqualTo("[2001:db8::2]:51820");
        seen(v, 0, 1, "wg0", 0, new byte[16], 0);
        assertThat(PeerTable.decode(key((byte) 1), v, 1, STRIDE, false, 1).endpoint()).isNull();
    }

    @Test
    void anInterfaceNameIsAtMost16BytesAndBadUtf8IsReplaced() {
        ByteBuffer v = cpus(1);
        seen(v, 0, 1, "", 2, new byte[4], 1);
        for (int i = 0; i < 16; i++) v.put(PeerTable.IFNAME + i, (byte) (i == 3 ? 0xff : 'a'));
        v.put(PeerTable.IFNAME + 16, (byte) 'X'); // past the name: the endpoint's first byte
        String name = PeerTable.decode(key((byte) 1), v, 1, STRIDE, false, 1).iface();
        assertThat(name).isEqualTo("aaa\uFFFDaaaaaaaaaaaa");
    }
}
