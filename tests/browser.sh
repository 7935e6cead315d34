#!/bin/sh
# The demo site in headless Chromium against ./server: parallel.html must report every request
# answered 200, read from the DOM. Skips, saying why, when Chromium is not installed.
cd "$(dirname "$0")/.." || exit 2
browser=$(command -v chromium || command -v chromium-browser)
if [ -z "$browser" ]; then
    echo "ok - browser tests # skip: Chromium is not installed (Debian: apt-get install -y chromium)"
    echo "0 passed, 0 failed"
    exit 0
fi
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
./server -q -p 0 -r public >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 50); do grep -q Serving "$work/out" && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$work/out")
passed=0
failed=0

# Loads a page in headless Chromium (a fresh profile each time); extra arguments come first.
chrome() {
    url=$1
    shift
    timeout -k 5 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" \
        --virtual-time-budget=10000 "$@" "http://127.0.0.1:$port$url" 2>>"$work/chrome.log"
}

# Records one check: name, then a command that succeeds when it holds.
check() {
    name=$1
    shift
    if "$@"; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "FAIL - $name"
        failed=$((failed + 1))
    fi
}

# Says whether the DOM of parallel.html?n=N reports N rows answered 200 and the page done.
parallel_ok() {
    chrome "/parallel.html?n=$1" --dump-dom >"$work/dom$1.html"
    rows=$(grep -o '<td class="status">200</td>' "$work/dom$1.html" | wc -l)
    other=$(grep -o '<td class="status">[^<]*</td>' "$work/dom$1.html" | grep -vc '>200<')
    grep -q "done: $1 of $1 answered 200" "$work/dom$1.html" && [ "$rows" -eq "$1" ] && [ "$other" -eq 0 ]
}

# Says whether the index page renders its title and its link to the exercise.
index_ok() {
    chrome / --dump-dom >"$work/index.html"
    grep -q '<h1>select-server</h1>' "$work/index.html" && grep -q 'href="parallel.html"' "$work/index.html"
}

# Saves a screenshot of the 16-request run and says whether it is a PNG.
screenshot_ok() {
    shot=${TMPDIR:-/tmp}/select-server-parallel.png
    rm -f "$shot"
    chrome "/parallel.html?n=16" --window-size=1000,1000 --screenshot="$shot" >/dev/null
    [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && echo "   screenshot: $shot"
}

check "index page in Chromium" index_ok
check "parallel.html: 4 parallel requests, every row 200" parallel_ok 4
check "parallel.html: 16 parallel requests, every row 200" parallel_ok 16
check "screenshot of the 16-request run" screenshot_ok
check "server still running after the browser" kill -0 "$server"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
