package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.testkit.Cmd;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Two network namespaces joined by a veth pair (192.0.2.1 and .2) and a real WireGuard tunnel
 * over it, made with iproute2 and wireguard-tools: interface {@code wga} in namespace a
 * (tunnel address 198.51.100.1) and {@code wgb} in b (198.51.100.2), UDP port 51820 on both.
 * Optionally a third peer C on wga that never answers (its endpoint 192.0.2.3 does not exist).
 */
final class WgLab implements AutoCloseable {
    static final String ENDPOINT_A = "192.0.2.1:51820", ENDPOINT_B = "192.0.2.2:51820", ENDPOINT_C = "192.0.2.3:51820";

    final String a, b;
    final String pubA, pubB, pubC;
    private final Path dir;

    WgLab(Path dir) {
        this.dir = dir;
        String tag = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffL);
        a = "bwwga" + tag;
        b = "bwwgb" + tag;
        for (String side : List.of("a", "b", "c")) sh("wg genkey > " + side + ".key && wg pubkey < " + side + ".key > " + side + ".pub");
        pubA = sh("cat a.pub").trim();
        pubB = sh("cat b.pub").trim();
        pubC = sh("cat c.pub").trim();
    }

    /** Both sides configured; wgb stays down (its UDP port closed) unless {@code bUp}. */
    WgLab up(boolean bUp, boolean withC) {
        sh("ip netns add " + a + " && ip netns add " + b
                + " && ip link add veth-a netns " + a + " type veth peer name veth-b netns " + b
                + " && ip -n " + a + " addr add 192.0.2.1/24 dev veth-a && ip -n " + a + " link set veth-a up"
                + " && ip -n " + b + " addr add 192.0.2.2/24 dev veth-b && ip -n " + b + " link set veth-b up"
                + " && ip -n " + a + " link add wga type wireguard && ip -n " + b + " link add wgb type wireguard"
                + " && ip netns exec " + a + " wg set wga listen-port 51820 private-key a.key peer " + pubB
                + " endpoint " + ENDPOINT_B + " allowed-ips 198.51.100.2/32"
                + (withC ? " peer " + pubC + " endpoint " + ENDPOINT_C + " allowed-ips 198.51.100.3/32" : "")
                + " && ip netns exec " + b + " wg set wgb listen-port 51820 private-key b.key peer " + pubA
                + " endpoint " + ENDPOINT_A + " allowed-ips 198.51.100.1/32"
                + " && ip -n " + a + " addr add 198.51.100.1/24 dev wga && ip -n " + a + " link set wga up"
                + " && ip -n " + b + " addr add 198.51.100.2/24 dev wgb");
        if (bUp) bringUpB();
        return this;
    }

    void bringUpB() {
        sh("ip -n " + b + " link set wgb up");
    }

    /** Pings from a namespace; the output (ping's exit status is not checked: lost replies are expected sometimes). */
    String ping(String ns, String to, int count, double intervalSeconds) {
        return Cmd.run(Duration.ofSeconds(60), dir, null, List.of("ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", String.valueOf(count),
                "-i", String.valueOf(intervalSeconds), "-W", "2", to)).out();
    }

    /** `wg show IFACE transfer`: per peer public key, {received, sent} bytes as WireGuard counts them. */
    Map<String, long[]> transfer(String ns, String iface) {
        Map<String, long[]> out = new TreeMap<>();
        for (String line : sh("ip netns exec " + ns + " wg show " + iface + " transfer").split("\n")) {
            String[] f = line.trim().split("\t");
            if (f.length == 3) out.put(f[0], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
        return out;
    }

    String sh(String script) {
        Cmd.Result r = Cmd.run(Duration.ofSeconds(60), dir, null, List.of("sh", "-c", "set -e; " + script));
        if (r.exit() != 0) throw new AssertionError("`" + script + "` exited " + r.exit() + ":\n" + r.out() + r.err());
        return r.out();
    }

    /** The namespaces and everything in them go; the wireguard module stays loaded. */
    @Override
    public void close() {
        Cmd.run("ip", "netns", "del", a);
        Cmd.run("ip", "netns", "del", b);
    }
}
