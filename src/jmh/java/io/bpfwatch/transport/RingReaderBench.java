package io.bpfwatch.transport;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * The pure-Java ring reader handing records to a handler: the cost per record of reading the
 * header with acquire, skipping to the next 8-byte slot and releasing the consumer position.
 * The ring is plain memory laid out as the kernel's; 1024 records of 96 bytes (a tcp event's
 * size class) per invocation, the last of them wrapping around the end of the data area.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RingReaderBench {
    static final int RECORDS = 1024, LEN = 96, SLOT = 8 + LEN;

    private ByteBuffer consumer, producer, data;
    private RingBufferReader reader;
    private long start;

    @Setup(Level.Trial)
    public void ring() {
        consumer = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
        producer = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
        data = ByteBuffer.allocateDirect(128 << 10).order(ByteOrder.nativeOrder());
        // records from a position 10 slots short of the end: the reader wraps every invocation
        start = data.capacity() - 10L * SLOT;
        for (int i = 0; i < RECORDS; i++) {
            int off = (int) ((start + (long) i * SLOT) & (data.capacity() - 1));
            data.putInt(off, LEN);
            for (int j = 0; j < LEN; j += 8) {
                int at = (off + 8 + j) & (data.capacity() - 1);
                data.putLong(at, i * 31L + j);
            }
        }
        producer.putLong(0, start + (long) RECORDS * SLOT);
    }

    @Setup(Level.Invocation)
    public void rewind() {
        consumer.putLong(0, start);
        reader = new RingBufferReader("bench ring", consumer, producer, data);
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public int drainPerRecord(Blackhole bh) {
        return reader.drain((b, off, len) -> bh.consume(b.getLong(off)), Integer.MAX_VALUE);
    }
}
