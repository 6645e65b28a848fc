package io.bpfwatch.monitor.libbpf;

import io.bpfwatch.config.Section;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.BpfProgram;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.monitor.Attach;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.BpfMonitor;
import io.bpfwatch.monitor.BpfObjects;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.Plan;
import org.yaml.snakeyaml.nodes.Node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * kind: libbpf. A user's compiled CO-RE object (clang -g -O2 -target bpf), run like bpfwatch's
 * own: every program attached by its SEC name (libbpf's auto-attach), the ring buffers the
 * config names read and each record decoded from the object's own BTF by the struct the
 * config names, the maps it names exported as metrics (read at scrape time). The config loader
 * opens the object and checks every name against it, so `bpfwatch check` reports a struct,
 * member, map or constant that is not there at its line.
 */
public final class LibbpfMonitorType implements MonitorType<LibbpfSettings, LibbpfMetrics> {
    static final long MAX_OBJECT_BYTES = 64L << 20;
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern EVENT_NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

    @Override
    public String name() {
        return "libbpf";
    }

    @Override
    public String description() {
        return "a user's CO-RE object: programs attached by SEC name, ring buffer records decoded from its BTF, maps as metrics";
    }

    /** 0: every ring buffer keeps the size the object declares unless ring-buffer is set. */
    @Override
    public int defaultRingBuffer() {
        return 0;
    }

    @Override
    public LibbpfSettings parse(Section s) {
        String monitor = s.path().substring(s.path().lastIndexOf('.') + 1);
        Node objectNode = s.valueNode("object");
        Path path = s.absolutePath("object", null);
        int maxKeys = (int) s.integer("max-keys", LibbpfSettings.DEFAULT_MAX_KEYS, 1, 1_000_000);
        String lostMap = s.string("lost-map", null);
        Map<String, Long> constants = new LinkedHashMap<>();
        Section cs = s.section("constants");
        for (String k : cs.keys()) constants.put(k, cs.integer(k, 0, Long.MIN_VALUE, Long.MAX_VALUE));
        cs.finish();
        List<LibbpfSettings.Events> events = new ArrayList<>();
        List<Section> eventSections = s.sections("events");
        for (Section e : eventSections) events.add(events(e));
        List<LibbpfSettings.Metric> metrics = new ArrayList<>();
        List<Section> metricSections = s.sections("metrics");
        for (Section m : metricSections) metrics.add(metric(m, monitor));

        if (path == null) {
            if (!s.has("object")) s.problems().at(s.node() != null ? s.node() : s.keyNode("kind"), s.path() + " needs object: FILE (a compiled .bpf.o)");
            return new LibbpfSettings(null, "", constants, events, metrics, maxKeys, lostMap);
        }
        byte[] bytes = read(s, objectNode, path);
        if (bytes == null) return new LibbpfSettings(path, "", constants, events, metrics, maxKeys, lostMap);
        try (BpfObject o = BpfObject.open(path.toString(), objectName(monitor), bytes)) {
            check(s, objectNode, o, constants, cs, events, eventSections, metrics, metricSections, lostMap);
        } catch (BpfException | RuntimeException e) {
            s.problems().at(objectNode, s.path() + ".object: " + path + " is not a BPF object libbpf can open: " + e.getMessage());
        }
        return new LibbpfSettings(path, sha256(bytes), constants, events, metrics, maxKeys, lostMap);
    }

    /** libbpf's object name (a prefix of its maps' names in the kernel): the monitor's, shortened. */
    static String objectName(String monitor) {
        String n = monitor.replace('-', '_');
        return n.length() > 15 ? n.substring(0, 15) : n;
    }

    private static LibbpfSettings.Events events(Section e) {
        String ring = e.string("ring", BpfMonitor.RING);
        String struct = e.string("struct", null);
        if (struct == null) e.problems().at(e.node(), e.path() + ".struct is required: the struct each record is");
        String name = e.string("name", struct == null ? "event" : struct);
        if (!EVENT_NAME.matcher(name).matches()) e.problems().at(e.keyNode("name"), e.path() + ".name must be a word of letters, digits and _.:-, not '" + name + "'");
        String time = e.string("time", null);
        Map<String, String> fields = new LinkedHashMap<>();
        Section f = e.section("fields");
        for (String k : f.keys()) fields.put(k, f.oneOf(k, "number", BtfReader.DECODERS));
        f.finish();
        e.finish();
        return new LibbpfSettings.Events(ring, struct == null ? "" : struct, name, time, fields);
    }

    private static LibbpfSettings.Metric metric(Section m, String monitor) {
        String map = m.string("map", null);
        if (map == null) m.problems().at(m.node(), m.path() + ".map is required: the map to export");
        String name = m.string("name", "bpfwatch_custom_" + monitor.replace('-', '_') + "_" + (map == null ? "" : map));
        if (!METRIC_NAME.matcher(name).matches()) m.problems().at(m.keyNode("name"), m.path() + ".name must be a Prometheus metric name, not '" + name + "'");
        String help = m.string("help", "map " + map + " of monitor " + monitor);
        LibbpfSettings.Type type = LibbpfSettings.Type.valueOf(m.oneOf("type", "counter", LibbpfSettings.Type.WORDS).toUpperCase(java.util.Locale.ROOT));
        Map<String, String> labels = new LinkedHashMap<>();
        Section l = m.section("labels");
        for (String k : l.keys()) labels.put(k, l.oneOf(k, "number", BtfReader.DECODERS));
        l.finish();
        String value = m.string("value", null);
        String bucket = m.string("bucket", null);
        boolean linear = m.oneOf("bucket-type", "log2", List.of("log2", "linear")).equals("linear");
        double width = m.decimal("bucket-width", 1);
        double scale = m.decimal("bucket-scale", 1);
        if (type == LibbpfSettings.Type.HISTOGRAM && bucket == null) {
            m.problems().at(m.node(), m.path() + ": a histogram needs bucket: the key member that holds the bucket's index");
        }
        m.finish();
        return new LibbpfSettings.Metric(map == null ? "" : map, name, help, type, labels, value, bucket, linear, width, scale);
    }

    private static byte[] read(Section s, Node at, Path path) {
        try {
            if (!Files.isRegularFile(path)) {
                s.problems().at(at, s.path() + ".object: " + path + (Files.exists(path) ? " is not a regular file" : " does not exist"));
                return null;
            }
            if (Files.size(path) > MAX_OBJECT_BYTES) {
                s.problems().at(at, s.path() + ".object: " + path + " is over 64 MiB; that is not a BPF object");
                return null;
            }
            return Files.readAllBytes(path);
        } catch (IOException | RuntimeException e) {
            s.problems().at(at, s.path() + ".object: cannot read " + path + ": " + e.getMessage());
            return null;
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every name the section gives, against the object. */
    private static void check(Section s, Node objectNode, BpfObject o, Map<String, Long> constants, Section cs,
                              List<LibbpfSettings.Events> events, List<Section> eventSections,
                              List<LibbpfSettings.Metric> metrics, List<Section> metricSections, String lostMap) {
        if (o.programs().isEmpty()) s.problems().at(objectNode, s.path() + ".object: " + o.label() + " has no programs");
        Btf btf = o.btf();
        Map<String, int[]> rodata = btf.variables(".rodata");
        for (String c : constants.keySet()) {
            int[] v = rodata.get(c);
            if (v == null) {
                cs.problems().at(cs.keyNode(c), cs.path() + "." + c + ": " + o.label() + " has no const volatile " + c
                        + (rodata.isEmpty() ? "" : " (it has: " + String.join(", ", rodata.keySet()) + ")"));
            } else if (v[1] != 1 && v[1] != 2 && v[1] != 4 && v[1] != 8) {
                cs.problems().at(cs.keyNode(c), cs.path() + "." + c + " is " + v[1] + " bytes: only integers can be set");
            }
        }
        for (int i = 0; i < events.size(); i++) {
            LibbpfSettings.Events e = events.get(i);
            Section es = eventSections.get(i);
            Optional<BpfMap> ring = map(o, e.ring());
            if (ring.isEmpty()) {
                es.problems().at(es.has("ring") ? es.keyNode("ring") : es.node(), es.path() + ".ring: " + o.label() + " has no map " + e.ring()
                        + " (its maps: " + String.join(", ", userMaps(o)) + ")");
            } else if (ring.get().type() != BpfMap.TYPE_RINGBUF) {
                es.problems().at(es.keyNode("ring"), es.path() + ".ring: map " + e.ring() + " is not a BPF_MAP_TYPE_RINGBUF");
            }
            if (e.struct().isEmpty()) continue;
            int id = btf.find(e.struct(), Btf.KIND_STRUCT);
            if (id < 0) {
                es.problems().at(es.keyNode("struct"), es.path() + ".struct: " + o.label() + "'s BTF has no struct " + e.struct()
                        + " (clang keeps a struct in BTF only when something global uses it: add `const struct " + e.struct()
                        + " *unused __attribute__((unused));`)");
                continue;
            }
            if (e.time() != null) {
                int t = BtfReader.memberType(btf, id, e.time());
                if (t < 0 || btf.type(t).kind() != Btf.KIND_INT || btf.size(t) != 8) {
                    es.problems().at(es.keyNode("time"), es.path() + ".time: struct " + e.struct() + " has no 8-byte integer member " + e.time());
                }
            }
            for (Map.Entry<String, String> f : e.fields().entrySet()) {
                int t = BtfReader.memberType(btf, id, f.getKey());
                String why = t < 0 ? "struct " + e.struct() + " has no member " + f.getKey() : BtfReader.unfit(btf, t, f.getValue());
                if (why != null) es.problems().at(es.node(), es.path() + ".fields." + f.getKey() + ": " + why);
            }
        }
        for (int i = 0; i < metrics.size(); i++) {
            LibbpfSettings.Metric m = metrics.get(i);
            Section ms = metricSections.get(i);
            if (m.map().isEmpty()) continue;
            Optional<BpfMap> map = map(o, m.map());
            if (map.isEmpty()) {
                ms.problems().at(ms.keyNode("map"), ms.path() + ".map: " + o.label() + " has no map " + m.map()
                        + " (its maps: " + String.join(", ", userMaps(o)) + ")");
                continue;
            }
            String why = LibbpfMetrics.unfit(btf, map.get(), m);
            if (why != null) ms.problems().at(ms.keyNode("map"), ms.path() + ": " + why);
        }
        if (lostMap != null) {
            Optional<BpfMap> lost = map(o, lostMap);
            if (lost.isEmpty() || lost.get().type() != BpfMap.TYPE_PERCPU_ARRAY || lost.get().valueSize() != 8) {
                s.problems().at(s.keyNode("lost-map"), s.path() + ".lost-map: " + o.label() + " has no per-CPU array of u64 named " + lostMap);
            }
        }
    }

    /** The maps the object's source declares (not libbpf's .rodata, .bss, ... of its globals). */
    static List<String> userMaps(BpfObject o) {
        return o.mapNames().stream().filter(n -> n.indexOf('.') < 0).toList();
    }

    static Optional<BpfMap> map(BpfObject o, String name) {
        return o.hasMap(name) ? Optional.of(o.map(name)) : Optional.empty();
    }

    /**
     * Every program's hook must exist on this kernel: its tracepoint, kprobes, fentry, BTF. The
     * plan attaches each by its section, return and exit probes first (so an entry probe never
     * records a call whose exit is not watched yet).
     */
    @Override
    public Availability probe(Kernel kernel, LibbpfSettings settings) {
        if (settings.object() == null) return new Availability.Unsupported("no object");
        String libbpf = Kernel.libbpfProblem();
        if (libbpf != null) return new Availability.Unsupported(libbpf);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(settings.object());
        } catch (IOException e) {
            return new Availability.Unsupported("cannot read " + settings.object() + ": " + e.getMessage());
        }
        List<Attach> exits = new ArrayList<>(), entries = new ArrayList<>();
        try (BpfObject o = BpfObject.open(settings.object().toString(), "probe", bytes)) {
            for (BpfProgram p : o.programs()) {
                String section = p.section();
                Optional<String> missing = missing(kernel, section);
                if (missing.isPresent()) return new Availability.Unsupported("program " + p.name() + " (SEC(\"" + section + "\")): " + missing.get());
                Attach a = new Attach.BySection(p.name(), section);
                if (section.contains("exit") || section.startsWith("kretprobe") || section.startsWith("fexit")
                        || section.startsWith("uretprobe")) {
                    exits.add(a);
                } else {
                    entries.add(a);
                }
            }
        } catch (BpfException | RuntimeException e) {
            return new Availability.Unsupported("opening " + settings.object() + " failed: " + e.getMessage());
        }
        exits.addAll(entries);
        return new Availability.Supported(new Plan(settings.object() + ": " + exits.size() + " program" + (exits.size() == 1 ? "" : "s")
                + " attached by section", exits));
    }

    /** Why this kernel cannot attach a program of this section, if it cannot. */
    static Optional<String> missing(Kernel kernel, String section) {
        String[] p = section.split("/");
        String kind = p[0];
        switch (kind) {
            case "tracepoint", "tp":
                if (p.length >= 3) return kernel.missingTracepoint(p[1], p[2]);
                return Optional.of("a tracepoint section needs tracepoint/CATEGORY/NAME to attach by itself");
            case "kprobe", "kretprobe", "ksyscall", "kretsyscall", "kprobe.multi", "kretprobe.multi":
                return kernel.kprobesSupported() ? Optional.empty() : Optional.of("this kernel has no kprobes (CONFIG_KPROBES)");
            case "fentry", "fexit", "fmod_ret", "fentry.s", "fexit.s":
                return kernel.missingFentry();
            case "tp_btf", "raw_tp", "raw_tracepoint", "raw_tp.w", "raw_tracepoint.w", "lsm", "lsm.s", "iter", "iter.s":
                return kernel.hasVmlinuxBtf() ? Optional.empty() : Optional.of("the kernel has no BTF (/sys/kernel/btf/vmlinux)");
            default:
                return Optional.empty();
        }
    }

    @Override
    public LibbpfMetrics metrics(String monitor, Meters meters) {
        return new LibbpfMetrics(monitor, meters);
    }

    @Override
    public Monitor create(MonitorConfig config, LibbpfSettings settings, Plan plan, LibbpfMetrics metrics, MonitorContext context) {
        BpfObjects.Source source = new BpfObjects.Source() {
            @Override
            public String label() {
                return settings.object().toString();
            }

            @Override
            public String name() {
                return objectName(config.name());
            }

            @Override
            public byte[] read() throws IOException {
                return Files.readAllBytes(settings.object());
            }
        };
        return new BpfMonitor<>(config, source, plan, context, new LibbpfLogic(config.name(), settings, metrics, context));
    }
}
