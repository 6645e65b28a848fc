package io.bpfwatch.monitor.libbpf;

import io.bpfwatch.event.FieldsEvent;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.monitor.BpfLogic;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.KernelCounter;
import io.bpfwatch.monitor.MonitorContext;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The live libbpf monitor's own work: its constants before load, its rings' decoders, its maps for scrapes. */
final class LibbpfLogic implements BpfLogic<FieldsEvent> {
    private final String name;
    private final LibbpfSettings settings;
    private final LibbpfMetrics metrics;
    private final MonitorContext context;

    LibbpfLogic(String name, LibbpfSettings settings, LibbpfMetrics metrics, MonitorContext context) {
        this.name = name;
        this.settings = settings;
        this.metrics = metrics;
        this.context = context;
    }

    /** Each configured ring with a decoder of its struct, made from the object's BTF as it is now. */
    @Override
    public Map<String, Decoder<FieldsEvent>> rings(BpfObject object) {
        Btf btf = object.btf();
        Map<String, Decoder<FieldsEvent>> out = new LinkedHashMap<>();
        for (LibbpfSettings.Events e : settings.events()) out.put(e.ring(), new StructDecoder(btf, name, e));
        return out;
    }

    @Override
    public void configure(BpfObject object) {
        for (Map.Entry<String, Long> c : settings.constants().entrySet()) object.setConstant(c.getKey(), c.getValue());
    }

    @Override
    public Map<String, KernelCounter> kernelCounters() {
        return settings.lostMap() == null ? Map.of() : Map.of(settings.lostMap(), context.health().kernelLoss());
    }

    @Override
    public void loaded(BpfObject object) throws BpfException {
        Btf btf = object.btf();
        List<LibbpfMetrics.Exported> maps = new ArrayList<>();
        for (LibbpfSettings.Metric m : settings.metrics()) maps.add(LibbpfMetrics.exported(btf, object.map(m.map()), m));
        metrics.attach(maps, settings.maxKeys());
    }

    @Override
    public void accept(FieldsEvent e) {
        context.output().emit(e);
    }

    @Override
    public void closing(BpfObject object) {
        metrics.detach();
    }
}
