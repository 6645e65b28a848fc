package io.bpfwatch.transport;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.libbpf.LibC;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pure-Java reader against a real ring buffer: a test program emits one record per
 * getpgid(arg) call of this process, of a size the argument chooses.
 */
@RequiresBpf
class RingBufferReaderTest {
    static final class Sys {
        static {
            Native.register(Sys.class, NativeLibrary.getInstance("c"));
        }

        static native int getpgid(int pid);
    }

    private static final int SEQ = EventHeader.SIZE, LEN = SEQ + 8, PAYLOAD = SEQ + 12;
    /** The program sends sizeof(struct ring_record) - MAX_PAYLOAD + len: the header, 12 bytes of fields, 4 of tail padding. */
    private static final int BASE = EventHeader.SIZE + 16;

    private static int slot(int len) {
        return (BASE + len + 8 + 7) & ~7; // 8-byte ring header, 8-byte alignment
    }

    private record Rec(long seq, int len, boolean payloadOk) {
    }

    static BpfObject open(int ringBytes) throws Exception {
        BpfObject o = BpfObject.open("src/test/bpf/ringtest/ringtest.bpf.o", "ringtest",
                Files.readAllBytes(Path.of(BpfObjectsForTest.path("ringtest"))));
        o.map("events").setMaxEntries(ringBytes);
        o.setConstant("target_pid", LibC.getpid());
        o.setConstant("bw_wakeup_bytes", ringBytes / 4);
        o.load();
        return o;
    }

    private static List<Rec> drainAll(RingBufferReader r) {
        List<Rec> out = new ArrayList<>();
        r.drain((b, off, len) -> {
            long seq = b.getLong(off + SEQ);
            int n = b.getInt(off + LEN);
            boolean ok = len == BASE + n;
            for (int i = 0; i < n && ok; i++) ok = b.get(off + PAYLOAD + i) == (byte) (seq + i);
            out.add(new Rec(seq, n, ok));
        }, Integer.MAX_VALUE);
        return out;
    }

    @Test
    void aRecordWakesTheReaderOnlyWhenItSaidItSleeps() throws Exception {
        int ring = 64 << 10;
        try (BpfObject o = open(ring);
             BpfLink link = o.program("ringtest_getpgid").attachTracepoint("syscalls", "sys_enter_getpgid")) {
            BpfMap events = o.map("events");
            try (RingBufferReader reader = new RingBufferReader("test ring", events.fd(), events.maxEntries());
                 Epoll epoll = new Epoll("test ring", events.fd());
                 ReaderIdleFlag idle = new ReaderIdleFlag("test ring", o.map("bw_reader").fd())) {
                // not armed: a small record is batched, no wakeup (found at the next drain)
                Sys.getpgid((1 << 30) + 8);
                assertThat(epoll.await(200)).as("woken without the flag").isFalse();
                assertThat(drainAll(reader)).hasSize(1);

                // armed: the next record clears the flag and wakes the reader at once
                idle.arm();
                assertThat(idle.armed()).isTrue();
                Sys.getpgid((1 << 30) + 8);
                assertThat(idle.armed()).as("the record cleared the flag").isFalse();
                assertThat(epoll.await(5000)).as("woken by the record").isTrue();
                assertThat(drainAll(reader)).hasSize(1);
                epoll.await(0); // level-triggered: consume the re-check of the drained ring

                // one wakeup per arming: the record after it is batched again
                Sys.getpgid((1 << 30) + 8);
                assertThat(epoll.await(200)).as("woken again without re-arming").isFalse();
                assertThat(drainAll(reader)).hasSize(1);
                assertThat(o.map("bw_lost").sumPerCpuU64(0)).isZero();
            }
        }
    }

    @Test
    void recordsOfEverySizeArriveInOrderAcrossWrapArounds() throws Exception {
        int ring = 16 << 10;
        try (BpfObject o = open(ring);
             BpfLink link = o.program("ringtest_getpgid").attachTracepoint("syscalls", "sys_enter_getpgid")) {
            BpfMap events = o.map("events");
            try (RingBufferReader reader = new RingBufferReader("test ring", events.fd(), events.maxEntries());
                 Epoll epoll = new Epoll("test ring", events.fd())) {
                List<Rec> got = new ArrayList<>();
                int sent = 0;
                // 20 rounds of up to ~16 KiB each: the 16 KiB ring wraps many times
                for (int round = 0; round < 20; round++) {
                    int bytes = 0;
                    while (bytes < ring / 2) {
                        int len = (sent * 37) % 1024;
                        Sys.getpgid((1 << 30) + len); // no such process: the tracepoint fires anyway
                        bytes += slot(len);
                        sent++;
                    }
                    epoll.await(1);
                    got.addAll(drainAll(reader));
                }
                assertThat(got).hasSize(sent);
                for (int i = 0; i < got.size(); i++) {
                    assertThat(got.get(i).seq()).isEqualTo(i);
                    assertThat(got.get(i).len()).isEqualTo((i * 37) % 1024);
                    assertThat(got.get(i).payloadOk()).as("payload of record %d", i).isTrue();
                }
                assertThat(o.map("bw_lost").sumPerCpuU64(0)).isZero();
                assertThat(reader.pendingBytes()).isZero();
            }
        }
    }

    @Test
    void aFullRingCountsExactlyWhatTheKernelDropped() throws Exception {
        int ring = 8 << 10;
        try (BpfObject o = open(ring);
             BpfLink link = o.program("ringtest_getpgid").attachTracepoint("syscalls", "sys_enter_getpgid")) {
            BpfMap events = o.map("events");
            try (RingBufferReader reader = new RingBufferReader("test ring", events.fd(), events.maxEntries())) {
                int calls = 500; // 500 x 104-byte slots = 51 KiB into an 8 KiB ring, nothing consumed
                for (int i = 0; i < calls; i++) Sys.getpgid((1 << 30) + 4);
                long lost = o.map("bw_lost").sumPerCpuU64(0);
                List<Rec> first = drainAll(reader);
                assertThat(lost).isPositive();
                assertThat(first.size() + lost).isEqualTo(calls);
                assertThat(first.size()).isEqualTo(ring / slot(4));

                // delivery resumes once the consumer frees space
                for (int i = 0; i < 10; i++) Sys.getpgid((1 << 30) + 4);
                List<Rec> second = drainAll(reader);
                assertThat(second).hasSize(10);
                assertThat(second.get(0).seq()).isEqualTo(calls);
                assertThat(o.map("bw_lost").sumPerCpuU64(0)).isEqualTo(lost);
            }
        }
    }
}
