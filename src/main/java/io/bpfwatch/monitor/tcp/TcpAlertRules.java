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
    /** Exact names, and the suffixes (".example.net") of "*.example.net" patterns, with their rules. */
    private final java.util.Map<String, String> exactDomains = new java.util.HashMap<>();
    private final List<String> suffixes = new ArrayList<>();
    private final List<String> suffixRules = new ArrayList<>();

    public TcpAlertRules(TcpSettings s) {
        for (int p : s.alertPorts()) {
            ports.set(p);
            portRule[p] = "port:" + p;
        }
        networks = List.copyOf(s.alertNetworks());
        for (Cidr c : networks) networkRules.add("network:" + c);
        ignore = List.copyOf(s.ignoreNetworks());
        for (String d : s.alertDomains()) {
            if (d.startsWith("*.")) {
                suffixes.add(d.substring(1));
                suffixRules.add("domain:" + d);
            } else {
                exactDomains.put(d, "domain:" + d);
            }
        }
    }

    /**
     * A {@code domains:} entry: a name ("example.net", that name only) or "*.example.net" (any
     * name below it), case-insensitive, without a trailing dot; null after reporting a problem.
     */
    static String domainPattern(io.bpfwatch.config.Section at, org.yaml.snakeyaml.nodes.Node n) {
        String what = at.path() + ".domains";
        if (!(n instanceof org.yaml.snakeyaml.nodes.ScalarNode sc)) {
            at.problems().at(n, what + ": a domain must be text like example.net or *.example.net, not " + io.bpfwatch.config.Section.describe(n));
            return null;
        }
        String d = sc.getValue().toLowerCase(java.util.Locale.ROOT);
        if (d.endsWith(".")) d = d.substring(0, d.length() - 1);
        String rest = d.startsWith("*.") ? d.substring(2) : d;
        if (rest.isEmpty() || rest.length() > 253 || !rest.matches("[a-z0-9_]([a-z0-9_-]{0,62})(\\.[a-z0-9_]([a-z0-9_-]{0,62}))*")) {
            at.problems().at(n, what + ": '" + sc.getValue() + "' is not a domain name or *.domain pattern (only a leading *. may be a wildcard)");
            return null;
        }
        return d;
    }

    /** Every rule name these settings can produce (metrics are registered up front). */
    public List<String> ruleNames() {
        List<String> out = new ArrayList<>();
        for (int p = ports.nextSetBit(0); p >= 0; p = ports.nextSetBit(p + 1)) out.add(portRule[p]);
        out.addAll(networkRules);
        for (String d : exactDomains.values()) out.add(d);
        out.addAll(suffixRules);
        return out;
    }

    /** Matching rule names for a destination ({@code addrLen} 4 or 16 bytes at {@code off}). */
    public List<String> match(byte[] addr, int off, int addrLen, int dport) {
        return match(addr, off, addrLen, dport, null);
    }

    /** The same, with the name the destination was resolved from (null: none known). */
    public List<String> match(byte[] addr, int off, int addrLen, int dport, String name) {
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
        if (name != null && (!exactDomains.isEmpty() || !suffixes.isEmpty())) {
            String n = name.toLowerCase(java.util.Locale.ROOT);
            if (n.endsWith(".")) n = n.substring(0, n.length() - 1);
            String exact = exactDomains.get(n);
            if (exact != null) {
                if (out == NONE) out = new ArrayList<>(2);
                out.add(exact);
            }
            for (int i = 0; i < suffixes.size(); i++) {
                if (n.endsWith(suffixes.get(i))) {
                    if (out == NONE) out = new ArrayList<>(2);
                    out.add(suffixRules.get(i));
                }
            }
        }
        return out;
    }
}
