package io.bpfwatch.transport;

import com.sun.jna.Pointer;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.LibC;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The reader's side of the "bw_reader" word (monitors/include/bpfwatch.bpf.h), a one-element
 * mmapable BPF array shared with the kernel. Before a long sleep the reader arms it; the first
 * record submitted after that disarms it and forces a wakeup. The reader re-checks the ring after
 * arming, so a record that raced with the arming is not left for the long timeout (one that
 * still slips through, whose producer read the word before it was set, waits at most that
 * timeout: it is never lost).
 */
public final class ReaderIdleFlag implements AutoCloseable {
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    private final int pageSize;
    private Pointer map;
    private final ByteBuffer word;

    public ReaderIdleFlag(String label, int mapFd) throws BpfException {
        pageSize = LibC.getpagesize();
        Pointer p = LibC.mmap(null, pageSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, mapFd, 0);
        if (LibC.mapFailed(p)) throw new BpfException("mapping the reader flag of " + label, LibC.errno());
        map = p;
        word = p.getByteBuffer(0, 4).order(ByteOrder.nativeOrder());
    }

    /** About to sleep long: the next record wakes us. Ordered before the caller's re-check of the ring. */
    public void arm() {
        INTS.setVolatile(word, 0, 1);
        VarHandle.fullFence();
    }

    /** Awake again (woken by a record, which already cleared it, or by the timeout). */
    public void disarm() {
        INTS.setRelease(word, 0, 0);
    }

    /** True while armed (tests). */
    public boolean armed() {
        return (int) INTS.getAcquire(word, 0) != 0;
    }

    @Override
    public void close() {
        if (map != null) {
            LibC.munmap(map, pageSize);
            map = null;
        }
    }
}
