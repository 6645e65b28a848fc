#!/usr/bin/env python3
"""A stand-in for bpftrace that prints what real scripts cannot: hostile output.

bpftrace -d ...                        the dry run: one BEGIN probe, no problems
bpftrace -f json -o /proc/self/fd/1 -e PROGRAM MODE [FILE]
  huge     a 1 MiB printf line, a line that is not JSON, bytes that are not UTF-8, two good lines
  flood    as many printf lines as it can for 3 s, then their number into FILE
  keys     one printed map with 200 000 keys, then a good line
  big      2000 printf lines of 256 KiB each (500 MiB), then their number into FILE
Then it waits to be stopped, as bpftrace does.
"""
import json
import signal
import sys
import time

args = sys.argv[1:]
if args and args[0] == "-d":
    print("AST after: parser\n-------------------\nProgram\n BEGIN\n  call: printf")
    sys.exit(0)

rest = args[args.index("-e") + 2:]
mode = rest[0]
out = sys.stdout.buffer
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def line(obj):
    out.write(json.dumps(obj).encode() + b"\n")


line({"type": "attached_probes", "data": {"probes": 1}})
line({"type": "printf", "data": "__bpfwatch_attached__\n"})  # the readiness probe bpfwatch appends
out.flush()
if mode == "huge":
    line({"type": "printf", "data": "x" * (1 << 20) + "\n"})
    out.write(b"Attaching 1 probe...\n")
    out.write(b'{"type": "printf", "data": "caf\\uffffffc3\\uffffffa9 \\uffffffff n=1\\n"}\n')
    line({"type": "printf", "data": "good n=2\n"})
    out.flush()
elif mode == "flood":
    n = 0
    end = time.monotonic() + 3
    chunk = b"".join(b'{"type": "printf", "data": "flood n=%d\\n"}\n' % i for i in range(1000))
    while time.monotonic() < end:
        out.write(chunk)
        n += 1000
    out.flush()
    with open(rest[1], "w") as f:
        f.write(str(n))
elif mode == "big":
    text = b"x" * (256 << 10)
    for i in range(2000):
        out.write(b'{"type": "printf", "data": "big n=%d ' % i + text + b'\\n"}\n')
    out.flush()
    with open(rest[1], "w") as f:
        f.write("2000")
elif mode == "keys":
    line({"type": "map", "data": {"@many": {str(i): i for i in range(200000)}}})
    line({"type": "printf", "data": "after the map\n"})
    out.flush()
while True:
    time.sleep(1)
