package io.bpfwatch.it;

import io.bpfwatch.testkit.RequiresBpf;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import static io.bpfwatch.it.DaemonIT.freePort;
import static io.bpfwatch.it.DaemonIT.launcher;
import static org.assertj.core.api.Assertions.assertThat;

/** Optional TLS and basic auth in front of every endpoint, /metrics included. */
@RequiresBpf
class HttpSecurityIT {
    private Process daemon;

    @AfterEach
    void stop() {
        if (daemon != null) daemon.destroyForcibly();
    }

    @Test
    void tlsAndBasicAuthProtectEveryEndpoint(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("cert.pem"), key = dir.resolve("key.pem");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
        openssl.getInputStream().readAllBytes();
        assertThat(openssl.waitFor()).isZero();

        String promHash = OpenBSDBCrypt.generate("2b", "s3cret".toCharArray(), salt(), 10);
        String htpasswdStyle = OpenBSDBCrypt.generate("2y", "other".toCharArray(), salt(), 10); // as htpasswd -B writes it
        int port = freePort();
        Path config = dir.resolve("bpfwatch.yaml");
        Files.writeString(config, "http:\n  listen: 127.0.0.1:" + port + "\n  tls: { cert: " + cert + ", key: " + key + " }\n"
                + "  basic-auth:\n    prometheus: \"" + promHash + "\"\n    admin: \"" + htpasswdStyle + "\"\n"
                + "logs:\n  dir: " + dir.resolve("logs") + "\nmonitors:\n  tcp: {}\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r-----"));
        Path out = dir.resolve("daemon.out");
        daemon = new ProcessBuilder(launcher(), "run", "--config", config.toString()).redirectErrorStream(true).redirectOutput(out.toFile()).start();

        HttpClient https = HttpClient.newBuilder().sslContext(trusting(cert)).connectTimeout(Duration.ofSeconds(2)).build();
        String good = "Basic " + Base64.getEncoder().encodeToString("prometheus:s3cret".getBytes(StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            assertThat(daemon.isAlive()).as(Files.readString(out)).isTrue();
            try {
                if (send(https, port, "/health/ready", good).statusCode() == 200) break;
            } catch (IOException notYet) {
                // not listening yet
            }
            assertThat(System.nanoTime()).as("ready within 30 s").isLessThan(deadline);
            Thread.sleep(100);
        }

        for (String path : new String[] {"/metrics", "/monitors", "/health/live", "/health/ready"}) {
            assertThat(send(https, port, path, null).statusCode()).as(path + " without credentials").isEqualTo(401);
            assertThat(send(https, port, path, "Basic " + Base64.getEncoder().encodeToString("prometheus:wrong".getBytes(StandardCharsets.UTF_8))).statusCode())
                    .as(path + " with a wrong password").isEqualTo(401);
            assertThat(send(https, port, path, "Basic " + Base64.getEncoder().encodeToString("nobody:s3cret".getBytes(StandardCharsets.UTF_8))).statusCode())
                    .as(path + " for an unknown user").isEqualTo(401);
            assertThat(send(https, port, path, good).statusCode()).as(path + " with credentials").isEqualTo(200);
        }
        assertThat(send(https, port, "/metrics", good).body()).contains("bpfwatch_monitor_up{monitor=\"tcp\"");
        assertThat(send(https, port, "/metrics", "Basic " + Base64.getEncoder().encodeToString("admin:other".getBytes(StandardCharsets.UTF_8))).statusCode())
                .as("a $2y$ hash (htpasswd -B) works").isEqualTo(200);

        // plain HTTP on the same port gets no answer it could use
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(3000);
            s.getOutputStream().write("GET /metrics HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] reply;
            try (InputStream in = s.getInputStream()) {
                reply = in.readNBytes(64);
            } catch (IOException reset) {
                reply = new byte[0];
            }
            assertThat(new String(reply, StandardCharsets.ISO_8859_1)).doesNotContain("bpfwatch").doesNotStartWith("HTTP/1.0 200").doesNotStartWith("HTTP/1.1 200");
        }

        // users are reloadable: a new password replaces the old one at once, a removed user is out
        String rotated = OpenBSDBCrypt.generate("2y", "n3w".toCharArray(), salt(), 10);
        Files.writeString(config, Files.readString(config).replace(promHash, rotated).replace("    admin: \"" + htpasswdStyle + "\"\n", ""));
        assertThat(new ProcessBuilder("kill", "-HUP", Long.toString(daemon.pid())).start().waitFor()).isZero();
        String renewed = "Basic " + Base64.getEncoder().encodeToString("prometheus:n3w".getBytes(StandardCharsets.UTF_8));
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (send(https, port, "/metrics", renewed).statusCode() != 200) {
            assertThat(System.nanoTime()).as("the new password accepted within 30 s of SIGHUP").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(send(https, port, "/metrics", good).statusCode()).as("the old password, after the reload").isEqualTo(401);
        assertThat(send(https, port, "/metrics", "Basic " + Base64.getEncoder().encodeToString("admin:other".getBytes(StandardCharsets.UTF_8))).statusCode())
                .as("a removed user").isEqualTo(401);
        assertThat(Files.readString(out)).contains("http.basic-auth changed: 1 user").doesNotContain("takes a restart");
    }

    private static HttpResponse<String> send(HttpClient c, int port, String path, String auth) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5));
        if (auth != null) b.header("Authorization", auth);
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static SSLContext trusting(Path certPem) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(certPem)) {
            ks.setCertificateEntry("bpfwatch", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static byte[] salt() {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return salt;
    }
}
