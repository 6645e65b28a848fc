#!/usr/bin/env python3
"""What event context costs (make bench-context).

The shipped config (all four monitors) with each monitor's default context (parent, exe,
cgroup, unit, container: the kernel fills the header's context part and the daemon resolves
it) against the same config with `context: []` on dns, tcp and zfs, on the make bench
workloads whose events are submitted. Daemons alternate within each repetition (off, on, then
on, off), each warmed up first with a run of every workload as long as the measured one (the
JIT: a daemon still compiling its context code after a shorter warm-up showed twice the
difference), and the untraced
workloads are measured in the same repetition. Medians of BENCH_REPS (3). The BPF programs'
own run time (kernel.bpf_stats_enabled, read with bpftool) gives the kernel's side per event
exactly, where the traced call's added time is a small difference of two noisy ones. Prints a
table and writes bench/results/context.md.
"""
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

REPS = int(os.environ.get("BENCH_REPS", "3"))
# the measured runs are this many times make bench's (the warm-up is not): the daemon's CPU time
# is read in 10 ms ticks, and make bench's 60k connects cost it only ~10 of them
OPS_X = int(os.environ.get("BENCH_CONTEXT_OPS_X", "4"))
CASES = [(name, mode, ops if mode == "zfs-ioctl" else ops * OPS_X, monitor, script) for name, mode, ops, monitor, script in run.SUBMITTED]
UNTRACED = {name: ops for name, mode, ops, monitor, script in run.SUBMITTED}
DEFAULT = "    context: [parent, exe, cgroup, unit, container]\n"


def daemon(work, context):
    d = run.Daemon(work)
    with open(d.config) as f:
        text = f.read()
    if DEFAULT not in text:
        raise RuntimeError("packaging/bpfwatch.yaml no longer lists the dns monitor's default context")
    if context == "off":
        text = text.replace(DEFAULT, "    context: []\n")
        for m in ("tcp", "zfs"):
            text = text.replace(f"  {m}:\n    enabled: true\n", f"  {m}:\n    enabled: true\n    context: []\n")
    with open(d.config, "w") as f:
        f.write(text)
    return d


def program_time(pid):
    """Run time (ns) and runs of all the BPF programs process pid holds (kernel.bpf_stats_enabled)."""
    progs = run.bpf_programs(pid).values()
    return sum(t for t, c in progs), sum(c for t, c in progs)


class BpfStats:
    """kernel.bpf_stats_enabled on while measuring, as it was after: the statistics cost each
    program run a few ns themselves, with context and without alike."""

    PATH = "/proc/sys/kernel/bpf_stats_enabled"

    def __enter__(self):
        with open(self.PATH) as f:
            self.was = f.read().strip()
        with open(self.PATH, "w") as f:
            f.write("1")
        return self

    def __exit__(self, *exc):
        with open(self.PATH, "w") as f:
            f.write(self.was)


def main():
    with BpfStats():
        measure()


def measure():
    if os.geteuid() != 0:
        sys.exit("make bench-context needs root (BPF)")
    samples = {(name, v): {"ns": [], "cpu": [], "lost": [], "bpf": []} for name, *_ in CASES for v in ("off", "on")}
    base = {name: [] for name, *_ in CASES}
    for rep in range(REPS):
        run.log(f"repetition {rep + 1}/{REPS}")
        for name, mode, ops, monitor, script in CASES:
            run.fresh_page_cache()
            base[name].append(float(run.workload(mode, UNTRACED[name], arg="/dev/null")["ns_per_op"]))
        for variant in (("off", "on") if rep % 2 == 0 else ("on", "off")):
            work = tempfile.mkdtemp(prefix="bpfwatch-context-")
            d = daemon(work, variant)
            d.start()
            try:
                for name, mode, ops, monitor, script in CASES:  # warm-up
                    d.measure(monitor, lambda: run.workload(mode, ops, arg=d.device), ops)
                for name, mode, ops, monitor, script in CASES:
                    before = program_time(d.pid)
                    res, m = d.measure(monitor, lambda: run.workload(mode, ops, arg=d.device), ops)
                    after = program_time(d.pid)
                    if after[1] == before[1]:
                        raise RuntimeError("no runs of the daemon's BPF programs were counted")
                    s = samples[(name, variant)]
                    s["bpf"].append((after[0] - before[0]) / max(1, m["delivered"]))
                    s["ns"].append(float(res["ns_per_op"]))
                    s["cpu"].append(m["cpu"] / max(1, m["delivered"]) * 1e6)
                    s["lost"].append(ops - m["delivered"])
                    run.log(f"  context {variant} {name}: {res['ns_per_op']} ns/op, {m['delivered']:.0f}/{ops}, {m['cpu']:.2f} CPU-s")
            finally:
                d.stop()
    rows = []
    for name, *_ in CASES:
        b = statistics.median(base[name])
        noise = (max(base[name]) - min(base[name])) / 2
        off, on = samples[(name, "off")], samples[(name, "on")]
        add_off, add_on = statistics.median(off["ns"]) - b, statistics.median(on["ns"]) - b
        cpu_off, cpu_on = statistics.median(off["cpu"]), statistics.median(on["cpu"])
        bpf_off, bpf_on = statistics.median(off["bpf"]), statistics.median(on["bpf"])
        rows.append((name, round(b), round(noise), round(add_off), round(add_on), round(bpf_off), round(bpf_on),
                     f"{(bpf_on / bpf_off - 1) * 100:+.0f}%", round(cpu_off, 2), round(cpu_on, 2),
                     f"{(cpu_on / cpu_off - 1) * 100:+.0f}%", int(max(off["lost"])), int(max(on["lost"]))))
    head = ("| workload | untraced ns/call (± noise) | added ns/call: context off | on | BPF programs' ns per event: off | on "
            "| on vs off | daemon CPU-s per M events: off | on | on vs off | lost: off | on |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    table = head + "".join("| " + " | ".join(str(c) for c in (f"{r[0]}", f"{r[1]} ± {r[2]}") + r[3:]) + " |\n" for r in rows)
    text = (f"Event context off (`context: []`) vs on (the default), same run, medians of {REPS}, "
            f"measured runs {OPS_X}x make bench's operations (zfs: 1x); "
            f"kernel {os.uname().release}, {os.cpu_count()} CPUs. Reproduce: `make bench-context`.\n\n" + table)
    print(text)
    os.makedirs(run.OUT, exist_ok=True)
    with open(os.path.join(run.OUT, "context.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
