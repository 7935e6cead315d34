#!/bin/sh
# Runs every suite of `make test` and prints their sum as the last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0

# Runs one suite, shows its failures and skips, and adds its "N passed, N failed" line to the totals.
suite() {
    label=$1
    shift
    log=build/$label.log
    echo "== $label"
    "$@" >"$log" 2>&1
    grep -v '^ok - ' "$log" | grep -v 'passed, .* failed$'
    grep '^ok - .*# skip' "$log"
    last=$(tail -n 1 "$log")
    case $last in
    *" passed, "*" failed")
        echo "   $last"
        passed=$((passed + ${last%% passed*}))
        f=${last#*passed, }
        failed=$((failed + ${f%% failed}))
        ;;
    *)
        echo "   FAIL - $label did not finish (last line: $last)"
        failed=$((failed + 1))
        ;;
    esac
}

suite warnings sh tests/warnings.sh
suite unit build/unit
suite integration-sendfile python3 tests/integration.py ./server
suite integration-portable python3 tests/integration.py build/server-portable
suite integration-asan python3 tests/integration.py build/server-asan
if [ -x build/server-32 ]; then # files over 4 GiB with a 32-bit size_t
    suite integration-32bit python3 tests/integration.py build/server-32
else
    echo "== integration-32bit"
    echo "ok - integration-32bit # skip no 32-bit compiler here (Debian: apt-get install gcc-multilib)"
fi
# Thousands of connections, inherited descriptors, fair turns, idle reclaim; the 3,000-connection case
# again on the _FORTIFY_SOURCE=2 build, where an fd_set overflow aborts.
suite scale python3 tests/scale.py ./server build/server-portable
suite scale-fortify python3 tests/scale.py --only keepalive_3000 build/server-fortify
suite browser sh tests/browser.sh
# The classroom: make demo's four clients, timeline and results, and every trace phrase in the glossary.
suite demo bash tests/demo.sh --check
suite glossary python3 tests/glossary.py
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
