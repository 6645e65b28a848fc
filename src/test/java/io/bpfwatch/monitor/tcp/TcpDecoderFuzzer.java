package io.bpfwatch.monitor.tcp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.bpfwatch.config.Cidr;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.monitor.Decoder;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Kernel records are trusted less than they look: a decoder must refuse what is malformed
 * (returning null with a reason) and encode whatever it accepts as one valid JSON line.
 * Fuzzed in its own JVM for a bounded time (pom.xml: tcp-decoder-fuzz).
 */
class TcpDecoderFuzzer {
    private static final TcpDecoder TCP = new TcpDecoder(new EventHeader(), new TcpAlertRules(
            new TcpSettings(TcpSettings.DEFAULT_ALERT_PORTS, List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("2001:db8::/32")), List.of(Cidr.parse("10.1.0.0/16")))));

    @FuzzTest(maxDuration = "30s")
    void tcpRecordsDecodeOrAreRefused(byte[] record) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(record).order(ByteOrder.LITTLE_ENDIAN);
        TcpEvent e;
        try {
            e = TCP.decode(b, 0, record.length);
        } catch (Decoder.Refused refused) {
            if (refused.getMessage() == null || refused.getMessage().isBlank()) throw new AssertionError("refused without a reason");
            return;
        }
        String line = JsonLineEncoder.toLine(e);
        if (line.indexOf('\n') != line.length() - 1) throw new AssertionError("not one line: " + line);
        if (e.dport < 0 || e.dport > 65535 || e.sport < 0 || e.sport > 65535) throw new AssertionError("port out of range");
    }
}
