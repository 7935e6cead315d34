#!/bin/sh
# Runs every suite of `make test` and prints their sum as the last line: "N passed, N failed".
#
# Most of a suite's time is waiting (timeouts, pacing, a browser loading pages), so the suites run in three
# lanes at once, each lane its suites one after another, the lanes balanced by the suites' times. The suites share nothing: each server takes a free port (-p 0), each suite makes its own
# temporary folders, and only the integration suite on ./server runs make in this folder (make install).
# The output comes in a fixed order all the same: each suite's failures and skips, its "N passed, N failed" line
# and its time, as soon as it and the suites before it have ended; then the total. Each suite's whole output is
# kept in build/LABEL.log.
cd "$(dirname "$0")/.." || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/select-server-test.XXXXXX") || exit 1
lanes=
trap 'kill $lanes 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() {
    date +%s.%N
}

# Runs one suite: its output to $work/LABEL.log, then its seconds to LABEL.time and LABEL.done to say it ended.
run() {
    label=$1
    shift
    start=$(now)
    "$@" >"$work/$label.log" 2>&1 </dev/null
    echo "$start $(now)" | awk '{ printf "%.1f\n", $2 - $1 }' >"$work/$label.time"
    : >"$work/$label.done"
}

# The 32-bit build, where the compiler could make one.
integration_32() {
    if [ -x build/server-32 ]; then # files over 4 GiB with a 32-bit size_t
        run integration-32bit python3 tests/integration.py build/server-32
    else
        printf '%s\n' "ok - integration-32bit # skip no 32-bit compiler here (Debian: apt-get install gcc-multilib)" \
            "0 passed, 0 failed" >"$work/integration-32bit.log"
        echo 0.0 >"$work/integration-32bit.time"
        : >"$work/integration-32bit.done"
    fi
}

started=$(now)
(
    run integration-sendfile python3 tests/integration.py ./server
    run integration-asan python3 tests/integration.py build/server-asan
    run unit build/unit
    run glossary python3 tests/glossary.py
) &
lanes="$lanes $!"
(
    run integration-portable python3 tests/integration.py build/server-portable
    integration_32
) &
lanes="$lanes $!"
(
    run warnings sh tests/warnings.sh
    # Thousands of connections, inherited descriptors, fair turns, idle reclaim; the 3,000-connection case
    # again on the _FORTIFY_SOURCE=2 build, where an fd_set overflow aborts.
    run scale python3 tests/scale.py ./server build/server-portable
    run scale-fortify python3 tests/scale.py --only keepalive_3000 build/server-fortify
    run browser sh tests/browser.sh
    # The classroom: make demo's four clients, timeline and results, and every trace phrase in the glossary.
    run demo bash tests/demo.sh --check
) &
lanes="$lanes $!"

# Says whether a lane is still running.
running() {
    for pid in $lanes; do
        kill -0 "$pid" 2>/dev/null && return 0
    done
    return 1
}

passed=0
failed=0
# Shows one suite's failures and skips, and adds its "N passed, N failed" line to the totals.
report() {
    label=$1
    log=$work/$label.log
    while [ ! -e "$work/$label.done" ] && running; do
        sleep 0.2
    done
    echo "== $label"
    if [ ! -e "$work/$label.done" ]; then
        echo "   FAIL - $label did not run to its end (its lane stopped)"
        failed=$((failed + 1))
        return
    fi
    cp "$log" "build/$label.log" 2>/dev/null
    grep -v '^ok - ' "$log" | grep -v 'passed, .* failed$'
    grep '^ok - .*# skip' "$log"
    last=$(tail -n 1 "$log")
    case $last in
    *" passed, "*" failed")
        echo "   $last ($(cat "$work/$label.time") s)"
        passed=$((passed + ${last%% passed*}))
        f=${last#*passed, }
        failed=$((failed + ${f%% failed}))
        ;;
    *)
        echo "   FAIL - $label did not finish (last line: $last) ($(cat "$work/$label.time") s)"
        failed=$((failed + 1))
        ;;
    esac
}

for label in warnings unit integration-sendfile integration-portable integration-asan integration-32bit scale \
    scale-fortify browser demo glossary; do
    report "$label"
done
wait
echo "== $(echo "$started $(now)" | awk '{ printf "%.0f", $2 - $1 }') s in all, the suites in three lanes at once"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
