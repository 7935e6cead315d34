#!/usr/bin/env bash
# make demo: the "multiplexing socket I/O with select" exercise, end to end, in 5 to 8 seconds.
# Starts ./server -v on a free port, runs four clients at once with standard tools (curl and bash),
# then prints a timeline, a piece of the select() trace and a results summary for a lab report, and
# draws the timeline as a picture. Every figure in the results is measured in this run: counted by the
# clients themselves (curl's -w figures: statuses, bytes, ports), read from the trace, or read from
# /proc (the server's own descriptors). Every time is the trace's: each client has one duration, the
# time its connection was open from "accepted" to "closed", the same in the results, the text
# timeline and the picture.
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
if [ "$checking" -eq 1 ]; then # a check of its own files: another run in the same tree cannot mix in
    trace=$work/demo-trace.txt
    picture=$work/demo-timeline.svg
fi

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

# Lists the server's open descriptors now, "NUMBER TARGET" a line, from /proc (Linux); nothing elsewhere.
server_fds() {
    for f in "/proc/$server/fd/"*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        echo "${f##*/} $(readlink "$f" 2>/dev/null)"
    done 2>/dev/null | sort -n
}

# Runs the server and the four clients; leaves the trace, each client's record ($work/c1 to c4: label,
# start, end, then its own figures, split by |), each client's port ($work/ports), and the server's
# descriptors before any client ($work/fds-start) and when the burst connected ($work/fds-mid).
run() {
    mkdir "$work/root" || return 1
    (cd public && tar cf - --exclude=./files/big.bin .) | (cd "$work/root" && tar xf -) || return 1
    head -c $((big_mib * 1024 * 1024)) /dev/urandom >"$work/root/big.bin" # made here, never committed
    ./server -v -p 0 -r "$work/root" >"$work/log" 2>"$trace" &
    server=$!
    for _ in $(seq 50); do grep -q Serving "$work/log" && break; sleep 0.1; done
    port=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$work/log")
    [ -n "$port" ] || { echo "demo: the server did not start" >&2; return 1; }
    server_fds >"$work/fds-start"
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
            -w '%{http_code} %{size_download} %{local_port}' "$base/big.bin")
        end=$(now)
        echo "$out" | awk '$3 { print $3, "slow reader" }' >"$work/port2"
        echo "$out" | awk -v s="$start" -v e="$end" '{ printf "slow reader|%s|%s|%s|%s\n", s, e, $1, $2 }'
        touch "$work/done2"
    ) >"$work/c2" &
    clients+=($!)
    # 3. Half a request: the head stops half-way, and the rest comes half a second after the others are done.
    (
        start=$(now)
        if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
            echo "$(socket_port 3) half request" >"$work/port3"
            printf 'GET /files/notes.txt HTTP/1.1\r\nHost: demo\r\n' >&3
            for _ in $(seq 160); do # 8 s at most, within the server's 10 s for a request head
                [ -e "$work/done1" ] && [ -e "$work/done2" ] && [ -e "$work/done4" ] && break
                sleep 0.05
            done
            sleep 0.5
            printf 'Connection: close\r\n\r\n' >&3
            status=$(timeout 10 head -n 1 <&3 | cut -d' ' -f2)
            timeout 10 cat <&3 >/dev/null
            echo "half request|$start|$(now)|${status:-none}"
        else
            echo " half request" >"$work/port3"
            echo "half request|$start|$(now)|none"
        fi
    ) >"$work/c3" &
    clients+=($!)
    # 4. A burst: many requests on one keep-alive connection, as fast as they go.
    (
        sleep "$burst_at"
        server_fds >"$work/fds-mid" # what the server holds while the others are served, for the results
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
# requests, statuses, longest reading, its end, close reason, duration).
conn() { awk -F'\t' -v l="$1" -v f="$2" '$1 == l { print $f }' "$work/summary"; }
# Prints a number with $2 decimals.
fixed() { awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'; }
# Prints "open A s to B s: D" for a client: its connection's accepted and closed times in the trace,
# and its one duration, the string the timeline wrote (the same in the text and the picture).
open_for() { echo "open $(conn "$1" 4) s to $(conn "$1" 5) s: $(conn "$1" 11)"; }

# Folds a results line at 104 columns, the lines after the first indented under its text.
wrap() { fold -s -w 104 | sed 's/ *$//; 2,$s/^/    /'; }

# Prints what a descriptor the server held is, from its number and target.
fd_role() {
    case $1 in
    0) echo "stdin" ;;
    1) echo "stdout: the access log" ;;
    2) echo "stderr: the trace" ;;
    *)
        case $2 in
        socket:*) echo "the listening socket" ;;
        "$work/root") echo "the folder it serves" ;;
        /dev/pts/* | /dev/tty*) echo "the terminal, opened again" ;;
        "$work/root/"*) echo "${2#"$work/root/"}, a file it was sending (it holds a descriptor until sent)" ;;
        *) echo "$2" ;;
        esac
        ;;
    esac
}

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
    echo "Timeline from the trace, a character per tenth of a second since the server started, then each"
    echo "connection's accepted and closed times and how long it was open"
    echo "(. idle, r reading, S sending, c closing; the picture is $picture):"
    cat "$work/ascii"
    echo
    echo "A piece of the trace (./server -v on stderr; all of it is in $trace):"
    awk '/^select #/ { n++ } n >= 1 && n <= 4' "$trace" | head -n 12 | sed 's/^/  /'
    echo "  ... and when the most connections were open at once:"
    awk -v r="$most_round" '/^select #/ { n = substr($2, 2) + 0 } n >= r - 1' "$trace" | head -n 10 | sed 's/^/  /'
    echo
    results
}

# Prints the results block. Every figure in it is measured: the records, the trace, the summary or /proc.
results() {
    rounds=$(awk '/^select #/ { n = substr($2, 2) + 0 } END { print n + 0 }' "$trace")
    shown=$(grep -c '^select #' "$trace")
    accepted=$(grep -c ': accepted from ' "$trace")
    answered=$(grep -c 'complete, answering' "$trace")
    first=$(sort -t"$(printf '\t')" -k4,4n "$work/summary" | head -n 1 | cut -f4)
    last=$(sort -t"$(printf '\t')" -k5,5n "$work/summary" | tail -n 1 | cut -f5)
    legend=$(awk -F'\t' '{ printf "%sfd %s = %s", (NR > 1 ? ", " : ""), $2, $1 }' "$work/summary")
    lowest=$(cut -f2 "$work/summary" | sort -n | head -n 1)
    highest=$(cut -f2 "$work/summary" | sort -n | tail -n 1)
    echo "Results (for a lab report):"
    echo "  - Who is who: $legend"
    echo "    (in the order the trace accepted them; each client's own port is in its \"accepted from\" line)."
    own=$(while read -r n target; do
        [ "$n" -lt "$lowest" ] && printf '%sfd %s (%s)' "${sep-}" "$n" "$(fd_role "$n" "$target")" && sep=', '
    done <"$work/fds-start")
    if [ -n "$own" ]; then
        echo "  - Descriptors: before any client the server held $own." | wrap
        echo "    Each new socket or file gets the lowest number free, so the first client got fd $lowest."
    fi
    for n in $(seq "$lowest" "$highest"); do
        cut -f2 "$work/summary" | grep -qx "$n" && continue
        held=$(awk -v n="$n" '$1 == n { $1 = ""; print substr($0, 2) }' "$work/fds-start")
        mid=$(awk -v n="$n" '$1 == n { $1 = ""; print substr($0, 2) }' "$work/fds-mid")
        if [ -n "$held" ]; then
            echo "  - fd $n: no client got it: the server held it from the start ($(fd_role "$n" "$held"))." | wrap
        elif [ -n "$mid" ]; then
            echo "  - fd $n: no client got it: when the burst connected, the server held it for $(fd_role "$n" "$mid")." | wrap
        else
            echo "  - fd $n: no client got it: the server had a file open on it when the next client came." | wrap
        fi
    done
    echo "  - One server process in one select() loop served every client: $answered requests on $accepted connections,"
    echo "    in $rounds select() rounds (the trace shows $shown of them; -v sums up the rounds with nothing ready);"
    echo "    the first client arrived at $first s and the last left at $last s."
    echo "  - At most $most connections open at once, first in this round:"
    echo "    $most_line"
    echo "  - Each client's time is its connection's, in the trace: from accepted to closed."
    echo "  - browser: $(record browser 4) files on one keep-alive connection, $(record browser 5)," \
        "$(record browser 6) bytes; $(open_for browser)"
    s_bytes=$(record "slow reader" 5)
    s_time=$(conn "slow reader" 11)
    echo "  - slow reader: $(record "slow reader" 4), $s_bytes bytes ($(fixed "$(awk -v b="$s_bytes" 'BEGIN { print b / 1048576 }')" 1) MiB);" \
        "$(open_for "slow reader"), $(fixed "$(awk -v b="$s_bytes" -v t="${s_time% s}" 'BEGIN { print (t > 0 ? b / 1048576 / t : 0) }')" 2) MiB/s on average"
    echo "  - half request: half its head, then the rest once the others had left; it got $(record "half request" 4);" \
        "$(open_for "half request")"
    echo "  - keep-alive burst: $(record "keep-alive burst" 4) requests on one keep-alive connection," \
        "$(record "keep-alive burst" 5); $(open_for "keep-alive burst")"

    # Which one waited, and whether the others waited for it: from the trace.
    until=$(conn "half request" 9)
    b_closed=$(conn browser 5) k_closed=$(conn "keep-alive burst" 5) s_closed=$(conn "slow reader" 5)
    echo "  - In the trace the half request's head was complete at $until s, after the browser left ($b_closed s),"
    echo "    the burst ($k_closed s) and the slow reader ($s_closed s)."
    if awk -v u="$until" -v a="$b_closed" -v b="$k_closed" -v c="$s_closed" 'BEGIN { exit !(a < u && b < u && c < u) }'; then
        echo "    No client waited for another: all three were served while the half request was still unfinished."
    fi
    echo "  - Why: select() tells the loop which sockets are ready; the loop reads or writes only those, never"
    echo "    waits on one socket, and keeps each connection's progress in its own slot of the table."
}

# Checks what a --check run printed and drew (in $work/out, the trace and the picture); prints ok/FAIL
# lines and the totals. Every check holds by what the run counted (rounds, requests, bytes, descriptors,
# the order of the trace's lines) and by the figures being the same wherever they are printed; none
# compares a duration with another measurement or with a bound, so a busy machine cannot fail it.
check() {
    python3 - "$work" "$trace" "$picture" "$big_mib" <<'EOF'
import re, sys
import xml.etree.ElementTree as ET

work, trace_path, svg_path = sys.argv[1:4]
big_bytes = int(sys.argv[4]) * 1048576
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

# The trace, read here on its own: rounds (shown, and summed up), and each connection from accepted to
# closed, with the index of each line so that the order of events is the trace's own.
rounds, conns, live, t = [], [], {}, 0.0
summed, gaps = 0, []
last_round = 0
for i, line in enumerate(trace):
    m = re.match(r"\.\.\. (\d+) rounds? with nothing ready$", line)
    if m:
        summed += int(m.group(1))
        continue
    m = re.match(r"select #(\d+) at ([0-9.]+) s: (\d+) ready; (\d+) open", line)
    if m:
        number = int(m.group(1))
        if number - last_round - 1 != summed:
            gaps.append("select #%d follows #%d with %d rounds summed up between" % (number, last_round, summed))
        last_round, summed = number, 0
        t = float(m.group(2))
        rounds.append((number, t, int(m.group(4)), line))
        continue
    m = re.match(r"  fd (\d+): (.*)", line)
    if not m:
        continue
    fd, what = int(m.group(1)), m.group(2)
    a = re.match(r"accepted from .*:(\d+)$", what)
    if a:
        live[fd] = {"fd": fd, "port": a.group(1), "opened": t, "closed": None, "requests": 0, "complete": [],
                    "complete_line": [], "closed_line": None, "statuses": [], "sent": []}
        conns.append(live[fd])
    elif fd in live and re.match(r'request ".*" complete, answering (\d+)|no whole request line, answering (\d+)', what):
        c = live[fd]
        c["requests"] += 1
        c["complete"].append(t)
        c["complete_line"].append(i)
        c["statuses"].append(re.search(r"answering (\d+)", what).group(1))
    elif fd in live and what.startswith("wrote "):
        w = re.match(r"wrote (\d+) bytes, (\d+) of (\d+) sent$", what)
        live[fd]["sent"].append((int(w.group(2)), int(w.group(3))))
    elif fd in live and what.startswith("closed ("):
        live[fd]["closed"] = t
        live[fd]["closed_line"] = i
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

# The rounds: -v shows some and sums up the others; together they count every round, one by one.
check("the trace counts every round: each round line's number follows the last one and the rounds summed up "
      "between", "; ".join(gaps[:3]) if gaps else None if rounds else "no round line")
m = re.search(r"in (\d+) select\(\) rounds \(the trace shows (\d+) of them", block)
check("the results give the trace's rounds: the last round's number, and the round lines shown",
      "not stated" if not m else None if (int(m.group(1)), int(m.group(2))) == (last_round, len(rounds)) else
      "they say %s and %s, the trace has %d and %d" % (m.group(1), m.group(2), last_round, len(rounds)))

# The picture.
root = None
try:
    root = ET.parse(svg_path).getroot()
    why = None if root.tag == "{http://www.w3.org/2000/svg}svg" else "root element is " + root.tag
except (OSError, ET.ParseError) as e:
    why = str(e)
check("timeline SVG exists and parses as XML (%s)" % svg_path, why)
rows, svg_time = [], {}
if root is not None:
    ns = "{http://www.w3.org/2000/svg}"
    for g in root.iter(ns + "g"):
        if g.get("class") == "row":
            label = next((x.text for x in g.iter(ns + "text") if x.get("class") == "label"), None)
            bars = sum(1 for r in g.iter(ns + "rect") if r.get("fill", "none") != "none")
            rows.append((label, bars))
            said = next((x.text for x in g.iter(ns + "text") if x.get("class") == "duration"), "") or ""
            svg_time[label] = said.split(":")[0]
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

# The descriptors: the server's own are below every client's; the first client got the lowest number
# left; every number between the clients' that no client got is accounted for.
client_fds = sorted(c["fd"] for c in conns)
m = re.search(r"before any client the server held (.*?)\.\n\s+Each new", block, re.S)
own = [int(x) for x in re.findall(r"fd (\d+)\s+\(", m.group(1))] if m else []
m2 = re.search(r"so the first client got fd (\d+)", block)
problems = []
proc = open(work + "/fds-start", encoding="utf-8").read().strip() != ""  # /proc could be read (Linux)
if proc and not own:
    problems.append("no line names the server's own descriptors")
elif own and (max(own) >= client_fds[0] or own != list(range(len(own)))):
    problems.append("own %s, clients %s" % (own, client_fds))
if proc and (not m2 or int(m2.group(1)) != client_fds[0]):
    problems.append("first client: said %s, the trace %d" % (m2.group(1) if m2 else None, client_fds[0]))
unnamed = [n for n in range(client_fds[0], client_fds[-1]) if n not in client_fds]
explained = [int(x) for x in re.findall(r"- fd (\d+): no client got it", block)]  # one line each
if sorted(explained) != unnamed:
    problems.append("numbers no client got: %s, explained: %s" % (unnamed, explained))
check("the descriptors: the server's own come first, the first client got the next, each gap is explained",
      "; ".join(problems))

# One duration per client: the same string in the results, the text timeline and the picture, and it is
# the connection's closed minus accepted time in the trace (to the trace's ms).
problems = []
timeline = out[out.find("Timeline from the trace"):out.find("A piece of the trace")]
for label in CLIENTS:
    c = by_label.get(label)
    if c is None:
        problems.append("%s: no connection" % label)
        continue
    m = re.search(r"- %s: .*; open ([0-9.]+) s to ([0-9.]+) s: ([0-9.]+ s)" % re.escape(label), block)
    t = re.search(r"^  %s +fd +\d+ +\|.*\| ([0-9.]+) s to ([0-9.]+) s: ([0-9.]+ s)$" % re.escape(label), timeline, re.M)
    closed = c["closed"] if c["closed"] is not None else t  # still open when the trace ends
    computed = "%.3f s" % ((round(closed * 1000) - round(c["opened"] * 1000)) / 1000)
    said = (m.group(3) if m else None, t.group(3) if t else None, svg_time.get(label))
    if len(set(said)) != 1 or said[0] != computed:
        problems.append("%s: results %s, text %s, picture %s, trace %s" % ((label,) + said + (computed,)))
    elif (float(m.group(1)), float(m.group(2))) != (c["opened"], closed):
        problems.append("%s: open %s to %s, the trace %s to %s" % (label, m.group(1), m.group(2), c["opened"], closed))
check("each client has one duration, the same in the results, the text timeline and the picture: its "
      "connection's closed minus accepted time in the trace", "; ".join(problems))

# What each client counted against what the trace counted: requests, statuses, bytes.
problems = []
b, s, h, k = rec["browser"], rec["slow reader"], rec["half request"], rec["keep-alive burst"]
for label, n, codes in (("browser", int(b[3]), b[4].split()), ("keep-alive burst", int(k[3]), None),
                        ("half request", 1, [h[3]])):
    c = by_label.get(label)
    if c is None or c["requests"] != n:
        problems.append("%s: %d requests by its own count, %s in the trace" % (label, n, c and c["requests"]))
    elif codes is not None and c["statuses"] != codes:
        problems.append("%s: statuses %s, the trace %s" % (label, codes, c["statuses"]))
burst = by_label.get("keep-alive burst")
if burst is not None and re.match(r"(\d+) x (\d+)$", k[4]):
    if ["%s" % re.match(r"(\d+) x (\d+)$", k[4]).group(2)] * int(k[3]) != burst["statuses"]:
        problems.append("keep-alive burst: %s, the trace %s" % (k[4], burst["statuses"]))
slow = by_label.get("slow reader")
got = int(s[4]) if s[4].isdigit() else -1
if got != big_bytes:
    problems.append("slow reader: %d bytes, the file has %d" % (got, big_bytes))
elif slow is None or not slow["sent"] or slow["sent"][-1][0] != slow["sent"][-1][1] or \
        not 0 < slow["sent"][-1][1] - got < 1024:
    problems.append("slow reader: the trace's last write %s, for %d body bytes" % (slow and slow["sent"][-1:], got))
check("each client's own counts match the trace's: requests and statuses on its connection, the slow "
      "reader's bytes (the file, plus a head in the trace's total)", "; ".join(problems))

# Every figure in the results block is one of the run's measurements, of its kind, told by its unit or
# the word before it: seconds, MiB, MiB/s, bytes, a descriptor, a round; any other is a count (requests,
# connections, rounds, connections open or in a state, a status).
kinds = {k: set() for k in ("s", "MiB", "MiB/s", "bytes", "fd", "#", "count")}
kinds["count"].update([len(rounds), last_round, most, len(conns), sum(c["requests"] for c in conns)])
kinds["#"].update(r[0] for r in rounds)
most_line = next((r[3] for r in rounds if r[2] == most), "")
kinds["s"].update(float(x) for x in re.findall(r"[0-9]+\.[0-9]+", most_line))
kinds["count"].update(int(x) for x in re.findall(r"(?<![#.0-9])[0-9]+(?![.0-9])", most_line))
for name in ("fds-start", "fds-mid"):
    for line in open(work + "/" + name, encoding="utf-8"):
        kinds["fd"].add(int(line.split()[0]))
for c in conns:
    kinds["fd"].add(c["fd"])
    kinds["count"].add(c["requests"])
    kinds["count"].update(int(x) for x in c["statuses"])
    closed = c["closed"] if c["closed"] is not None else t
    kinds["s"].update([c["opened"], closed, (round(closed * 1000) - round(c["opened"] * 1000)) / 1000] + c["complete"])
kinds["count"].update([int(b[3]), int(k[3])] + [int(x) for x in re.findall(r"[0-9]+", b[4] + " " + k[4] + " " + s[3] + " " + h[3])])
kinds["bytes"].update([int(b[5]), got])
kinds["MiB"].add(got / 1048576)
if slow is not None and slow["closed"] is not None:
    span = (round(slow["closed"] * 1000) - round(slow["opened"] * 1000)) / 1000
    kinds["MiB/s"].add(got / 1048576 / span if span > 0 else 0)
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

# The half-sent request sat in reading while the others finished: in the trace, the line that completes
# its head comes after the lines that close the other three.
hc = by_label.get("half request")
others = [by_label[l]["closed_line"] for l in CLIENTS if l != "half request" and l in by_label]
done = hc["complete_line"][0] if hc and hc["complete_line"] else None
check("the half request's head was complete only after the other three had left (in the trace's order)",
      None if done is not None and len(others) == 3 and all(o is not None and o < done for o in others)
      else "complete at line %s, the others closed at lines %s" % (done, others))
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
