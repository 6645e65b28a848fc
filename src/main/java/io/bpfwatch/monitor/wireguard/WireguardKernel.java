package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.Btf;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the running kernel's WireGuard offers: loaded or not (as a module or built in), which of
 * the functions the monitor hooks are in its BTF (fentry) and traceable (kprobes). The module
 * comes and goes, so nothing is assumed; the expensive part (reading the BTF and the list of
 * traceable functions, ~100 ms) is done once per module load, recognized by the inode of
 * /sys/module/wireguard, which sysfs allocates anew each time the module loads.
 */
final class WireguardKernel {
    static final String MODULE = "wireguard";

    enum Kind { ABSENT, CHANGING, MODULE, BUILTIN }

    /** {@code problem}: why the hooks cannot be looked at (no BTF, an unreadable list); null if they were. */
    record State(Kind kind, long identity, String problem, Set<String> inBtf, Set<String> traceable) {
        static State absent() {
            return new State(Kind.ABSENT, -1, null, Set.of(), Set.of());
        }
    }

    private State cached = State.absent();

    /** This load of the module: the inode of /sys/module/wireguard; -1 if not loaded. */
    static long identity(Kernel kernel) {
        Path module = kernel.path("/sys/module/" + MODULE);
        // asked every few seconds while the module is absent: no exception for the usual answer
        if (!module.toFile().exists()) return -1;
        try {
            return ((Number) Files.getAttribute(module, "unix:ino")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    synchronized State inspect(Kernel kernel, List<String> functions) {
        long id = identity(kernel);
        if (id < 0) return cached = State.absent();
        Kind kind;
        Path initstate = kernel.path("/sys/module/" + MODULE + "/initstate");
        if (Files.exists(initstate)) {
            String s;
            try {
                s = Files.readString(initstate, StandardCharsets.US_ASCII).trim();
            } catch (IOException e) {
                s = "gone";
            }
            if (!s.equals("live")) return new State(Kind.CHANGING, id, "the wireguard module is " + s, Set.of(), Set.of());
            kind = Kind.MODULE;
        } else {
            kind = Kind.BUILTIN; // built-in modules have no initstate
        }
        if (cached.identity() == id && cached.kind() == kind) return cached;
        return cached = look(kernel, kind, id, functions);
    }

    private static State look(Kernel kernel, Kind kind, long id, List<String> functions) {
        Set<String> inBtf = new HashSet<>();
        String problem = null;
        if (kind == Kind.MODULE && !kernel.hasModuleBtf(MODULE)) {
            problem = "the wireguard module has no BTF (/sys/kernel/btf/wireguard; kernels built without CONFIG_DEBUG_INFO_BTF_MODULES)";
        } else if (!kernel.hasVmlinuxBtf()) {
            problem = "the kernel has no BTF (/sys/kernel/btf/vmlinux): WireGuard's structures cannot be read";
        } else {
            try (Btf vmlinux = kernel.vmlinuxBtf()) {
                if (kind == Kind.MODULE) {
                    try (Btf module = kernel.moduleBtf(MODULE, vmlinux)) {
                        for (String f : functions) if (module.has(f, Btf.KIND_FUNC)) inBtf.add(f);
                    }
                } else {
                    for (String f : functions) if (vmlinux.has(f, Btf.KIND_FUNC)) inBtf.add(f);
                }
            } catch (BpfException e) {
                problem = "reading WireGuard's BTF failed: " + e.getMessage();
            }
        }
        return new State(kind, id, problem, Set.copyOf(inBtf), traceable(kernel, kind, functions));
    }

    /** Which of the functions kprobes can attach to (the tracefs list of traceable functions). */
    private static Set<String> traceable(Kernel kernel, Kind kind, List<String> functions) {
        Optional<Path> events = kernel.tracefsEvents();
        if (events.isEmpty()) return Set.of();
        Set<String> wanted = new HashSet<>(functions);
        Set<String> found = new HashSet<>();
        String suffix = " [" + MODULE + "]";
        try (BufferedReader r = Files.newBufferedReader(events.get().getParent().resolve("available_filter_functions"), StandardCharsets.US_ASCII)) {
            for (String line; (line = r.readLine()) != null; ) {
                String name;
                if (kind == Kind.MODULE) {
                    if (!line.endsWith(suffix)) continue;
                    name = line.substring(0, line.length() - suffix.length());
                } else {
                    if (line.indexOf(' ') >= 0) continue;
                    name = line;
                }
                if (wanted.contains(name)) found.add(name);
            }
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
        return Set.copyOf(found);
    }
}
