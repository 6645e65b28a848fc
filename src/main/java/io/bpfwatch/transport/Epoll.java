package io.bpfwatch.transport;

import com.sun.jna.Memory;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.Errno;
import io.bpfwatch.libbpf.LibC;

/**
 * An epoll instance watching fds for readability (a ring buffer map signals data this way),
 * plus an eventfd through which {@link #wake} ends a wait early from another thread (so a long
 * idle wait does not hold up a stop).
 */
public final class Epoll implements AutoCloseable {
    private static final byte[] ONE = {1, 0, 0, 0, 0, 0, 0, 0};

    private int epfd;
    private int wakeFd;
    // struct epoll_event is 12 bytes (packed) on x86_64 and 16 elsewhere; 16 covers both
    private final Memory events = new Memory(16);
    private final byte[] drain = new byte[8];

    public Epoll(String label, int... fds) throws BpfException {
        int e = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (e < 0) throw new BpfException("creating an epoll instance for " + label, LibC.errno());
        int w = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (w < 0) {
            int errno = LibC.errno();
            LibC.close(e);
            throw new BpfException("creating an eventfd for " + label, errno);
        }
        Memory ev = new Memory(16);
        ev.clear();
        ev.setInt(0, LibC.EPOLLIN);
        boolean ok = LibC.epoll_ctl(e, LibC.EPOLL_CTL_ADD, w, ev) >= 0;
        for (int i = 0; ok && i < fds.length; i++) ok = LibC.epoll_ctl(e, LibC.EPOLL_CTL_ADD, fds[i], ev) >= 0;
        if (!ok) {
            int errno = LibC.errno();
            LibC.close(w);
            LibC.close(e);
            throw new BpfException("watching " + label + " with epoll", errno);
        }
        epfd = e;
        wakeFd = w;
    }

    /** Waits up to {@code timeoutMillis}; true if the fd became readable or {@link #wake} was called. */
    public boolean await(int timeoutMillis) {
        int n = LibC.epoll_wait(epfd, events, 1, timeoutMillis);
        if (n < 0 && LibC.errno() != Errno.EINTR) {
            throw new IllegalStateException("epoll_wait: " + Errno.name(LibC.errno()));
        }
        // whichever fd it was: reset the eventfd (non-blocking, so a no-op unless wake() wrote),
        // or a wakeup would end every later wait at once
        if (n > 0) LibC.read(wakeFd, drain, 8);
        return n > 0;
    }

    /** Ends the current (or the next) {@link #await} at once. Any thread; a no-op once closed. */
    public synchronized void wake() {
        if (wakeFd >= 0) LibC.write(wakeFd, ONE, 8);
    }

    @Override
    public synchronized void close() {
        if (epfd >= 0) {
            LibC.close(epfd);
            epfd = -1;
        }
        if (wakeFd >= 0) {
            LibC.close(wakeFd);
            wakeFd = -1;
        }
    }
}
