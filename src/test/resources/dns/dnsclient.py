"""DNS clients for the dns monitor's tests, each using a different system-call path.

  dnsclient.py query MODE SERVER PORT NAME TYPE [ID]
      MODE: sendto     unconnected UDP, sendto() + recvfrom()
            connected  connect() + send() + recv()
            write      connect() + write() + read()          (what Go does)
            sendmsg    unconnected UDP, sendmsg() + recvmsg()
            vector     connect() + writev() + readv()
            tcp        DNS over TCP: the length prefix and the query in separate sends,
                       then two more queries (ids ID+1, ID+2) packed into one send
      Prints one line per response: "ID RCODE ANCOUNT".
  dnsclient.py flood SERVER PORT SECONDS OUTFILE
      Sends queries over one connected UDP socket for SECONDS, as fast as the server answers
      them, while reading responses; writes "SENT RECEIVED" to OUTFILE.
  dnsclient.py connect SERVER PORT
      One TCP connect() attempt (refused or not).
  dnsclient.py early SERVER PORT NAME TYPE ID GOFILE
      connect() a UDP socket, print "connected", wait until GOFILE exists, then send() the
      query and recv() its answer (a socket connected before the monitor started).
"""
import os
import random
import select
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33}


def query(qid, name, qtype):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l)
    return header + labels + b"\0" + struct.pack("!HH", TYPES[qtype], 1)


def family(server):
    return socket.AF_INET6 if ":" in server else socket.AF_INET


def show(resp):
    qid, flags, _, an, _, _ = struct.unpack("!HHHHHH", resp[:12])
    print(qid, flags & 0xF, an, flush=True)


def udp(mode, server, port, name, qtype, qid):
    s = socket.socket(family(server), socket.SOCK_DGRAM)
    s.settimeout(3)
    q = query(qid, name, qtype)
    addr = (server, port)
    if mode == "sendto":
        s.sendto(q, addr)
        resp, _ = s.recvfrom(4096)
    elif mode == "sendmsg":
        s.sendmsg([q[:5], q[5:]], [], 0, addr)
        resp, _, _, _ = s.recvmsg(4096)
    else:
        s.connect(addr)
        if mode == "connected":
            s.send(q)
            resp = s.recv(4096)
        elif mode == "write":
            os.write(s.fileno(), q)
            select.select([s], [], [], 3)
            resp = os.read(s.fileno(), 4096)
        elif mode == "vector":
            os.writev(s.fileno(), [q[:12], q[12:]])
            select.select([s], [], [], 3)
            head, rest = bytearray(12), bytearray(4084)
            n = os.readv(s.fileno(), [head, rest])
            resp = bytes(head + rest)[:n]
        else:
            raise SystemExit("unknown mode " + mode)
    show(resp)
    s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def tcp(server, port, name, qtype, qid):
    s = socket.create_connection((server, port), timeout=3)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    q = query(qid, name, qtype)
    s.send(struct.pack("!H", len(q)))
    time.sleep(0.05)
    s.send(q)
    packed = b""
    for extra in (1, 2):
        q2 = query((qid + extra) & 0xFFFF, name, qtype)
        packed += struct.pack("!H", len(q2)) + q2
    s.sendall(packed)
    for _ in range(3):
        (n,) = struct.unpack("!H", recv_exact(s, 2))
        show(recv_exact(s, n))
    s.close()


def flood(server, port, seconds, outfile):
    # like dnsperf: at most WINDOW queries outstanding, so the server sets the pace; a
    # window that gets no answer for a few milliseconds is written off and refilled
    WINDOW = 256
    s = socket.socket(family(server), socket.SOCK_DGRAM)
    s.connect((server, port))
    s.setblocking(False)
    sent = received = outstanding = 0
    names = [query(0, "f%d.lab.test" % i, "A")[2:] for i in range(64)]
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        while outstanding < WINDOW:
            q = struct.pack("!H", sent & 0xFFFF) + names[sent & 63]
            try:
                s.send(q)
            except BlockingIOError:
                break
            sent += 1
            outstanding += 1
        if not select.select([s], [], [], 0.005)[0]:
            outstanding = 0
            continue
        while True:
            try:
                s.recv(4096)
                received += 1
                outstanding = max(0, outstanding - 1)
            except (BlockingIOError, ConnectionRefusedError):
                break
    # responses still in flight are read for a moment, so the count is complete
    s.setblocking(True)
    s.settimeout(0.5)
    try:
        while True:
            s.recv(4096)
            received += 1
    except (socket.timeout, ConnectionRefusedError):
        pass
    with open(outfile, "w") as f:
        f.write("%d %d" % (sent, received))


def main(argv):
    if argv[1] == "query":
        mode, server, port, name, qtype = argv[2], argv[3], int(argv[4]), argv[5], argv[6]
        qid = int(argv[7]) if len(argv) > 7 else random.randrange(65536)
        if mode == "tcp":
            tcp(server, port, name, qtype, qid)
        else:
            udp(mode, server, port, name, qtype, qid)
    elif argv[1] == "flood":
        flood(argv[2], int(argv[3]), float(argv[4]), argv[5])
    elif argv[1] == "early":
        server, port, name, qtype, qid, go = argv[2], int(argv[3]), argv[4], argv[5], int(argv[6]), argv[7]
        s = socket.socket(family(server), socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((server, port))
        print("connected", flush=True)
        until = time.monotonic() + 120
        while not os.path.exists(go):
            if time.monotonic() > until:
                raise SystemExit("no " + go + " within 120 s")
            time.sleep(0.01)
        s.send(query(qid, name, qtype))
        show(s.recv(4096))
        s.close()
    elif argv[1] == "connect":
        try:
            socket.create_connection((argv[2], int(argv[3])), timeout=2).close()
        except OSError:
            pass
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
