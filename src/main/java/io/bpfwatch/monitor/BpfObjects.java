package io.bpfwatch.monitor;

import java.io.IOException;
import java.io.InputStream;

/**
 * Compiled BPF objects ship inside the application as resources bpf/NAME.bpf.o, built by
 * Maven from monitors/NAME/NAME.bpf.c: one name, never configured twice.
 */
public final class BpfObjects {
    private BpfObjects() {}

    /** Where a monitor's object comes from: how errors name it, libbpf's object name, its bytes. */
    public interface Source {
        String label();

        String name();

        byte[] read() throws IOException;
    }

    /** The object shipped for built-in monitor {@code name}. */
    public static Source builtin(String name) {
        return new Source() {
            @Override
            public String label() {
                return BpfObjects.label(name);
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public byte[] read() throws IOException {
                return BpfObjects.read(name);
            }
        };
    }

    /** How errors name the object: its source location in the repository. */
    public static String label(String name) {
        return "monitors/" + name + "/" + name + ".bpf.o";
    }

    public static byte[] read(String name) throws IOException {
        String resource = "bpf/" + name + ".bpf.o";
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        InputStream found = cl == null ? null : cl.getResourceAsStream(resource);
        if (found == null) found = BpfObjects.class.getClassLoader().getResourceAsStream(resource);
        if (found == null) throw new IOException(label(name) + " is not in this build (resource " + resource + " missing)");
        try (InputStream in = found) {
            return in.readAllBytes();
        }
    }
}
