#!/usr/bin/env python3
"""Integration tests for the select() static web server.

Usage: python3 tests/integration.py PATH_TO_SERVER_BINARY

Builds a test tree in a temporary directory, starts the server on it with -p 0 and talks to it
over raw sockets (and curl where installed). Prints "ok - NAME" or "FAIL - NAME: reason" per test,
then "N passed, N failed"; exits 0 iff nothing failed. Python 3 standard library only.
"""

import email.utils
import fcntl
import gzip
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")
CURL = shutil.which("curl")
MTIME = 1577934245  # Thu, 02 Jan 2020 03:04:05 GMT: every test file gets this mtime
MTIME_HTTP = "Thu, 02 Jan 2020 03:04:05 GMT"
BIG50 = 50 * 1024 * 1024
# How long a test waits for what happens at once on an idle machine: generous, for a loaded one and the ASan
# build. It bounds a wait; it says nothing about speed (no assertion compares a duration with anything).
WAIT = 20
HUGE = 5 * 1024 ** 3
# Bytes written into the sparse 5 GiB file around 2^31 and 2^32 (each starts 4 bytes before the boundary).
HUGE_MARKS = {2 ** 31 - 4: b"01234567", 2 ** 32 - 4: b"89abcdef"}
HUGE_END = b"END!"  # its last 4 bytes
PAGE = b"<!DOCTYPE html>\n<p>" + b"a page that compresses well. " * 40 + b"</p>\n"
WEIRD = "hello wörld & <x>.txt"
WEIRD_URL = "/hello%20w%C3%B6rld%20%26%20%3Cx%3E.txt"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
DATE_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     r"\d{4} \d{2}:\d{2}:\d{2} GMT$")
# One Common Log Format line; [^"]* makes a raw quote inside the request field impossible to match.
LOG_RE = re.compile(r'^(\S+) - - \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] "([^"]*)" (\d{3}) (\d+)$')
REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 412: "Precondition Failed", 414: "URI Too Long",
           416: "Range Not Satisfiable", 431: "Request Header Fields Too Large", 501: "Not Implemented", 503: "Service Unavailable",
           505: "HTTP Version Not Supported"}


class Skip(Exception):
    """Raised by a test that cannot run here; reported as "ok - NAME # skip reason"."""


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        a, e = repr(actual), repr(expected)
        raise AssertionError(f"{what}: got {a[:300]}, expected {e[:300]}")


def wait_stable(fn, settle, timeout, what):
    """Polls fn() until its value has not changed for settle seconds; returns that value."""
    deadline = time.monotonic() + timeout
    value, since = fn(), time.monotonic()
    while time.monotonic() - since < settle:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what} to settle")
        time.sleep(0.02)
        now = fn()
        if now != value:
            value, since = now, time.monotonic()
    return value


def wait_until(pred, timeout, what, interval=0.02):
    """Polls pred() until it is true; fails with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Server processes


class Server:
    """A running server: BINARY -p 0 -r ROOT ARGS; stdout read by a thread, stderr kept in a file."""

    def __init__(self, binary, root, args=(), preexec_fn=None, pass_fds=(), positional=False):
        self.cmd = [binary, "-p", "0", *args, root] if positional else [binary, "-p", "0", "-r", root, *args]
        self.lines = []
        self.cond = threading.Condition()
        self.rc = None
        fd, self.err_path = tempfile.mkstemp(prefix="server-stderr-")
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=fd, preexec_fn=preexec_fn, pass_fds=pass_fds)
        except BaseException:
            os.unlink(self.err_path)
            raise
        finally:
            os.close(fd)
        self.reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.reader.start()
        try:
            line = self.wait_line(lambda l: True, 15, "the Serving line")  # it must be the first line
            m = re.match(r"^Serving (.*) on http://(127\.0\.0\.1|0\.0\.0\.0|\[[0-9a-fA-F:.]+\]):(\d+)/$", line)
            check(m is not None, f"unexpected first line {line!r}")
            eq(m.group(1), root, "root in the Serving line")
            self.host, self.port = m.group(2), int(m.group(3))
            self.pid = self.proc.pid
        except BaseException:
            self.close(check_sanitizer=False)
            raise

    def _read_stdout(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode("latin-1").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # EOF marker
            self.cond.notify_all()

    def wait_line(self, pred, timeout, what, start=0):
        """Returns the first stdout line from index start on that satisfies pred."""
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        raise AssertionError(f"server stdout closed while waiting for {what} "
                                             f"(exit {self.proc.poll()}, stderr: {self.stderr()[-400:]!r})")
                    if pred(line):
                        return line
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what} on stdout")
                self.cond.wait(left)

    def out_lines(self):
        with self.cond:
            return [l for l in self.lines if l is not None]

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def sanitizer_report(self):
        text = self.stderr()
        for mark in SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                return text[max(0, i - 100):i + 600]
        return None

    def alive(self):
        return self.proc.poll() is None

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and waits for the exit; kills the process if it does not exit. Returns the status."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.rc = "killed: did not exit after signal %d" % sig
        elif self.rc is None:
            self.rc = self.proc.returncode
        self.reader.join(5)
        return self.rc

    def close(self, check_sanitizer=True):
        self.stop()
        report = self.sanitizer_report()
        if self.proc.stdout:
            self.proc.stdout.close()
        try:
            os.unlink(self.err_path)
        except OSError:
            pass
        if check_sanitizer and report:
            raise AssertionError(f"sanitizer report on server stderr: {report!r}")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.close()
        except AssertionError as e:
            if exc is not None:
                raise AssertionError(f"{exc}; and {e}") from None
            raise


# ---------------------------------------------------------------------------------------------
# HTTP client side


class Response:
    def __init__(self, version, status, reason, headers, raw_head):
        self.version, self.status, self.reason = version, status, reason
        self.headers = headers  # list of (name, value) in order
        self.raw_head = raw_head
        self.body = b""

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def get(self, name):
        values = self.all(name)
        check(len(values) <= 1, f"header {name} sent {len(values)} times")
        return values[0] if values else None

    def content_length(self):
        v = self.get("Content-Length")
        return int(v) if v is not None else None

    def closes(self):
        v = self.get("Connection")
        return v is not None and "close" in v.lower()

    def __repr__(self):
        return f"<{self.status} {self.reason} {self.headers} body={self.body[:80]!r}>"


def parse_head(head):
    """Parses a response head (without the final CRLFCRLF); the server must use CRLF everywhere."""
    check(b"\n" not in head.replace(b"\r\n", b""), f"bare LF in response head {head!r}")
    lines = head.split(b"\r\n")
    m = re.match(rb"^(HTTP/1\.[01]) (\d{3}) (.*)$", lines[0])
    check(m is not None, f"bad status line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        m2 = re.match(rb"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ?(.*?)[ \t]*$", line)
        check(m2 is not None, f"bad header line {line!r}")
        headers.append((m2.group(1).decode("latin-1"), m2.group(2).decode("latin-1")))
    return Response(m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"), headers, head)


class Client:
    """One TCP connection with a read buffer and an HTTP/1.1 response parser that honours Content-Length."""

    def __init__(self, port, host="127.0.0.1", family=socket.AF_INET, timeout=5.0, rcvbuf=None, nodelay=False):
        self.timeout = timeout
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if rcvbuf:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if nodelay:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        except BaseException:
            self.sock.close()
            raise
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, rst=False):
        if self.sock.fileno() >= 0:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _recv(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {what} (have {self.buf[:200]!r})")
        self.sock.settimeout(left)
        try:
            return self.sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError(f"timed out waiting for {what} (have {self.buf[:200]!r})") from None

    def read_head(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            data = self._recv(deadline, "a response head")
            if not data:
                raise AssertionError(f"connection closed before a complete response head (got {self.buf[:200]!r})")
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return parse_head(head)

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            data = self._recv(deadline, f"{n} body bytes")
            if not data:
                raise AssertionError(f"connection closed after {len(self.buf)} of {n} body bytes")
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, head_only=False, timeout=None):
        """Reads one response; head_only for the answer to HEAD (no body whatever Content-Length says).
        A 204 or 304 never has a body (RFC 9112 section 6.3)."""
        resp = self.read_head(timeout)
        n = resp.content_length()
        if head_only or resp.status in (204, 304):
            return resp
        if n is None:
            resp.body = self.buf + self.read_to_eof(timeout or self.timeout)[0]
            self.buf = b""
        else:
            resp.body = self.read_exact(n, timeout)
        return resp

    def read_to_eof(self, timeout):
        """Reads until EOF or reset; returns (bytes read, "eof" or "reset")."""
        deadline = time.monotonic() + timeout
        got = b""
        while True:
            try:
                data = self._recv(deadline, "the server to close the connection")
            except (ConnectionResetError, BrokenPipeError):
                return got, "reset"
            if not data:
                return got, "eof"
            got += data

    def expect_closed(self, timeout=3.0):
        """Asserts the server closes the connection without sending anything more."""
        extra, _ = self.read_to_eof(timeout)
        extra = self.buf + extra
        self.buf = b""
        eq(extra, b"", "bytes after the response on a connection the server should close")

    def readable_within(self, timeout):
        return bool(select.select([self.sock], [], [], timeout)[0])

    def queued(self):
        """Bytes waiting in this socket's receive queue (FIONREAD)."""
        return struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def get(path, host="t", extra=b"", method=b"GET", version=b"HTTP/1.1"):
    """Builds a request head."""
    if isinstance(path, str):
        path = path.encode()
    return method + b" " + path + b" " + version + b"\r\nHost: " + host.encode() + b"\r\n" + extra + b"\r\n"


def exchange(port, raw, head_only=False, timeout=5.0):
    """Sends raw on a fresh connection and returns the response; when it says Connection: close, also
    checks that the server then closes without sending anything more."""
    with Client(port, timeout=timeout) as c:
        c.send(raw)
        r = c.read_response(head_only=head_only)
        if r.closes():
            c.expect_closed()
        return r


def fetch(port, path, method=b"GET", extra=b"", **kw):
    """GET (or method) path with Connection: close on a fresh connection."""
    kw.setdefault("head_only", method == b"HEAD")
    return exchange(port, get(path, method=method, extra=extra + b"Connection: close\r\n"), **kw)


def check_common(r, expect_body=True):
    """Every response carries Date (fresh, IMF-fixdate), Server, Content-Length and Content-Type."""
    d = r.get("Date")
    check(d is not None and DATE_RE.match(d), f"Date header missing or malformed: {d!r}")
    check(abs(email.utils.parsedate_to_datetime(d).timestamp() - time.time()) < 30, f"Date {d!r} is not now")
    check(r.get("Server"), "Server header missing")
    check(r.get("Content-Type"), f"Content-Type missing on {r.status}")
    check(r.get("Content-Length") is not None and re.match(r"^\d+$", r.get("Content-Length")),
          f"Content-Length missing or malformed on {r.status}")
    eq(r.version, "HTTP/1.1", "response version")
    if r.status in REASONS:
        eq(r.reason, REASONS[r.status], "reason phrase")
    if expect_body:
        eq(len(r.body), r.content_length(), "body length vs Content-Length")


def check_error_page(r, status):
    eq(r.status, status, "status")
    check_common(r)
    text = f"{status} {REASONS[status]}".encode()
    check(text in r.body, f"error body lacks {text!r}: {r.body[:200]!r}")
    check(r.get("Content-Type").startswith("text/html"), "error page is not text/html")


def parallel(n, fn, timeout):
    """Runs fn(i) in n threads at once; returns the results, re-raising the first failure."""
    results, errors = [None] * n, []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(timeout)
            results[i] = fn(i)
        except BaseException as e:  # noqa: reported below
            errors.append(f"client {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    hung = sum(t.is_alive() for t in threads)
    check(hung == 0, f"{hung} of {n} clients still running after {timeout} s")
    check(not errors, f"{len(errors)} of {n} clients failed; first: {sorted(errors)[0] if errors else ''}")
    return results


# ---------------------------------------------------------------------------------------------
# The test tree


def make_root(prefix):
    """A fresh directory to serve, readable by all: started as root, the server serves as nobody."""
    root = tempfile.mkdtemp(prefix=prefix)
    os.chmod(root, 0o755)
    return root


class Ctx:
    """What the tests share: the binary, the tree, the default server."""

    def __init__(self, binary):
        self.binary = binary
        self.root = make_root("server-it-")
        self.files = {}
        self.server = None
        self.start_error = None

    def put(self, rel, data):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path.encode(), "wb") as f:
            f.write(data)
        os.utime(path.encode(), (MTIME, MTIME))
        self.files[rel] = data

    def build_tree(self):
        self.put("index.html", b"<!DOCTYPE html>\n<html><body><h1>root index</h1></body></html>\n")
        self.put("a.css", b"body { color: #333; }\n")
        self.put("a.js", b"console.log('hello');\n")
        self.put("b.json", b'{"ok": true, "n": 3}\n')
        self.put("c.txt", b"plain text, the file most tests fetch\n")
        self.put("image.png", PNG)
        self.put("noext", b"\x00\x01\x02 bytes without an extension\n")
        self.put(WEIRD, "a name with spaces, unicode and markup: wörld\n".encode())
        self.put("sub/b.txt", b"abc")
        self.put("sub/" + WEIRD, b"weird\n")
        self.put("sub/.hidden", b"hidden file in a listed directory\n")
        os.makedirs(os.path.join(self.root, "sub", "a dir"))
        self.put("sub/zdir/z.txt", b"z")
        self.put("withindex/index.html", b"<!DOCTYPE html>\n<p>the index of withindex</p>\n")
        self.put(".secret", b"SECRET-DOTFILE\n")
        self.put(".git/config", b"[core]\n\tsecret = yes\n")
        self.put(".well-known/security.txt", b"Contact: mailto:security@example.org\n")
        self.put("noperm.txt", b"mode 000\n")
        os.chmod(os.path.join(self.root, "noperm.txt"), 0)
        self.put("lockedidx/index.html", b"<p>an index nobody may read</p>\n")
        self.put("lockedidx/private-notes.txt", b"what the index hides\n")
        os.chmod(os.path.join(self.root, "lockedidx", "index.html"), 0)
        os.mkfifo(os.path.join(self.root, "fifo"))
        os.symlink("c.txt", os.path.join(self.root, "link.txt"))
        self.put("rand1m.bin", os.urandom(1 << 20))
        self.put("empty.txt", b"")
        self.put("epoch.txt", b"from 1970\n")
        os.utime(os.path.join(self.root, "epoch.txt"), (0, 0))
        with socket.socket(socket.AF_UNIX) as unix_socket:  # the socket file stays after the close
            unix_socket.bind(os.path.join(self.root, "sock"))
        for name, size in (("big50.bin", BIG50), ("huge5g.bin", HUGE)):
            path = os.path.join(self.root, name)
            with open(path, "wb"):
                pass
            os.truncate(path, size)
        with open(os.path.join(self.root, "huge5g.bin"), "r+b") as f:
            for offset, data in HUGE_MARKS.items():
                os.pwrite(f.fileno(), data, offset)
            os.pwrite(f.fileno(), HUGE_END, HUGE - len(HUGE_END))
        self.put("page.html", PAGE)
        self.put("page.html.gz", gzip.compress(PAGE, mtime=0))
        self.put("stale.css", b"body { margin: 0 }\n" * 20)
        self.put("stale.css.gz", gzip.compress(self.files["stale.css"], mtime=0))
        os.utime(os.path.join(self.root, "stale.css.gz"), (MTIME - 100, MTIME - 100))
        self.put("book.epub", b"PK not really an epub\n")
        self.put("sound.wav", b"RIFF not really a wave\n")  # Debian's mime.types says audio/x-wav
        self.put("wednesday.bin", bytes(range(100)))
        os.utime(os.path.join(self.root, "wednesday.bin"), (1577880000, 1577880000))  # Wed, 01 Jan 2020 12:00
        self.put("future.bin", bytes(range(100)))
        os.utime(os.path.join(self.root, "future.bin"), (time.time() + 3600, time.time() + 3600))
        self.put("cal.ics", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n")
        self.put("users-bad", b"# a users file whose line has no colon\nalice\n")
        self.put("users-short", b"a")  # shorter than a byte-order mark: read within its bytes (ASan)
        self.put("file1.txt", b"one\n")
        self.put("fileq.txt", b"q\n")  # the same cache set as file1.txt

    def start_shared(self):
        """Starts the default server most tests share; on failure the tests that need it fail."""
        try:
            self.server, self.start_error = Server(self.binary, self.root), None
        except Exception as e:
            self.server, self.start_error = None, e

    def cleanup(self):
        if self.server:
            try:
                self.server.close(check_sanitizer=False)
            except Exception:
                pass
        try:
            os.chmod(os.path.join(self.root, "noperm.txt"), 0o644)
        except OSError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        if getattr(self, "many", None):
            shutil.rmtree(self.many, ignore_errors=True)

    @property
    def port(self):
        check(self.server is not None, f"the shared server did not start: {self.start_error}")
        return self.server.port

    def start(self, *args, **kw):
        """A dedicated server on the test tree."""
        return Server(self.binary, self.root, args, **kw)


TESTS = []


def test(fn=None, name=None):
    """Registers a test function (in source order)."""
    def reg(f):
        TESTS.append((name or f.__name__.removeprefix("test_"), f))
        return f
    return reg(fn) if fn else reg


# ---------------------------------------------------------------------------------------------
# HTTP parsing and protocol

FILE_TYPES = [
    ("index.html", "text/html; charset=utf-8"), ("a.css", "text/css; charset=utf-8"),
    ("a.js", "text/javascript; charset=utf-8"), ("b.json", "application/json"),
    ("c.txt", "text/plain; charset=utf-8"), ("image.png", "image/png"), ("noext", "application/octet-stream"),
]


@test
def test_get_file_types(ctx):
    """GET of each file type: 200, exact Content-Type, Content-Length, Last-Modified, Date, Server, body."""
    for name, ctype in FILE_TYPES:
        r = fetch(ctx.port, "/" + name)
        eq(r.status, 200, f"status of /{name}")
        check_common(r)
        eq(r.get("Content-Type"), ctype, f"Content-Type of /{name}")
        eq(r.get("Content-Length"), str(len(ctx.files[name])), f"Content-Length of /{name}")
        eq(r.get("Last-Modified"), MTIME_HTTP, f"Last-Modified of /{name}")
        eq(r.body, ctx.files[name], f"body of /{name}")


@test
def test_head_same_headers_no_body(ctx):
    """HEAD then GET on one keep-alive connection: same headers but Date, and no body after the HEAD head.
    A listing's HEAD leaves out Content-Length (RFC 9110 section 9.3.2): HEAD never builds a listing."""
    for path in ["/c.txt", "/image.png", "/sub/", "/missing.txt", "/sub"]:
        with Client(ctx.port) as c:
            c.send(get(path, method=b"HEAD"))
            h = c.read_response(head_only=True)
            c.send(get(path))
            g = c.read_response()
            listing = path == "/sub/"
            if not listing:
                check_common(h, expect_body=False)
            check_common(g)
            eq(h.status, g.status, f"HEAD vs GET status for {path}")
            strip = lambda r: [(n.lower(), v) for n, v in r.headers
                               if n.lower() != "date" and not (listing and n.lower() == "content-length")]
            eq(strip(h), strip(g), f"HEAD vs GET headers for {path}")
            check(not listing or h.get("Content-Length") is None, "a listing's HEAD gives no Content-Length")
            # Anything left over after the GET body would be a HEAD body that slipped through.
            check(not c.readable_within(0.05) and c.buf == b"", f"stray bytes after GET {path}")


@test
def test_one_byte_at_a_time(ctx):
    """A request sent one byte per send() is answered normally."""
    with Client(ctx.port, nodelay=True) as c:
        for b in get("/c.txt"):
            c.send(bytes([b]))
        r = c.read_response()
        eq(r.status, 200, "status")
        eq(r.body, ctx.files["c.txt"], "body")


@test
def test_half_close_after_request(ctx):
    """A client that sends its request and then shuts down its sending side still gets the answer."""
    with Client(ctx.port) as c:
        c.send(b"GET /c.txt HTTP/1.0\r\n\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        r = c.read_response()
        eq((r.status, r.body), (200, ctx.files["c.txt"]), "response")
        c.expect_closed()


@test
def test_pipelining(ctx):
    """Several requests in one send() (200, 404, HEAD, 200, dir index) are answered in order."""
    reqs = [get("/c.txt"), get("/nope.txt"), get("/a.css", method=b"HEAD"), get("/b.json"), get("/withindex/")]
    with Client(ctx.port) as c:
        c.send(b"".join(reqs))
        r1, r2, r3 = c.read_response(), c.read_response(), c.read_response(head_only=True)
        r4, r5 = c.read_response(), c.read_response()
        eq((r1.status, r1.body), (200, ctx.files["c.txt"]), "1st response")
        eq(r2.status, 404, "2nd response status")
        eq((r3.status, r3.get("Content-Length"), r3.get("Content-Type")),
           (200, str(len(ctx.files["a.css"])), "text/css; charset=utf-8"), "3rd response (HEAD)")
        eq((r4.status, r4.body), (200, ctx.files["b.json"]), "4th response")
        eq((r5.status, r5.body), (200, ctx.files["withindex/index.html"]), "5th response")
        for r in (r1, r2, r3, r4, r5):
            check(not r.closes(), "Connection: close in a pipelined keep-alive response")
        check(not c.readable_within(0.05), "extra bytes or close after the pipelined responses")


@test
def test_pipelined_past_a_turn_from_the_start(ctx):
    """More requests than one turn answers (16), all in the connection's first bytes: the server answers the
    first ones as it accepts the connection, and the rest in the rounds after, none left waiting."""
    for attempt in range(5):  # the requests must arrive with the connection; a few tries make that likely
        with socket.create_connection(("127.0.0.1", ctx.port), timeout=WAIT) as s:
            s.sendall(get("/c.txt") * 50)
            c = Client.__new__(Client)
            c.sock, c.buf, c.timeout = s, b"", WAIT
            for i in range(50):
                eq(c.read_response().status, 200, f"response {i + 1} of 50")


@test
def test_keep_alive_sequential(ctx):
    """Several requests one after another on one HTTP/1.1 connection."""
    with Client(ctx.port) as c:
        for path in ["/c.txt", "/a.js", "/nope", "/b.json", "/", "/c.txt"]:
            c.send(get(path))
            r = c.read_response()
            check(not r.closes(), f"{path}: Connection: close on keep-alive")
            if path == "/nope":
                eq(r.status, 404, path)
            else:
                eq(r.status, 200, path)
                eq(r.body, ctx.files["index.html" if path == "/" else path[1:]], f"body of {path}")


@test
def test_http10_closes_by_default(ctx):
    """HTTP/1.0 without Connection: the answer says Connection: close and the server closes."""
    with Client(ctx.port) as c:
        c.send(b"GET /c.txt HTTP/1.0\r\n\r\n")
        r = c.read_response()
        eq(r.status, 200, "status")
        eq(r.body, ctx.files["c.txt"], "body")
        eq(r.get("Connection"), "close", "Connection header")
        c.expect_closed()


@test
def test_http10_keep_alive(ctx):
    """HTTP/1.0 with Connection: keep-alive: echoed, and the connection serves a second request."""
    with Client(ctx.port) as c:
        for path in ["/c.txt", "/a.css"]:
            c.send(f"GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
            r = c.read_response()
            eq(r.status, 200, f"status of {path}")
            eq(r.body, ctx.files[path[1:]], f"body of {path}")
            eq(r.get("Connection"), "keep-alive", f"Connection header for {path}")


@test
def test_http11_connection_close(ctx):
    """HTTP/1.1 with Connection: close: echoed and closed."""
    with Client(ctx.port) as c:
        c.send(get("/c.txt", extra=b"Connection: close\r\n"))
        r = c.read_response()
        eq((r.status, r.get("Connection")), (200, "close"), "status and Connection")
        c.expect_closed()


@test
def test_bare_lf(ctx):
    """Request lines and fields ending in bare LF are accepted."""
    with Client(ctx.port) as c:
        c.send(b"GET /c.txt HTTP/1.1\nHost: t\nX-A: b\n\n")
        r = c.read_response()
        eq((r.status, r.body), (200, ctx.files["c.txt"]), "status and body")


@test
def test_leading_empty_line(ctx):
    """A CRLF before the request line is tolerated."""
    with Client(ctx.port) as c:
        c.send(b"\r\n" + get("/c.txt"))
        r = c.read_response()
        eq((r.status, r.body), (200, ctx.files["c.txt"]), "status and body")


def expect_error_and_close(ctx, raw, status):
    """Sends raw; expects status with Connection: close, an error page, and then the close."""
    with Client(ctx.port) as c:
        c.send(raw)
        r = c.read_response()
        check_error_page(r, status)
        eq(r.get("Connection"), "close", f"Connection header on {status}")
        c.expect_closed()
    return r


PARSER_400 = [
    ("no_host_http11", b"GET /c.txt HTTP/1.1\r\n\r\n"),
    ("two_hosts", b"GET /c.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("space_before_colon", b"GET /c.txt HTTP/1.1\r\nHost : t\r\n\r\n"),
    ("obs_fold", b"GET /c.txt HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n"),
    ("control_char_in_value", b"GET /c.txt HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n"),
    ("content_length_abc", b"GET /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n"),
    ("content_length_conflict", b"GET /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"),
    ("request_line_missing_version", b"GET /c.txt\r\nHost: t\r\n\r\n"),
    ("request_line_double_space", b"GET  /c.txt HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("request_line_garbage_version", b"GET /c.txt HTTX/1.1\r\nHost: t\r\n\r\n"),
    ("request_line_no_target", b"GET HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("lone_cr_in_value", b"GET /c.txt HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n"),
    ("host_with_space", b"GET /c.txt HTTP/1.1\r\nHost: a b\r\n\r\n"),
    ("host_with_slash", b"GET /c.txt HTTP/1.1\r\nHost: a/b\r\n\r\n"),
    ("host_with_userinfo", b"GET /c.txt HTTP/1.1\r\nHost: u@a\r\n\r\n"),
    ("host_bad_port", b"GET /c.txt HTTP/1.1\r\nHost: a:8x\r\n\r\n"),
    ("host_unclosed_literal", b"GET /c.txt HTTP/1.1\r\nHost: [::1\r\n\r\n"),
    ("content_length_twice_same", b"GET /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
    ("content_length_list", b"GET /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\nx"),
]

for _name, _raw in PARSER_400:
    def _t(ctx, raw=_raw):
        expect_error_and_close(ctx, raw, 400)
    _t.__doc__ = "A malformed head gets 400 with Connection: close, then the close."
    test(_t, name="400_" + _name)

TARGET_400 = [
    ("bad_percent_escape", "/c%zz.txt"), ("percent_00", "/c.txt%00.html"), ("no_leading_slash", "c.txt"),
    ("asterisk", "*"), ("dotdot", "/../c.txt"), ("encoded_dotdot", "/%2e%2e/c.txt"),
    ("encoded_slash_dotdot", "/..%2f..%2fetc/passwd"), ("deep_dotdot", "/sub/../../etc/passwd"),
    ("truncated_escape", "/c.txt%4"), ("userinfo", "http://user@t/c.txt"), ("userinfo_password", "http://u:p@t/c.txt"),
]

for _name, _target in TARGET_400:
    def _t(ctx, target=_target):
        with Client(ctx.port) as c:
            c.send(get(target))
            r = c.read_response()
            check_error_page(r, 400)
            check(b"root:" not in r.body, "body looks like /etc/passwd")
            # The head itself was well framed, so keeping the connection is allowed; if the server
            # keeps it, the connection must still work, and if it says close it must close.
            if r.closes():
                c.expect_closed()
            else:
                c.send(get("/c.txt"))
                r2 = c.read_response()
                eq((r2.status, r2.body), (200, ctx.files["c.txt"]), "next request on the same connection")
    _t.__doc__ = "A bad request target gets 400 and the connection stays consistent."
    test(_t, name="400_target_" + _name)


@test
def test_505_http2(ctx):
    """HTTP/2.0 in a request line: 505 and close."""
    expect_error_and_close(ctx, b"GET /c.txt HTTP/2.0\r\nHost: t\r\n\r\n", 505)


@test
def test_501_unknown_method(ctx):
    """An unknown method (BREW): 501 and close."""
    expect_error_and_close(ctx, b"BREW /c.txt HTTP/1.1\r\nHost: t\r\n\r\n", 501)


@test
def test_transfer_encoding_framing(ctx):
    """Transfer-Encoding (RFC 9112 sections 6.1 and 6.3): codings that do not end in chunked, chunked twice,
    chunked with Content-Length (CL.TE and TE.CL), or in HTTP/1.0 get 400, then close; an unknown coding
    before chunked gets 501, then close; a POST's chunked body is never read as a request (405, close)."""
    head = b"GET /c.txt HTTP/1.1\r\nHost: t\r\n"
    for te, status in ((b"gzip", 400), (b"chunked, gzip", 400), (b"chunked, chunked", 400), (b"xchunked", 400),
                       (b"chunked;q=1", 400), (b"", 400), (b"foo, chunked", 501)):
        expect_error_and_close(ctx, head + b"Transfer-Encoding: " + te + b"\r\n\r\n0\r\n\r\n", status)
    expect_error_and_close(ctx, head + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
    expect_error_and_close(ctx, head + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400)
    expect_error_and_close(ctx, b"GET /c.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
    expect_error_and_close(ctx, b"POST /c.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"1d\r\nGET /c.txt HTTP/1.1\r\nHost: t\r\n\r\n\r\n0\r\n\r\n", 405)


def body_then_next(ctx, request, status=200):
    """Sends request (a GET of /c.txt with a body holding a request for /index.html), then a GET of /a.css
    on the same connection: the first answer is status, kept alive, and the next is /a.css, never the
    request inside the body."""
    with Client(ctx.port) as c:
        c.send(request)
        r = c.read_response()
        eq((r.status, r.get("Connection")), (status, None), "status, and the connection kept")
        c.send(get("/a.css"))
        r = c.read_response()
        eq((r.status, r.body), (200, ctx.files["a.css"]), "the next request, not the one inside the body")


EMBEDDED = b"GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n"


@test
def test_body_discarded_keeps_connection(ctx):
    """A GET, HEAD or OPTIONS with a small body (Content-Length, or chunked with extensions and trailer
    fields) is answered, its body read and thrown away, and the connection goes on. Chunk lines end in CRLF
    only (RFC 9112 7.1): a bare LF there is refused, so no front end can read the body's end elsewhere."""
    body_then_next(ctx, b"GET /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(EMBEDDED) + EMBEDDED)
    chunked = (b"GET /c.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
               b"%x;ext=1;q=\"a \\\" b\"\r\n" % len(EMBEDDED) + EMBEDDED + b"\r\n"
               b"3\r\nabc\r\n0\r\nX-Trailer: yes\nX-Other:\tv\r\n\r\n")
    body_then_next(ctx, chunked)
    big = b"x" * 60000  # just under the bound, in pieces the size of many reads
    body_then_next(ctx, b"GET /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
    body_then_next(ctx, b"GET /c.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   b"".join(b"%x\r\n" % 6000 + b"y" * 6000 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n")
    for framing in (b"3\nabc\r\n0\r\n\r\n", b"3\r\nabc\n0\r\n\r\n",
                    b"3b;a\n" + b"x" * 57 + b"\r\n\r\n0\r\n\r\n" + get("/.secret")):
        r = exchange(ctx.port, b"GET /c.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + framing)
        eq((r.status, r.closes()), (400, True), f"a bare LF in chunk framing: {framing[:20]!r}")
    with Client(ctx.port) as c:
        c.send(b"HEAD /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" + get("/a.css", method=b"OPTIONS"))
        eq(c.read_response(head_only=True).status, 200, "HEAD with a body")
        eq(c.read_response().status, 204, "the OPTIONS after it, pipelined")


@test
def test_expect_continue_answered_without_body(ctx):
    """A client that sends Expect: 100-continue waits for an answer before its body (RFC 9110 section
    10.1.1): it gets the answer without sending the body, with Connection: close."""
    with Client(ctx.port) as c:
        c.send(b"GET /c.txt HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n")
        r = c.read_response()
        eq((r.status, r.body, r.get("Connection")), (200, ctx.files["c.txt"], "close"), "the answer, body unsent")


@test
def test_body_too_large_closes(ctx):
    """A body past 64 KiB is not waited for: the request is answered with Connection: close, then the close."""
    for request in (b"GET /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n" + b"z" * 1000,
                    b"GET /c.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    b"".join(b"1000\r\n" + b"z" * 4096 + b"\r\n" for _ in range(17))):
        with Client(ctx.port) as c:
            c.send(request)
            r = c.read_response()
            eq((r.status, r.body, r.get("Connection")), (200, ctx.files["c.txt"], "close"), "answer to a big body")
            c.expect_closed()


@test
def test_chunked_malformed_400(ctx):
    """A malformed chunked body: a size that is not hex, overflows, or is missing; data without its line
    end; a bad extension or trailer: 400, then close."""
    head = b"GET /c.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    for body in (b"zz\r\n", b"0x5\r\nhello\r\n0\r\n\r\n", b"-5\r\n", b"\r\n", b";ext\r\n",
                 b"10000000000000000\r\n", b"5\r\nhelloX0\r\n\r\n", b"5\rhello\r\n0\r\n\r\n",
                 b"5;a\x01b\r\nhello\r\n0\r\n\r\n", b"0\r\nBad Trailer: x\r\n\r\n", b"0\r\nX: a\x7fb\r\n\r\n"):
        with Client(ctx.port) as c:
            c.send(head + body)
            r = c.read_response()
            check_error_page(r, 400)
            eq(r.get("Connection"), "close", f"Connection on a 400 for {body!r}")
            c.expect_closed()


@test
def test_405_methods(ctx):
    """POST, PUT, DELETE, TRACE and PATCH get 405 with Allow: GET, HEAD, OPTIONS."""
    for m in [b"POST", b"PUT", b"DELETE", b"TRACE", b"PATCH"]:
        r = expect_error_and_close(ctx, get("/c.txt", method=m), 405)
        eq(r.get("Allow"), "GET, HEAD, OPTIONS", f"Allow on 405 for {m.decode()}")


@test
def test_post_body_not_answered(ctx):
    """A POST whose body looks like a request: one 405 with Connection: close, never a second response."""
    with Client(ctx.port) as c:
        c.send(b"POST /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(EMBEDDED) + EMBEDDED)
        r = c.read_response()
        eq((r.status, r.get("Connection")), (405, "close"), "status and Connection")
        c.expect_closed()  # a second response here would be the embedded request answered


@test
def test_request_line_too_long_414(ctx):
    """A request line over 8192 bytes: 414 and close."""
    expect_error_and_close(ctx, get("/" + "a" * 9000), 414)


@test
def test_headers_too_large_431(ctx):
    """A head over 8 KiB in header fields: 431 and close."""
    expect_error_and_close(ctx, get("/c.txt", extra=b"X-Big: " + b"b" * 9000 + b"\r\n"), 431)
    many = b"".join(b"X-F%03d: %s\r\n" % (i, b"v" * 80) for i in range(95))  # ~9 KB in 95 fields
    expect_error_and_close(ctx, get("/c.txt", extra=many), 431)


@test
def test_101_fields_431(ctx):
    """Host plus 100 more fields (101 in all): 431 and close."""
    extra = b"".join(b"X-F%d: v\r\n" % i for i in range(100))
    expect_error_and_close(ctx, get("/c.txt", extra=extra), 431)


@test
def test_100_fields_ok(ctx):
    """Host plus 99 more fields (exactly 100): 200; then the server still serves another client."""
    extra = b"".join(b"X-F%d: v\r\n" % i for i in range(99))
    r = exchange(ctx.port, get("/c.txt", extra=extra))
    eq((r.status, r.body), (200, ctx.files["c.txt"]), "status and body with 100 fields")
    head = get("/c.txt", extra=b"X-Pad: " + b"p" * (7900 - len(get("/c.txt"))) + b"\r\n")
    check(len(head) < 8192, "test bug")
    r = exchange(ctx.port, head)
    eq(r.status, 200, f"status for a {len(head)}-byte head (under the 8 KiB limit)")
    r = fetch(ctx.port, "/c.txt")
    eq((r.status, r.body), (200, ctx.files["c.txt"]), "a later request")


@test
def test_common_headers_on_every_status(ctx):
    """200, listing, 301, 403, 404, 400, 405, 414, 431, 501, 505 all carry Date, Server, Content-Length and
    Content-Type; error pages name the status and reason."""
    cases = [
        (get("/c.txt"), 200), (get("/sub/"), 200), (get("/sub"), 301), (get("/fifo"), 403),
        (get("/missing"), 404), (b"GET /c.txt HTTP/1.1\r\n\r\n", 400), (get("/c.txt", method=b"DELETE"), 405),
        (get("/" + "x" * 9000), 414), (get("/", extra=b"X: " + b"y" * 9000 + b"\r\n"), 431),
        (get("/c.txt", method=b"BREW"), 501), (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    ]
    for raw, status in cases:
        r = exchange(ctx.port, raw)
        eq(r.status, status, f"status for {raw[:40]!r}")
        if status == 200:
            check_common(r)
        else:
            check_error_page(r, status)


# ---------------------------------------------------------------------------------------------
# Files and paths


@test
def test_path_forms_reach_the_file(ctx):
    """Query strings, absolute-form, ./, // and sub/../ all reach c.txt."""
    for target in ["/c.txt?x=1", "/c.txt?", "http://localhost/c.txt", "HTTP://localhost:8080/c.txt?q",
                   "/./c.txt", "//c.txt", "/sub/../c.txt", "/sub/./../c.txt", "/%63.txt"]:
        r = exchange(ctx.port, get(target))
        eq((r.status, r.body), (200, ctx.files["c.txt"]), f"response to {target}")


@test
def test_backslash_is_not_a_separator(ctx):
    """Backslash forms of traversal are never 200 and never /etc/passwd."""
    for target in [b"/..%5c..%5cetc/passwd", b"/..\\..\\etc/passwd", b"/sub\\..\\c.txt"]:
        with Client(ctx.port) as c:
            c.send(get(target))
            r = c.read_response()
            check(r.status in (400, 404), f"{target!r}: status {r.status}, expected 404 (or 400)")
            check(b"root:" not in r.body, f"{target!r}: /etc/passwd content")


@test
def test_percent_encoded_name(ctx):
    """A name with spaces, UTF-8 and markup characters, percent-encoded: 200 with its body."""
    r = fetch(ctx.port, WEIRD_URL)
    eq((r.status, r.body), (200, ctx.files[WEIRD]), "response")
    eq(r.get("Content-Type"), "text/plain; charset=utf-8", "Content-Type")


@test
def test_dotfiles_hidden(ctx):
    """Dotfiles and dot-directories are 404, even percent-encoded; /.well-known/ is served."""
    for target in ["/.secret", "/.git/config", "/.git/", "/.git", "/sub/.hidden", "/%2esecret",
                   "/sub/%2Ehidden", "/.well-known/../.secret", "/.well-known/.x"]:
        r = fetch(ctx.port, target)
        check_error_page(r, 404)
        check(b"SECRET" not in r.body and b"secret = yes" not in r.body, f"{target}: hidden content leaked")
    r = fetch(ctx.port, "/.well-known/security.txt")
    eq((r.status, r.body), (200, ctx.files[".well-known/security.txt"]), "/.well-known/security.txt")


@test
def test_fifo_forbidden(ctx):
    """A non-regular file (FIFO) is 403, answered at once (the server never blocks opening it)."""
    r = fetch(ctx.port, "/fifo", timeout=3)
    check_error_page(r, 403)


@test
def test_unreadable_file_forbidden(ctx):
    """A mode-000 file is 403, and so is a directory whose index.html is mode 000: its listing would show what
    the index hides. Root reads anything, so as root a dedicated server runs as nobody."""
    if os.geteuid() != 0:
        check_error_page(fetch(ctx.port, "/noperm.txt"), 403)
        check_error_page(fetch(ctx.port, "/lockedidx/"), 403)
        return

    def become_nobody():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    os.chmod(ctx.root, 0o755)
    with ctx.start("-q", preexec_fn=become_nobody) as s:
        check_error_page(fetch(s.port, "/noperm.txt"), 403)
        check_error_page(fetch(s.port, "/lockedidx/"), 403)
        eq(fetch(s.port, "/c.txt").status, 200, "a readable file, served as nobody")


@test
def test_symlink_followed(ctx):
    """A symlink to a file is followed: 200 with the target's body."""
    r = fetch(ctx.port, "/link.txt")
    eq((r.status, r.body), (200, ctx.files["c.txt"]), "response")


@test
def test_directory_redirect(ctx):
    """A directory without its slash: 301 with Location /sub/, the query kept."""
    for target, loc in [("/sub", "/sub/"), ("/sub?a=1", "/sub/?a=1"), ("/withindex", "/withindex/"),
                        ("/sub/a%20dir", "/sub/a%20dir/"), ("/sub/zdir?x=%41&y", "/sub/zdir/?x=%41&y")]:
        r = fetch(ctx.port, target)
        check_error_page(r, 301)
        eq(r.get("Location"), loc, f"Location for {target}")


@test
def test_well_known_dir_redirect(ctx):
    """/.well-known is served like any directory, so without its slash it redirects (not 404)."""
    r = fetch(ctx.port, "/.well-known")
    check_error_page(r, 301)
    eq(r.get("Location"), "/.well-known/", "Location")


@test
def test_directory_index(ctx):
    """A directory with index.html serves it as text/html."""
    r = fetch(ctx.port, "/withindex/")
    eq((r.status, r.body), (200, ctx.files["withindex/index.html"]), "response")
    eq(r.get("Content-Type"), "text/html; charset=utf-8", "Content-Type")
    r = fetch(ctx.port, "/")
    eq((r.status, r.body), (200, ctx.files["index.html"]), "root index")


def listing_rows(body):
    """(href, text, size) for each row link of a listing."""
    rows = re.findall(rb'<a href="([^"]*)">((?:[^<]|</?mark>)*)</a></td><td class="size"[^>]*>([^<]*)</td>', body)
    return [(h.decode(), t.decode(), s.decode()) for h, t, s in rows]


@test
def test_directory_listing(ctx):
    """A directory without index: sorted entries, dirs with '/', escaped names, encoded links, sizes,
    a ../ link, no dotfiles."""
    r = fetch(ctx.port, "/sub/")
    eq(r.status, 200, "status")
    check_common(r)
    eq(r.get("Content-Type"), "text/html; charset=utf-8", "Content-Type")
    rows = listing_rows(r.body)
    check(rows, f"no rows found in listing: {r.body[:300]!r}")
    eq(rows[0][:2], ("../", "../"), "first row (parent link)")
    names = [t for _, t, _ in rows[1:]]
    eq(names, ["a dir/", "zdir/", "b.txt", "hello wörld &amp; &lt;x&gt;.txt"], "listed names: directories first")
    hrefs = [h.removeprefix("./") for h, _, _ in rows[1:]]
    eq(hrefs, ["a%20dir/", "zdir/", "b.txt", WEIRD_URL[1:]], "links")
    eq(rows[3][2], "3 B", "size of b.txt")
    check(b'title="3 bytes">3 B<' in r.body, "exact size of b.txt in a title")
    check(b"hidden" not in r.body, "dotfile listed")
    check(WEIRD.encode() not in r.body, "raw unescaped name in the listing")
    for href in hrefs[1:]:  # the links work ("a dir/" is empty: see empty_directory_listing)
        rr = fetch(ctx.port, "/sub/" + href)
        eq(rr.status, 200, f"status of link {href}")


@test
def test_empty_directory_listing(ctx):
    """An empty directory lists only its ../ row."""
    r = fetch(ctx.port, "/sub/a%20dir/")
    eq(r.status, 200, "status")
    check_common(r)
    eq(listing_rows(r.body), [("../", "../", "-")], "rows of an empty directory")


@test
def test_root_listing_has_no_parent(ctx):
    """At the root, a listing has no ../ row (a server rooted at the index-less sub/ directory)."""
    with Server(ctx.binary, os.path.join(ctx.root, "sub"), ["-q"]) as srv:
        r = fetch(srv.port, "/")
        eq(r.status, 200, "status")
        rows = listing_rows(r.body)
        check(rows and all(h != "../" for h, _, _ in rows), f"root listing rows: {rows}")
        eq([t for _, t, _ in rows], ["a dir/", "zdir/", "b.txt", "hello wörld &amp; &lt;x&gt;.txt"], "names")


@test
def test_no_listings_flag(ctx):
    """With -L a directory without index is 403; an index and files are still served."""
    with ctx.start("-L", "-q") as srv:
        check_error_page(fetch(srv.port, "/sub/"), 403)
        r = fetch(srv.port, "/withindex/")
        eq((r.status, r.body), (200, ctx.files["withindex/index.html"]), "index with -L")
        eq(fetch(srv.port, "/sub/b.txt").body, b"abc", "file with -L")


@test
def test_download_1mib_identical(ctx):
    """The 1 MiB random file arrives byte for byte, twice on one connection."""
    with Client(ctx.port) as c:
        for _ in range(2):
            c.send(get("/rand1m.bin"))
            r = c.read_response(timeout=20)
            eq(r.status, 200, "status")
            eq(r.get("Content-Length"), str(1 << 20), "Content-Length")
            check(r.body == ctx.files["rand1m.bin"], "1 MiB body differs from the file")


@test
def test_huge_sparse_file(ctx):
    """5 GiB: HEAD gives the exact length; a GET streams a few MB, and so does a range of 4 GiB + 10 bytes
    (on a 32-bit build too); the server keeps serving."""
    r = exchange(ctx.port, get("/huge5g.bin", method=b"HEAD"), head_only=True)
    eq((r.status, r.get("Content-Length")), (200, str(HUGE)), "HEAD status and Content-Length")
    with Client(ctx.port) as c:
        c.send(get("/huge5g.bin"))
        r = c.read_head()
        eq((r.status, r.get("Content-Length")), (200, str(HUGE)), "GET status and Content-Length")
        data = c.read_exact(4 << 20, timeout=20)
        check(data == bytes(len(data)), "sparse file bytes are not zeros")
    with Client(ctx.port) as c:  # more than 4 GiB to send: a 32-bit size_t must not wrap the length
        c.send(get("/huge5g.bin", extra=f"Range: bytes=0-{2 ** 32 + 9}\r\n".encode()))
        r = c.read_head()
        eq((r.status, r.get("Content-Length")), (206, str(2 ** 32 + 10)), "a 4 GiB + 10 range's status and length")
        data = c.read_exact(1 << 20, timeout=20)
        check(data == bytes(len(data)), "sparse file bytes are not zeros")
    r = fetch(ctx.port, "/c.txt")
    eq((r.status, r.body), (200, ctx.files["c.txt"]), "a request after the huge download")


# ---------------------------------------------------------------------------------------------
# Loop and concurrency


@test
def test_half_sent_request_does_not_block(ctx):
    """One client stops mid-head; another is served meanwhile; the first then completes."""
    with Client(ctx.port) as a:
        a.send(b"GET /c.txt HTTP/1.1\r\nHo")
        r = fetch(ctx.port, "/a.css", timeout=3)
        eq((r.status, r.body), (200, ctx.files["a.css"]), "second client")
        check(not a.readable_within(0), "the half-sent request was answered")
        a.send(b"st: t\r\n\r\n")
        r = a.read_response()
        eq((r.status, r.body), (200, ctx.files["c.txt"]), "first client after completing its head")


def stalled_download(port, path="/big50.bin"):
    """A client that asks for a big file and never reads; returns once the server has started sending."""
    c = Client(port, rcvbuf=4096)
    try:
        c.send(get(path))
        wait_until(lambda: c.queued() > 0, WAIT, "the first bytes of the stalled download")
    except BaseException:
        c.close()
        raise
    return c


@test
def test_stalled_reader_does_not_block(ctx):
    """While one client sits on a 50 MB download without reading, another gets a small file at once."""
    stalled = stalled_download(ctx.port)
    try:
        for path in ["/c.txt", "/b.json"]:
            r = fetch(ctx.port, path, timeout=3)
            eq((r.status, r.body), (200, ctx.files[path[1:]]), f"{path} while a download is stalled")
    finally:
        stalled.close()


def abort_download(ctx, rst):
    with ctx.start("-q") as srv:
        base = srv.fd_count()
        c = Client(srv.port)
        try:
            c.send(get("/big50.bin"))
            r = c.read_head()
            eq(r.status, 200, "status")
            c.read_exact(256 * 1024)
            wait_until(lambda: srv.fd_count() == base + 2, WAIT, "socket and file open in the server")
        finally:
            c.close(rst=rst)
        wait_until(lambda: srv.fd_count() == base, WAIT, f"fd count back to {base} after the abort")
        r = fetch(srv.port, "/c.txt")
        eq((r.status, r.body), (200, ctx.files["c.txt"]), "request after the abort")
        check(srv.alive(), "server died")


@test
def test_abort_mid_transfer(ctx):
    """A client closes mid-download: the server frees the socket and file and keeps serving."""
    abort_download(ctx, rst=False)


@test
def test_abort_mid_transfer_rst(ctx):
    """Like abort_mid_transfer, but the client resets (SO_LINGER 0)."""
    abort_download(ctx, rst=True)


@test
def test_parked_connection_while_busy(ctx):
    """While other clients keep the loop busy, select() leaves out connections idle for 100 ms (the trace says
    so), yet a parked keep-alive connection that sends a request is still answered."""
    with ctx.start("-v", "-q") as srv:
        with Client(srv.port) as parked:
            parked.send(get("/c.txt"))
            eq(parked.read_response().status, 200, "first request on the parked connection")
            time.sleep(0.3)  # deliberate: the connection must sit idle past 100 ms
            stop = threading.Event()

            def hammer():
                with Client(srv.port) as c:
                    while not stop.is_set():
                        c.send(get("/c.txt") * 4)
                        for _ in range(4):
                            c.read_response()

            busy = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
            for t in busy:
                t.start()
            try:
                wait_until(lambda: "parked, not watched this round" in srv.stderr(), 10,
                           "a busy round that left the parked connection out")
                parked.send(get("/a.css"))
                r = parked.read_response(timeout=5)
                eq((r.status, r.body), (200, ctx.files["a.css"]), "the parked connection's request while busy")
            finally:
                stop.set()
                for t in busy:
                    t.join(5)


@test
def test_200_parallel_clients(ctx):
    """200 clients at once each GET a file: all 200 with the right body."""
    paths = ["/c.txt", "/a.css", "/b.json", "/image.png", WEIRD_URL, "/sub/b.txt", "/rand1m.bin"]
    names = ["c.txt", "a.css", "b.json", "image.png", WEIRD, "sub/b.txt", "rand1m.bin"]

    def client(i):
        k = i % len(paths)
        r = fetch(ctx.port, paths[k], timeout=15)
        eq(r.status, 200, f"status of {paths[k]}")
        check(r.body == ctx.files[names[k]], f"body of {paths[k]} differs")

    parallel(200, client, 20)
    check(ctx.server.alive(), "server died")


@test
def test_connection_cap(ctx):
    """-c 5: a sixth connection waits in the backlog until one closes; then 20 clients at once are all served."""
    with ctx.start("-c", "5", "-q") as srv:
        base = srv.fd_count()
        holders = []
        try:
            for _ in range(5):
                holders.append(Client(srv.port))
                holders[-1].send(b"GET /c.txt HTTP/1.1\r\n")
            wait_until(lambda: srv.fd_count() == base + 5, WAIT, "5 accepted connections")
            with Client(srv.port) as extra:
                extra.send(get("/a.css", extra=b"Connection: close\r\n"))
                # deliberate wait: a server ignoring the cap would answer within this time
                check(not extra.readable_within(0.5), "a sixth connection was served past -c 5")
                eq(srv.fd_count(), base + 5, "server descriptors at the cap")
                for h in holders:
                    h.send(b"Host: t\r\nConnection: close\r\n\r\n")
                for h in holders:
                    r = h.read_response()
                    eq((r.status, r.body), (200, ctx.files["c.txt"]), "held client")
                r = extra.read_response()
                eq((r.status, r.body), (200, ctx.files["a.css"]), "the sixth client once a slot freed")
        finally:
            for h in holders:
                h.close()

        def client(i):
            r = fetch(srv.port, "/c.txt", timeout=10)
            eq((r.status, r.body), (200, ctx.files["c.txt"]), "response")

        parallel(20, client, 15)
        check(srv.alive(), "server died")


def accepted_fd(srv, c):
    """The server's descriptor for client c, from the "accepted from" line of its -v trace; returns (fd, where
    that line ends in the trace), so that later lines about the same descriptor number are this connection's."""
    port = c.sock.getsockname()[1]
    m = wait_until(lambda: re.search(rf"^  fd (\d+): accepted from 127\.0\.0\.1:{port}$", srv.stderr(), re.M), WAIT,
                   f"the trace line accepting port {port}")
    return int(m.group(1)), m.end()


def trace_after(srv, pattern, start, what):
    """Waits for the first -v trace line matching pattern at or after offset start; returns the match."""
    return wait_until(lambda: re.compile(pattern, re.M).search(srv.stderr(), start), WAIT, what)


# The clock of the -t 1 tests is the client's own pacing, counted: other exchanges (or a trickle's bytes), one every
# PACE s at the least. The loop checks deadlines in every round and each of those events is a round, so a
# connection past its deadline is ended by the next event whatever the load; a loaded machine only makes fewer
# events. With -t 1 the deadline passes within 4 of them; PACED_MOST allows 15 (the default -t 10 would take 34).
PACE = 0.3
PACED_MOST = 15


def exchanges_until_ended(srv, c, what):
    """Whole exchanges on fresh connections, PACE s apart, until c has something to read (an answer or the
    close); returns how many ended with c still open. At least one: a close on accepting, or a deadline
    already past, would have ended c before the first other client got its answer. At most PACED_MOST."""
    n = 0
    while True:
        eq(fetch(srv.port, "/c.txt").status, 200, "another client's request")
        if c.readable_within(0):
            break
        n += 1
        check(n <= PACED_MOST, f"{what}: still open after {n} exchanges of other clients, {PACE} s apart at the "
                               f"least: the -t 1 deadline was not kept")
        time.sleep(PACE)  # deliberate pacing: the count is the clock
    check(n >= 1, f"{what}: answered or closed before another client's exchange ended")
    return n


@test
def test_timeout_silent_close_when_idle(ctx):
    """-t 1: a connection that sends nothing stays open while others are served, then is closed, with no bytes,
    for its idle timeout (so says the -v trace), within a few paced exchanges of other clients."""
    with ctx.start("-t", "1", "-v", "-q") as srv:
        with Client(srv.port) as c:
            fd, at = accepted_fd(srv, c)
            exchanges_until_ended(srv, c, "a silent connection")
            data, how = c.read_to_eof(WAIT)
            eq(data, b"", "bytes sent to a silent connection")
            m = trace_after(srv, rf"^  fd {fd}: closed \((.*)\)$", at, "the close line")
            eq(m.group(1), "idle timeout", "why the server closed the silent connection")


@test
def test_timeout_partial_head_408(ctx):
    """-t 1: a partial request head waits while others are served, then, within a few paced exchanges of other
    clients, gets 408 with Connection: close (the -v trace says the head timed out), then the close."""
    with ctx.start("-t", "1", "-v", "-q") as srv:
        with Client(srv.port) as c:
            c.send(b"GET /c.txt HTTP/1.1\r\nHost: t\r\n")
            fd, at = accepted_fd(srv, c)
            trace_after(srv, rf"^  fd {fd}: read \d+ bytes$", at, "the partial head read")
            exchanges_until_ended(srv, c, "a partial head")
            r = c.read_response(timeout=WAIT)
            check_error_page(r, 408)
            eq(r.get("Connection"), "close", "Connection header")
            trace_after(srv, rf"^  fd {fd}: request head timed out$", at, "the trace line saying the head timed out")
            c.expect_closed()


@test
def test_timeout_trickle_does_not_extend(ctx):
    """-t 1: one header byte every 0.3 s does not keep the head alive: the 408 comes before the whole head has
    been sent (a deadline that each byte extended would let all of it through, and answer 200), once the
    server has read at most a few of those bytes (the -v trace's reads)."""
    with ctx.start("-t", "1", "-v", "-q") as srv:
        with Client(srv.port, nodelay=True) as c:
            raw = get("/c.txt", extra=b"X-Slow: " + b"s" * 40 + b"\r\n")
            sent = 0
            for b in raw:  # bounded by the bytes of the head, not by time
                try:
                    c.send(bytes([b]))
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += 1
                if c.readable_within(PACE):  # deliberate pacing; stops as soon as an answer arrives
                    break
            check(sent < len(raw), f"all {len(raw)} bytes of the head went through one at a time: trickling kept it "
                                   f"alive")
            r = c.read_response(timeout=WAIT)
            check_error_page(r, 408)
            fd, at = accepted_fd(srv, c)
            end = trace_after(srv, rf"^  fd {fd}: request head timed out$", at,
                              "the trace line saying the head timed out").start()
            reads = len(re.findall(rf"^  fd {fd}: read \d+ bytes$", srv.stderr()[at:end], re.M))
            check(1 <= reads <= PACED_MOST, f"the server read the head in {reads} pieces, {PACE} s apart at the "
                                            f"least, before it timed out: the -t 1 deadline was not kept")


@test
def test_timeout_idle_keep_alive(ctx):
    """-t 1: an idle keep-alive connection stays open while others are served, then, within a few paced
    exchanges of other clients, is closed silently for its idle timeout (so says the -v trace)."""
    with ctx.start("-t", "1", "-v", "-q") as srv:
        with Client(srv.port) as c:
            c.send(get("/c.txt"))
            r = c.read_response()
            eq((r.status, r.closes()), (200, False), "keep-alive response")
            fd, at = accepted_fd(srv, c)
            exchanges_until_ended(srv, c, "an idle keep-alive connection")
            data, how = c.read_to_eof(WAIT)
            eq(data, b"", "bytes sent on the idle connection (no 408 expected)")
            m = trace_after(srv, rf"^  fd {fd}: closed \((.*)\)$", at, "the close line")
            eq(m.group(1), "idle timeout", "why the server closed the idle keep-alive connection")


@test
def test_timeout_stalled_download(ctx):
    """-t 1: a download the client never reads is dropped; the server's descriptors return to baseline."""
    with ctx.start("-t", "1", "-q") as srv:
        base = srv.fd_count()
        c = stalled_download(srv.port)
        try:
            wait_until(lambda: srv.fd_count() == base, WAIT, f"the stalled download dropped (fds back to {base})")
            data, how = c.read_to_eof(WAIT)
            check(len(data) < BIG50, f"the whole file arrived ({len(data)} bytes): nothing was dropped")
        finally:
            c.close()
        r = fetch(srv.port, "/c.txt")
        eq(r.status, 200, "request after the drop")


@test
def test_timeout_slow_reader_kept(ctx):
    """-t 1: a download that keeps progressing (5 bursts of reading with 0.4 s pauses: 2 s and more in all) is
    not cut off: only a stalled download is."""
    with ctx.start("-t", "1", "-q") as srv:
        with Client(srv.port, rcvbuf=65536) as c:
            c.send(get("/big50.bin"))
            r = c.read_head()
            eq(r.status, 200, "status")
            got = len(c.buf)
            for _ in range(5):  # bounded by bursts, not by time: the pauses add up past the timeout
                c.read_exact(4 << 20, timeout=WAIT)
                got += 4 << 20
                time.sleep(0.4)  # deliberate pause, shorter than the timeout
            check(got < BIG50, "test bug: the whole file was read")
            c.read_exact(1 << 20, timeout=WAIT)  # still flowing, not closed


def stop_test(ctx, sig, idle_client):
    with ctx.start() as srv:
        base = srv.fd_count()
        r = fetch(srv.port, "/c.txt")
        eq(r.status, 200, "status")
        srv.wait_line(lambda l: LOG_RE.match(l), WAIT, "the access-log line")
        c = None
        try:
            if idle_client:
                wait_until(lambda: srv.fd_count() == base, WAIT, "the first connection closed")
                c = Client(srv.port)
                wait_until(lambda: srv.fd_count() == base + 1, WAIT, "the idle connection accepted")
            rc = srv.stop(sig, timeout=5)
            eq(rc, 0, f"exit status after signal {sig}")
            if c:
                c.expect_closed(3)
        finally:
            if c:
                c.close()
        lines = srv.out_lines()
        check(lines and lines[-1].startswith("Stopped:"), f"last stdout line {lines[-1:]!r}, expected 'Stopped: ...'")
        nums = [int(n) for n in re.findall(r"\d+", lines[-1])]
        check(1 in nums and len(ctx.files["c.txt"]) in nums,
              f"summary {lines[-1]!r} does not show 1 request and {len(ctx.files['c.txt'])} bytes")


@test
def test_sigterm(ctx):
    """SIGTERM: exit 0 and a final 'Stopped:' summary line."""
    stop_test(ctx, signal.SIGTERM, False)


@test
def test_sigterm_with_idle_connection(ctx):
    """SIGTERM with an idle client connected: exit 0 at once, the client sees the close."""
    stop_test(ctx, signal.SIGTERM, True)


@test
def test_sigint(ctx):
    """SIGINT with an idle client connected: exit 0 and the summary."""
    stop_test(ctx, signal.SIGINT, True)


# A loop waiting correctly makes a handful of select() rounds in a second (10 to 22 here: at most two per 100 ms
# accept pause); one that spins makes hundreds of thousands (230,000 to 300,000 here, ASan build included, with
# the pause taken out or the listener watched at the cap). A bound on the count, never on time or CPU use.
SPIN_ROUNDS = 1000
STATUS_HEAD = b"GET /status?full HTTP/1.1\r\nHost: t\r\n"  # a server started with -S /status; no final CRLF


def status_rounds(probe, rest, what):
    """Sends rest (the end of a status request: STATUS_HEAD, or what follows it when probe already sent it)
    and returns the server's count of select() rounds from the answer."""
    probe.send(rest)
    r = probe.read_response(timeout=WAIT)
    eq(r.status, 200, f"status of GET /status?full {what}")
    m = re.search(r"^select\(\) rounds: (\d+)$", r.body.decode("latin-1"), re.M)
    check(m is not None, f"no select() rounds in the status {what}: {r.body[:300]!r}")
    return int(m.group(1))


def check_not_spinning(first, last, what):
    """The server's select() rounds over a second, from two calls that each return the count: a handful."""
    start = first()
    time.sleep(1.0)  # deliberate: the window whose rounds are counted
    rounds = last() - start
    check(rounds <= SPIN_ROUNDS, f"the server made {rounds} select() rounds in a second {what} (spinning; a "
                                 f"waiting loop makes a handful)")
    return rounds


@test
def test_emfile(ctx):
    """RLIMIT_NOFILE 20 and 25 + 40 clients: the server does not spin while out of descriptors (a handful of
    select() rounds in a second, counted by -S), stays alive, and serves every client 200."""
    limit = 20

    def lower_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    with ctx.start("-q", "-S", "/status", "-t", "60", preexec_fn=lower_limit) as srv:
        base = srv.fd_count()
        holders = []
        probes = [Client(srv.port, timeout=WAIT) for _ in range(2)]  # accepted first: connections come in order
        try:
            for p in probes:
                p.send(STATUS_HEAD)
            for _ in range(limit + 5):  # more than the server has descriptors for
                holders.append(Client(srv.port, timeout=WAIT))
                holders[-1].send(b"GET /c.txt HTTP/1.1\r\nHost: t\r\n")
            # Saturated: the server has taken all the connections it will (at EMFILE or its own cap).
            fds = wait_stable(srv.fd_count, 0.3, WAIT, "the server's descriptor count")
            check(base < fds <= limit, f"server holds {fds} descriptors (started with {base}, limit {limit})")
            # Status requests begun while the server had descriptors, finished now that it has none: each is
            # answered on its own connection, which, holding a partial head, is never closed to make room.
            finish = b"Connection: close\r\n\r\n"
            check_not_spinning(lambda: status_rounds(probes[0], finish, "at the start"),
                               lambda: status_rounds(probes[1], finish, "at the end"), "while out of descriptors")
            late = []  # what each of 40 more clients got: a status, "bad body" or an exception name

            def client():
                try:
                    r = fetch(srv.port, "/c.txt", timeout=WAIT)
                    late.append(r.status if r.status != 200 or r.body == ctx.files["c.txt"] else "bad body")
                except Exception as e:
                    late.append(type(e).__name__)

            backlog = [threading.Thread(target=client, daemon=True) for _ in range(40)]
            for t in backlog:
                t.start()
            held = []
            for h in holders:  # complete the held requests
                h.send(b"Connection: close\r\n\r\n")
            for h in holders:  # in connect order, which is the order the server accepts them in
                held.append(h.read_response(timeout=WAIT).status)
                h.close()  # as real clients do, so the server's lingering close ends at once
            deadline = time.monotonic() + 2 * WAIT
            for t in backlog:
                t.join(max(0.0, deadline - time.monotonic()))
            check(not any(t.is_alive() for t in backlog), f"backlogged clients still waiting after {2 * WAIT} s")
            check(srv.alive(), "server died")
            tally = lambda xs: ", ".join(f"{xs.count(x)}x {x}" for x in sorted(set(xs), key=str))
            check(held.count(200) == len(held) and late.count(200) == len(late),
                  f"not every client got 200: held clients {tally(held)}; backlogged clients {tally(late)}")
        finally:
            for h in holders + probes:
                h.close()


@test
def test_accept_emfile_pauses(ctx):
    """accept() failing with EMFILE (the limit lowered under a running server) pauses accepting without
    spinning (a handful of select() rounds in a second, counted by -S); once descriptors are available again,
    every waiting client is served. Started as root, the server keeps root (-u root): without CAP_SYS_RESOURCE,
    root may change the limits of its own uid only."""
    with ctx.start("-q", "-S", "/status", *(("-u", "root") if os.geteuid() == 0 else ())) as srv:
        probe = Client(srv.port, timeout=WAIT)  # a keep-alive connection for the status, made while descriptors are free
        clients = []
        try:
            status_rounds(probe, STATUS_HEAD + b"\r\n", "before the limit is lowered")
            fds = [fd for fd in map(int, os.listdir(f"/proc/{srv.pid}/fd")) if fd < 1024]  # valgrind keeps its own high
            eq(sorted(fds), list(range(len(fds))), "the server's descriptors are contiguous")
            old = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (len(fds), old[1]))
            for _ in range(5):
                clients.append(Client(srv.port, timeout=WAIT))
                clients[-1].send(get("/c.txt", extra=b"Connection: close\r\n"))
            wait_until(lambda: "pausing new connections" in srv.stderr(), WAIT, "the EMFILE message on stderr")
            check_not_spinning(lambda: status_rounds(probe, STATUS_HEAD + b"\r\n", "at the start"),
                               lambda: status_rounds(probe, STATUS_HEAD + b"\r\n", "at the end"), "while accept() failed")
            check(all(not c.readable_within(0) for c in clients), "a client was answered while out of descriptors")
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, old)
            for c in clients:
                r = c.read_response()
                eq((r.status, r.body), (200, ctx.files["c.txt"]), "a client that waited out the EMFILE pause")
        finally:
            for c in clients + [probe]:
                c.close()


@test
def test_empty_file_keeps_connection(ctx):
    """An empty file is 200 with Content-Length 0, and the keep-alive connection goes on to the next request."""
    with Client(ctx.port) as c:
        c.send(get("/empty.txt") + get("/c.txt"))
        r = c.read_response()
        eq((r.status, r.content_length(), r.body, r.closes()), (200, 0, b"", False), "the empty file")
        r = c.read_response()
        eq((r.status, r.body), (200, ctx.files["c.txt"]), "the request pipelined after it")


@test
def test_unix_socket_forbidden(ctx):
    """A UNIX socket in the tree is a non-regular file: 403, like the FIFO."""
    check_error_page(fetch(ctx.port, "/sock"), 403)


@test
def test_last_modified_at_epoch(ctx):
    """A file modified at time 0 still carries Last-Modified."""
    r = fetch(ctx.port, "/epoch.txt")
    eq((r.status, r.get("Last-Modified")), (200, "Thu, 01 Jan 1970 00:00:00 GMT"), "status and Last-Modified")


@test
def test_timeout_empty_lines_silent(ctx):
    """-t 1: empty lines alone do not start a request, so the timeout closes silently, without 408."""
    with ctx.start("-t", "1", "-q") as srv:
        with Client(srv.port) as c:
            c.send(b"\r\n\r\n")
            data, _ = c.read_to_eof(5)
            eq(data, b"", "bytes sent to a connection that sent only empty lines")


@test
def test_stalled_stdout_does_not_block(ctx):
    """With nobody reading its stdout pipe, the server goes on serving (log lines are dropped and counted);
    once the pipe is read again, new lines arrive."""
    proc = subprocess.Popen([ctx.binary, "-p", "0", "-r", ctx.root], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(re.search(rb":(\d+)/$", proc.stdout.readline().rstrip()).group(1))
        requests = 3000  # about 250 KB of log: more than the pipe and the server's queue hold
        with Client(port, timeout=10) as c:
            for start in range(0, requests, 100):
                c.send(get("/c.txt") * 100)
                for _ in range(100):
                    eq(c.read_response().status, 200, "a request while stdout is not read")
        eq(fetch(port, "/c.txt").status, 200, "a new client while stdout is not read")
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        def logged_after_stall():  # the queue may still be full for a moment: ask again until a line gets through
            eq(fetch(port, "/c.txt?after-the-stall").status, 200, "a request once stdout is read again")
            return any(b"after-the-stall" in line for line in lines)
        wait_until(logged_after_stall, 10, "a log line written after the stall", 0.1)
        proc.send_signal(signal.SIGTERM)
        eq(proc.wait(10), 0, "exit status")
        reader.join(5)
        summary = lines[-1].decode()
        m = re.search(r", (\d+) log lines dropped$", summary.rstrip("\n"))
        check(m and int(m.group(1)) > 0, f"summary line does not count dropped lines: {summary!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@test
def test_big_listing_sent_in_slices(ctx):
    """A listing larger than one round's slice (SLICE_BYTES) is written a slice at a time, and arrives whole."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server.c")) as f:
        m = re.search(r"#define SLICE_BYTES \((\d+) \* 1024\)", f.read())
    slice_bytes = int(m.group(1)) * 1024
    root = make_root("server-it-listing-")
    try:
        names = [f"{i:05d}-" + "n" * 150 for i in range(slice_bytes * 5 // 2 // 400)]
        for name in names:
            open(os.path.join(root, name), "wb").close()
        with Server(ctx.binary, root, ("-v", "-q")) as srv:
            with Client(srv.port, timeout=10) as c:
                c.send(get("/"))
                r = c.read_response()
            eq(r.status, 200, "status")
            check(r.content_length() > 2 * slice_bytes, f"listing of {r.content_length()} bytes is not large")
            check(names[0].encode() in r.body and names[-1].encode() in r.body, "first or last entry missing")
            writes = [int(n) for n in re.findall(r"wrote (\d+) bytes, \d+ of \d+ sent", srv.stderr())]
            check(len(writes) >= 3 and max(writes) <= slice_bytes, f"writes per round: {writes}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@test
def test_maxconn_lowered_to_the_limit(ctx):
    """-c beyond what the descriptor limit can hold (sockets, a share for files, the descriptors open at start)
    is lowered with a note on stderr naming ulimit -n, and the server still serves."""
    def lower_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))

    with ctx.start("-q", "-c", "1000", preexec_fn=lower_limit) as srv:
        m = wait_until(lambda: re.search(r"-c 1000 lowered to (\d+)\b.*ulimit -n", srv.stderr()), WAIT, "the note")
        check(100 <= int(m.group(1)) < 200, f"lowered to {m.group(1)} of a 200-descriptor limit")
        eq(fetch(srv.port, "/c.txt").status, 200, "a request")


@test
def test_body_file_above_fd_setsize(ctx):
    """Portable build (fd_set): a download's file descriptor is moved above FD_SETSIZE (1024), leaving the
    low numbers to sockets. The other builds watch any descriptor, so their files stay where they open."""
    if "portable" not in os.path.basename(ctx.binary):
        raise Skip("only the portable build keeps sockets below FD_SETSIZE")
    with ctx.start("-q") as srv:
        with open(f"/proc/{srv.pid}/limits") as f:
            soft = re.search(r"^Max open files\s+(\S+)", f.read(), re.M).group(1)
        if soft != "unlimited" and int(soft) <= 1024:
            raise Skip(f"descriptor limit {soft} leaves no room above FD_SETSIZE")
        with Client(srv.port, rcvbuf=4096) as c:
            c.send(get("/big50.bin"))
            eq(c.read_head().status, 200, "status")

            def body_fd():
                for fd in os.listdir(f"/proc/{srv.pid}/fd"):
                    try:
                        if os.readlink(f"/proc/{srv.pid}/fd/{fd}").endswith("/big50.bin"):
                            return int(fd)
                    except OSError:
                        pass
                return None
            fd = wait_until(body_fd, WAIT, "the open body file")
            check(fd >= 1024, f"body file on descriptor {fd}, below FD_SETSIZE")


# ---------------------------------------------------------------------------------------------
# Command line and logs


def run_cli(ctx, args, timeout=5, **popen):
    try:
        p = subprocess.run([ctx.binary, *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           **popen)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{args} still running after {timeout} s (killed)") from None
    err = p.stderr.decode("latin-1")
    for mark in SANITIZER_MARKS:
        check(mark not in err, f"sanitizer report: {err[:600]!r}")
    return p.returncode, p.stdout.decode("latin-1"), err


@test
def test_cli_help(ctx):
    """-h prints the usage on stdout and exits 0."""
    rc, out, err = run_cli(ctx, ["-h"])
    eq(rc, 0, "exit status")
    check("usage" in out.lower() and "-p" in out and "-t" in out, f"usage text: {out[:200]!r}")


CLI_BAD = [
    ("bad_flag", ["-x"]), ("port_70000", ["-p", "70000"]), ("port_negative", ["-p", "-1"]),
    ("port_not_a_number", ["-p", "80a"]), ("timeout_0", ["-t", "0"]), ("maxconn_0", ["-c", "0"]),
    ("maxconn_above_ceiling", ["-c", "4000001"]), ("missing_root", ["-r", "/nonexistent/dir/for/test"]),
    ("root_is_a_fifo", ["-r", "@fifo"]), ("root_and_dir", ["-p", "0", "extra"]), ("missing_value", ["-p"]),
    ("two_dirs", ["-p", "0", "@sub", "@withindex"]), ("long_unknown", ["--bogus"]),
    ("long_missing_value", ["--port"]), ("long_flag_with_value", ["--spa=1"]), ("long_bad_port", ["--port=x"]),
    ("header_content_length", ["-H", "Content-Length: 5"]), ("header_date", ["-H", "date: x"]),
    ("header_crlf", ["-H", "X-A: a\r\nSet-Cookie: b"]), ("header_lf", ["-H", "X-A: a\nb"]),
    ("header_bad_name", ["-H", "Bad Name: x"]), ("header_no_colon", ["-H", "X-A"]), ("header_empty_name", ["-H", ": x"]),
    ("header_too_long", ["-H", "X-A: " + "v" * 1100]), ("max_age_negative", ["-m", "-1"]),
    ("max_age_not_a_number", ["-m", "1h"]), ("auth_missing_file", ["-a", "/nonexistent/users"]),
    ("auth_no_colon", ["-a", "@users-bad"]), ("auth_empty_file", ["-a", "@empty.txt"]),
    ("auth_is_a_directory", ["-a", "@sub"]), ("auth_is_a_fifo", ["-a", "@fifo"]), ("auth_nul", ["-a", "@noext"]), ("auth_one_byte", ["-a", "@users-short"]),
    ("root_twice", ["-r", "@sub", "-r", "@withindex"]), ("port_with_space", ["-p", " 80"]),
    ("port_with_plus", ["-p", "+80"]),
]

for _name, _args in CLI_BAD:
    def _t(ctx, args=_args, name=_name):
        args = [os.path.join(ctx.root, a[1:]) if a.startswith("@") else a for a in args]
        if "-r" not in args and name != "two_dirs":
            args = ["-r", ctx.root] + args
        rc, out, err = run_cli(ctx, args)
        eq(rc, 2, f"exit status for {args}")
        check(err.strip(), "no message on stderr")
        check("Serving" not in out, "it started serving")
    _t.__doc__ = "A bad command line ends with exit 2 and a message on stderr."
    test(_t, name="cli_" + _name)


@test
def test_access_log(ctx):
    """One Common Log Format line per request, with status and body bytes; quotes and control bytes escaped."""
    with ctx.start() as srv:
        sent = []  # (expected request field or a predicate, status, bytes)
        r = exchange(srv.port, b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        sent.append(("GET / HTTP/1.1", r.status, len(r.body)))
        r = exchange(srv.port, get("/c.txt", method=b"HEAD", extra=b"Connection: close\r\n"), head_only=True)
        sent.append(("HEAD /c.txt HTTP/1.1", r.status, 0))
        r = fetch(srv.port, "/missing.txt")
        sent.append(("GET /missing.txt HTTP/1.1", 404, len(r.body)))
        r = fetch(srv.port, "/q%22x.txt")
        sent.append(("GET /q%22x.txt HTTP/1.1", 404, len(r.body)))
        # A raw quote in the target and an ESC byte: 400 either way; the log must stay one clean line.
        r = exchange(srv.port, b'GET /q"x\x1b HTTP/1.1\r\nHost: t\r\n\r\n')
        eq(r.status, 400, 'status for a target with a raw " and ESC')
        sent.append((lambda f: "\x1b" not in f, 400, len(r.body)))
        r = exchange(srv.port, b'GET /q"y.txt HTTP/1.1\r\nHost: t\r\nX-Esc: a\x1bb\r\n\r\n')
        eq(r.status, 400, "status for an ESC in a header value")
        sent.append((lambda f: re.match(r'^GET /q.+y\.txt HTTP/1\.1$', f) and "\x1b" not in f, 400, len(r.body)))
        r = exchange(srv.port, b'GET /q"z.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
        sent.append((lambda f: re.match(r'^GET /q.+z\.txt HTTP/1\.1$', f), r.status, len(r.body)))
        wait_until(lambda: len(srv.out_lines()) >= 1 + len(sent), WAIT, f"{len(sent)} access-log lines")
        eq(srv.stop(), 0, "exit status")
        lines = srv.out_lines()
        log = [line for line in lines[1:-1] if not line.startswith("  ")]  # the startup lines are indented
        eq(len(log), len(sent), f"number of access-log lines (stdout: {lines!r})")
        for line, (want, status, nbytes) in zip(log, sent):
            check(not re.search(r"[\x00-\x1f\x7f]", line), f"control byte in log line {line!r}")
            m = LOG_RE.match(line)
            check(m, f"not a Common Log Format line (or a raw quote inside the request): {line!r}")
            eq(m.group(1), "127.0.0.1", "client address")
            t = time.mktime(time.strptime(m.group(2), "%d/%b/%Y:%H:%M:%S +0000")) - time.timezone
            check(abs(t - time.time()) < 60, f"log time {m.group(2)} is not now")
            if callable(want):
                check(want(m.group(3)), f"request field {m.group(3)!r}")
            else:
                eq(m.group(3), want, "request field")
            eq((int(m.group(4)), int(m.group(5))), (status, nbytes), f"status and bytes in {line!r}")


@test
def test_quiet(ctx):
    """-q: no access-log lines, only the Serving line (and the Stopped summary on exit)."""
    with ctx.start("-q") as srv:
        for path in ["/c.txt", "/missing"]:
            fetch(srv.port, path)
        exchange(srv.port, b"GET /c.txt HTTP/1.1\r\n\r\n")
        eq(srv.stop(), 0, "exit status")
        lines = srv.out_lines()
        lines = [line for line in lines if not line.startswith("  ")]  # the startup lines are indented
        check(len(lines) == 2 and lines[0].startswith("Serving ") and lines[1].startswith("Stopped:"),
              f"stdout with -q: {lines!r}")


@test
def test_verbose_trace(ctx):
    """-v, the teaching trace on stderr: one line per select() round (its number, time, ready count and the
    connections in each state), then indented per descriptor: accepted from ADDR:PORT, read N bytes, request
    complete with its status, wrote N bytes (S of T sent), closed (why)."""
    with ctx.start("-v", "-q") as srv:
        with Client(srv.port) as other, Client(srv.port) as c:
            other.send(b"GET /c.txt HTTP/1.1\r\n")  # half a head: one connection stays reading
            req = get("/c.txt")
            c.send(req)
            r = c.read_response()
            eq(r.status, 200, "status")
            port = c.sock.getsockname()[1]
        m = wait_until(lambda: re.search(rf"^  fd (\d+): accepted from 127\.0\.0\.1:{port}$", srv.stderr(), re.M),
                       WAIT, "the accept line")
        fd = m.group(1)
        wait_until(lambda: re.search(rf"^  fd {fd}: closed \(.+\)$", srv.stderr(), re.M), WAIT, "the close line")
        err = srv.stderr()
        rounds = re.findall(r"^select #(\d+) at (\d+\.\d{3}) s: (\d+) ready; (\d+) open(: .*)?$", err, re.M)
        check(rounds, f"no round line like 'select #N at T s: N ready; N open: ...' in {err[:300]!r}")
        numbers = [int(n) for n, _, _, _, _ in rounds]
        eq(numbers, sorted(set(numbers)), "round numbers counting up")
        check(any(int(o) == 2 and re.fullmatch(r": \d+ (idle|reading|sending from memory|sending file)(, .*)?", s or "")
                  for _, _, _, o, s in rounds), "no round line with two open connections and their states")
        check(all(sum(int(k) for k in re.findall(r"(\d+) \w+", s or "")) == int(o) for _, _, _, o, s in rounds),
              "per-state counts that do not add up to the open count")
        reads = [int(n) for n in re.findall(rf"^  fd {fd}: read (\d+) bytes$", err, re.M)]
        eq(sum(reads), len(req), "bytes reported read")
        check(re.search(rf'^  fd {fd}: request "GET /c.txt HTTP/1.1" complete, answering 200$', err, re.M),
              "no request line in the trace")
        sent = re.findall(rf"^  fd {fd}: wrote (\d+) bytes, (\d+) of (\d+) sent$", err, re.M)
        check(sent and int(sent[-1][1]) == int(sent[-1][2]) == len(r.raw_head) + 4 + len(r.body),
              f"write lines {sent} do not add up to the response")


def no_ipv6_loopback():
    """Why ::1 cannot be bound here, or None when it can."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as e:
        return str(e)
    return None


@test
def test_ipv6(ctx):
    """-b ::1: the Serving line shows [::1] and a request over IPv6 gets 200."""
    if no_ipv6_loopback():
        raise Skip(f"no IPv6 loopback ({no_ipv6_loopback()})")
    with ctx.start("-b", "::1", "-q") as srv:
        eq(srv.host, "[::1]", "address in the Serving line")
        with Client(srv.port, host="::1", family=socket.AF_INET6) as c:
            c.send(get("/c.txt", host="[::1]"))
            r = c.read_response()
            eq((r.status, r.body), (200, ctx.files["c.txt"]), "response over IPv6")


# ---------------------------------------------------------------------------------------------
# Serving a folder the way people expect: command line, startup lines, headers, caching, access


def server_with(ctx, files, *args, **kw):
    """A dedicated server on a fresh world-readable tree of files {relative name: bytes}; a name ending in
    '/' makes a directory. Returns (server, root); the caller closes the server and removes root."""
    root = make_root("server-it-folder-")
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(path if name.endswith("/") else os.path.dirname(path), mode=0o755, exist_ok=True)
        if not name.endswith("/"):
            with open(path.encode(), "wb") as f:
                f.write(data)
    try:
        return Server(ctx.binary, root, args, **kw), root
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


class Tree:
    """with Tree(ctx, files, *args) as srv: a server on its own tree, both removed at the end."""

    def __init__(self, ctx, files, *args, **kw):
        self.srv, self.root = server_with(ctx, files, *args, **kw)

    def __enter__(self):
        return self.srv

    def __exit__(self, *exc):
        try:
            self.srv.__exit__(*exc)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@test
def test_cli_positional_root(ctx):
    """./server [options] DIR: the folder given as an argument is the root, like -r, and options may follow it."""
    with Server(ctx.binary, ctx.root, ("-q",), positional=True) as srv:
        eq(fetch(srv.port, "/c.txt").body, ctx.files["c.txt"], "a file of the positional root")
    rc, out, err = run_cli(ctx, [os.path.join(ctx.root, "sub"), "-p", "0", "--version"])
    eq(rc, 0, "DIR before the options, then --version")


@test
def test_cli_long_options(ctx):
    """Every option has a long form: --opt VALUE and --opt=VALUE both work, and short ones cluster (-qs)."""
    with ctx.start("--quiet", "--timeout=5", "--max-age", "60", "--header=X-Long: yes", "--no-listing") as srv:
        r = fetch(srv.port, "/c.txt")
        eq((r.get("Cache-Control"), r.get("X-Long")), ("max-age=60", "yes"), "--max-age and --header")
        eq(fetch(srv.port, "/sub/").status, 403, "--no-listing")
    with ctx.start("-qsm", "7") as srv:
        r = fetch(srv.port, "/no/such/route")
        eq((r.status, r.get("Cache-Control"), r.body), (200, "max-age=7", ctx.files["index.html"]), "-qsm 7")
        srv.stop()
        check(not any(LOG_RE.match(line) for line in srv.out_lines()), "-q in a cluster")


@test
def test_cli_help_lists_every_option(ctx):
    """-h and --help print usage on stdout, exit 0, and name every option in short and long form;
    --version and -V print the version."""
    for flag in ("-h", "--help"):
        rc, out, err = run_cli(ctx, [flag])
        eq(rc, 0, f"exit status of {flag}")
        for letter, name in (("p", "port"), ("b", "bind"), ("r", "root"), ("t", "timeout"), ("c", "max-conns"),
                             ("H", "header"), ("m", "max-age"), ("s", "spa"), ("a", "auth"), ("u", "user"),
                             ("S", "status"), ("L", "no-listing"), ("q", "quiet"), ("v", "verbose"), ("h", "help"),
                             ("V", "version")):
            check(re.search(rf"-{letter}, --{name}\b", out), f"{flag} does not list -{letter}, --{name}: {out!r}")
        check("[DIR | FILE]" in out, "usage names DIR and FILE")
    for flag in ("--version", "-V"):
        rc, out, err = run_cli(ctx, [flag])
        eq(rc, 0, f"exit status of {flag}")
        check(re.fullmatch(r"select-server \d+\.\d+\n", out), f"{flag} printed {out!r}")


@test
def test_cli_unknown_option_message(ctx):
    """An unknown option: one line on stderr naming it and pointing to --help, exit 2."""
    for bad in ("--bogus", "-x", "--port-number=5"):
        rc, out, err = run_cli(ctx, ["-r", ctx.root, bad])
        eq(rc, 2, f"exit status for {bad}")
        lines = err.strip().splitlines()
        check(len(lines) == 1 and f"'{bad.split('=')[0]}'" in lines[0] and "--help" in lines[0],
              f"message for {bad}: {err!r}")


@test
def test_cli_port_in_use(ctx):
    """A port already in use: exit 2, and the message suggests another port or -p 0."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        rc, out, err = run_cli(ctx, ["-p", str(s.getsockname()[1]), "-r", ctx.root])
        eq(rc, 2, "exit status")
        check("already in use" in err and "-p 0" in err and "-p PORT" in err, f"message: {err!r}")


@test
def test_cli_privileged_port_hint(ctx):
    """A port below 1024 as a normal user: exit 2, and the message suggests a port above 1024."""
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
        if int(f.read()) <= 80:
            raise Skip("this kernel lets every user bind port 80 (net.ipv4.ip_unprivileged_port_start)")
    nobody = 65534

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody)
        os.setuid(nobody)

    if os.geteuid() != 0:
        rc, out, err = run_cli(ctx, ["-p", "80", "-r", ctx.root])
    else:
        p = subprocess.run([ctx.binary, "-p", "80", "-r", ctx.root], capture_output=True, timeout=5,
                           preexec_fn=as_nobody, stdin=subprocess.DEVNULL)
        rc, err = p.returncode, p.stderr.decode()
    eq(rc, 2, "exit status")
    check("privileged" in err and "above 1024" in err, f"message: {err!r}")


@test
def test_cli_missing_root_hint(ctx):
    """A folder named on the command line that does not exist, or cannot be opened: exit 2, and the message
    names it and says what to check, not to name a folder (it was named). With no folder named, in a folder
    without the demo site, it says how to name one."""
    missing = os.path.join(ctx.root, "no-such-folder")
    for args in (["-r", missing], [missing]):
        rc, out, err = run_cli(ctx, ["-p", "0", *args])
        eq(rc, 2, f"exit status for {args}")
        check(missing in err and "check the name" in err and "name the folder" not in err, f"message: {err!r}")
    locked = os.path.join(ctx.root, "locked-folder")
    os.mkdir(locked, 0)
    try:
        rc, out, err = run_cli(ctx, ["-p", "0", locked], preexec_fn=lambda: os.setuid(65534) if os.getuid() == 0 else None)
        eq(rc, 2, "exit status for a folder this user may not open")
        check(locked in err and "chmod a+rx" in err and "name the folder" not in err, f"message: {err!r}")
    finally:
        os.rmdir(locked)
    elsewhere = tempfile.mkdtemp(prefix="server-cwd-")
    try:
        rc, out, err = run_cli(ctx, ["-p", "0"], cwd=elsewhere)
        eq(rc, 2, "exit status with no folder named and no ./public")
        check(re.search(r"name the folder to serve: \S+ DIR", err), f"message: {err!r}")
    finally:
        os.rmdir(elsewhere)


@test
def test_startup_loopback_note(ctx):
    """Bound to loopback, the line after the Serving line says only this machine can connect, and how to share."""
    with ctx.start("-q") as srv:
        lines = srv.out_lines()
        check(len(lines) >= 2 and "Only this machine" in lines[1] and "-b 0.0.0.0" in lines[1],
              f"startup lines: {lines!r}")


@test
def test_startup_wildcard_urls(ctx):
    """Bound to 0.0.0.0, the Serving line is followed by one URL per interface address, 127.0.0.1 first, and
    each one answers; bound to ::, IPv6 addresses are listed too. The portable build shows the host name."""
    with ctx.start("-q", "-b", "0.0.0.0") as srv:
        urls = [line.strip() for line in srv.out_lines()[1:] if line.startswith("  http://")]
        if "portable" in os.path.basename(ctx.binary):  # no getifaddrs in strict POSIX: the host name stands in
            eq(urls, [f"http://{socket.gethostname()}:{srv.port}/"], "the portable build's startup URL")
            return
        check(urls and urls[0] == f"http://127.0.0.1:{srv.port}/", f"startup URLs: {srv.out_lines()!r}")
        for url in urls:
            m = re.fullmatch(r"http://(\d+\.\d+\.\d+\.\d+):(\d+)/", url)
            check(m and int(m.group(2)) == srv.port, f"not an IPv4 URL with the port: {url!r}")
            with Client(srv.port, host=m.group(1)) as c:
                c.send(get("/c.txt"))
                r = c.read_response()
            eq(r.status, 200, f"GET through {url}")
    if no_ipv6_loopback():
        raise Skip(f"IPv4 checked; no IPv6 loopback for the :: case ({no_ipv6_loopback()})")
    with ctx.start("-q", "-b", "::") as srv:
        urls = [line.strip() for line in srv.out_lines()[1:] if line.startswith("  http://")]
        check(f"http://[::1]:{srv.port}/" in urls and f"http://127.0.0.1:{srv.port}/" in urls,
              f"startup URLs bound to :: : {urls!r}")


def every_status(port):
    """Responses for one request of each kind: 200, 206, 304, 301, 404, 400, 405, 416, 501, 505, 204."""
    etag = fetch(port, "/c.txt").get("ETag")
    close = b"Connection: close\r\n"
    raws = [get("/c.txt", extra=close), get("/c.txt", extra=b"Range: bytes=0-3\r\n" + close),
            get("/c.txt", extra=b"If-None-Match: " + etag.encode() + b"\r\n" + close), get("/sub", extra=close),
            get("/missing", extra=close), get("/%zz", extra=close), get("/c.txt", method=b"POST", extra=close),
            get("/c.txt", extra=b"Range: bytes=999-\r\n" + close), get("/c.txt", method=b"BREW", extra=close),
            b"GET /c.txt HTTP/2.0\r\nHost: t\r\n\r\n", get("/c.txt", method=b"OPTIONS", extra=close)]
    return [exchange(port, raw) for raw in raws]


@test
def test_header_option_on_every_status(ctx):
    """-H NAME: VALUE (repeatable) adds its header to every response, whatever the status."""
    with ctx.start("-q", "-H", "X-Test: yes", "-H", "Access-Control-Allow-Origin:  *  ") as srv:
        seen = set()
        for r in every_status(srv.port):
            seen.add(r.status)
            eq((r.get("X-Test"), r.get("Access-Control-Allow-Origin")), ("yes", "*"), f"-H headers on {r.status}")
        eq(seen, {200, 206, 304, 301, 404, 400, 405, 416, 501, 505, 204}, "statuses covered")


@test
def test_options_204(ctx):
    """OPTIONS on a file or a directory: 204 with Allow: GET, HEAD, OPTIONS and no body, the connection kept;
    OPTIONS * is 204 too; what a GET would not get (missing, hidden, a FIFO, unreadable) gets the GET's error.
    A CORS preflight passes with -H."""
    with Client(ctx.port) as c:
        for path in ("/c.txt", "/sub/", "/sub", "*"):
            c.send(get(path, method=b"OPTIONS"))
            r = c.read_response(head_only=True)
            eq((r.status, r.get("Allow"), r.get("Content-Length")), (204, "GET, HEAD, OPTIONS", None),
               f"OPTIONS {path}")
        c.send(get("/c.txt"))
        eq(c.read_response().body, ctx.files["c.txt"], "a GET on the same connection after the 204s")
    for path, status in (("/missing.txt", 404), ("/.secret", 404), ("/fifo", 403), ("/noperm.txt", 403)):
        eq(fetch(ctx.port, path, method=b"OPTIONS").status, status, f"OPTIONS {path}, as a GET would be answered")
    with ctx.start("-q", "-H", "Access-Control-Allow-Origin: *", "-H", "Access-Control-Allow-Headers: *") as srv:
        r = exchange(srv.port, get("/b.json", method=b"OPTIONS", extra=b"Origin: http://elsewhere.example\r\n"
                                   b"Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-a\r\n"),
                     head_only=True)
        eq((r.status, r.get("Access-Control-Allow-Origin"), r.get("Access-Control-Allow-Headers")), (204, "*", "*"),
           "a CORS preflight")


@test
def test_cache_control(ctx):
    """Files, their 304s and listings carry Cache-Control: no-cache by default; -m SECONDS sends max-age
    instead; error pages carry none."""
    r = fetch(ctx.port, "/c.txt")
    eq(r.get("Cache-Control"), "no-cache", "200 of a file")
    eq(fetch(ctx.port, "/c.txt", extra=b"If-None-Match: " + r.get("ETag").encode() + b"\r\n").get("Cache-Control"),
       "no-cache", "its 304")
    eq(fetch(ctx.port, "/sub/").get("Cache-Control"), "no-cache", "a listing")
    eq(fetch(ctx.port, "/missing").get("Cache-Control"), None, "a 404 page")
    eq(fetch(ctx.port, "/c.txt", extra=b"Range: bytes=999-\r\n").get("Cache-Control"), None, "a 416 page")
    with ctx.start("-q", "-m", "3600") as srv:
        eq(fetch(srv.port, "/c.txt").get("Cache-Control"), "max-age=3600", "-m 3600")
        eq(fetch(srv.port, "/big50.bin", method=b"HEAD").get("Cache-Control"), "max-age=3600", "-m on a big file")


@test
def test_spa_fallback(ctx):
    """-s: a GET or HEAD of a missing path gets the root's index.html with 200; files, listings and the
    dotfile and traversal rules are as without it; without -s a missing path is 404."""
    index = ctx.files["index.html"]
    with ctx.start("-q", "-s") as srv:
        for path in ("/app/route", "/app/route/", "/missing.txt", "/c.txt/below"):
            r = fetch(srv.port, path)
            eq((r.status, r.body, r.get("Content-Type")), (200, index, "text/html; charset=utf-8"), f"GET {path}")
        r = fetch(srv.port, "/deep/link", method=b"HEAD", head_only=True)
        eq((r.status, r.content_length()), (200, len(index)), "HEAD of a missing path")
        eq(fetch(srv.port, "/c.txt").body, ctx.files["c.txt"], "a file that exists")
        eq(fetch(srv.port, "/sub/").status, 200, "a listing")
        for path in ("/.secret", "/.git/config", "/sub/.hidden"):
            check_error_page(fetch(srv.port, path), 404)
        check_error_page(fetch(srv.port, "/../c.txt"), 400)
        eq(fetch(srv.port, "/app/route", method=b"OPTIONS").status, 204, "OPTIONS of a route, as its GET")
    check_error_page(fetch(ctx.port, "/app/route"), 404)


@test
def test_custom_404_page(ctx):
    """A root holding 404.html: it is the body of every 404 (missing, hidden, OPTIONS aside), the status stays
    404, HEAD has no body, and the connection is kept."""
    page = b"<!DOCTYPE html>\n<h1>Nothing here</h1>\n"
    with Tree(ctx, {"404.html": page, "a.txt": b"a\n", ".hidden": b"h\n"}, "-q") as srv:
        with Client(srv.port) as c:
            for path in ("/missing", "/.hidden", "/dir/missing.txt"):
                c.send(get(path))
                r = c.read_response()
                eq((r.status, r.body, r.get("Content-Type")), (404, page, "text/html; charset=utf-8"), f"GET {path}")
            c.send(get("/missing", method=b"HEAD"))
            r = c.read_response(head_only=True)
            eq((r.status, r.content_length()), (404, len(page)), "HEAD of a missing path")
            c.send(get("/a.txt"))
            eq(c.read_response().body, b"a\n", "the next request on the connection")
        eq(fetch(srv.port, "/404.html").status, 200, "the page itself")


def listing_names(body):
    """The names shown by a listing's rows, in order, the ../ row left out."""
    return [t for h, t, s in listing_rows(body) if h != "../"]


@test
def test_listing_order_and_format(ctx):
    """A listing: directories first, then files, each in natural order (file2 before file10, byte order
    breaking ties); human sizes with exact bytes in a title; times as YYYY-MM-DD HH:MM UTC; a viewport
    and an inline stylesheet, no external URL."""
    files = {name: b"" for name in ("file10", "file2", "file138", "file13", "File1", "b.txt", "a.txt", "file02")}
    files.update({"dir10/": b"", "dir9/": b"", "Zdir/": b"", "big.bin": b"x" * 4300, "one.bin": b"1"})
    with Tree(ctx, files, "-q") as srv:
        r = fetch(srv.port, "/")
        eq(listing_names(r.body), ["dir9/", "dir10/", "Zdir/", "a.txt", "b.txt", "big.bin", "File1", "file02", "file2",
                                   "file10", "file13", "file138", "one.bin"], "order")
        check(b'<td class="size" title="4300 bytes">4.2 KiB</td>' in r.body, "size of big.bin")
        check(b'<td class="size" title="1 byte">1 B</td>' in r.body, "size of one.bin")
        times = re.findall(rb'<td class="time">([^<]*)</td>', r.body)
        check(len(times) == 13 and all(re.fullmatch(rb"\d{4}-\d\d-\d\d \d\d:\d\d UTC", t) for t in times),
              f"times: {times[:3]}")
        check(b'<meta name="viewport" content="width=device-width, initial-scale=1">' in r.body, "viewport")
        check(b"<style>" in r.body and not re.search(rb"(src|href)=\"(https?:)?//", r.body), "inline style only")


@test
def test_listing_bidi_and_invisible_names(ctx):
    """Names holding bidirectional controls or other invisible characters show them as marked escapes, so
    photo<RLO>gpj.exe cannot pose as photoexe.jpg; the raw characters never reach the page, and the links work."""
    names = {"photo\u202egpj.exe": "photo<mark>\\u202E</mark>gpj.exe", "iso\u2066late\u2069.txt":
             "iso<mark>\\u2066</mark>late<mark>\\u2069</mark>.txt", "zero\u200bwidth.txt": "zero<mark>\\u200B</mark>width.txt",
             "caf\u00e9 \u65e5\u672c.txt": "caf\u00e9 \u65e5\u672c.txt", "a\u00a0b.txt": "a<mark>\\u00A0</mark>b.txt",
             "trail.txt ": "trail.txt<mark>\\u0020</mark>", "invoice\u200d.pdf": "invoice<mark>\\u200D</mark>.pdf"}
    with Tree(ctx, {name: name.encode() for name in names}, "-q") as srv:
        r = fetch(srv.port, "/")
        shown = listing_names(r.body)
        eq(sorted(shown), sorted(names.values()), "names shown")
        for raw in ("\u202e", "\u2066", "\u2069", "\u200b", "\u00a0", "\u200d"):
            check(raw.encode() not in r.body, f"raw U+{ord(raw):04X} in the page")
        for href, _, _ in listing_rows(r.body):
            rr = fetch(srv.port, "/" + href.removeprefix("./"))
            eq(rr.status, 200, f"link {href}")
            check(rr.body.decode() in names, f"link {href} reached {rr.body!r}")


def basic(user_password):
    import base64
    return b"Authorization: Basic " + base64.b64encode(user_password.encode()) + b"\r\n"


@test
def test_basic_auth(ctx):
    """-a FILE: without credentials 401 with WWW-Authenticate: Basic realm, before anything about the path is
    told; right ones 200; a wrong password, an unknown user and malformed headers 401; the connection is kept."""
    users = make_root("server-it-users-")
    try:
        path = os.path.join(users, "users")
        with open(path, "w") as f:
            f.write("\ufeff# who may come in, after a byte-order mark\nalice:s3cret\r\n\nbob:pass:with:colons\n")
        os.chmod(path, 0o600)
        with ctx.start("-q", "-a", path) as srv:
            with Client(srv.port) as c:
                for extra in (b"", basic("alice:wrong"), basic("carol:s3cret"), basic("alice:s3cret "),
                              b"Authorization: Basic !!!\r\n", b"Authorization: Bearer abc\r\n",
                              b"Authorization: Basic\r\n", basic("alice:s3cret") + basic("alice:s3cret")):
                    for p in ("/c.txt", "/missing", "/.secret"):
                        c.send(get(p, extra=extra))
                        r = c.read_response()
                        eq(r.status, 401, f"{p} with {extra!r}")
                        check(re.fullmatch(r'Basic realm="[^"]+", charset="UTF-8"', r.get("WWW-Authenticate") or ""),
                              f"WWW-Authenticate: {r.get('WWW-Authenticate')!r}")
                for who in ("alice:s3cret", "bob:pass:with:colons"):
                    c.send(get("/c.txt", extra=basic(who)))
                    r = c.read_response()
                    eq((r.status, r.body), (200, ctx.files["c.txt"]), f"GET as {who.split(':')[0]}")
                c.send(get("/missing", extra=basic("alice:s3cret")))
                eq(c.read_response().status, 404, "a missing path, once let in")
    finally:
        shutil.rmtree(users, ignore_errors=True)


def proc_ids(pid):
    """(real, effective, saved, fs) uids, the same gids, and the supplementary groups of a process."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    return ([int(x) for x in fields["Uid"].split()], [int(x) for x in fields["Gid"].split()],
            [int(x) for x in fields["Groups"].split()])


@test
def test_privilege_drop(ctx):
    """Started as root, the server binds, then serves as -u USER (default nobody): every uid and gid is the
    user's, no group of root's is left; an unknown user ends it with exit 2 before serving, and so does a
    root that user cannot search, with a hint."""
    if os.geteuid() != 0:
        raise Skip("not running as root, so there is no privilege to drop")
    import pwd
    nobody = pwd.getpwnam("nobody")
    for args in ((), ("-u", "nobody")):
        with ctx.start("-q", *args) as srv:
            uids, gids, groups = proc_ids(srv.pid)
            eq(uids, [nobody.pw_uid] * 4, f"uids with {args}")
            eq(gids, [nobody.pw_gid] * 4, f"gids with {args}")
            check(0 not in groups and 0 not in gids, f"root's group left: gids {gids}, groups {groups}")
            check("serving as user 'nobody'" in srv.stderr(), f"no note on stderr: {srv.stderr()!r}")
            eq(fetch(srv.port, "/c.txt").status, 200, "serving after the drop")
            check_error_page(fetch(srv.port, "/noperm.txt"), 403)  # mode 000: root could read it, nobody cannot
    rc, out, err = run_cli(ctx, ["-p", "0", "-r", ctx.root, "-u", "no-such-user-here"])
    eq(rc, 2, "exit status for an unknown user")
    check("no-such-user-here" in err and "Serving" not in out, f"stderr {err!r}, stdout {out!r}")
    locked = tempfile.mkdtemp(prefix="server-it-locked-")  # mode 0700: root's alone
    try:
        rc, out, err = run_cli(ctx, ["-p", "0", locked])
        eq(rc, 2, "exit status for a root the user cannot read")
        check(f"cannot serve {locked} as this user" in err and "chmod a+x" in err and "-u USER" in err,
              f"stderr {err!r}")
        os.chmod(locked, 0o711)  # searchable, not listable: enough to serve its files
        with open(os.path.join(locked, "f.txt"), "w") as f:
            f.write("in a 711 root\n")
        os.chmod(os.path.join(locked, "f.txt"), 0o644)
        with Server(ctx.binary, locked, ("-q",)) as srv:
            eq(fetch(srv.port, "/f.txt").body, b"in a 711 root\n", "a file of a 711 root")
    finally:
        shutil.rmtree(locked, ignore_errors=True)


@test
def test_make_install(ctx):
    """make install puts the binary at DESTDIR/PREFIX/bin/select-server, which serves the folder it is run in and
    says which; make uninstall removes it."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.join(here, "server") != ctx.binary:
        raise Skip("checked once, with ./server")
    if not shutil.which("make"):
        raise Skip("make is not installed")
    dest = tempfile.mkdtemp(prefix="server-it-install-")
    try:
        run = lambda *a: subprocess.run(["make", "-s", "-C", here, *a, f"DESTDIR={dest}", "PREFIX=/opt/x"],
                                        capture_output=True, timeout=120)
        p = run("install")
        eq(p.returncode, 0, f"make install: {p.stderr.decode()[-300:]}")
        installed = os.path.join(dest, "opt/x/bin/select-server")
        check(os.access(installed, os.X_OK), f"{installed} is not an executable")
        v = subprocess.run([installed, "--version"], capture_output=True, timeout=5)
        check(v.returncode == 0 and v.stdout.startswith(b"select-server "), f"--version: {v.stdout!r}")
        folder = os.path.realpath(make_root("server-it-cwd-"))
        with open(os.path.join(folder, "here.txt"), "wb") as f:
            f.write(b"the current folder\n")
        proc = subprocess.Popen([installed, "-q", "-p", "0"], cwd=folder, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = proc.stdout.readline().decode()
            m = re.match(r"^Serving (.*) on http://127\.0\.0\.1:(\d+)/$", line.rstrip("\n"))
            check(m is not None and m.group(1) == folder, f"first line {line!r}: it should name {folder}")
            eq(fetch(int(m.group(2)), "/here.txt").body, b"the current folder\n", "a file of the current folder")
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()
            proc.stderr.close()
            shutil.rmtree(folder, ignore_errors=True)
        p = run("uninstall")
        eq(p.returncode, 0, "make uninstall")
        check(not os.path.exists(installed), "still installed after make uninstall")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# A clean process: standard descriptors, shared pipes, the last lines, sendfile, special files, the cache


def raw_server(ctx, args, stdout, stderr, preexec_fn=None, env=None):
    """Starts the binary on the test tree with -p PORT (a free port found first) and the given descriptors;
    returns (process, port) once the port accepts connections."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([ctx.binary, "-p", str(port), "-r", ctx.root, *args], stdin=subprocess.DEVNULL,
                            stdout=stdout, stderr=stderr, preexec_fn=preexec_fn, env=env)

    def accepting():
        check(proc.poll() is None, f"the server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    try:
        wait_until(accepting, 10, "the server to accept connections")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc, port


def stop_raw(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("no exit within 10 s of SIGTERM")


@test
def test_closed_standard_descriptors(ctx):
    """Started with descriptor 2 closed (and -v), the server puts /dev/null there before opening anything,
    so neither its root nor a client's socket becomes descriptor 2 and receives the trace."""
    with open(ctx.binary, "rb") as f:
        if f.read(2) == b"#!":
            raise Skip("a wrapper script (valgrind's, in make stress) opens descriptor 2 for itself")
    proc, port = raw_server(ctx, ["-v", "-q"], subprocess.DEVNULL, None, preexec_fn=lambda: os.close(2))
    try:
        eq(os.readlink(f"/proc/{proc.pid}/fd/2"), "/dev/null", "descriptor 2 of the server")
        with Client(port) as c:
            c.send(get("/c.txt") + get("/a.css"))
            eq(c.read_response().body, ctx.files["c.txt"], "first response")
            eq(c.read_response().body, ctx.files["a.css"], "second response")
            check(not c.readable_within(0.2) or c.sock.recv(1) == b"", "bytes beyond the two responses (a trace?)")
        eq(stop_raw(proc), 0, "exit status")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@test
def test_shared_pipe_flags_restored(ctx):
    """stdout and stderr on one pipe (2>&1): after the server exits, the pipe is blocking again, as before."""
    r, w = os.pipe()
    try:
        before = fcntl.fcntl(w, fcntl.F_GETFL)
        proc, port = raw_server(ctx, ["-v"], w, w)
        fetch(port, "/c.txt")
        eq(stop_raw(proc), 0, "exit status")
        eq(fcntl.fcntl(w, fcntl.F_GETFL), before, "the pipe's file status flags after the server")
    finally:
        os.close(w)
        os.close(r)


@test
def test_trace_before_log_on_one_terminal(ctx):
    """-v with stdout and stderr on one pipe, as in a terminal: a request's trace lines come before its
    access-log line, in the order things happened."""
    r, w = os.pipe()
    try:
        proc, port = raw_server(ctx, ["-v"], w, w)
        os.close(w)
        w = None
        fetch(port, "/c.txt")
        eq(stop_raw(proc), 0, "exit status")
        text = b""
        while True:
            data = os.read(r, 65536)
            if not data:
                break
            text += data
        lines = text.decode("latin-1").splitlines()
        complete = [i for i, line in enumerate(lines) if '"GET /c.txt HTTP/1.1" complete' in line]
        logged = [i for i, line in enumerate(lines) if LOG_RE.match(line) and '"GET /c.txt HTTP/1.1" 200' in line]
        check(complete and logged and complete[0] < logged[0],
              f"trace line at {complete}, log line at {logged}: {lines[:12]!r}")
    finally:
        if w is not None:
            os.close(w)
        os.close(r)


@test
def test_stopped_line_reaches_a_slow_reader(ctx):
    """With the log's reader behind at exit (a full pipe and a full queue), the server waits up to a second
    for it: every line arrives whole, and the last is the Stopped summary."""
    r, w = os.pipe()
    try:
        proc, port = raw_server(ctx, [], w, subprocess.DEVNULL)
        os.close(w)
        w = None
        with Client(port) as c:  # some 3,000 log lines: more than the pipe and the queue hold together
            for _ in range(30):
                c.send(get("/empty.txt") * 100)
                for _ in range(100):
                    c.read_response()
        proc.send_signal(signal.SIGTERM)
        chunks = []
        while True:  # a slow reader: the rest is read 0.2 s after the signal, then as it comes
            if not select.select([r], [], [], 0.2)[0] and proc.poll() is not None and not select.select([r], [], [], 0)[0]:
                break
            data = os.read(r, 4096)
            if not data:
                break
            chunks.append(data)
            time.sleep(0.001)
        eq(proc.wait(10), 0, "exit status")
        text = b"".join(chunks).decode("latin-1")
        check(text.endswith("\n"), f"the output ends mid-line: {text[-120:]!r}")
        lines = text.splitlines()
        check(lines[-1].startswith("Stopped: "), f"last line {lines[-1]!r}")
        for line in lines[1:-1]:
            check(LOG_RE.match(line) or line.startswith("  "), f"a cut or garbled line: {line!r}")
    finally:
        if w is not None:
            os.close(w)
        os.close(r)


NO_SENDFILE = r"""
#include <errno.h>
#include <sys/types.h>
/* sendfile refused, as some file systems refuse it. */
long sendfile(int out, int in, void *off, unsigned long n) { (void)out; (void)in; (void)off; (void)n; errno = EINVAL; return -1; }
long sendfile64(int out, int in, void *off, unsigned long n) { return sendfile(out, in, off, n); }
"""


@test
def test_sendfile_refused_falls_back(ctx):
    """When sendfile fails with EINVAL (a file system that refuses it; here an LD_PRELOAD stand-in), the
    download goes on with pread and write instead of closing after the head."""
    name = os.path.basename(ctx.binary)
    if "asan" in name or "32" in name:
        raise Skip("the stand-in library is built for the native, unsanitized builds")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise Skip("no C compiler for the stand-in library")
    work = tempfile.mkdtemp(prefix="server-it-nosendfile-")
    try:
        with open(os.path.join(work, "nosendfile.c"), "w") as f:
            f.write(NO_SENDFILE)
        lib = os.path.join(work, "nosendfile.so")
        subprocess.run([cc, "-shared", "-fPIC", "-o", lib, os.path.join(work, "nosendfile.c")], check=True,
                       capture_output=True, timeout=60)
        env = dict(os.environ, LD_PRELOAD=lib)
        proc, port = raw_server(ctx, ["-q"], subprocess.DEVNULL, subprocess.DEVNULL, env=env)
        try:
            r = fetch(port, "/rand1m.bin", timeout=30)
            eq((r.status, r.body == ctx.files["rand1m.bin"]), (200, True), "GET /rand1m.bin, every byte")
            r = fetch(port, "/big50.bin", timeout=60)
            eq((r.status, len(r.body)), (200, BIG50), "GET /big50.bin")
        finally:
            stop_raw(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@test
def test_terminal_never_becomes_controlling(ctx):
    """A name linking to a terminal is 403, and opening it does not make it the server's controlling
    terminal (O_NOCTTY): the server runs as a session leader without one, as a daemon would."""
    leader, follower = os.openpty()
    link = os.path.join(ctx.root, "tty-link")
    try:
        os.symlink(os.ttyname(follower), link)
        proc, port = raw_server(ctx, ["-q", "-u", "root"] if os.geteuid() == 0 else ["-q"], subprocess.DEVNULL,
                                subprocess.DEVNULL, preexec_fn=os.setsid)
        try:
            check_error_page(fetch(port, "/tty-link"), 403)
            with open(f"/proc/{proc.pid}/stat") as f:
                tty_nr = int(f.read().rsplit(")", 1)[1].split()[4])
            eq(tty_nr, 0, "the server's controlling terminal (tty_nr) after the request")
        finally:
            stop_raw(proc)
    finally:
        os.unlink(link)
        os.close(leader)
        os.close(follower)


@test
def test_cache_keeps_colliding_paths(ctx):
    """/file1.txt and /fileq.txt hash to the same cache set: asked in turn, both stay in memory (the trace
    says "from memory" for each), rather than throwing each other out on every request."""
    with ctx.start("-q", "-v") as srv:
        def both_from_memory():
            with Client(srv.port) as c:
                for path in ("/file1.txt", "/fileq.txt") * 3:
                    c.send(get(path))
                    c.read_response()
            return srv.stderr().count('"GET /file1.txt HTTP/1.1" complete, answering 200 from memory') >= 2 and \
                srv.stderr().count('"GET /fileq.txt HTTP/1.1" complete, answering 200 from memory') >= 2
        wait_until(both_from_memory, 10, "both files answered from memory (files are kept once 2 s old)", 0.3)


# ---------------------------------------------------------------------------------------------
# Ranges, validators, MIME table, precompressed files


def ask(port, path, fields=b"", method=b"GET"):
    """One request with extra header fields on a fresh connection; a HEAD or a 304 has no body."""
    with Client(port) as c:
        c.send(get(path, extra=fields, method=method))
        r = c.read_head()
        if method != b"HEAD" and r.status != 304:
            r.body = c.read_exact(r.content_length())
        return r


def check_not_modified(r, etag, vary=None):
    """A 304: ETag, Last-Modified, Date and (for a file with a .gz sibling) Vary, and nothing that describes a body."""
    eq(r.status, 304, "status")
    eq((r.get("ETag"), r.get("Vary")), (etag, vary), "ETag and Vary on the 304")
    check(r.get("Last-Modified") and DATE_RE.match(r.get("Date") or ""), "Last-Modified or Date missing on the 304")
    eq((r.get("Content-Length"), r.get("Content-Type")), (None, None), "body fields on the 304")


@test
def test_file_validators_sent(ctx):
    """File responses carry Accept-Ranges, a quoted ETag and Last-Modified; HEAD gives the same ETag; the
    ETag changes when the file's modification time does; listings and errors carry no ETag."""
    r = fetch(ctx.port, "/c.txt")
    etag = r.get("ETag")
    eq((r.status, r.get("Accept-Ranges"), r.get("Last-Modified")), (200, "bytes", MTIME_HTTP), "fields")
    check(etag and re.match(r'^"[!#-~]+"$', etag), f"ETag {etag!r} is not a strong quoted tag")
    eq(ask(ctx.port, "/c.txt", method=b"HEAD").get("ETag"), etag, "ETag of HEAD")
    path = os.path.join(ctx.root, "c.txt")
    try:
        os.utime(path, (MTIME + 1, MTIME + 1))
        check(fetch(ctx.port, "/c.txt").get("ETag") != etag, "ETag unchanged after the mtime changed")
    finally:
        os.utime(path, (MTIME, MTIME))
    eq(fetch(ctx.port, "/c.txt").get("ETag"), etag, "ETag back with the old mtime")
    for target in ("/sub/", "/nope"):
        eq(fetch(ctx.port, target).get("ETag"), None, f"ETag on {target}")


@test
def test_memory_cache_follows_changes(ctx):
    """A small file unchanged for 2 s is served from memory (the trace says so), yet a file rewritten at once
    with the same size, replaced, deleted, made a directory, or given a .gz sibling is seen by the next
    request (the cache checks once per select() round)."""
    path = os.path.join(ctx.root, "cached.txt")

    def put(data):
        with open(path, "wb") as f:
            f.write(data)

    def from_memory(srv):
        return len(re.findall(r'"GET /cached.txt HTTP/1.1" complete, answering 200 from memory', srv.stderr()))

    try:
        put(b"version one\n")
        with ctx.start("-v", "-q") as srv:
            eq(fetch(srv.port, "/cached.txt").body, b"version one\n", "a file just written")
            eq(from_memory(srv), 0, "responses from memory for a file changed within 2 s")
            time.sleep(2.2)  # deliberate: the file must sit unchanged for 2 s before it is kept in memory
            for _ in range(3):
                eq(fetch(srv.port, "/cached.txt").body, b"version one\n", "the settled file")
            wait_until(lambda: from_memory(srv) == 2, WAIT, "two responses from memory after the one that read it")
            r = ask(srv.port, "/cached.txt", b"Range: bytes=8-10\r\n")
            eq((r.status, r.get("Content-Range"), r.body), (206, "bytes 8-10/12", b"one"), "a range of the copy")
            r = ask(srv.port, "/cached.txt", method=b"HEAD")
            eq((r.status, r.content_length()), (200, 12), "HEAD of the copy")
            check_not_modified(ask(srv.port, "/cached.txt", f"If-None-Match: {r.get('ETag')}\r\n".encode()),
                               r.get("ETag"))
            wait_until(lambda: "answering 206 from memory" in srv.stderr() and "answering 304 from memory" in
                       srv.stderr(), WAIT, "the range and the 304 answered from memory")
            for _ in range(2):  # a directory's index page: read once, then from memory
                eq(fetch(srv.port, "/").body, ctx.files["index.html"], "the index page")
            wait_until(lambda: '"GET / HTTP/1.1" complete, answering 200 from memory' in srv.stderr(), WAIT,
                       "the index page answered from memory")
            put(b"version two\n")  # same size, written at once: only the change times differ
            eq(fetch(srv.port, "/cached.txt").body, b"version two\n", "content after a rewrite of the same size")
            wait_until(lambda: "answering 200" in srv.stderr().rsplit("cached.txt", 1)[1], WAIT, "the trace line")
            eq(from_memory(srv), 2, "responses from memory once the file changed")
        time.sleep(2.2)  # deliberate: settle again, so that the next changes meet a cached copy
        eq(fetch(ctx.port, "/cached.txt").body, b"version two\n", "the settled file, read into memory")
        with open(path + ".new", "wb") as f:
            f.write(b"version three, longer\n")
        os.rename(path + ".new", path)
        eq(fetch(ctx.port, "/cached.txt").body, b"version three, longer\n", "content after a rename over it")
        with open(path + ".gz", "wb") as f:
            f.write(gzip.compress(b"version three, longer\n"))
        r = ask(ctx.port, "/cached.txt", b"Accept-Encoding: gzip\r\n")
        eq((r.get("Content-Encoding"), r.get("Vary")), ("gzip", "Accept-Encoding"), "a .gz sibling that appeared")
        os.unlink(path + ".gz")
        r = ask(ctx.port, "/cached.txt", b"Accept-Encoding: gzip\r\n")
        eq((r.get("Content-Encoding"), r.get("Vary"), r.body), (None, None, b"version three, longer\n"),
           "the sibling removed again")
        os.unlink(path)
        eq(fetch(ctx.port, "/cached.txt").status, 404, "status after deletion")
        os.mkdir(path)
        eq((fetch(ctx.port, "/cached.txt").status, fetch(ctx.port, "/cached.txt/").status), (301, 200),
           "a directory where the file was")
    finally:
        for leftover in (path + ".gz", path + ".new"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        if os.path.isdir(path):
            os.rmdir(path)
        elif os.path.exists(path):
            os.unlink(path)


@test
def test_change_seen_within_a_round(ctx):
    """A kept file changed right after a response and asked for again at once, on a new connection, is seen,
    even while that response's select() round is still serving the 126 clients queued behind it (16 pipelined
    requests each): a round accepts every client before it answers any, so a file checked once in the round is as
    fresh as all its requests."""
    path = os.path.join(ctx.root, "round.txt")
    with open(path, "wb") as f:
        f.write(b"before\n")
    try:
        with ctx.start("-v", "-q") as srv:
            time.sleep(2.2)  # deliberate: the file must sit unchanged for 2 s before it is kept in memory
            for _ in range(2):
                eq(fetch(srv.port, "/round.txt").body, b"before\n", "the settled file")
            wait_until(lambda: "answering 200 from memory" in srv.stderr(), WAIT, "the file kept in memory")
            os.kill(srv.pid, signal.SIGSTOP)  # queue them all, so that one round accepts them together
            try:
                first = Client(srv.port)
                first.send(get("/round.txt"))
                others = [Client(srv.port) for _ in range(126)]
                for c in others:
                    c.send(get("/round.txt") * 16)
            finally:
                os.kill(srv.pid, signal.SIGCONT)
            before = first.read_response()
            with open(path, "wb") as f:  # the same size: only the times tell
                f.write(b"after!\n")
            with Client(srv.port) as late:
                late.send(get("/round.txt"))
                after = late.read_response()
            eq(after.body, b"after!\n", "the file as changed after the first response")
            check(after.get("ETag") != before.get("ETag"), "the ETag of the changed file")
            for c in others:
                eq([c.read_response().status for _ in range(16)], [200] * 16, "a client queued behind the first")
                c.close()
            first.close()
    finally:
        os.unlink(path)


@test
def test_close_never_resets_the_response(ctx):
    """A response that ends in a close arrives whole even when the client sends more after its request:
    the server shuts down its side and drains, because closing over unread input resets the connection
    and the kernel drops what it has not sent."""
    data = ctx.files["rand1m.bin"]
    with Client(ctx.port, rcvbuf=8192, timeout=20) as c:
        c.send(b"GET /rand1m.bin HTTP/1.0\r\n\r\n")
        head = c.read_head()
        c.send(b"\r\n")  # bytes after the request, arriving while the body is still being sent
        body, how = c.read_to_eof(20)
        eq((head.status, len(c.buf + body), how), (200, len(data), "eof"), "status, body length, end")
        check(c.buf + body == data, "the body differs from the file")
    pad = 8192 - len(b"GET /c.txt HTTP/1.0\r\nX-Pad: \r\n\r\n")
    with Client(ctx.port) as c:  # a head of exactly 8 KiB, then 20,000 more bytes in the same send
        c.send(b"GET /c.txt HTTP/1.0\r\nX-Pad: " + b"p" * pad + b"\r\n\r\n" + b"x" * 20000)
        r = c.read_response()
        eq((r.status, r.body), (200, ctx.files["c.txt"]), "the answer to a full head with more bytes after it")


@test
def test_range_forms(ctx):
    """bytes=a-b, a- and -n each give 206 with Content-Range and the exact slice; an end past the file is clamped."""
    data, size = ctx.files["rand1m.bin"], len(ctx.files["rand1m.bin"])
    for spec, first, last in (("0-99", 0, 99), ("1000-", 1000, size - 1), ("-500", size - 500, size - 1),
                              ("1048000-2000000", 1048000, size - 1), ("-2000000", 0, size - 1), ("7-7", 7, 7)):
        r = ask(ctx.port, "/rand1m.bin", f"Range: bytes={spec}\r\n".encode())
        eq((r.status, r.get("Content-Range"), r.content_length()),
           (206, f"bytes {first}-{last}/{size}", last - first + 1), f"bytes={spec}")
        check(r.body == data[first:last + 1], f"bytes={spec}: body is not the slice")
        eq((r.get("Accept-Ranges"), r.get("Last-Modified")), ("bytes", MTIME_HTTP), f"bytes={spec}: file fields")


@test
def test_range_unsatisfiable(ctx):
    """A range starting past the end, or bytes=-0, gets 416 with Content-Range: bytes */SIZE."""
    for spec in ("1048576-", "2000000-3000000", "-0"):
        r = ask(ctx.port, "/rand1m.bin", f"Range: bytes={spec}\r\n".encode())
        check_error_page(r, 416)
        eq(r.get("Content-Range"), "bytes */1048576", f"bytes={spec}: Content-Range")
    for spec in ("0-", "-0", "0-0"):
        r = ask(ctx.port, "/empty.txt", f"Range: bytes={spec}\r\n".encode())
        eq((r.status, r.get("Content-Range")), (416, "bytes */0"), f"bytes={spec} of an empty file")


@test
def test_range_suffix_of_empty_file(ctx):
    """bytes=-N (N > 0) of an empty file is satisfiable and selects all of it (RFC 9110 section 14.1.1), which
    no 206 can say: the answer is a 200 of the empty file."""
    r = ask(ctx.port, "/empty.txt", b"Range: bytes=-5\r\n")
    eq((r.status, r.content_length(), r.get("Content-Range")), (200, 0, None), "bytes=-5 of an empty file")


@test
def test_preconditions_412(ctx):
    """If-Match (strong comparison, * for any current file) and If-Unmodified-Since, before If-None-Match,
    If-Modified-Since and If-Range (RFC 9110 section 13.2.2): a failing one gets 412; a resumed download
    with Range and If-Match gets its 206 only while the file is the same."""
    etag = fetch(ctx.port, "/rand1m.bin").get("ETag")
    older, newer = "Wed, 01 Jan 2020 00:00:00 GMT", "Fri, 03 Jan 2020 00:00:00 GMT"  # around MTIME
    for fields, status in ((f"If-Match: {etag}", 200), ("If-Match: *", 200), (f'If-Match: "x", {etag}', 200),
                           ('If-Match: "x"', 412), (f"If-Match: W/{etag}", 412), ("If-Match: garbage", 412),
                           (f"If-Match: {etag}\r\nIf-Match: {etag}", 412),
                           (f"If-Unmodified-Since: {MTIME_HTTP}", 200), (f"If-Unmodified-Since: {newer}", 200),
                           (f"If-Unmodified-Since: {older}", 412), ("If-Unmodified-Since: not a date", 200),
                           (f"If-Match: {etag}\r\nIf-Unmodified-Since: {older}", 200),
                           (f'If-Match: "x"\r\nIf-None-Match: {etag}', 412),
                           (f"If-Unmodified-Since: {older}\r\nIf-None-Match: {etag}", 412),
                           (f"If-Match: {etag}\r\nIf-None-Match: {etag}", 304),
                           (f"If-Match: {etag}\r\nRange: bytes=0-9", 206), (f'If-Match: "x"\r\nRange: bytes=0-9', 412)):
        r = ask(ctx.port, "/rand1m.bin", fields.encode() + b"\r\n")
        eq(r.status, status, f"status for {fields!r}")
        if status == 412:
            check_error_page(r, 412)
    r = ask(ctx.port, "/rand1m.bin", f'If-Match: "x"\r\n'.encode(), method=b"HEAD")
    eq(r.status, 412, "HEAD with a failing If-Match")


@test
def test_last_modified_not_after_date(ctx):
    """A file modified in the future is sent with Last-Modified equal to Date, never later (RFC 9110
    section 8.8.2.1), and so is its 304; If-Unmodified-Since compares with that capped date, so the date sent
    holds within its second and not after it."""
    r = fetch(ctx.port, "/future.bin")
    eq((r.status, r.get("Last-Modified")), (200, r.get("Date")), "Last-Modified of a file from the future")
    sent = r.get("Last-Modified")
    r = ask(ctx.port, "/future.bin", f"If-None-Match: {r.get('ETag')}\r\n".encode())
    eq((r.status, r.get("Last-Modified")), (304, r.get("Date")), "and of its 304")
    r = ask(ctx.port, "/future.bin", f"If-Unmodified-Since: {sent}\r\n".encode())
    same_second = r.get("Date") == sent  # a second later, the date the server stands by is that later Date
    eq(r.status, 200 if same_second else 412, f"If-Unmodified-Since with the Last-Modified it was sent, "
       f"{'in the same second' if same_second else 'a second later'}: the date the server stands by")


@test
def test_range_ignored(ctx):
    """An invalid Range is ignored (200, whole file), and so are several ranges: the choice documented in the README."""
    for value in ("bytes=5-3", "bytes=abc", "items=0-5", "bytes=", "bytes=0 -5", "bytes=0-1,5-6", "bytes=0-0, -1"):
        r = ask(ctx.port, "/c.txt", f"Range: {value}\r\n".encode())
        eq((r.status, r.body, r.get("Content-Range")), (200, ctx.files["c.txt"], None), f"Range: {value}")


@test
def test_head_ignores_range(ctx):
    """HEAD with a Range: Range is defined for GET only (RFC 9110 section 14.2), so the answer is the head of
    the whole file's 200, the same fields as a GET without Range, and the connection goes on."""
    with Client(ctx.port) as c:
        c.send(get("/rand1m.bin", extra=b"Range: bytes=10-19\r\n", method=b"HEAD") + get("/rand1m.bin"))
        head = c.read_response(head_only=True)
        body = c.read_response()
    eq((head.status, head.get("Content-Range"), head.content_length()), (200, None, 1048576), "HEAD")
    check(body.body == ctx.files["rand1m.bin"], "GET after the HEAD: body is not the file")
    eq([h for h in head.headers if h[0] != "Date"], [h for h in body.headers if h[0] != "Date"], "HEAD vs GET fields")


@test
def test_ranges_beyond_4gib(ctx):
    """Ranges of the sparse 5 GiB file around 2^31 and 2^32 (one straddling each) and at its end return the bytes
    written there."""
    for offset, data in HUGE_MARKS.items():
        for first, last in ((offset, offset + len(data) - 1), (offset + 3, offset + 4)):
            r = ask(ctx.port, "/huge5g.bin", f"Range: bytes={first}-{last}\r\n".encode())
            eq((r.status, r.get("Content-Range")), (206, f"bytes {first}-{last}/{HUGE}"), f"range {first}-{last}")
            eq(r.body, data[first - offset:last - offset + 1], f"bytes {first}-{last}")
    r = ask(ctx.port, "/huge5g.bin", b"Range: bytes=-4\r\n")
    eq((r.status, r.get("Content-Range"), r.body), (206, f"bytes {HUGE - 4}-{HUGE - 1}/{HUGE}", HUGE_END),
       "the last 4 bytes")
    with Client(ctx.port) as c:  # an open-ended range from past 4 GiB: its length, then its first bytes
        c.send(get("/huge5g.bin", extra=f"Range: bytes={2 ** 32 - 4}-\r\n".encode()))
        r = c.read_head()
        eq((r.status, r.content_length()), (206, HUGE - 2 ** 32 + 4), "open-ended range past 4 GiB")
        eq(c.read_exact(8), b"89abcdef", "its first bytes")


@test
def test_if_none_match(ctx):
    """If-None-Match: the current ETag (alone, in a list, weak, or *) gets 304 without a body, on GET and HEAD,
    and the connection goes on; another ETag gets 200."""
    etag = fetch(ctx.port, "/c.txt").get("ETag")
    for value in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        for method in (b"GET", b"HEAD"):
            check_not_modified(ask(ctx.port, "/c.txt", f"If-None-Match: {value}\r\n".encode(), method), etag)
    r = ask(ctx.port, "/c.txt", b'If-None-Match: "other"\r\n')
    eq((r.status, r.body), (200, ctx.files["c.txt"]), "a different ETag")
    with Client(ctx.port) as c:
        c.send(get("/c.txt", extra=f"If-None-Match: {etag}\r\n".encode()) + get("/a.css"))
        check_not_modified(c.read_head(), etag)
        r = c.read_response()
        eq((r.status, r.body), (200, ctx.files["a.css"]), "the request after a 304 on the same connection")


@test
def test_if_modified_since(ctx):
    """If-Modified-Since in all three date forms: 304 when the file is not newer, 200 when it is; an invalid date
    is ignored; If-None-Match takes precedence."""
    etag = fetch(ctx.port, "/c.txt").get("ETag")
    for date in (MTIME_HTTP, "Thursday, 02-Jan-20 03:04:05 GMT", "Thu Jan  2 03:04:05 2020",
                 "Fri, 03 Jan 2020 00:00:00 GMT"):
        check_not_modified(ask(ctx.port, "/c.txt", f"If-Modified-Since: {date}\r\n".encode()), etag)
    check_not_modified(ask(ctx.port, "/page.html", f"If-Modified-Since: {MTIME_HTTP}\r\n".encode()),
                       fetch(ctx.port, "/page.html").get("ETag"), vary="Accept-Encoding")
    for date in ("Thu, 02 Jan 2020 03:04:04 GMT", "Wednesday, 01-Jan-20 23:59:59 GMT", "not a date",
                 "2020-01-03T00:00:00Z"):
        eq(ask(ctx.port, "/c.txt", f"If-Modified-Since: {date}\r\n".encode()).status, 200, date)
    r = ask(ctx.port, "/c.txt", f'If-None-Match: "other"\r\nIf-Modified-Since: {MTIME_HTTP}\r\n'.encode())
    eq(r.status, 200, "a non-matching If-None-Match with a matching If-Modified-Since")


@test
def test_if_range(ctx):
    """If-Range with the current ETag or Last-Modified date gets 206; anything else gets the full 200."""
    etag = fetch(ctx.port, "/rand1m.bin").get("ETag")
    for value, status in ((etag, 206), ('"other"', 200), (f"W/{etag}", 200), (MTIME_HTTP, 206),
                          ("Thu, 02 Jan 2020 03:04:06 GMT", 200), ("garbage", 200)):
        r = ask(ctx.port, "/rand1m.bin", f"Range: bytes=0-9\r\nIf-Range: {value}\r\n".encode())
        eq(r.status, status, f"If-Range: {value}")
        eq(r.body, ctx.files["rand1m.bin"][:10] if status == 206 else ctx.files["rand1m.bin"], f"body, If-Range: {value}")
    for date in ("Wed, 01 Jan 2020 12:00:00 GMT", "Wednesday, 01-Jan-20 12:00:00 GMT", "Wed Jan  1 12:00:00 2020"):
        r = ask(ctx.port, "/wednesday.bin", f"Range: bytes=0-3\r\nIf-Range: {date}\r\n".encode())
        eq((r.status, r.body), (206, bytes(range(4))), f"If-Range: {date}")
    future = fetch(ctx.port, "/future.bin").get("Last-Modified")
    r = ask(ctx.port, "/future.bin", f"Range: bytes=0-3\r\nIf-Range: {future}\r\n".encode())
    eq(r.status, 200, "If-Range with the date of a file modified in the current second or later (a weak validator)")


@test
def test_split_field_lines_not_used(ctx):
    """A validator, Range or Accept-Encoding sent on several lines is not used: the full, plain 200 is always a
    correct answer (RFC 9110 lets a server ignore validators and send identity)."""
    etag = fetch(ctx.port, "/c.txt").get("ETag")
    for fields, what in ((f"If-None-Match: {etag}\r\nIf-None-Match: {etag}\r\n", "If-None-Match"),
                         (f'If-None-Match: "x"\r\nIf-None-Match: "y"\r\nIf-Modified-Since: {MTIME_HTTP}\r\n',
                          "If-None-Match on two lines, so If-Modified-Since is not consulted"),
                         ("Range: bytes=0-1\r\nRange: bytes=0-1\r\n", "Range"),
                         (f"Range: bytes=0-1\r\nIf-Range: {etag}\r\nIf-Range: {etag}\r\n", "If-Range")):
        r = ask(ctx.port, "/c.txt", fields.encode())
        eq((r.status, r.body), (200, ctx.files["c.txt"]), what)
    r = ask(ctx.port, "/page.html", b"Accept-Encoding: gzip\r\nAccept-Encoding: br\r\n")
    eq((r.body, r.get("Content-Encoding")), (PAGE, None), "Accept-Encoding on two lines")


@test
def test_system_mime_types(ctx):
    """/etc/mime.types extends the built-in table (epub, ics with charset), while the built-in core types win."""
    if not os.path.exists("/etc/mime.types"):
        raise Skip("/etc/mime.types is absent (Debian package media-types)")
    with open("/etc/mime.types") as f:
        system = {ext: words[0] for words in (l.split() for l in f if not l.startswith("#")) for ext in words[1:]}
    check(system.get("wav") not in (None, "audio/wav"), "/etc/mime.types no longer differs from us on .wav")
    for name, builtin in (("a.js", "text/javascript; charset=utf-8"), ("b.json", "application/json"),
                          ("sound.wav", "audio/wav"), ("a.css", "text/css; charset=utf-8")):
        eq(fetch(ctx.port, "/" + name).get("Content-Type"), builtin, name)
    for name in ("book.epub", "cal.ics"):
        ext = name.rsplit(".", 1)[1]
        if ext not in system:
            raise Skip(f"/etc/mime.types has no .{ext}")
        want = system[ext] + ("; charset=utf-8" if system[ext].startswith("text/") else "")
        eq(fetch(ctx.port, "/" + name).get("Content-Type"), want, name)


@test
def test_gzip_static(ctx):
    """FILE.gz is sent for FILE when gzip is accepted: Content-Encoding gzip, FILE's type, Vary, its own ETag;
    otherwise FILE itself, still with Vary. A file without a .gz sibling has no Vary."""
    gz = ctx.files["page.html.gz"]
    plain = ask(ctx.port, "/page.html")
    eq((plain.status, plain.body, plain.get("Content-Encoding"), plain.get("Vary")),
       (200, PAGE, None, "Accept-Encoding"), "without Accept-Encoding")
    for accept in ("gzip", "deflate, gzip;q=0.5", "*", "br;q=1.0, x-gzip"):
        r = ask(ctx.port, "/page.html", f"Accept-Encoding: {accept}\r\n".encode())
        eq((r.status, r.get("Content-Encoding"), r.get("Content-Type"), r.get("Vary"), r.content_length()),
           (200, "gzip", "text/html; charset=utf-8", "Accept-Encoding", len(gz)), f"Accept-Encoding: {accept}")
        eq(gzip.decompress(r.body), PAGE, "the decompressed body")
        check(r.get("ETag") != plain.get("ETag"), "the gzip variant has the plain file's ETag")
    for accept in ("gzip;q=0", "deflate", "*;q=0", "identity"):
        r = ask(ctx.port, "/page.html", f"Accept-Encoding: {accept}\r\n".encode())
        eq((r.body, r.get("Content-Encoding"), r.get("Vary")), (PAGE, None, "Accept-Encoding"), accept)
    r = ask(ctx.port, "/c.txt", b"Accept-Encoding: gzip\r\n")
    eq((r.get("Content-Encoding"), r.get("Vary")), (None, None), "a file without a .gz sibling")
    r = ask(ctx.port, "/page.html", b"Accept-Encoding: gzip\r\n", method=b"HEAD")
    eq((r.get("Content-Encoding"), r.content_length()), ("gzip", len(gz)), "HEAD of the gzip variant")
    r = ask(ctx.port, "/page.html", b"Accept-Encoding: gzip\r\nRange: bytes=5000-\r\n")
    check_error_page(r, 416)
    eq((r.get("Content-Encoding"), r.get("Vary"), r.get("Content-Range")), (None, "Accept-Encoding", f"bytes */{len(gz)}"),
       "a 416 about the gzip variant: its page is not gzip")


@test
def test_gzip_stale_sibling_ignored(ctx):
    """A .gz sibling older than its file is never sent, so the answer does not vary by Accept-Encoding."""
    r = ask(ctx.port, "/stale.css", b"Accept-Encoding: gzip\r\n")
    eq((r.body, r.get("Content-Encoding"), r.get("Vary")), (ctx.files["stale.css"], None, None), "stale")


@test
def test_gzip_ranges_and_validators(ctx):
    """Ranges and ETags apply to the gzip bytes when the gzip variant is chosen."""
    gz = ctx.files["page.html.gz"]
    r = ask(ctx.port, "/page.html", b"Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n")
    eq((r.status, r.get("Content-Range"), r.body), (206, f"bytes 0-9/{len(gz)}", gz[:10]), "range of the gzip bytes")
    gz_etag = ask(ctx.port, "/page.html", b"Accept-Encoding: gzip\r\n").get("ETag")
    check_not_modified(ask(ctx.port, "/page.html", f"Accept-Encoding: gzip\r\nIf-None-Match: {gz_etag}\r\n".encode()),
                       gz_etag, vary="Accept-Encoding")
    eq(ask(ctx.port, "/page.html", f"If-None-Match: {gz_etag}\r\n".encode()).status, 200, "gzip ETag, plain variant")


# ---------------------------------------------------------------------------------------------
# curl


def curl(*args, timeout=10):
    if not CURL:
        raise Skip("curl not installed")
    p = subprocess.run([CURL, "-s", "--max-time", str(timeout), *args], capture_output=True, timeout=timeout + 5)
    return p


@test
def test_curl_download_identical(ctx):
    """curl -s of the 1 MiB file is byte-identical."""
    p = curl(f"http://127.0.0.1:{ctx.port}/rand1m.bin")
    eq(p.returncode, 0, f"curl exit status ({p.stderr[-200:]!r})")
    check(p.stdout == ctx.files["rand1m.bin"], f"curl got {len(p.stdout)} bytes, not the file")


@test
def test_curl_head(ctx):
    """curl -I shows the 200 head with the right length and type."""
    p = curl("-I", f"http://127.0.0.1:{ctx.port}/c.txt")
    eq(p.returncode, 0, "curl exit status")
    out = p.stdout.decode("latin-1")
    check(out.startswith("HTTP/1.1 200 OK\r\n"), f"curl -I output {out[:100]!r}")
    check(re.search(rf"^content-length: {len(ctx.files['c.txt'])}\r$", out, re.M | re.I), "Content-Length")
    check(re.search(r"^content-type: text/plain; charset=utf-8\r$", out, re.M | re.I), "Content-Type")


@test
def test_curl_follows_redirect(ctx):
    """curl -L follows /sub to /sub/ and gets the listing."""
    p = curl("-L", "-o", "/dev/null", "-w", "%{http_code} %{num_redirects} %{url_effective}",
             f"http://127.0.0.1:{ctx.port}/sub")
    eq(p.returncode, 0, "curl exit status")
    eq(p.stdout.decode(), f"200 1 http://127.0.0.1:{ctx.port}/sub/", "code, redirects, final URL")


@test
def test_curl_reuses_connection(ctx):
    """curl with three URLs uses one connection (curl says so, and the server accepted once)."""
    if not CURL:
        raise Skip("curl not installed")
    with ctx.start("-v", "-q") as srv:
        base = f"http://127.0.0.1:{srv.port}"
        p = curl("-v", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                 f"{base}/c.txt", f"{base}/a.css", f"{base}/sub/")
        eq(p.returncode, 0, "curl exit status")
        err = p.stderr.decode("latin-1")
        check(re.search(r"re-?using existing connection", err, re.I), "curl did not reuse the connection")
        wait_until(lambda: len(re.findall(r"complete, answering 200$", srv.stderr(), re.M)) == 3, WAIT,
                   "three answered requests in the trace")
        eq(len(re.findall(r": accepted from ", srv.stderr())), 1, "connections accepted")


@test
def test_curl_resume(ctx):
    """curl -C - resumes a partial download with a Range request and ends byte-identical."""
    if not CURL:
        raise Skip("curl not installed")
    fd, out = tempfile.mkstemp(prefix="server-it-resume-")
    try:
        os.write(fd, ctx.files["rand1m.bin"][:300000])
        os.close(fd)
        p = curl("-C", "-", "-o", out, "-w", "%{http_code}", f"http://127.0.0.1:{ctx.port}/rand1m.bin")
        eq((p.returncode, p.stdout), (0, b"206"), f"curl exit status and code ({p.stderr[-200:]!r})")
        with open(out, "rb") as f:
            check(f.read() == ctx.files["rand1m.bin"], "the resumed file differs from the original")
    finally:
        os.unlink(out)


# ---------------------------------------------------------------------------------------------
# The loop's second draft: listings built a step per turn and shared, outputs that never block, reclaim


MANY = 20000  # entries of the big folder: a listing that takes hundreds of turns to build


def many_root(ctx):
    """A root (on tmpfs when there is one) holding many/ with MANY empty files, and small files; made once."""
    if getattr(ctx, "many", None) is None:
        ctx.many = tempfile.mkdtemp(prefix="server-it-many-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        os.chmod(ctx.many, 0o755)
        os.mkdir(os.path.join(ctx.many, "many"))
        for i in range(MANY):
            os.close(os.open(os.path.join(ctx.many, "many", f"entry-{i:06d}-with-a-name-of-some-length.txt"),
                             os.O_CREAT | os.O_WRONLY, 0o644))
        for i in range(80):
            with open(os.path.join(ctx.many, f"small-{i}.txt"), "wb") as f:
                f.write(b"small %d\n" % i)
        os.mkdir(os.path.join(ctx.many, "other"))
        for i in range(10):
            open(os.path.join(ctx.many, "other", f"o{i}"), "wb").close()
    return ctx.many


def trace_index(err, pattern, what):
    """The offset in the trace of the first line matching pattern; fails when there is none."""
    m = re.search(pattern, err, re.M)
    check(m is not None, f"no {what} in the trace")
    return m.start()


@test
def test_listing_built_across_rounds(ctx):
    """A 20,000-entry listing is built a bounded step per turn: a client that asks for a small file just after
    it started is answered before the listing is built, and the build spans many select() rounds. Both requests
    are queued while the server is stopped, so one round accepts both and gives the listing its first turn."""
    with Server(ctx.binary, many_root(ctx), ("-v", "-q")) as srv:
        os.kill(srv.pid, signal.SIGSTOP)
        try:
            big, small = Client(srv.port, timeout=30), Client(srv.port)
            big.send(get("/many/"))
            small.send(get("/small-1.txt"))
        finally:
            os.kill(srv.pid, signal.SIGCONT)
        with big, small:
            eq(small.read_response().body, b"small 1\n", "the small file")
            r = big.read_response(timeout=30)
        eq(r.status, 200, "the listing's status")
        eq(r.body.count(b"<tr><td><a href=\"./entry-"), MANY, "rows in the listing")
        names = re.findall(rb'href="\./(entry-\d+)', r.body)
        eq(names, sorted(names), "rows in natural order")
        err = wait_until(lambda: '"GET /many/ HTTP/1.1" complete' in srv.stderr() and srv.stderr(), WAIT, "the answer")
        started = trace_index(err, r"^  listing of /many/ started$", "start of the build")
        built = trace_index(err, r"^  listing of /many/ built$", "end of the build")
        answered = trace_index(err, r'"GET /small-1\.txt HTTP/1\.1" complete, answering 200', "small file's answer")
        check(started < answered < built, "the small file waited for the listing")
        rounds = len(re.findall(r"^select #", err[started:built], re.M))
        check(rounds >= 50, f"the build took only {rounds} rounds")


@test
def test_listing_build_shared(ctx):
    """Two clients asking for the same folder at once share one build and get the same bytes; HEAD and OPTIONS
    of it never build it (HEAD has no Content-Length, since the length is not known without building)."""
    with Server(ctx.binary, many_root(ctx), ("-v", "-q")) as srv:
        with Client(srv.port, timeout=30) as a, Client(srv.port, timeout=30) as b:
            a.send(get("/many/"))
            b.send(get("/many/"))
            ra, rb = a.read_response(timeout=30), b.read_response(timeout=30)
        eq((ra.status, rb.status), (200, 200), "statuses")
        check(ra.body == rb.body, "the two listings differ")
        h = fetch(srv.port, "/other/", method=b"HEAD")
        eq((h.status, h.get("Content-Length"), h.get("Content-Type")), (200, None, "text/html; charset=utf-8"), "HEAD")
        eq(fetch(srv.port, "/other/", method=b"OPTIONS").status, 204, "OPTIONS")
        err = wait_until(lambda: srv.stderr().count("complete, answering") >= 4 and srv.stderr(), WAIT, "the answers")
        eq(len(re.findall(r"^  listing of /many/ started$", err, re.M)), 1, "builds of /many/")
        eq(len(re.findall(r"^  listing of /other/ started$", err, re.M)), 0, "builds of /other/ for HEAD and OPTIONS")


@test
def test_listing_kept_for_its_readers(ctx):
    """Three slow readers of one listing share one build and each gets it whole, while another client fills the
    small-file cache many times over and asks for other listings between their reads."""
    with Server(ctx.binary, many_root(ctx), ("-v", "-q")) as srv:
        readers = [Client(srv.port, timeout=30, rcvbuf=4096) for _ in range(3)]
        try:
            for c in readers:
                c.send(get("/many/"))
            heads = [c.read_head(timeout=30) for c in readers]
            bodies = [c.buf for c in readers]
            for c in readers:
                c.buf = b""
            for round_ in range(4):
                for i in range(80):
                    eq(fetch(srv.port, f"/small-{i}.txt").status, 200, "a small file")
                eq(fetch(srv.port, "/other/?C=S;O=D" if round_ % 2 else "/other/").status, 200, "another listing")
                for k, c in enumerate(readers):
                    bodies[k] += c.read_exact(min(4096, heads[k].content_length() - len(bodies[k])))
            for k, c in enumerate(readers):
                bodies[k] += c.read_exact(heads[k].content_length() - len(bodies[k]), timeout=30)
        finally:
            for c in readers:
                c.close()
        check(bodies[0] == bodies[1] == bodies[2], "the readers got different listings")
        eq(bodies[0].count(b"<tr><td><a href=\"./entry-"), MANY, "rows")
        eq(len(re.findall(r"^  listing of /many/ started$", srv.stderr(), re.M)), 1, "builds of /many/")


@test
def test_terminal_stopped_does_not_stop_the_loop(ctx):
    """With stdout and stderr on a terminal whose output is stopped (Ctrl-S), the server goes on serving every
    client; once output resumes, new lines arrive, and the Stopped line counts what was dropped."""
    import pty
    master, slave = pty.openpty()
    proc = subprocess.Popen([ctx.binary, "-p", "0", "-r", ctx.root], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, start_new_session=True)
    seen, lock, running = [b""], threading.Lock(), [True]

    def reader():  # reads the terminal as long as output runs, as a terminal window does
        while running[0]:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return
                with lock:
                    seen[0] += data

    def read_master(until, timeout):
        return wait_until(lambda: until in seen[0], timeout, f"{until!r} on the terminal")

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        read_master(b"Serving", 10)
        port = int(re.search(rb":(\d+)/", seen[0]).group(1))
        termios.tcflow(slave, termios.TCOOFF)  # what Ctrl-S does
        with Client(port, timeout=10) as c:
            for _ in range(20):
                c.send(get("/c.txt") * 100)
                for _ in range(100):
                    eq(c.read_response().status, 200, "a request while the terminal is stopped")
        eq(fetch(port, "/c.txt").status, 200, "a new client while the terminal is stopped")
        termios.tcflow(slave, termios.TCOON)

        def logged_after():
            eq(fetch(port, "/c.txt?after").status, 200, "a request once the terminal runs again")
            return b"/c.txt?after" in seen[0]
        wait_until(logged_after, 10, "a log line once the terminal runs again", 0.1)
        proc.send_signal(signal.SIGTERM)
        eq(proc.wait(10), 0, "exit status")
        read_master(b"Stopped:", 5)
        line = seen[0][seen[0].index(b"Stopped:"):].split(b"\n")[0].decode()
        check(re.search(r", \d+ log lines dropped", line), f"the Stopped line does not count the dropped lines: {line!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        running[0] = False
        thread.join(5)
        os.close(master)
        os.close(slave)


def listening_port(pid):
    """The TCP port process pid listens on (from /proc), for a server whose stdout cannot say which port -p 0
    took; None while it listens on none. (Choosing a free port first and passing it would race with every
    other program on the machine that takes ports meanwhile, other test suites running at the same time too.)"""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except OSError:
            continue
        for row in rows:
            if row[3] == "0A" and row[9] in inodes:  # LISTEN
                return int(row[1].rsplit(":", 1)[1], 16)
    return None


@test
def test_log_on_full_disk_counted(ctx):
    """With stdout on /dev/full (a full disk), every request is served, the loss is said once on stderr, and
    the Stopped line, which stdout cannot take, goes to stderr and counts every log line dropped."""
    err_fd, err_path = tempfile.mkstemp(prefix="server-stderr-")
    try:
        with open("/dev/full", "wb") as full:
            proc = subprocess.Popen([ctx.binary, "-p", "0", "-r", ctx.root], stdin=subprocess.DEVNULL,
                                    stdout=full, stderr=err_fd)
        try:
            port = wait_until(lambda: proc.poll() is None and listening_port(proc.pid), WAIT, "the server to listen")
            wait_until(lambda: responsive_port(port), WAIT, "the server to answer")
            for _ in range(50):
                eq(fetch(port, "/c.txt").status, 200, "a request while stdout is full")
            proc.send_signal(signal.SIGTERM)
            eq(proc.wait(10), 0, "exit status")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with open(err_path) as f:
            err = f.read()
        eq(err.count("cannot write the access log"), 1, f"notes of the failure on stderr: {err!r}")
        m = re.search(r"^Stopped: (\d+) requests, \d+ body bytes sent, (\d+) log lines dropped$", err, re.M)
        check(m is not None, f"no Stopped line on stderr: {err!r}")
        check(int(m.group(2)) >= 51, f"{m.group(2)} log lines dropped: the Serving line and 50 requests were")
    finally:
        os.close(err_fd)
        os.unlink(err_path)


def responsive_port(port):
    """Says whether a server on port answers GET /c.txt."""
    try:
        return fetch(port, "/c.txt", timeout=1).status == 200
    except (OSError, AssertionError):
        return False


@test
def test_reclaim_past_a_connection_being_answered(ctx):
    """Out of descriptors (five idle keep-alive connections and five stalled downloads open, then the limit
    lowered to the lowest free descriptor), the oldest idle connection asks for a file that is not in memory:
    the server closes another idle connection to open it (never the one asking), and answers 200, not 503.
    The limit is lowered on the running server, so a wrapper's own descriptors (valgrind's) do not count.
    Started as root, the server keeps root (-u root): root may change the limits of its own uid only."""
    with ctx.start("-q", *(("-u", "root") if os.geteuid() == 0 else ())) as srv:
        idle, stalled = [], []
        old = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
        try:
            for _ in range(5):
                idle.append(Client(srv.port))
                idle[-1].send(get("/c.txt"))
                eq(idle[-1].read_response().status, 200, "a keep-alive request")
            for _ in range(5):
                stalled.append(Client(srv.port, rcvbuf=4096))
                stalled[-1].send(get("/big50.bin"))
                stalled[-1].read_head()
            wait_stable(srv.fd_count, 0.3, WAIT, "the server's descriptor count")
            fds = set(map(int, os.listdir(f"/proc/{srv.pid}/fd")))
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (min(set(range(len(fds) + 1)) - fds), old[1]))
            idle[0].send(get("/rand1m.bin"))
            r = idle[0].read_response(timeout=10)
            eq((r.status, len(r.body)), (200, len(ctx.files["rand1m.bin"])), "the oldest idle connection's request")
            closed = sum(c.readable_within(0.5) and c.sock.recv(1) == b"" for c in idle[1:])
            check(closed >= 1, "no other idle connection was closed to make room")
        finally:
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, old)
            for c in idle + stalled:
                c.close()


# ---------------------------------------------------------------------------------------------
# Serving a folder: the default folder, one file, siblings, types, sorting, 403 notes, dates, signals


@test
def test_sighup_stops_cleanly(ctx):
    """SIGHUP (a closed terminal) stops the server as SIGTERM does: exit 0 and the Stopped line."""
    stop_test(ctx, signal.SIGHUP, True)


@test
def test_other_signals_ignored(ctx):
    """SIGUSR1, SIGUSR2 and SIGALRM neither stop nor kill the server: it goes on serving."""
    with ctx.start("-q") as srv:
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
            os.kill(srv.pid, sig)
            eq(fetch(srv.port, "/c.txt").status, 200, f"a request after signal {sig}")
        check(srv.alive(), "the server died")


@test
def test_single_file(ctx):
    """./server FILE serves that file at / and at /NAME, with ranges and validators; every other path is 404,
    its folder's other files and any 404.html included."""
    folder = make_root("server-it-one-")
    try:
        data = b"the one file shared\n" * 50
        path = os.path.join(folder, "report.txt")
        with open(path, "wb") as f:
            f.write(data)
        with open(os.path.join(folder, "secret.txt"), "wb") as f:
            f.write(b"not shared\n")
        with open(os.path.join(folder, "404.html"), "wb") as f:
            f.write(b"<p>custom</p>\n")
        with Server(ctx.binary, path, ("-q",), positional=True) as srv:
            for target in ("/", "/report.txt"):
                r = fetch(srv.port, target)
                eq((r.status, r.body, r.get("Content-Type")), (200, data, "text/plain; charset=utf-8"), target)
            r = ask(srv.port, "/report.txt", b"Range: bytes=4-6\r\n")
            eq((r.status, r.body), (206, data[4:7]), "a range of the file")
            check_not_modified(ask(srv.port, "/", f"If-None-Match: {r.get('ETag')}\r\n".encode()), r.get("ETag"))
            for target in ("/secret.txt", "/404.html", "/report.txt/", "/other", "/report.txtx"):
                check_error_page(fetch(srv.port, target), 404)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sibling_tree(ctx):
    """app.js (1,000 bytes) with .br (600), .gz (300) and .zst (200) siblings, old.txt with a .br older than
    itself; made once in the test tree."""
    if "app.js" not in ctx.files:
        ctx.put("app.js", b"console.log('identity');\n" * 40)
        ctx.put("app.js.br", b"BR" * 300)
        ctx.put("app.js.zst", b"ZSTD" * 50)
        ctx.put("app.js.gz", b"GZ" * 150)
        ctx.put("old.txt.br", b"old br")
        ctx.put("old.txt", b"newer than its sibling\n")
        os.utime(os.path.join(ctx.root, "old.txt.br"), (MTIME - 100, MTIME - 100))
    return ctx.files


@test
def test_precompressed_siblings(ctx):
    """The smallest sibling that Accept-Encoding allows is sent (q-values honoured, q=0 refuses, identity and *
    as RFC 9110 12.5.3 says), with its Content-Encoding and its own ETag, ranges over its bytes, and Vary on
    every answer about the file, the uncompressed one included. A sibling older than its file is never sent."""
    files = sibling_tree(ctx)
    cases = [
        (b"", "identity"), (b"Accept-Encoding: gzip, deflate, br, zstd\r\n", "zstd"),
        (b"Accept-Encoding: gzip, br\r\n", "gzip"), (b"Accept-Encoding: br\r\n", "br"),
        (b"Accept-Encoding: gzip;q=0.5\r\n", "gzip"), (b"Accept-Encoding: identity;q=1, gzip;q=0.5\r\n", "identity"),
        (b"Accept-Encoding: br;q=1, gzip;q=0.5\r\n", "br"), (b"Accept-Encoding: zstd;q=0, gzip, br\r\n", "gzip"),
        (b"Accept-Encoding: *\r\n", "zstd"), (b"Accept-Encoding: *;q=0, identity\r\n", "identity"),
        (b"Accept-Encoding: identity\r\n", "identity"), (b"Accept-Encoding: x-gzip\r\n", "gzip"),
        (b"Accept-Encoding: \r\n", "identity"), (b"Accept-Encoding: deflate\r\n", "identity"),
    ]
    suffix = {"identity": "", "br": ".br", "zstd": ".zst", "gzip": ".gz"}
    etags = {}
    for fields, coding in cases:
        r = ask(ctx.port, "/app.js", fields)
        eq((r.status, r.get("Content-Encoding"), r.body), (200, None if coding == "identity" else coding,
           files["app.js" + suffix[coding]]), f"answer to {fields!r}")
        eq((r.get("Vary"), r.get("Content-Type")), ("Accept-Encoding", "text/javascript; charset=utf-8"), "Vary, type")
        check(etags.setdefault(coding, r.get("ETag")) == r.get("ETag"), "one ETag per representation")
    eq(len(set(etags.values())), 4, "each representation has its own ETag")
    r = ask(ctx.port, "/app.js", b"Accept-Encoding: gzip\r\nRange: bytes=2-5\r\n")
    eq((r.status, r.body, r.get("Content-Range"), r.get("Content-Encoding")),
       (206, files["app.js.gz"][2:6], f"bytes 2-5/{len(files['app.js.gz'])}", "gzip"), "a range of the gzip sibling")
    r = ask(ctx.port, "/app.js", b"Accept-Encoding: br\r\nIf-None-Match: " + etags["br"].encode() + b"\r\n")
    check_not_modified(r, etags["br"], "Accept-Encoding")
    r = ask(ctx.port, "/old.txt", b"Accept-Encoding: br\r\n")
    eq((r.body, r.get("Content-Encoding")), (files["old.txt"], None), "a sibling older than its file")


@test
def test_web_mime_types(ctx):
    """The web's types win over /etc/mime.types where they differ for what a browser loads."""
    for name, data, mime in (("seg.ts", b"\x47" * 188, "video/mp2t"), ("song.mid", b"MThd", "audio/midi"),
                             ("feed.rss", b"<rss/>", "application/rss+xml"), ("app.js.map", b"{}", "application/json")):
        ctx.put("mime/" + name, data)
        eq(fetch(ctx.port, "/mime/" + name).get("Content-Type"), mime, name)


@test
def test_index_htm(ctx):
    """A folder with only index.htm serves it; with index.html too, index.html wins."""
    ctx.put("htm/index.htm", b"<p>htm</p>\n")
    eq(fetch(ctx.port, "/htm/").body, b"<p>htm</p>\n", "index.htm alone")
    ctx.put("htm/index.html", b"<p>html</p>\n")
    eq(fetch(ctx.port, "/htm/").body, b"<p>html</p>\n", "index.html first")


def listing_links(body):
    """The names a listing links to, in order (folders with their slash), without ../."""
    return [n.decode() for n in re.findall(rb'<tr><td><a href="\./([^"]*)"', body)]


@test
def test_listing_sort_orders(ctx):
    """Apache's query sorts a listing by name, modified time or size, up or down; folders stay first, natural
    order breaks ties; the column heads link to the other orders; a malformed query gets the default order."""
    for name, size, age in (("b10.txt", 30, 3), ("b2.txt", 10, 1), ("a.txt", 20, 2), ("c.txt", 20, 4)):
        ctx.put(f"sorted/{name}", b"x" * size)
        os.utime(os.path.join(ctx.root, "sorted", name), (MTIME - age * 1000, MTIME - age * 1000))
    for d in ("zdir", "adir"):
        os.makedirs(os.path.join(ctx.root, "sorted", d), exist_ok=True)
    os.utime(os.path.join(ctx.root, "sorted", "zdir"), (MTIME, MTIME))
    os.utime(os.path.join(ctx.root, "sorted", "adir"), (MTIME - 9000, MTIME - 9000))
    expected = {
        "": ["adir/", "zdir/", "a.txt", "b2.txt", "b10.txt", "c.txt"],
        "?C=N;O=A": ["adir/", "zdir/", "a.txt", "b2.txt", "b10.txt", "c.txt"],
        "?C=N;O=D": ["zdir/", "adir/", "c.txt", "b10.txt", "b2.txt", "a.txt"],
        "?C=M;O=A": ["adir/", "zdir/", "c.txt", "b10.txt", "a.txt", "b2.txt"],
        "?C=M;O=D": ["zdir/", "adir/", "b2.txt", "a.txt", "b10.txt", "c.txt"],
        "?C=S;O=A": ["adir/", "zdir/", "b2.txt", "a.txt", "c.txt", "b10.txt"],
        "?C=S;O=D": ["zdir/", "adir/", "b10.txt", "c.txt", "a.txt", "b2.txt"],
        "?C=S&O=D": ["zdir/", "adir/", "b10.txt", "c.txt", "a.txt", "b2.txt"],
        "?C=X;O=Z": ["adir/", "zdir/", "a.txt", "b2.txt", "b10.txt", "c.txt"],
        "?garbage": ["adir/", "zdir/", "a.txt", "b2.txt", "b10.txt", "c.txt"],
    }
    for query, names in expected.items():
        r = fetch(ctx.port, "/sorted/" + query)
        eq((r.status, listing_links(r.body)), (200, names), f"order for {query!r}")
    body = fetch(ctx.port, "/sorted/?C=S;O=A").body
    for link in (b'href="?C=N;O=A"', b'href="?C=M;O=A"', b'href="?C=S;O=D"'):
        check(link in body, f"the column heads lack {link!r}")


@test
def test_forbidden_explained(ctx):
    """A 403 is explained once per file on stderr: which user, which file, what to change."""
    with ctx.start("-q") as srv:
        for _ in range(2):
            eq(fetch(srv.port, "/noperm.txt").status, 403, "a file this user may not read")
            eq(fetch(srv.port, "/fifo").status, 403, "a FIFO")
        err = wait_until(lambda: "/fifo" in srv.stderr() and srv.stderr(), WAIT, "the notes")
        eq(err.count("403 for /noperm.txt"), 1, f"notes for /noperm.txt: {err!r}")
        check(re.search(r"403 for /noperm\.txt: user '[^']+' cannot open it: Permission denied; .*chmod a\+r", err),
              f"the note names the user and the fix: {err!r}")
        check("403 for /fifo: it is not a regular file" in err, f"the FIFO's note: {err!r}")


@test
def test_dates_past_2038(ctx):
    """A file dated 2040 is served and listed (Last-Modified never after Date); dates the parser reads do not
    wrap: If-Modified-Since in 2100 gives 304, If-Unmodified-Since in 2039 gives 200, a date in 1885 gives 200."""
    when = 2208988800  # 2040-01-01
    ctx.put("dated/future.txt", b"from the future\n")
    os.utime(os.path.join(ctx.root, "dated", "future.txt"), (when, when))
    r = fetch(ctx.port, "/dated/future.txt")
    eq(r.status, 200, "a file of 2040")
    check(email.utils.parsedate_to_datetime(r.get("Last-Modified")) <= email.utils.parsedate_to_datetime(r.get("Date")),
          "Last-Modified after Date")
    check(b"future.txt" in fetch(ctx.port, "/dated/").body, "the file of 2040 missing from its listing")
    for field, status in ((b"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT", 304),
                          (b"If-Unmodified-Since: Sat, 01 Jan 2039 00:00:00 GMT", 200),
                          (b"If-Modified-Since: Thu, 01 Jan 1885 00:00:00 GMT", 200)):
        eq(ask(ctx.port, "/c.txt", field + b"\r\n").status, status, field.decode())


@test
def test_blank_lines_before_a_request(ctx):
    """More than 8 KiB of blank lines before a request is refused with 400 and logged, never 414."""
    with Client(ctx.port) as c:
        c.send(b"\r\n" * 5000)
        r = c.read_response()
    check_error_page(r, 400)


@test
def test_head_body_timeout_408_has_no_body(ctx):
    """A HEAD whose body never comes gets 408 with no body, as every answer to HEAD."""
    with ctx.start("-q", "-t", "1") as srv:
        with Client(srv.port) as c:
            c.send(b"HEAD /c.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab")
            r = c.read_response(head_only=True, timeout=10)
            eq(r.status, 408, "status")
            extra, how = c.read_to_eof(5)
            eq(c.buf + extra, b"", "bytes after the 408's head")


@test
def test_expect_ignored_on_http10(ctx):
    """Expect is ignored on HTTP/1.0 (RFC 9110 10.1.1): the body is read and the kept-alive connection serves the
    next request."""
    with Client(ctx.port) as c:
        c.send(b"GET /c.txt HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
               b"hello" + b"GET /a.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r1, r2 = c.read_response(), c.read_response()
    eq((r1.status, r1.body, r2.status, r2.body), (200, ctx.files["c.txt"], 200, ctx.files["a.css"]), "both answered")


@test
def test_symlinks_as_documented(ctx):
    """Symlinks are followed: a visible name linking to a dotfile or into a dot-folder is served, as is a link
    to a file outside the root; the dotfile's own name stays 404."""
    outside = tempfile.mkdtemp(prefix="server-it-outside-")
    try:
        with open(os.path.join(outside, "elsewhere.txt"), "wb") as f:
            f.write(b"outside the root\n")
        os.chmod(outside, 0o755)
        for name, target in (("visible", ".secret"), ("gitlink", ".git"),
                             ("outside.txt", os.path.join(outside, "elsewhere.txt"))):
            if not os.path.lexists(os.path.join(ctx.root, name)):
                os.symlink(target, os.path.join(ctx.root, name))
        eq(fetch(ctx.port, "/visible").body, ctx.files[".secret"], "a visible link to a dotfile")
        eq(fetch(ctx.port, "/gitlink/config").body, ctx.files[".git/config"], "a file through a link to a dot-folder")
        eq(fetch(ctx.port, "/outside.txt").body, b"outside the root\n", "a link out of the root")
        check_error_page(fetch(ctx.port, "/.secret"), 404)
    finally:
        for name in ("visible", "gitlink", "outside.txt"):
            if os.path.lexists(os.path.join(ctx.root, name)):
                os.unlink(os.path.join(ctx.root, name))
        shutil.rmtree(outside, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The loop, live: -S status text, and a trace that shows the rounds where something happened


STUB_STATUS_RE = re.compile(r"^Active connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \n"
                            r"Reading: (\d+) Writing: (\d+) Waiting: (\d+) \n$")


@test
def test_status_page(ctx):
    """-S PATH answers GET PATH with nginx's stub_status text exactly, idle keep-alive connections counted under
    Waiting and the asking one under Writing; PATH?full adds the loop's own counts after it; with -a it asks for
    credentials like every path."""
    with ctx.start("-q", "-S", "/server-status") as srv:
        idle = [Client(srv.port) for _ in range(2)]
        try:
            for c in idle:
                c.send(get("/c.txt"))
                eq(c.read_response().status, 200, "a keep-alive request")
            r = fetch(srv.port, "/server-status")
            eq((r.status, r.get("Content-Type"), r.get("Cache-Control")), (200, "text/plain; charset=utf-8", "no-store"),
               "status, type, caching")
            m = STUB_STATUS_RE.match(r.body.decode())
            check(m is not None, f"not stub_status text: {r.body!r}")
            active, accepts, handled, requests, reading, writing, waiting = map(int, m.groups())
            eq((active, reading + writing + waiting, writing, waiting), (3, 3, 1, 2), "the counts by state")
            check(accepts == handled >= 3 and requests >= 3, f"accepts {accepts}, handled {handled}, requests {requests}")
            full = fetch(srv.port, "/server-status?full").body.decode()
            check(STUB_STATUS_RE.match(full[:len(r.body)]) and re.search(r"^select\(\) rounds: \d+$", full, re.M),
                  f"the full form: {full!r}")
            eq(fetch(srv.port, "/server-status", method=b"HEAD").status, 200, "HEAD")
        finally:
            for c in idle:
                c.close()
    check_error_page(fetch(ctx.port, "/server-status"), 404)
    users = make_root("server-it-users-")
    try:
        with open(os.path.join(users, "users"), "w") as f:
            f.write("alice:s3cret\n")
        os.chmod(os.path.join(users, "users"), 0o600)
        with ctx.start("-q", "-S", "/status", "-a", os.path.join(users, "users")) as srv:
            eq(fetch(srv.port, "/status").status, 401, "the status without credentials")
            eq(fetch(srv.port, "/status", extra=basic("alice:s3cret")).status, 200, "the status with them")
    finally:
        shutil.rmtree(users, ignore_errors=True)


@test
def test_quiet_trace(ctx):
    """-v shows the rounds where something was ready or happened, and sums up the others ("... N rounds with
    nothing ready"); -vv shows every round. A stalled download and a parked keep-alive connection make such
    rounds: the loop looks at the parked one every 30 ms while the other waits to write."""
    quiet = r"^\.\.\. \d+ rounds? with nothing ready$"
    empty = r"^select #\d+ at [\d.]+ s: 0 ready; "

    def trace_of(flag):
        with ctx.start(flag, "-q") as srv:
            with Client(srv.port) as idle, Client(srv.port, rcvbuf=4096) as stalled:
                idle.send(get("/c.txt"))
                eq(idle.read_response().status, 200, "a keep-alive request")
                stalled.send(get("/big50.bin"))
                stalled.read_head()

                def shown():
                    eq(fetch(srv.port, "/c.txt").status, 200, "a request")
                    return re.search(quiet if flag == "-v" else empty, srv.stderr(), re.M)
                wait_until(shown, 10, "a round with nothing ready", 0.1)
            return srv.stderr()
    err = trace_of("-v")
    check(not re.search(empty + r".*\n(select|\.\.\.)", err, re.M), "-v showed a round where nothing happened")
    err = trace_of("-vv")
    check(not re.search(quiet, err, re.M), "-vv summed rounds up")


@test
def test_shared_server_clean_exit(ctx):
    """The shared server, after everything above, stops on SIGTERM with 0 and no sanitizer report."""
    check(ctx.server is not None, f"the shared server did not start: {ctx.start_error}")
    srv, ctx.server = ctx.server, None
    try:
        eq(srv.stop(), 0, "exit status")
        lines = srv.out_lines()
        check(lines[-1].startswith("Stopped:"), f"last line {lines[-1]!r}")
    finally:
        srv.close()


# ---------------------------------------------------------------------------------------------


def responsive(srv):
    """Whether a server still answers a simple GET within 2 s."""
    try:
        return exchange(srv.port, get("/c.txt", extra=b"Connection: close\r\n"), timeout=2).status == 200
    except Exception:
        return False


def main():
    if len(sys.argv) < 2:
        print("usage: integration.py PATH_TO_SERVER_BINARY", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    ctx = Ctx(binary)
    passed = failed = 0
    try:
        try:
            ctx.build_tree()
        except Exception as e:
            print(f"FAIL - build_test_tree: {type(e).__name__}: {e}")
            print("0 passed, 1 failed")
            return 1
        ctx.start_shared()
        for name, fn in TESTS:
            reason = None
            try:
                fn(ctx)
            except Skip as e:
                print(f"ok - {name} # skip {e}", flush=True)
                continue
            except AssertionError as e:
                reason = str(e)
            except Exception as e:
                reason = f"{type(e).__name__}: {e}"
            # The shared server must survive every test; a dead, reporting or hung one is replaced so that
            # one failure does not cascade into every later test.
            if ctx.server is not None:
                issue = None
                if not ctx.server.alive() or ctx.server.sanitizer_report():
                    issue = (f"shared server died (exit {ctx.server.proc.poll()}) or reported: "
                             f"{(ctx.server.sanitizer_report() or ctx.server.stderr()[-400:])!r}")
                elif reason is not None and not responsive(ctx.server):
                    report = ctx.server.sanitizer_report()
                    issue = ("shared server no longer answers GET /c.txt" +
                             (f" (it reported: {report!r})" if report else "") + "; restarted")
                if issue:
                    reason = f"{reason}; {issue}" if reason else issue
                    try:
                        ctx.server.close(check_sanitizer=False)
                    finally:
                        ctx.start_shared()
            if reason is None:
                passed += 1
                print(f"ok - {name}", flush=True)
            else:
                failed += 1
                print(f"FAIL - {name}: {' '.join(reason.split())}", flush=True)
    finally:
        ctx.cleanup()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
