package io.bpfwatch.config;

import io.bpfwatch.cli.Commands;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.tcp.TcpSettings;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    private final ConfigLoader loader = new ConfigLoader(MonitorCatalog.builtin());

    static Path resource(String name) {
        try {
            return Path.of(ConfigLoaderTest.class.getResource("/configs/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Each file under configs/bad states the errors it must produce in "# expect:" lines; the
     * loader must report exactly those, as FILE:LINE:COL: message, and check must exit 1.
     */
    @Test
    void aDurationOfThousandsOfPartsIsReadWithoutRecursing(@TempDir Path dir) throws Exception {
        // "1s" 20000 times overflowed the stack of the regular expression durations were matched with
        Path f = dir.resolve("bpfwatch.yaml");
        Files.writeString(f, "monitors:\n  dns:\n    timeout: " + "1s".repeat(20_000) + "\n");
        assertThatThrownBy(() -> loader.load(f)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.errors().get(0).toString()).contains(":3:14: monitors.dns.timeout must be between 100ms and 5m"));
        Files.writeString(f, "monitors:\n  dns:\n    timeout: " + "1ms".repeat(200) + "1m1s\n");
        assertThat(loader.load(f)).isNotNull();
        assertThat(Section.parseDuration("1m30s")).isEqualTo(java.time.Duration.ofSeconds(90));
        assertThat(Section.parseDuration("5ms")).isEqualTo(java.time.Duration.ofMillis(5));
        for (String bad : List.of("", "s", "1", "1x", "1s ", " 1s", "1.5s", "-1s", "1S", "1d")) {
            assertThat(Section.parseDuration(bad)).as("'%s'", bad).isNull();
        }
    }

    @TestFactory
    Stream<DynamicTest> malformedConfigsReportFileLineAndColumn() throws IOException {
        Path dir = resource("bad");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(8);
        return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            List<String> expected = Files.readAllLines(file).stream()
                    .filter(l -> l.startsWith("# expect: "))
                    .map(l -> file + ":" + l.substring("# expect: ".length()))
                    .toList();
            assertThat(expected).as("the file says what it expects").isNotEmpty();

            assertThatThrownBy(() -> loader.load(file))
                    .isInstanceOfSatisfying(ConfigException.class, e ->
                            assertThat(e.errors().stream().map(ConfigError::toString).toList()).containsExactlyElementsOf(expected));

            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            int exit = Commands.check(file, MonitorCatalog.builtin(), new PrintStream(out), new PrintStream(err));
            assertThat(exit).isEqualTo(1);
            assertThat(err.toString(StandardCharsets.UTF_8).lines().toList()).containsExactlyElementsOf(expected);
            assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
        }));
    }

    @Test
    void fullConfigIsReadIntoTypedValues() throws Exception {
        DaemonConfig c = loader.load(resource("good/full.yaml"));
        assertThat(c.http()).isEqualTo(new HttpConfig("::1", 9999));
        assertThat(c.logs().dir()).isEqualTo(Path.of("/var/log/bpfwatch-test"));
        assertThat(c.logs().rotation()).isEqualTo(new LogsConfig.Rotation(false, 1L << 30, 3, false));
        MonitorConfig tcp = c.monitors().get("tcp");
        assertThat(tcp.enabled()).isTrue();
        assertThat(tcp.ringBufferBytes()).isEqualTo(16 << 20);
        TcpSettings s = (TcpSettings) tcp.settings();
        assertThat(s.alertPorts()).containsExactly(22, 4444);
        assertThat(s.alertNetworks()).extracting(Cidr::toString).containsExactly("203.0.113.0/24", "2001:db8::/32", "192.0.2.7/32");
        assertThat(s.ignoreNetworks()).extracting(Cidr::toString).containsExactly("10.0.0.0/8");
    }

    @Test
    void defaultsFillWhatIsNotWritten() throws Exception {
        DaemonConfig c = loader.load(resource("good/external.yaml"));
        assertThat(c.http()).isEqualTo(HttpConfig.DEFAULT);
        assertThat(c.logs().dir()).isEqualTo(Path.of("/var/log/bpfwatch"));
        assertThat(c.logs().rotation().external()).isTrue();
        assertThat(c.monitors().get("tcp").settings()).isEqualTo(TcpSettings.DEFAULT);
        assertThat(c.monitors().get("tcp").enabled()).isTrue();
    }

    @Test
    void otlpExportIsReadIntoTypedValues() throws Exception {
        DaemonConfig c = loader.load(resource("good/otlp.yaml"));
        OtlpConfig o = c.otlp();
        assertThat(o.endpoint()).isEqualTo(java.net.URI.create("https://collector.example:4317/"));
        assertThat(o.protocol()).isEqualTo(OtlpConfig.Protocol.GRPC);
        assertThat(o.headers()).isEqualTo(java.util.Map.of("Authorization", "Bearer abc", "X-Scope-OrgID", "tenant1"));
        assertThat(o.tls()).isEqualTo(new OtlpConfig.Tls(Path.of("/etc/passwd"), null, null));
        assertThat(o.gzip()).isTrue();
        assertThat(o.timeout()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(o.metricsInterval()).isEqualTo(java.time.Duration.ofSeconds(15));
        assertThat(o.monitors()).containsExactly("tcp");
        assertThat(o.selects("tcp")).isTrue();
        assertThat(o.selects("dns")).isFalse();
        assertThat(o.queueSize()).isEqualTo(1000);
        assertThat(o.batchSize()).isEqualTo(100);
        assertThat(o.resource()).isEqualTo(java.util.Map.of("deployment.environment", "prod"));
        // absent or disabled: no export
        assertThat(loader.load(resource("good/full.yaml")).otlp()).isNull();
        assertThat(loader.parse("t.yaml", "export:\n  otlp: { enabled: false, endpoint: http://127.0.0.1:4318 }\n").otlp()).isNull();
        OtlpConfig defaults = loader.parse("t.yaml", "export:\n  otlp: { endpoint: http://127.0.0.1:4318 }\n").otlp();
        assertThat(defaults.protocol()).isEqualTo(OtlpConfig.Protocol.HTTP_PROTOBUF);
        assertThat(defaults.logs() && defaults.metrics()).isTrue();
        assertThat(defaults.queueSize()).isEqualTo(OtlpConfig.DEFAULT_QUEUE);
        assertThat(defaults.selects("anything")).isTrue();
    }

    @Test
    void anEmptyFileEnablesNothing() throws Exception {
        DaemonConfig c = loader.load(resource("good/empty.yaml"));
        assertThat(c.monitors()).isEmpty();
        assertThat(c.logs()).isEqualTo(LogsConfig.DEFAULT);
    }

    @Test
    void shippedDefaultConfigIsValid() throws Exception {
        DaemonConfig c = loader.load(Path.of("packaging/bpfwatch.yaml"));
        assertThat(c.monitors().get("tcp").settings()).isEqualTo(TcpSettings.DEFAULT);
        assertThat(c.http().listen()).isEqualTo("127.0.0.1:9476");
        assertThat(c.logs()).isEqualTo(LogsConfig.DEFAULT);
        // no ring-buffer key: each monitor's own default ring, sized for its records and rates
        assertThat(c.monitors().get("tcp").ringBufferBytes()).isEqualTo(2 << 20);
        assertThat(c.monitors().get("dns").ringBufferBytes()).isEqualTo(4 << 20);
        assertThat(c.monitors().get("zfs").ringBufferBytes()).isEqualTo(4 << 20);
        assertThat(c.monitors().get("wireguard").ringBufferBytes()).isEqualTo(1 << 20);
    }

    @Test
    void aWorldWritableConfigIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bpfwatch.yaml");
        Files.writeString(f, "monitors:\n  tcp: {}\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThatThrownBy(() -> loader.load(f)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.errors()).singleElement().hasToString(f + ":1:1: refusing a world-writable config file: anyone could change what is monitored (chmod o-w " + f + ")"));
    }

    @Test
    void aMissingFileIsAnErrorAtItsStart(@TempDir Path dir) {
        Path f = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> loader.load(f)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.errors()).singleElement().hasToString(f + ":1:1: no such file"));
    }

    @Test
    void bytesThatAreNotUtf8AreRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("latin1.yaml");
        Files.write(f, new byte[] {'#', ' ', (byte) 0xe9, '\n'});
        assertThatThrownBy(() -> loader.load(f)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.errors()).singleElement().hasToString(f + ":1:1: the file is not UTF-8 text"));
    }

    @Test
    void yamlTheParserRefusesWithoutAPositionIsStillAPositionedError() {
        // found by ConfigFuzzer: SnakeYAML throws IllegalArgumentException for this tag
        assertThatThrownBy(() -> loader.parse("t", "!%A"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("t:1:1: YAML: Tag must not contain leading or trailing spaces.");
    }

    @Test
    void ipv6ListenAndLocalhostAreAccepted() throws Exception {
        assertThat(loader.parse("t", "http: { listen: \"[::]:9476\" }").http()).isEqualTo(new HttpConfig("::", 9476));
        assertThat(loader.parse("t", "http: { listen: localhost:1234 }").http()).isEqualTo(new HttpConfig("localhost", 1234));
        assertThatThrownBy(() -> loader.parse("t", "http: { listen: example.com:80 }"))
                .hasMessage("t:1:17: http.listen: 'example.com' is not an IP address (or localhost)");
    }
}
