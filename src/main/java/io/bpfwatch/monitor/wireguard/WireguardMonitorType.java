package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.config.Section;
import io.bpfwatch.context.ContextField;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Attach;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.Plan;
import io.bpfwatch.monitor.wireguard.WireguardSettings.Mode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * wireguard: per-peer encryption and decryption latency, transfer and handshakes, from
 * WireGuard's own functions (monitors/wireguard/wireguard.bpf.c). Unavailable while the
 * wireguard module is not loaded; the supervisor's re-probe attaches it once it is, and a
 * module unloaded under it (possible with kprobes; fentry pins the module) is noticed within a
 * second (the plan's guard).
 */
public final class WireguardMonitorType implements MonitorType<WireguardSettings, WireguardMetrics> {
    /** One hooked function and the programs attached to it in each flavor (null: not at that end). */
    record Hook(String function, boolean required, String entry, String exit, String entryKprobe, String exitKprobe) {
    }

    static final List<Hook> HOOKS = List.of(
            new Hook("encrypt_packet", true, "wg_encrypt_entry", "wg_encrypt_exit", "wg_encrypt_entry_kp", "wg_encrypt_exit_kp"),
            new Hook("decrypt_packet", true, "wg_decrypt_entry", "wg_decrypt_exit", "wg_decrypt_entry_kp", "wg_decrypt_exit_kp"),
            new Hook("wg_socket_send_skb_to_peer", true, "wg_send_entry", "wg_send_exit", "wg_send_entry_kp", "wg_send_exit_kp"),
            new Hook("wg_noise_handshake_consume_initiation", true, null, "wg_initiation_exit", null, "wg_initiation_exit_kp"),
            new Hook("wg_noise_handshake_consume_response", true, null, "wg_response_exit", null, "wg_response_exit_kp"),
            new Hook("wg_timers_handshake_initiated", true, "wg_initiated", null, "wg_initiated_kp", null),
            new Hook("wg_timers_handshake_complete", true, "wg_completed", null, "wg_completed_kp", null),
            // static; only drops a removed peer's statistics, so its absence (inlined) is tolerated
            new Hook("peer_remove_after_dead", false, "wg_remove_entry", "wg_remove_exit", "wg_remove_entry_kp", "wg_remove_exit_kp"));
    static final List<String> FUNCTIONS = HOOKS.stream().map(Hook::function).toList();

    /** The name kprobes attach to: module functions qualified, so a same-named function elsewhere is never taken. */
    static String kprobeTarget(boolean builtin, Hook h) {
        return builtin ? h.function() : WireguardKernel.MODULE + ":" + h.function();
    }

    private final WireguardKernel wireguard = new WireguardKernel();

    /**
     * Its events are the kernel's work (handshakes, packets of any process): context may be asked
     * for, but says little, so none by default.
     */
    @Override
    public java.util.Set<ContextField> defaultContext() {
        return java.util.Set.of();
    }

    @Override
    public String name() {
        return "wireguard";
    }

    /** Only handshakes go through the ring (latency is summed in maps): 1 MiB holds ~10 000. */
    @Override
    public int defaultRingBuffer() {
        return 1 << 20;
    }

    @Override
    public String description() {
        return "per-peer WireGuard encryption and decryption latency (histograms), transfer, handshakes and interval summaries";
    }

    @Override
    public WireguardSettings parse(Section s) {
        Duration interval = s.duration("interval", WireguardSettings.DEFAULT_INTERVAL, Duration.ofSeconds(1), Duration.ofHours(1));
        long maxPeers = s.integer("max-peers", WireguardSettings.DEFAULT_MAX_PEERS, 1, 65536);
        Mode attach = Mode.of(s.oneOf("attach", Mode.AUTO.word, Mode.WORDS));
        return new WireguardSettings(interval, (int) maxPeers, attach);
    }

    /**
     * fentry/fexit where the kernel has them (and the attach setting allows), else kprobes, on
     * every hooked function this WireGuard has; guarded by the module's identity, so an unload or
     * reload under the running monitor is noticed.
     */
    @Override
    public Availability probe(Kernel kernel, WireguardSettings settings) {
        String libbpf = Kernel.libbpfProblem();
        if (libbpf != null) return new Availability.Unsupported(libbpf);
        WireguardKernel.State w = wireguard.inspect(kernel, FUNCTIONS);
        if (w.kind() == WireguardKernel.Kind.ABSENT) {
            return new Availability.Unsupported("the wireguard module is not loaded (attached within seconds of `modprobe wireguard`)");
        }
        if (w.problem() != null) return new Availability.Unsupported(w.problem());
        boolean builtin = w.kind() == WireguardKernel.Kind.BUILTIN;
        String where = builtin ? "built-in WireGuard" : "the wireguard module";

        String noFentry = null;
        if (settings.attach() != Mode.KPROBE) {
            noFentry = kernel.missingFentry().orElse(null);
            if (noFentry == null) noFentry = missing(w, true, where);
        }
        String noKprobe = null;
        if (settings.attach() != Mode.FENTRY && (noFentry != null || settings.attach() == Mode.KPROBE)) {
            noKprobe = kernel.kprobesSupported() ? missing(w, false, where) : "this kernel has no kprobes (CONFIG_KPROBES)";
        }
        boolean fentry;
        switch (settings.attach()) {
            case FENTRY:
                if (noFentry != null) return new Availability.Unsupported("attach: fentry, but " + noFentry);
                fentry = true;
                break;
            case KPROBE:
                if (noKprobe != null) return new Availability.Unsupported("attach: kprobe, but " + noKprobe);
                fentry = false;
                break;
            default:
                if (noFentry == null) {
                    fentry = true;
                } else if (noKprobe == null) {
                    fentry = false;
                } else {
                    return new Availability.Unsupported("neither fentry (" + noFentry + ") nor kprobes (" + noKprobe + ") can be used");
                }
        }

        List<Attach> attach = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Hook h : HOOKS) {
            boolean there = fentry ? w.inBtf().contains(h.function()) && w.traceable().contains(h.function()) : w.traceable().contains(h.function());
            if (!there) {
                skipped.add(h.function());
                continue;
            }
            if (fentry) {
                if (h.entry() != null) attach.add(new Attach.Tracing(h.entry(), h.function(), false));
                if (h.exit() != null) attach.add(new Attach.Tracing(h.exit(), h.function(), true));
            } else {
                if (h.entryKprobe() != null) attach.add(new Attach.Kprobe(h.entryKprobe(), kprobeTarget(builtin, h), false));
                if (h.exitKprobe() != null) attach.add(new Attach.Kprobe(h.exitKprobe(), kprobeTarget(builtin, h), true));
            }
        }
        StringBuilder strategy = new StringBuilder(fentry ? "fentry/fexit" : "kprobes");
        strategy.append(" on ").append(HOOKS.size() - skipped.size()).append(" functions of ").append(where);
        if (fentry) strategy.append(" (its BTF)");
        else if (noFentry != null) strategy.append(" (no fentry: ").append(noFentry).append(')');
        // only optional hooks can be skipped: today peer_remove_after_dead, which drops a removed peer's series
        if (!skipped.isEmpty()) strategy.append("; without ").append(String.join(", ", skipped))
                .append(" (not traceable here): removed peers keep their series until the module unloads");
        long identity = w.identity();
        Plan.Guard guard = builtin ? Plan.ALWAYS : () -> {
            long now = WireguardKernel.identity(kernel);
            if (now == identity) return null;
            return now < 0 ? "the wireguard module was unloaded" : "the wireguard module was reloaded";
        };
        return new Availability.Supported(new Plan(strategy.toString(), attach, guard));
    }

    /** Which required function the flavor cannot attach to, in words; null if none. */
    private static String missing(WireguardKernel.State w, boolean fentry, String where) {
        List<String> gone = new ArrayList<>();
        for (Hook h : HOOKS) {
            if (!h.required()) continue;
            boolean there = fentry ? w.inBtf().contains(h.function()) && w.traceable().contains(h.function()) : w.traceable().contains(h.function());
            if (!there) gone.add(h.function());
        }
        if (gone.isEmpty()) return null;
        return String.join(", ", gone) + (gone.size() == 1 ? " is" : " are") + " not " + (fentry ? "in the BTF of " + where + " or not traceable"
                : "traceable in " + where) + " (inlined or renamed in this kernel?)";
    }

    @Override
    public WireguardMetrics metrics(String monitor, Meters meters) {
        return new WireguardMetrics(meters);
    }

    @Override
    public Monitor create(MonitorConfig config, WireguardSettings settings, Plan plan, WireguardMetrics metrics, MonitorContext context) {
        return BpfMonitor.builtin(config, plan, context, new WireguardLogic(config.name(), settings, metrics, context));
    }
}
