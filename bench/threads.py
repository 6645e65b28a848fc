#!/usr/bin/env python3
"""Where a warm daemon's CPU goes per event, thread by thread, at given rates (make bench-threads).

One daemon (the shipped config, all four monitors, as make bench runs it), warmed up with two
unpaced runs of each workload named. For each workload and rate: one more window at that rate,
then the measured one; for every thread of the JVM, the time it
spent on a CPU in that window (the scheduler's count, /proc/PID/task/TID/schedstat) divided by
the events delivered, and its voluntary (it waited: a wakeup) and involuntary (it was
preempted) context switches. Threads of one kind are summed (the JIT's C1 and C2 threads,
the VM thread that runs collections and safepoints).

  BENCH_THREADS="zfs-ioctl:16000,zfs-ioctl:0,tcp4:0"   workload:rate pairs (rate 0: as fast as
                                                      it goes); the default
  BENCH_SECONDS (5)      a paced window's length
  BENCH_OPS (300000)     an unpaced window's events (tcp4/tcp6: 60000, dns: 150000)
Writes bench/results/threads.md. The two scrapes of /metrics that count a window's events fall
inside it (the HTTP threads' rows: a few ms each).
"""
import importlib.util
import os
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

CASES = [c.split(":") for c in os.environ.get("BENCH_THREADS", "zfs-ioctl:16000,zfs-ioctl:0,tcp4:0").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
MONITOR = {mode: monitor for _, mode, _, monitor, _ in run.SUBMITTED}
UNPACED = {mode: ops for _, mode, ops, _, _ in run.SUBMITTED}


def threads(pid):
    """{thread name: (ns on a CPU, voluntary switches, involuntary switches)}, summed by name."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                st = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        except FileNotFoundError:
            continue  # ended meanwhile
        kind = "JIT compilers" if "CompilerThre" in name else name
        a = out.get(kind, (0, 0, 0))
        out[kind] = (a[0] + ns, a[1] + int(st["voluntary_ctxt_switches"]), a[2] + int(st["nonvoluntary_ctxt_switches"]))
    return out


def main():
    work = tempfile.mkdtemp(prefix="bench-threads-")
    d = run.Daemon(work)
    d.start()
    lines = []
    try:
        # warm: every workload twice as fast as it goes (the JIT compiles what they run), as make
        # bench warms its daemons, then each case's own rate once more before it is measured
        for mode in dict.fromkeys(m for m, _ in CASES):
            for _ in range(2):
                d.measure(MONITOR[mode], lambda: run.workload(mode, UNPACED[mode], 1, 0, d.device), UNPACED[mode])
        for mode, rate in CASES:
            rate = int(rate)
            monitor = MONITOR[mode]
            ops = int(rate * SECONDS) if rate else int(os.environ.get("BENCH_OPS", UNPACED[mode]))
            d.measure(monitor, lambda: run.workload(mode, ops, 1, rate, d.device), ops)
            before = threads(d.pid)
            _, x = d.measure(monitor, lambda: run.workload(mode, ops, 1, rate, d.device), ops)
            after = threads(d.pid)
            got = max(1, x["delivered"])
            rows = []
            for name, (ns, vol, invol) in after.items():
                b = before.get(name, (0, 0, 0))
                rows.append(((ns - b[0]) / got, vol - b[1], invol - b[2], name))
            rows.sort(reverse=True)
            total = sum(r[0] for r in rows)
            label = f"{mode} at {rate}/s" if rate else f"{mode}, unpaced"
            run.log(f"{label}: {total:.0f} ns per event, {x['cpu'] / got * 1e6:.2f} CPU-s per M events")
            lines += [f"### {label}: {got:.0f} events, {total:.0f} ns of the daemon's CPU per event", "",
                      "| thread | ns per event | share | voluntary switches | involuntary |", "|---|---|---|---|---|"]
            for ns, vol, invol, name in rows:
                if ns >= 1 or vol or invol:
                    lines.append(f"| {name} | {ns:.0f} | {100 * ns / max(total, 1):.0f} % | {vol} | {invol} |")
            lines.append("")
    finally:
        d.stop()
    head = (f"Per thread, per event (bench/threads.py), one warm daemon, all four monitors; kernel "
            f"{os.uname().release}, {os.cpu_count()} CPUs. Reproduce: `BENCH_THREADS='{os.environ.get('BENCH_THREADS', 'zfs-ioctl:16000,zfs-ioctl:0,tcp4:0')}' make bench-threads`.\n")
    text = head + "\n" + "\n".join(lines)
    print(text)
    os.makedirs(run.OUT, exist_ok=True)
    with open(os.path.join(run.OUT, "threads.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
