package io.bpfwatch.libbpf;

import com.sun.jna.Memory;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.RequiresKernel;
import io.bpfwatch.testkit.RequiresKernel.Feature;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kprobe, kretprobe, fentry and fexit attached through the binding to tcp_v4_connect
 * (src/test/bpf/attach): each counts this JVM's real connects to one loopback port, reading
 * the port from the function's argument and, on return, its return value. Detaching stops
 * the counting. This machine's kernel may lack both hooks (then these skip); the test VM's
 * has them (make test-vm).
 */
@RequiresBpf
class FunctionAttachCheck {
    private static final String FUNCTION = "tcp_v4_connect";
    // enum hit in attach.bpf.c
    private static final int KPROBE = 0, KRETPROBE = 1, FENTRY = 2, FEXIT = 3;

    @Test
    @RequiresKernel(Feature.KPROBES)
    void kprobeAndKretprobeCountEveryConnectUntilDetached() throws Exception {
        try (ServerSocket server = loopbackServer(); BpfObject obj = open(server.getLocalPort())) {
            obj.program("attach_fentry").setAutoload(false);
            obj.program("attach_fexit").setAutoload(false);
            obj.load();
            try (BpfLink entry = obj.program("attach_kprobe").attachKprobe(FUNCTION, false);
                 BpfLink exit = obj.program("attach_kretprobe").attachKprobe(FUNCTION, true)) {
                assertThat(entry.attachPoint()).isEqualTo("kprobe/" + FUNCTION);
                assertThat(exit.attachPoint()).isEqualTo("kretprobe/" + FUNCTION);
                connect(server, 3);
                assertThat(hits(obj, KPROBE)).as("kprobe hits").isEqualTo(3);
                assertThat(hits(obj, KRETPROBE)).as("kretprobe hits returning 0").isEqualTo(3);
            }
            connect(server, 2);
            assertThat(hits(obj, KPROBE)).as("kprobe hits after detaching").isEqualTo(3);
            assertThat(hits(obj, KRETPROBE)).as("kretprobe hits after detaching").isEqualTo(3);
        }
    }

    @Test
    @RequiresKernel(Feature.FENTRY)
    void fentryAndFexitCountEveryConnectUntilDetached() throws Exception {
        try (ServerSocket server = loopbackServer(); BpfObject obj = open(server.getLocalPort())) {
            obj.program("attach_kprobe").setAutoload(false);
            obj.program("attach_kretprobe").setAutoload(false);
            obj.load();
            try (BpfLink entry = obj.program("attach_fentry").attachTracing();
                 BpfLink exit = obj.program("attach_fexit").attachTracing()) {
                assertThat(entry.attachPoint()).isEqualTo("fentry/" + FUNCTION);
                assertThat(exit.attachPoint()).isEqualTo("fexit/" + FUNCTION);
                connect(server, 3);
                assertThat(hits(obj, FENTRY)).as("fentry hits").isEqualTo(3);
                assertThat(hits(obj, FEXIT)).as("fexit hits returning 0").isEqualTo(3);
            }
            connect(server, 2);
            assertThat(hits(obj, FENTRY)).as("fentry hits after detaching").isEqualTo(3);
            assertThat(hits(obj, FEXIT)).as("fexit hits after detaching").isEqualTo(3);
        }
    }

    private static ServerSocket loopbackServer() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    }

    private static BpfObject open(int port) throws Exception {
        Path path = Path.of(BpfObjectsForTest.path("attach"));
        BpfObject obj = BpfObject.open("src/test/bpf/attach/attach.bpf.o", "attach", Files.readAllBytes(path));
        obj.setConstant("target_pid", ProcessHandle.current().pid());
        obj.setConstant("target_port", port);
        return obj;
    }

    /** n connects from this process; the server's backlog completes them without accept. */
    private static void connect(ServerSocket server, int n) throws IOException {
        for (int i = 0; i < n; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(server.getInetAddress(), server.getLocalPort()), 2000);
            }
        }
    }

    private static long hits(BpfObject obj, int kind) throws BpfException {
        Memory key = new Memory(4);
        key.setInt(0, kind);
        Memory value = new Memory(8);
        assertThat(obj.map("hits").lookup(key, value)).isTrue();
        return value.getLong(0);
    }
}
