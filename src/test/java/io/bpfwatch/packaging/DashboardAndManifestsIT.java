package io.bpfwatch.packaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.monitor.wireguard.Log2Histogram;
import io.bpfwatch.monitor.wireguard.PeerStats;
import io.bpfwatch.monitor.wireguard.WireguardCollector;
import io.bpfwatch.testkit.Cmd;
import io.bpfwatch.testkit.RequiresBpf;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Grafana dashboard, the alerting rules and the Kubernetes manifests, against the real
 * daemon: every metric, label and label value they name is in a scrape of target/bpfwatch
 * running the shipped config (so new monitors' metrics are picked up as they are added), their
 * PromQL parses with promtool, and the manifests read into the Kubernetes API's own types with
 * no field those types do not know. Before the scrape the test makes the events whose series
 * only exist once seen: a DNS query answered by a responder on loopback and a ZFS ioctl on a
 * stand-in device. WireGuard cannot run on this kernel: its series come from the real collector
 * over a sample snapshot (the VM suite scrapes the live ones).
 */
@RequiresBpf
class DashboardAndManifestsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Process daemon;
    private static Path dir;
    private static String scrape;
    private static MetricReferences refs;
    private static DatagramSocket dnsResponder;

    @BeforeAll
    static void scrapeTheShippedConfig() throws Exception {
        dir = Files.createTempDirectory("bpfwatch-refs");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("bpfwatch.yaml");
        String shipped = Files.readString(Packaging.file("packaging/bpfwatch.yaml"));
        for (String s : List.of("listen: 127.0.0.1:9476", "ports: [53, 853]", "device: /dev/zfs")) assertThat(shipped).contains(s);
        dnsResponder = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        Path zfsDevice = dir.resolve("zfs-stand-in");
        Files.write(zfsDevice, new byte[0]);
        Files.writeString(config, shipped.replace("listen: 127.0.0.1:9476", "listen: 127.0.0.1:" + port)
                .replace("ports: [53, 853]", "ports: [53, 853, " + dnsResponder.getLocalPort() + "]")
                .replace("device: /dev/zfs", "device: " + zfsDevice));
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r-----"));
        String launcher = System.getProperty("bpfwatch.launcher", "target/bpfwatch");
        daemon = new ProcessBuilder(launcher, "run", "--config", config.toString(), "--logs-dir", dir.resolve("logs").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.out").toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            if (!daemon.isAlive()) throw new AssertionError("daemon exited:\n" + Files.readString(dir.resolve("daemon.out")));
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) break;
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) throw new AssertionError("not ready:\n" + Files.readString(dir.resolve("daemon.out")));
            Thread.sleep(100);
        }
        answeredDnsQuery();
        zfsSnapshotIoctl(zfsDevice);
        io.bpfwatch.testkit.Prom seen;
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .header("Accept", "text/plain; version=0.0.4").build(), HttpResponse.BodyHandlers.ofString()).body();
            seen = new io.bpfwatch.testkit.Prom(scrape);
            if (seen.has("bpfwatch_dns_responses_total{rcode=\"NOERROR\"}")
                    && seen.has("bpfwatch_zfs_snapshot_operations_total{action=\"snapshot\",result=\"ENOTTY\"}")) break;
            if (System.nanoTime() > deadline) throw new AssertionError("the DNS answer and the ZFS ioctl were not counted:\n" + scrape);
            Thread.sleep(100);
        }
        refs = new MetricReferences(scrape + wireguardExposition());
        // Every monitor the shipped config enables reports itself.
        Map<String, Object> monitors = monitors(shipped);
        io.bpfwatch.testkit.Prom prom = new io.bpfwatch.testkit.Prom(scrape);
        for (String m : monitors.keySet()) assertThat(prom.has("bpfwatch_monitor_up{monitor=\"" + m + "\"}")).as(m).isTrue();
    }

    /** One A query for example.com, sent to the responder and answered NOERROR with no records. */
    private static void answeredDnsQuery() throws IOException {
        byte[] q = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
        try (DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            client.setSoTimeout(5000);
            dnsResponder.setSoTimeout(5000);
            client.send(new DatagramPacket(q, q.length, dnsResponder.getLocalSocketAddress()));
            DatagramPacket in = new DatagramPacket(new byte[512], 512);
            dnsResponder.receive(in);
            byte[] answer = Arrays.copyOf(in.getData(), in.getLength());
            answer[2] = (byte) 0x81; // QR, RD
            answer[3] = (byte) 0x80; // RA, NOERROR
            dnsResponder.send(new DatagramPacket(answer, answer.length, in.getSocketAddress()));
            client.receive(new DatagramPacket(new byte[512], 512));
        }
    }

    /** ZFS_IOC_SNAPSHOT on the stand-in device, which answers ENOTTY, as a regular file does. */
    private static void zfsSnapshotIoctl(Path device) {
        Cmd.Result r = Cmd.run("python3", "-c", "import fcntl, sys\n"
                + "with open(sys.argv[1], 'rb') as f:\n"
                + "    try: fcntl.ioctl(f, 0x5a23, bytearray(16384))\n"
                + "    except OSError as e: print(e.errno)\n", device.toString());
        assertThat(r.out().strip()).as(r.describe()).isEqualTo("25");
    }

    /** The wireguard families as the real collector exports them, over one peer's sample. */
    private static String wireguardExposition() {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        long[] slots = new long[Log2Histogram.SLOTS];
        slots[10] = 3;
        Log2Histogram h = new Log2Histogram(slots, 3, 3 * 1500, 1800);
        PeerStats peer = new PeerStats("wg0", "cGVlcnB1YmxpY2tleWNHVmxjbkIxWW14cFkydGxlUT0=", "10.0.0.2:51820", h, h, 1000, 3, 900, 3);
        WireguardCollector.register(new io.bpfwatch.monitor.Meters(r)).attach(() -> new WireguardCollector.Snapshot(List.of(peer), 0));
        return r.scrape();
    }

    @AfterAll
    static void stop() throws Exception {
        if (dnsResponder != null) dnsResponder.close();
        if (daemon != null) {
            daemon.destroy();
            daemon.waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) Cmd.run("rm", "-rf", dir.toString());
    }

    @Test
    void theReferenceCheckCatchesTypos() {
        assertThat(refs.problems("sum(rate(bpfwatch_events_total[5m]))")).isEmpty();
        assertThat(refs.problems("rate(bpfwatch_event_total[5m])")).containsExactly("no metric bpfwatch_event_total in the scrape");
        assertThat(refs.problems("bpfwatch_monitor_state{state=\"diabled\"}")).hasSize(1);
        assertThat(refs.problems("bpfwatch_events_total{stage=\"kernel\"}")).hasSize(1);
        assertThat(refs.problems("sum by (rule) (bpfwatch_events_total)")).hasSize(1);
    }

    @Test
    void dashboardHasWhatGrafanaNeedsAndOnlyRealMetrics() throws Exception {
        JsonNode d = JSON.readTree(Packaging.file("packaging/grafana/bpfwatch.json").toFile());
        for (String f : List.of("title", "uid", "schemaVersion", "panels", "templating", "time")) assertThat(d.has(f)).as(f).isTrue();
        assertThat(d.path("uid").asText()).matches("[a-zA-Z0-9_-]{1,40}");
        Map<String, JsonNode> vars = new java.util.HashMap<>();
        for (JsonNode v : d.path("templating").path("list")) vars.put(v.path("name").asText(), v);
        assertThat(vars.get("datasource").path("type").asText()).isEqualTo("datasource");
        assertThat(vars.get("datasource").path("query").asText()).isEqualTo("prometheus");
        for (JsonNode v : vars.values()) {
            if (!v.path("type").asText().equals("query")) continue;
            String q = v.path("definition").asText();
            var m = java.util.regex.Pattern.compile("label_values\\((.+),\\s*([a-zA-Z_]+)\\)").matcher(q);
            assertThat(m.matches()).as(q).isTrue();
            assertThat(refs.problems("sum by (" + m.group(2) + ") (" + m.group(1) + ")")).as(q).isEmpty();
        }

        Set<Integer> ids = new HashSet<>();
        List<String> exprs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (JsonNode p : d.path("panels")) {
            String title = p.path("title").asText();
            assertThat(ids.add(p.path("id").asInt())).as("unique id " + title).isTrue();
            for (String f : List.of("h", "w", "x", "y")) assertThat(p.path("gridPos").path(f).isInt()).as(title + " gridPos." + f).isTrue();
            assertThat(p.path("gridPos").path("x").asInt() + p.path("gridPos").path("w").asInt()).as(title).isLessThanOrEqualTo(24);
            if (p.path("type").asText().equals("row")) continue;
            assertThat(title).isNotBlank();
            assertThat(p.path("type").asText()).isIn("stat", "table", "timeseries", "state-timeline");
            assertThat(p.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
            assertThat(p.path("targets")).as(title).isNotEmpty();
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("refId").asText()).isNotBlank();
                String expr = t.path("expr").asText();
                exprs.add(expr);
                for (String problem : refs.problems(expr)) problems.add(title + ": " + problem + "\n    " + expr);
            }
        }
        assertThat(problems).isEmpty();
        promtoolParses(exprs);
    }

    @Test
    @SuppressWarnings("unchecked")
    void alertRulesReferenceOnlyRealMetrics() throws Exception {
        Map<String, Object> rules = new Yaml().load(Files.readString(Packaging.file("packaging/prometheus/bpfwatch-alerts.yml")));
        List<String> problems = new ArrayList<>();
        for (Map<String, Object> g : (List<Map<String, Object>>) rules.get("groups")) {
            for (Map<String, Object> r : (List<Map<String, Object>>) g.get("rules")) {
                for (String p : refs.problems((String) r.get("expr"))) problems.add(r.get("alert") + ": " + p);
            }
        }
        assertThat(problems).isEmpty();
    }

    /** promtool parses PromQL when it checks rules: the dashboard's queries, as recording rules. */
    private static void promtoolParses(List<String> exprs) throws IOException {
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int i = 0;
        for (String e : exprs) {
            String expr = e.replaceAll("\\$__(rate_interval|interval|range)\\b", "5m").replaceAll("\\$\\{?[a-zA-Z_][a-zA-Z0-9_]*}?", ".*");
            rules.append("      - record: dashboard:query").append(i++).append("\n        expr: ").append(JSON.writeValueAsString(expr)).append('\n');
        }
        Path f = dir.resolve("dashboard-queries.yml");
        Files.writeString(f, rules);
        Cmd.Result r = Cmd.run(Packaging.promtool().toString(), "check", "rules", f.toString());
        assertThat(r.exit()).as(r.describe()).isZero();
    }

    @Test
    void daemonSetRunsOnTheHostWithTheUnitsCapabilitiesAndKeepsLogsOnTheNode() throws Exception {
        List<Object> docs = documents("packaging/kubernetes/bpfwatch.yaml");
        Namespace ns = strict(docs, "Namespace", Namespace.class);
        ConfigMap cm = strict(docs, "ConfigMap", ConfigMap.class);
        DaemonSet ds = strict(docs, "DaemonSet", DaemonSet.class);
        Service svc = strict(docs, "Service", Service.class);
        assertThat(ds.getApiVersion()).isEqualTo("apps/v1");
        for (var o : List.of(cm.getMetadata(), ds.getMetadata(), svc.getMetadata())) assertThat(o.getNamespace()).isEqualTo(ns.getMetadata().getName());

        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getHostPID()).isTrue();
        assertThat(ds.getSpec().getSelector().getMatchLabels()).isEqualTo(ds.getSpec().getTemplate().getMetadata().getLabels());
        Container ctr = pod.getContainers().get(0);
        assertThat(ctr.getImage()).isNotBlank();
        var sc = ctr.getSecurityContext();
        assertThat(sc.getPrivileged()).isFalse();
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        // The same set as the systemd unit's CapabilityBoundingSet.
        String unit = Files.readString(Packaging.file("packaging/systemd/bpfwatch.service"));
        String bounding = unit.lines().filter(l -> l.startsWith("CapabilityBoundingSet=")).findFirst().orElseThrow();
        Set<String> unitCaps = new TreeSet<>();
        for (String cap : bounding.substring(bounding.indexOf('=') + 1).split(" ")) unitCaps.add(cap.replace("CAP_", ""));
        assertThat(new TreeSet<>(sc.getCapabilities().getAdd())).isEqualTo(unitCaps);

        Map<String, String> mounts = new java.util.HashMap<>();
        for (VolumeMount m : ctr.getVolumeMounts()) mounts.put(m.getMountPath(), m.getName());
        Map<String, Volume> volumes = new java.util.HashMap<>();
        for (Volume v : pod.getVolumes()) volumes.put(v.getName(), v);
        assertThat(volumes.keySet()).containsAll(mounts.values());
        assertThat(volumes.get(mounts.get("/sys/kernel/tracing")).getHostPath().getPath()).isEqualTo("/sys/kernel/tracing");
        assertThat(volumes.get(mounts.get("/sys/kernel/btf")).getHostPath().getPath()).isEqualTo("/sys/kernel/btf");
        assertThat(volumes.get(mounts.get("/var/log/bpfwatch")).getHostPath().getPath()).isEqualTo("/var/log/bpfwatch");
        assertThat(volumes.get(mounts.get("/etc/bpfwatch")).getConfigMap().getName()).isEqualTo(cm.getMetadata().getName());
        assertThat(ctr.getArgs()).containsExactly("run", "--config", "/etc/bpfwatch/bpfwatch.yaml");

        // The ConfigMap's config is valid, listens where the probes and the Service look, and
        // enables what the shipped default enables.
        String config = cm.getData().get("bpfwatch.yaml");
        Path f = dir.resolve("configmap.yaml");
        Files.writeString(f, config);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        Cmd.Result check = Cmd.run(System.getProperty("bpfwatch.launcher", "target/bpfwatch"), "check", "--config", f.toString());
        assertThat(check.exit()).as(check.describe()).isZero();
        int port = ctr.getPorts().get(0).getContainerPort();
        assertThat(config).contains("listen: 0.0.0.0:" + port);
        assertThat(ctr.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
        assertThat(ctr.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health/live");
        assertThat(monitors(config).keySet()).as("the fleet config enables the shipped default's monitors")
                .isEqualTo(monitors(Files.readString(Packaging.file("packaging/bpfwatch.yaml"))).keySet());

        assertThat(svc.getSpec().getSelector()).isEqualTo(ds.getSpec().getTemplate().getMetadata().getLabels());
        assertThat(svc.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo(ctr.getPorts().get(0).getName());
    }

    @Test
    void serviceMonitorScrapesTheServiceAsJobBpfwatch() throws Exception {
        List<Object> docs = documents("packaging/kubernetes/servicemonitor.yaml");
        ServiceMonitor sm = strict(docs, "ServiceMonitor", ServiceMonitor.class);
        Service svc = strict(documents("packaging/kubernetes/bpfwatch.yaml"), "Service", Service.class);
        assertThat(sm.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(svc.getMetadata().getLabels()).containsAllEntriesOf(sm.getSpec().getSelector().getMatchLabels());
        assertThat(sm.getSpec().getNamespaceSelector().getMatchNames()).containsExactly(svc.getMetadata().getNamespace());
        assertThat(sm.getSpec().getEndpoints().get(0).getPort()).isEqualTo(svc.getSpec().getPorts().get(0).getName());
        assertThat(sm.getSpec().getEndpoints().get(0).getPath()).isEqualTo("/metrics");
        // The alerting rules select job="bpfwatch": the job label is the Service's label named by jobLabel.
        assertThat(svc.getMetadata().getLabels().get(sm.getSpec().getJobLabel())).isEqualTo("bpfwatch");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> monitors(String yaml) {
        Map<String, Object> c = new Yaml().load(yaml);
        Map<String, Object> all = (Map<String, Object>) c.get("monitors");
        Map<String, Object> enabled = new java.util.TreeMap<>();
        all.forEach((k, v) -> {
            if (!(v instanceof Map<?, ?> m) || !Boolean.FALSE.equals(m.get("enabled"))) enabled.put(k, v);
        });
        return enabled;
    }

    private static List<Object> documents(String file) throws IOException {
        List<Object> docs = new ArrayList<>();
        for (Object d : new Yaml().loadAll(Files.readString(Packaging.file(file)))) if (d != null) docs.add(d);
        return docs;
    }

    /** The document of that kind, read into its Kubernetes type; a field the type does not know fails. */
    @SuppressWarnings("unchecked")
    private static <T> T strict(List<Object> docs, String kind, Class<T> type) {
        Object doc = docs.stream().filter(d -> kind.equals(((Map<String, Object>) d).get("kind"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind));
        T value = JSON.convertValue(doc, type);
        List<String> unknown = new ArrayList<>();
        unknownFields(value, kind, unknown, new HashSet<>());
        assertThat(unknown).as("fields " + type.getSimpleName() + " does not have").isEmpty();
        return value;
    }

    /** fabric8's types keep what they do not know in getAdditionalProperties(): walk every nested model object. */
    private static void unknownFields(Object o, String path, List<String> out, Set<Object> seen) {
        if (o == null || !seen.add(System.identityHashCode(o) + ":" + o.getClass())) return;
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) unknownFields(e, path + "[" + i++ + "]", out, seen);
            return;
        }
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> unknownFields(v, path + "." + k, out, seen));
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.")) return;
        for (Method getter : o.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) continue;
            try {
                Object v = getter.invoke(o);
                if (getter.getName().equals("getAdditionalProperties")) {
                    if (v instanceof Map<?, ?> extra && !extra.isEmpty()) out.add(path + ": " + extra.keySet());
                } else {
                    unknownFields(v, path + "." + getter.getName().substring(3), out, seen);
                }
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }
}
