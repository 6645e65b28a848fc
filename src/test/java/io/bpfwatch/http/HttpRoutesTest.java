package io.bpfwatch.http;

import io.bpfwatch.config.HttpConfig;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every endpoint through the real listener, in front of a daemon with one real monitor: what
 * each answers, the methods and paths it refuses, content negotiation on /metrics, and basic
 * auth from the running config (a reload's users apply at once).
 */
@RequiresBpf
class HttpRoutesTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private int port;
    private String auth;

    private HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (auth != null) b.header("Authorization", auth);
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void everyEndpointAnswersAndBasicAuthFollowsTheRunningConfig(@TempDir Path dir) throws Exception {
        String hash = OpenBSDBCrypt.generate("2b", "s3cret".toCharArray(), new byte[16], 4);
        String yaml = "http:\n  basic-auth:\n    prom: \"" + hash + "\"\n" + TestDaemon.yaml(dir, "  zfs: {}\n");
        try (TestDaemon d = new TestDaemon(dir, yaml);
             WebServer server = WebServer.start(new HttpConfig("127.0.0.1", 0), new HttpRoutes(d.daemon, d.registry))) {
            port = server.port();

            for (String path : new String[] {"/", "/metrics", "/monitors", "/top", "/health/live", "/health/ready", "/nowhere"}) {
                HttpResponse<String> r = send("GET", path);
                assertThat(r.statusCode()).as(path + " without credentials").isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).as(path).hasValue("Basic realm=\"bpfwatch\"");
            }
            auth = basic("prom", "wrong");
            assertThat(send("GET", "/metrics").statusCode()).isEqualTo(401);
            auth = basic("prom", "s3cret");

            HttpResponse<String> index = send("GET", "/");
            assertThat(index.statusCode()).isEqualTo(200);
            assertThat(index.body()).isEqualTo(HttpRoutes.INDEX);

            // Prometheus's own Accept lists OpenMetrics first and text/plain too: it gets text/plain
            HttpResponse<String> text = send("GET", "/metrics", "Accept",
                    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
            assertThat(text.statusCode()).isEqualTo(200);
            assertThat(text.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(text.body()).contains("# TYPE bpfwatch_events_total counter\n").contains("bpfwatch_events_total{monitor=\"zfs\",}")
                    .contains("bpfwatch_build_info{").doesNotContain("# EOF");
            // no Accept (curl): OpenMetrics
            HttpResponse<String> open = send("GET", "/metrics");
            assertThat(open.headers().firstValue("Content-Type")).hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
            assertThat(open.body()).contains("# TYPE bpfwatch_events counter\n").contains("bpfwatch_events_total{monitor=\"zfs\"}").endsWith("# EOF\n");
            assertThat(send("GET", "/metrics", "Accept", "text/html").headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");

            HttpResponse<String> monitors = send("GET", "/monitors");
            assertThat(monitors.statusCode()).isEqualTo(200);
            assertThat(monitors.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(monitors.body()).contains("\"name\" : \"zfs\"").contains("\"ready\" : true");
            HttpResponse<String> head = send("HEAD", "/monitors");
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
            assertThat(head.headers().firstValueAsLong("Content-Length").orElse(0)).isPositive();

            assertThat(send("GET", "/health/live").body()).startsWith("{\"status\":\"UP\",\"check\":\"live\",\"summary\":\"zfs running");
            assertThat(send("GET", "/health/ready").statusCode()).isEqualTo(200);

            assertThat(send("GET", "/top?seconds=3&n=5").body()).contains("\"zfs\"");
            HttpResponse<String> badTop = send("GET", "/top?seconds=0");
            assertThat(badTop.statusCode()).isEqualTo(400);
            assertThat(badTop.body()).isEqualTo("seconds must be a whole number from 1 to 10, not 0\n");

            HttpResponse<String> missing = send("GET", "/nowhere");
            assertThat(missing.statusCode()).isEqualTo(404);
            assertThat(missing.body()).startsWith("Not found: /nowhere\n");
            HttpResponse<String> post = send("POST", "/metrics");
            assertThat(post.statusCode()).isEqualTo(405);
            assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");

            // a reload that drops every user opens every endpoint; the listener is the same
            d.writeConfig(TestDaemon.yaml(dir, "  zfs: {}\n"));
            assertThat(d.daemon.reload()).isTrue();
            auth = null;
            assertThat(send("GET", "/health/live").statusCode()).isEqualTo(200);
        }
    }
}
