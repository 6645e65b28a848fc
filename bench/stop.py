#!/usr/bin/env python3
"""How long the daemon takes to stop (make bench-stop).

BENCH_STOP_CYCLES (50) times: target/bpfwatch run on the shipped config (all four monitors;
the zfs device a stand-in), wait until /health/ready answers 200, let it run BENCH_STOP_RUN
seconds (0.5) with BENCH_STOP_LOAD=1 adding a connect storm meanwhile, then SIGTERM and time
until the process has exited (as systemd sees it). Prints and writes
bench/results/stop.md: median, p90, p99, max, and the daemon's own "stopped in" figure.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.environ.get("BPFWATCH", os.path.join(ROOT, "target", "bpfwatch"))
CYCLES = int(os.environ.get("BENCH_STOP_CYCLES", "50"))
RUN = float(os.environ.get("BENCH_STOP_RUN", "0.5"))
LOAD = os.environ.get("BENCH_STOP_LOAD") == "1"
PORT = int(os.environ.get("BENCH_PORT", "9578"))
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench", "results"))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def storm(until):
    while time.monotonic() < until:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", 9))
        s.close()


def main():
    if os.geteuid() != 0:
        sys.exit("make bench-stop needs root (BPF)")
    work = tempfile.mkdtemp(prefix="bpfwatch-stop-")
    with open(os.path.join(ROOT, "packaging", "bpfwatch.yaml")) as f:
        cfg = f.read().replace("127.0.0.1:9476", f"127.0.0.1:{PORT}").replace("device: /dev/zfs", f"device: {work}/zfs")
    conf = os.path.join(work, "bpfwatch.yaml")
    with open(conf, "w") as f:
        f.write(cfg)
    os.chmod(conf, 0o640)
    out_path = os.path.join(work, "daemon.out")
    stops, inner = [], []
    for i in range(CYCLES):
        p = subprocess.Popen([LAUNCHER, "run", "--config", conf, "--logs-dir", os.path.join(work, "logs")],
                             stdout=open(out_path, "ab"), stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/ready", timeout=1).status == 200:
                    break
            except Exception:
                pass
            if time.monotonic() - t0 > 60 or p.poll() is not None:
                sys.exit(f"not ready; see {out_path}")
            time.sleep(0.05)
        load = None
        if LOAD:
            load = threading.Thread(target=storm, args=(time.monotonic() + RUN + 2,))
            load.start()
        time.sleep(RUN)
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(30)
        stops.append(time.monotonic() - t)
        if load:
            load.join()
        if rc != 0:
            sys.exit(f"exit status {rc}; see {out_path}")
        print(f"{i + 1}/{CYCLES}: stopped in {stops[-1] * 1000:.0f} ms", flush=True)
    with open(out_path, errors="replace") as f:
        inner = [int(m) for m in re.findall(r"bpfwatch: stopped in (\d+) ms", f.read())]
    ms = [s * 1000 for s in stops]
    text = (f"SIGTERM to exit, {CYCLES} start/stop cycles of the shipped config{' under a connect storm' if LOAD else ''}; "
            f"kernel {os.uname().release}, {os.cpu_count()} CPUs. Reproduce: `make bench-stop`.\n\n"
            "| | median | p90 | p99 | max |\n|---|---|---|---|---|\n"
            f"| SIGTERM to exit (ms) | {pct(ms, 50):.0f} | {pct(ms, 90):.0f} | {pct(ms, 99):.0f} | {max(ms):.0f} |\n"
            f"| of it, detaching and flushing (the daemon's \"stopped in\", ms) | {pct(inner, 50)} | {pct(inner, 90)} | {pct(inner, 99)} | {max(inner)} |\n")
    print(text)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "stop-load.md" if LOAD else "stop.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
