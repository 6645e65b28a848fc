package io.bpfwatch.testkit;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tests that run the real bpftrace (Debian's bpftrace, installed by make deps). Without it they
 * are skipped with the reason ({@link Skip}: under BPFWATCH_REQUIRE_BPF=1 they fail instead). Use together
 * with {@link RequiresBpf}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(RequiresBpftrace.Check.class)
public @interface RequiresBpftrace {
    final class Check implements BeforeAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            if (Files.isExecutable(Path.of("/usr/bin/bpftrace"))) return;
            String message = context.getDisplayName() + " needs bpftrace (/usr/bin/bpftrace; apt install bpftrace)";
            Skip.because(message);
        }
    }
}
