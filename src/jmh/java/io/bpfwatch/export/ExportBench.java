package io.bpfwatch.export;

import io.bpfwatch.event.Event;
import io.bpfwatch.monitor.HotPathBench;
import io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.logs.LowAllocationLogsRequestMarshaler;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What export.otlp's sender does per event, split in its two parts: making the log record of a
 * tcp event with its context (attributes and the JSON body), and the OTLP protobuf encoding of
 * a batch of 512 such records by the SDK's marshalers: the one its exporters use by default
 * ({@code marshalTcp}) and the reusable one the daemon's exporters use
 * ({@code MemoryMode.REUSABLE_DATA}: {@code marshalTcpReusable}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ExportBench {
    private static final int BATCH = 512;
    private Event tcp;
    private EventRecords records;
    private List<LogRecordData> batch;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
    private final LowAllocationLogsRequestMarshaler reusable = new LowAllocationLogsRequestMarshaler();

    @Setup
    public void load() throws Exception {
        HotPathBench h = new HotPathBench();
        h.load();
        tcp = h.tcpContextEvent();
        Resource r = Resource.getDefault();
        records = new EventRecords(OtlpExport.SCOPE, m -> r);
        batch = new ArrayList<>();
        for (int i = 0; i < BATCH; i++) batch.add(records.record(tcp, 1));
    }

    @Benchmark
    public Object recordTcp() throws Exception {
        return records.record(tcp, 1);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int marshalTcp() throws Exception {
        out.reset();
        LogsRequestMarshaler.create(batch).writeBinaryTo(out);
        return out.size();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int marshalTcpReusable() throws Exception {
        out.reset();
        reusable.initialize(batch);
        try {
            reusable.writeBinaryTo(out);
        } finally {
            reusable.reset();
        }
        return out.size();
    }
}
