package io.bpfwatch.testkit;

import io.bpfwatch.kernel.Kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A kernel made of files, for probing without root or the real hooks: a /sys tree under a
 * temporary folder with the tracepoints, traceable functions and modules a test gives it, and
 * a BTF blob (compiled with clang from a generated C file) holding those functions, so fentry
 * plans see them in "the kernel's" BTF. Built-in modules only: no /sys/module/NAME/initstate.
 */
public final class FakeKernel {
    private final Path root;
    private final List<String> tracepoints = new ArrayList<>();
    private final List<String> functions = new ArrayList<>();
    private final List<String> modules = new ArrayList<>();
    private boolean kprobes;

    public FakeKernel(Path root) {
        this.root = root;
    }

    /** "category/name" tracepoints. */
    public FakeKernel tracepoints(Collection<String> categoryAndName) {
        tracepoints.addAll(categoryAndName);
        return this;
    }

    /** Functions in the kernel's BTF and traceable (available_filter_functions), as built-in code. */
    public FakeKernel functions(Collection<String> names) {
        functions.addAll(names);
        return this;
    }

    /** Built-in modules (a /sys/module/NAME folder with no initstate). */
    public FakeKernel builtinModules(String... names) {
        modules.addAll(List.of(names));
        return this;
    }

    public FakeKernel kprobes(boolean on) {
        kprobes = on;
        return this;
    }

    /** The kernel, with fentry working or not (the one answer that is not read from files). */
    public Kernel build(boolean fentry) throws IOException, InterruptedException {
        Path tracing = root.resolve("sys/kernel/tracing");
        Files.createDirectories(tracing.resolve("events"));
        for (String tp : tracepoints) Files.createDirectories(tracing.resolve("events").resolve(tp));
        Files.write(tracing.resolve("available_filter_functions"), functions, StandardCharsets.US_ASCII);
        if (kprobes) Files.writeString(tracing.resolve("kprobe_events"), "");
        for (String m : modules) Files.createDirectories(root.resolve("sys/module").resolve(m));
        Path btf = root.resolve("sys/kernel/btf");
        Files.createDirectories(btf);
        compileBtf(btf.resolve("vmlinux"));
        return Kernel.at(root, fentry ? Optional.empty() : Optional.of("fentry/fexit cannot be used on this (fake) kernel"));
    }

    /** An ELF object whose .BTF has one FUNC per function: libbpf reads it like raw kernel BTF. */
    private void compileBtf(Path out) throws IOException, InterruptedException {
        StringBuilder c = new StringBuilder("/* generated: the fake kernel's functions */\n");
        for (String f : functions) c.append("int ").append(f).append("(int x) { return x + 1; }\n");
        if (functions.isEmpty()) c.append("int fake_kernel_nothing(int x) { return x; }\n");
        Path src = root.resolve("fake-vmlinux.c");
        Files.writeString(src, c);
        Process p = new ProcessBuilder("clang", "-g", "-O2", "-target", "bpf", "-c", src.toString(), "-o", out.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("clang failed on the fake kernel's BTF: " + output);
    }
}
