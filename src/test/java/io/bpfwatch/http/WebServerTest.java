package io.bpfwatch.http;

import io.bpfwatch.config.HttpConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The listener itself: a taken address is a clear error; a request beyond its workers is refused, not queued forever. */
class WebServerTest {
    @Test
    void aTakenAddressIsReportedWithTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            HttpConfig http = new HttpConfig("127.0.0.1", taken.getLocalPort());
            assertThatThrownBy(() -> WebServer.start(http, ex -> ex.close()))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": ")
                    .hasMessageContaining("in use");
        }
    }

    @Test
    void whenEveryWorkerIsBusyANewRequestIsRefusedAndTheOthersAreStillAnswered() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inHandler = new CountDownLatch(WebServer.WORKERS);
        try (WebServer server = WebServer.start(new HttpConfig("127.0.0.1", 0), ex -> {
            inHandler.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "ok\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        })) {
            List<Socket> busy = new ArrayList<>();
            try {
                for (int i = 0; i < WebServer.WORKERS; i++) busy.add(request(server.port()));
                assertThat(inHandler.await(10, TimeUnit.SECONDS)).as("every worker took a request").isTrue();
                try (Socket extra = request(server.port())) {
                    extra.setSoTimeout(10_000);
                    // closed by the server (FIN or RST: it did not read the request), not left waiting for a worker
                    int first;
                    try {
                        first = extra.getInputStream().read();
                    } catch (java.net.SocketException reset) {
                        first = -1;
                    }
                    assertThat(first).isEqualTo(-1);
                }
                release.countDown();
                for (Socket s : busy) {
                    s.setSoTimeout(10_000);
                    assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200").endsWith("ok\n");
                }
                try (Socket after = request(server.port())) {
                    after.setSoTimeout(10_000);
                    assertThat(new String(after.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");
                }
            } finally {
                release.countDown();
                for (Socket s : busy) s.close();
            }
        }
    }

    private static Socket request(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        OutputStream out = s.getOutputStream();
        out.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }
}
