package io.bpfwatch.testkit;

import io.bpfwatch.kernel.Kernel;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Marks tests that need a kernel feature some kernels lack (this development machine's has no
 * kprobes and no fentry). Such tests are {@code *Check} classes, which only make test-vm runs
 * (its kernel is chosen to have every feature); elsewhere they are skipped with the reason
 * through {@link Skip}, which fails them under BPFWATCH_REQUIRE_BPF=1. Use together with
 * {@link RequiresBpf}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(RequiresKernel.Check.class)
public @interface RequiresKernel {
    Feature[] value();

    enum Feature {
        KPROBES(k -> k.kprobesSupported() ? null : "this kernel has no kprobes (CONFIG_KPROBES)"),
        FENTRY(k -> k.missingFentry().orElse(null));

        private final Function<Kernel, String> missing;

        Feature(Function<Kernel, String> missing) {
            this.missing = missing;
        }

        /** Null if the running kernel has it, else why not. */
        public String missing(Kernel kernel) {
            return missing.apply(kernel);
        }
    }

    final class Check implements BeforeEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            List<Feature> needed = new ArrayList<>();
            AnnotationSupport.findAnnotation(context.getRequiredTestClass(), RequiresKernel.class)
                    .ifPresent(a -> needed.addAll(List.of(a.value())));
            AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), RequiresKernel.class)
                    .ifPresent(a -> needed.addAll(List.of(a.value())));
            for (Feature f : needed) {
                String why = f.missing(Kernel.system());
                if (why == null) continue;
                String message = context.getDisplayName() + " needs " + f.name().toLowerCase() + ": " + why;
                Skip.because(message);
            }
        }
    }
}
