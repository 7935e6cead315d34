#!/usr/bin/env bash
# make demo: the "multiplexing socket I/O with select" exercise, end to end, in about 5 seconds.
# Starts ./server -v on a free port, runs four clients at once with standard tools (curl and bash),
# then prints a timeline, a piece of the select() trace and a results summary for a lab report.
# The whole trace is kept in build/demo-trace.txt.
set -u
cd "$(dirname "$0")/.." || exit 2
command -v curl >/dev/null || { echo "demo: needs curl (Debian: apt-get install -y curl)" >&2; exit 2; }
[ -x ./server ] || { echo "demo: build the server first: make" >&2; exit 2; }
mkdir -p build
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
cp -R public "$work/root"
head -c $((24 * 1024 * 1024)) /dev/urandom >"$work/root/big.bin" # made here, never committed

./server -v -p 0 -r "$work/root" >"$work/log" 2>build/demo-trace.txt &
server=$!
for _ in $(seq 50); do grep -q Serving "$work/log" && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$work/log")
[ -n "$port" ] || { echo "demo: the server did not start" >&2; exit 1; }
base=http://127.0.0.1:$port
now() { date +%s.%N; }
t0=$(now)
clients=()

# 1. A browser: two pages and their assets, one after another on one keep-alive connection.
(
    start=$(now)
    codes=$(curl -s --max-time 20 -o /dev/null -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} ' \
        "$base/" "$base/style.css" "$base/parallel.html" "$base/parallel.js")
    echo "browser|$start|$(now)|4 files on one connection: $codes"
) >"$work/c1" &
clients+=($!)
# 2. A slow reader: 24 MiB, more than the kernel buffers between the two ends, read at 4 MiB/s.
(
    start=$(now)
    got=$(curl -s --max-time 20 --limit-rate 4M -o /dev/null -w '%{http_code}, %{size_download} bytes' "$base/big.bin")
    echo "slow reader|$start|$(now)|24 MiB at 4 MiB/s: $got"
) >"$work/c2" &
clients+=($!)
# 3. Half a request: the head stops half-way for 3 s, then the rest arrives.
(
    start=$(now)
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET /files/notes.txt HTTP/1.1\r\nHost: demo\r\n' >&3
    sleep 3
    printf 'Connection: close\r\n\r\n' >&3
    status=$(timeout 10 head -n 1 <&3 | cut -d' ' -f2)
    timeout 10 cat <&3 >/dev/null
    echo "half request|$start|$(now)|waited 3 s mid-head, then: ${status:-no answer}"
) >"$work/c3" &
clients+=($!)
# 4. A burst: 20 requests on one keep-alive connection, half a second in.
(
    sleep 0.5
    start=$(now)
    urls=$(for i in $(seq 20); do echo "$base/files/notes.txt?n=$i"; done)
    codes=$(curl -s --max-time 20 $(for _ in $(seq 20); do echo -o /dev/null; done) -w '%{http_code}\n' $urls |
        sort | uniq -c | awk '{ printf "%s%d x %s", (NR > 1 ? ", " : ""), $1, $2 }')
    echo "keep-alive burst|$start|$(now)|20 requests on one connection: $codes"
) >"$work/c4" &
clients+=($!)
wait "${clients[@]}"
end=$(now)
kill -TERM "$server"
for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
server=

echo "One process (./server, one select() loop) and four clients at once, on $base"
echo
echo "Timeline (each # is a tenth of a second; the clients ran side by side):"
cat "$work"/c[1-4] | awk -F'|' -v t0="$t0" '{
    s = $2 - t0; e = $3 - t0; bar = ""
    for (i = 0; i < 80; i++) bar = bar (i >= int(s * 10) && i <= int(e * 10) ? "#" : " ")
    printf "  %-17s |%s| %5.2f s to %5.2f s\n", $1, bar, s, e }'
echo
echo "A piece of the trace (./server -v on stderr; all of it is in build/demo-trace.txt):"
awk '/^select #/ { n++ } n >= 1 && n <= 4' build/demo-trace.txt | head -n 12 | sed 's/^/  /'
echo "  ... and half a second in, while the burst arrives:"
awk '/^select #/ { split($0, w, " "); if (w[4] + 0 >= 0.5) on = 1 } on' build/demo-trace.txt | head -n 12 | sed 's/^/  /'
echo
rounds=$(grep -c '^select #' build/demo-trace.txt)
most=$(awk '/^select #/ { split($0, a, "; "); split(a[2], b, " "); if (b[1] + 0 > max) max = b[1] + 0 } END { print max + 0 }' build/demo-trace.txt)
accepted=$(grep -c ': accepted from ' build/demo-trace.txt)
answered=$(grep -c 'complete, answering' build/demo-trace.txt)
echo "Results (for a lab report):"
echo "  - One server process in one select() loop served every client: $answered requests on $accepted connections,"
echo "    in $rounds select() rounds over $(awk -v a="$t0" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s, with at most $most connections open at once"
echo "    (the browser and the burst are done in milliseconds, so they rarely overlap each other)."
cat "$work"/c[1-4] | awk -F'|' -v t0="$t0" '{ printf "  - %s: %s (%.2f s to %.2f s)\n", $1, $4, $2 - t0, $3 - t0 }'
cat "$work"/c[1-4] | awk -F'|' -v t0="$t0" '{ e[$1] = $3 - t0 }
    END { burst = e["keep-alive burst"]; half = e["half request"]; slow = e["slow reader"]
          printf "  - The burst was done at %.2f s; the half request was %s (until %.2f s)", burst,
                 (half > burst ? "still waiting" : "already done"), half
          printf " and the slow reader %s (until %.2f s).\n", (slow > burst ? "still reading" : "already done"), slow
          if (half > burst && slow > burst) print "    No client waited for another." }'
echo "  - Why: select() tells the loop which sockets are ready; the loop reads or writes only those, never"
echo "    waits on one socket, and keeps each connection's progress in its own slot of the table."
