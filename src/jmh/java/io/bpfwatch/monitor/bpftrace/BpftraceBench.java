package io.bpfwatch.monitor.bpftrace;

import io.bpfwatch.event.FieldsEvent;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.monitor.Decoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What a kind: bpftrace monitor's reader and writer do per line bpftrace printed (as bpftrace
 * 0.17 prints them with -f json): the line to a message, its text to fields and an event, the
 * event to its JSON line. Three kinds of printf: key=value pairs (bench/bpftrace/zfs.bt's line,
 * what make bench-custom runs), key=value with a quoted value (monitors/examples/zfs-snapshots.bt),
 * and a JSON object.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BpftraceBench {
    @Param({"pairs", "quoted", "json"})
    public String printf;

    private byte[] line;
    private JsonLineEncoder encoder;
    private FieldsEvent made;

    @Setup
    public void setup() throws Decoder.Refused, IOException {
        String json = switch (printf) {
            case "pairs" -> "{\"type\": \"printf\", \"data\": \"67706112452950 pid=4400 uid=0 comm=bpftrace cmd=0x5a23 name=tank@snap\\n\"}";
            case "quoted" -> "{\"type\": \"printf\", \"data\": \"action=snapshot pid=4400 uid=0 comm=zfs name=\\\"tank/home@daily-2026-12-07\\\" ret=0 us=812\\n\"}";
            case "json" -> "{\"type\": \"printf\", \"data\": \"{\\\"pid\\\": 4400, \\\"comm\\\": \\\"bpftrace\\\", \\\"ms\\\": 1.5}\\n\"}";
            default -> throw new IllegalArgumentException(printf);
        };
        line = json.getBytes(StandardCharsets.UTF_8);
        encoder = new JsonLineEncoder();
        made = (FieldsEvent) event();
        if (made.fields().size() < 3) throw new IllegalStateException("the line did not parse into fields: " + json);
    }

    /** The reader's part: the line to an event. */
    @Benchmark
    public Object event() throws Decoder.Refused {
        BpftraceOutput.Printf p = (BpftraceOutput.Printf) BpftraceOutput.parse(line, line.length);
        return BpftraceProcess.event("custom", "printf", p, 1_700_000_000_000_000_000L);
    }

    /** The writer's part: an event to its JSON line. */
    @Benchmark
    public int line() {
        encoder.reset();
        return encoder.append(made);
    }

    /** The reader's and the writer's: the line to an event, and the event to its JSON line. */
    @Benchmark
    public int eventAndLine() throws Decoder.Refused, IOException {
        BpftraceOutput.Printf p = (BpftraceOutput.Printf) BpftraceOutput.parse(line, line.length);
        encoder.reset();
        return encoder.append(BpftraceProcess.event("custom", "printf", p, 1_700_000_000_000_000_000L));
    }
}
