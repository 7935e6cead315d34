#!/usr/bin/env bash
# make bench: ./server against nginx and lighttpd on loopback, each loaded by wrk -t1: the servers are pinned
# to core 0 and wrk to core 1 (with taskset, when there are two cores), so each gets one. Prints per scenario the median of BENCH_ROUNDS rounds (default 3, the peer
# order rotating) of BENCH_SECONDS each (default 5), the ratios ours/nginx and ours/lighttpd, the serving
# process's CPU time per request (steadier than throughput on a shared machine, and what a faster server
# saves when the load generator is the limit), then the system calls per keep-alive request (strace -c),
# our instructions per request (callgrind, on one connection and on 10,000), and what one wait call costs
# with N descriptors (build/fdcost).
#
# Scenarios: ka_small close_small big c1000 slow rss1000 (the first set), fair (the worst of 40 GETs while another
# client pipelines HEAD of a 1,000-entry listing: tests/scale.py fairness), c2000 c5000 c10000 (wrk -cN, then
# `loadgen every` proves every one of N connections is answered, which wrk's totals hide), idle10k (ka_small
# while `loadgen idleprobe` holds 10,000 idle keep-alive connections and times requests on them), rss10k; and
# the sections syscalls, instructions, instructions10k, fdcost. BENCH_SCENARIOS="c2000 idle10k" runs a subset
# (default: all of them).
# A `before` peer, our build of git revision BENCH_BEFORE (default 60d017d, the last build before the loop went past FD_SETSIZE), runs
# in ka_small and c1000 (target: ours within 3% of it) and in instructions10k. BENCH_SERVER names the binary
# measured as ours (default ./server).
# A run with socket errors, non-2xx answers or unanswered connections counts as failed: the script then exits 1.
set -u
cd "$(dirname "$0")/.." || exit 2
rounds=${BENCH_ROUNDS:-3}
seconds=${BENCH_SECONDS:-5}
before_rev=${BENCH_BEFORE:-60d017d}
ours_bin=${BENCH_SERVER:-./server}
install="apt-get install -y wrk nginx-light lighttpd"
every_seconds=3        # length of the every-connection check after each wrk -cN run
cycle_reqs=(2 6)       # instructions10k: requests per connection in the two runs that are subtracted

all_scenarios=(ka_small close_small big c1000 slow fair rss1000 c2000 c5000 c10000 idle10k rss10k)
all_sections=(syscalls instructions instructions10k fdcost)
read -r -a wanted <<<"${BENCH_SCENARIOS:-${all_scenarios[*]} ${all_sections[*]}}"
for name in "${wanted[@]}"; do
    [[ " ${all_scenarios[*]} ${all_sections[*]} " == *" $name "* ]] ||
        { echo "bench: unknown scenario $name; known: ${all_scenarios[*]} ${all_sections[*]}" >&2; exit 2; }
done
# Tells whether BENCH_SCENARIOS selects a scenario or section.
selected() {
    [[ " ${wanted[*]} " == *" $1 "* ]]
}
scenarios=()
for scenario in "${all_scenarios[@]}"; do selected "$scenario" && scenarios+=("$scenario"); done

command -v wrk >/dev/null || { echo "bench: wrk is missing; install it with: $install" >&2; exit 2; }
[ -x "$ours_bin" ] || { echo "bench: $ours_bin is missing; run make server" >&2; exit 2; }
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
ulimit -n "$(ulimit -Hn)" 2>/dev/null # wrk -c10000 and the servers need more than 1024 descriptors
nofile=$(ulimit -n)

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

# Builds our previous build (git revision BENCH_BEFORE) into the scratch tree, when a selected part uses it.
if selected ka_small || selected c1000 || selected instructions10k; then
    mkdir -p "$work/before"
    if (set -o pipefail; git -C . archive "$before_rev" 2>"$work/before.log" | tar -x -C "$work/before") &&
        make -C "$work/before" server >>"$work/before.log" 2>&1; then
        peers+=(before)
    else
        echo "bench: could not build revision $before_rev (BENCH_BEFORE), so before is left out:" >&2
        tail -n 5 "$work/before.log" >&2
    fi
fi
# The connections each scenario needs at once, and the most a peer's configuration lets it hold: lighttpd
# lowers server.max-connections to server.max-fds / 2, and max-fds cannot pass the hard descriptor limit.
declare -A needs=([c1000]=1000 [slow]=850 [rss1000]=1000 [c2000]=2000 [c5000]=5000 [c10000]=10000 [idle10k]=10050 [rss10k]=10000)
declare -A holds=([nginx]=16384)
holds[lighttpd]=$((nofile / 2 < 16384 ? nofile / 2 : 16384))
# Tells whether a peer takes part in a scenario: before only in ka_small and c1000; nginx and lighttpd only
# where their connection cap holds what the scenario needs (else they would leave clients unanswered).
takes_part() {
    [ "$1" != before ] || [ "$2" = ka_small ] || [ "$2" = c1000 ] || return 1
    [ -z "${holds[$1]:-}" ] || [ "${needs[$2]:-0}" -le "${holds[$1]}" ]
}

mkdir -p "$work/root" "$work/nginx"
head -c 1024 /dev/urandom >"$work/root/small.bin"
if selected big; then head -c 104857600 /dev/urandom >"$work/root/big.bin"; fi
if selected fair; then mkdir "$work/root/dir" && (cd "$work/root/dir" && touch $(seq -f "entry-%04g-with-a-name-of-some-length.txt" 1000)); fi
chmod -R a+rX "$work" # nginx's worker runs as an unprivileged user
sleep 2 # ./server keeps in memory only files unchanged for 2 s; let the new tree settle
read -r port_ours port_nginx port_lighttpd port_before < <(python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

# Every server keeps an idle keep-alive connection for 60 s (ours: -t 60), so idle10k's 10,000 outlive its run;
# each may hold 16,384 connections where the descriptor limit allows, with a listen backlog of 4096 (ours: SOMAXCONN).
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $nofile;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 16384; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=1000;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
    server { listen 127.0.0.1:$port_nginx backlog=4096; root $work/root; location /dir/ { autoindex on; } }
}
EOF
cat >"$work/lighttpd.conf" <<EOF
server.document-root = "$work/root"
server.bind = "127.0.0.1"
server.port = $port_lighttpd
server.network-backend = "sendfile"
server.max-fds = $nofile
server.max-connections = 16384
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 60
server.listen-backlog = 4096
server.errorlog = "$work/lighttpd.err"
mimetype.assign = ( ".bin" => "application/octet-stream" )
server.modules += ( "mod_dirlisting" )
dir-listing.activate = "enable"
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

# Runs a command without the descriptors above 2 this script inherited: a stray descriptor takes a number a
# select() server needs (today's build then refuses clients with 503 instead of leaving them in the backlog).
exec_clean() {
    local fd
    for fd in "/proc/$BASHPID/fd/"*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
    done
    exec "$@"
}

declare -A port serving_pid started_pid
port[ours]=$port_ours
port[nginx]=$port_nginx
port[lighttpd]=$port_lighttpd
port[before]=$port_before
# Starts a peer (stopping the process an earlier call started), and waits until it accepts connections.
start_peer() {
    local peer=$1
    if [ -n "${started_pid[$peer]:-}" ]; then
        kill "${started_pid[$peer]}" 2>/dev/null
        wait "${started_pid[$peer]}" 2>/dev/null
    fi
    case $peer in
    ours) exec_clean "${server_cpu[@]}" "$ours_bin" -q -t 60 -p "$port_ours" -r "$work/root" >/dev/null & ;;
    before) exec_clean "${server_cpu[@]}" "$work/before/server" -q -t 60 -p "$port_before" -r "$work/root" >/dev/null & ;;
    nginx) exec_clean "${server_cpu[@]}" nginx -c "$work/nginx.conf" & ;;
    lighttpd) exec_clean "${server_cpu[@]}" lighttpd -D -f "$work/lighttpd.conf" & ;;
    esac
    started_pid[$peer]=$!
    pids+=($!)
    wait_port "${port[$peer]}"
    serving_pid[$peer]=$!
    while [ "$peer" = nginx ] && ! serving_pid[$peer]=$(pgrep -P "$!" | head -n 1); do sleep 0.1; done # the worker serves
}
for peer in "${peers[@]}"; do start_peer "$peer"; done

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
    [ "${value:-0}" -gt 0 ] || errors=$((errors + 1)) # not one answer: every connection went unanswered
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

# Prints the value that follows a field name in a loadgen summary line ("answered 10000 ..."), or the default.
field() {
    awk -v name="$2" -v default="$3" '{ for (i = 1; i < NF; i++) if ($i == name) { print $(i + 1); exit } print default }' <<<"$1"
}

# Waits until a loadgen started in the background has written its "holding ..." line to a file, or has ended,
# or 60 s passed; prints that line (empty if none).
hold_line() {
    local file=$1 pid=$2
    for _ in $(seq 600); do
        grep -q '^holding' "$file" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    grep -m 1 '^holding' "$file"
}

# Counts the connections a hold line leaves out: "holding N connections, only A answered" (none in
# "holding N connections, each after one request"; all without a line).
hold_shortfall() {
    local line=$1 conns=$2
    case $line in
    *"each after one request"*) echo 0 ;;
    *" only "*) echo $((conns - $(field "$line" only 0))) ;;
    *) echo "$conns" ;;
    esac
}

# Measures RSS while a peer holds conns idle keep-alive connections (each after one request); prints
# "KIB ERRORS 0", the errors being connections that were not answered.
measure_rss() {
    local peer=$1 conns=$2 out=$work/holder.out holder line rss
    "${load_cpu[@]}" build/loadgen idle "${port[$peer]}" "$conns" 90 >"$out" 2>&1 &
    holder=$!
    line=$(hold_line "$out" "$holder")
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/${serving_pid[$peer]}/status")
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    echo "$rss $(hold_shortfall "$line" "$conns") 0"
}

# wrk -cN on /small.bin, then `loadgen every` on N connections: prints "VALUE ERRORS CPU answered A of N", the
# errors being wrk's plus every connection left unanswered, every non-2xx answer and every broken connection.
measure_many() {
    local peer=$1 conns=$2 value errors cpu line unanswered
    local timeout=$((seconds * 2 > 30 ? seconds * 2 : 30)) # longer than the run: wrk counts an unserved connection as nothing
    read -r value errors cpu < <(run_wrk "$peer" req/s /small.bin -c"$conns" --timeout "${timeout}s")
    settle "$peer"
    line=$("${load_cpu[@]}" build/loadgen every "${port[$peer]}" "$conns" "$every_seconds" 2>&1 | grep '^every:')
    if [ -z "$line" ]; then
        unanswered=$conns
    else
        unanswered=$(($(field "$line" unanswered "$conns") + $(field "$line" non2xx 1) + $(field "$line" errors 1)))
    fi
    echo "$value $((errors + unanswered)) $cpu answered $(field "$line" answered 0) of $conns"
}

# ka_small while `loadgen idleprobe` holds 10,000 idle keep-alive connections and sends one of them a request
# every 100 ms: prints "VALUE ERRORS CPU max_ms X median_ms Y".
measure_idle10k() {
    local peer=$1 out=$work/probe.out prober line value errors cpu
    "${load_cpu[@]}" build/loadgen idleprobe "${port[$peer]}" 10000 $((seconds + 2)) >"$out" 2>&1 &
    prober=$!
    hold_line "$out" "$prober" >/dev/null # its unanswered connections are counted in its last line's errors
    read -r value errors cpu < <(run_wrk "$peer" req/s /small.bin -c50)
    wait "$prober"
    line=$(grep '^idleprobe:' "$out")
    errors=$((errors + $(field "$line" errors 1))) # 1 when loadgen gave no summary
    echo "$value $errors $cpu max_ms $(field "$line" max_ms -) median_ms $(field "$line" median_ms -)"
}

# Fair turns: one client pipelines HEAD /dir/ (a 1,000-entry listing, 8 KiB of requests per send) while
# another GETs /small.bin 40 times (tests/scale.py fairness); prints "WORST_MS ERRORS 0 median_ms M greedy A".
measure_fair() {
    local line
    line=$("${load_cpu[@]}" python3 tests/scale.py fairness "${port[$1]}" /small.bin 2>&1 | grep '^fairness:')
    [ -n "$line" ] || { echo "0 1 0"; return; }
    echo "$(field "$line" worst_ms 0) 0 0 median_ms $(field "$line" median_ms -) greedy $(field "$line" greedy_answers 0)"
}

# Measures one scenario on one peer; prints "VALUE ERRORS CPU [NOTE]".
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
    rss1000) measure_rss "$peer" 1000 ;;
    rss10k) measure_rss "$peer" 10000 ;;
    c2000 | c5000 | c10000) measure_many "$peer" "${scenario#c}" ;;
    idle10k) measure_idle10k "$peer" ;;
    fair) measure_fair "$peer" ;;
    esac
}

declare -A unit=([ka_small]=req/s [close_small]=req/s [big]=MB/s [c1000]=req/s [slow]=req/s [fair]=ms [rss1000]=KiB
    [c2000]=req/s [c5000]=req/s [c10000]=req/s [idle10k]=req/s [rss10k]=KiB)
declare -A target=([ka_small]=">=1.10" [close_small]=">=1.10" [big]=">=0.95" [c1000]=">=1.00" [slow]=">=0.90" [fair]=report
    [rss1000]="<=1.00" [c2000]=">=1.10" [c5000]=report [c10000]=">=1.00" [idle10k]=">=0.90" [rss10k]="<=1.00")
before_target=">=0.97"
results=$work/results
touch "$results"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
echo "peers: ${peers[*]} ($(nginx -v 2>&1 | sed 's/.*: //'), $(lighttpd -v 2>/dev/null | head -n 1 | cut -d' ' -f1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)$([[ " ${peers[*]} " == *" before "* ]] && echo ", before = $before_rev")); $rounds rounds of ${seconds} s per scenario"
echo "pinning: ${server_cpu[*]:-none} for the servers, ${load_cpu[*]:-none} for the load; descriptor limit $nofile"
grep -h "can't have more\|exceed open file" "$work/nginx.err" "$work/lighttpd.err" 2>/dev/null | sed 's/^/peer limit: /'
for scenario in "${scenarios[@]}"; do
    for peer in nginx lighttpd; do
        [[ " ${peers[*]} " == *" $peer "* ]] && ! takes_part "$peer" "$scenario" &&
            echo "left out: $peer in $scenario, which needs ${needs[$scenario]} connections at once; $peer holds at most ${holds[$peer]}"
    done
done
for round in $(seq "$rounds"); do
    order=("${peers[@]:$(((round - 1) % ${#peers[@]}))}" "${peers[@]:0:$(((round - 1) % ${#peers[@]}))}")
    for scenario in "${scenarios[@]}"; do
        for peer in "${order[@]}"; do
            takes_part "$peer" "$scenario" || continue
            # RSS is measured on a fresh process: memory kept from an earlier scenario is not counted
            [[ $scenario == rss* ]] && start_peer "$peer"
            read -r value errors cpu note < <(measure "$peer" "$scenario")
            echo "$scenario $peer $round $value $errors $cpu ${note:-}" >>"$results"
            echo "round $round: $scenario $peer $value ${unit[$scenario]}${note:+ ($note)}$([ "$errors" -gt 0 ] && echo " ($errors errors)")"
        done
    done
done

# Prints the median of a scenario's values for a peer (column 4: the figure; 6: CPU per unit; or the value
# after a named field of the note).
median() {
    awk -v s="$1" -v p="$2" -v c="${3:-4}" '$1 == s && $2 == p {
            if (c ~ /^[0-9]+$/) { print $c; next }
            for (i = 7; i < NF; i++) if ($i == c) print $(i + 1) }' "$results" | sort -n |
        awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "" }'
}

# Prints a / b with two decimals, or - when either is missing or b is 0.
ratio() {
    awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'
}

# Prints whether ours / reference meets a target like ">=1.10": "met (1.12 >=1.10)" or "MISSED (...)".
verdict() {
    awk -v a="${1:-}" -v b="${2:-}" -v t="$3" 'BEGIN {
        if (t == "report") { print "report only"; exit }
        if (a == "" || b + 0 <= 0) { print "-"; exit } r = a / b; lim = substr(t, 3) + 0
        print ((substr(t, 1, 2) == ">=" ? r >= lim : r <= lim) ? "met" : "MISSED") " (" sprintf("%.2f", r) " " t ")" }'
}

failed=0
if [ "${#scenarios[@]}" -gt 0 ]; then
    echo
    printf '%-20s %9s %9s %9s %9s %7s %8s %7s  %s\n' scenario ours nginx lighttpd before ours/ng ours/lig ours/bef \
        "target: ours / the better of nginx and lighttpd; ours / before"
    for scenario in "${scenarios[@]}"; do
        declare -A med=()
        for peer in "${peers[@]}"; do med[$peer]=$(median "$scenario" "$peer"); done
        # the better peer: more throughput, or less memory for the rss scenarios
        best=$(for peer in nginx lighttpd; do [ -n "${med[$peer]:-}" ] && echo "${med[$peer]}"; done | sort -n |
            if [[ $scenario == rss* || $scenario == fair ]]; then head -n 1; else tail -n 1; fi)
        line=$(verdict "${med[ours]}" "$best" "${target[$scenario]}")
        awk -v s="$scenario" '$1 == s && $2 == "ours" && $5 > 0 { bad = 1 } END { exit !bad }' "$results" &&
            line="INVALID: ours had errors or unanswered connections (see FAILED)"
        [ -n "${med[before]:-}" ] && line="$line; before: $(verdict "${med[ours]}" "${med[before]}" "$before_target")"
        printf '%-20s %9s %9s %9s %9s %7s %8s %7s  %s\n' "$scenario ${unit[$scenario]}" "${med[ours]:--}" \
            "${med[nginx]:--}" "${med[lighttpd]:--}" "${med[before]:--}" "$(ratio "${med[ours]}" "${med[nginx]:-}")" \
            "$(ratio "${med[ours]}" "${med[lighttpd]:-}")" "$(ratio "${med[ours]}" "${med[before]:-}")" "$line"
    done
    # Prints a latency block: per peer, the worst (median of rounds, from column or note field worst) and the
    # median latency, ms, and whether it meets <= 50 ms (only ours, when only_ours is set).
    latency_block() {
        local scenario=$1 worst_field=$2 only_ours=$3 title=$4 worst
        echo
        echo "$title"
        printf '  %-9s %8s %8s  %s\n' peer worst median target
        for peer in "${peers[@]}"; do
            takes_part "$peer" "$scenario" || continue
            worst=$(median "$scenario" "$peer" "$worst_field")
            printf '  %-9s %8s %8s  %s\n' "$peer" "${worst:--}" "$(median "$scenario" "$peer" median_ms)" \
                "$(awk -v s="$scenario" -v m="${worst:-}" -v p="$peer" -v o="$only_ours" '$1 == s && $2 == p && $5 > 0 { bad = 1 }
                    END { print bad ? "INVALID (errors)" : (o && p != "ours") || m == "" || m == "-" ? "-" : m <= 50 ? "met" : "MISSED" }' "$results")"
        done
    }
    selected fair && latency_block fair 4 1 "fair: a GET of a small file while another client pipelines HEAD of a 1,000-entry listing, worst of 40 tries, ms (median of rounds; target for ours: <= 50):"
    selected idle10k && latency_block idle10k max_ms 0 "idle10k: time to answer a request on one of 10,000 idle keep-alive connections during the load, ms (median of rounds; target: max <= 50):"
    echo
    echo "serving process CPU per request (per MB for big), microseconds, median; lower is better:"
    printf '%-12s %10s %10s %10s %10s %12s %14s %12s\n' scenario ours nginx lighttpd before ours/nginx ours/lighttpd ours/before
    for scenario in "${scenarios[@]}"; do
        [[ $scenario == rss* || $scenario == fair ]] && continue
        declare -A cpu=()
        for peer in "${peers[@]}"; do cpu[$peer]=$(median "$scenario" "$peer" 6); done
        printf '%-12s %10s %10s %10s %10s %12s %14s %12s\n' "$scenario" "${cpu[ours]:--}" "${cpu[nginx]:--}" \
            "${cpu[lighttpd]:--}" "${cpu[before]:--}" "$(ratio "${cpu[ours]}" "${cpu[nginx]:-}")" \
            "$(ratio "${cpu[ours]}" "${cpu[lighttpd]:-}")" "$(ratio "${cpu[ours]}" "${cpu[before]:-}")"
    done
    errors=$(awk '$5 > 0' "$results")
    if [ -n "$errors" ]; then
        echo "FAILED: runs with socket errors, non-2xx answers or unanswered connections (scenario peer round value errors cpu note):"
        echo "$errors"
        failed=1
    fi
fi

if selected syscalls; then
    echo
    echo "system calls per keep-alive request (strace -c -f, 20,000 requests on 50 connections):"
    for peer in "${peers[@]}"; do
        [ "$peer" = before ] && continue
        settle "$peer"
        strace -c -f -o "$work/strace.$peer" -p "${serving_pid[$peer]}" 2>/dev/null &
        tracer=$!
        sleep 0.5
        build/loadgen count "${port[$peer]}" 50 20000 >/dev/null || failed=1
        kill -INT "$tracer"
        wait "$tracer" 2>/dev/null
        awk -v peer="$peer" '$NF == "total" { total = $4 } $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { calls[$NF] = $4 }
            END { printf "  %-9s %.2f:", peer, total / 20000; for (c in calls) if (calls[c] >= 1000) printf " %s %.2f", c, calls[c] / 20000; print "" }' "$work/strace.$peer"
    done
fi

# Starts a server binary under callgrind on a free port, runs a loadgen mode against it, and stops it; the
# callgrind profile goes to the given file. Returns non-zero when loadgen reported a failure. As root, it
# runs as nobody: callgrind opens its profile at start but writes it at exit, after the server (started as
# root) would have become nobody.
callgrind_run() {
    local binary=$1 profile=$2 status cg
    shift 2
    local as_nobody=()
    [ "$(id -u)" = 0 ] && as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod 1777 "$(dirname "$profile")"
    exec_clean "${as_nobody[@]}" valgrind --tool=callgrind --callgrind-out-file="$profile" "$binary" -q -t 60 -p 0 -r "$work/root" \
        >"$profile.out" 2>/dev/null &
    cg=$!
    for _ in $(seq 300); do grep -q Serving "$profile.out" 2>/dev/null && break; sleep 0.1; done
    build/loadgen "$1" "$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$profile.out")" "${@:2}" >"$profile.load" 2>&1
    status=$?
    kill -TERM "$cg"
    wait "$cg"
    [ "$status" -eq 0 ] || { echo "  loadgen $*: $(tail -n 1 "$profile.load")" >&2; return 1; }
}

# Prints (b - a) / requests from the "summary:" totals of two callgrind profiles.
instructions_per_request() {
    awk -v n="$3" '/^summary:/ { ir[FILENAME] = $2 } END { printf "%.0f", (ir[ARGV[2]] - ir[ARGV[1]]) / n }' "$1" "$2"
}

if selected instructions; then
    echo
    echo "our user-space instructions per request (callgrind, one keep-alive connection, 12,000 minus 2,000 requests):"
    for n in 2000 12000; do
        callgrind_run "$ours_bin" "$work/callgrind.$n" count 1 "$n" || failed=1
    done
    echo "  $(instructions_per_request "$work/callgrind.2000" "$work/callgrind.12000" 10000) instructions per request"
fi

if selected instructions10k; then
    echo
    echo "user-space instructions per request at 10,000 connections (callgrind; loadgen cycle: 10,000 connections making" \
        "${cycle_reqs[1]} requests each, minus the same with ${cycle_reqs[0]}, so start-up, accepts and closes cancel out):"
    for peer in ours before; do
        [[ " ${peers[*]} " == *" $peer "* ]] || { echo "  $peer: not built"; continue; }
        binary=$ours_bin
        [ "$peer" = before ] && binary=$work/before/server
        ok=1
        for k in "${cycle_reqs[@]}"; do
            callgrind_run "$binary" "$work/cg10k.$peer.$k" cycle 10000 "$k" || ok=0
        done
        if [ "$ok" = 1 ]; then
            echo "  $peer: $(instructions_per_request "$work/cg10k.$peer.${cycle_reqs[0]}" "$work/cg10k.$peer.${cycle_reqs[1]}" \
                $((10000 * (cycle_reqs[1] - cycle_reqs[0])))) instructions per request ($(field "$(cat "$work/cg10k.$peer.${cycle_reqs[1]}.load")" seconds -) s for the longer run under callgrind)"
        else
            echo "  $peer: FAILED (see the loadgen line above)"
            failed=1
        fi
    done
fi

if selected fdcost; then
    echo
    if [ -x build/fdcost ]; then
        "${server_cpu[@]}" build/fdcost || failed=1
    else
        echo "build/fdcost is missing: make build/fdcost"
    fi
fi
exit $failed
