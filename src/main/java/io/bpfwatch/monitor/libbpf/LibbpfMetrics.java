package io.bpfwatch.monitor.libbpf;

import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.monitor.Meters;
import io.micrometer.core.instrument.Counter;
import io.prometheus.client.Collector;
import org.jboss.logging.Logger;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The maps a libbpf monitor exports, read at scrape time from the running object (nothing is
 * copied on a timer, as in ebpf_exporter). A map's key holds the labels (its struct's members,
 * or the key itself, as "key"), its value the sample (summed over CPUs for per-CPU maps): a
 * counter or a gauge; or, with a bucket member in the key, a histogram whose buckets are the
 * map's entries. At most max-keys series per map; the rest are counted in
 * bpfwatch_custom_keys_dropped_total at each scrape. Without a running instance there are no
 * series.
 */
final class LibbpfMetrics extends Collector {
    private static final Logger LOG = Logger.getLogger(LibbpfMetrics.class);

    /** One exported map of the running object, its key and value readers made from its BTF. */
    record Exported(LibbpfSettings.Metric spec, BpfMap map, List<String> labels, List<BtfReader> labelReaders,
                    List<Integer> labelOffsets, int bucketOffset, int bucketSize, int valueOffset, int valueSize) {
    }

    private final String monitor;
    private final Counter keysDropped;
    private List<Exported> exported = List.of();
    private int maxKeys = LibbpfSettings.DEFAULT_MAX_KEYS;

    LibbpfMetrics(String monitor, Meters meters) {
        this.monitor = monitor;
        keysDropped = meters.add(Counter.builder("bpfwatch.custom.keys.dropped").tag("monitor", monitor)
                .description("Map keys a custom monitor printed but did not export, past its max-keys").register(meters.registry()));
        if (!meters.collector(this)) LOG.warnf("%s: no Prometheus registry: its maps are not exported", monitor);
    }

    /** The running object's maps (after load); until {@link #detach}, scrapes read them. */
    synchronized void attach(List<Exported> maps, int maxKeys) {
        this.exported = List.copyOf(maps);
        this.maxKeys = maxKeys;
    }

    /** Before the object closes: after this returns no scrape reads its maps. */
    synchronized void detach() {
        exported = List.of();
    }

    /** Why a map cannot be exported as {@code m} says, or null. */
    static String unfit(Btf btf, BpfMap map, LibbpfSettings.Metric m) {
        int t = map.type();
        if (t != BpfMap.TYPE_HASH && t != BpfMap.TYPE_ARRAY && t != BpfMap.TYPE_PERCPU_HASH && t != BpfMap.TYPE_PERCPU_ARRAY
                && t != BpfMap.TYPE_LRU_HASH && t != 10) {
            return "map " + map.name() + " is not a hash or array map (type " + t + ")";
        }
        int key = map.btfKeyType(), value = map.btfValueType();
        if (key == 0 || value == 0) return "map " + map.name() + " has no BTF for its key and value (declare it with __type(key, ...) and __type(value, ...))";
        boolean structKey = btf.type(btf.resolve(key)).isStructOrUnion();
        for (Map.Entry<String, String> l : m.labels().entrySet()) {
            int lt = structKey ? BtfReader.memberType(btf, key, l.getKey()) : l.getKey().equals("key") ? btf.resolve(key) : -1;
            if (lt < 0) return "labels." + l.getKey() + ": the key of map " + map.name() + " has no member " + l.getKey()
                    + (structKey ? "" : " (its key is not a struct: name the label key)");
            String why = BtfReader.unfit(btf, lt, l.getValue());
            if (why != null) return "labels." + l.getKey() + ": " + why;
        }
        if (m.bucket() != null) {
            int bt = structKey ? BtfReader.memberType(btf, key, m.bucket()) : m.bucket().equals("key") ? btf.resolve(key) : -1;
            if (bt < 0 || btf.type(bt).kind() != Btf.KIND_INT) return "bucket: the key of map " + map.name() + " has no integer member " + m.bucket();
        }
        int vt = value;
        if (m.value() != null) {
            vt = BtfReader.memberType(btf, value, m.value());
            if (vt < 0) return "value: the value of map " + map.name() + " has no member " + m.value();
        }
        Btf.Type v = btf.type(btf.resolve(vt));
        if (v.kind() != Btf.KIND_INT) return "the value of map " + map.name() + (m.value() == null ? "" : "'s member " + m.value())
                + " is not an integer" + (v.isStructOrUnion() ? ": name the member with value:" : "");
        return null;
    }

    /** The readers of map {@code m} of the loaded object. */
    static Exported exported(Btf btf, BpfMap map, LibbpfSettings.Metric m) {
        int key = map.btfKeyType(), value = map.btfValueType();
        boolean structKey = btf.type(btf.resolve(key)).isStructOrUnion();
        List<String> labels = new ArrayList<>();
        List<BtfReader> readers = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        for (Map.Entry<String, String> l : m.labels().entrySet()) {
            labels.add(l.getKey());
            int lt = structKey ? BtfReader.memberType(btf, key, l.getKey()) : btf.resolve(key);
            readers.add(BtfReader.of(btf, lt, Map.of("", l.getValue()), ""));
            offsets.add(structKey ? offset(btf, key, l.getKey()) : 0);
        }
        int bucketOffset = -1, bucketSize = 0;
        if (m.bucket() != null) {
            int bt = structKey ? BtfReader.memberType(btf, key, m.bucket()) : btf.resolve(key);
            bucketOffset = structKey ? offset(btf, key, m.bucket()) : 0;
            bucketSize = (int) btf.size(bt);
        }
        int valueOffset = m.value() == null ? 0 : offset(btf, value, m.value());
        int vt = m.value() == null ? btf.resolve(value) : BtfReader.memberType(btf, value, m.value());
        return new Exported(m, map, labels, readers, offsets, bucketOffset, bucketSize, valueOffset, (int) btf.size(vt));
    }

    /** Byte offset of a member path ("a.b") in a struct. */
    private static int offset(Btf btf, int structId, String path) {
        int off = 0;
        int id = btf.resolve(structId);
        for (String part : path.split("\\.")) {
            Btf.Type t = btf.type(id);
            Btf.Member found = null;
            for (Btf.Member mb : btf.members(t)) if (mb.name().equals(part)) found = mb;
            if (found == null) throw new IllegalArgumentException("no member " + part);
            off += found.bitOffset() / 8;
            id = btf.resolve(found.type());
        }
        return off;
    }

    @Override
    public synchronized List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new ArrayList<>();
        for (Exported e : exported) {
            try {
                MetricFamilySamples f = read(e);
                if (f != null) out.add(f);
            } catch (BpfException | RuntimeException ex) {
                LOG.warnf("%s: reading map %s for a scrape failed: %s", monitor, e.map().name(), ex);
            }
        }
        return out;
    }

    private MetricFamilySamples read(Exported e) throws BpfException {
        LibbpfSettings.Metric spec = e.spec();
        BpfMap map = e.map();
        int cpus = map.isPerCpu() ? BpfMap.possibleCpus() : 1;
        int stride = map.isPerCpu() ? (map.valueSize() + 7) & ~7 : 0;
        Map<List<String>, double[]> series = new LinkedHashMap<>();      // labels -> value
        Map<List<String>, TreeMap<Double, Double>> buckets = new LinkedHashMap<>();
        long[] dropped = {0};
        map.forEach((k, v) -> {
            ByteBuffer key = k.getByteBuffer(0, map.keySize()).order(ByteOrder.nativeOrder());
            ByteBuffer value = v.getByteBuffer(0, v.size()).order(ByteOrder.nativeOrder());
            double sample = 0;
            for (int c = 0; c < cpus; c++) {
                sample += BtfReader.readInt(value, c * stride + e.valueOffset(), e.valueSize(), false);
            }
            List<String> labels = new ArrayList<>(e.labels().size());
            for (int i = 0; i < e.labels().size(); i++) labels.add(e.labelReaders().get(i).label(key, e.labelOffsets().get(i)));
            boolean known = spec.type() == LibbpfSettings.Type.HISTOGRAM ? buckets.containsKey(labels) : series.containsKey(labels);
            int size = spec.type() == LibbpfSettings.Type.HISTOGRAM ? buckets.size() : series.size();
            if (!known && size >= maxKeys) {
                dropped[0]++;
                return;
            }
            if (spec.type() == LibbpfSettings.Type.HISTOGRAM) {
                long index = BtfReader.readInt(key, e.bucketOffset(), e.bucketSize(), false);
                double le = (spec.linear() ? (index + 1) * spec.width() : Math.pow(2, Math.min(index + 1, 1023))) * spec.scale();
                buckets.computeIfAbsent(labels, x -> new TreeMap<>()).merge(le, sample, Double::sum);
            } else {
                series.computeIfAbsent(labels, x -> new double[1])[0] += sample;
            }
        });
        if (dropped[0] > 0) keysDropped.increment(dropped[0]);
        List<MetricFamilySamples.Sample> samples = new ArrayList<>();
        String name = spec.name();
        switch (spec.type()) {
            case COUNTER -> {
                String family = name.endsWith("_total") ? name.substring(0, name.length() - 6) : name;
                for (Map.Entry<List<String>, double[]> s : series.entrySet()) {
                    samples.add(new MetricFamilySamples.Sample(family + "_total", e.labels(), s.getKey(), s.getValue()[0]));
                }
                return new MetricFamilySamples(family, Type.COUNTER, spec.help(), samples);
            }
            case GAUGE -> {
                for (Map.Entry<List<String>, double[]> s : series.entrySet()) {
                    samples.add(new MetricFamilySamples.Sample(name, e.labels(), s.getKey(), s.getValue()[0]));
                }
                return new MetricFamilySamples(name, Type.GAUGE, spec.help(), samples);
            }
            default -> {
                List<String> withLe = new ArrayList<>(e.labels());
                withLe.add("le");
                for (Map.Entry<List<String>, TreeMap<Double, Double>> h : buckets.entrySet()) {
                    double cumulative = 0;
                    for (Map.Entry<Double, Double> b : h.getValue().entrySet()) {
                        cumulative += b.getValue();
                        List<String> v = new ArrayList<>(h.getKey());
                        v.add(Collector.doubleToGoString(b.getKey()));
                        samples.add(new MetricFamilySamples.Sample(name + "_bucket", withLe, v, cumulative));
                    }
                    List<String> inf = new ArrayList<>(h.getKey());
                    inf.add("+Inf");
                    samples.add(new MetricFamilySamples.Sample(name + "_bucket", withLe, inf, cumulative));
                    samples.add(new MetricFamilySamples.Sample(name + "_count", e.labels(), h.getKey(), cumulative));
                }
                return new MetricFamilySamples(name, Type.HISTOGRAM, spec.help(), samples);
            }
        }
    }
}
