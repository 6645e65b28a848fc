package io.bpfwatch.kernel;

import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.libbpf.Errno;
import io.bpfwatch.libbpf.FeatureProbe;
import io.bpfwatch.libbpf.LibBpf;
import io.bpfwatch.libbpf.LibC;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What the running kernel offers, asked the cheap way (files under /sys) where there is one,
 * so monitors can decide between hooks and say precisely why they cannot run. Answers about
 * things that can appear later (modules, tracefs) are not cached; the supervisor re-asks
 * while unavailable. fentry support has no file to read: it is probed once by loading a
 * program, and cached.
 */
public final class Kernel {
    private static final Logger LOG = Logger.getLogger(Kernel.class);
    private static final Path TRACEFS = Path.of("/sys/kernel/tracing");
    private static final Path DEBUGFS_TRACING = Path.of("/sys/kernel/debug/tracing");
    private static final Kernel SYSTEM = new Kernel(Path.of("/"), null);

    private final Path root;
    private volatile boolean mountTried;
    private volatile Optional<String> missingFentry;
    private final java.util.Map<String, Boolean> btfFunctions = new java.util.concurrent.ConcurrentHashMap<>();

    private Kernel(Path root, Optional<String> missingFentry) {
        this.root = root;
        this.missingFentry = missingFentry;
    }

    /** The kernel this process runs on. */
    public static Kernel system() {
        return SYSTEM;
    }

    /**
     * A kernel seen through a copy of its /sys under {@code root} (tests build one), with a fixed
     * answer to whether fentry works (empty: it does). Nothing is mounted or loaded to ask it.
     */
    public static Kernel at(Path root, Optional<String> missingFentry) {
        return new Kernel(root, missingFentry);
    }

    /** An absolute path as this kernel's view of the filesystem has it. */
    public Path path(String absolute) {
        return root.resolve(absolute.substring(1));
    }

    public String release() {
        return System.getProperty("os.version", "unknown");
    }

    /** libbpf's version, or why it cannot be used. */
    public static String libbpfVersion() {
        if (LibBpf.loadFailure() != null) return "unavailable (" + LibBpf.loadFailure().getMessage() + ")";
        return LibBpf.libbpf_version_string();
    }

    /** Null if this libbpf can be used, else why not. */
    public static String libbpfProblem() {
        if (LibBpf.loadFailure() != null) {
            return "libbpf 1.x cannot be loaded (install Debian's libbpf1): " + LibBpf.loadFailure().getMessage();
        }
        int major = LibBpf.libbpf_major_version();
        if (major < 1) return "libbpf " + LibBpf.libbpf_version_string() + " is too old: bpfwatch needs libbpf 1.x";
        return null;
    }

    /** The tracefs events directory, mounting tracefs first if nothing has. */
    public Optional<Path> tracefsEvents() {
        Path t = root.resolve(TRACEFS.toString().substring(1));
        if (isDirectory(t.resolve("events"))) return Optional.of(t.resolve("events"));
        Path d = root.resolve(DEBUGFS_TRACING.toString().substring(1));
        if (isDirectory(d.resolve("events"))) return Optional.of(d.resolve("events"));
        if (!mountTried && isSystem()) {
            mountTried = true;
            if (LibC.mount("nodev", TRACEFS.toString(), "tracefs", 0, null) == 0) {
                LOG.infof("mounted tracefs on %s (tracepoints need it)", TRACEFS);
                if (isDirectory(t.resolve("events"))) return Optional.of(t.resolve("events"));
            } else {
                LOG.warnf("tracefs is not mounted and mounting it on %s failed: %s", TRACEFS, Errno.name(LibC.errno()));
            }
        }
        return Optional.empty();
    }

    /** Whether tracepoint CATEGORY:NAME exists; the reason in words if not. */
    public Optional<String> missingTracepoint(String category, String name) {
        Optional<Path> events = tracefsEvents();
        if (events.isEmpty()) return Optional.of("tracefs is not mounted on /sys/kernel/tracing and cannot be mounted");
        if (isDirectory(events.get().resolve(category).resolve(name))) return Optional.empty();
        return Optional.of("this kernel has no tracepoint " + category + ":" + name);
    }

    /** The first missing tracepoint of several ("cat/name" each), if any. */
    public Optional<String> missingTracepoints(List<String> tracepoints) {
        for (String tp : tracepoints) {
            String[] p = tp.split("/", 2);
            Optional<String> m = missingTracepoint(p[0], p[1]);
            if (m.isPresent()) return m;
        }
        return Optional.empty();
    }

    /** The kernel's own BTF. */
    public Btf vmlinuxBtf() throws BpfException {
        return isSystem() ? Btf.vmlinux() : Btf.parse(path("/sys/kernel/btf/vmlinux").toString());
    }

    /** A loaded module's BTF, split on top of {@code vmlinux}. */
    public Btf moduleBtf(String module, Btf vmlinux) throws BpfException {
        return Btf.module(module, path("/sys/kernel/btf/" + module).toString(), vmlinux);
    }

    // java.io.File's checks, not Files': the supervisor re-asks these every few seconds for
    // every monitor (22 tracepoints for dns alone), and for a path that does not exist
    // Files.isDirectory and Files.exists build and throw an exception inside; File's are one
    // stat or access call each.
    private static boolean isDirectory(Path p) {
        return p.toFile().isDirectory();
    }

    private static boolean isReadable(Path p) {
        return p.toFile().canRead();
    }

    private static boolean exists(Path p) {
        return p.toFile().exists();
    }

    private boolean isSystem() {
        return root.equals(Path.of("/"));
    }

    public boolean hasVmlinuxBtf() {
        return isReadable(root.resolve("sys/kernel/btf/vmlinux"));
    }

    /**
     * Which of these functions the kernel's own BTF does not have (fentry attaches by BTF), in
     * the order given; all of them when that BTF cannot be read. Answers are cached: a running
     * kernel's functions do not change.
     */
    public List<String> missingBtfFunctions(List<String> functions) {
        List<String> missing = new java.util.ArrayList<>();
        List<String> unknown = functions.stream().filter(f -> !btfFunctions.containsKey(f)).toList();
        if (!unknown.isEmpty()) {
            if (libbpfProblem() != null || !hasVmlinuxBtf()) return List.copyOf(functions);
            try (Btf vmlinux = Btf.parse(root.resolve("sys/kernel/btf/vmlinux").toString())) {
                for (String f : unknown) btfFunctions.put(f, vmlinux.has(f, Btf.KIND_FUNC));
            } catch (BpfException e) {
                return List.copyOf(functions);
            }
        }
        for (String f : functions) if (!btfFunctions.get(f)) missing.add(f);
        return missing;
    }

    public boolean moduleLoaded(String module) {
        return isDirectory(root.resolve("sys/module").resolve(module));
    }

    public boolean hasModuleBtf(String module) {
        return isReadable(root.resolve("sys/kernel/btf").resolve(module));
    }

    /** Kprobes need CONFIG_KPROBES: the kprobe PMU or tracefs kprobe_events exists. */
    public boolean kprobesSupported() {
        if (exists(root.resolve("sys/bus/event_source/devices/kprobe/type"))) return true;
        return tracefsEvents().map(e -> exists(e.getParent().resolve("kprobe_events"))).orElse(false);
    }

    /**
     * Empty if fentry/fexit programs load and attach here, else why not: a no-op fentry
     * program is attached to bpf_fentry_test1 (the kernel's own self-test target) for a moment.
     * Cached once answered as root; without root the question cannot be asked yet.
     */
    public Optional<String> missingFentry() {
        Optional<String> known = missingFentry;
        if (known != null) return known;
        String libbpf = libbpfProblem();
        if (libbpf != null) return Optional.of(libbpf);
        if (LibC.geteuid() != 0) return Optional.of("probing fentry needs root");
        Optional<String> answer;
        try {
            FeatureProbe.fentry("bpf_fentry_test1");
            answer = Optional.empty();
        } catch (BpfException e) {
            answer = Optional.of("fentry/fexit cannot be used on this kernel: " + e.getMessage());
        }
        missingFentry = answer;
        return answer;
    }
}
