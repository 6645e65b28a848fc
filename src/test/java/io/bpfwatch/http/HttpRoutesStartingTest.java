package io.bpfwatch.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Before the lifecycle hands the routes its daemon, every request is answered 503 and none
 * makes the daemon: a request that came early once made it, through a bean lookup, before
 * Micrometer's registries had their filters (Micrometer then warned on a clean start, and its
 * meters missed the filters).
 */
class HttpRoutesStartingTest {
    @Test
    void beforeTheDaemonIsServedEveryRouteAnswers503AndTouchesNoDaemon() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            Router router = Router.router(vertx);
            new HttpRoutes().routes(router);
            router.get("/metrics").handler(ctx -> ctx.response().end("metrics\n")); // Micrometer's, in the daemon
            HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            HttpClient http = HttpClient.newHttpClient();
            for (String path : new String[] {"/metrics", "/monitors", "/top", "/", "/health/live", "/health/ready"}) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(path).isEqualTo(503);
                if (path.startsWith("/health/")) {
                    assertThat(r.body()).as(path).isEqualTo("{\"status\":\"DOWN\",\"check\":\"" + path.substring(8) + "\",\"summary\":\"starting\"}\n");
                } else {
                    assertThat(r.body()).as(path).isEqualTo("bpfwatch is starting\n");
                }
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
