package io.bpfwatch.libbpf;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/** The few libc calls bpfwatch needs, direct-mapped (no per-call reflection). */
public final class LibC {
    public static final int PROT_READ = 1, PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLLIN = 1;
    public static final int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    public static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int O_RDONLY = 0, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public static final int F_GETFL = 3, F_SETFL = 4, F_SETPIPE_SZ = 1031;

    static {
        Native.register(LibC.class, NativeLibrary.getInstance("c"));
    }

    private LibC() {}

    public static native Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    public static native int munmap(Pointer addr, long length);

    public static native int epoll_create1(int flags);

    public static native int epoll_ctl(int epfd, int op, int fd, Pointer event);

    public static native int epoll_wait(int epfd, Pointer events, int maxevents, int timeout);

    public static native int eventfd(int initval, int flags);

    /** glibc's struct sigaction (x86-64 and arm64): the handler is its first member; 152 bytes, room to spare. */
    public static final int SIGACTION_SIZE = 256;
    public static final long SIG_DFL = 0, SIG_IGN = 1;

    public static native int sigaction(int signum, Pointer act, Pointer oldact);

    public static native Pointer signal(int signum, Pointer handler);

    public static native long read(int fd, byte[] buf, long count);

    public static native long write(int fd, byte[] buf, long count);

    public static native int close(int fd);

    public static native int open(String path, int flags);

    public static native int mkfifo(String path, int mode);

    public static native int fcntl(int fd, int cmd, int arg);

    public static native int getpagesize();

    public static native int vsnprintf(byte[] buf, long size, Pointer format, Pointer args);

    public static native int mount(String source, String target, String fstype, long flags, Pointer data);

    public static native int socket(int domain, int type, int protocol);

    public static native long sendto(int fd, byte[] buf, long len, int flags, byte[] addr, int addrlen);

    public static native int geteuid();

    public static native int getpid();

    /** The calling thread's id (glibc 2.30+). */
    public static native int gettid();

    public static final int PRIO_PROCESS = 0;

    /** With PRIO_PROCESS and a thread id, that thread's nice value alone (Linux). */
    public static native int setpriority(int which, int who, int prio);

    public static native int getpriority(int which, int who);

    public static boolean mapFailed(Pointer p) {
        return p == null || Pointer.nativeValue(p) == -1L;
    }

    public static int errno() {
        return Native.getLastError();
    }
}
