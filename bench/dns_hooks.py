#!/usr/bin/python3
"""The dns monitor's two sets of hooks side by side on this kernel, in one run: the system-call
tracepoints and, where the kernel has fentry, the socket layer (fentry/fexit on inet_sendmsg,
inet_recvmsg and their IPv6 twins).

For each repetition: the workloads untraced, then under a daemon running the dns monitor alone
with `attach: tracepoint`, then with `attach: fentry` (the order alternates between
repetitions). Measured per operation of each workload (its own CPU clock, as bench/run.py):
  - ns added to the traced process against the untraced runs;
  - ns spent inside the monitor's BPF programs and how many program runs each operation caused
    (kernel.bpf_stats_enabled, read from /proc/PID/fdinfo of the daemon's program fds, in a pass
    of its own after the timed ones; every run on the machine counts, the workload's in-process
    DNS responder's included, so run the bench on a quiet machine);
  - events delivered against queries sent (nothing may be lost).
Medians over the repetitions; written to bench/results/dns-hooks-RELEASE.md and printed.

Where fentry is missing (this project's CI machine) only the tracepoints are measured.
`make bench-dns-hooks` runs it here; `make bench-dns-hooks-vm` runs it inside the Debian kernels
of `make test-vm` (under emulation: compare the two hook sets within a kernel, not absolute
times across machines).

Environment: BENCH_REPS (3), BENCH_SCALE (1.0: multiplies the operation counts; the VM uses
less), BENCH_TIMING (1; the VM sets 0: under emulation the workload's CPU clock measures the
emulator, ~10x and noisy, so only the in-BPF figures are kept), BENCH_OUT (bench/results),
BPFWATCH (target/bpfwatch), BENCH_READY_TIMEOUT, BENCH_QUIET (2: seconds a log may stop growing
before a window closes short), BENCH_ODD (where windows with unexpected counts leave their lines).
"""
import http.client
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the shared daemon driver and workload runner)

REPS = int(os.environ.get("BENCH_REPS", "3"))
# 0: leave out the workload's own timing (under emulation its CPU clock measures the emulator)
TIMING = os.environ.get("BENCH_TIMING", "1") == "1"
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
OUT = os.environ.get("BENCH_OUT", os.path.join(bench.BENCH, "results"))
# where a window whose event count is not the expected one leaves its lines (default: the run's
# temporary directory, named in the output)
ODD = os.environ.get("BENCH_ODD")

# name, workload mode, operations, events expected per operation
CASES = [
    ("dns sendto + recvfrom", "dns-sendto", 100_000, 1),
    ("dns connected send + recv", "dns-connected", 100_000, 1),
    ("udp sendto, other port", "udp-other", 200_000, 0),
    ("write to /dev/null", "write-other", 400_000, 0),
]


class DnsDaemon(bench.Daemon):
    """The bench daemon with the dns monitor alone, on the given hooks."""

    def __init__(self, work, attach):
        super().__init__(work)
        self.attach = attach
        with open(self.config, "w") as f:
            f.write(f"http:\n  listen: 127.0.0.1:{bench.PORT}\n"
                    f"logs:\n  dir: {self.logs}\n  rotate: {{ max-size: 4GiB, keep: 1, compress: false }}\n"
                    f"monitors:\n  dns: {{ timeout: 1s, attach: {attach} }}\n")

    def strategy(self):
        """The dns monitor's plan in words, as /monitors shows it."""
        c = http.client.HTTPConnection("127.0.0.1", bench.PORT, timeout=10)
        try:
            c.request("GET", "/monitors")
            body = json.loads(c.getresponse().read().decode())
        finally:
            c.close()
        found = []

        def walk(v):
            if isinstance(v, dict):
                if v.get("name") == "dns" and "strategy" in v:
                    found.append(v["strategy"])
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
        walk(body)
        return found[0] if found else "?"


def in_bpf(daemon):
    """Per operation of each case: ns inside the daemon's programs and program runs."""
    return bench.bpf_stats(daemon, [(name, mode, max(2000, int(ops * SCALE) // 2)) for name, mode, ops, _ in CASES])


def fentry_works():
    """Whether this kernel runs fentry programs: the daemon's own probe says so."""
    out = bench.subprocess.run([bench.LAUNCHER, "probe"], capture_output=True, text=True)
    return re.search(r"fentry yes", out.stdout) is not None, out.stdout


def main():
    if os.geteuid() != 0:
        sys.exit("needs root (BPF)")
    os.makedirs(OUT, exist_ok=True)
    fentry, probe = fentry_works()
    modes = ["tracepoint", "fentry"] if fentry else ["tracepoint"]
    bench.log(probe.strip())
    work = tempfile.mkdtemp(prefix="bpfwatch-dns-hooks-")
    base = {c[0]: [] for c in CASES}
    added = {(m, c[0]): [] for m in modes for c in CASES}
    delivered = {(m, c[0]): [] for m in modes for c in CASES}
    inside = {}
    strategies = {}
    for rep in range(REPS):
        bench.log(f"repetition {rep + 1}/{REPS}")
        for name, mode, ops, _ in CASES:
            bench.fresh_page_cache()
            base[name].append(float(bench.workload(mode, int(ops * SCALE))["ns_per_op"]))
        for attach in (modes if rep % 2 == 0 else list(reversed(modes))):
            d = DnsDaemon(work, attach)
            try:
                ready = d.start()
            except RuntimeError:
                with open(os.path.join(work, "daemon.out"), errors="replace") as f:
                    sys.stderr.write("".join(f.readlines()[-40:]))
                raise
            try:
                strategies[attach] = d.strategy()
                # warm-up: the JIT compiles the decode and pairing paths (its events are all
                # written before the measured runs start, so they count none of them)
                warm = max(1000, int(20_000 * SCALE))
                _, m = d.measure("dns", lambda: bench.workload("dns-sendto", warm), warm, settle=60,
                                 keep=os.path.join(ODD or work, f"odd-{attach}-warm-up-{rep + 1}.log"))
                bench.log(f"  {attach} warm-up: {m['delivered']:.0f}/{warm} events ({m['lines']} lines), lost {m['lost_by_stage']}")
                for name, mode, ops, per in CASES:
                    ops = int(ops * SCALE)
                    res, m = d.measure("dns", lambda: bench.workload(mode, ops), ops * per, settle=30 if per else 0.5,
                                       keep=os.path.join(ODD or work, f"odd-{attach}-{mode}-{rep + 1}.log"))
                    added[(attach, name)].append(float(res["ns_per_op"]))
                    delivered[(attach, name)].append((m["delivered"], ops * per, m["lost_by_stage"]))
                    bench.log(f"  {attach} {name}: {res['ns_per_op']} ns/op, {m['delivered']:.0f}/{ops * per} events ({m['lines']} lines),"
                              f" lost {m['lost_by_stage']} (ready in {ready:.1f} s)")
                for name, v in in_bpf(d).items():
                    inside.setdefault((attach, name), []).append(v)
            finally:
                d.stop()
    release = platform.release()
    med = statistics.median
    lines = [f"# dns hooks on {release}", "",
             f"{REPS} repetitions, medians"
             + ("; ns per operation of the workload (its own CPU clock), added against the untraced runs of the"
                " same repetitions" if TIMING else "")
             + "; in BPF: ns inside the monitor's programs per operation, and program runs per operation"
             " (kernel.bpf_stats_enabled); events: the worst repetition, delivered/sent. Reproduce: "
             + ("`make bench-dns-hooks-vm`." if not TIMING else "`make bench-dns-hooks`."), "",
             "| workload | " + ("untraced ns | " if TIMING else "")
             + " | ".join((f"{m}: added ns | " if TIMING else "") + f"{m}: in BPF ns (runs)" for m in modes)
             + " | events (" + ", ".join(modes) + ") |",
             "|---|" + ("---|" if TIMING else "") + ("---|---|" if TIMING else "---|") * len(modes) + "---|"]
    for name, mode, ops, per in CASES:
        b = med(base[name])
        cells = [name] + ([f"{b:.0f}"] if TIMING else [])
        for m in modes:
            if TIMING:
                cells.append(f"{med(added[(m, name)]) - b:+.0f}")
            v = inside.get((m, name))
            cells.append("" if not v else f"{med(x[0] for x in v):.0f} ({med(x[1] for x in v):.1f})")
        ev = []
        for m in modes:
            worst = min(delivered[(m, name)], key=lambda x: x[0] - x[1])
            ev.append(f"{worst[0]:.0f}/{worst[1]}" + (f" lost {worst[2]}" if worst[2] else ""))
        cells.append(", ".join(ev))
        lines.append("| " + " | ".join(cells) + " |")
    if TIMING:
        lines += ["", "Noise: the untraced runs of each workload spread by "
                  + ", ".join(f"{n} ±{(max(v) - min(v)) / 2:.0f} ns" for n, v in base.items()) + "."]
    lines.append("")
    for m in modes:
        lines.append(f"- `attach: {m}`: {strategies.get(m, '?')}")
    text = "\n".join(lines) + "\n"
    path = os.path.join(OUT, f"dns-hooks-{release}.md")
    with open(path, "w") as f:
        f.write(text)
    print(text)
    bench.log(f"written to {path}")


if __name__ == "__main__":
    main()
