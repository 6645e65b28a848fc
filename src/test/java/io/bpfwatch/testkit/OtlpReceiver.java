package io.bpfwatch.testkit;

import com.google.protobuf.InvalidProtocolBufferException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * An OTLP receiver for tests: the official OTLP protobuf messages, served over gRPC
 * (LogsService/MetricsService Export, on grpc-java) or over HTTP (POST /v1/logs and /v1/metrics,
 * protobuf, gzip or not), on a loopback port. It keeps what it received. {@link #stop} and
 * {@link #start} again on the same port play a collector that goes away and comes back.
 */
public final class OtlpReceiver implements AutoCloseable {
    public enum Protocol { GRPC, HTTP }

    /** One received log record with its resource's attributes. */
    public record Log(Map<String, Object> resource, LogRecord record) {
        public Map<String, Object> attributes() {
            return attributes(record.getAttributesList());
        }

        public String body() {
            return record.getBody().getStringValue();
        }

        static Map<String, Object> attributes(List<KeyValue> kvs) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (KeyValue kv : kvs) out.put(kv.getKey(), value(kv.getValue()));
            return out;
        }

        static Object value(AnyValue v) {
            return switch (v.getValueCase()) {
                case STRING_VALUE -> v.getStringValue();
                case INT_VALUE -> v.getIntValue();
                case DOUBLE_VALUE -> v.getDoubleValue();
                case BOOL_VALUE -> v.getBoolValue();
                case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(Log::value).toList();
                default -> v.toString();
            };
        }
    }

    /** One received metric with its resource's attributes. */
    public record ReceivedMetric(Map<String, Object> resource, Metric metric) {
    }

    private final Protocol protocol;
    private final int port;
    private final List<Log> logs = new ArrayList<>();
    private final List<ReceivedMetric> metrics = new ArrayList<>();
    private final Map<String, String> headers = new LinkedHashMap<>();
    private Server grpc;
    private HttpServer http;
    private java.nio.file.Path tlsCert, tlsKey, clientCa;

    public OtlpReceiver(Protocol protocol, int port) {
        this.protocol = protocol;
        this.port = port;
    }

    public int port() {
        return port;
    }

    public String endpoint() {
        return (tlsCert != null ? "https" : "http") + "://127.0.0.1:" + port;
    }

    /** gRPC over TLS with this certificate and key; a client must show a certificate {@code clientCa} signed (null: none asked). */
    public OtlpReceiver tls(java.nio.file.Path cert, java.nio.file.Path key, java.nio.file.Path clientCa) {
        this.tlsCert = cert;
        this.tlsKey = key;
        this.clientCa = clientCa;
        return this;
    }

    public synchronized OtlpReceiver start() throws IOException {
        if (protocol == Protocol.GRPC) {
            NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
            if (tlsCert != null) {
                var ssl = io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forServer(tlsCert.toFile(), tlsKey.toFile());
                if (clientCa != null) ssl.trustManager(clientCa.toFile()).clientAuth(io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth.REQUIRE);
                b.sslContext(ssl.build());
            }
            grpc = b
                    .addService(service("opentelemetry.proto.collector.logs.v1.LogsService", ExportLogsServiceRequest.getDefaultInstance(),
                            ExportLogsServiceResponse.getDefaultInstance(), (ExportLogsServiceRequest r) -> {
                                take(r);
                                return ExportLogsServiceResponse.getDefaultInstance();
                            }))
                    .addService(service("opentelemetry.proto.collector.metrics.v1.MetricsService", ExportMetricsServiceRequest.getDefaultInstance(),
                            ExportMetricsServiceResponse.getDefaultInstance(), (ExportMetricsServiceRequest r) -> {
                                take(r);
                                return ExportMetricsServiceResponse.getDefaultInstance();
                            }))
                    .intercept(new io.grpc.ServerInterceptor() {
                        @Override
                        public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call, io.grpc.Metadata md,
                                                                                  io.grpc.ServerCallHandler<Q, A> next) {
                            synchronized (OtlpReceiver.this) {
                                for (String k : md.keys()) {
                                    if (!k.endsWith("-bin")) headers.put(k, md.get(io.grpc.Metadata.Key.of(k, io.grpc.Metadata.ASCII_STRING_MARSHALLER)));
                                }
                            }
                            return next.startCall(call, md);
                        }
                    })
                    .build().start();
        } else {
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
            http.createContext("/v1/logs", x -> serve(x, in -> take(ExportLogsServiceRequest.parseFrom(in)),
                    ExportLogsServiceResponse.getDefaultInstance().toByteArray()));
            http.createContext("/v1/metrics", x -> serve(x, in -> take(ExportMetricsServiceRequest.parseFrom(in)),
                    ExportMetricsServiceResponse.getDefaultInstance().toByteArray()));
            http.start();
        }
        return this;
    }

    private interface Body {
        void take(InputStream in) throws IOException;
    }

    private void serve(HttpExchange x, Body body, byte[] answer) throws IOException {
        try (x) {
            synchronized (this) {
                x.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            }
            if (!x.getRequestMethod().equals("POST") || !"application/x-protobuf".equals(x.getRequestHeaders().getFirst("Content-Type"))) {
                x.sendResponseHeaders(415, -1);
                return;
            }
            InputStream in = x.getRequestBody();
            if ("gzip".equals(x.getRequestHeaders().getFirst("Content-Encoding"))) in = new GZIPInputStream(in);
            try {
                body.take(in);
            } catch (InvalidProtocolBufferException e) {
                x.sendResponseHeaders(400, -1);
                return;
            }
            x.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            x.sendResponseHeaders(200, answer.length);
            x.getResponseBody().write(answer);
        }
    }

    private static <Q extends com.google.protobuf.Message, A extends com.google.protobuf.Message> ServerServiceDefinition service(
            String name, Q request, A response, java.util.function.Function<Q, A> handler) {
        MethodDescriptor<Q, A> export = MethodDescriptor.<Q, A>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(name, "Export"))
                .setRequestMarshaller(ProtoUtils.marshaller(request)).setResponseMarshaller(ProtoUtils.marshaller(response)).build();
        return ServerServiceDefinition.builder(name).addMethod(export, ServerCalls.asyncUnaryCall((req, observer) -> {
            try {
                observer.onNext(handler.apply(req));
                observer.onCompleted();
            } catch (RuntimeException e) {
                observer.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            }
        })).build();
    }

    private synchronized void take(ExportLogsServiceRequest r) {
        for (ResourceLogs rl : r.getResourceLogsList()) {
            Map<String, Object> resource = Log.attributes(rl.getResource().getAttributesList());
            for (ScopeLogs sl : rl.getScopeLogsList()) for (LogRecord lr : sl.getLogRecordsList()) logs.add(new Log(resource, lr));
        }
        notifyAll();
    }

    private synchronized void take(ExportMetricsServiceRequest r) {
        for (ResourceMetrics rm : r.getResourceMetricsList()) {
            Map<String, Object> resource = Log.attributes(rm.getResource().getAttributesList());
            for (ScopeMetrics sm : rm.getScopeMetricsList()) for (Metric m : sm.getMetricsList()) metrics.add(new ReceivedMetric(resource, m));
        }
        notifyAll();
    }

    public synchronized List<Log> logs() {
        return List.copyOf(logs);
    }

    public synchronized List<ReceivedMetric> metrics() {
        return List.copyOf(metrics);
    }

    /** Request headers last seen (names in lower case). */
    public synchronized Map<String, String> headers() {
        return Map.copyOf(headers);
    }

    /** Waits until {@code done} holds for what was received (checked whenever something arrives), at most {@code seconds}. */
    public synchronized boolean await(java.util.function.Predicate<OtlpReceiver> done, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.test(this)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /** Stops listening; what was received stays. */
    public synchronized void stop() throws InterruptedException {
        if (grpc != null) {
            grpc.shutdownNow();
            grpc.awaitTermination(10, TimeUnit.SECONDS);
            grpc = null;
        }
        if (http != null) {
            http.stop(0);
            http = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
