package io.bpfwatch.vm;

import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.Btf;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs only inside the test VM (listed in vm/suite.txt; not named *Test, so surefire leaves it
 * alone on the host): the suite really runs on the kernel the VM was asked to boot, and that
 * kernel and image have what monitors beyond tracepoints need: kprobes, fentry, and a working
 * WireGuard tunnel between two network namespaces with the module's BTF readable.
 * BPFWATCH_VM_KERNEL is set by vm/suite.sh; a wrong value is how its self-test makes a guest
 * test fail on purpose.
 */
class GuestKernelCheck {
    @Test
    void runsOnTheKernelTheVmWasAskedToBoot() {
        String expected = System.getenv("BPFWATCH_VM_KERNEL");
        assertThat(expected).as("BPFWATCH_VM_KERNEL, set by vm/suite.sh").isNotBlank();
        assertThat(Kernel.system().release()).isEqualTo(expected);
    }

    @Test
    void kernelHasKprobesAndFentry() {
        assertThat(Kernel.system().kprobesSupported()).as("kprobes").isTrue();
        assertThat(Kernel.system().missingFentry()).as("why fentry is missing").isEmpty();
    }

    @Test
    void wireguardTunnelBetweenTwoNamespacesCarriesTraffic() throws Exception {
        // Addresses from the documentation ranges, inside namespaces of a VM without a network card.
        String script = """
                set -e
                trap 'ip netns del bw-a; ip netns del bw-b' EXIT
                ip netns add bw-a
                ip netns add bw-b
                ip link add veth-a netns bw-a type veth peer name veth-b netns bw-b
                cd "$(mktemp -d)"
                for side in a b; do
                    wg genkey > $side.key
                    wg pubkey < $side.key > $side.pub
                done
                setup() { # SIDE PEER N PEER_N
                    ip -n bw-$1 addr add 192.0.2.$3/24 dev veth-$1
                    ip -n bw-$1 link set veth-$1 up
                    ip -n bw-$1 link add wg-$1 type wireguard
                    ip netns exec bw-$1 wg set wg-$1 listen-port 51820 private-key $1.key \\
                        peer "$(cat $2.pub)" endpoint 192.0.2.$4:51820 allowed-ips 198.51.100.$4/32
                    ip -n bw-$1 addr add 198.51.100.$3/24 dev wg-$1
                    ip -n bw-$1 link set wg-$1 up
                }
                setup a b 1 2
                setup b a 2 1
                ip netns exec bw-a ping -c 3 -i 0.2 -W 5 198.51.100.2
                ip netns exec bw-a wg show wg-a transfer
                """;
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("tunnel script finished").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("3 received");
        assertThat(out).containsPattern("\\t[1-9]\\d*\\t[1-9]\\d*"); // bytes received and sent

        assertThat(Kernel.system().hasModuleBtf("wireguard")).as("/sys/kernel/btf/wireguard").isTrue();
        try (Btf vmlinux = Btf.vmlinux(); Btf wireguard = Btf.module("wireguard", vmlinux)) {
            assertThat(wireguard.has("encrypt_packet", Btf.KIND_FUNC)).as("encrypt_packet in wireguard's BTF").isTrue();
        }
    }
}
