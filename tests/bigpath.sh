#!/usr/bin/env bash
# Big files: copying through user space (pread, then one sendmsg) against sendfile(), on loopback and over a veth
# pair into a network namespace (a path the kernel treats as a network, though both ends are on this machine).
# Builds two variants of ./server that differ in one line (the body's copy flag set always, or never), then
# alternates them ROUNDS times (default 3) on a 100 MB file, wrk -t1 -c4 for SECONDS (default 4), the server on
# CPU 0 and wrk on CPU 1; prints MB/s and the server's CPU milliseconds per 100 MB response.
# Needs root (for the namespace), wrk, curl and taskset. Usage: bash tests/bigpath.sh [ROUNDS [SECONDS]]
cd "$(dirname "$0")/.." || exit 2
rounds=${1:-3}
seconds=${2:-4}
for tool in wrk curl taskset ip; do
    command -v $tool >/dev/null || { echo "bigpath: $tool is missing; install it (wrk, curl, util-linux, iproute2)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bigpath: run as root, to make the network namespace" >&2; exit 2; }
work=$(mktemp -d)
ns=bigpath$$
cleanup() {
    ip netns del $ns 2>/dev/null
    ip link del bp$$h 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
line='c->body.copy = c->loopback;'
grep -qF "$line" server.c || { echo "bigpath: server.c no longer has '$line'; update this script" >&2; exit 2; }
for variant in copy:1 sendfile:0; do
    sed "s/$line/c->body.copy = ${variant#*:};/" server.c >"$work/server-${variant%:*}.c"
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -O2 -I. -o "$work/${variant%:*}" \
        "$work/server-${variant%:*}.c" http.c || exit 1
done
mkdir "$work/root"
head -c 100000000 /dev/urandom >"$work/root/big.bin"
echo x >"$work/root/small.bin"
chmod -R a+rX "$work" # started as root, the server serves as nobody
ip netns add $ns
ip link add bp$$h type veth peer name bp$$c
ip link set bp$$c netns $ns
ip addr add 10.77.$(($$ % 250)).1/24 dev bp$$h && ip link set bp$$h up
ip netns exec $ns ip addr add 10.77.$(($$ % 250)).2/24 dev bp$$c
ip netns exec $ns ip link set bp$$c up
echo "big.bin, 100 MB, wrk -t1 -c4 -d${seconds}s; server on CPU 0, wrk on CPU 1; $(nproc) cores, $(uname -r)"
for r in $(seq "$rounds"); do
    for path in loopback veth; do
        for build in copy sendfile; do
            host=127.0.0.1 run=()
            [ $path = veth ] && host=10.77.$(($$ % 250)).1 run=(ip netns exec $ns)
            taskset -c 0 "$work/$build" -q -t 60 -b $host -p 0 -r "$work/root" >"$work/out" 2>&1 &
            pid=$!
            port=
            for _ in $(seq 100); do
                port=$(sed -n 's/.*:\([0-9][0-9]*\)\/.*/\1/p' "$work/out" | head -1)
                [ -n "$port" ] && break
                sleep 0.05
            done
            [ -n "$port" ] || { echo "bigpath: the server did not start: $(cat "$work/out")" >&2; exit 1; }
            t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
            out=$(taskset -c 1 "${run[@]}" wrk -t1 -c4 -d"${seconds}s" "http://$host:$port/big.bin" 2>&1)
            t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
            kill $pid
            wait $pid 2>/dev/null
            echo "$out" | awk -v r="$r" -v path=$path -v b=$build -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
                /requests in/ { n = $1 }
                /Transfer\/sec/ { v = $2; m = v ~ /GB/ ? 1024 : v ~ /KB/ ? 1 / 1024 : 1; sub(/[KMG]B/, "", v); mbs = v * m }
                END { printf "round %d %-8s %-8s %6.0f MB/s  server CPU %4.0f ms per 100 MB response\n",
                             r, path, b, mbs, n ? ticks * 1000 / hz / n : 0 }'
        done
    done
done
