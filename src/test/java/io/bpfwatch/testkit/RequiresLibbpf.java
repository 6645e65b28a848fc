package io.bpfwatch.testkit;

import io.bpfwatch.kernel.Kernel;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Tests that call libbpf without loading programs (BTF parsing): they need only libbpf1. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(RequiresLibbpf.Check.class)
public @interface RequiresLibbpf {
    final class Check implements BeforeAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            String why = Kernel.libbpfProblem();
            if (why == null) return;
            Skip.because(why);
        }
    }
}
