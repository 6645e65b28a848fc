#!/usr/bin/env python3
"""What the JVM's options change for the daemon: start, cold and warm CPU, memory (make bench-jvm).

Options compared, one daemon each, alternating within each repetition (all four monitors of the
shipped config, the launcher's flags plus the option's):
  - default      the launcher as shipped (tiered C1 + C2);
  - C1 only      -XX:TieredStopAtLevel=1: cheaper compilation, slower compiled code;
  - AppCDS       a class-data archive of the application (-XX:SharedArchiveFile), made first by a
                 training run of the same workloads (-XX:ArchiveClassesAtExit);
  - JDK 21, JDK 21 + AutoCDS (-XX:+AutoCreateSharedArchive): only when BENCH_JDK21 names a
                 JDK 21 home (Debian 13's openjdk-21-jre-headless).
Measured per daemon:
  - start to READY=1 (sd_notify, as systemd sees it);
  - cold: the first 200k events after start (loopback connects, the tcp monitor's events) in
    CPU-s per million, then the same 200k once the daemon is warm: cold/warm is the ratio the
    target is about;
  - warm CPU-s per million events for each of make bench's workloads, after a warm-up of every
    workload, and for the zfs sweep at 300k and 500k events/s, with any loss;
  - RSS after the sweep and VmHWM (the high-water mark over the whole run, start included).
Medians of BENCH_REPS (2). Writes bench/results/jvm.md. BENCH_JVM_OPTIONS="label=flags;..." compares
the default with those options instead, and BENCH_JVM_APPS="label=quarkus-app directory;..." with
other builds of the daemon (another commit's target/quarkus-app), on the shipped flags (written
to bench/results/jvm-options.md and jvm-builds.md).
"""
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

REPS = int(os.environ.get("BENCH_REPS", "2"))
COLD = int(os.environ.get("BENCH_COLD_EVENTS", "200000"))
SWEEP = [300_000, 500_000]
JDK21 = os.environ.get("BENCH_JDK21")


def pairs(var):
    """BENCH_...="label=value;label=value" as [(label, value)]."""
    return [(o.split("=", 1)[0].strip(), o.split("=", 1)[1].strip()) for o in os.environ.get(var, "").split(";") if "=" in o]


def options(work):
    """[(label, launcher environment, JVM flags)] and the AppCDS archive's path (None when comparing given options)."""
    archive = os.path.join(work, "app.jsa")
    if os.environ.get("BENCH_JVM_OPTIONS") or os.environ.get("BENCH_JVM_APPS"):  # compared with the default alone
        return ([("default", {}, "")] + [(label, {}, flags) for label, flags in pairs("BENCH_JVM_OPTIONS")]
                + [(label, {"BPFWATCH_APP_DIR": app}, "") for label, app in pairs("BENCH_JVM_APPS")]), None
    out = [("default", {}, ""), ("C1 only", {}, "-XX:TieredStopAtLevel=1"),
           ("AppCDS", {}, f"-XX:SharedArchiveFile={archive}")]
    if JDK21:
        out += [("JDK 21", {"JAVA_HOME": JDK21}, ""),
                ("JDK 21 + AutoCDS", {"JAVA_HOME": JDK21},
                 f"-XX:+AutoCreateSharedArchive -XX:SharedArchiveFile={os.path.join(work, 'auto21.jsa')}")]
    return out, archive


def daemon(work, env, flags):
    d = run.Daemon(tempfile.mkdtemp(prefix="jvm-", dir=work), {"BPFWATCH_JAVA_OPTS": flags, **env})
    return d, d.start()


def per_m(x):
    """CPU-s per million events delivered, of one measured run."""
    return x["cpu"] / max(1, x["delivered"]) * 1e6


def every_workload(d, r=None):
    for name, mode, ops, monitor, _ in run.SUBMITTED:
        _, x = d.measure(monitor, lambda: run.workload(mode, ops, arg=d.device), ops)
        if r is not None:
            r.setdefault(name, []).append(per_m(x))
            if x["lost"]:
                r.setdefault("lost", []).append(f"{name}: {x['lost_by_stage']}")


def train(work, env, flags):
    """One run of every workload with `flags` (to make a class-data archive at exit)."""
    d, _ = daemon(work, env, flags)
    try:
        every_workload(d)
    finally:
        d.stop()


def measure(work, env, flags):
    r = {}
    d, ready = daemon(work, env, flags)
    try:
        r["ready"] = [ready]
        connects = lambda: d.measure("tcp", lambda: run.workload("tcp4", COLD, arg=d.device), COLD)[1]
        r["cold"] = [per_m(connects())]
        every_workload(d)  # warm-up
        r["warm"] = [per_m(connects())]
        every_workload(d, r)
        for rate in SWEEP:
            ops = rate * run.RATE_SECONDS
            _, x = d.measure("zfs", lambda: run.workload("zfs-ioctl", ops, 2, rate, d.device), ops)
            r[f"zfs sweep {rate // 1000}k/s"] = [per_m(x)]
            if x["lost"]:
                r.setdefault("lost", []).append(f"{rate // 1000}k/s: {x['lost_by_stage']}")
        r["rss"] = [run.status_kib(d.pid, "VmRSS") / 1024]
        r["hwm"] = [run.status_kib(d.pid, "VmHWM") / 1024]
    finally:
        d.stop()
    return r


def given():
    """How to reproduce a comparison of given options or builds."""
    v = " ".join(f"{k}='{os.environ[k]}'" for k in ("BENCH_JVM_OPTIONS", "BENCH_JVM_APPS") if os.environ.get(k))
    return f"`{v} make bench-jvm`" + (" (each build's target/quarkus-app)" if os.environ.get("BENCH_JVM_APPS") else "") + ".\n\n"


def main():
    work = tempfile.mkdtemp(prefix="bpfwatch-jvm-")
    opts, archive = options(work)
    if archive:
        run.log("training run for the AppCDS archive")
        train(work, {}, f"-XX:ArchiveClassesAtExit={archive}")
    if JDK21 and archive:
        run.log("training run for JDK 21's automatic archive")
        train(work, opts[-1][1], opts[-1][2])
    res = {label: {} for label, _, _ in opts}
    for rep in range(REPS):
        for label, env, flags in opts:
            run.log(f"repetition {rep + 1}/{REPS}: {label}")
            for k, v in measure(work, env, flags).items():
                res[label].setdefault(k, []).extend(v)

    def med(label, key, fmt="{:.2f}"):
        v = res[label].get(key)
        return fmt.format(statistics.median(v)) if v else "—"

    labels = [label for label, _, _ in opts]
    rows = [("start to READY=1, s", "ready"), (f"cold: first {COLD // 1000}k events (tcp), CPU-s per M", "cold"),
            (f"warm: the same {COLD // 1000}k events later, CPU-s per M", "warm")]
    rows += [(f"warm {name}, CPU-s per M", name) for name, *_ in run.SUBMITTED]
    rows += [(f"warm zfs sweep {rate // 1000}k/s, CPU-s per M", f"zfs sweep {rate // 1000}k/s") for rate in SWEEP]
    rows += [("RSS after the sweep, MiB", "rss"), ("peak RSS (VmHWM), MiB", "hwm")]
    kernel = os.uname().release
    text = (f"JVM options compared on the same workloads, daemons alternating, medians of {REPS}; kernel {kernel}, "
            f"{os.cpu_count()} CPUs. Reproduce: " + (given() if not archive else
            "`make bench-jvm` (BENCH_JDK21=<a JDK 21 home> adds the JDK 21 columns).\n\n"))
    text += "| | " + " | ".join(labels) + " |\n|---|" + "---|" * len(labels) + "\n"
    for title, key in rows:
        text += f"| {title} | " + " | ".join(med(label, key) for label in labels) + " |\n"
    ratio = []
    for label in labels:
        c, w = res[label].get("cold"), res[label].get("warm")
        ratio.append(f"{statistics.median(c) / statistics.median(w):.1f}x" if c and w else "—")
    text += "| cold / warm | " + " | ".join(ratio) + " |\n"
    losses = [f"- {label}: " + "; ".join(res[label]["lost"]) for label in labels if res[label].get("lost")]
    text += "\nLost: " + ("none, in every run.\n" if not losses else "\n" + "\n".join(losses) + "\n")
    print(text)
    os.makedirs(run.OUT, exist_ok=True)
    name = "jvm.md" if archive else "jvm-builds.md" if os.environ.get("BENCH_JVM_APPS") else "jvm-options.md"
    with open(os.path.join(run.OUT, name), "w") as f:
        f.write(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
