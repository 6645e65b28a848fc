package io.bpfwatch.monitor.bpftrace;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What bpftrace 0.17's dry run (-d) printed (recorded), as probes and problems. */
class BpftraceDryRunTest {
    private static final String NOISE = "Error while reading traceable functions from /sys/kernel/tracing/available_filter_functions: "
            + "Operation not permittedERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, "
            + "you can try \"ulimit -l 8192\" to fix the problem";

    @Test
    void theProbesOfTheFirstAstAreTheAttachPoints() {
        Bpftrace.DryRun run = Bpftrace.interpret(List.of(NOISE, "", "AST after: parser", "-------------------", "Program",
                " tracepoint:syscalls:sys_enter_sendto", "  if", "   ==", " tracepoint:syscalls:sys_enter_connect", "  =",
                " interval:s:1", "", "AST after: semantic", "Program", " tracepoint:syscalls:sys_enter_sendto"), 0);
        assertThat(run.ok()).isTrue();
        assertThat(run.probes()).containsExactly("tracepoint:syscalls:sys_enter_sendto", "tracepoint:syscalls:sys_enter_connect", "interval:s:1");
    }

    @Test
    void aSyntaxErrorIsTheScriptsFaultWithItsPlace() {
        Bpftrace.DryRun run = Bpftrace.interpret(List.of(NOISE, "stdin:2:7-8: ERROR: Unknown identifier: 'y'"), 1);
        assertThat(run.errors()).containsExactly(new Bpftrace.Diagnostic(2, 7, "Unknown identifier: 'y'", false));
    }

    @Test
    void aMissingTracepointOrBinaryDependsOnTheKernelNotTheScript() {
        Bpftrace.DryRun run = Bpftrace.interpret(List.of(NOISE, "stdin:1:1-20: ERROR: tracepoint not found: zfs:nope",
                "/etc/x.bt:3:1-21: ERROR: uprobe target file '/nonexist' does not exist or is not executable"), 1);
        assertThat(run.errors()).extracting(Bpftrace.Diagnostic::kernelDependent).containsExactly(true, true);
        assertThat(run.errors().get(1).line()).isEqualTo(3);
    }

    @Test
    void warningsAreNotErrorsAndWithoutRootNothingIsChecked() {
        assertThat(Bpftrace.interpret(List.of("x.bt:1:1-20: WARNING: do_nanosleep is not traceable", "Program", " kprobe:do_nanosleep"), 0).ok()).isTrue();
        Bpftrace.DryRun refused = Bpftrace.interpret(List.of("Error while reading traceable functions from x: Permission deniedWARNING: BTF: failed to iterate modules BTF objects",
                "ERROR: BTF: failed to find BTF data", "ERROR: bpftrace currently only supports running as the root user."), 1);
        assertThat(refused.refused()).contains("needs root");
        assertThat(refused.errors()).isEmpty();
    }

    @Test
    void llvmsOwnErrorsAreTheScriptsToo() {
        Bpftrace.DryRun run = Bpftrace.interpret(List.of("attributes #3 = { argmemonly }",
                "error: <unknown>:0:0: in function tracepoint:syscalls:sys_exit_ioctl i64 (i8*): Looks like the BPF stack limit of 512 bytes is exceeded."), 1);
        assertThat(run.errors()).singleElement().satisfies(d -> {
            assertThat(d.message()).startsWith("in function tracepoint:syscalls:sys_exit_ioctl").contains("stack limit");
            assertThat(d.kernelDependent()).isFalse();
        });
    }

    @Test
    void aFailureWithoutAMessageStillFails() {
        assertThat(Bpftrace.interpret(List.of(NOISE), 1).errors()).extracting(Bpftrace.Diagnostic::message)
                .containsExactly("bpftrace's dry run exited with status 1");
    }
}
