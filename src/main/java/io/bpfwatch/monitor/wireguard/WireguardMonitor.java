package io.bpfwatch.monitor.wireguard;

import com.sun.jna.Memory;
import io.bpfwatch.event.WallClock;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.BpfProgram;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.wireguard.WireguardMonitorType.Hook;
import io.bpfwatch.monitor.wireguard.WireguardMonitorType.Plan;
import io.micrometer.core.instrument.Counter;
import org.jboss.logging.Logger;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The live wireguard monitor: loads the fentry or the kprobe half of wireguard.bpf.o (as the
 * plan says), logs handshakes as they come, and every interval one summary per peer that had
 * traffic; the histograms and counters themselves are read from the kernel at scrape time by
 * {@link WireguardCollector}.
 */
final class WireguardMonitor extends BpfMonitor {
    private static final Logger LOG = Logger.getLogger(WireguardMonitor.class);

    private final WireguardMonitorType type;
    private final WireguardSettings settings;
    private final WireguardDecoder decoder;
    private final WireguardCollector collector;
    private final WireguardCollector.Source source = this::snapshot;
    private final Map<String, Counter> handshakes = new HashMap<>();
    private final Memory seqKey = new Memory(4);
    private final Memory seqValue = new Memory(8);
    private volatile Plan plan;
    private BpfMap peers, other, dropped, seqMap;
    private long seq = 1;
    private Map<String, PeerStats> previous = Map.of();
    private long lastSummary;

    WireguardMonitor(MonitorConfig config, MonitorContext context, WireguardMonitorType type) {
        super(config, context);
        this.type = type;
        this.settings = (WireguardSettings) config.settings();
        this.decoder = new WireguardDecoder(header);
        this.collector = WireguardCollector.of(context.registry());
        seqKey.setInt(0, 0);
    }

    @Override
    protected void configure(BpfObject object) throws BpfException {
        WireguardMonitorType.Choice c = type.plan(Kernel.system(), settings);
        if (c instanceof WireguardMonitorType.NoPlan no) throw new IllegalStateException("wireguard cannot be attached any more: " + no.reason());
        plan = (Plan) c;
        Set<String> load = new HashSet<>();
        for (Hook h : plan.hooks()) {
            String entry = plan.fentry() ? h.entry() : h.entryKprobe();
            String exit = plan.fentry() ? h.exit() : h.exitKprobe();
            if (entry != null) load.add(entry);
            if (exit != null) load.add(exit);
        }
        for (BpfProgram prog : object.programs()) prog.setAutoload(load.contains(prog.name()));
        object.map("wg_peers").setMaxEntries(settings.maxPeers());
        LOG.infof("%s: %s", name(), plan.strategy());
    }

    @Override
    protected void attach(BpfObject object, List<BpfLink> links) throws BpfException {
        for (Hook h : plan.hooks()) {
            if (plan.fentry()) {
                if (h.entry() != null) links.add(object.program(h.entry()).attachTracing());
                if (h.exit() != null) links.add(object.program(h.exit()).attachTracing());
            } else {
                if (h.entryKprobe() != null) links.add(object.program(h.entryKprobe()).attachKprobe(plan.kprobeTarget(h), false));
                if (h.exitKprobe() != null) links.add(object.program(h.exitKprobe()).attachKprobe(plan.kprobeTarget(h), true));
            }
        }
    }

    @Override
    protected void afterAttach(BpfObject object) throws BpfException {
        peers = object.map("wg_peers");
        other = object.map("wg_other");
        dropped = object.map("wg_dropped");
        seqMap = object.map("wg_seq");
        writeSeq();
        lastSummary = System.nanoTime();
        if (collector != null) collector.attach(source);
    }

    /** For a scrape, under the collector's lock. */
    private WireguardCollector.Snapshot snapshot() throws BpfException {
        return new WireguardCollector.Snapshot(PeerTable.read(peers, other, -1), dropped.sumPerCpuU64(0));
    }

    @Override
    public String attachmentLost() {
        Plan p = plan;
        if (p == null || p.builtin()) return null;
        long now = WireguardKernel.identity();
        if (now == p.identity()) return null;
        return now < 0 ? "the wireguard module was unloaded" : "the wireguard module was reloaded";
    }

    @Override
    protected void onRecord(ByteBuffer data, int offset, int length) {
        HandshakeEvent e = decoder.decode(data, offset, length);
        if (e == null) {
            context.output().malformed(decoder.problem);
            return;
        }
        handshakes(e.iface, e.initiated ? (e.attempts == 0 ? "initiated" : "retried") : "completed").increment();
        context.output().emit(e);
    }

    private Counter handshakes(String iface, String event) {
        return handshakes.computeIfAbsent(iface + '\0' + event, k -> Counter.builder("bpfwatch.wireguard.handshakes")
                .tags("interface", iface, "event", event)
                .description("WireGuard handshake steps by interface: initiated (a new handshake sent), retried (an initiation sent again after no answer), completed")
                .register(context.registry()));
    }

    @Override
    protected void tick(long nowNanos) {
        if (nowNanos - lastSummary < settings.interval().toNanos()) return;
        try {
            summarize(nowNanos);
        } catch (BpfException e) {
            throw new IllegalStateException(name() + ": reading the peer statistics failed: " + e.getMessage(), e);
        }
    }

    /**
     * One summary per peer with traffic since the last one. The interval's maxima are the samples
     * stamped with the current interval number; the number moves on right after the read.
     */
    private void summarize(long nowNanos) throws BpfException {
        List<PeerStats> current = PeerTable.read(peers, other, seq);
        seq++;
        writeSeq();
        double seconds = (nowNanos - lastSummary) / 1e9;
        long time = WallClock.toEpochNanos(nowNanos);
        Map<String, PeerStats> next = new HashMap<>();
        for (PeerStats p : current) {
            next.put(p.label(), p);
            PeerStats d = since(p, previous.get(p.label()));
            if (d.encrypt().count() == 0 && d.decrypt().count() == 0 && d.sentPackets() == 0 && d.receivedPackets() == 0) continue;
            context.output().emit(new SummaryEvent(time, d, seconds));
        }
        previous = next;
        lastSummary = nowNanos;
    }

    static PeerStats since(PeerStats now, PeerStats before) {
        if (before == null) return now;
        return new PeerStats(now.iface(), now.peer(), now.endpoint(), now.encrypt().since(before.encrypt()), now.decrypt().since(before.decrypt()),
                delta(now.sentBytes(), before.sentBytes()), delta(now.sentPackets(), before.sentPackets()),
                delta(now.receivedBytes(), before.receivedBytes()), delta(now.receivedPackets(), before.receivedPackets()));
    }

    /** A counter that went down was recreated: all of it is new. */
    private static long delta(long now, long before) {
        return now >= before ? now - before : now;
    }

    private void writeSeq() throws BpfException {
        seqValue.setLong(0, seq);
        seqMap.update(seqKey, seqValue, 0);
    }

    /** Scrapes stop reading the maps before they close; the partial interval is summarized. */
    @Override
    protected void beforeClose(BpfObject object) {
        if (collector != null) collector.detach(source);
        if (!object.isLoaded() || peers == null) return;
        try {
            summarize(System.nanoTime());
        } catch (BpfException | RuntimeException e) {
            LOG.warnf("%s: the last summary could not be read: %s", name(), e);
        }
    }
}
