package io.bpfwatch.monitor.wireguard;

/**
 * One peer's totals since the monitor attached, summed over CPUs (and over devices that share
 * the interface name and key, e.g. wg0 in two network namespaces). {@code peer} is the base64
 * public key, or {@link #OTHER} for the peers past max-peers of one interface taken together.
 * {@code endpoint} is where the peer was last seen ("192.0.2.2:51820", "[2001:db8::2]:51820"),
 * null before it had one.
 */
public record PeerStats(String iface, String peer, String endpoint, Log2Histogram encrypt, Log2Histogram decrypt,
                        long sentBytes, long sentPackets, long receivedBytes, long receivedPackets) {
    /** The peer label of the peers that did not fit max-peers. */
    public static final String OTHER = "other";

    /** The labels this peer is exported under. */
    public String label() {
        return iface + '\0' + peer;
    }

    public boolean isOther() {
        return OTHER.equals(peer);
    }

    /** The two as one series: counts add up, the later endpoint wins. */
    PeerStats plus(PeerStats o) {
        return new PeerStats(iface, peer, o.endpoint != null ? o.endpoint : endpoint, encrypt.plus(o.encrypt), decrypt.plus(o.decrypt),
                sentBytes + o.sentBytes, sentPackets + o.sentPackets, receivedBytes + o.receivedBytes, receivedPackets + o.receivedPackets);
    }
}
