#!/usr/bin/env python3
"""make stress: overload, descriptor exhaustion, slowloris, soak, valgrind and files changing under a download.

Each case is bounded in time and count, uses loopback only, prints its figure, and the run ends with a
table and "N passed, N failed". Run from the project root after `make server build/server-fortify
build/loadgen` (the Makefile's stress target does that). Python 3 standard library only; wrk and valgrind
are used when installed (the case says so when one is missing).
"""

import os
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SERVER, FORTIFY, PORTABLE, LOADGEN = "./server", "build/server-fortify", "build/server-portable", "build/loadgen"
REQUEST = b"GET /small.bin HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"


class Failure(Exception):
    """A case's assertion failed; the message says what was measured."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Server:
    """BINARY -p 0 -r ROOT ARGS, optionally with a descriptor limit; stdout goes to /dev/null after the port line."""

    def __init__(self, binary, root, args=(), nofile=None, log_to_null=True):
        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen([binary, "-p", "0", "-r", root, *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit)
        line = self.proc.stdout.readline().decode()
        m = re.search(r":(\d+)/$", line.strip())
        if not m:
            self.proc.kill()
            raise Failure(f"{binary} did not start: {line!r} {self.proc.stderr.read()[:300]!r}")
        self.port, self.pid = int(m.group(1)), self.proc.pid
        self.drain = threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True)
        self.drain.start()

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns the exit status (killed after 10 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read().decode("latin-1")
        check("runtime error" not in err and "buffer overflow" not in err, f"server stderr: {err[-300:]!r}")
        return self.proc.returncode


def wait_for(fn, want, timeout, what):
    """Polls fn() until it returns want; fails after timeout seconds with the last value."""
    deadline = time.monotonic() + timeout
    value = fn()
    while value != want:
        if time.monotonic() > deadline:
            raise Failure(f"{what}: {value}, expected {want} after {timeout} s")
        time.sleep(0.05)
        value = fn()
    return value


def wait_stable(fn, settle, timeout):
    """Polls fn() until its value holds for settle seconds."""
    deadline, value, since = time.monotonic() + timeout, fn(), time.monotonic()
    while time.monotonic() - since < settle and time.monotonic() < deadline:
        time.sleep(0.05)
        if fn() != value:
            value, since = fn(), time.monotonic()
    return value


def many_clients(port, count, first_part, rest, timeout, between=None):
    """Opens count connections at once, sends first_part on each, runs between() (if any), sends rest, and
    reads every answer to EOF. Returns the list of status codes (0 for no answer)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1000), hard))
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    pending = {s: first_part for s in socks}
    answers = {s: b"" for s in socks}
    deadline = time.monotonic() + timeout

    def pump(sending):
        """Sends what is pending (waiting for connects) or reads answers until done or the deadline."""
        for s in socks:
            sel.register(s, selectors.EVENT_WRITE if sending else selectors.EVENT_READ)
        left = len(socks)
        while left and time.monotonic() < deadline:
            for key, _ in sel.select(0.5):
                s = key.fileobj
                try:
                    if sending:
                        n = s.send(pending[s])
                        pending[s] = pending[s][n:]
                        done = not pending[s]
                    else:
                        data = s.recv(65536)
                        answers[s] += data
                        done = not data
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    done = True
                if done:
                    sel.unregister(s)
                    left -= 1
                    if not sending:
                        s.close()  # as a real client does on EOF, so the server's lingering close ends
        for s in list(sel.get_map().values()):
            sel.unregister(s.fileobj)

    try:
        pump(True)
        if between:
            between()
        pending.update({s: rest for s in socks})
        if rest:
            pump(True)
        pump(False)
    finally:
        for s in socks:
            s.close()
        sel.close()
    return [int(a[9:12]) if a.startswith(b"HTTP/1.1 ") else 0 for a in answers.values()]


def tally(codes):
    return ", ".join(f"{codes.count(c)}x{c or 'none'}" for c in sorted(set(codes)))


def case_more_than_fd_setsize(root):
    """2,000 clients at once against the _FORTIFY_SOURCE build with ulimit -n 4096: all held at once, all 200."""
    srv = Server(FORTIFY, root, ["-q"], nofile=4096)
    try:
        base, t0, peak, done = srv.fds(), time.monotonic(), [0], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], srv.fds())

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            codes = many_clients(srv.port, 2000, REQUEST, b"", 120)
        finally:
            done.set()
            sampler.join()
        elapsed = time.monotonic() - t0
        check(srv.alive(), f"server died: exit {srv.proc.poll()}")
        check(codes.count(200) == 2000, f"answers: {tally(codes)}")
        check(peak[0] > 1024, f"at most {peak[0]} descriptors open at once: none past FD_SETSIZE")
        end = wait_for(srv.fds, base, 10, "server descriptors after the clients left")
        return (f"2000 clients: {tally(codes)} in {elapsed:.1f} s; up to {peak[0]} descriptors open at once, past "
                f"FD_SETSIZE; no fd_set abort; descriptors {base} -> {end}")
    finally:
        check(srv.stop() == 0, "exit status after SIGTERM")


STATUS_HEAD = b"GET /status?full HTTP/1.1\r\nHost: s\r\n"  # a server started with -S /status; no final CRLF
SPIN_ROUNDS = 2000  # select() rounds in the 2 s window: a waiting loop makes a handful, a spinning one 100,000s


def status_rounds(sock):
    """Finishes the status request sock holds open (STATUS_HEAD) and returns the select() rounds it reports."""
    sock.settimeout(30)
    sock.sendall(b"Connection: close\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    m = re.search(rb"^select\(\) rounds: (\d+)$", data, re.M)
    check(data.startswith(b"HTTP/1.1 200 ") and m, f"status answer: {data[:300]!r}")
    return int(m.group(1))


def case_descriptor_exhaustion(root):
    """ulimit -n 64 and 300 clients: all served; no spinning while the server cannot take more (its select()
    rounds in 2 s, counted by -S, are a handful)."""
    srv = Server(SERVER, root, ["-q", "-S", "/status", "-t", "60"], nofile=64)
    figures = {}
    # Two status requests begun while the server has descriptors, each finished on its own connection when it
    # has none left: a connection holding a partial head is never closed to make room.
    probes = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(2)]
    for p in probes:
        p.sendall(STATUS_HEAD)

    def measure_idle():
        held = wait_stable(srv.fds, 0.5, 30)
        first = status_rounds(probes[0])
        time.sleep(2.0)  # deliberate: the window whose select() rounds are counted
        figures.update(held=held, rounds=status_rounds(probes[1]) - first)

    try:
        codes = many_clients(srv.port, 300, REQUEST[:-2], b"\r\n", 120, between=measure_idle)
        check(srv.alive(), "server died")
        check(codes.count(200) == 300, f"answers: {tally(codes)}")
        check(figures["rounds"] <= SPIN_ROUNDS, f"{figures['rounds']} select() rounds in 2 s while full (spinning; "
                                                f"must stay at most {SPIN_ROUNDS})")
        return (f"300 clients, 64 descriptors: {tally(codes)}; {figures['held']} descriptors held while full; "
                f"{figures['rounds']} select() rounds in 2 s while it could not accept")
    finally:
        for p in probes:
            p.close()
        check(srv.stop() == 0, "exit status after SIGTERM")


def load(port, seconds):
    """Keep-alive load with 50 connections: wrk if installed, else the bounded loop in loadgen. Returns req/s."""
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t1", "-c50", f"-d{seconds}s", f"http://127.0.0.1:{port}/small.bin"],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
        check("Socket errors" not in out and "Non-2xx" not in out, f"wrk reported errors: {out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    out = subprocess.run([LOADGEN, "ka", str(port), "50", str(seconds)], capture_output=True, text=True,
                         timeout=seconds + 30)
    check(out.returncode == 0, f"loadgen: {out.stdout} {out.stderr}")
    return float(re.search(r"rps (\d+)", out.stdout).group(1))


TRICKLE_HEAD = b"GET /small.bin HTTP/1.1\r\nHost: s\r\nX-Slow: " + b"s" * 200


def trickle(port, count, timeout, stop):
    """Opens count connections that send TRICKLE_HEAD one byte per second each until the server answers or
    closes them. Returns, for each, (bytes of the head it sent, the status it was answered with: 0 for a close
    without an answer, None when it was still open when the wait ended: timeout plus a generous 30 s)."""
    socks, status, pos = [], {}, {}
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        socks.append(s)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout + 30
    next_round = time.monotonic()
    try:
        while len(status) < count and time.monotonic() < deadline:
            if time.monotonic() >= next_round:
                for s in socks:
                    if s not in status and pos.get(s, 0) < len(TRICKLE_HEAD):
                        try:
                            s.send(TRICKLE_HEAD[pos.get(s, 0):pos.get(s, 0) + 1])
                            pos[s] = pos.get(s, 0) + 1
                        except OSError:
                            pass
                next_round += 1.0
                stop.set()  # every connection has sent its first byte
            for key, _ in sel.select(0.1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data or b"\r\n\r\n" in data:
                    status[s] = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else 0
                    sel.unregister(s)
    finally:
        for s in socks:
            s.close()
        sel.close()
    return [(pos.get(s, 0), status.get(s)) for s in socks]


def case_slowloris(root):
    """800 trickling connections during a 50-connection keep-alive load; with -t 5. The load is served without
    an error, and every trickler gets 408 before it has sent its whole head (a deadline that each byte extended
    would keep them all). Throughput with and without the attack is a figure here, not a pass mark: speed is
    make bench's."""
    srv = Server(SERVER, root, ["-q", "-t", "5"])
    try:
        ratios, results = [], []
        for _ in range(7):  # short pairs, each ratio from neighbouring runs: the shared machine's speed drifts
            base = load(srv.port, 2)
            ready, result = threading.Event(), {}
            t = threading.Thread(target=lambda: result.update(ends=trickle(srv.port, 800, 5, ready)))
            t.start()
            ready.wait(60)
            attacked = load(srv.port, 2)
            t.join(120)
            check(not t.is_alive() and "ends" in result, "the trickling clients did not finish")
            ratios.append(attacked / base)
            results += result["ends"]
        check(srv.alive(), "server died")
        statuses = [st for _, st in results]
        check(statuses.count(408) == len(results),
              f"tricklers answered: {tally([-1 if st is None else st for st in statuses])} (-1: still open when the "
              f"wait ended), expected 408 for each")
        most = max(sent for sent, _ in results)
        check(most < len(TRICKLE_HEAD), f"a trickler sent all {len(TRICKLE_HEAD)} bytes of its head: trickling "
                                        f"kept it alive")
        ratio = statistics.median(ratios)
        tool = "wrk" if shutil.which("wrk") else "loadgen"
        return (f"{tool} -c50 with 800 trickling connections, served without errors; every trickler got 408 after "
                f"at most {most} of its {len(TRICKLE_HEAD)} bytes (-t 5); throughput {ratio:.0%} of the same load "
                f"without them (a figure, not a pass mark: median of 7 pairs of 2 s runs: "
                f"{', '.join(f'{r:.0%}' for r in ratios)})")
    finally:
        check(srv.stop() == 0, "exit status after SIGTERM")


def case_soak(root):
    """1,000,000 requests of the mix from 50 connections; RSS and descriptors before and after."""
    srv = Server(SERVER, root)
    try:
        base_fds = srv.fds()
        gen = subprocess.Popen([LOADGEN, "soak", str(srv.port), "50", "1000000"], stdout=subprocess.PIPE, text=True)
        warm = None
        t0 = time.monotonic()
        for line in gen.stdout:
            if line.startswith("progress") and warm is None and int(line.split()[1]) >= 100000:
                warm = srv.rss_kib()
            last = line
        gen.wait(60)
        elapsed = time.monotonic() - t0
        end = srv.rss_kib()
        check(gen.returncode == 0, f"loadgen: {last.strip()}")
        check(srv.alive(), "server died")
        fds = wait_for(srv.fds, base_fds, 10, "server descriptors after the soak")
        check(end - warm <= 64, f"RSS grew {end - warm} KiB after warm-up ({warm} -> {end} KiB)")
        summary = dict(zip(last.split()[0::2], last.split()[1::2]))
        return (f"{summary['responses']} responses in {elapsed:.0f} s ({summary['rps']}/s; 4xx {summary['4xx']}, "
                f"aborted downloads {summary['aborted']}, malformed {summary['malformed']}, errors "
                f"{summary['errors']}); RSS {warm} -> {end} KiB after warm-up (+{end - warm}); "
                f"descriptors {base_fds} -> {fds}")
    finally:
        check(srv.stop() == 0, "exit status after SIGTERM")


def case_valgrind(root):
    """The whole integration suite against the server under valgrind --leak-check=full."""
    if not shutil.which("valgrind"):
        raise Failure("valgrind is not installed (apt-get install -y valgrind)")
    logs = tempfile.mkdtemp(prefix="stress-valgrind-")
    try:
        os.chmod(logs, 0o1777)  # one test runs the server as nobody
        wrapper = os.path.join(logs, "server")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec valgrind --leak-check=full --errors-for-leak-kinds=definite "
                    f"--log-file={logs}/vg.%p.log {os.path.abspath(SERVER)} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, "tests/integration.py", wrapper], capture_output=True, text=True,
                             timeout=480).stdout
        elapsed = time.monotonic() - t0
        summary = out.strip().splitlines()[-1]
        errors = lost = runs = unfinished = 0
        for name in os.listdir(logs):
            if not name.endswith(".log"):
                continue
            text = open(os.path.join(logs, name), errors="replace").read()
            runs += 1
            m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
            errors += int(m.group(1)) if m else 0
            unfinished += m is None
            lost += sum(int(x.replace(",", "")) for x in re.findall(r"definitely lost: ([\d,]+) bytes", text))
        failures = [l for l in out.splitlines() if l.startswith("FAIL")]
        check(summary.endswith(" 0 failed"), f"suite under valgrind: {summary}; {failures[:3]}")
        check(errors == 0 and lost == 0, f"valgrind: {errors} errors, {lost} bytes definitely lost")
        return (f"integration suite under valgrind: {summary} in {elapsed:.0f} s; {runs} server runs, "
                f"{errors} errors, {lost} bytes definitely lost"
                + (f" ({unfinished} runs killed before their summary)" if unfinished else ""))
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def case_files_change(root):
    """A download's file truncated, replaced or deleted midway, on the sendfile and the portable build."""
    data = os.urandom(64 << 20)
    figures = []
    for binary in (SERVER, PORTABLE):
        if not os.path.exists(binary):
            raise Failure(f"{binary} is missing (make {binary})")
        srv = Server(binary, root, ["-q"])
        try:
            base = srv.fds()
            for change in ("truncate", "replace", "delete"):
                path = os.path.join(root, "changing.bin")
                with open(path, "wb") as f:
                    f.write(data)
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                s.settimeout(20)
                s.connect(("127.0.0.1", srv.port))
                s.sendall(b"GET /changing.bin HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")
                got = bytearray()
                while b"\r\n\r\n" not in got or len(got) - got.index(b"\r\n\r\n") < (1 << 20):
                    chunk = s.recv(1 << 20)
                    check(chunk, f"{change}: the connection closed after {len(got)} bytes")
                    got += chunk
                head, body = bytes(got[:got.index(b"\r\n\r\n")]), got[got.index(b"\r\n\r\n") + 4:]
                check(b"Content-Length: %d" % len(data) in head, f"{change}: head {head[:200]!r}")
                if change == "truncate":
                    os.truncate(path, 32 << 20)
                elif change == "replace":
                    with open(path + ".new", "wb") as f:
                        f.write(b"new content\n")
                    os.rename(path + ".new", path)
                else:
                    os.unlink(path)
                other = many_clients(srv.port, 1, REQUEST, b"", 5)
                check(other == [200], f"{change}: another client got {other}")
                while True:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    body += chunk
                s.close()
                want = data[:32 << 20] if change == "truncate" else data
                check(body == want, f"{change}: received {len(body)} bytes, expected {len(want)} of the old file")
                if os.path.exists(path):
                    os.unlink(path)
            check(srv.alive(), "server died")
            end = wait_for(srv.fds, base, 10, "server descriptors")
            figures.append(f"{binary}: descriptors {base} -> {end}")
        finally:
            check(srv.stop() == 0, "exit status after SIGTERM")
    return ("truncated to 32 of 64 MiB: the connection ends after exactly 32 MiB; replaced or deleted: the old "
            "64 MiB arrive whole (the open file is kept); another client served meanwhile; " + "; ".join(figures))


CASES = [
    ("more clients than select() can watch", case_more_than_fd_setsize),
    ("descriptor exhaustion", case_descriptor_exhaustion),
    ("slowloris", case_slowloris),
    ("soak", case_soak),
    ("valgrind", case_valgrind),
    ("files changing under a download", case_files_change),
]


def main():
    root = tempfile.mkdtemp(prefix="stress-root-")
    os.chmod(root, 0o755)  # started as root, the server serves as nobody
    with open(os.path.join(root, "small.bin"), "wb") as f:
        f.write(os.urandom(1024))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(2 << 20))
    only = sys.argv[1:]
    results, passed, failed = [], 0, 0
    try:
        for name, fn in CASES:
            if only and not any(o in name for o in only):
                continue
            t0 = time.monotonic()
            try:
                figure, ok = fn(root), True
            except Exception as e:
                figure, ok = f"{type(e).__name__}: {e}", False
            passed, failed = passed + ok, failed + (not ok)
            line = f"{'ok' if ok else 'FAIL'} - {name} ({time.monotonic() - t0:.0f} s): {figure}"
            print(line, flush=True)
            results.append(line)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
