#!/usr/bin/env python3
"""Draws make demo's timeline from the ./server -v trace: one row per connection, labelled by client.

    python3 tests/timeline.py TRACE PORTS SVG SUMMARY

TRACE is the trace (build/demo-trace.txt); PORTS has one "PORT LABEL" line per client (its own source
port, as the client measured it); the connection whose "accepted from ADDR:PORT" line has that port is
that client's. Writes the picture to SVG (plain SVG, nothing external), one tab-separated line per
connection to SUMMARY (label, fd, port, opened, closed, requests, statuses, longest reading stretch and
its end, close reason, duration), and prints the same timeline in text, a character per tenth of a
second.

Each connection has one duration: the time from its "accepted" round to its "closed" round, by the
trace's clock, written as duration() writes it; the SVG, the text and SUMMARY all carry that string,
and make demo's results print it, so a client shows one figure everywhere.

A connection's state, from the trace lines (descriptor numbers are reused, so a connection runs from
its "accepted" line to its "closed" line):
  idle     from "accepted" until its first "read" (nothing of a request in hand), and from a finished
           response to the next read on a keep-alive connection;
  reading  from a "read" until "request ... complete";
  sending  from "complete, answering" until "wrote N bytes, S of T sent" with S == T;
  closing  from a finished response (Connection: close) to "closed (...)".
Whether a finished response leaves the connection idle or closing is not on its own line: the next
round line's counts say it ("N open: 1 idle, ... 1 closing"), and a traced read means kept alive.
Python 3 standard library only.
"""
import re
import sys
from xml.sax.saxutils import escape

ROUND = re.compile(r'^select #(\d+) at ([0-9.]+) s: (\d+) ready; (\d+) open(?:: ([^;]*))?')
EVENT = re.compile(r'^  fd (\d+): (.*)$')
ACCEPTED = re.compile(r'^accepted from (.*):(\d+)$')
COMPLETE = re.compile(r'^(?:request "(.*)" complete|no whole request line), answering (\d+)')
WROTE = re.compile(r'^wrote \d+ bytes, (\d+) of (\d+) sent$')
CLOSED = re.compile(r'^closed \((.*)\)$')

CLIENTS = ["browser", "slow reader", "half request", "keep-alive burst"]
COLOURS = {  # Okabe-Ito colours, told apart with any colour vision
    "reading": "#E69F00",
    "sending": "#0072B2",
    "idle": "#C9C9C9",
    "closing": "#CC79A7",
}
MEANING = {
    "reading": "reading: a request arriving",
    "sending": "sending: the answer going out",
    "idle": "idle: open, nothing of a request in hand (new, or kept for a next one)",
    "closing": "closing: answered, waiting for the client to close",
}
LETTER = {"reading": "r", "sending": "S", "idle": ".", "closing": "c"}
PRIORITY = ["sending", "reading", "closing", "idle"]  # what a text cell shows when it holds several


class Conn:
    def __init__(self, fd, port, t):
        self.fd, self.port, self.opened = fd, port, t
        self.closed, self.why = None, ""
        self.label = ""
        self.state, self.since = "idle", t
        self.stretches = []  # (state, start, end)
        self.requests, self.statuses = 0, []
        self.sizes = []  # (start of its sending, response size) for each response
        self.undecided = False  # a response just finished: idle or closing, the next round line says

    def enter(self, state, t):
        if state != self.state:
            self.stretches.append((self.state, self.since, t))
            self.state, self.since = state, t


def parse(lines):
    """Returns the connections in the order they were accepted, and the rounds (number, time, ready, open, line)."""
    conns, open_by_fd, rounds = [], {}, []
    t = 0.0
    for line in lines:
        line = line.rstrip("\n")
        m = ROUND.match(line)
        if m:
            t = float(m.group(2))
            counts = {}
            for part in (m.group(5) or "").split(", "):
                n, _, name = part.strip().partition(" ")
                if n.isdigit():
                    key = "sending" if name.startswith("sending") else name
                    counts[key] = counts.get(key, 0) + int(n)
            rounds.append((int(m.group(1)), t, int(m.group(3)), int(m.group(4)), line))
            decide(list(open_by_fd.values()), counts.get("closing", 0))
            continue
        m = EVENT.match(line)
        if not m:
            continue
        fd, what = int(m.group(1)), m.group(2)
        c = open_by_fd.get(fd)
        a = ACCEPTED.match(what)
        if a:
            c = Conn(fd, a.group(2), t)
            conns.append(c)
            open_by_fd[fd] = c
        elif c is None:
            continue
        elif what.startswith("read "):
            c.undecided = False
            if c.state != "sending":  # bytes of a next request while one is answered stay in hand
                c.enter("reading", t)
        elif COMPLETE.match(what):
            c.undecided = False
            c.requests += 1
            c.statuses.append(COMPLETE.match(what).group(2))
            c.enter("sending", t)
        elif WROTE.match(what):
            w = WROTE.match(what)
            if not c.sizes or c.sizes[-1][0] != c.since:
                c.sizes.append((c.since, int(w.group(2))))
            if w.group(1) == w.group(2):
                c.enter("idle", t)  # until the next round line says whether it is closing
                c.undecided = True
        elif CLOSED.match(what):
            c.why = CLOSED.match(what).group(1)
            c.enter("closed", t)
            c.closed = t
            del open_by_fd[fd]
    for c in open_by_fd.values():  # still open when the trace ends
        c.enter("closed", t)
        c.closed = t
    return conns, rounds


def decide(open_conns, closing):
    """Settles the connections whose response just finished: the round line counts those closing."""
    known = sum(1 for c in open_conns if c.state == "closing")
    undecided = [c for c in open_conns if c.undecided]
    # Should the count not settle it, those answered with an error status are taken first (not kept alive).
    undecided.sort(key=lambda c: c.statuses[-1:] == ["200"])
    for i, c in enumerate(undecided):
        c.undecided = False
        if i < closing - known:
            c.state = "closing"  # it has been closing since its response finished


def name(conns, ports_file):
    """Labels each connection by its client's port; one client without a port takes the one connection left."""
    by_port, unknown = {}, []
    for line in open(ports_file, encoding="utf-8"):
        port, _, label = line.rstrip("\n").partition(" ")  # " LABEL" when the port is not known
        if port.isdigit():
            by_port[port] = label
        elif label:
            unknown.append(label)
    for c in conns:
        c.label = by_port.get(c.port, "")
    left = [c for c in conns if not c.label]
    if len(left) == 1 and len(unknown) == 1:
        left[0].label = unknown[0]
    for c in conns:
        c.label = c.label or "fd %d" % c.fd


def reading_stretch(c):
    """The longest stretch the connection spent reading: (seconds, end)."""
    best = (0.0, c.opened)
    for state, a, b in c.stretches:
        if state == "reading" and b - a > best[0]:
            best = (b - a, b)
    return best


def text_timeline(conns):
    """One line per connection: a character per tenth of a second, the busiest state in it."""
    out = []
    width = max(int(max(c.closed for c in conns) * 10) + 1, 1)
    for c in conns:
        cells = []
        for i in range(width):
            a, b = i / 10, (i + 1) / 10
            present = {s for s, x, y in c.stretches if x < b and (y > a or (x == y and x >= a))}
            cells.append(next((LETTER[s] for s in PRIORITY if s in present), " "))
        out.append("  %-17s fd %-3d |%s| %.3f s to %.3f s: %s" % (c.label, c.fd, "".join(cells), c.opened, c.closed,
                                                               duration(c)))
    return out


def svg(conns, rounds):
    """The picture: rows of coloured stretches over a seconds axis, the select() rounds as ticks."""
    end = max(c.closed for c in conns)
    span = max(0.5, -(-end // 0.5) * 0.5)  # the axis ends at the next half second
    left, plot, right = 150, 700, 190
    width = left + plot + right
    row_h, bar_h, top = 46, 22, 84
    x = lambda t: left + plot * t / span
    rows_end = top + row_h * len(conns)
    ticks_y = rows_end + 10
    axis_y = ticks_y + 26
    legend_y = axis_y + 40
    height = legend_y + 4 * 24 + 6
    most = max(r[3] for r in rounds) if rounds else 0
    first_most = next((r for r in rounds if r[3] == most), None)
    o = []
    put = o.append
    put('<?xml version="1.0" encoding="UTF-8"?>')
    put('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        'font-family="sans-serif" font-size="13">' % (width, height, width, height))
    put('<title>make demo: four clients served by one select() loop, from the ./server -v trace</title>')
    put('<rect width="100%" height="100%" fill="#ffffff"/>')
    put('<text x="20" y="26" font-size="17" font-weight="bold">One select() loop, four clients at once</text>')
    put('<text x="20" y="48" fill="#444">One row per connection, coloured by its state; time in seconds since the '
        'server started. Drawn by make demo from its ./server -v trace.</text>')
    # Seconds grid and axis.
    step = 0.5 if span <= 8 else 1.0
    n = 0
    while n * step <= span + 1e-9:
        t = n * step
        whole = abs(t - round(t)) < 1e-9
        put('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>'
            % (x(t), top - 4, x(t), axis_y, "#d8d8d8" if whole else "#eeeeee"))
        put('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>' % (x(t), axis_y, x(t), axis_y + (6 if whole else 3)))
        if whole:
            put('<text x="%.1f" y="%d" text-anchor="middle">%d s</text>' % (x(t), axis_y + 20, round(t)))
        n += 1
    put('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (left, axis_y, left + plot, axis_y))
    # The first round with the most connections open.
    if first_most is not None:
        mx = x(first_most[1])
        put('<g class="most-open">')
        put('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-dasharray="4 3"/>'
            % (mx, top - 14, mx, rows_end))
        put('<text x="%.1f" y="%d" font-size="12">select #%d at %.3f s: %d open at once</text>'
            % (mx + 5, top - 6, first_most[0], first_most[1], most))
        put('</g>')
    # One row per connection.
    for i, c in enumerate(conns):
        y = top + i * row_h + (row_h - bar_h) // 2
        put('<g class="row" data-client="%s" data-fd="%d">' % (escape(c.label), c.fd))
        put('<text class="label" x="%d" y="%d" text-anchor="end" font-weight="bold">%s</text>'
            % (left - 12, y + 11, escape(c.label)))
        put('<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#555">fd %d</text>' % (left - 12, y + 25, c.fd))
        put('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="none" stroke="#999"/>'
            % (x(c.opened) - 1, y - 1, max(x(c.closed) - x(c.opened), 2.0) + 2, bar_h + 2))
        # Long stretches first, then the short ones on top (sending topmost), each at least 2 px wide so it shows.
        shown = sorted(c.stretches, key=lambda s: (-(s[2] - s[1]), PRIORITY[::-1].index(s[0]) if s[0] in PRIORITY else 0))
        for state, a, b in shown:
            if state not in COLOURS:
                continue
            w = max(x(b) - x(a), 2.0)
            put('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %.3f s to %.3f s</title></rect>'
                % (x(a), y, w, bar_h, COLOURS[state], state, a, b))
            words = inside(c, state, a, b)
            if len(words) * 6.6 + 16 < x(b) - x(a):
                ink = "#ffffff" if state in ("sending", "closing") else "#000000"
                put('<text x="%.1f" y="%d" text-anchor="middle" font-size="12" fill="%s">%s</text>'
                    % ((x(a) + x(b)) / 2, y + 15, ink, escape(words)))
        put('<text class="duration" x="%.1f" y="%d" font-size="12" fill="#333">%s: %d request%s, %s</text>'
            % (x(c.opened) + max(x(c.closed) - x(c.opened), 2.0) + 6, y + 15, duration(c), c.requests,
               "" if c.requests == 1 else "s", escape(c.why or "still open")))
        put('</g>')
    # The select() rounds as ticks.
    put('<g class="rounds">')
    put('<text x="%d" y="%d" text-anchor="end">%d select() rounds</text>'
        % (left - 12, ticks_y + 14, rounds[-1][0] if rounds else 0))
    for number, t, ready, _, _ in rounds:
        put('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>'
            % (x(t), ticks_y + (8 if ready == 0 else 0), x(t), ticks_y + 18, "#999" if ready == 0 else "#000"))
    put('</g>')
    # The legend: the states, the ticks and the dashed line.
    put('<g class="legend">')
    for i, state in enumerate(["reading", "sending", "idle", "closing"]):
        lx, ly = 20 + (i % 2) * 440, legend_y + (i // 2) * 24
        put('<rect x="%d" y="%d" width="18" height="14" fill="%s"/>' % (lx, ly, COLOURS[state]))
        put('<text x="%d" y="%d">%s</text>' % (lx + 26, ly + 12, escape(MEANING[state])))
    ly = legend_y + 48
    put('<line x1="24" y1="%d" x2="24" y2="%d" stroke="#000"/><line x1="32" y1="%d" x2="32" y2="%d" stroke="#999"/>'
        % (ly - 1, ly + 14, ly + 6, ly + 14))
    put('<text x="46" y="%d">a select() round the trace shows: black when some descriptors were ready, grey and '
        'short when none; -v sums up the rest</text>' % (ly + 12))
    ly += 24
    put('<line x1="20" y1="%d" x2="38" y2="%d" stroke="#000" stroke-dasharray="4 3"/>' % (ly + 7, ly + 7))
    put('<text x="46" y="%d">the first round with the most connections open at once</text>' % (ly + 12))
    put('</g>')
    put('</svg>')
    return "\n".join(o) + "\n"


def duration(c):
    """A connection's one duration, from its accepted round to its closed round, to the trace's ms."""
    return "%.3f s" % ((round(c.closed * 1000) - round(c.opened * 1000)) / 1000)


def inside(c, state, a, b):
    """The words written on a long stretch (no second duration: the row's end says how long)."""
    if state == "reading":
        return "reading: the request is not complete"
    if state == "sending" and c.sizes:
        size = next((n for t, n in c.sizes if a <= t <= b), c.sizes[-1][1])
        return "sending %s" % ("%.1f MiB" % (size / 1048576) if size >= 1048576 else "%d bytes" % size)
    return state


def main(argv):
    if len(argv) != 5:
        sys.exit("usage: timeline.py TRACE PORTS SVG SUMMARY")
    with open(argv[1], encoding="utf-8", errors="replace") as f:
        conns, rounds = parse(f)
    if not conns:
        sys.exit("timeline.py: no connection in " + argv[1])
    name(conns, argv[2])
    with open(argv[3], "w", encoding="utf-8") as f:
        f.write(svg(conns, rounds))
    with open(argv[4], "w", encoding="utf-8") as f:
        for c in conns:
            longest, until = reading_stretch(c)
            f.write("\t".join([c.label, str(c.fd), c.port, "%.3f" % c.opened, "%.3f" % c.closed, str(c.requests),
                               " ".join(c.statuses), "%.3f" % longest, "%.3f" % until, c.why, duration(c)]) + "\n")
    print("\n".join(text_timeline(conns)))


if __name__ == "__main__":
    main(sys.argv)
