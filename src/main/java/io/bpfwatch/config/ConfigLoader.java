package io.bpfwatch.config;

import io.bpfwatch.context.ContextField;
import io.bpfwatch.context.ContextSpec;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorSettings;
import io.bpfwatch.monitor.MonitorType;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads and validates bpfwatch.yaml. Every problem is reported with the file, line and column
 * it is at, all of them in one pass; a file with any problem yields no config at all, so a bad
 * reload changes nothing.
 */
public final class ConfigLoader {
    public static final Path DEFAULT_PATH = Path.of("/etc/bpfwatch/bpfwatch.yaml");
    private static final long MAX_BYTES = 1 << 20;

    private final MonitorCatalog catalog;

    public ConfigLoader(MonitorCatalog catalog) {
        this.catalog = catalog;
    }

    /** --config, else $BPFWATCH_CONFIG, else /etc/bpfwatch/bpfwatch.yaml. */
    public static Path resolvePath(String fromArgs) {
        if (fromArgs != null) return Path.of(fromArgs);
        String env = System.getenv("BPFWATCH_CONFIG");
        if (env != null && !env.isBlank()) return Path.of(env);
        return DEFAULT_PATH;
    }

    public DaemonConfig load(Path file) throws ConfigException {
        String label = file.toString();
        Problems problems = new Problems(label);
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_BYTES) {
                problems.at(1, 1, "the file is over 1 MiB; that is not a bpfwatch config");
                throw new ConfigException(problems.sorted());
            }
            bytes = Files.readAllBytes(file);
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                problems.at(1, 1, "refusing a world-writable config file: anyone could change what is monitored (chmod o-w " + label + ")");
                throw new ConfigException(problems.sorted());
            }
        } catch (NoSuchFileException e) {
            problems.at(1, 1, "no such file");
            throw new ConfigException(problems.sorted());
        } catch (IOException e) {
            problems.at(1, 1, "cannot read the file: " + e.getMessage());
            throw new ConfigException(problems.sorted());
        } catch (UnsupportedOperationException e) {
            bytes = null;
        }
        if (bytes == null) {
            try {
                bytes = Files.readAllBytes(file);
            } catch (IOException e) {
                problems.at(1, 1, "cannot read the file: " + e.getMessage());
                throw new ConfigException(problems.sorted());
            }
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            problems.at(1, 1, "the file is not UTF-8 text");
            throw new ConfigException(problems.sorted());
        }
        return parse(label, text);
    }

    public DaemonConfig parse(String label, String text) throws ConfigException {
        Problems problems = new Problems(label, text);
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(20);
            options.setNestingDepthLimit(20);
            options.setCodePointLimit((int) MAX_BYTES);
            root = new Yaml(options).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            String msg = e.getProblem() == null ? "invalid YAML" : e.getProblem();
            if (e.getContext() != null) msg = msg + " (" + e.getContext() + ")";
            problems.at(e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark(), "YAML syntax: " + msg);
            throw new ConfigException(problems.sorted());
        } catch (YAMLException e) {
            problems.at(1, 1, "YAML: " + e.getMessage());
            throw new ConfigException(problems.sorted());
        } catch (RuntimeException e) {
            // SnakeYAML refuses some input with plain exceptions and no position, e.g. a tag
            // that decodes to text with leading spaces ("!%A": IllegalArgumentException)
            problems.at(1, 1, "YAML: " + e.getMessage());
            throw new ConfigException(problems.sorted());
        }

        Section top;
        if (root == null || (root instanceof ScalarNode s && s.getValue().isEmpty())) {
            top = Section.absent(problems, "");
        } else if (!(root instanceof MappingNode)) {
            problems.at(root, "the file must be a mapping with http, logs and monitors sections, not " + Section.describe(root));
            throw new ConfigException(problems.sorted());
        } else {
            top = new Section(problems, "", root);
        }

        HttpConfig http = http(top.section("http"));
        LogsConfig logs = logs(top.section("logs"));
        Map<String, MonitorConfig> monitors = monitors(top.section("monitors"));
        OtlpConfig otlp = null;
        if (top.has("export")) {
            Section export = top.section("export");
            if (export.has("otlp")) otlp = otlp(export.section("otlp"), monitors);
            export.finish();
        }
        top.finish();
        if (problems.any()) throw new ConfigException(problems.sorted());
        return new DaemonConfig(label, http, logs, monitors, otlp);
    }

    private HttpConfig http(Section s) {
        Optional<Node> listen = s.take("listen");
        HttpConfig http = HttpConfig.DEFAULT;
        if (listen.isPresent()) {
            Node n = listen.get();
            if (!(n instanceof ScalarNode sc)) {
                s.problems().at(n, "http.listen must be HOST:PORT like 127.0.0.1:9476 or [::1]:9476, not " + Section.describe(n));
            } else {
                http = listen(s, sc);
            }
        }
        HttpConfig.Tls tls = null;
        if (s.has("tls")) {
            Section t = s.section("tls");
            Path cert = pem(t, "cert", readableFile(t, "cert"), io.bpfwatch.http.Pem::certificates);
            Path key = pem(t, "key", readableFile(t, "key"), io.bpfwatch.http.Pem::privateKey);
            t.finish();
            if (cert != null && key != null) tls = new HttpConfig.Tls(cert, key);
        }
        Map<String, String> users = new LinkedHashMap<>();
        if (s.has("basic-auth")) {
            Section b = s.section("basic-auth");
            for (String user : b.keys()) {
                String hash = b.string(user, "");
                if (!BCRYPT.matcher(hash).matches()) {
                    s.problems().at(b.keyNode(user), "http.basic-auth." + user
                            + ": the password must be a bcrypt hash like $2y$10$... (make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')");
                } else if (user.isEmpty() || user.indexOf(':') >= 0) {
                    s.problems().at(b.keyNode(user), "http.basic-auth: user names cannot be empty or contain ':'");
                } else {
                    users.put(user, hash);
                }
            }
            b.finish();
        }
        s.finish();
        return new HttpConfig(http.host(), http.port(), tls, Map.copyOf(users));
    }

    private static final java.util.regex.Pattern BCRYPT = java.util.regex.Pattern.compile("\\$2[aby]?\\$\\d\\d\\$[./A-Za-z0-9]{53}");

    private interface PemReader {
        Object read(Path file) throws IOException, java.security.GeneralSecurityException;
    }

    /** {@code file} if {@code reader} makes what it should of it (a certificate chain, a key); null (and a problem) if not. */
    private static Path pem(Section t, String key, Path file, PemReader reader) {
        if (file == null) return null;
        try {
            reader.read(file);
            return file;
        } catch (IOException | java.security.GeneralSecurityException e) {
            t.problems().at(t.keyNode(key), t.path() + "." + key + ": " + e.getMessage());
            return null;
        }
    }

    /** A file named by {@code key} that the daemon can read now; null (and a problem) if not. */
    private static Path readableFile(Section t, String key) {
        String v = t.string(key, null);
        if (v == null) {
            if (t.isMapping()) t.problems().at(t.node(), t.path() + "." + key + " is required");
            return null;
        }
        Path p = Path.of(v);
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            t.problems().at(t.keyNode(key), t.path() + "." + key + ": " + v + " is not a readable file");
            return null;
        }
        return p;
    }

    private static HttpConfig listen(Section s, ScalarNode n) {
        String v = n.getValue().trim();
        String host;
        String port;
        if (v.startsWith("[")) {
            int close = v.indexOf(']');
            if (close < 0 || close + 1 >= v.length() || v.charAt(close + 1) != ':') {
                s.problems().at(n, "http.listen: '" + v + "' is not [IPV6]:PORT");
                return HttpConfig.DEFAULT;
            }
            host = v.substring(1, close);
            port = v.substring(close + 2);
        } else {
            int colon = v.lastIndexOf(':');
            if (colon < 0 || v.indexOf(':') != colon) {
                s.problems().at(n, "http.listen: '" + v + "' is not HOST:PORT (write IPv6 as [::1]:9476)");
                return HttpConfig.DEFAULT;
            }
            host = v.substring(0, colon);
            port = v.substring(colon + 1);
        }
        if (host.isEmpty()) host = "0.0.0.0";
        if (!host.equals("localhost") && IpAddress.parse(host) == null) {
            s.problems().at(n, "http.listen: '" + host + "' is not an IP address (or localhost)");
            return HttpConfig.DEFAULT;
        }
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
            s.problems().at(n, "http.listen: port '" + port + "' is not a number from 0 to 65535");
            return HttpConfig.DEFAULT;
        }
        return new HttpConfig(host, Integer.parseInt(port));
    }

    /** export.otlp; null when disabled. */
    private static OtlpConfig otlp(Section s, Map<String, MonitorConfig> monitors) {
        boolean enabled = s.bool("enabled", true);
        String protocolWord = s.oneOf("protocol", null, List.of("grpc", "http/protobuf"));
        OtlpConfig.Protocol protocol = "grpc".equals(protocolWord) ? OtlpConfig.Protocol.GRPC : OtlpConfig.Protocol.HTTP_PROTOBUF;
        java.net.URI endpoint = null;
        String e = s.string("endpoint", null);
        if (e == null) {
            if (s.isMapping()) s.problems().at(s.node(), "export.otlp.endpoint is required: the collector's URL, like http://127.0.0.1:" + protocol.defaultPort);
        } else {
            try {
                java.net.URI u = new java.net.URI(e.trim());
                String scheme = u.getScheme();
                if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null) {
                    s.problems().at(s.valueNode("endpoint"), "export.otlp.endpoint must be a URL like http://127.0.0.1:" + protocol.defaultPort
                            + " (https for TLS), not '" + e + "'");
                } else if (u.getRawQuery() != null || u.getRawFragment() != null || u.getRawUserInfo() != null) {
                    s.problems().at(s.valueNode("endpoint"), "export.otlp.endpoint: no query, fragment or user in the URL (put credentials in headers)");
                } else if (protocol == OtlpConfig.Protocol.GRPC && u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")) {
                    s.problems().at(s.valueNode("endpoint"), "export.otlp.endpoint: a gRPC endpoint has no path, only scheme, host and port");
                } else {
                    endpoint = u;
                    if (protocolWord == null && u.getPort() == 4317) {
                        s.problems().at(s.valueNode("endpoint"), "export.otlp.endpoint: port 4317 is OTLP/gRPC's; add protocol: grpc"
                                + " (the default is http/protobuf, port 4318)");
                    }
                }
            } catch (java.net.URISyntaxException x) {
                s.problems().at(s.valueNode("endpoint"), "export.otlp.endpoint is not a URL: " + x.getReason());
            }
        }
        Map<String, String> headers = stringMap(s, "headers", true);
        OtlpConfig.Tls tls = null;
        if (s.has("tls")) {
            Section t = s.section("tls");
            Path ca = t.has("ca") ? readableFile(t, "ca") : null;
            Path cert = t.has("cert") ? readableFile(t, "cert") : null;
            Path key = t.has("key") ? readableFile(t, "key") : null;
            if ((t.has("cert") || t.has("key")) && !(t.has("cert") && t.has("key"))) {
                t.problems().at(t.node(), "export.otlp.tls: a client certificate needs both cert and key");
            }
            t.finish();
            tls = new OtlpConfig.Tls(ca, cert, key);
            if (endpoint != null && !"https".equals(endpoint.getScheme())) {
                s.problems().at(s.keyNode("tls"), "export.otlp.tls is for an https endpoint; the endpoint is " + endpoint.getScheme());
            }
        }
        boolean gzip = "gzip".equals(s.oneOf("compression", "none", List.of("none", "gzip")));
        java.time.Duration timeout = s.duration("timeout", java.time.Duration.ofSeconds(10), java.time.Duration.ofMillis(100), java.time.Duration.ofMinutes(1));
        boolean logs = s.bool("logs", true);
        boolean metrics = s.bool("metrics", true);
        java.time.Duration interval = s.duration("metrics-interval", java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(1), java.time.Duration.ofHours(1));
        List<String> selected = s.list("monitors", List.of(), n -> {
            if (n instanceof ScalarNode sc && monitors.containsKey(sc.getValue())) return sc.getValue();
            s.problems().at(n, "export.otlp.monitors: " + Section.describe(n) + " is not a monitor of this config ("
                    + String.join(", ", monitors.keySet()) + ")");
            return null;
        });
        long queue = s.integer("queue-size", OtlpConfig.DEFAULT_QUEUE, 1, 1 << 22);
        long batch = s.integer("batch-size", OtlpConfig.DEFAULT_BATCH, 1, 8192);
        Map<String, String> resource = stringMap(s, "resource", false);
        s.finish();
        if (!enabled || endpoint == null) return null;
        return new OtlpConfig(endpoint, protocol, headers, tls, gzip, timeout, logs, metrics, interval, selected,
                (int) queue, (int) batch, resource);
    }

    /** A mapping of strings to strings (header names: RFC 9110 tokens). */
    private static Map<String, String> stringMap(Section parent, String key, boolean headerNames) {
        if (!parent.has(key)) {
            parent.take(key);
            return Map.of();
        }
        Section m = parent.section(key);
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : m.keys()) {
            String v = m.string(k, null);
            if (v == null) continue;
            if (headerNames && !k.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                m.problems().at(m.keyNode(k), m.path() + ": '" + k + "' is not an HTTP header name");
            } else if (headerNames && v.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
                m.problems().at(m.valueNode(k), m.path() + "." + k + ": a header value cannot hold control characters");
            } else {
                out.put(k, v);
            }
        }
        m.finish();
        return Map.copyOf(out);
    }

    private LogsConfig logs(Section s) {
        String dir = s.string("dir", LogsConfig.DEFAULT_DIR.toString());
        Path path = LogsConfig.DEFAULT_DIR;
        if (dir.isBlank()) {
            s.problems().at(s.keyNode("dir"), "logs.dir must not be empty");
        } else if (dir.indexOf('\0') >= 0) {
            s.problems().at(s.keyNode("dir"), "logs.dir contains a NUL byte");
        } else {
            path = Path.of(dir);
        }
        LogsConfig.Rotation rotation = LogsConfig.Rotation.DEFAULT;
        Optional<Node> r = s.take("rotate");
        if (r.isPresent()) {
            Node n = r.get();
            if (n instanceof ScalarNode sc) {
                if (sc.getValue().equals("external")) {
                    rotation = LogsConfig.Rotation.EXTERNAL;
                } else {
                    s.problems().at(n, "logs.rotate must be 'external' or a mapping {max-size, keep, compress}, not " + Section.describe(n));
                }
            } else if (n instanceof MappingNode) {
                Section rs = new Section(s.problems(), "logs.rotate", n);
                long max = rs.size("max-size", LogsConfig.Rotation.DEFAULT.maxSize(), 4L << 10, 1L << 40);
                long keep = rs.integer("keep", LogsConfig.Rotation.DEFAULT.keep(), 0, 1000);
                boolean compress = rs.bool("compress", LogsConfig.Rotation.DEFAULT.compress());
                rs.finish();
                rotation = new LogsConfig.Rotation(false, max, (int) keep, compress);
            } else {
                s.problems().at(n, "logs.rotate must be 'external' or a mapping {max-size, keep, compress}, not " + Section.describe(n));
            }
        }
        s.finish();
        return new LogsConfig(path, rotation);
    }

    /** A kind's settings when its section is empty (bpfwatch probe without a config). */
    public static MonitorSettings defaults(MonitorType<?, ?> type) {
        return type.parse(Section.absent(new Problems("(defaults)"), "monitors." + type.name()));
    }

    /** {@code context:} (what each event says of its process) and {@code unit-label:}, for kinds with a bw_header. */
    private static ContextSpec context(Section m, String name, MonitorType<?, ?> type) {
        Set<ContextField> defaults = type.defaultContext();
        if (defaults == null) {
            for (String key : List.of("context", "unit-label")) {
                if (m.has(key)) {
                    m.problems().at(m.keyNode(key), "monitors." + name + "." + key + ": a " + type.name()
                            + " monitor's events carry no process context (it is for dns, tcp, zfs and wireguard)");
                    m.take(key);
                }
            }
            return ContextSpec.NONE;
        }
        List<String> names = new ArrayList<>();
        for (ContextField f : ContextField.values()) names.add(f.key);
        List<ContextField> listed = m.list("context", null, n -> {
            ContextField f = n instanceof ScalarNode sc ? ContextField.of(sc.getValue()) : null;
            if (f == null) {
                m.problems().at(n, "monitors." + name + ".context: " + Section.describe(n) + " is not a context field (one of "
                        + String.join(", ", names) + ")");
            }
            return f;
        });
        Set<ContextField> fields = EnumSet.noneOf(ContextField.class);
        fields.addAll(listed != null ? listed : defaults);
        int units = (int) m.integer("unit-label", 0, 0, 1000);
        if (units > 0 && !fields.contains(ContextField.UNIT)) {
            m.problems().at(m.keyNode("unit-label"), "monitors." + name + ".unit-label needs unit in monitors." + name + ".context");
        }
        return new ContextSpec(fields, units);
    }

    private static final java.util.regex.Pattern MONITOR_NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9_-]{0,31}");

    private Map<String, MonitorConfig> monitors(Section s) {
        Map<String, MonitorConfig> out = new LinkedHashMap<>();
        for (String name : s.keys()) {
            Node key = s.keyNode(name);
            Section m = s.section(name);
            String kind;
            if (catalog.isBuiltin(name)) {
                kind = name;
                if (m.has("kind") && !name.equals(m.string("kind", name))) {
                    s.problems().at(m.keyNode("kind"), "monitors." + name + " is the built-in " + name
                            + " monitor; a custom monitor needs a name of its own");
                }
            } else if (!m.has("kind")) {
                String hint = Section.suggestion(name, catalog.names());
                s.problems().at(key, hint != null ? "unknown key '" + name + "' in monitors; did you mean '" + hint + "'?"
                        : "monitors." + name + " is not a built-in monitor (" + String.join(", ", catalog.names())
                        + "); a custom monitor needs kind: " + String.join(" or kind: ", catalog.kindNames()));
                continue;
            } else {
                kind = m.oneOf("kind", null, catalog.kindNames());
                if (kind == null) continue;
                if (!MONITOR_NAME.matcher(name).matches()) {
                    s.problems().at(key, "monitors." + name + ": a monitor's name must be lower case letters, digits, - and _"
                            + " (at most 32, starting with a letter): it names its log file and its metrics");
                    continue;
                }
            }
            MonitorType<?, ?> type = catalog.get(kind).orElseThrow();
            boolean enabled = m.bool("enabled", true);
            long ring = m.size("ring-buffer", type.defaultRingBuffer(), 64L << 10, 256L << 20);
            if (m.has("ring-buffer") && Long.bitCount(ring) != 1) {
                s.problems().at(m.keyNode("ring-buffer"), "monitors." + name + ".ring-buffer must be a power of two (e.g. 4MiB, 8MiB, 16MiB)");
            }
            ContextSpec context = context(m, name, type);
            MonitorSettings settings = type.parse(m);
            m.finish();
            out.put(name, new MonitorConfig(name, kind, enabled, (int) ring, context, settings));
        }
        s.finish();
        return out;
    }
}
