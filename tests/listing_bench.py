#!/usr/bin/env python3
"""Listing scenarios for `make bench` (tests/bench.sh): what a big folder listing costs the other clients.

  listing_bench.py setup ROOT ENTRIES       makes ROOT/big/ with ENTRIES empty files and, in ROOT, the four small
                                            files /ev-N.txt that share ours' old cache set with "/big/"
  listing_bench.py victim PORT SECONDS      a victim GETs /small.bin every 20 ms on one keep-alive connection
                                            while another client GETs /big/ back to back, reading each whole
  listing_bench.py evict PORT SECONDS       the same victim while another client loops on one connection:
                                            HEAD /big/, then GET of the four /ev-N.txt
  listing_bench.py readers PORT SECONDS PID 40 slow readers (64 KiB receive buffer, 64 KiB read every 6 s) each
                                            GET /big/, one eviction loop between two of them and on until
                                            max(20, SECONDS) s have passed; then the VmRSS of process PID and
                                            the size of one listing

victim and evict print "listing: requests N p50_ms A p99_ms B worst_ms C listings L reconnects R errors E";
readers prints "readers: readers 40 rss_kib R listing_bytes B rss_per_listing X evictions V sending_s S errors E",
S being the time the 40 GETs and the eviction loops between them took (RSS is measured at max(20, SECONDS) s or
then, whichever is later).
Every wait is bounded; a wrong status, a connection broken mid-response or an answer that does not come within
30 s is a protocol error: the summary line says errors 1 and the exit status is 1. Standard library only.
"""
import os
import select
import socket
import sys
import time

ANSWER_TIMEOUT = 30.0        # seconds one read may wait before the server counts as not answering
VICTIM_INTERVAL = 0.02       # the victim's requests start 20 ms apart
READERS = 40
READER_PIECE = 64 * 1024     # a slow reader's receive buffer and the most it reads at a time
READER_INTERVAL = 6.0        # seconds between a slow reader's reads
READERS_MIN_SECONDS = 20.0   # readers hold their downloads at least this long before RSS is measured
CACHE_SETS = 16              # ours' old small-file cache: 64 slots, 4 ways
EVICT_FILES = 4


class Closed(Exception):
    """The server closed the connection before any byte of the next response."""


class ProtocolError(Exception):
    """A wrong answer, a connection broken mid-response, or no answer in time."""


def request(method, path):
    """The bytes of a keep-alive request."""
    return f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


def cache_set(path):
    """The set of ours' old cache that path falls in: FNV-1a 32-bit of the path, modulo 16 (server.c's cache_set)."""
    h = 2166136261
    for byte in path.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h % CACHE_SETS


def evict_paths():
    """The first four paths /ev-N.txt in the cache set of "/big/"."""
    paths, n = [], 0
    while len(paths) < EVICT_FILES:
        if cache_set(f"/ev-{n}.txt") == cache_set("/big/"):
            paths.append(f"/ev-{n}.txt")
        n += 1
    return paths


class Conn:
    """A keep-alive client connection that reads whole responses (Content-Length, chunked, or to the close)."""

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(ANSWER_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()

    def close(self):
        """Closes the socket."""
        self.sock.close()

    def send(self, data):
        """Sends a request; a connection the server closed meanwhile is Closed."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            raise Closed() from None

    def _recv(self, n):
        """Reads up to n bytes; an empty read or a reset is Closed, a timeout a ProtocolError."""
        try:
            data = self.sock.recv(n)
        except socket.timeout:
            raise ProtocolError(f"no answer within {ANSWER_TIMEOUT:g} s") from None
        except ConnectionResetError:
            raise Closed() from None
        if not data:
            raise Closed()
        return data

    def _line(self):
        """Reads one CRLF-ended line (without its CRLF)."""
        while (end := self.buf.find(b"\r\n")) < 0:
            if len(self.buf) > 65536:
                raise ProtocolError("a line longer than 64 KiB")
            self.buf += self._recv(1 << 16)
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return line

    def _skip(self, n):
        """Reads and drops n bytes."""
        take = min(n, len(self.buf))
        del self.buf[:take]
        n -= take
        while n > 0:
            n -= len(self._recv(min(n, 1 << 20)))

    def _to_close(self):
        """Reads and drops everything until the server closes; returns how many bytes that was."""
        total = len(self.buf)
        self.buf.clear()
        try:
            while True:
                total += len(self._recv(1 << 20))
        except Closed:
            return total

    def response(self, head_only=False):
        """Reads one response; returns (status, body bytes, whether the server keeps the connection)."""
        try:
            status_line = self._line()
        except Closed:
            if self.buf:
                raise ProtocolError("the server closed the connection in a response head") from None
            raise
        try:
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise ProtocolError(f"not a status line: {status_line[:80]!r}")
            status, fields = int(parts[1]), {}
            while line := self._line():
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip().lower()
            keep = b"close" not in fields.get(b"connection", b"")
            if head_only or status in (204, 304) or status < 200:
                return status, 0, keep
            if b"chunked" in fields.get(b"transfer-encoding", b""):
                total = 0
                while size := int(self._line().split(b";")[0], 16):
                    self._skip(size + 2)
                    total += size
                while self._line():  # trailer fields, then the empty line
                    pass
                return status, total, keep
            if b"content-length" in fields:
                length = int(fields[b"content-length"])
                self._skip(length)
                return status, length, keep
            return status, self._to_close(), False
        except Closed:
            raise ProtocolError("the server closed the connection in a response") from None
        except ValueError:
            raise ProtocolError("a malformed length or chunk size") from None


def expect(status, wanted, what):
    """Raises a ProtocolError when a status is not the wanted one."""
    if status != wanted:
        raise ProtocolError(f"{what}: status {status}, not {wanted}")


class Loop:
    """A client that repeats a sequence of requests on one keep-alive connection, reconnecting when the server
    closes it between responses; counts the sequences completed."""

    def __init__(self, port, steps):
        self.port, self.steps = port, steps  # steps: (method, path, wanted status)
        self.conn, self.done, self.reconnects = None, 0, 0

    def once(self):
        """Runs the sequence once."""
        for method, path, wanted in self.steps:
            for attempt in (1, 2):
                if self.conn is None:
                    self.conn = Conn(self.port)
                try:
                    self.conn.send(request(method, path))
                    status, _, keep = self.conn.response(head_only=method == "HEAD")
                    break
                except Closed:
                    self.conn.close()
                    self.conn = None
                    self.reconnects += 1
                    if attempt == 2:
                        raise ProtocolError(f"{method} {path}: closed twice without an answer") from None
            expect(status, wanted, f"{method} {path}")
            if not keep:
                self.conn.close()
                self.conn = None
        self.done += 1


def listings_loop(port):
    """The victim scenario's other client: GET /big/, read whole, back to back."""
    return Loop(port, [("GET", "/big/", 200)])


def evict_loop(port):
    """The eviction loop: HEAD /big/, then GET of the four files in its cache set."""
    return Loop(port, [("HEAD", "/big/", 200)] + [("GET", path, 200) for path in evict_paths()])


def quantile_ms(sorted_seconds, q):
    """The q-quantile (0..1) of sorted latencies, in ms (loadgen's rounding)."""
    if not sorted_seconds:
        return 0.0
    return sorted_seconds[min(len(sorted_seconds) - 1, int(q * (len(sorted_seconds) - 1) + 0.5))] * 1000


def victim(port, seconds, make_loop):
    """Times GET /small.bin every 20 ms for seconds while a forked child runs make_loop's client back to back;
    prints the summary line and returns the exit status."""
    deadline = time.monotonic() + seconds
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the other client; it never returns into the victim's code
        os.close(read_end)
        loop, error = make_loop(port), 1
        try:
            while time.monotonic() < deadline:
                loop.once()
            error = 0
        except (ProtocolError, OSError) as e:
            print(f"listing_bench: the other client: {e}", file=sys.stderr)
        finally:
            os.write(write_end, f"{loop.done} {loop.reconnects} {error}".encode())
            os._exit(error)
    os.close(write_end)
    try:  # the victim and the other client share the load's core: scheduled first, the victim times the server
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (AttributeError, OSError):
        pass  # not root: its latencies may include waiting for the other client's time slice
    latencies, errors, reconnects = [], 0, 0
    conn = None
    try:
        next_send = time.monotonic()
        while next_send < deadline:
            time.sleep(max(0.0, next_send - time.monotonic()))
            if conn is None:
                conn = Conn(port)
            started = time.monotonic()
            try:
                conn.send(request("GET", "/small.bin"))
                status, _, keep = conn.response()
            except Closed:  # closed between two requests: try again at once on a new connection
                conn.close()
                conn, reconnects, next_send = None, reconnects + 1, time.monotonic()
                continue
            latencies.append(time.monotonic() - started)
            expect(status, 200, "the victim's GET /small.bin")
            if not keep:
                conn.close()
                conn = None
            next_send = max(started + VICTIM_INTERVAL, time.monotonic())
    except (ProtocolError, OSError) as e:
        print(f"listing_bench: the victim: {e}", file=sys.stderr)
        errors += 1
    if conn is not None:
        conn.close()
    os.waitpid(child, 0)
    done, other_reconnects, other_error = (int(x) for x in (os.read(read_end, 64).split() or [0, 0, 1]))
    latencies.sort()
    errors += other_error
    print(f"listing: requests {len(latencies)} p50_ms {quantile_ms(latencies, 0.5):.1f} p99_ms "
          f"{quantile_ms(latencies, 0.99):.1f} worst_ms {quantile_ms(latencies, 1):.1f} listings {done} "
          f"reconnects {reconnects + other_reconnects} errors {errors}")
    return 1 if errors else 0


def rss_kib(pid):
    """The resident memory of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("VmRSS:")))


class SlowReader:
    """A slow reader of /big/: a 64 KiB receive buffer, reads of at most 64 KiB that never wait."""

    def __init__(self, port):
        self.conn = Conn(port, rcvbuf=READER_PIECE)
        self.conn.send(request("GET", "/big/"))
        self.conn.sock.setblocking(False)
        self.got, self.start = 0, b""  # bytes read; the first 12 of them ("HTTP/1.1 200")

    def read(self):
        """Reads what is there, up to 64 KiB; the answer must be a 200, and must not end before the listing."""
        try:
            data = self.conn.sock.recv(READER_PIECE)
        except BlockingIOError:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            raise ProtocolError(f"the server closed a slow reader's listing after {self.got} bytes")
        self.got += len(data)
        if len(self.start) < 12:
            self.start += data[:12 - len(self.start)]
            if len(self.start) == 12 and not (self.start.startswith(b"HTTP/1.") and self.start.endswith(b" 200")):
                raise ProtocolError(f"a slow reader's GET /big/ was answered {self.start!r}")


def readers(port, seconds, pid):
    """40 slow readers of /big/ with an eviction loop between them; prints the summary line, returns the status."""
    start = time.monotonic()
    end, sent = start + max(READERS_MIN_SECONDS, seconds), 0.0
    evict, slow = evict_loop(port), []
    try:
        for _ in range(READERS):  # one eviction loop between two GETs, so no GET finds the previous one's copy
            slow.append(SlowReader(port))
            evict.once()
        sent = time.monotonic() - start
        next_read = time.monotonic()
        while time.monotonic() < end:
            if time.monotonic() >= next_read:
                for reader in slow:
                    reader.read()
                next_read += READER_INTERVAL
            else:
                evict.once()
        rss = rss_kib(pid)
        for i, reader in enumerate(slow):  # a reader still without its status line gets 30 s more
            while len(reader.start) < 12:
                if not select.select([reader.conn.sock], [], [], ANSWER_TIMEOUT)[0]:
                    raise ProtocolError(f"slow reader {i + 1} got no answer to GET /big/")
                reader.read()
        whole = Conn(port)
        whole.send(request("GET", "/big/"))
        status, size, _ = whole.response()
        expect(status, 200, "GET /big/ (whole)")
        whole.close()
        errors = 0
    except (ProtocolError, Closed, OSError) as e:
        print(f"listing_bench: readers: {e}", file=sys.stderr)
        rss, size, errors = 0, 0, 1
    for reader in slow:
        reader.conn.close()
    print(f"readers: readers {READERS} rss_kib {rss} listing_bytes {size} rss_per_listing "
          f"{rss * 1024 / size if size else 0:.2f} evictions {evict.done} sending_s {sent:.1f} errors {errors}")
    return 1 if errors else 0


def setup(root, entries):
    """Makes root/big/ with entries empty files and the four eviction files in root."""
    folder = os.path.join(root, "big")
    os.mkdir(folder, 0o755)
    for i in range(1, entries + 1):
        os.close(os.open(os.path.join(folder, f"entry-{i:06d}-with-a-name-of-some-length.txt"),
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    for path in evict_paths():
        with open(os.path.join(root, path[1:]), "w") as f:
            f.write("a small file in the cache set of /big/\n")
    print(f"setup: big/ with {entries} entries; eviction files {' '.join(evict_paths())}")
    return 0


def main(argv):
    """Runs a subcommand."""
    usage = "usage: listing_bench.py setup ROOT ENTRIES | victim|evict PORT SECONDS | readers PORT SECONDS PID"
    if len(argv) == 4 and argv[1] == "setup":
        return setup(argv[2], int(argv[3]))
    if len(argv) == 4 and argv[1] in ("victim", "evict"):
        return victim(int(argv[2]), float(argv[3]), listings_loop if argv[1] == "victim" else evict_loop)
    if len(argv) == 5 and argv[1] == "readers":
        return readers(int(argv[2]), float(argv[3]), int(argv[4]))
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
