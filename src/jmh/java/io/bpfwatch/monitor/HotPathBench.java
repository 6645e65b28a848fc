package io.bpfwatch.monitor;

import io.bpfwatch.config.Cidr;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.monitor.dns.DnsMessage;
import io.bpfwatch.monitor.tcp.TcpAlertRules;
import io.bpfwatch.monitor.tcp.TcpDecoder;
import io.bpfwatch.monitor.tcp.TcpSettings;
import io.bpfwatch.monitor.zfs.NvListDecoder;
import io.bpfwatch.monitor.zfs.ZfsDecoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the reader and writer threads do per event, on recorded bytes: the tcp record the fuzz
 * corpus keeps (captured from the kernel), a zfs record around the nvlist real libnvpair packed
 * for `zfs destroy` of three snapshots, a DNS response with two addresses; decoding each, and
 * encoding decoded events as JSON lines. Run with `-prof gc` for bytes allocated per event
 * (`make bench-jmh` does).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HotPathBench {
    private static final Path CORPUS = Path.of("src/test/resources/io/bpfwatch/monitor");

    private ByteBuffer tcpRecord, zfsRecord;
    private int zfsLen;
    private byte[] nvlist, dnsResponse;
    private TcpDecoder tcp, tcpWithContext;
    private ByteBuffer tcpContextRecord;
    private Event tcpContextEvent;
    private ZfsDecoder zfs;
    private Event tcpEvent, zfsEvent;
    private JsonLineEncoder encoder;
    private int lines;

    @Setup
    public void load() throws IOException, Decoder.Refused {
        byte[] t = Files.readAllBytes(CORPUS.resolve("tcp/TcpDecoderFuzzerInputs/tcpRecordsDecodeOrAreRefused/ipv4.bin"));
        tcpRecord = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN);
        // a timestamp of now, as the daemon sees them: the recorded one is from another boot,
        // and one later than this machine's clock made every decode re-sample the wall clock
        tcpRecord.putLong(EventHeader.TS_NS, System.nanoTime());
        tcp = new TcpDecoder(new EventHeader(), new TcpAlertRules(new TcpSettings(TcpSettings.DEFAULT_ALERT_PORTS,
                List.of(Cidr.parse("10.0.0.0/8")), List.of())));

        nvlist = Files.readAllBytes(CORPUS.resolve("zfs/NvListFuzzerInputs/destroy-snaps.bin"));
        zfsLen = ZfsDecoder.DATA + 5 + nvlist.length;
        zfsRecord = ByteBuffer.allocate(zfsLen).order(ByteOrder.LITTLE_ENDIAN);
        zfsRecord.put(EventHeader.COMM, "zfs".getBytes(StandardCharsets.US_ASCII));
        zfsRecord.putLong(EventHeader.TS_NS, 1_000_000_000L).putInt(EventHeader.PID, 4242).putInt(EventHeader.TYPE, 1);
        zfsRecord.putLong(ZfsDecoder.DURATION_NS, 1_234_567).putLong(ZfsDecoder.RET, 0).putLong(ZfsDecoder.NVL_SIZE, nvlist.length);
        zfsRecord.putInt(ZfsDecoder.CMD, 0x5a3b).putInt(ZfsDecoder.PPID, 1).putInt(ZfsDecoder.NVL_LEN, nvlist.length);
        zfsRecord.putShort(ZfsDecoder.NAME_LENGTH, (short) 5).put(ZfsDecoder.DATA, "tank\0".getBytes(StandardCharsets.US_ASCII));
        zfsRecord.put(ZfsDecoder.DATA + 5, nvlist);
        zfs = new ZfsDecoder(new EventHeader());

        // www.example.com A: two answers, the second name a compression pointer
        dnsResponse = new byte[] {0x12, 0x34, (byte) 0x81, (byte) 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
                3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
                (byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, (byte) 184, (byte) 216, 34,
                (byte) 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, (byte) 184, (byte) 216, 35};

        tcpEvent = tcp.decode(tcpRecord, 0, t.length); // a recorded input that no longer decodes throws Refused

        // the same record with its context part filled as the kernel fills it for this process
        // (its pid, start, cgroup and parent): the resolver's cache hit, as every event after a
        // process's first costs
        tcpContextRecord = ByteBuffer.allocate(t.length).order(ByteOrder.LITTLE_ENDIAN).put(0, t);
        long pid = ProcessHandle.current().pid();
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        io.bpfwatch.context.CgroupResolver cgroups = io.bpfwatch.context.CgroupResolver.system();
        Path cgroupRoot = Path.of(Files.readAllLines(Path.of("/proc/self/mounts")).stream().map(l -> l.split(" "))
                .filter(x -> x[2].equals("cgroup2")).findFirst().map(x -> x[1]).orElse("/"));
        tcpContextRecord.putInt(EventHeader.PID, (int) pid).putLong(EventHeader.START_NS, Long.parseLong(f[19]) * 10_000_000L)
                .putLong(EventHeader.CGROUP_ID, (Long) Files.getAttribute(cgroupRoot, "unix:ino")).putInt(EventHeader.PPID, Integer.parseInt(f[1]))
                .put(EventHeader.PCOMM, "bash".getBytes(StandardCharsets.US_ASCII));
        tcpWithContext = new TcpDecoder(new EventHeader(new io.bpfwatch.context.ContextResolver(
                new io.bpfwatch.context.ContextSpec(io.bpfwatch.context.ContextField.DEFAULT, 0), cgroups,
                new io.bpfwatch.context.ExeResolver(Path.of("/proc")))), new TcpAlertRules(new TcpSettings(TcpSettings.DEFAULT_ALERT_PORTS,
                List.of(Cidr.parse("10.0.0.0/8")), List.of())));
        tcpContextEvent = tcpWithContext.decode(tcpContextRecord, 0, t.length);
        if (tcpContextEvent.context == null || tcpContextEvent.context.exe == null || tcpContextEvent.context.cgroup == null) {
            throw new IllegalStateException("the context of this process did not resolve: " + tcpContextEvent.context);
        }
        zfsEvent = zfs.decode(zfsRecord, 0, zfsLen);
        if (DnsMessage.parse(dnsResponse, 0, dnsResponse.length).ancount != 2) {
            throw new IllegalStateException("the recorded DNS response no longer parses");
        }
        encoder = new JsonLineEncoder();
    }

    /** The decoded tcp event with its context (ExportBench's input). */
    public Event tcpContextEvent() {
        return tcpContextEvent;
    }

    @Benchmark
    public Object tcpDecode() throws Decoder.Refused {
        return tcp.decode(tcpRecord, 0, tcpRecord.capacity());
    }

    /** tcpDecode with the default context (parent, exe, cgroup, unit, container) resolved from the cache. */
    @Benchmark
    public Object tcpDecodeWithContext() throws Decoder.Refused {
        return tcpWithContext.decode(tcpContextRecord, 0, tcpContextRecord.capacity());
    }

    @Benchmark
    public int jsonLineTcpWithContext() throws IOException {
        return encode(tcpContextEvent);
    }

    private final io.bpfwatch.top.RecentActivity recent = new io.bpfwatch.top.RecentActivity();
    private List<Event> written;
    private final int[] writtenIdx = new int[1024];

    /**
     * What the writer adds per tcp event for bpfwatch top (a batch of 1024 written lines counted
     * under one lock): the destination's text and the ranking's update.
     */
    @Benchmark
    @OperationsPerInvocation(1024)
    public io.bpfwatch.top.RecentActivity topTallyTcp() {
        if (written == null) {
            written = java.util.Collections.nCopies(1024, tcpContextEvent);
            for (int i = 0; i < writtenIdx.length; i++) writtenIdx[i] = i;
        }
        recent.count(written, writtenIdx, writtenIdx.length);
        return recent;
    }

    @Benchmark
    public Object zfsDecode() throws Decoder.Refused {
        return zfs.decode(zfsRecord, 0, zfsLen);
    }

    @Benchmark
    public Object nvlistDecode() {
        return NvListDecoder.decode(nvlist);
    }

    @Benchmark
    public Object dnsParseResponse() {
        return DnsMessage.parse(dnsResponse, 0, dnsResponse.length);
    }

    @Benchmark
    public int jsonLineTcp() throws IOException {
        return encode(tcpEvent);
    }

    @Benchmark
    public int jsonLineZfs() throws IOException {
        return encode(zfsEvent);
    }

    /** As the writer does: lines appended to one buffer, reset once per batch of 512. */
    private int encode(Event e) throws IOException {
        if (++lines == 512) {
            lines = 0;
            encoder.reset();
        }
        return encoder.append(e);
    }
}
