#!/usr/bin/env bash
# make bench: ./server against nginx and lighttpd on loopback, each loaded by wrk -t1: the servers are pinned
# to core 0 and wrk to core 1 (with taskset, when there are two cores), so each gets one. Prints per scenario the median of BENCH_ROUNDS rounds (default 3, the peer
# order rotating) of BENCH_SECONDS each (default 5), the ratios ours/nginx and ours/lighttpd, the serving
# process's CPU time per request (steadier than throughput on a shared machine, and what a faster server
# saves when the load generator is the limit), then the system calls per keep-alive request (strace -c)
# and our instructions per request (callgrind).
# A run with socket errors or non-2xx answers counts as failed: the script then exits 1.
set -u
cd "$(dirname "$0")/.." || exit 2
rounds=${BENCH_ROUNDS:-3}
seconds=${BENCH_SECONDS:-5}
install="apt-get install -y wrk nginx-light lighttpd"

command -v wrk >/dev/null || { echo "bench: wrk is missing; install it with: $install" >&2; exit 2; }
peers=(ours)
for tool in nginx lighttpd; do
    if command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ]; then
        peers+=("$tool")
    else
        echo "bench: $tool is missing, so it is left out; install it with: $install" >&2
    fi
done
export PATH="$PATH:/usr/sbin"
server_cpu=() load_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    server_cpu=(taskset -c 0)
    load_cpu=(taskset -c 1)
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null # wrk -c1000 and the servers need more than 1024 descriptors

work=$(mktemp -d /tmp/bench.XXXXXX)
pids=()
# Stops every peer and removes the scratch tree.
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$work/root" "$work/nginx"
head -c 1024 /dev/urandom >"$work/root/small.bin"
head -c 104857600 /dev/urandom >"$work/root/big.bin"
chmod -R a+rX "$work" # nginx's worker runs as an unprivileged user
sleep 2 # ./server keeps in memory only files unchanged for 2 s; let the new tree settle
read -r port_ours port_nginx port_lighttpd < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

cat >"$work/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000;
    keepalive_requests 100000000;
    client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
    server { listen 127.0.0.1:$port_nginx; root $work/root; }
}
EOF
cat >"$work/lighttpd.conf" <<EOF
server.document-root = "$work/root"
server.bind = "127.0.0.1"
server.port = $port_lighttpd
server.network-backend = "sendfile"
server.max-fds = 8192
server.max-connections = 4096
server.max-keep-alive-requests = 100000000
server.errorlog = "$work/lighttpd.err"
mimetype.assign = ( ".bin" => "application/octet-stream" )
EOF

# Waits until something accepts connections on a port (at most 5 s).
wait_port() {
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench: nothing listens on port $1" >&2
    exit 1
}

declare -A port serving_pid
port[ours]=$port_ours
port[nginx]=$port_nginx
port[lighttpd]=$port_lighttpd
for peer in "${peers[@]}"; do
    case $peer in
    ours) "${server_cpu[@]}" ./server -q -p "$port_ours" -r "$work/root" >/dev/null & ;;
    nginx) "${server_cpu[@]}" nginx -c "$work/nginx.conf" & ;;
    lighttpd) "${server_cpu[@]}" lighttpd -D -f "$work/lighttpd.conf" & ;;
    esac
    pids+=($!)
    wait_port "${port[$peer]}"
    serving_pid[$peer]=$!
    while [ "$peer" = nginx ] && ! serving_pid[$peer]=$(pgrep -P "$!" | head -n 1); do sleep 0.1; done # the worker serves
done

# Prints the CPU time a process has used, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Runs wrk against a peer with the given arguments; prints "VALUE ERRORS CPU": requests/s or MB/s, and the
# serving process's CPU microseconds per request or per MB.
run_wrk() {
    local peer=$1 unit=$2 path=$3
    shift 3
    local out value errors before after
    before=$(cpu_ticks "${serving_pid[$peer]}")
    out=$("${load_cpu[@]}" wrk -t1 "$@" -d"${seconds}s" "http://127.0.0.1:${port[$peer]}$path" 2>&1)
    after=$(cpu_ticks "${serving_pid[$peer]}")
    errors=$(echo "$out" | awk '/Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } /Non-2xx/ { n += $NF } END { print n + 0 }')
    if [ "$unit" = MB/s ]; then
        value=$(echo "$out" | awk '/Transfer\/sec/ { v = $2; m = v ~ /GB/ ? 1024 : v ~ /KB/ ? 1 / 1024 : 1; sub(/[A-Z]+/, "", v); printf "%.0f", v * m }')
    else
        value=$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
    fi
    echo "${value:-0} $errors $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v v="${value:-0}" -v s="$seconds" \
        'BEGIN { printf "%.1f", (v > 0 ? t / hz * 1e6 / (v * s) : 0) }')"
}

# Waits (at most 10 s) until a peer has closed the connections of the last scenario.
settle() {
    for _ in $(seq 100); do
        [ "$(ls "/proc/${serving_pid[$1]}/fd" | wc -l)" -lt 64 ] && return
        sleep 0.1
    done
}

# Measures one scenario on one peer; prints "VALUE ERRORS".
measure() {
    local peer=$1 scenario=$2 holder
    settle "$peer"
    case $scenario in
    ka_small) run_wrk "$peer" req/s /small.bin -c50 ;;
    close_small) run_wrk "$peer" req/s /small.bin -c50 -H "Connection: close" ;;
    big) run_wrk "$peer" MB/s /big.bin -c4 --timeout 30s ;;
    c1000) run_wrk "$peer" req/s /small.bin -c1000 --timeout 10s ;;
    slow)
        coproc holder { exec "${load_cpu[@]}" build/loadgen half "${port[$peer]}" 800 $((seconds + 5)); }
        read -r _ <&"${holder[0]}" # "holding ..." once all 800 sent half a head
        run_wrk "$peer" req/s /small.bin -c50
        kill "$holder_PID" 2>/dev/null
        wait "$holder_PID" 2>/dev/null
        ;;
    rss1000)
        coproc holder { exec "${load_cpu[@]}" build/loadgen idle "${port[$peer]}" 1000 60; }
        read -r _ <&"${holder[0]}" # "holding ..." once all 1000 made their request
        echo "$(awk '/^VmRSS/ { print $2 }' "/proc/${serving_pid[$peer]}/status") 0 0"
        kill "$holder_PID" 2>/dev/null
        wait "$holder_PID" 2>/dev/null
        ;;
    esac
}

scenarios=(ka_small close_small big c1000 slow rss1000)
declare -A unit=([ka_small]=req/s [close_small]=req/s [big]=MB/s [c1000]=req/s [slow]=req/s [rss1000]=KiB)
declare -A target=([ka_small]=">=1.10" [close_small]=">=1.10" [big]=">=0.95" [c1000]=">=1.00" [slow]=">=0.90" [rss1000]="<=1.00")
results=$work/results
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
echo "peers: ${peers[*]} ($(nginx -v 2>&1 | sed 's/.*: //'), $(lighttpd -v 2>/dev/null | head -n 1 | cut -d' ' -f1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)); $rounds rounds of ${seconds} s per scenario"
echo "pinning: ${server_cpu[*]:-none} for the servers, ${load_cpu[*]:-none} for the load"
for round in $(seq "$rounds"); do
    order=("${peers[@]:$(((round - 1) % ${#peers[@]}))}" "${peers[@]:0:$(((round - 1) % ${#peers[@]}))}")
    for scenario in "${scenarios[@]}"; do
        for peer in "${order[@]}"; do
            read -r value errors cpu < <(measure "$peer" "$scenario")
            echo "$scenario $peer $round $value $errors $cpu" >>"$results"
            echo "round $round: $scenario $peer $value ${unit[$scenario]}$([ "$errors" -gt 0 ] && echo " ($errors errors)")"
        done
    done
done

# Prints the median of a scenario's values for a peer (column 4: the figure; 6: CPU per unit).
median() {
    awk -v s="$1" -v p="$2" -v c="${3:-4}" '$1 == s && $2 == p { print $c }' "$results" | sort -n |
        awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'
}

echo
printf '%-12s %10s %10s %10s %12s %14s %8s\n' scenario ours nginx lighttpd ours/nginx ours/lighttpd target
failed=0
for scenario in "${scenarios[@]}"; do
    declare -A med=()
    for peer in "${peers[@]}"; do med[$peer]=$(median "$scenario" "$peer"); done
    ratio() { [ -n "${med[$1]:-}" ] && awk -v a="${med[ours]}" -v b="${med[$1]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }' || echo -; }
    # the better peer: more throughput, or less memory for rss1000
    best=$(for peer in nginx lighttpd; do [ -n "${med[$peer]:-}" ] && echo "${med[$peer]}"; done | sort -n | if [ "$scenario" = rss1000 ]; then head -n 1; else tail -n 1; fi)
    verdict=$(awk -v a="${med[ours]}" -v b="${best:-0}" -v t="${target[$scenario]}" 'BEGIN {
        if (b <= 0) { print "-"; exit } r = a / b; lim = substr(t, 3) + 0
        print ((substr(t, 1, 2) == ">=" ? r >= lim : r <= lim) ? "met" : "MISSED") " (" sprintf("%.2f", r) " " t ")" }')
    printf '%-12s %10s %10s %10s %12s %14s   %s\n' "$scenario ${unit[$scenario]}" "${med[ours]}" "${med[nginx]:--}" \
        "${med[lighttpd]:--}" "$(ratio nginx)" "$(ratio lighttpd)" "$verdict"
done
echo
echo "serving process CPU per request (per MB for big), microseconds, median; lower is better:"
printf '%-12s %10s %10s %10s %12s %14s\n' scenario ours nginx lighttpd ours/nginx ours/lighttpd
for scenario in ka_small close_small big c1000 slow; do
    declare -A cpu=()
    for peer in "${peers[@]}"; do cpu[$peer]=$(median "$scenario" "$peer" 6); done
    printf '%-12s %10s %10s %10s %12s %14s\n' "$scenario" "${cpu[ours]}" "${cpu[nginx]:--}" "${cpu[lighttpd]:--}" \
        "$(awk -v a="${cpu[ours]}" -v b="${cpu[nginx]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }')" \
        "$(awk -v a="${cpu[ours]}" -v b="${cpu[lighttpd]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }')"
done
errors=$(awk '$5 > 0' "$results")
if [ -n "$errors" ]; then
    echo "FAILED: runs with socket errors or non-2xx answers (scenario peer round value errors cpu):"
    echo "$errors"
    failed=1
fi

echo
echo "system calls per keep-alive request (strace -c -f, 20,000 requests on 50 connections):"
for peer in "${peers[@]}"; do
    settle "$peer"
    strace -c -f -o "$work/strace.$peer" -p "${serving_pid[$peer]}" 2>/dev/null &
    tracer=$!
    sleep 0.5
    build/loadgen count "${port[$peer]}" 50 20000 >/dev/null
    kill -INT "$tracer"
    wait "$tracer" 2>/dev/null
    awk -v peer="$peer" '$NF == "total" { total = $4 } $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { calls[$NF] = $4 }
        END { printf "  %-9s %.2f:", peer, total / 20000; for (c in calls) if (calls[c] >= 1000) printf " %s %.2f", c, calls[c] / 20000; print "" }' "$work/strace.$peer"
done

echo
echo "our user-space instructions per request (callgrind, one keep-alive connection, 12,000 minus 2,000 requests):"
for n in 2000 12000; do
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.$n" ./server -q -p 0 -r "$work/root" >"$work/cg.out.$n" 2>/dev/null &
    cg=$!
    for _ in $(seq 100); do grep -q Serving "$work/cg.out.$n" 2>/dev/null && break; sleep 0.1; done
    build/loadgen count "$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$work/cg.out.$n")" 1 "$n" >/dev/null
    kill -TERM "$cg"
    wait "$cg"
done
awk '/^summary:/ { ir[FILENAME] = $2 } END { for (f in ir) if (f ~ /12000$/) b = ir[f]; else a = ir[f]; printf "  %.0f instructions per request\n", (b - a) / 10000 }' \
    "$work/callgrind.2000" "$work/callgrind.12000"
exit $failed
