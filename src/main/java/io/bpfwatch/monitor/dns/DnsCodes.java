package io.bpfwatch.monitor.dns;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Names of DNS record types and response codes (IANA "Domain Name System (DNS) Parameters"),
 * as dig prints them. Unknown types print as TYPE123 (RFC 3597), unknown codes as RCODE123.
 * Metric labels use a short fixed list and "other", so no packet can mint a label.
 */
public final class DnsCodes {
    private DnsCodes() {}

    private static final String[] TYPE_NAMES = new String[65536];
    private static final Map<String, Integer> TYPE_NUMBERS = new HashMap<>();

    static {
        Object[][] types = {
            {1, "A"}, {2, "NS"}, {3, "MD"}, {4, "MF"}, {5, "CNAME"}, {6, "SOA"}, {7, "MB"}, {8, "MG"},
            {9, "MR"}, {10, "NULL"}, {11, "WKS"}, {12, "PTR"}, {13, "HINFO"}, {14, "MINFO"}, {15, "MX"},
            {16, "TXT"}, {17, "RP"}, {18, "AFSDB"}, {19, "X25"}, {20, "ISDN"}, {21, "RT"}, {22, "NSAP"},
            {23, "NSAP-PTR"}, {24, "SIG"}, {25, "KEY"}, {26, "PX"}, {27, "GPOS"}, {28, "AAAA"}, {29, "LOC"},
            {30, "NXT"}, {31, "EID"}, {32, "NIMLOC"}, {33, "SRV"}, {34, "ATMA"}, {35, "NAPTR"}, {36, "KX"},
            {37, "CERT"}, {38, "A6"}, {39, "DNAME"}, {40, "SINK"}, {41, "OPT"}, {42, "APL"}, {43, "DS"},
            {44, "SSHFP"}, {45, "IPSECKEY"}, {46, "RRSIG"}, {47, "NSEC"}, {48, "DNSKEY"}, {49, "DHCID"},
            {50, "NSEC3"}, {51, "NSEC3PARAM"}, {52, "TLSA"}, {53, "SMIMEA"}, {55, "HIP"}, {56, "NINFO"},
            {57, "RKEY"}, {58, "TALINK"}, {59, "CDS"}, {60, "CDNSKEY"}, {61, "OPENPGPKEY"}, {62, "CSYNC"},
            {63, "ZONEMD"}, {64, "SVCB"}, {65, "HTTPS"}, {66, "DSYNC"}, {99, "SPF"}, {100, "UINFO"},
            {101, "UID"}, {102, "GID"}, {103, "UNSPEC"}, {104, "NID"}, {105, "L32"}, {106, "L64"},
            {107, "LP"}, {108, "EUI48"}, {109, "EUI64"}, {249, "TKEY"}, {250, "TSIG"}, {251, "IXFR"},
            {252, "AXFR"}, {253, "MAILB"}, {254, "MAILA"}, {255, "ANY"}, {256, "URI"}, {257, "CAA"},
            {258, "AVC"}, {259, "DOA"}, {260, "AMTRELAY"}, {261, "RESINFO"}, {262, "WALLET"},
            {32768, "TA"}, {32769, "DLV"},
        };
        for (Object[] t : types) {
            TYPE_NAMES[(Integer) t[0]] = (String) t[1];
            TYPE_NUMBERS.put((String) t[1], (Integer) t[0]);
        }
    }

    /** The record types common enough to get their own metric label. */
    public static final List<String> TYPE_LABELS = List.of("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV",
            "TXT", "HTTPS", "SVCB", "CAA", "DS", "DNSKEY", "NAPTR", "ANY", "AXFR", "IXFR");
    private static final Set<String> TYPE_LABEL_SET = Set.copyOf(TYPE_LABELS);

    private static final String[] RCODE_NAMES = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
        "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", "RCODE12", "RCODE13", "RCODE14", "RCODE15",
        "BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
    };

    /** Response code labels: every name {@link #rcodeName} can return below 24, then "other". */
    public static final List<String> RCODE_LABELS = List.of(RCODE_NAMES);
    private static final String[] TYPE_CACHE = new String[65536];

    /** "A", "AAAA", "MX", or "TYPE65280" for a type without a name. */
    public static String typeName(int type) {
        if (type < 0 || type > 65535) return "TYPE" + type;
        String n = TYPE_NAMES[type];
        if (n != null) return n;
        String c = TYPE_CACHE[type];
        if (c == null) TYPE_CACHE[type] = c = "TYPE" + type;
        return c;
    }

    /** The type number of a name typeName returns, or -1. */
    public static int typeNumber(String name) {
        Integer n = TYPE_NUMBERS.get(name);
        if (n != null) return n;
        if (name.startsWith("TYPE")) {
            try {
                int v = Integer.parseInt(name.substring(4));
                return v >= 0 && v <= 65535 ? v : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    public static String typeLabel(int type) {
        String n = typeName(type);
        return TYPE_LABEL_SET.contains(n) ? n : "other";
    }

    /** NOERROR, NXDOMAIN, ...; 16 and up are EDNS extended codes (RFC 6891). */
    public static String rcodeName(int rcode) {
        if (rcode >= 0 && rcode < RCODE_NAMES.length) return RCODE_NAMES[rcode];
        return "RCODE" + rcode;
    }

    public static String rcodeLabel(int rcode) {
        return rcode >= 0 && rcode < RCODE_NAMES.length ? RCODE_NAMES[rcode] : "other";
    }
}
