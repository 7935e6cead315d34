#!/usr/bin/env bash
# make demo: the "multiplexing socket I/O with select" exercise, end to end, in 5 to 8 seconds.
# Starts ./server -v on a free port, runs four clients at once with standard tools (curl and bash),
# then prints a timeline, a piece of the select() trace and a results summary for a lab report, and
# draws the timeline as a picture. Every figure in the results is measured in this run: by the clients
# themselves (curl's -w figures, the clock around each client) or read from the trace.
#   build/demo-trace.txt     the whole trace (./server -v on stderr)
#   build/demo-timeline.svg  one row per client's connection, coloured by state (tests/timeline.py)
#
# bash tests/demo.sh --check runs the same demo quietly for make test, and checks what it printed and
# drew: "ok - NAME" or "FAIL - NAME: why" lines, then "N passed, N failed"; exit 1 on a failure.
set -u
cd "$(dirname "$0")/.." || exit 2
checking=0
case ${1-} in
--check) checking=1 ;;
'') ;;
*)
    echo "usage: bash tests/demo.sh [--check]" >&2
    exit 2
    ;;
esac
command -v curl >/dev/null || { echo "demo: needs curl (Debian: apt-get install -y curl)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "demo: needs python3 (Debian: apt-get install -y python3)" >&2; exit 2; }
[ -x ./server ] || { echo "demo: build the server first: make" >&2; exit 2; }
mkdir -p build
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
trace=build/demo-trace.txt
picture=build/demo-timeline.svg

# The clients' settings. The results never repeat these: they print what was measured.
browser_rate=3 # files a second: the browser's requests come a third of a second apart
big_mib=24     # the slow reader's file, more than the kernel buffers between the two ends
slow_rate=4    # MiB a second the slow reader asks curl to read at (curl's limit is approximate)
burst_n=20     # requests in the burst
burst_at=0.5   # seconds after the others that the burst starts

now() { date +%s.%N; }

# Prints the local port of a TCP socket this shell has open on descriptor $1, from /proc (Linux);
# nothing elsewhere, and the timeline then takes the one connection no other client claims.
socket_port() {
    inode=$(readlink "/proc/$BASHPID/fd/$1" 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
    [ -n "$inode" ] || return 0
    hex=$(awk -v i="$inode" '$10 == i { split($2, a, ":"); print a[2]; exit }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
    [ -n "$hex" ] && echo $((16#$hex))
}

# The browser for a curl without --rate: the same four requests on one connection from bash, a
# third of a second apart (the last asks to close), printing "status body-bytes local-port" for each.
browser_by_hand() {
    exec 4<>"/dev/tcp/127.0.0.1/$port" || return 0
    me=$(socket_port 4)
    gap=$(awk -v r="$browser_rate" 'BEGIN { print 1 / r }')
    for path in / /style.css /parallel.html /parallel.js; do
        [ "$path" = / ] || sleep "$gap"
        [ "$path" = /parallel.js ] && last=close || last=keep-alive
        printf 'GET %s HTTP/1.1\r\nHost: demo\r\nConnection: %s\r\n\r\n' "$path" "$last" >&4
    done
    timeout 10 cat <&4 | tr -d '\r' | awk -v p="$me" '/^HTTP\/1\.1 [0-9][0-9][0-9] / { if (n++) print code, size, p; code = $2 }
        tolower($1) == "content-length:" { size = $2 } END { if (n) print code, size, p }'
}

# Runs the server and the four clients; leaves the trace, each client's record ($work/c1 to c4: label,
# start, end, then its own figures, split by |) and each client's port ($work/ports).
run() {
    cp -R public "$work/root"
    head -c $((big_mib * 1024 * 1024)) /dev/urandom >"$work/root/big.bin" # made here, never committed
    ./server -v -p 0 -r "$work/root" >"$work/log" 2>"$trace" &
    server=$!
    for _ in $(seq 50); do grep -q Serving "$work/log" && break; sleep 0.1; done
    port=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$work/log")
    [ -n "$port" ] || { echo "demo: the server did not start" >&2; return 1; }
    base=http://127.0.0.1:$port
    clients=()

    # The four clients overlap the way a classroom's do: the browser is a person reading, whose
    # files come a third of a second apart on one keep-alive connection, so that connection is
    # still open (idle between requests) when the burst arrives half a second in, while the slow
    # reader is still downloading and the half request still waiting. The half request sends the
    # rest of its head only once the other three are done, so it is plainly still waiting while
    # they finish: the server served them all the same.

    # 1. A browser: a page, its stylesheet, a second page and its script, on one keep-alive connection.
    (
        start=$(now)
        if curl --help all 2>/dev/null | grep -q -e '--rate '; then
            out=$(curl -s --max-time 20 --rate "$browser_rate/s" -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
                -w '%{http_code} %{size_download} %{local_port}\n' \
                "$base/" "$base/style.css" "$base/parallel.html" "$base/parallel.js")
        else
            out=$(browser_by_hand) # curl before 7.84 (Ubuntu 22.04) has no --rate
        fi
        end=$(now)
        echo "$out" | awk 'NR == 1 && $3 { print $3, "browser" }' >"$work/port1"
        echo "$out" | awk -v s="$start" -v e="$end" '$1 { n++; codes = codes (n > 1 ? " " : "") $1; bytes += $2 }
            END { printf "browser|%s|%s|%d|%s|%d\n", s, e, n, codes, bytes }'
        touch "$work/done1"
    ) >"$work/c1" &
    clients+=($!)
    # 2. A slow reader: a big file read at a limited rate, so the server sends it a slice at a time.
    (
        start=$(now)
        out=$(curl -s --max-time 20 --limit-rate "${slow_rate}M" -o /dev/null \
            -w '%{http_code} %{size_download} %{time_total} %{speed_download} %{local_port}' "$base/big.bin")
        end=$(now)
        echo "$out" | awk '$5 { print $5, "slow reader" }' >"$work/port2"
        echo "$out" | awk -v s="$start" -v e="$end" '{ printf "slow reader|%s|%s|%s|%s|%s|%s\n", s, e, $1, $2, $3, $4 }'
        touch "$work/done2"
    ) >"$work/c2" &
    clients+=($!)
    # 3. Half a request: the head stops half-way, and the rest comes half a second after the others are done.
    (
        start=$(now)
        if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
            echo "$(socket_port 3) half request" >"$work/port3"
            printf 'GET /files/notes.txt HTTP/1.1\r\nHost: demo\r\n' >&3
            half=$(now)
            for _ in $(seq 160); do # 8 s at most, within the server's 10 s for a request head
                [ -e "$work/done1" ] && [ -e "$work/done2" ] && [ -e "$work/done4" ] && break
                sleep 0.05
            done
            sleep 0.5
            printf 'Connection: close\r\n\r\n' >&3
            rest=$(now)
            status=$(timeout 10 head -n 1 <&3 | cut -d' ' -f2)
            timeout 10 cat <&3 >/dev/null
            echo "half request|$start|$(now)|$half|$rest|${status:-none}"
        else
            echo " half request" >"$work/port3"
            echo "half request|$start|$(now)|$start|$start|none"
        fi
    ) >"$work/c3" &
    clients+=($!)
    # 4. A burst: many requests on one keep-alive connection, as fast as they go.
    (
        sleep "$burst_at"
        start=$(now)
        urls=$(for i in $(seq "$burst_n"); do echo "$base/files/notes.txt?n=$i"; done)
        # shellcheck disable=SC2046,SC2086 # one -o and one URL a word
        out=$(curl -s --max-time 20 $(for _ in $(seq "$burst_n"); do echo -o /dev/null; done) \
            -w '%{http_code} %{local_port}\n' $urls)
        end=$(now)
        echo "$out" | awk 'NR == 1 && $2 { print $2, "keep-alive burst" }' >"$work/port4"
        echo "$out" | awk -v s="$start" -v e="$end" '$1 { n++; c[$1]++ }
            END { for (k in c) codes = codes (codes ? ", " : "") c[k] " x " k
                  printf "keep-alive burst|%s|%s|%d|%s\n", s, e, n, codes }'
        touch "$work/done4"
    ) >"$work/c4" &
    clients+=($!)
    wait "${clients[@]}"
    kill -TERM "$server"
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server" 2>/dev/null; then
        echo "still running 5 s after SIGTERM" >"$work/server-status"
    else
        wait "$server"
        echo "exit $?" >"$work/server-status"
    fi
    server=
    cat "$work"/port[1-4] >"$work/ports"
}

# Prints field $2 of client $1's record.
record() { awk -F'|' -v l="$1" -v f="$2" '$1 == l { print $f }' "$work"/c[1-4]; }
# Prints field $2 of connection $1's line in the timeline's summary (label, fd, port, opened, closed,
# requests, statuses, longest reading, its end, close reason).
conn() { awk -F'\t' -v l="$1" -v f="$2" '$1 == l { print $f }' "$work/summary"; }
# Prints a number with $2 decimals.
fixed() { awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'; }

# Prints the demo: the clients, the timeline, a piece of the trace and the results.
report() {
    echo "One process (./server, one select() loop) and four clients at once, on $base"
    echo
    echo "The clients (their settings; everything after this was measured):"
    echo "  browser:          4 files, a page, its stylesheet, a second page and its script, on one keep-alive"
    echo "                    connection, at most $browser_rate a second (curl --rate, or bash before curl 7.84)"
    echo "  slow reader:      a $big_mib MiB file, read at about $slow_rate MiB/s (curl --limit-rate)"
    echo "  half request:     half a request head, then the rest half a second after the other three are done"
    echo "  keep-alive burst: $burst_n requests on one keep-alive connection, $burst_at s after the others start"
    echo
    echo "Timeline from the trace, a character per tenth of a second since the server started"
    echo "(r reading, S sending, . idle between requests, c closing; the picture is $picture):"
    cat "$work/ascii"
    echo
    echo "A piece of the trace (./server -v on stderr; all of it is in $trace):"
    awk '/^select #/ { n++ } n >= 1 && n <= 4' "$trace" | head -n 12 | sed 's/^/  /'
    echo "  ... and when the most connections were open at once:"
    awk -v r="$most_round" '/^select #/ { n = substr($2, 2) + 0 } n >= r - 1' "$trace" | head -n 10 | sed 's/^/  /'
    echo
    results
}

# Prints the results block. Every figure in it is measured: the records, the trace or the summary.
results() {
    rounds=$(grep -c '^select #' "$trace")
    accepted=$(grep -c ': accepted from ' "$trace")
    answered=$(grep -c 'complete, answering' "$trace")
    first=$(sort -t"$(printf '\t')" -k4,4n "$work/summary" | head -n 1 | cut -f4)
    last=$(sort -t"$(printf '\t')" -k5,5n "$work/summary" | tail -n 1 | cut -f5)
    legend=$(awk -F'\t' '{ printf "%sfd %s = %s", (NR > 1 ? ", " : ""), $2, $1 }' "$work/summary")
    echo "Results (for a lab report):"
    echo "  - Who is who: $legend"
    echo "    (in the order the trace accepted them; each client's own port is in its \"accepted from\" line)."
    echo "  - One server process in one select() loop served every client: $answered requests on $accepted connections,"
    echo "    in $rounds select() rounds; the first client arrived at $(fixed "$first" 2) s and the last left at $(fixed "$last" 2) s."
    echo "  - At most $most connections open at once, first in this round:"
    echo "    $most_line"

    b_start=$(record browser 2) b_end=$(record browser 3)
    echo "  - browser: $(record browser 4) files on one keep-alive connection, $(record browser 5)," \
        "$(record browser 6) bytes, in $(fixed "$(awk -v a="$b_start" -v b="$b_end" 'BEGIN { print b - a }')" 2) s"
    s_bytes=$(record "slow reader" 5)
    echo "  - slow reader: $(record "slow reader" 4), $s_bytes bytes ($(fixed "$(awk -v b="$s_bytes" 'BEGIN { print b / 1048576 }')" 1) MiB)" \
        "in $(fixed "$(record "slow reader" 6)" 2) s," \
        "$(fixed "$(awk -v v="$(record "slow reader" 7)" 'BEGIN { print v / 1048576 }')" 2) MiB/s on average"
    h_start=$(record "half request" 2) h_end=$(record "half request" 3)
    h_half=$(record "half request" 4) h_rest=$(record "half request" 5)
    echo "  - half request: the rest of its head came $(fixed "$(awk -v a="$h_half" -v b="$h_rest" 'BEGIN { print b - a }')" 2) s" \
        "after the first half, then it got $(record "half request" 6); in $(fixed "$(awk -v a="$h_start" -v b="$h_end" 'BEGIN { print b - a }')" 2) s"
    k_start=$(record "keep-alive burst" 2) k_end=$(record "keep-alive burst" 3)
    echo "  - keep-alive burst: $(record "keep-alive burst" 4) requests on one keep-alive connection," \
        "$(record "keep-alive burst" 5), in $(fixed "$(awk -v a="$k_start" -v b="$k_end" 'BEGIN { print b - a }')" 2) s"

    # Which one waited, and whether the others waited for it: from the trace.
    waited=$(conn "half request" 8) until=$(conn "half request" 9)
    b_closed=$(conn browser 5) k_closed=$(conn "keep-alive burst" 5) s_closed=$(conn "slow reader" 5)
    echo "  - In the trace the half request sat in reading for $(fixed "$waited" 2) s (until $(fixed "$until" 2) s). Meanwhile the"
    echo "    browser left at $(fixed "$b_closed" 2) s, the burst at $(fixed "$k_closed" 2) s and the slow reader at $(fixed "$s_closed" 2) s."
    if awk -v u="$until" -v a="$b_closed" -v b="$k_closed" -v c="$s_closed" 'BEGIN { exit !(a < u && b < u && c < u) }'; then
        echo "    No client waited for another: all three were served while the half request was still unfinished."
    fi
    echo "  - Why: select() tells the loop which sockets are ready; the loop reads or writes only those, never"
    echo "    waits on one socket, and keeps each connection's progress in its own slot of the table."
}

# Checks what a --check run printed and drew (in $work/out, the trace and the picture); prints ok/FAIL
# lines and the totals.
check() {
    python3 - "$work" "$trace" "$picture" <<'EOF'
import re, sys
import xml.etree.ElementTree as ET

work, trace_path, svg_path = sys.argv[1:4]
CLIENTS = ["browser", "slow reader", "half request", "keep-alive burst"]
passed = failed = 0

def stopped(kind, value, tb):
    """Counts a check that could not finish (a record or the trace missing a line) as a failure."""
    print("FAIL - the checks could not finish: %s: %s" % (kind.__name__, value))
    print("%d passed, %d failed" % (passed, failed + 1))
    sys.exit(1)

sys.excepthook = stopped

def check(name, why):
    """why is None or "" when the check holds, else the reason it does not."""
    global passed, failed
    if why:
        print("FAIL - %s: %s" % (name, why))
        failed += 1
    else:
        print("ok - " + name)
        passed += 1

out = open(work + "/out", encoding="utf-8", errors="replace").read()
trace = open(trace_path, encoding="utf-8", errors="replace").read().splitlines()
block = out[out.find("Results (for a lab report):"):] if "Results (for a lab report):" in out else ""
check("make demo ran and printed a results block", None if block else "no results block")
status = open(work + "/server-status").read().strip()
check("the server stopped cleanly on SIGTERM", None if status == "exit 0" else status)

# The clients' own records: label|start|end|figures...
rec = {}
for i in range(1, 5):
    for line in open("%s/c%d" % (work, i), encoding="utf-8"):
        f = line.strip().split("|")
        rec[f[0]] = f
ports = {}
for line in open(work + "/ports", encoding="utf-8"):
    port, _, label = line.rstrip("\n").partition(" ")
    if port:
        ports[label] = port

# The trace, read here on its own: rounds, and each connection from accepted to closed.
rounds, conns, live, t = [], [], {}, 0.0
for line in trace:
    m = re.match(r"select #(\d+) at ([0-9.]+) s: (\d+) ready; (\d+) open", line)
    if m:
        t = float(m.group(2))
        rounds.append((int(m.group(1)), t, int(m.group(4)), line))
        continue
    m = re.match(r"  fd (\d+): (.*)", line)
    if not m:
        continue
    fd, what = int(m.group(1)), m.group(2)
    a = re.match(r"accepted from .*:(\d+)$", what)
    if a:
        live[fd] = {"fd": fd, "port": a.group(1), "opened": t, "closed": None, "requests": 0, "complete": []}
        conns.append(live[fd])
    elif fd in live and what.startswith("request "):
        live[fd]["requests"] += 1
        live[fd]["complete"].append(t)
    elif fd in live and what.startswith("closed ("):
        live[fd]["closed"] = t
        del live[fd]
by_label = {}
for c in conns:
    for label, port in ports.items():
        if c["port"] == port:
            by_label[label] = c
left = [c for c in conns if c not in by_label.values()]
missing = [l for l in CLIENTS if l not in by_label]
if len(left) == 1 and len(missing) == 1:  # a client whose port could not be read: the one left
    by_label[missing[0]] = left[0]

# The picture.
root = None
try:
    root = ET.parse(svg_path).getroot()
    why = None if root.tag == "{http://www.w3.org/2000/svg}svg" else "root element is " + root.tag
except (OSError, ET.ParseError) as e:
    why = str(e)
check("timeline SVG exists and parses as XML (%s)" % svg_path, why)
rows = []
if root is not None:
    ns = "{http://www.w3.org/2000/svg}"
    for g in root.iter(ns + "g"):
        if g.get("class") == "row":
            label = next((x.text for x in g.iter(ns + "text") if x.get("class") == "label"), None)
            bars = sum(1 for r in g.iter(ns + "rect") if r.get("fill", "none") != "none")
            rows.append((label, bars))
labels = sorted(l for l, bars in rows if bars > 0)
check("timeline has four labelled rows: " + ", ".join(CLIENTS),
      None if labels == sorted(CLIENTS) else "rows found: %s" % rows)

# Four open at once.
most = max((r[2] for r in rounds), default=0)
check("the trace has a round with 4 connections open", None if most == 4 else "at most %d open" % most)
m = re.search(r"At most (\d+) connections open at once", block)
check("the results block reports 4 open at once",
      "not stated" if not m else None if int(m.group(1)) == 4 == most else
      "it says %s, the trace says %d" % (m.group(1), most))

# The legend: each client's descriptor, as the trace accepted its port.
m = re.search(r"Who is who: (.*)", block)
legend = dict((l, int(fd)) for fd, l in re.findall(r"fd (\d+) = ([a-z -]+?)(?:,|$)", m.group(1))) if m else {}
want = {l: c["fd"] for l, c in by_label.items()}
check("the legend names each client with the descriptor the trace gave it",
      None if legend == want and len(want) == 4 else "legend %s, trace %s" % (legend, want))

# Durations: what the results say, against the clients' own clocks and against the trace.
def said(pattern):
    m = re.search(pattern, block)
    return float(m.group(1)) if m else None

span = {l: (c["closed"] or t) - c["opened"] for l, c in by_label.items()}
durations = {
    "browser": (said(r"- browser: .* in ([0-9.]+) s"), float(rec["browser"][2]) - float(rec["browser"][1]),
                span.get("browser")),
    "slow reader": (said(r"- slow reader: .* in ([0-9.]+) s"), float(rec["slow reader"][5]), span.get("slow reader")),
    "half request": (said(r"- half request: the rest of its head came ([0-9.]+) s"),
                     float(rec["half request"][4]) - float(rec["half request"][3]),
                     (by_label["half request"]["complete"] or [t])[0] - by_label["half request"]["opened"]
                     if "half request" in by_label else None),
    "keep-alive burst": (said(r"- keep-alive burst: .* in ([0-9.]+) s"),
                         float(rec["keep-alive burst"][2]) - float(rec["keep-alive burst"][1]),
                         span.get("keep-alive burst")),
}
problems = []
for label, (printed, own, server) in durations.items():
    if printed is None:
        problems.append("%s: no duration printed" % label)
    elif abs(printed - own) > 0.006:
        problems.append("%s: printed %.2f s, its own clock %.3f s" % (label, printed, own))
    elif server is None or abs(printed - server) > 0.2:
        problems.append("%s: printed %.2f s, the trace %s s" % (label, printed, server))
check("each printed duration is the client's own measurement and agrees with the trace within 0.2 s",
      "; ".join(problems))

# Every figure in the results block is one of the run's measurements, of its kind, told by its unit or
# the word before it: seconds, MiB, MiB/s, bytes, a descriptor, a round; any other is a count (requests,
# connections, rounds, connections open or in a state, a status).
kinds = {k: set() for k in ("s", "MiB", "MiB/s", "bytes", "fd", "#", "count")}
kinds["count"].update([len(rounds), most, len(conns), sum(c["requests"] for c in conns)])
kinds["#"].update(r[0] for r in rounds)
most_line = next((r[3] for r in rounds if r[2] == most), "")
kinds["s"].update(float(x) for x in re.findall(r"[0-9]+\.[0-9]+", most_line))
kinds["count"].update(int(x) for x in re.findall(r"(?<![#.0-9])[0-9]+(?![.0-9])", most_line))
for c in conns:
    kinds["fd"].add(c["fd"])
    kinds["count"].add(c["requests"])
    kinds["s"].update([c["opened"], c["closed"] or t] + c["complete"] + [x - c["opened"] for x in c["complete"]])
for f in rec.values():
    kinds["s"].add(float(f[2]) - float(f[1]))
b, r, h, k = rec["browser"], rec["slow reader"], rec["half request"], rec["keep-alive burst"]
kinds["count"].update([int(b[3]), int(k[3]), int(r[3])] + [int(x) for x in re.findall(r"[0-9]+", b[4] + " " + k[4])])
kinds["bytes"].update([int(b[5]), int(r[4])])
kinds["s"].update([float(r[5]), float(h[4]) - float(h[3])])
kinds["MiB"].add(float(r[4]) / 1048576)
kinds["MiB/s"].update([float(r[6]) / 1048576, float(r[4]) / 1048576 / float(r[5])])
lines = [l for l in block.splitlines() if l.startswith("  ")]
FIGURE = re.compile(r"(fd |#)?(?<![\w.])([0-9]+(?:\.[0-9]+)?)(?![\w.])( ?(?:MiB/s|MiB|bytes|ms|s)\b)?")

def unmeasured(text):
    """The figures in text that match no measurement of their kind, at the precision printed."""
    bad = []
    for before, tok, unit in FIGURE.findall(text):
        kind = before.strip() or unit.strip() or "count"
        if kind == "ms":
            kind, value = "s", float(tok) / 1000
        else:
            value = float(tok)
        digits = len(tok.split(".")[1]) if "." in tok else 0
        near = 10 ** -digits * 1.01 if digits else 0.5 if kind in ("s", "MiB", "MiB/s") else 0
        if not any(abs(v - value) <= near for v in kinds[kind]):
            bad.append(before + tok + unit)
    return bad

bad = [tok for l in lines for tok in unmeasured(l)]
check("every figure in the results block was measured in this run",
      "not measured: " + ", ".join(bad) if bad else None if lines else "no results")
# The control: a figure no run of a few seconds can measure must be caught, or the check above proves nothing.
made_up = "123.45 s"
check("control: a figure not measured (%s) is caught" % made_up,
      None if unmeasured("  - slow reader: in " + made_up) == [made_up] else "not caught")

# The half-sent request sat in reading while the others finished.
h = by_label.get("half request")
others = [by_label[l]["closed"] for l in CLIENTS[:2] + CLIENTS[3:] if l in by_label]
done = h["complete"][0] if h and h["complete"] else None
check("the half request's head was complete only after the other three had left",
      None if done is not None and len(others) == 3 and all(o is not None and o < done for o in others)
      else "complete at %s, the others left at %s" % (done, others))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
}

# Runs the demo, then draws and prints it. Returns non-zero when it could not.
demo() {
    run || return 1
    python3 tests/timeline.py "$trace" "$work/ports" "$picture" "$work/summary" >"$work/ascii" || return 1
    most_line=$(awk '/^select #/ { split($0, a, "; "); split(a[2], b, " "); if (b[1] + 0 > max) { max = b[1] + 0; line = $0 } }
        END { print line }' "$trace")
    most=$(echo "$most_line" | awk '{ split($0, a, "; "); split(a[2], b, " "); print b[1] + 0 }')
    most_round=$(echo "$most_line" | awk '{ print substr($2, 2) + 0 }')
    report
}

if [ "$checking" -eq 0 ]; then
    demo
    exit
fi
if ! demo >"$work/out" 2>&1; then
    echo "FAIL - make demo ran: $(tail -n 1 "$work/out")"
    echo "0 passed, 1 failed"
    exit 1
fi
check
