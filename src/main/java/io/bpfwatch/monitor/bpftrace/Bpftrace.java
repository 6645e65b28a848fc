package io.bpfwatch.monitor.bpftrace;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bpftrace program on this machine: where it is, and its dry run ({@code bpftrace -d}),
 * which parses and checks a script against the running kernel without loading anything and
 * prints the probes it would attach. Its errors come as {@code FILE:LINE:COL-COL: ERROR: text},
 * FILE being "stdin" for an inline program.
 */
final class Bpftrace {
    private static final Pattern DIAGNOSTIC = Pattern.compile("^(.*?):(\\d+)(?::(\\d+))?(?:-\\d+)?: (ERROR|WARNING): (.*)$");
    private static final Pattern PLAIN_ERROR = Pattern.compile("^(?:ERROR|error): (?:<unknown>:0:0: )?(.*)$");
    private static final int DRY_RUN_SECONDS = 30;

    /**
     * Errors that depend on what the kernel has now (a module's tracepoints, a binary to probe):
     * the script is right, the monitor is unavailable until the kernel has it.
     */
    private static final Pattern KERNEL_DEPENDENT = Pattern.compile(
            "tracepoint not found|does not exist or is not executable|[Cc]ould not resolve symbol|No probes to attach|"
                    + "BTF: failed to find|kfunc .* not found|couldn't find|Unknown struct|no BTF");

    /** Lines bpftrace 0.17 prints at every start that mean nothing here (memlock is accounted by memcg). */
    static final Pattern NOISE = Pattern.compile(".*couldn't set RLIMIT_MEMLOCK.*|^Error while reading traceable functions from .*|^\\s*$");

    /** One problem bpftrace reported, at its place in the script (line 0: no place). */
    record Diagnostic(int line, int column, String message, boolean kernelDependent) {
    }

    /** What the dry run found: the probes, or the problems. {@code refused}: bpftrace could not check (not root). */
    record DryRun(List<String> probes, List<Diagnostic> errors, String refused) {
        boolean ok() {
            return errors.isEmpty() && refused == null;
        }
    }

    private Bpftrace() {}

    /** The executable: {@code configured} if given, else bpftrace on PATH; empty if there is none. */
    static Optional<Path> find(String configured) {
        if (configured != null) {
            Path p = Path.of(configured);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "bpftrace");
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        for (String dir : List.of("/usr/bin", "/usr/sbin", "/usr/local/bin")) {
            Path p = Path.of(dir, "bpftrace");
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** {@code bpftrace -d SCRIPT ARGS}: parse, check against this kernel, list the probes. */
    static DryRun dryRun(Path bpftrace, List<String> scriptArguments) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(bpftrace.toString());
        cmd.add("-d");
        cmd.addAll(scriptArguments);
        Path out = Files.createTempFile("bpfwatch-bpftrace-", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(DRY_RUN_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new DryRun(List.of(), List.of(new Diagnostic(0, 0, "bpftrace's dry run did not finish within " + DRY_RUN_SECONDS + " s", false)), null);
            }
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            return interpret(lines, p.exitValue());
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static DryRun interpret(List<String> lines, int exit) {
        List<Diagnostic> errors = new ArrayList<>();
        Set<String> probes = new LinkedHashSet<>();
        boolean program = false;
        String refused = null;
        for (String raw : lines) {
            // bpftrace runs some messages together without a newline ("...not permittedERROR: ...")
            for (String line : raw.split("(?<=\\S)(?=ERROR: |WARNING: )")) {
                if (NOISE.matcher(line).matches()) continue;
                Matcher d = DIAGNOSTIC.matcher(line);
                if (d.matches()) {
                    if (d.group(4).equals("ERROR")) {
                        String msg = d.group(5).trim();
                        errors.add(new Diagnostic(Integer.parseInt(d.group(2)), d.group(3) == null ? 1 : Integer.parseInt(d.group(3)), msg,
                                KERNEL_DEPENDENT.matcher(msg).find()));
                    }
                    continue;
                }
                Matcher e = PLAIN_ERROR.matcher(line);
                if (e.matches()) {
                    String msg = e.group(1).trim();
                    if (msg.contains("only supports running as the root user")) refused = "checking a bpftrace script needs root";
                    else if (!msg.startsWith("BTF:")) errors.add(new Diagnostic(0, 0, msg, KERNEL_DEPENDENT.matcher(msg).find()));
                    continue;
                }
                if (line.equals("Program")) {
                    program = probes.isEmpty(); // the first AST only: later passes repeat it
                    continue;
                }
                if (program && line.startsWith(" ") && !line.startsWith("  ")) {
                    String probe = line.trim();
                    if (!probe.isEmpty()) probes.add(probe);
                } else if (program && !line.startsWith(" ")) {
                    program = false;
                }
            }
        }
        if (refused == null && errors.isEmpty() && exit != 0) errors.add(new Diagnostic(0, 0, "bpftrace's dry run exited with status " + exit, false));
        return new DryRun(List.copyOf(probes), List.copyOf(errors), refused);
    }
}
