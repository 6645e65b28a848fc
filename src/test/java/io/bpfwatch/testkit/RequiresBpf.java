package io.bpfwatch.testkit;

import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.LibC;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks tests that load real BPF programs. Without root, libbpf or tracefs they are skipped
 * with the reason; with BPFWATCH_REQUIRE_BPF=1 (CI) the same condition fails them instead.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(RequiresBpf.Check.class)
public @interface RequiresBpf {
    final class Check implements BeforeAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            String why = problem();
            if (why == null) return;
            String message = context.getDisplayName() + " needs real BPF: " + why;
            throw Skip.because(message);
        }

        public static String problem() {
            String libbpf = Kernel.libbpfProblem();
            if (libbpf != null) return libbpf;
            if (LibC.geteuid() != 0) return "not running as root";
            if (Kernel.system().tracefsEvents().isEmpty()) return "tracefs is not mounted and cannot be";
            if (!Kernel.system().hasVmlinuxBtf()) return "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
            return null;
        }
    }
}
