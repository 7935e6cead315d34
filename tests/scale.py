#!/usr/bin/env python3
"""Scale tests for the select() static web server: thousands of connections, inherited descriptors,
the portable build's backlog, fair turns under a pipelining client, and idle keep-alive reclaim.

Usage: python3 tests/scale.py [--only NAME[,NAME...]] SERVER_BINARY [PORTABLE_BINARY]
       python3 tests/scale.py fairness PORT PATH   (make bench: a GET's latency while a client pipelines
                                                    HEAD /dir/, against any server on 127.0.0.1:PORT that lists
                                                    /dir/ and serves PATH; a figure: the fair_turns test counts)

Every test but portable_cap_backlog runs against SERVER_BINARY; portable_cap_backlog runs against
PORTABLE_BINARY (skipped when it is not given). tests/run.sh runs the whole suite against ./server and
build/server-portable, and `--only keepalive_3000` against build/server-fortify.

Each test starts its own server on a tree made in a temporary directory, checks at the end that the
server is alive, that its descriptor count (/proc/PID/fd) is back to where it started and that it exits
0 on SIGTERM. Every wait is bounded. Output as in integration.py, whose helpers this reuses: "ok - NAME",
"ok - NAME # skip REASON" or "FAIL - NAME: reason" per test, then "N passed, N failed"; exits 0 iff
nothing failed. Python 3 standard library only.
"""

import collections
import contextlib
import errno
import os
import re
import resource
import selectors
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import integration  # noqa: E402  (its tests run only under __main__)
from integration import Client, Server, Skip, check, eq, get, parse_head, wait_until  # noqa: E402

# A server is started with this soft descriptor limit (the usual default) and the hard limit of this
# process, so that its raise of the soft limit towards the hard one is exercised.
SERVER_SOFT_NOFILE = 1024
# Bounds on waits, generous for a loaded machine: they bound how long a test waits, never what it asserts.
STALL = 20.0       # a fleet of clients that makes no progress for this long has failed
SETTLE = 20.0      # seconds for the server's descriptors to return to the baseline after a test
WAIT = integration.WAIT  # seconds to wait for what happens at once on an idle machine
FLEET_LIMIT = 120  # seconds a fleet may take in all
SMALL = b"a small file, fetched while another client keeps the server busy\n"
FILES = {f"/f{k}.txt": (f"scale test file {k}\n" * (k + 2)).encode() for k in range(4)}
BIG = 32 * 1024 * 1024   # the download held mid-response in idle_reclaim (sparse, so no disk used)
LISTED = 1000            # entries in /dir/, the listing fair_turns' greedy client asks for
BIG_LISTED = 20000       # entries in /big-dir/, the listing shared_listing's slow readers share


# ---------------------------------------------------------------------------------------------
# Descriptor limits and server processes


def raise_own_nofile():
    """Raises this process's soft RLIMIT_NOFILE to its hard limit; returns the soft limit it got."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard
    if hard == resource.RLIM_INFINITY:
        with open("/proc/sys/fs/nr_open") as f:
            want = int(f.read())
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def need_nofile(count, what):
    """Skips the test when the descriptor limit cannot hold count descriptors (client and server each)."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]  # raised to the hard limit by main()
    if limit != resource.RLIM_INFINITY and limit < count:
        raise Skip(f"descriptor hard limit {limit} is below the {count} needed for {what} "
                   f"(client and server each); raise it with ulimit -Hn (as root)")


def low_soft_limit():
    """preexec_fn: the server starts with soft limit SERVER_SOFT_NOFILE and this process's hard limit."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(SERVER_SOFT_NOFILE, hard), hard))


def sockets_open(srv):
    """How many sockets the server holds (its listening socket included)."""
    n = 0
    for fd in os.listdir(f"/proc/{srv.pid}/fd"):
        try:
            n += os.readlink(f"/proc/{srv.pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def settle(srv, base):
    """The server is alive and back to its baseline descriptor count."""
    check(srv.alive(), f"server exited ({srv.proc.poll()}), stderr: {srv.stderr()[-300:]!r}")
    try:
        wait_until(lambda: srv.fd_count() == base, SETTLE, "descriptors back to the baseline")
    except AssertionError:
        raise AssertionError(f"server descriptors {srv.fd_count()} did not return to the baseline {base} "
                             f"within {SETTLE:g} s") from None
    check(srv.alive(), f"server exited ({srv.proc.poll()}), stderr: {srv.stderr()[-300:]!r}")


def stopped_cleanly(srv):
    """After the with block closed it: exit status 0 on SIGTERM."""
    eq(srv.rc, 0, f"exit status after SIGTERM (stderr: {srv.stderr()[-200:]!r})")


# ---------------------------------------------------------------------------------------------
# Many clients from one thread


class Conn:
    __slots__ = ("i", "sock", "k", "path", "out", "buf", "head", "state")

    def __init__(self, i, sock):
        self.i, self.sock, self.k, self.path, self.out, self.buf, self.head = i, sock, 0, None, b"", b"", None
        self.state = "connecting"  # then sending, reading, barrier (lockstep), eof (after the last answer); done, failed


class Fleet:
    """n connections driven from one thread with selectors, each making `rounds` requests one after another
    on the same connection (keep-alive; the last carries Connection: close and is followed by the server's
    close). With lockstep, no connection sends request k+1 before every live connection has had its answer
    to request k, so all of them are open in the server at once. Every answer must be 200 with the body
    bodies[path_of(i, k)]. run() never raises for what the server does: the results say what happened."""

    def __init__(self, port, n, rounds, path_of, bodies, lockstep, srv=None):
        self.port, self.n, self.rounds, self.path_of, self.bodies = port, n, rounds, path_of, bodies
        self.lockstep, self.srv = lockstep, srv
        self.answered = [0] * rounds          # answers received, per request number
        self.statuses = collections.Counter()
        self.failures = []                    # (connection, reason)
        self.connected = self.finished = 0
        self.fds_at_barrier = {}              # answers had (1, 2, ...) -> server descriptors when all had them
        self.max_fds = None
        self.stalled = None
        self.elapsed = 0.0

    def _fail(self, c, reason):
        self.failures.append((c.i, f"request {c.k + 1}: {reason}"))
        self._drop(c, "failed")

    def _drop(self, c, state):
        c.state = state
        self.live -= 1
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()

    def _send_next(self, c):
        c.path = self.path_of(c.i, c.k)
        c.out = get(c.path, extra=b"Connection: close\r\n" if c.k == self.rounds - 1 else b"")
        c.state = "sending"
        self._send(c)

    def _send(self, c):
        try:
            sent = c.sock.send(c.out)
        except BlockingIOError:
            sent = 0
        except OSError as e:
            return self._fail(c, f"send failed: {e.strerror or e}")
        c.out = c.out[sent:]
        if c.out:
            self.sel.modify(c.sock, selectors.EVENT_WRITE, c)
        else:
            c.state = "reading"
            self.sel.modify(c.sock, selectors.EVENT_READ, c)

    def _read(self, c):
        try:
            data = c.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            return self._fail(c, f"connection {'reset' if isinstance(e, ConnectionResetError) else 'error'} "
                                 f"({e.strerror or e}) with {len(c.buf)} bytes of an answer")
        if not data:
            if c.state == "eof":
                self.finished += 1
                return self._drop(c, "done")
            where = "while idle between requests" if c.state == "barrier" else \
                f"with {len(c.buf)} bytes of an answer ({c.buf[:60]!r})"
            return self._fail(c, f"the server closed the connection {where}")
        if c.state in ("barrier", "eof"):
            return self._fail(c, f"unexpected bytes after an answer: {data[:80]!r}")
        c.buf += data
        if c.head is None:
            end = c.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(c.buf) > 16384:
                    self._fail(c, f"no end of head in {len(c.buf)} bytes")
                return
            try:
                c.head = parse_head(c.buf[:end])
                length = c.head.content_length()
            except AssertionError as e:
                return self._fail(c, f"bad answer: {e}")
            if length is None:
                return self._fail(c, "answer without Content-Length")
            c.buf = c.buf[end + 4:]
        length = c.head.content_length()
        if len(c.buf) < length:
            return
        r, body, rest = c.head, c.buf[:length], c.buf[length:]
        c.head, c.buf = None, b""
        self.statuses[r.status] += 1
        if rest:
            return self._fail(c, f"bytes beyond the answer: {rest[:60]!r}")
        if r.status != 200:
            return self._fail(c, f"{r.status} {r.reason}")
        if body != self.bodies[c.path]:
            return self._fail(c, f"wrong body for {c.path}: {body[:60]!r}")
        self.answered[c.k] += 1
        c.k += 1
        if c.k == self.rounds:
            if not r.closes():
                return self._fail(c, "the answer to Connection: close does not say Connection: close")
            c.state = "eof"
        elif self.lockstep:
            c.state = "barrier"
            self.at_barrier.append(c)
        else:
            self._send_next(c)

    def _sample_fds(self):
        if self.srv is None:
            return None
        try:
            fds = self.srv.fd_count()
        except OSError:
            return None
        self.max_fds = fds if self.max_fds is None else max(self.max_fds, fds)
        return fds

    def _describe_pending(self):
        states = collections.Counter()
        for c in self.conns:
            if c.state not in ("done", "failed"):
                what = {"connecting": "connecting", "sending": f"sending request {c.k + 1}",
                        "reading": f"waiting for answer {c.k + 1}", "barrier": f"waiting to send request {c.k + 1}",
                        "eof": "waiting for the server's close"}[c.state]
                states[what] += 1
        return ", ".join(f"{v} {k}" for k, v in states.most_common())

    def run(self, limit):
        """Runs until every connection is done or failed, nothing moves for STALL s, or limit s pass."""
        self.sel = selectors.DefaultSelector()
        self.conns, self.at_barrier, self.live = [], [], 0
        start = last_progress = last_sample = time.monotonic()
        self._sample_fds()
        try:
            for i in range(self.n):
                s = socket.socket()
                s.setblocking(False)
                c = Conn(i, s)
                self.conns.append(c)
                self.live += 1
                err = s.connect_ex(("127.0.0.1", self.port))
                if err not in (0, errno.EINPROGRESS):
                    self._fail(c, f"connect: {os.strerror(err)}")
                else:
                    self.sel.register(s, selectors.EVENT_WRITE, c)
            while self.live > 0:
                now = time.monotonic()
                if self.lockstep and self.at_barrier and len(self.at_barrier) == self.live:
                    k = self.at_barrier[0].k
                    fds = self._sample_fds()
                    if fds is not None:
                        self.fds_at_barrier[k] = fds
                    batch, self.at_barrier = self.at_barrier, []
                    for c in batch:
                        self._send_next(c)
                    last_progress = now
                    continue
                if self.srv is not None and now - last_sample > 0.02:
                    last_sample = now
                    self._sample_fds()
                    if not self.srv.alive():
                        self.stalled = f"the server exited ({self.srv.proc.poll()})"
                        break
                if now - last_progress > STALL:
                    self.stalled = f"no progress for {STALL:g} s: {self._describe_pending()}"
                    break
                if now - start > limit:
                    self.stalled = f"time limit of {limit:g} s reached: {self._describe_pending()}"
                    break
                events = self.sel.select(0.05)
                if events:
                    last_progress = time.monotonic()
                for key, mask in events:
                    c = key.data
                    if c.state == "connecting":
                        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            self._fail(c, f"connect: {os.strerror(err)}")
                        else:
                            self.connected += 1
                            self._send_next(c)
                    elif c.state == "sending":
                        self._send(c)
                    elif c.state not in ("done", "failed"):
                        self._read(c)
        finally:
            self.elapsed = time.monotonic() - start
            self._sample_fds()
            for c in self.conns:
                if c.state not in ("done", "failed"):
                    c.sock.close()
            self.sel.close()
        return self

    def ok(self):
        return not self.failures and self.stalled is None and self.finished == self.n

    def summary(self, base=None):
        parts = [f"answers per request {self.answered} (of {self.n} each)",
                 f"{self.connected} of {self.n} connected",
                 "statuses " + (", ".join(f"{s}x{c}" for s, c in sorted(self.statuses.items())) or "none")]
        if self.failures:
            shown = "; ".join(f"#{i} {r}" for i, r in sorted(self.failures)[:3])
            parts.append(f"{len(self.failures)} connections failed, e.g. {shown}")
        if self.stalled:
            parts.append(f"stopped: {self.stalled}")
        if self.max_fds is not None:
            parts.append(f"server descriptors peaked at {self.max_fds}" + (f" (baseline {base})" if base else ""))
        return "; ".join(parts)


def concurrent_keepalive(srv, n, rounds, limit, label):
    """n connections x rounds keep-alive requests in lockstep; asserts every answer and that all n were
    open in the server at once. Returns a detail for the ok line."""
    base = srv.fd_count()
    fleet = Fleet(srv.port, n, rounds, lambda i, k: f"/f{(i + k) % 4}.txt", FILES, lockstep=True, srv=srv).run(limit)
    check(fleet.ok(), f"{label}: {fleet.summary(base)}")
    first = fleet.fds_at_barrier.get(1)
    check(first is not None and first >= base + n,
          f"{label}: when all {n} connections had their first answer the server held {first} descriptors, "
          f"fewer than its baseline {base} + {n}: they were not all open at once")
    settle(srv, base)
    return (f"{n} connections x {rounds} requests, all 200 with the right body, in {fleet.elapsed:.1f} s; "
            f"{first - base} connections open at once in the server")


# ---------------------------------------------------------------------------------------------
# The tests

TESTS = []  # this suite's own list; integration.TESTS is that suite's


def test(fn):
    TESTS.append((fn.__name__.removeprefix("test_"), fn))
    return fn


@test
def test_keepalive_3000(env):
    """3,000 keep-alive connections open at once, past FD_SETSIZE, each making 4 requests: all 200."""
    need_nofile(7000, "3,000 connections")
    with Server(env.server, env.root, ("-q",), preexec_fn=low_soft_limit) as srv:
        detail = concurrent_keepalive(srv, 3000, 4, FLEET_LIMIT, f"3000 keep-alive connections on {env.server}")
    stopped_cleanly(srv)
    return detail


@test
def test_inherited_fds_2000(env):
    """Started with 1,100 inherited open descriptors, the server still holds and serves 2,000 clients."""
    need_nofile(6000, "1,100 inherited descriptors and 2,000 connections")
    fds = []
    try:
        for _ in range(1100):
            fds.append(os.open("/dev/null", os.O_RDONLY))
        # The soft limit leaves the dynamic loader a few free descriptors above the inherited ones (at
        # 1,024 with descriptors 3 to 1,102 taken, ld.so cannot even open libc), and is still far below
        # the 3,100 the server needs: it must raise the limit itself.
        soft = max(fds) + 16
        srv = Server(env.server, env.root, ("-q",), pass_fds=fds,
                     preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                           (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
    finally:
        for fd in fds:
            os.close(fd)
    with srv:
        base = srv.fd_count()
        check(base >= 1103, f"the server holds only {base} descriptors at start, not the 1,100 it inherited")
        detail = concurrent_keepalive(srv, 2000, 2, FLEET_LIMIT, "2000 connections with 1,100 inherited descriptors")
    stopped_cleanly(srv)
    return f"{detail}; {base} descriptors at start"


@test
def test_portable_cap_backlog(env):
    """Portable build, -c 50, 200 clients at once: the extra ones wait in the backlog, all get 200, none 503."""
    if not env.portable:
        raise Skip("no PORTABLE_BINARY given")
    with Server(env.portable, env.root, ("-c", "50", "-q")) as srv:
        base = srv.fd_count()
        fleet = Fleet(srv.port, 200, 1, lambda i, k: f"/f{i % 4}.txt", FILES, lockstep=False, srv=srv).run(FLEET_LIMIT)
        check(fleet.statuses[503] == 0, f"{fleet.statuses[503]} clients got 503: {fleet.summary(base)}")
        check(fleet.ok(), f"200 clients at -c 50 on {env.portable}: {fleet.summary(base)}")
        # Each connection holds its socket and at most one file (a fresh file is not yet kept in memory).
        check(fleet.max_fds <= base + 2 * 50, f"server descriptors peaked at {fleet.max_fds}, above its baseline "
                                              f"{base} + 2 x 50: more than 50 connections at once")
        settle(srv, base)
    stopped_cleanly(srv)
    return f"200 clients all 200 in {fleet.elapsed:.1f} s; server descriptors peaked at {fleet.max_fds} (baseline {base})"


class Greedy(threading.Thread):
    """A client that streams pipelined HEAD /dir/ requests, 8 KiB per send, as fast as its socket takes
    them, while reading every answer so that its socket never blocks the server."""

    REQUEST = get("/dir/", method=b"HEAD")  # 32 bytes: 256 of them per 8 KiB send
    CHUNK = REQUEST * (8192 // len(REQUEST))

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.stopping = threading.Event()
        self.answered = self.sent = 0
        self.error = None

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        off, pending = 0, b""
        try:
            while not self.stopping.is_set():
                for _, mask in sel.select(0.05):
                    if mask & selectors.EVENT_READ:
                        data = self.sock.recv(1 << 20)
                        if not data:
                            self.error = f"the server closed the greedy connection after {self.answered} answers"
                            return
                        pending += data
                        end = pending.rfind(b"\r\n\r\n")
                        if end >= 0:
                            heads, pending = pending[:end + 4], pending[end + 4:]
                            n = heads.count(b"\r\n\r\n")
                            if heads.count(b"HTTP/1.1 200 ") != n:
                                bad = [h for h in heads.split(b"\r\n\r\n") if h and not h.startswith(b"HTTP/1.1 200 ")]
                                self.error = f"a HEAD /dir/ was answered {bad[0][:60]!r}"
                                return
                            self.answered += n
                    if mask & selectors.EVENT_WRITE:
                        try:
                            sent = self.sock.send(self.CHUNK[off:])
                        except BlockingIOError:
                            sent = 0
                        off = (off + sent) % len(self.CHUNK)
                        self.sent += sent
        except OSError as e:
            self.error = f"greedy connection: {e}"
        finally:
            sel.close()

    def stop(self):
        self.stopping.set()
        self.join(5)
        self.sock.close()


def fairness(port, path, tries=40, give_up=5.0, body=None):
    """While a Greedy client streams pipelined HEAD /dir/, times tries GETs of path on another connection,
    20 ms apart. Returns (latencies in s, greedy answers meanwhile, greedy requests sent); fails on a wrong
    answer (a body other than body, when given), a try unanswered within give_up s, or a greedy error."""
    greedy = Greedy(port)
    greedy.start()
    latencies = []
    try:
        wait_until(lambda: greedy.answered > 0 or greedy.error, 5, "the greedy client's first answer")
        check(greedy.error is None, greedy.error)
        before = greedy.answered
        with Client(port, timeout=give_up) as c:
            for t in range(tries):
                t0 = time.monotonic()
                c.send(get(path))
                try:
                    r = c.read_response(timeout=give_up)
                except AssertionError as e:
                    raise AssertionError(f"GET try {t + 1} of {tries}: no answer within {give_up:g} s while the "
                                         f"greedy client had {greedy.answered} answers ({e})") from None
                latencies.append(time.monotonic() - t0)
                eq(r.status, 200, f"GET try {t + 1}")
                check(body is None or r.body == body, f"GET try {t + 1}: wrong body {r.body[:60]!r}")
                time.sleep(0.02)  # deliberate: the tries sample different moments of the greedy stream
        check(greedy.error is None, greedy.error)
        return latencies, greedy.answered - before, greedy.sent // len(Greedy.REQUEST)
    finally:
        greedy.stop()


TURN_REQUESTS = 16  # server.c: the requests one connection may have answered in its turn
FAIR_ANSWERS = 6 * TURN_REQUESTS  # a few turns' worth; a loop that let the greedy client go on would give thousands


def requests_so_far(r):
    """The request count of a stub_status answer (its third line: accepts handled requests)."""
    m = re.search(r"^ (\d+) (\d+) (\d+) $", r.body.decode("latin-1"), re.M)
    check(r.status == 200 and m is not None, f"not a stub_status answer: {r.status} {r.body[:200]!r}")
    return int(m.group(3))


def stopped(pid):
    """Whether process pid is stopped (state T in /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


@test
def test_fair_turns(env):
    """While one client streams pipelined HEADs of a 1,000-entry listing, another's GET waits behind at most a
    few of its turns (TURN_REQUESTS answers each), never thousands; the greedy client keeps being answered too.
    Counted, not timed: the server is stopped (SIGSTOP) while the greedy client fills its socket and the other
    client's GET arrives; from SIGCONT on, the server's own request count (-S) says how many greedy requests
    it answered before the GET. 5 tries."""
    tries, waits, backlogs = 5, [], []
    with Server(env.server, env.root, ("-q", "-S", "/status", "-t", "60")) as srv:
        base = srv.fd_count()
        victim = Client(srv.port, timeout=WAIT)  # connected first: in a round, its turn comes before the greedy's
        greedy = None
        try:
            victim.send(get("/status"))
            at_start = requests_so_far(victim.read_response())  # this status request included
            greedy = Greedy(srv.port)
            greedy.start()
            wait_until(lambda: greedy.answered > 0 or greedy.error, WAIT, "the greedy client's first answer")
            check(greedy.error is None, greedy.error)
            first = greedy.answered
            for t in range(tries):
                os.kill(srv.pid, signal.SIGSTOP)
                try:
                    wait_until(lambda: stopped(srv.pid), WAIT, "the server stopped")
                    # Every answer the server wrote before it stopped reaches the greedy client, which goes on
                    # sending until the server's socket is full.
                    greedy_answers = integration.wait_stable(lambda: greedy.answered, 0.2, WAIT,
                                                             "the greedy client's count of answers")
                    backlogs.append(greedy.sent // len(Greedy.REQUEST) - greedy_answers)  # sent, not answered
                    victim.send(get("/small.txt") + get("/status"))
                finally:
                    os.kill(srv.pid, signal.SIGCONT)
                r = answer(victim.read_response, f"try {t + 1}: the GET")
                eq((r.status, r.body), (200, SMALL), f"try {t + 1}: the GET's answer")
                count = requests_so_far(answer(victim.read_response, f"try {t + 1}: the status after the GET"))
                # Every request so far: the first status, 2 per try and every greedy one answered before now.
                waits.append(count - at_start - 2 * (t + 1) - greedy_answers)
                check(greedy.error is None, greedy.error)
            # The greedy client goes on being answered: its turns come between the tries and after them.
            wait_until(lambda: greedy.answered - first >= 100 or greedy.error, WAIT, "100 answers to the greedy client")
            check(greedy.error is None, greedy.error)
            during = greedy.answered - first
        finally:
            if greedy is not None:
                greedy.stop()
            victim.close()
        check(max(waits) <= FAIR_ANSWERS, f"a GET waited while the server answered {max(waits)} pipelined HEAD /dir/ "
                                          f"of another client, more than {FAIR_ANSWERS} ({FAIR_ANSWERS // TURN_REQUESTS} "
                                          f"turns): it was not given its turn (tries: {waits})")
        check(min(backlogs) > 10 * FAIR_ANSWERS, f"only {backlogs} of the greedy client's requests were waiting as "
                                                 f"the GETs came: it was not really streaming")
        settle(srv, base)
    stopped_cleanly(srv)
    return (f"a GET waited behind at most {max(waits)} of a greedy client's pipelined requests over {tries} tries "
            f"({waits}), with {min(backlogs)} or more of them waiting; the greedy client got {during} answers "
            f"during the tries and after them")


def rss_kib(pid):
    """The resident memory of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("VmRSS:")))


@test
def test_shared_listing(env):
    """A big listing (20,000 entries, about 3 MB) fetched by 40 slow readers over 4.5 s, past the second
    after which a listing is rebuilt four times: the rebuilt bytes are the same, so every reader shares one
    copy. The server grows by less than 4 copies' worth (a rebuild's own working memory included), not by
    40 copies, nor by the 5 that a copy per rebuild would be."""
    readers, spread = 40, 4.5
    with Server(env.server, env.root, ("-q",)) as srv:
        base = srv.fd_count()
        with contextlib.ExitStack() as stack:
            first = stack.enter_context(Client(srv.port, rcvbuf=4096))
            first.send(get("/big-dir/"))
            head = answer(first.read_head, "the first reader's head")
            eq(head.status, 200, "status of /big-dir/")
            size = head.content_length()
            check(size > 2_000_000, f"the listing is only {size} bytes")
            rss0 = rss_kib(srv.pid)
            for i in range(readers - 1):
                c = stack.enter_context(Client(srv.port, rcvbuf=4096))
                c.send(get("/big-dir/"))
                eq(answer(c.read_head, f"reader {i + 2}'s head").content_length(), size, "listing size")
                time.sleep(spread / readers)  # deliberate: the readers arrive across the listing's 1 s lifetime
            grown = rss_kib(srv.pid) - rss0
            check(grown * 1024 < 4 * size, f"the server grew by {grown} KiB while {readers} slow readers held a "
                                           f"{size // 1024} KiB listing: copies, not one shared listing")
        settle(srv, base)
    stopped_cleanly(srv)
    return f"{readers} slow readers of a {size // 1024} KiB listing; the server grew by {grown} KiB"


def answer(read, what):
    """read() (a Client's read_head or read_response), failing with what was awaited."""
    try:
        return read()
    except AssertionError as e:
        raise AssertionError(f"{what}: {e}") from None


def closed_by_server(c):
    """Whether the server closed this idle connection (an EOF waiting); fails on a reset or unexpected bytes."""
    if not c.readable_within(0):
        return False
    try:
        data = c.sock.recv(4096)
    except ConnectionResetError:
        raise AssertionError("an idle keep-alive connection was reset, not closed (EOF)") from None
    check(data == b"", f"an idle keep-alive connection received {data[:80]!r}")
    return True


@test
def test_idle_reclaim(env):
    """At its cap (-c 8), the server closes the longest-idle keep-alive connection for a new client, but
    never one mid-request (a partial head) or mid-response (a stalled download)."""
    cap, idle_count = 8, 6
    with Server(env.server, env.root, ("-c", str(cap))) as srv:
        base, base_sockets = srv.fd_count(), sockets_open(srv)
        with contextlib.ExitStack() as stack:
            # The partial head comes first: it is the connection quiet for longest.
            partial = stack.enter_context(Client(srv.port))
            partial.send(b"GET /small.txt HTTP/1.1\r\nHost: t\r\n")
            download = stack.enter_context(Client(srv.port, rcvbuf=4096))
            download.send(get("/big.bin"))
            head = answer(download.read_head, "the download's head")
            eq((head.status, head.content_length()), (200, BIG), "download status and length")
            idle = []
            for _ in range(idle_count):
                c = stack.enter_context(Client(srv.port))
                c.send(get("/small.txt"))
                eq(answer(c.read_response, "the request of a connection to be left idle").status, 200,
                   "the request of a connection to be left idle")
                idle.append(c)
                time.sleep(0.03)  # deliberate: a clear order of idleness, the first the longest idle
            wait_until(lambda: sockets_open(srv) == base_sockets + cap, WAIT, f"the server holding {cap} connections")
            time.sleep(0.25)  # deliberate: every idle connection quiet for more than the 100 ms threshold
            check(not any(closed_by_server(c) for c in idle), "an idle connection closed before a new client came")

            t0 = time.monotonic()
            try:
                with Client(srv.port, timeout=WAIT) as new:
                    new.send(get("/small.txt", extra=b"Connection: close\r\n"))
                    r = new.read_response(timeout=WAIT)
            except AssertionError as e:
                closed = sum(closed_by_server(c) for c in idle)
                raise AssertionError(f"a new client at the cap of {cap} ({idle_count} keep-alive connections idle "
                                     f"for over 250 ms) got no answer within {WAIT} s; {closed} of {idle_count} idle "
                                     f"connections were closed ({e})") from None
            took = time.monotonic() - t0
            eq((r.status, r.body), (200, SMALL), "the new client's answer")

            partial.send(b"\r\n")
            try:
                r = partial.read_response(timeout=WAIT)
            except AssertionError as e:
                raise AssertionError(f"the connection holding a partial head, finished after the new client was "
                                     f"served, got no answer: it must never be closed to make room ({e})") from None
            eq((r.status, r.body), (200, SMALL), "the partial head, finished after the new client was served")
            got, chunk = len(download.buf), bytearray(1 << 18)
            download.buf = b""
            download.sock.settimeout(5)
            while got < BIG:
                n = download.sock.recv_into(chunk)
                check(n > 0, f"the download held mid-response was closed after {got} of {BIG} body bytes")
                got += n

            wait_until(lambda: any(closed_by_server(c) for c in idle), WAIT, "an idle connection closed by the server")
            state = [closed_by_server(c) for c in idle]  # an EOF stays readable: asking again is safe
            k = sum(state)
            check(state == [True] * k + [False] * (idle_count - k),
                  f"idle connections closed, longest idle first: {state}")
        settle(srv, base)
    stopped_cleanly(srv)
    return (f"new client answered in {took * 1000:.0f} ms; {k} of {idle_count} idle connections closed, "
            f"longest idle first; the partial head and the download were kept")


@test
def test_reclaim_spares_arrived_request(env):
    """At the cap (-c 2: a stalled download keeps the loop busy, so the parked idle connection is left out of
    most rounds), a request that arrived on the parked keep-alive connection just as a new client connects is
    answered, not lost to the reclaim; the new client is served once the connection is idle again. 5 tries."""
    with Server(env.server, env.root, ("-q", "-c", "2", "-t", "30")) as srv:
        base = srv.fd_count()
        for t in range(5):
            with contextlib.ExitStack() as stack:
                download = stack.enter_context(Client(srv.port, rcvbuf=4096))
                download.send(get("/big.bin"))
                eq(answer(download.read_head, "the download's head").status, 200, "download status")
                idle = stack.enter_context(Client(srv.port))
                idle.send(get("/small.txt"))
                eq(answer(idle.read_response, "the first request").status, 200, "first request")
                time.sleep(0.25)  # deliberate: the connection is quiet past the 100 ms after which it is parked
                idle.send(get("/small.txt"))
                new = stack.enter_context(Client(srv.port))
                new.send(get("/small.txt", extra=b"Connection: close\r\n"))
                try:
                    r = idle.read_response(timeout=WAIT)
                except (AssertionError, OSError) as e:
                    raise AssertionError(f"try {t + 1}: the request sent on the parked connection as a new client "
                                         f"came was lost ({type(e).__name__}: {e})") from None
                eq((r.status, r.body), (200, SMALL), f"try {t + 1}: the parked connection's request")
                r = answer(lambda: new.read_response(timeout=WAIT), f"try {t + 1}: the new client")
                eq((r.status, r.body), (200, SMALL), f"try {t + 1}: the new client's answer")
            wait_until(lambda: srv.fd_count() == base, SETTLE, "descriptors back to the baseline between tries")
        settle(srv, base)
    stopped_cleanly(srv)
    return "5 of 5 requests on a parked connection answered while a new client waited at the cap"


# ---------------------------------------------------------------------------------------------


class Env:
    def __init__(self, server, portable):
        self.server, self.portable = server, portable
        self.ctx = integration.Ctx(server)  # for its tree helpers: put() and cleanup()
        self.root = self.ctx.root

    def build_tree(self):
        for path, data in FILES.items():
            self.ctx.put(path[1:], data)
        self.ctx.put("small.txt", SMALL)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.truncate(BIG)
        os.mkdir(os.path.join(self.root, "dir"))
        for i in range(LISTED):
            open(os.path.join(self.root, "dir", f"entry-{i:04d}-{'x' * 40}.txt"), "wb").close()
        os.mkdir(os.path.join(self.root, "big-dir"))
        for i in range(BIG_LISTED):
            open(os.path.join(self.root, "big-dir", f"{i:05d}-{'y' * 40}"), "wb").close()


def main(argv):
    if len(argv) == 3 and argv[0] == "fairness":  # for make bench: "fairness PORT PATH" against any server
        latencies, during, _ = fairness(int(argv[1]), argv[2])
        latencies.sort()
        print(f"fairness: tries {len(latencies)} worst_ms {latencies[-1] * 1000:.1f} "
              f"median_ms {latencies[len(latencies) // 2] * 1000:.1f} greedy_answers {during}")
        return 0
    only = None
    if len(argv) >= 2 and argv[0] == "--only":
        only, argv = set(argv[1].split(",")), argv[2:]
    names = [name for name, _ in TESTS]
    if not 1 <= len(argv) <= 2 or (only and not only <= set(names)):
        print(f"usage: scale.py [--only NAME[,NAME...]] SERVER_BINARY [PORTABLE_BINARY]\ntests: {', '.join(names)}",
              file=sys.stderr)
        return 2
    raise_own_nofile()
    env = Env(os.path.abspath(argv[0]), os.path.abspath(argv[1]) if len(argv) > 1 else None)
    passed = failed = 0
    try:
        try:
            env.build_tree()
        except Exception as e:
            print(f"FAIL - build_test_tree: {type(e).__name__}: {e}")
            print("0 passed, 1 failed")
            return 1
        for name, fn in TESTS:
            if only and name not in only:
                continue
            try:
                detail = fn(env)
            except Skip as e:
                print(f"ok - {name} # skip {e}", flush=True)
                continue
            except AssertionError as e:
                failed += 1
                print(f"FAIL - {name}: {' '.join(str(e).split())}", flush=True)
                continue
            except Exception as e:
                failed += 1
                print(f"FAIL - {name}: {type(e).__name__}: {' '.join(str(e).split())}", flush=True)
                continue
            passed += 1
            print(f"ok - {name}" + (f" ({detail})" if detail else ""), flush=True)
    finally:
        env.ctx.cleanup()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
