package io.bpfwatch.monitor.dns;

import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.BpfProgram;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** The live dns monitor: attaches dns.bpf.o, decodes its records, pairs queries with responses. */
final class DnsMonitor extends BpfMonitor {
    /** With no record read for a whole tick, everything older than this has been read. */
    private static final long IDLE_SLACK_NANOS = 20_000_000L;

    private final DnsSettings settings;
    private final DnsDecoder decoder = new DnsDecoder(header);
    private final DnsDecoder.Record record = new DnsDecoder.Record();
    private final DnsMetrics metrics;
    private final DnsTracker tracker;
    private long newestTs;
    private long recordsSinceTick;
    private boolean lossAttached;

    DnsMonitor(MonitorConfig config, MonitorContext context) {
        super(config, context);
        settings = (DnsSettings) config.settings();
        metrics = new DnsMetrics(context.registry());
        tracker = new DnsTracker(settings.timeout().toNanos(), settings.maxPending(), metrics,
                context.output()::emit, context.output()::malformed);
    }

    @Override
    protected void configure(BpfObject object) {
        object.setConstant("port_kind", settings.portKinds());
    }

    @Override
    protected void attach(BpfObject object, List<BpfLink> links) throws BpfException {
        // exits first: an entry must never park a call whose exit is not yet watched
        List<BpfProgram> programs = new ArrayList<>(object.programs());
        programs.sort((a, b) -> Boolean.compare(!a.section().contains("sys_exit_"), !b.section().contains("sys_exit_")));
        for (BpfProgram p : programs) links.add(p.attach());
    }

    @Override
    protected void afterAttach(BpfObject object) {
        metrics.shared.responsesLost.attach(object.map("aux_lost"));
        lossAttached = true;
    }

    @Override
    protected void beforeClose(BpfObject object) {
        if (lossAttached) {
            metrics.shared.responsesLost.detach();
            lossAttached = false;
        }
    }

    @Override
    protected void onRecord(ByteBuffer data, int offset, int length) {
        if (!decoder.decode(data, offset, length, record)) {
            context.output().malformed(decoder.problem);
            return;
        }
        if (record.ts > newestTs) newestTs = record.ts;
        recordsSinceTick++;
        try {
            tracker.record(record);
        } catch (RuntimeException e) {
            // the parser is built not to throw; if it ever does, lose this record, not the monitor
            context.output().malformed("dns record could not be processed: " + e);
        }
    }

    @Override
    protected void tick(long nowNanos) {
        long horizon = recordsSinceTick > 0 ? newestTs : nowNanos - IDLE_SLACK_NANOS;
        recordsSinceTick = 0;
        tracker.expire(horizon);
    }

    @Override
    protected void onDrained() {
        tracker.flush();
    }
}
