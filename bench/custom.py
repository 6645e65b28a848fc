#!/usr/bin/env python3
"""Custom monitors against the same program run bare (make bench-custom).

The zfs-ioctl workload (bench/workload.c: ioctl(ZFS_IOC_SNAPSHOT) on a stand-in file, one event
each) traced four ways, in the same run, medians of BENCH_REPS (3) repetitions:
  bpftrace alone        bench/bpftrace/zfs.bt, printf to a file (bpftrace -o), as admins run it
  bpfwatch, bpftrace    the same script as a kind: bpftrace monitor (CPU of the JVM and its bpftrace),
                        with the default perf-buffer (2 MiB per CPU) and with 8 MiB
  bpfwatch, libbpf      bench/custom/ioctl.bpf.c (the same fields) as a kind: libbpf monitor
  bpfwatch, built-in    the zfs monitor (decodes the real nvlists, more than the others do)
Each daemon is warmed up first with full runs until the JIT is done with them: at least
BENCH_WARMUP_MIN (2) runs, then until a run's compiles are under 3 % of the JVM's CPU in it, at
most BENCH_WARMUP_MAX (6); then it settles (run.settle). The code a batch runs (the writer's
loop, its file writes) is called a few thousand times per run and reaches C2 only in the third
or fourth: with one warm-up run, the bpftrace kind's measured run still had its reader and
writer in C1 code and ~200 ns per line of compiling. The JIT's share of the measured run is
reported. Prints a table and writes bench/results/custom.md.
"""
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

REPS = int(os.environ.get("BENCH_REPS", "3"))
OPS = int(os.environ.get("BENCH_OPS", "500000"))
OBJECT = os.path.join(run.ROOT, "target", "bench", "ioctl.bpf.o")
WARMUP_MIN = int(os.environ.get("BENCH_WARMUP_MIN", "2"))
WARMUP_MAX = int(os.environ.get("BENCH_WARMUP_MAX", "6"))
# a warm-up run whose compiles took less than this share of the JVM's CPU ends the warm-up
JIT_QUIET = 0.03


def tree_cpu(pid):
    """CPU seconds of a process and its children (the JVM and the bpftrace it runs): its
    cgroup's, or its threads' and its children's threads' (run.cpu_seconds)."""
    if pid in run.CGROUPS:
        return run.cpu_seconds(pid)
    total = run.thread_cpu(pid)
    # each thread lists the children it started (the JVM starts bpftrace from a monitor's thread)
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return total
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    total += tree_cpu(int(child))
        except FileNotFoundError:
            pass
    return total


def daemon_with(work, monitors):
    d = run.Daemon(work)
    with open(d.config) as f:
        text = f.read()
    head = text[:text.index("monitors:")]
    with open(d.config, "w") as f:
        f.write(head + "monitors:\n" + monitors)
    return d


def measure_daemon(d, monitor, ops):
    run.fresh_page_cache()
    ev0, _ = d.metrics()
    cpu0, jvm0, jit0 = tree_cpu(d.pid), run.thread_cpu(d.pid), run.jit_seconds(d.pid)
    run.workload("zfs-ioctl", ops, 1, 0, d.device)
    # until every event is delivered or counted lost; a user's object may lose events in the
    # kernel without counting them (no lost-map), so also until the count has not moved for
    # 2 s. CPU is read when the last event arrived: this loop's own scrapes of /metrics while
    # it waits for events that will not come are not the monitor's cost.
    got, last_got, last_move = 0, -1, time.monotonic()
    cpu, jvm = tree_cpu(d.pid) - cpu0, run.thread_cpu(d.pid) - jvm0
    jit = 0.0
    while time.monotonic() - last_move < 2:
        ev, lost = d.metrics()
        got = ev.get(monitor, 0) - ev0.get(monitor, 0)
        dropped = sum(v for k, v in lost.items() if k[0] == monitor)
        if got != last_got:
            last_got, last_move = got, time.monotonic()
            cpu, jvm = tree_cpu(d.pid) - cpu0, run.thread_cpu(d.pid) - jvm0
            jit = run.jit_seconds(d.pid) - jit0
        if got + dropped >= ops:
            break
        time.sleep(0.05)
    return cpu / (got / 1e6), got, jvm / (got / 1e6), jit / (got / 1e6)


def warm(d, monitor, ops):
    """Runs the workload until the JIT is done with this daemon's code for it (see above), then
    lets it settle; returns how many runs that took."""
    rounds = 0
    while True:
        _, _, jvm, jit = measure_daemon(d, monitor, ops)
        rounds += 1
        if rounds >= WARMUP_MAX or (rounds >= WARMUP_MIN and jit < JIT_QUIET * jvm):
            break
    run.settle(d)
    return rounds


def main():
    rows = {"bpftrace alone": [], "bpfwatch, kind: bpftrace": [], "bpfwatch, kind: bpftrace, perf-buffer: 8MiB": [],
            "bpfwatch, kind: libbpf": [], "bpfwatch, built-in zfs": []}
    delivered = {k: [] for k in rows}
    jvm_only = {k: [] for k in rows}
    jit_only = {k: [] for k in rows}
    warmups = {k: [] for k in rows}
    for rep in range(REPS):
        run.log(f"repetition {rep + 1}/{REPS}")
        work = tempfile.mkdtemp(prefix="bench-custom-")
        open(os.path.join(work, "dev"), "w").close()
        # bpftrace alone
        b = run.Bpftrace(work, "zfs.bt")
        try:
            res, m = b.measure(lambda: run.workload("zfs-ioctl", OPS, 1, 0, os.path.join(work, "dev")), OPS)
        finally:
            b.stop()
        rows["bpftrace alone"].append(m["cpu"] / (m["delivered"] / 1e6))
        delivered["bpftrace alone"].append(m["delivered"])
        configs = {
            "bpfwatch, kind: bpftrace": ("zfsbt", f"  zfsbt:\n    kind: bpftrace\n    script: {os.path.join(HERE, 'bpftrace', 'zfs.bt')}\n"),
            "bpfwatch, kind: bpftrace, perf-buffer: 8MiB": ("zfsbt", f"  zfsbt:\n    kind: bpftrace\n    perf-buffer: 8MiB\n"
                                                                      f"    script: {os.path.join(HERE, 'bpftrace', 'zfs.bt')}\n"),
            "bpfwatch, kind: libbpf": ("zfsobj", f"  zfsobj:\n    kind: libbpf\n    object: {OBJECT}\n"
                                                  "    events:\n      - ring: ioctls\n        struct: ioctl_event\n        fields: { cmd: hex }\n"),
            "bpfwatch, built-in zfs": ("zfs", None),
        }
        for label, (monitor, section) in configs.items():
            d = daemon_with(work, section or "  zfs: { device: DEVICE }\n")
            if section is None:
                with open(d.config) as f:
                    t = f.read()
                with open(d.config, "w") as f:
                    f.write(t.replace("DEVICE", d.device))
            d.start()
            try:
                rounds = warm(d, monitor, OPS)
                cpu, got, jvm, jit = measure_daemon(d, monitor, OPS)
            finally:
                d.stop()
            rows[label].append(cpu)
            delivered[label].append(got)
            jvm_only[label].append(jvm)
            jit_only[label].append(jit)
            warmups[label].append(rounds)
            run.log(f"  {label}: {cpu:.2f} CPU-s per M events (the JVM {jvm:.2f}, its JIT {jit:.3f}), {got:.0f}/{OPS} delivered,"
                    f" after {rounds} warm-up runs")
    base = statistics.median(rows["bpftrace alone"])
    out = [f"Custom monitors against bpftrace alone: zfs-ioctl workload, {OPS} ioctls per run, medians of {REPS}; each daemon"
           f" warmed up until its JIT was quiet ({WARMUP_MIN} to {WARMUP_MAX} runs). Reproduce: `make bench-custom`.", "",
           "| consumer | CPU-s per M events | of which bpfwatch's JVM | of which the JIT | vs bpftrace alone | delivered (min of runs)"
           " | warm-up runs |", "|---|---|---|---|---|---|---|"]
    for label, values in rows.items():
        med = statistics.median(values)
        jvm = f"{statistics.median(jvm_only[label]):.2f}" if jvm_only[label] else "—"
        jit = f"{statistics.median(jit_only[label]):.3f}" if jit_only[label] else "—"
        w = warmups[label]
        warmed = "—" if not w else str(w[0]) if min(w) == max(w) else f"{min(w)}-{max(w)}"
        out.append(f"| {label} | {med:.2f} | {jvm} | {jit} | {med / base:.2f}x | {min(delivered[label]):.0f}/{OPS} | {warmed} |")
    text = "\n".join(out) + "\n"
    print(text)
    os.makedirs(run.OUT, exist_ok=True)
    with open(os.path.join(run.OUT, "custom.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
