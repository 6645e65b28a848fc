#!/usr/bin/env python3
"""What export.otlp costs the daemon per event (make bench-export).

The shipped config against the same config with `export.otlp` sending every event as an OTLP
log record over HTTP/protobuf to a sink on loopback (this script: it answers 200 to every
POST and counts the bytes; the collector's own cost is not the daemon's). Daemons alternate
within each repetition (off, on, then on, off), each warmed up first with a run of every
workload as long as the measured one. A measured run ends when the log file has every line and,
with export on, the collector has taken every record (bpfwatch_otlp_sent_total), then the
daemon's CPU time is read. Medians of BENCH_REPS (3). Writes bench/results/export.md.
"""
import http.server
import importlib.util
import os
import re
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)

REPS = int(os.environ.get("BENCH_REPS", "3"))
OPS_X = int(os.environ.get("BENCH_EXPORT_OPS_X", "4"))
CASES = [(name, mode, ops if mode == "zfs-ioctl" else ops * OPS_X, monitor) for name, mode, ops, monitor, _ in run.SUBMITTED]
SINK_PORT = int(os.environ.get("BENCH_OTLP_PORT", "14318"))


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = 0

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        Sink.received += n
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def daemon(work, export):
    d = run.Daemon(work)
    if export == "on":
        with open(d.config, "a") as f:
            f.write(f"export:\n  otlp:\n    endpoint: http://127.0.0.1:{SINK_PORT}\n")
    return d


def sent(d):
    if d.http is None:
        d.metrics()  # opens the kept-alive connection
    d.http.request("GET", "/metrics", headers={"Accept": "text/plain; version=0.0.4"})
    text = d.http.getresponse().read().decode()
    m = re.search(r'^bpfwatch_otlp_sent_total\{[^}]*signal="logs"[^}]*\} (\S+)', text, re.M)
    return float(m.group(1)) if m else 0.0


def measure(d, export, mode, ops, monitor):
    run.fresh_page_cache()
    ev0, lost0 = d.metrics()
    s0 = sent(d) if export == "on" else 0
    lines0 = d.lines(monitor)
    cpu0 = run.cpu_seconds(d.pid)
    res = run.workload(mode, ops, arg=d.device)
    run.wait_for_lines(lambda: d.lines(monitor) - lines0, ops, 15)
    ev, lost = d.metrics()
    delivered = ev.get(monitor, 0) - ev0.get(monitor, 0)
    exported = 0
    if export == "on":
        deadline = time.monotonic() + 60
        # every event of every monitor (the host's own connects too) goes out or is counted lost:
        # wait for all of them. Each scrape costs the daemon CPU too, hence the slow polling.
        while time.monotonic() < deadline:
            ev, lost = d.metrics()
            exported = sent(d) - s0
            dropped = sum(v - lost0.get(k, 0) for k, v in lost.items() if k[1] == "export")
            if exported + dropped >= sum(ev.values()) - sum(ev0.values()):
                break
            time.sleep(0.5)
    cpu = run.cpu_seconds(d.pid) - cpu0
    exp_lost = lost.get((monitor, "export"), 0) - lost0.get((monitor, "export"), 0)
    return res, delivered, cpu, exp_lost, exported


def main():
    if os.geteuid() != 0:
        sys.exit("make bench-export needs root (BPF)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", SINK_PORT), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    samples = {(name, v): {"cpu": [], "total": [], "delivered": [], "exported": [], "lost": []} for name, *_ in CASES for v in ("off", "on")}
    for rep in range(REPS):
        run.log(f"repetition {rep + 1}/{REPS}")
        for variant in (("off", "on") if rep % 2 == 0 else ("on", "off")):
            work = tempfile.mkdtemp(prefix="bpfwatch-export-")
            d = daemon(work, variant)
            d.start()
            try:
                for name, mode, ops, monitor in CASES:  # warm-up
                    measure(d, variant, mode, ops, monitor)
                for name, mode, ops, monitor in CASES:
                    res, delivered, cpu, lost, exported = measure(d, variant, mode, ops, monitor)
                    s = samples[(name, variant)]
                    s["cpu"].append(cpu / max(1, delivered) * 1e6)
                    s["total"].append(cpu)
                    s["delivered"].append(delivered)
                    s["exported"].append(exported)
                    s["lost"].append(lost)
                    run.log(f"  export {variant} {name}: {delivered:.0f}/{ops} events, {cpu:.2f} CPU-s, export lost {lost:.0f}")
            finally:
                d.stop()
    server.shutdown()
    rows = []
    for name, *_ in CASES:
        off, on = statistics.median(samples[(name, "off")]["cpu"]), statistics.median(samples[(name, "on")]["cpu"])
        s = samples[(name, "on")]
        # what one exported record costs: the run's CPU less what the same events cost without
        # export, over the records that went out (a burst larger than the queue drops the rest,
        # and a dropped record costs next to nothing)
        per_record = statistics.median((t - off * d / 1e6) / max(1, x) * 1e6
                                       for t, d, x in zip(s["total"], s["delivered"], s["exported"]))
        rows.append((name, f"{off:.2f}", f"{on:.2f}", f"{on / off:.1f}x", f"{per_record:.2f}",
                     int(min(s["exported"])), int(max(s["lost"]))))
    table = ("| workload | daemon CPU-s per M events: export off | on | on/off | added CPU-s per M records exported | records exported (min) | export lost (max) |\n"
             "|---|---|---|---|---|---|---|\n" + "".join("| " + " | ".join(str(c) for c in r) + " |\n" for r in rows))
    text = (f"export.otlp off vs on (every event as an OTLP log record, HTTP/protobuf, to a sink on loopback), "
            f"same run, medians of {REPS}, measured runs {OPS_X}x make bench's operations (zfs: 1x); "
            f"kernel {os.uname().release}, {os.cpu_count()} CPUs. Reproduce: `make bench-export`.\n\n" + table)
    print(text)
    os.makedirs(run.OUT, exist_ok=True)
    with open(os.path.join(run.OUT, "export.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
