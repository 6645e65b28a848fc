package io.bpfwatch.monitor;

import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.BpfProgram;
import io.bpfwatch.sink.EventLog;
import io.bpfwatch.testkit.FakeKernel;
import io.bpfwatch.testkit.RequiresLibbpf;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Java and the compiled objects agree on names, checked from the ELF files alone (no root, no
 * hooks): every program a built-in monitor's plan attaches exists in its object with a section
 * of the same kind, on a fake kernel that offers every hook (with fentry and without), and every
 * map and `const volatile` the Java side names exists in the object it names it in. The same
 * plans then create live instances (not started), as the supervisor would.
 */
@RequiresLibbpf
class BuiltinObjectsTest {
    private static final MonitorCatalog CATALOG = MonitorCatalog.builtin();
    private static final Map<String, Set<String>> PROGRAMS = new HashMap<>();
    private static final Map<String, Map<String, String>> SECTIONS = new HashMap<>();
    private static final Map<String, Set<String>> MAPS = new HashMap<>();
    private static final Map<String, Set<String>> CONSTANTS = new HashMap<>();
    private static Kernel withFentry;
    private static Kernel withKprobes;

    @BeforeAll
    static void readObjects(@TempDir Path dir) throws Exception {
        Set<String> tracepoints = new TreeSet<>(), functions = new TreeSet<>();
        for (String name : CATALOG.names()) {
            Set<String> programs = new LinkedHashSet<>();
            Map<String, String> sections = new HashMap<>();
            try (BpfObject o = BpfObject.open(BpfObjects.label(name), name, BpfObjects.read(name))) {
                for (BpfProgram p : o.programs()) {
                    programs.add(p.name());
                    sections.put(p.name(), p.section());
                    String s = p.section();
                    if (s.startsWith("tracepoint/")) tracepoints.add(s.substring("tracepoint/".length()));
                    if (s.startsWith("fentry/") || s.startsWith("fexit/")) functions.add(s.substring(s.indexOf('/') + 1));
                }
                MAPS.put(name, o.mapNames());
                CONSTANTS.put(name, o.constantNames());
            }
            PROGRAMS.put(name, programs);
            SECTIONS.put(name, sections);
        }
        withFentry = new FakeKernel(dir.resolve("fentry")).tracepoints(tracepoints).functions(functions)
                .builtinModules("wireguard").kprobes(true).build(true);
        withKprobes = new FakeKernel(dir.resolve("kprobes")).tracepoints(tracepoints).functions(functions)
                .builtinModules("wireguard").kprobes(true).build(false);
    }

    @Test
    void everyPlannedProgramExistsWithASectionOfItsKind(@TempDir Path dir) throws Exception {
        for (Kernel kernel : List.of(withFentry, withKprobes)) {
            for (MonitorType<?, ?> type : CATALOG.all()) {
                Availability a = type.probeParsed(kernel, ConfigLoader.defaults(type));
                assertThat(a).as("%s on a kernel with every hook", type.name()).isInstanceOf(Availability.Supported.class);
                Plan plan = ((Availability.Supported) a).plan();
                assertThat(plan.attachments()).as(type.name()).isNotEmpty();
                for (Attach at : plan.attachments()) {
                    String section = SECTIONS.get(type.name()).get(at.program());
                    assertThat(section).as("%s: program %s (planned for %s)", BpfObjects.label(type.name()), at.program(), at.point()).isNotNull();
                    // kprobe sections name no function: the plan gives it at attach time
                    String expected = at instanceof Attach.Kprobe k ? (k.ret() ? "kretprobe" : "kprobe") : at.point();
                    assertThat(section).as("%s: the section of %s", type.name(), at.program()).isEqualTo(expected);
                }
                createdAlike(type, plan, dir);
            }
        }
    }

    @Test
    void theTwoFakeKernelsGiveWireguardBothFlavours() {
        Plan fentry = plan("wireguard", withFentry), kprobes = plan("wireguard", withKprobes);
        assertThat(fentry.attachPoints()).allMatch(p -> p.startsWith("fentry/") || p.startsWith("fexit/")).hasSize(12);
        assertThat(kprobes.attachPoints()).allMatch(p -> p.startsWith("kprobe/") || p.startsWith("kretprobe/")).hasSize(12);
        assertThat(kprobes.guard().lost()).as("a built-in module never goes").isNull();
    }

    /** The map and constant names each monitor's Java code passes to the object, from its sources. */
    @Test
    void everyMapAndConstantJavaNamesExistsInTheObject() throws IOException {
        Pattern named = Pattern.compile("(?:map|setConstant|hasMap|hasConstant)\\(\"([A-Za-z_0-9.]+)\"|Map\\.of\\(\"([A-Za-z_0-9]+)\"");
        for (String name : CATALOG.names()) {
            List<String> used = new ArrayList<>();
            try (Stream<Path> files = Files.list(Path.of("src/main/java/io/bpfwatch/monitor", name))) {
                for (Path f : files.toList()) {
                    Matcher m = named.matcher(Files.readString(f));
                    while (m.find()) used.add(m.group(1) != null ? m.group(1) : m.group(2));
                }
            }
            used.addAll(List.of(BpfMonitor.RING, BpfMonitor.LOST, BpfMonitor.IDLE_FLAG));
            for (String u : used) {
                assertThat(MAPS.get(name).contains(u) || CONSTANTS.get(name).contains(u))
                        .as("%s names map or constant %s; %s has maps %s and constants %s", name, u, BpfObjects.label(name),
                                MAPS.get(name), CONSTANTS.get(name)).isTrue();
            }
            assertThat(CONSTANTS.get(name)).as(name).contains(BpfMonitor.WAKEUP);
        }
    }

    private static Plan plan(String type, Kernel kernel) {
        MonitorType<?, ?> t = CATALOG.get(type).orElseThrow();
        return ((Availability.Supported) t.probeParsed(kernel, ConfigLoader.defaults(t))).plan();
    }

    /** The supervisor's create, with the probe's plan: the instance exists, nothing is loaded. */
    private static <S extends MonitorSettings, M> void createdAlike(MonitorType<S, M> type, Plan plan, Path dir) {
        Meters meters = new Meters(new SimpleMeterRegistry());
        MonitorMetrics health = new MonitorMetrics(type.name(), meters);
        @SuppressWarnings("unchecked")
        S settings = (S) ConfigLoader.defaults(type);
        MonitorConfig config = new MonitorConfig(type.name(), type.name(), true, type.defaultRingBuffer(), settings);
        try (EventLog log = new EventLog(type.name(), new LogsConfig(dir.resolve(type.name()), LogsConfig.Rotation.EXTERNAL), 16,
                health.lostQueue, health.lostWrite)) {
            Monitor m = type.create(config, settings, plan, type.metrics(type.name(), meters), new MonitorContext(type.name(), health,
                    new EventOutput(health, log), Kernel.system(), null, io.bpfwatch.context.HostContext.system()));
            assertThat(m.attachPoints()).as("nothing attached before start").isEmpty();
            assertThat(m.alive()).isFalse();
        } finally {
            meters.close();
        }
    }
}
