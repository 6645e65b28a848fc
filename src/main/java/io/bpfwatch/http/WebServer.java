package io.bpfwatch.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.bpfwatch.config.HttpConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP(S) listener of {@code http.listen}: the JDK's own server (jdk.httpserver). Five GET
 * endpoints scraped every few seconds need no more; Vert.x and Netty, which served them before,
 * were half the classes the daemon loaded (~1,300 of ~2,800 of its own), their metaspace and
 * four threads.
 *
 * <p>One dispatcher thread accepts; requests are read and answered by up to {@link #WORKERS}
 * threads, made when no other is free and gone after a minute idle (a daemon scraped every
 * few seconds has one; an idle daemon that nobody scrapes has none). A request that comes
 * while all of them are busy is refused: its connection is closed. Limits against clients that
 * hold connections (the JDK's defaults have none): a request must arrive within 30 s and its
 * answer be taken within 60 s, and at most 64 connections are open; an administrator's -D
 * settings of these properties win.
 */
public final class WebServer implements AutoCloseable {
    static final int WORKERS = 4;

    private final HttpServer server;
    private final ThreadPoolExecutor workers;

    private WebServer(HttpServer server, ThreadPoolExecutor workers) {
        this.server = server;
        this.workers = workers;
    }

    /**
     * Listens on {@code http}'s address (HTTPS only when it has {@code tls}) and serves
     * {@code handler}. Throws with the reason, for the caller to report, when the address is
     * taken or the certificate or key cannot be read.
     */
    public static WebServer start(HttpConfig http, HttpHandler handler) throws IOException, GeneralSecurityException {
        limits();
        InetSocketAddress at = new InetSocketAddress(http.host(), http.port());
        HttpServer server;
        if (http.tls() == null) {
            server = HttpServer.create();
        } else {
            HttpsServer https = HttpsServer.create();
            https.setHttpsConfigurator(new HttpsConfigurator(Pem.serverContext(http.tls().cert(), http.tls().key())));
            server = https;
        }
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor workers = new ThreadPoolExecutor(0, WORKERS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "bpfwatch-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(workers);
        server.createContext("/", handler);
        try {
            server.bind(at, 64);
        } catch (IOException e) {
            workers.shutdownNow();
            throw new IOException("cannot listen on " + http.listen() + ": " + e.getMessage(), e);
        }
        server.start();
        return new WebServer(server, workers);
    }

    /** The port it listens on (the configured one, or the kernel's choice for port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void limits() {
        for (String[] p : new String[][] {{"sun.net.httpserver.maxReqTime", "30"}, {"sun.net.httpserver.maxRspTime", "60"},
                {"sun.net.httpserver.timerMillis", "5000"}, {"jdk.httpserver.maxConnections", "64"}}) {
            if (System.getProperty(p[0]) == null) System.setProperty(p[0], p[1]);
        }
    }

    /** Stops listening and drops open connections at once: a stop does not wait for scrapers. */
    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }
}
