package io.bpfwatch.monitor.tcp;

import io.bpfwatch.config.Cidr;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Decides whether a connection is suspicious and names the rules that matched:
 * "port:4444" when the destination port is listed, "network:203.0.113.0/24" when the
 * destination is inside a listed network. A destination inside an ignore-network raises
 * nothing. IPv4 rules also match IPv4-mapped IPv6 destinations.
 */
public final class TcpAlertRules {
    private static final List<String> NONE = List.of();
    private final BitSet ports = new BitSet(65536);
    private final String[] portRule = new String[65536];
    private final List<Cidr> networks;
    private final List<String> networkRules = new ArrayList<>();
    private final List<Cidr> ignore;

    public TcpAlertRules(TcpSettings s) {
        for (int p : s.alertPorts()) {
            ports.set(p);
            portRule[p] = "port:" + p;
        }
        networks = List.copyOf(s.alertNetworks());
        for (Cidr c : networks) networkRules.add("network:" + c);
        ignore = List.copyOf(s.ignoreNetworks());
    }

    /** Every rule name these settings can produce (metrics are registered up front). */
    public List<String> ruleNames() {
        List<String> out = new ArrayList<>();
        for (int p = ports.nextSetBit(0); p >= 0; p = ports.nextSetBit(p + 1)) out.add(portRule[p]);
        out.addAll(networkRules);
        return out;
    }

    /** Matching rule names for a destination ({@code addrLen} 4 or 16 bytes at {@code off}). */
    public List<String> match(byte[] addr, int off, int addrLen, int dport) {
        for (Cidr c : ignore) if (c.contains(addr, off, addrLen)) return NONE;
        List<String> out = NONE;
        if (ports.get(dport)) {
            out = new ArrayList<>(2);
            out.add(portRule[dport]);
        }
        for (int i = 0; i < networks.size(); i++) {
            if (networks.get(i).contains(addr, off, addrLen)) {
                if (out == NONE) out = new ArrayList<>(2);
                out.add(networkRules.get(i));
            }
        }
        return out;
    }
}
