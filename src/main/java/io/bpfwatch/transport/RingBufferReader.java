package io.bpfwatch.transport;

import com.sun.jna.Pointer;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.LibC;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) straight from its memory mapping: no libbpf
 * and no JNA call per record. Layout (kernel/bpf/ringbuf.c): the consumer position page at
 * offset 0 (read-write), then the producer position page and the data area, which the kernel
 * offers twice in a row (read-only) so a record that wraps is contiguous. This reader maps the
 * data area once: the kernel populates the whole mapping at mmap time, so the second copy
 * would add the ring's size to the daemon's RSS for the few records that wrap; those are
 * copied into a scratch buffer instead. Each record has an 8-byte header: length, BUSY bit 31
 * (being written), DISCARD bit 30; records are 8-byte aligned (a header never wraps).
 * Positions are read with acquire and the consumer position is written with release, as
 * libbpf's ring_buffer__consume does. One consumer thread per ring.
 */
public final class RingBufferReader implements AutoCloseable {
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final int BUSY = 1 << 31, DISCARD = 1 << 30, HEADER = 8;

    /** Called once per record with the payload at {@code data[offset, offset+length)}. */
    @FunctionalInterface
    public interface RecordHandler {
        void onRecord(ByteBuffer data, int offset, int length);
    }

    private final String label;
    private final int pageSize;
    private final long size;
    private final long mask;
    private Pointer consumerMap;
    private Pointer producerMap;
    private final ByteBuffer consumer;
    private final ByteBuffer producer;
    private final ByteBuffer data;
    /** A record that wraps past the end of the data area, made contiguous. */
    private ByteBuffer scratch = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());
    private long consumerPos;
    private boolean closed;

    /**
     * Maps the ring of {@code mapFd} whose data area is {@code size} bytes (the map's
     * max_entries: a power of two, a multiple of the page size, at most 512 MiB here).
     */
    public RingBufferReader(String label, int mapFd, int size) throws BpfException {
        if (Integer.bitCount(size) != 1) throw new IllegalArgumentException(label + ": ring size " + size + " is not a power of two");
        if (size > (512 << 20)) throw new IllegalArgumentException(label + ": ring size " + size + " is over 512 MiB");
        this.label = label;
        this.pageSize = LibC.getpagesize();
        this.size = size;
        this.mask = size - 1L;
        Pointer c = LibC.mmap(null, pageSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, mapFd, 0);
        if (LibC.mapFailed(c)) throw new BpfException("mapping the consumer page of " + label, LibC.errno());
        Pointer p = LibC.mmap(null, pageSize + size, LibC.PROT_READ, LibC.MAP_SHARED, mapFd, pageSize);
        if (LibC.mapFailed(p)) {
            int errno = LibC.errno();
            LibC.munmap(c, pageSize);
            throw new BpfException("mapping the data pages of " + label, errno);
        }
        consumerMap = c;
        producerMap = p;
        consumer = c.getByteBuffer(0, pageSize).order(ByteOrder.nativeOrder());
        producer = p.getByteBuffer(0, pageSize).order(ByteOrder.nativeOrder());
        data = p.getByteBuffer(pageSize, size).order(ByteOrder.nativeOrder());
        consumerPos = (long) LONGS.getAcquire(consumer, 0);
    }

    /**
     * A ring over memory laid out as the kernel lays it out (benchmarks): the consumer and
     * producer positions at offset 0 of their buffers, {@code data} a power of two in size.
     * Nothing is mapped or unmapped.
     */
    RingBufferReader(String label, ByteBuffer consumer, ByteBuffer producer, ByteBuffer data) {
        this.label = label;
        this.pageSize = 0;
        this.size = data.capacity();
        this.mask = size - 1L;
        this.consumer = consumer.order(ByteOrder.nativeOrder());
        this.producer = producer.order(ByteOrder.nativeOrder());
        this.data = data.order(ByteOrder.nativeOrder());
        consumerPos = (long) LONGS.getAcquire(this.consumer, 0);
    }

    public String label() {
        return label;
    }

    /**
     * Hands up to {@code max} committed records to {@code handler} and frees their space.
     * Returns how many records were handed over (discarded records are skipped, not counted).
     * If the handler throws, the record is still consumed and the exception propagates.
     */
    public int drain(RecordHandler handler, int max) {
        int n = 0;
        long cons = consumerPos;
        long prod = (long) LONGS.getAcquire(producer, 0);
        while (n < max) {
            if (cons >= prod) {
                prod = (long) LONGS.getAcquire(producer, 0);
                if (cons >= prod) break;
            }
            int off = (int) (cons & mask);
            int header = (int) INTS.getAcquire(data, off);
            if ((header & BUSY) != 0) break; // reserved, not yet submitted
            int len = header & ~(BUSY | DISCARD);
            long next = cons + ((len + HEADER + 7) & ~7L);
            try {
                if ((header & DISCARD) == 0) {
                    n++;
                    int start = off + HEADER;
                    if (start + len <= size) {
                        handler.onRecord(data, start, len);
                    } else {
                        handler.onRecord(wrapped(start, len), 0, len);
                    }
                }
            } finally {
                cons = next;
                consumerPos = next;
                LONGS.setRelease(consumer, 0, next);
            }
        }
        return n;
    }

    /** The record at {@code start} (past the header) that runs past the end, copied in one piece. */
    private ByteBuffer wrapped(int start, int len) {
        if (scratch.capacity() < len) scratch = ByteBuffer.allocate(Integer.highestOneBit(len) << 1).order(ByteOrder.nativeOrder());
        int first = (int) Math.max(0, Math.min(len, size - start));
        scratch.put(0, data, start, first); // Java 16+: absolute bulk copy
        scratch.put(first, data, (start + first) & (int) mask, len - first);
        return scratch;
    }

    /**
     * The producer's position: every record reserved so far lies below it. Any thread (locked
     * against {@link #close}, which unmaps the pages); once closed, 0.
     */
    public synchronized long producerPosition() {
        return closed ? 0 : (long) LONGS.getAcquire(producer, 0);
    }

    /** How far records have been handled (the consumer position). Any thread; once closed, Long.MAX_VALUE. */
    public synchronized long consumedPosition() {
        return closed ? Long.MAX_VALUE : (long) LONGS.getAcquire(consumer, 0);
    }

    /** Bytes submitted or reserved but not yet consumed. */
    public long pendingBytes() {
        return (long) LONGS.getAcquire(producer, 0) - consumerPos;
    }

    public long capacity() {
        return size;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (consumerMap != null) {
            LibC.munmap(consumerMap, pageSize);
            LibC.munmap(producerMap, pageSize + size);
            consumerMap = null;
            producerMap = null;
        }
    }
}
