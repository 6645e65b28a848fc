package io.bpfwatch.context;

import java.util.EnumSet;
import java.util.Set;

/**
 * A monitor's {@code context:} and {@code unit-label:} settings: which context its events carry,
 * and how many systemd units get their own series in its event counters (0: no unit label).
 */
public record ContextSpec(Set<ContextField> fields, int unitLabels) {
    public static final ContextSpec NONE = new ContextSpec(Set.of(), 0);

    public ContextSpec {
        fields = fields.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(fields));
    }

    public boolean has(ContextField f) {
        return fields.contains(f);
    }

    public boolean isEmpty() {
        return fields.isEmpty();
    }
}
