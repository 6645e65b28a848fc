#!/usr/bin/env python3
"""Where a warm daemon spends its CPU, by thread and by frame (make bench-profile).

One daemon (the shipped config, all four monitors, as make bench runs it), warmed up with two
runs of the workload; then async-profiler (from Maven Central, tools.profiler:async-profiler,
loaded into the running JVM through HotSpot's attach socket, as jcmd does) samples every thread
every 100 µs of CPU while the workload runs once more. Writes bench/results/profile-MODE.md: the
daemon's CPU per event, each thread's share of the samples, and for the busiest threads the
frames where their time goes (self time, JIT-compiled Java, the JVM and the kernel alike); the
collapsed stacks, for a flame graph, are left in target/bench/profile-MODE.collapsed.

  BENCH_PROFILE_MODE (tcp4)   a workload of bench/workload.c: tcp4, tcp6, dns-sendto,
                              dns-connected, zfs-ioctl
  BENCH_PROFILE_RATE (0)      events a second (0: as fast as the workload goes)
  BENCH_OPS                   events in the window (make bench's count for the workload)
  BENCH_PROFILE_EVENT (cpu)   what async-profiler samples: cpu, alloc, lock, wall
The profiler costs the daemon CPU itself: read the shares, not the total.
"""
import importlib.util
import os
import platform
import signal
import socket
import subprocess
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

VERSION = "3.0"
MODE = os.environ.get("BENCH_PROFILE_MODE", "tcp4")
RATE = int(os.environ.get("BENCH_PROFILE_RATE", "0"))
EVENT = os.environ.get("BENCH_PROFILE_EVENT", "cpu")
MONITOR = {mode: monitor for _, mode, _, monitor, _ in run.SUBMITTED}
OPS = int(os.environ.get("BENCH_OPS", {mode: ops for _, mode, ops, _, _ in run.SUBMITTED}[MODE]))
OUT_DIR = os.path.join(run.ROOT, "target", "bench")


def library():
    """async-profiler's shared library for this machine, unpacked from its Maven Central jar."""
    arch = {"x86_64": "linux-x64", "aarch64": "linux-arm64"}[platform.machine()]
    lib = os.path.join(OUT_DIR, "async-profiler", arch, "libasyncProfiler.so")
    if os.path.exists(lib):
        return lib
    repo = os.path.expanduser("~/.m2/repository/tools/profiler/async-profiler")
    jar = os.path.join(repo, VERSION, f"async-profiler-{VERSION}.jar")
    if not os.path.exists(jar):
        subprocess.run(["mvn", "-B", "-ntp", "-q", "dependency:get", f"-Dartifact=tools.profiler:async-profiler:{VERSION}"],
                       check=True)
    with zipfile.ZipFile(jar) as z:
        z.extract(f"{arch}/libasyncProfiler.so", os.path.join(OUT_DIR, "async-profiler"))
    return lib


def attach(pid, lib, options):
    """Loads (or commands) the agent in a running HotSpot JVM through its attach socket, as
    jcmd's JVMTI.agent_load does, but with the options passed whole (jcmd splits them at '=')."""
    sock = f"/tmp/.java_pid{pid}"
    if not os.path.exists(sock):
        trigger = f"/proc/{pid}/cwd/.attach_pid{pid}"
        open(trigger, "w").close()
        try:
            os.kill(pid, signal.SIGQUIT)  # the JVM starts its attach listener on seeing the file
            deadline = time.monotonic() + 10
            while not os.path.exists(sock):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the JVM {pid} opened no attach socket")
                time.sleep(0.05)
        finally:
            os.unlink(trigger)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(b"1\0load\0" + lib.encode() + b"\0true\0" + options.encode() + b"\0")
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    code = reply.split(b"\n")[0].strip()
    if code != b"0" or b"return code: 0" not in reply:
        raise RuntimeError(f"async-profiler in {pid}: {reply.decode(errors='replace')}")


def main():
    lib = library()
    work = tempfile.mkdtemp(prefix="bench-profile-")
    collapsed = os.path.join(OUT_DIR, f"profile-{MODE}.collapsed")
    d = run.Daemon(work)
    d.start()
    try:
        monitor = MONITOR[MODE]
        for _ in range(2):
            d.measure(monitor, lambda: run.workload(MODE, OPS, 1, RATE, d.device), OPS)
        run.settle(d)
        attach(d.pid, lib, f"start,event={EVENT},interval=100000,threads")
        _, x = d.measure(monitor, lambda: run.workload(MODE, OPS, 1, RATE, d.device), OPS)
        attach(d.pid, lib, f"stop,file={collapsed},collapsed,threads")
    finally:
        d.stop()
    threads, frames = {}, {}
    with open(collapsed) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            parts = stack.split(";")
            thread = parts[0].strip("[]").split(" tid=")[0]
            threads[thread] = threads.get(thread, 0) + int(n)
            key = (thread, parts[-1].strip())
            frames[key] = frames.get(key, 0) + int(n)
    total = max(1, sum(threads.values()))
    label = f"{MODE} at {RATE}/s" if RATE else f"{MODE}, unpaced"
    lines = [f"async-profiler {VERSION} ({EVENT}, every 100 µs), one warm daemon, all four monitors; {label}, "
             f"{x['delivered']:.0f} events, {x['cpu'] / max(1, x['delivered']) * 1e6:.2f} CPU-s per M events with the "
             f"profiler on; kernel {os.uname().release}, {os.cpu_count()} CPUs. Reproduce: "
             f"`BENCH_PROFILE_MODE={MODE} BENCH_PROFILE_RATE={RATE} make bench-profile`.", "",
             "| thread | share of samples |", "|---|---|"]
    busiest = sorted(threads.items(), key=lambda t: -t[1])
    lines += [f"| {t} | {100 * n / total:.1f} % |" for t, n in busiest if n * 200 >= total]
    for t, n in busiest[:3]:
        lines += ["", f"### {t}: where its time goes (self time, {n} samples)", "", "| frame | share of the thread |", "|---|---|"]
        own = sorted(((k[1], v) for k, v in frames.items() if k[0] == t), key=lambda kv: -kv[1])
        lines += [f"| `{name}` | {100 * v / n:.1f} % |" for name, v in own[:15]]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(run.OUT, exist_ok=True)
    with open(os.path.join(run.OUT, f"profile-{MODE}.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
