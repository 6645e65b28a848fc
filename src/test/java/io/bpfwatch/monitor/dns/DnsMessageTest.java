package io.bpfwatch.monitor.dns;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The DNS parser over well-formed and hostile messages: it never throws, loops or overreads. */
class DnsMessageTest {
    private static final byte[] V4 = {(byte) 192, 0, 2, 10};
    private static final byte[] V6 = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

    static DnsMessage parse(byte[] b) {
        return DnsMessage.parse(b, 0, b.length);
    }

    @Test
    void aQueryGivesItsIdNameAndType() {
        DnsMessage m = parse(Packets.query(0x1234, "www.Example.com", 28));
        assertThat(m.id).isEqualTo(0x1234);
        assertThat(m.isResponse()).isFalse();
        assertThat(m.opcode()).isZero();
        assertThat(m.qname).isEqualTo("www.Example.com");
        assertThat(m.qtype).isEqualTo(28);
        assertThat(m.qclass).isEqualTo(1);
        assertThat(m.problem).isNull();
    }

    @Test
    void aResponseGivesRcodeCountsAndCompressedAnswers() {
        DnsMessage m = parse(Packets.response(7, 0, "www.lab.test", 1, V4, V6));
        assertThat(m.isResponse()).isTrue();
        assertThat(m.rcode).isZero();
        assertThat(m.ancount).isEqualTo(2);
        assertThat(m.addresses).containsExactly("192.0.2.10", "2001:db8::10");
        assertThat(m.problem).isNull();
        assertThat(parse(Packets.response(7, 3, "nx.lab.test", 1)).rcode).isEqualTo(3);
    }

    @Test
    void aReusedMessageKeepsNothingOfTheLastOne() {
        DnsMessage.Scratch scratch = new DnsMessage.Scratch();
        DnsMessage m = new DnsMessage();
        byte[] answered = Packets.response(7, 0, "www.lab.test", 1, V4, V6);
        assertThat(DnsMessage.parse(answered, 0, answered.length, m, scratch)).isSameAs(m);
        assertThat(m.addresses).hasSize(2);

        byte[] cut = Arrays.copyOf(Packets.query(8, "cut.lab.test", 1), 20);
        DnsMessage.parse(cut, 0, cut.length, m, scratch);
        assertThat(m.isResponse()).isFalse();
        assertThat(m.addresses).isEmpty();
        assertThat(m.problem).isNotNull();
        assertThat(m.qtype).isEqualTo(-1);

        byte[] none = Packets.header(9, 0x8105, 0, 0, 0, 0).bytes();
        DnsMessage.parse(none, 0, none.length, m, scratch);
        assertThat(m.qname).isNull();
        assertThat(m.problem).isNull();
        assertThat(m.rcode).isEqualTo(5);
        assertThat(DnsMessage.parse(new byte[11], 0, 11, m, scratch)).isNull();
    }

    @Test
    void aNameSeenAgainIsTheSameStringAndCollisionsStayCorrect() {
        DnsMessage.Scratch scratch = new DnsMessage.Scratch();
        byte[] q = Packets.query(1, "www.Example.com", 1);
        String first = DnsMessage.parse(q, 0, q.length, new DnsMessage(), scratch).qname;
        byte[] r = Packets.response(1, 0, "www.Example.com", 1, V4);
        assertThat(DnsMessage.parse(r, 0, r.length, new DnsMessage(), scratch).qname).isSameAs(first);
        // far more names than slots: each still reads back as itself
        for (int i = 0; i < 2000; i++) {
            String name = "host" + i + ".lab.test";
            byte[] b = Packets.query(i, name, 1);
            assertThat(DnsMessage.parse(b, 0, b.length, new DnsMessage(), scratch).qname).isEqualTo(name);
        }
        byte[] case2 = Packets.query(2, "WWW.example.com", 1);
        assertThat(DnsMessage.parse(case2, 0, case2.length, new DnsMessage(), scratch).qname).isEqualTo("WWW.example.com");
    }

    @Test
    void theRootNameIsADot() {
        assertThat(parse(Packets.query(1, ".", 2)).qname).isEqualTo(".");
    }

    @Test
    void fewerThanTwelveBytesIsNotAMessage() {
        assertThat(DnsMessage.parse(new byte[11], 0, 11)).isNull();
        assertThat(DnsMessage.parse(new byte[20], 15, 12)).as("would read past the array").isNull();
        assertThat(DnsMessage.parse(null, 0, 12)).isNull();
        assertThat(DnsMessage.parse(new byte[20], -1, 12)).isNull();
    }

    @Test
    void noQuestionMeansNoName() {
        DnsMessage m = parse(Packets.header(9, 0x8105, 0, 0, 0, 0).bytes());
        assertThat(m.qname).isNull();
        assertThat(m.rcode).isEqualTo(5);
    }

    @Test
    void aPointerToItselfIsRefused() {
        // "a" then a pointer back to the start of the same name: a.a.a.a... forever
        byte[] b = Packets.header(1, 0, 1, 0, 0, 0).u8(1).u8('a').u16(0xc00c).u16(1).u16(1).bytes();
        DnsMessage m = parse(b);
        assertThat(m.qname).isNull();
        assertThat(m.problem).contains("points forward or into itself");
    }

    @Test
    void aPointerForwardIsRefused() {
        byte[] b = Packets.header(1, 0, 1, 0, 0, 0).u16(0xc00e).u8(1).u8('x').u8(0).u16(1).u16(1).bytes();
        assertThat(parse(b).problem).contains("points forward");
    }

    @Test
    void twoPointersChasingEachOtherAreRefused() {
        // question at 12 is fine; the answer's name at 17 points to 19, which points back to 17
        byte[] b = Packets.header(1, 0x8000, 1, 1, 0, 0).name("").u16(1).u16(1).u16(0xc013).u16(0xc011).u16(1).u16(1).u32(0).u16(0).bytes();
        DnsMessage m = parse(b);
        assertThat(m.qname).isEqualTo(".");
        assertThat(m.problem).contains("compression pointer");
    }

    /**
     * Record 1 (root name at 12) carries, as its data, {@code hops} pointer cells each pointing
     * at the one before it (the first at the root); record 2's name points at the last cell.
     */
    static byte[] pointerChain(int hops) {
        Packets p = Packets.header(1, 0x8000, 0, 2, 0, 0).u8(0).u16(16).u16(1).u32(0).u16(2 * hops);
        int cell = p.size();
        for (int k = 0; k < hops; k++) p.u16(0xc000 | (k == 0 ? 12 : cell + 2 * (k - 1)));
        return p.u16(0xc000 | (cell + 2 * (hops - 1))).u16(16).u16(1).u32(0).u16(0).bytes();
    }

    @Test
    void longChainsOfBackwardPointersAreCut() {
        assertThat(parse(pointerChain(100)).problem).isNull();
        assertThat(parse(pointerChain(130)).problem).contains("more than 127 compression pointers");
    }

    @Test
    void labelsOver63BytesAreRefused() {
        byte[] ok = Packets.header(1, 0, 1, 0, 0, 0).label(new byte[63]).u8(0).u16(1).u16(1).bytes();
        assertThat(parse(ok).problem).isNull();
        byte[] b = Packets.header(1, 0, 1, 0, 0, 0).label(new byte[64]).u8(0).u16(1).u16(1).bytes();
        DnsMessage m = parse(b);
        assertThat(m.qname).isNull();
        assertThat(m.problem).contains("label type 0x1");
        byte[] ext = Packets.header(1, 0, 1, 0, 0, 0).u8(0x81).u8(0).u16(1).u16(1).bytes();
        assertThat(parse(ext).problem).contains("label type 0x2");
    }

    @Test
    void namesOver255OctetsAreRefusedAnd255IsFine() {
        String l63 = "a".repeat(63), l61 = "b".repeat(61);
        DnsMessage max = parse(Packets.query(1, l63 + "." + l63 + "." + l63 + "." + l61, 1));
        assertThat(max.problem).isNull();
        assertThat(max.qname).hasSize(63 * 3 + 61 + 3);
        DnsMessage over = parse(Packets.query(1, l63 + "." + l63 + "." + l63 + "." + l61 + "c", 1));
        assertThat(over.qname).isNull();
        assertThat(over.problem).contains("longer than 255");
        // compression cannot be used to build a longer one either
        Packets p = Packets.header(1, 0, 2, 0, 0, 0).name(l63 + "." + l63 + "." + l63).u16(1).u16(1);
        p.label(l63.getBytes()).u16(0xc00c).u16(1).u16(1);
        assertThat(parse(p.bytes()).problem).contains("longer than 255");
    }

    @Test
    void unprintableAndSpecialBytesAreEscapedAsDigDoes() {
        byte[] label = {'a', ' ', '.', '\\', '"', '(', ')', ';', '@', '$', 0, 0x7f, (byte) 0xff, '\n', 'z'};
        byte[] b = Packets.header(1, 0, 1, 0, 0, 0).label(label).label("com".getBytes()).u8(0).u16(1).u16(1).bytes();
        assertThat(parse(b).qname).isEqualTo("a\\032\\.\\\\\\\"\\(\\)\\;\\@\\$\\000\\127\\255\\010z.com");
    }

    @Test
    void everyTruncationOfAResponseIsHandled() {
        byte[] full = Packets.response(42, 0, "www.lab.test", 1, V4, V6);
        for (int n = 0; n < full.length; n++) {
            DnsMessage m = DnsMessage.parse(full, 0, n);
            if (n < 12) {
                assertThat(m).isNull();
                continue;
            }
            assertThat(m.id).isEqualTo(42);
            assertThat(m.problem).as("cut at %d", n).isNotNull();
            assertThat(m.addresses.size()).isLessThan(2);
        }
    }

    @Test
    void hugeCountsInATinyMessageStopAtItsEnd() {
        byte[] b = Packets.header(1, 0x8000, 65535, 65535, 65535, 65535).u8(0).u16(1).u16(1).bytes();
        DnsMessage m = parse(b);
        assertThat(m.qname).isEqualTo(".");
        assertThat(m.problem).isNotNull();
    }

    @Test
    void theOptRecordExtendsTheResponseCode() {
        // BADVERS = 16: header RCODE 0, OPT TTL upper byte 1
        byte[] b = Packets.header(3, 0x8100, 1, 0, 0, 1).name("x.test").u16(1).u16(1)
                .u8(0).u16(41).u16(1232).u32(0x01000000L).u16(0).bytes();
        DnsMessage m = parse(b);
        assertThat(m.rcode).isEqualTo(16);
        assertThat(DnsCodes.rcodeName(m.rcode)).isEqualTo("BADVERS");
    }

    @Test
    void addressesAreBoundedWhateverTheCount() {
        byte[][] many = new byte[100][];
        Arrays.fill(many, V4);
        DnsMessage m = parse(Packets.response(1, 0, "x.test", 1, many));
        assertThat(m.ancount).isEqualTo(100);
        assertThat(m.addresses).hasSize(DnsMessage.MAX_ADDRESSES);
    }

    @Test
    void typeAndCodeNames() {
        assertThat(DnsCodes.typeName(1)).isEqualTo("A");
        assertThat(DnsCodes.typeName(65)).isEqualTo("HTTPS");
        assertThat(DnsCodes.typeName(65280)).isEqualTo("TYPE65280");
        assertThat(DnsCodes.typeNumber("TYPE65280")).isEqualTo(65280);
        assertThat(DnsCodes.typeLabel(65280)).isEqualTo("other");
        assertThat(DnsCodes.typeLabel(15)).isEqualTo("MX");
        assertThat(DnsCodes.rcodeName(3)).isEqualTo("NXDOMAIN");
        assertThat(DnsCodes.rcodeName(4000)).isEqualTo("RCODE4000");
        assertThat(DnsCodes.rcodeLabel(4000)).isEqualTo("other");
    }
}
