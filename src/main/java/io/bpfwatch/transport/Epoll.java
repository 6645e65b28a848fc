package io.bpfwatch.transport;

import com.sun.jna.Memory;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.Errno;
import io.bpfwatch.libbpf.LibC;

/** An epoll instance watching one fd for readability (a ring buffer map signals data this way). */
public final class Epoll implements AutoCloseable {
    private int epfd;
    // struct epoll_event is 12 bytes (packed) on x86_64 and 16 elsewhere; 16 covers both
    private final Memory events = new Memory(16);

    public Epoll(String label, int fd) throws BpfException {
        int e = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (e < 0) throw new BpfException("creating an epoll instance for " + label, LibC.errno());
        Memory ev = new Memory(16);
        ev.clear();
        ev.setInt(0, LibC.EPOLLIN);
        if (LibC.epoll_ctl(e, LibC.EPOLL_CTL_ADD, fd, ev) < 0) {
            int errno = LibC.errno();
            LibC.close(e);
            throw new BpfException("watching " + label + " with epoll", errno);
        }
        epfd = e;
    }

    /** Waits up to {@code timeoutMillis}; true if the fd became readable. */
    public boolean await(int timeoutMillis) {
        int n = LibC.epoll_wait(epfd, events, 1, timeoutMillis);
        if (n < 0 && LibC.errno() != Errno.EINTR) {
            throw new IllegalStateException("epoll_wait: " + Errno.name(LibC.errno()));
        }
        return n > 0;
    }

    @Override
    public synchronized void close() {
        if (epfd >= 0) {
            LibC.close(epfd);
            epfd = -1;
        }
    }
}
