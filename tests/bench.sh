#!/usr/bin/env bash
# make bench: ./server against nginx, lighttpd and h2o on loopback, each loaded by wrk -t1: the servers are pinned
# to core 0 and wrk to core 1 (with taskset, when there are two cores), so each gets one. Prints per scenario the
# median of BENCH_ROUNDS rounds (default 3, the peer order rotating) of BENCH_SECONDS each (default 5), the ratios
# ours / the best of nginx, lighttpd and h2o, ours / ceiling and ours / before, the serving process's CPU time per
# request (steadier than throughput on a shared machine, and what a faster server saves when the load generator
# is the limit), then the system calls per keep-alive request (strace -c), our instructions per request
# (callgrind, on one connection and on 10,000), and what one wait call costs with N descriptors (build/fdcost).
#
# Scenarios: ka_small close_small big c1000 slow rss1000 (the first set), fair (the worst of 40 GETs while another
# client pipelines HEAD of a 1,000-entry listing: tests/scale.py fairness), c2000 c5000 c10000 (wrk -cN, then
# `loadgen every` proves every one of N connections is answered, which wrk's totals hide), idle10k (ka_small
# while `loadgen idleprobe` holds 10,000 idle keep-alive connections and times requests on them), rss10k, the
# listing scenarios on a folder big/ of BENCH_LISTING_ENTRIES empty files (default 100,000; tests/listing_bench.py):
# listing_victim (a GET of /small.bin every 20 ms while another client GETs /big/ back to back), listing_evict (the
# same while another client loops on HEAD /big/ and four GETs of files in /big/'s set of our old small-file cache),
# listing_readers (RSS while 40 slow readers download /big/, an eviction loop between them); and the sections
# syscalls, instructions, instructions10k, fdcost. BENCH_SCENARIOS="c2000 idle10k" runs a subset (default: all).
# Peers besides ours: nginx, lighttpd and h2o (one worker each; the best of the three is the reference), ceiling
# (build/ceiling: one fixed 1 KiB reply per request from an epoll loop, what the kernel allows; never the
# reference), and before, our build of git revision BENCH_BEFORE (default c39315a, main when this bench was
# extended), in every throughput scenario (target: ours within 3% of it) and in instructions and instructions10k.
# BENCH_SERVER names the binary measured as ours (default ./server).
# A run with socket errors, non-2xx answers or unanswered connections counts as failed: the script then exits 1.
set -u
cd "$(dirname "$0")/.." || exit 2
rounds=${BENCH_ROUNDS:-3}
seconds=${BENCH_SECONDS:-5}
before_rev=${BENCH_BEFORE:-c39315a}
ours_bin=${BENCH_SERVER:-./server}
listing_entries=${BENCH_LISTING_ENTRIES:-100000}
install="apt-get install -y wrk nginx-light lighttpd h2o"
every_seconds=3        # length of the every-connection check after each wrk -cN run
cycle_reqs=(2 6)       # instructions10k: requests per connection in the two runs that are subtracted

all_scenarios=(ka_small close_small big c1000 slow fair rss1000 c2000 c5000 c10000 idle10k rss10k
    listing_victim listing_evict listing_readers)
throughput=(ka_small close_small big c1000 slow c2000 c5000 c10000 idle10k) # the scenarios before takes part in
ceiling_scenarios=(ka_small close_small c1000 slow c2000 c5000 c10000 idle10k) # those that fetch only /small.bin
listings=(listing_victim listing_evict listing_readers)
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
# Tells whether BENCH_SCENARIOS selects any of the given scenarios or sections.
any_selected() {
    local name
    for name in "$@"; do selected "$name" && return 0; done
    return 1
}
# Tells whether a word is one of the words that follow it.
among() {
    [[ " ${*:2} " == *" $1 "* ]]
}
scenarios=()
for scenario in "${all_scenarios[@]}"; do selected "$scenario" && scenarios+=("$scenario"); done

export PATH="$PATH:/usr/sbin"
# Tells whether a tool is there; when it is missing and this runs as root with apt-get, installs its package first.
have_tool() {
    command -v "$1" >/dev/null && return 0
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
    echo "bench: $1 is missing; installing it: apt-get install -y $2" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >&2
    command -v "$1" >/dev/null
}
have_tool wrk wrk || { echo "bench: wrk is missing; install it with: $install" >&2; exit 2; }
[ -x "$ours_bin" ] || { echo "bench: $ours_bin is missing; run make server" >&2; exit 2; }
peers=(ours)
for tool in nginx:nginx-light lighttpd:lighttpd h2o:h2o; do
    if have_tool "${tool%%:*}" "${tool#*:}"; then
        peers+=("${tool%%:*}")
    else
        echo "bench: ${tool%%:*} is missing, so it is left out; install it with: $install" >&2
    fi
done
if [ -x build/ceiling ]; then
    peers+=(ceiling)
else
    echo "bench: build/ceiling is missing, so ceiling is left out; build it with: make build/ceiling" >&2
fi
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
if any_selected "${throughput[@]}" instructions instructions10k; then
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
# lowers server.max-connections to server.max-fds / 2, and max-fds cannot pass the hard descriptor limit; h2o
# (max-connections) and ceiling keep a few descriptors for themselves.
declare -A needs=([c1000]=1000 [slow]=850 [rss1000]=1000 [c2000]=2000 [c5000]=5000 [c10000]=10000 [idle10k]=10050
    [rss10k]=10000 [listing_readers]=42)
declare -A holds=([nginx]=16384)
holds[lighttpd]=$((nofile / 2 < 16384 ? nofile / 2 : 16384))
holds[h2o]=$((nofile - 64 < 16384 ? nofile - 64 : 16384))
holds[ceiling]=$((nofile - 16))
# Tells whether a scenario is one a peer is meant for: before only the throughput scenarios, ceiling only those
# that fetch /small.bin alone; the others all of them.
meant_for() {
    case $1 in
    before) among "$2" "${throughput[@]}" ;;
    ceiling) among "$2" "${ceiling_scenarios[@]}" ;;
    esac
}
# Tells whether a peer's connection cap holds what a scenario needs at once (else it would leave clients unanswered).
holds_enough() {
    [ -z "${holds[$1]:-}" ] || [ "${needs[$2]:-0}" -le "${holds[$1]}" ]
}
# Tells whether a peer takes part in a scenario.
takes_part() {
    meant_for "$1" "$2" && holds_enough "$1" "$2"
}

mkdir -p "$work/root" "$work/nginx"
head -c 1024 /dev/urandom >"$work/root/small.bin"
if selected big; then head -c 104857600 /dev/urandom >"$work/root/big.bin"; fi
if selected fair; then mkdir "$work/root/dir" && (cd "$work/root/dir" && touch $(seq -f "entry-%04g-with-a-name-of-some-length.txt" 1000)); fi
if any_selected "${listings[@]}"; then # big/ and the four files in its cache set
    python3 tests/listing_bench.py setup "$work/root" "$listing_entries" >/dev/null || exit 2
fi
chmod -R a+rX "$work" # nginx's worker runs as an unprivileged user
sleep 2 # ./server keeps in memory only files unchanged for 2 s; let the new tree settle
read -r port_ours port_nginx port_lighttpd port_before port_h2o port_ceiling < <(python3 -c '
import socket
s = [socket.socket() for _ in range(6)]
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
    server {
        listen 127.0.0.1:$port_nginx backlog=4096; root $work/root;
        location /dir/ { autoindex on; }
        location /big/ { autoindex on; }
    }
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
# h2o 2.2: one worker thread; http1-request-timeout is its keep-alive idle time; without an access-log directive
# it keeps no access log; started as root it serves as nobody; listings for /dir/ and /big/ (file.dirlisting).
cat >"$work/h2o.conf" <<EOF
num-threads: 1
max-connections: ${holds[h2o]}
http1-request-timeout: 60
listen:
  host: 127.0.0.1
  port: $port_h2o
error-log: $work/h2o.err
hosts:
  default:
    paths:
      /:
        file.dir: $work/root
      /dir:
        file.dir: $work/root/dir
        file.dirlisting: ON
      /big:
        file.dir: $work/root/big
        file.dirlisting: ON
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
port[h2o]=$port_h2o
port[ceiling]=$port_ceiling
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
    h2o) exec_clean "${server_cpu[@]}" h2o -c "$work/h2o.conf" >>"$work/h2o.err" 2>&1 & ;;
    ceiling) exec_clean "${server_cpu[@]}" build/ceiling "$port_ceiling" >/dev/null & ;;
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
# another GETs /small.bin 40 times (tests/scale.py fairness); prints "WORST_MS ERRORS 0 median_ms M greedy A". A GET
# left without an answer for scale.py's 5 s (h2o serves the pipelined HEADs first) is a figure, 5000, not an error.
measure_fair() {
    local out line
    out=$("${load_cpu[@]}" python3 tests/scale.py fairness "${port[$1]}" /small.bin 2>&1)
    line=$(grep '^fairness:' <<<"$out")
    if [ -z "$line" ]; then
        if grep -q 'no answer within 5 s' <<<"$out"; then echo "5000 0 0 median_ms - greedy - starved yes"; else echo "0 1 0"; fi
        return
    fi
    echo "$(field "$line" worst_ms 0) 0 0 median_ms $(field "$line" median_ms -) greedy $(field "$line" greedy_answers 0)"
}

# A victim GETs /small.bin every 20 ms while another client GETs /big/ back to back (victim) or loops on HEAD /big/
# and GETs of the four files in its cache set (evict): tests/listing_bench.py; prints "P99_MS ERRORS 0 p50_ms A
# worst_ms B listings L", L being the other client's listings (victim) or loops (evict).
measure_listing() {
    local line
    line=$("${load_cpu[@]}" python3 tests/listing_bench.py "$2" "${port[$1]}" "$seconds" 2>&1 | grep '^listing:')
    [ -n "$line" ] || { echo "0 1 0"; return; }
    echo "$(field "$line" p99_ms 0) $(field "$line" errors 1) 0 p50_ms $(field "$line" p50_ms -)" \
        "worst_ms $(field "$line" worst_ms -) listings $(field "$line" listings 0)"
}

# 40 slow readers of /big/ with an eviction loop between them, for max(20, BENCH_SECONDS) s; prints "RSS_KIB ERRORS
# 0 listing_kib K ratio R sending_s S": the serving process's RSS, its ratio to one listing's size, and how long
# sending the 40 GETs (each followed by an eviction loop) took.
measure_readers() {
    local line
    line=$("${load_cpu[@]}" python3 tests/listing_bench.py readers "${port[$1]}" "$seconds" "${serving_pid[$1]}" 2>&1 |
        grep '^readers:')
    [ -n "$line" ] || { echo "0 1 0"; return; }
    echo "$(field "$line" rss_kib 0) $(field "$line" errors 1) 0 listing_kib $(($(field "$line" listing_bytes 0) / 1024))" \
        "ratio $(field "$line" rss_per_listing -) sending_s $(field "$line" sending_s -)"
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
    listing_victim | listing_evict) measure_listing "$peer" "${scenario#listing_}" ;;
    listing_readers) measure_readers "$peer" ;;
    esac
}

declare -A unit=([ka_small]=req/s [close_small]=req/s [big]=MB/s [c1000]=req/s [slow]=req/s [fair]=ms [rss1000]=KiB
    [c2000]=req/s [c5000]=req/s [c10000]=req/s [idle10k]=req/s [rss10k]=KiB [listing_victim]=ms [listing_evict]=ms
    [listing_readers]=KiB)
# The targets of issue 18 (ours ÷ the best peer), and ours ÷ ceiling for ka_small; rss10k must also stay <= 8 MiB.
declare -A target=([ka_small]=">=1.10" [close_small]=">=1.00" [big]=">=1.10" [c1000]=">=1.10" [slow]=">=0.90" [fair]=report
    [rss1000]="<=1.00" [c2000]=">=1.10" [c5000]=">=1.10" [c10000]=">=1.10" [idle10k]=">=0.90" [rss10k]="<=1.00"
    [listing_victim]=report [listing_evict]=report [listing_readers]=report)
declare -A ceiling_target=([ka_small]=">=0.95")
rss10k_most=8192 # KiB
before_target=">=0.97"
results=$work/results
touch "$results"

# Prints the versions of the peers that are there, and of wrk, separated by commas.
versions() {
    local list=()
    among nginx "${peers[@]}" && list+=("$(nginx -v 2>&1 | sed 's/.*: //')")
    among lighttpd "${peers[@]}" && list+=("$(lighttpd -v 2>/dev/null | head -n 1 | cut -d' ' -f1)")
    among h2o "${peers[@]}" && list+=("$(h2o --version | awk 'NR == 1 { print $1 "/" $3 }')")
    among ceiling "${peers[@]}" && list+=("ceiling = build/ceiling, epoll, one fixed 1 KiB reply")
    among before "${peers[@]}" && list+=("before = git $(git rev-parse --short "$before_rev^{commit}")")
    list+=("$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)")
    printf '%s, ' "${list[@]}" | sed 's/, $//'
}
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
echo "peers: ${peers[*]} ($(versions)); $rounds rounds of ${seconds} s per scenario"
echo "pinning: ${server_cpu[*]:-none} for the servers, ${load_cpu[*]:-none} for the load; descriptor limit $nofile"
any_selected "${listings[@]}" && echo "listings: /big/ holds $listing_entries files"
grep -h "can't have more\|exceed open file" "$work/nginx.err" "$work/lighttpd.err" "$work/h2o.err" 2>/dev/null |
    sed 's/^/peer limit: /'
for scenario in "${scenarios[@]}"; do
    for peer in nginx lighttpd h2o ceiling; do
        among "$peer" "${peers[@]}" && meant_for "$peer" "$scenario" && ! holds_enough "$peer" "$scenario" &&
            echo "left out: $peer in $scenario, which needs ${needs[$scenario]} connections at once; $peer holds at most ${holds[$peer]}"
    done
done
for round in $(seq "$rounds"); do
    order=("${peers[@]:$(((round - 1) % ${#peers[@]}))}" "${peers[@]:0:$(((round - 1) % ${#peers[@]}))}")
    for scenario in "${scenarios[@]}"; do
        for peer in "${order[@]}"; do
            takes_part "$peer" "$scenario" || continue
            # RSS is measured on a fresh process: memory kept from an earlier scenario is not counted
            [[ $scenario == rss* || $scenario == listing_readers ]] && start_peer "$peer"
            read -r value errors cpu note < <(measure "$peer" "$scenario")
            echo "$scenario $peer $round $value $errors $cpu ${note:-}" >>"$results"
            echo "round $round: $scenario $peer $value ${unit[$scenario]}${note:+ ($note)}$([ "$errors" -gt 0 ] && echo " ($errors errors)")"
            # a peer that failed a run (h2o can stall for good under fair's pipelined flood) starts afresh for the
            # next one, so that one failure does not count again in every later scenario
            [ "$errors" -gt 0 ] && start_peer "$peer"
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

# Prints "FIGURE PEER" for the best of nginx, lighttpd and h2o among "PEER FIGURE" pairs (an empty figure: not
# run; 0: failed): the highest figure, or the lowest when the first argument is "lower".
best_of() {
    local direction=$1
    shift
    while [ $# -ge 2 ]; do
        [ -n "$2" ] && [ "$2" != - ] && [ "$2" != 0 ] && echo "$2 $1" # 0: a failed run's figure
        shift 2
    done | sort -n | if [ "$direction" = lower ]; then head -n 1; else tail -n 1; fi
}

# Tells whether a peer had a run with errors in a scenario.
had_errors() {
    awk -v s="$1" -v p="$2" '$1 == s && $2 == p && $5 > 0 { bad = 1 } END { exit !bad }' "$results"
}

failed=0
if [ "${#scenarios[@]}" -gt 0 ]; then
    echo
    echo "ours/best = ours ÷ the best of nginx, lighttpd, h2o (the most req/s or MB/s, the fewest ms or KiB);" \
        "ours/ceil = ours ÷ ceiling; ours/bef = ours ÷ before"
    printf '%-20s %9s %9s %9s %9s %9s %9s %9s %9s %8s  %s\n' scenario ours nginx lighttpd h2o ceiling before \
        ours/best ours/ceil ours/bef "target: ours ÷ best of nginx, lighttpd, h2o; ours ÷ before"
    for scenario in "${scenarios[@]}"; do
        declare -A med=()
        for peer in "${peers[@]}"; do med[$peer]=$(median "$scenario" "$peer"); done
        direction=higher
        [[ ${unit[$scenario]} == ms || ${unit[$scenario]} == KiB ]] && direction=lower
        read -r best best_peer < <(best_of "$direction" nginx "${med[nginx]:-}" lighttpd "${med[lighttpd]:-}" h2o "${med[h2o]:-}")
        line="$(verdict "${med[ours]}" "${best:-}" "${target[$scenario]}")${best_peer:+ (best: $best_peer)}"
        had_errors "$scenario" ours && line="INVALID: ours had errors or unanswered connections (see FAILED)"
        [ -n "${ceiling_target[$scenario]:-}" ] && [ -n "${med[ceiling]:-}" ] &&
            line="$line; ceiling: $(verdict "${med[ours]}" "${med[ceiling]}" "${ceiling_target[$scenario]}")"
        [ "$scenario" = rss10k ] && line="$line; <= $rss10k_most KiB: $(awk -v r="${med[ours]:-}" -v m="$rss10k_most" \
            'BEGIN { print r == "" ? "-" : r <= m ? "met" : "MISSED" }')"
        [ -n "${med[before]:-}" ] && line="$line; before: $(verdict "${med[ours]}" "${med[before]}" "$before_target")"
        printf '%-20s %9s %9s %9s %9s %9s %9s %9s %9s %8s  %s\n' "$scenario ${unit[$scenario]}" "${med[ours]:--}" \
            "${med[nginx]:--}" "${med[lighttpd]:--}" "${med[h2o]:--}" "${med[ceiling]:--}" "${med[before]:--}" \
            "$(ratio "${med[ours]}" "${best:-}")" "$(ratio "${med[ours]}" "${med[ceiling]:-}")" \
            "$(ratio "${med[ours]}" "${med[before]:-}")" "$line"
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
    selected fair && latency_block fair 4 1 "fair: a GET of a small file while another client pipelines HEAD of a 1,000-entry listing, worst of 40 tries, ms; 5000: no answer within 5 s (median of rounds; target for ours: <= 50):"
    selected idle10k && latency_block idle10k max_ms 0 "idle10k: time to answer a request on one of 10,000 idle keep-alive connections during the load, ms (median of rounds; target: max <= 50):"
    # Prints a listing latency block: per peer the victim's p50, p99 and worst, ms, the other client's listings
    # (or eviction loops), all medians of rounds, and for ours whether p99 <= 10 ms and worst <= 50 ms.
    listing_block() {
        local scenario=$1 title=$2 p99 worst state
        echo
        echo "$title"
        printf '  %-9s %8s %8s %8s %9s  %s\n' peer p50 p99 worst listings target
        for peer in "${peers[@]}"; do
            takes_part "$peer" "$scenario" || continue
            p99=$(median "$scenario" "$peer") worst=$(median "$scenario" "$peer" worst_ms) state=-
            [ "$peer" = ours ] && state=$(awk -v p="${p99:-}" -v w="${worst:-}" 'BEGIN {
                print p == "" || w == "" || w == "-" ? "-" : p <= 10 && w <= 50 ? "met" : "MISSED" }')
            had_errors "$scenario" "$peer" && state="INVALID (errors)"
            printf '  %-9s %8s %8s %8s %9s  %s\n' "$peer" "$(median "$scenario" "$peer" p50_ms)" "${p99:--}" \
                "${worst:--}" "$(median "$scenario" "$peer" listings)" "$state"
        done
    }
    selected listing_victim && listing_block listing_victim "listing_victim: a GET of /small.bin every 20 ms while another client GETs /big/ ($listing_entries entries) back to back, ms; listings: the other client's (medians of rounds; target for ours: p99 <= 10, worst <= 50):"
    selected listing_evict && listing_block listing_evict "listing_evict: the same GET every 20 ms while another client loops on HEAD /big/ and GETs of four files in its cache set, ms; listings: its loops (medians of rounds; target for ours: p99 <= 10, worst <= 50):"
    if selected listing_readers; then
        echo
        echo "listing_readers: RSS of the serving process after max(20, $seconds) s of 40 slow readers of /big/ ($listing_entries entries), an eviction loop between them, KiB; the size of one listing; sending: s to send the 40 GETs and loops, when longer RSS is measured then (medians of rounds; target for ours: RSS <= 2 x listing):"
        printf '  %-9s %9s %11s %11s %9s  %s\n' peer rss_kib listing_kib rss/listing sending target
        for peer in "${peers[@]}"; do
            takes_part "$peer" listing_readers || continue
            share=$(median listing_readers "$peer" ratio) state=-
            [ "$peer" = ours ] && state=$(awk -v r="${share:-}" 'BEGIN { print r == "" || r == "-" ? "-" : r <= 2 ? "met" : "MISSED" }')
            had_errors listing_readers "$peer" && state="INVALID (errors)"
            printf '  %-9s %9s %11s %11s %9s  %s\n' "$peer" "$(median listing_readers "$peer")" \
                "$(median listing_readers "$peer" listing_kib)" "${share:--}" \
                "$(median listing_readers "$peer" sending_s)" "$state"
        done
    fi
    if any_selected "${throughput[@]}"; then
        echo
        echo "serving process CPU per request (per MB for big), microseconds, median; lower is better; ours/best = ours" \
            "÷ the lowest of nginx, lighttpd, h2o:"
        printf '%-12s %9s %9s %9s %9s %9s %9s %9s %9s %8s\n' scenario ours nginx lighttpd h2o ceiling before ours/best \
            ours/ceil ours/bef
    fi
    for scenario in "${scenarios[@]}"; do
        among "$scenario" "${throughput[@]}" || continue
        declare -A cpu=()
        for peer in "${peers[@]}"; do cpu[$peer]=$(median "$scenario" "$peer" 6); done
        read -r best _ < <(best_of lower nginx "${cpu[nginx]:-}" lighttpd "${cpu[lighttpd]:-}" h2o "${cpu[h2o]:-}")
        printf '%-12s %9s %9s %9s %9s %9s %9s %9s %9s %8s\n' "$scenario" "${cpu[ours]:--}" "${cpu[nginx]:--}" \
            "${cpu[lighttpd]:--}" "${cpu[h2o]:--}" "${cpu[ceiling]:--}" "${cpu[before]:--}" \
            "$(ratio "${cpu[ours]}" "${best:-}")" "$(ratio "${cpu[ours]}" "${cpu[ceiling]:-}")" \
            "$(ratio "${cpu[ours]}" "${cpu[before]:-}")"
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
    echo "user-space instructions per request (callgrind, one keep-alive connection, 12,000 minus 2,000 requests):"
    for peer in ours before; do
        among "$peer" "${peers[@]}" || { echo "  $peer: not built"; continue; }
        binary=$ours_bin
        [ "$peer" = before ] && binary=$work/before/server
        ok=1
        for n in 2000 12000; do
            callgrind_run "$binary" "$work/callgrind.$peer.$n" count 1 "$n" || ok=0
        done
        if [ "$ok" = 1 ]; then
            echo "  $peer: $(instructions_per_request "$work/callgrind.$peer.2000" "$work/callgrind.$peer.12000" 10000) instructions per request"
        else
            echo "  $peer: FAILED (see the loadgen line above)"
            failed=1
        fi
    done
fi

if selected instructions10k; then
    echo
    echo "user-space instructions per request at 10,000 connections (callgrind; loadgen cycle: 10,000 connections making" \
        "${cycle_reqs[1]} requests each, minus the same with ${cycle_reqs[0]}, so start-up, accepts and closes cancel out):"
    for peer in ours before; do
        among "$peer" "${peers[@]}" || { echo "  $peer: not built"; continue; }
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
