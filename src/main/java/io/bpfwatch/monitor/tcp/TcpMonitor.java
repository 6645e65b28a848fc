package io.bpfwatch.monitor.tcp;

import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.micrometer.core.instrument.Counter;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The live tcp monitor: attaches tcp.bpf.o, decodes connects, applies alert rules. */
final class TcpMonitor extends BpfMonitor {
    private final TcpDecoder decoder;
    private final Counter connectionsV4;
    private final Counter connectionsV6;
    private final Map<String, Counter> alerts = new HashMap<>();

    TcpMonitor(MonitorConfig config, MonitorContext context) {
        super(config, context);
        TcpAlertRules rules = new TcpAlertRules((TcpSettings) config.settings());
        decoder = new TcpDecoder(header, rules);
        connectionsV4 = connections(context, "ipv4");
        connectionsV6 = connections(context, "ipv6");
        for (String r : rules.ruleNames()) alerts.put(r, alert(context, r));
    }

    private static Counter connections(MonitorContext c, String family) {
        return Counter.builder("bpfwatch.tcp.connections").tag("family", family)
                .description("Outgoing TCP connect attempts").register(c.registry());
    }

    private static Counter alert(MonitorContext c, String rule) {
        return Counter.builder("bpfwatch.tcp.alerts").tag("rule", rule)
                .description("Outgoing TCP connect attempts that matched an alert rule, by rule").register(c.registry());
    }

    @Override
    protected void configure(BpfObject object) {
        // nothing to set: the kernel side keeps only CLOSE->SYN_SENT of TCP sockets
    }

    @Override
    protected void attach(BpfObject object, List<BpfLink> links) throws BpfException {
        links.add(object.program("tcp_set_state").attachTracepoint("sock", "inet_sock_set_state"));
        Kernel k = Kernel.system();
        if (k.missingTracepoint("syscalls", "sys_exit_connect").isEmpty()) {
            links.add(object.program("tcp_connect_return").attachTracepoint("syscalls", "sys_exit_connect"));
        }
        if (k.missingTracepoint("tcp", "tcp_retransmit_skb").isEmpty()) {
            links.add(object.program("tcp_retransmit").attachTracepoint("tcp", "tcp_retransmit_skb"));
        }
    }

    @Override
    protected void onRecord(ByteBuffer data, int offset, int length) {
        TcpEvent e = decoder.decode(data, offset, length);
        if (e == null) {
            context.output().malformed(decoder.problem);
            return;
        }
        (e.ipv6 ? connectionsV6 : connectionsV4).increment();
        for (String r : e.rules) {
            Counter c = alerts.get(r);
            if (c != null) c.increment();
        }
        context.output().emit(e);
    }
}
