#!/bin/sh
# The demo site in headless Chromium against ./server.
# - Exercise 2.4: /parallel.html, opened with no click against ./server -v, must make the browser hold
#   four connections at once: the trace shows its four requests answered on four distinct connections,
#   all open together, and a round line with 4 or more open; the page reports every body read whole.
#   Its 16 small requests are each answered 200.
# - The live status page, against a server without -S, says how to start one with -S /status.
# - The guide pages (English and Bahasa Indonesia), the lab report and the live status page (and the
#   index and the exercise page) load with no 404 and measure, at 390 px (a phone) and 1280 px, through
#   tests/listing-check.html: no horizontal scroll, nothing past the window's edge, nothing that
#   scrolls sideways inside the page, no cell whose content is wider than the cell. Printed, the guide
#   drops its navigation and shows its links.
# - A directory listing of some 300 hostile names, measured the same way, with screenshots.
# - The index page links to all of them and, from a server that logs (no -q), shows make demo's
#   timeline picture, and the visit (favicon.ico too) logs no 404.
# Each batch of pages is one browser, driven over its DevTools pipe: a page is waited for, in real time,
# until it says it is done. Nothing here asserts a duration. Skips, saying why, without Chromium.
cd "$(dirname "$0")/.." || exit 2
browser=$(command -v chromium || command -v chromium-browser)
if [ -z "$browser" ]; then
    echo "ok - browser tests # skip: Chromium is not installed (Debian: apt-get install -y chromium)"
    echo "0 passed, 0 failed"
    exit 0
fi
[ -s public/files/big.bin ] || make -s public/files/big.bin >/dev/null || exit 2 # exercise 2.4's file
work=$(mktemp -d)
site=$(mktemp -d)
pages=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work" "$site" "$pages"' EXIT
trap 'exit 1' INT TERM
passed=0
failed=0

# Starts ./server -p 0 with the given options in the background: $1 names it; its stdout (the log) is
# $work/$1.out and its stderr (the trace) $work/$1.err. Sets started (its pid) and started_port.
start() {
    tag=$1
    shift
    ./server -p 0 "$@" >"$work/$tag.out" 2>"$work/$tag.err" &
    started=$!
    pids="$pids $started"
    for _ in $(seq 50); do grep -q Serving "$work/$tag.out" && break; sleep 0.1; done
    started_port=$(sed -n 's/^Serving .*:\([0-9]*\)\/$/\1/p' "$work/$tag.out" | head -n 1)
}

# Stops a server started by start and waits for it, so that its log is complete.
stop() {
    kill "$1" 2>/dev/null && wait "$1" 2>/dev/null
    return 0
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

# Loads a URL in headless Chromium (a fresh profile) and saves a screenshot; extra arguments come first.
chrome() {
    url=$1
    shift
    timeout -k 5 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" \
        --virtual-time-budget=10000 "$@" "$url" 2>>"$work/chrome.log"
}

# The DevTools driver: opens each URL in its own tab of one headless Chromium (a fresh profile),
# evaluates its JavaScript expression there (a promise is awaited, in real time) and writes the value
# to DIR/1, DIR/2... A URL starting "print:" is shown as printed. Python 3 standard library only.
cat >"$work/cdp.py" <<'EOF'
import json, os, subprocess, sys
browser, profile, out_dir = sys.argv[1:4]
pairs = sys.argv[4:]
to_browser, from_us = os.pipe()
to_us, from_browser = os.pipe()

def child():
    a, b = os.dup(to_browser), os.dup(from_browser)  # the DevTools pipe is descriptors 3 and 4
    os.dup2(a, 3)
    os.dup2(b, 4)

proc = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1280,900", "--user-data-dir=" + profile, "--remote-debugging-pipe",
                         "about:blank"],
                        preexec_fn=child, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_browser)
os.close(from_browser)
out, inp, buf, last = os.fdopen(from_us, "wb"), os.fdopen(to_us, "rb"), b"", [0]

def send(method, params=None, session=None):
    last[0] += 1
    message = {"id": last[0], "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    out.write(json.dumps(message).encode() + b"\0")
    out.flush()
    return last[0]

def wait(ident=None, event=None, session=None):
    global buf
    while True:
        while b"\0" in buf:
            raw, _, buf = buf.partition(b"\0")
            m = json.loads(raw)
            if event is not None and m.get("method") == event and m.get("sessionId") == session:
                return m.get("params")
            if ident is not None and m.get("id") == ident:
                if "error" in m:
                    sys.exit("DevTools: %s" % m["error"].get("message"))
                return m["result"]
        chunk = inp.read1(65536)
        if not chunk:
            sys.exit("the browser went away")
        buf += chunk

for n in range(len(pairs) // 2):
    url, expression = pairs[2 * n], pairs[2 * n + 1]
    target = wait(send("Target.createTarget", {"url": "about:blank"}))["targetId"]
    session = wait(send("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
    wait(send("Page.enable", {}, session))
    if url.startswith("print:"):
        url = url[len("print:"):]
        wait(send("Emulation.setEmulatedMedia", {"media": "print"}, session))
    send("Page.navigate", {"url": url}, session)
    wait(event="Page.loadEventFired", session=session)
    result = wait(send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                       session))
    value = result.get("result", {}).get("value")
    if "exceptionDetails" in result:
        value = "the page's script failed: %s" % result["exceptionDetails"].get("text")
    with open(os.path.join(out_dir, str(n + 1)), "w", encoding="utf-8") as f:
        f.write("%s\n" % value)
send("Browser.close")
try:
    proc.wait(timeout=10)
except subprocess.TimeoutExpired:
    proc.kill()
EOF

# Runs a batch in one browser: DIR (made fresh), then URL EXPRESSION pairs; the values are DIR/1, DIR/2...
cdp() {
    dir=$1
    shift
    rm -rf "$dir" && mkdir -p "$dir"
    timeout -k 5 90 python3 "$work/cdp.py" "$browser" "$(mktemp -d "$work/profile.XXXXXX")" "$dir" "$@" \
        2>>"$work/chrome.log"
}

# JavaScript expressions that resolve when a page is ready, checked every 50 ms for as long as it takes:
# the whole DOM, once the page has loaded (images too);
dom='document.documentElement.outerHTML'
# the DOM, once the element #state says "done" (parallel.html);
until_done='new Promise(ok => { const f = () => { const s = document.getElementById("state");
    if (s && s.className.startsWith("done")) ok(document.documentElement.outerHTML); else setTimeout(f, 50); }; f(); })'
# the text of #problem, once it is shown (status.html);
until_problem='new Promise(ok => { const f = () => { const p = document.getElementById("problem");
    if (p && !p.hidden && p.textContent.trim()) ok(p.textContent.trim()); else setTimeout(f, 50); }; f(); })'
# tests/listing-check.html's figures, once it has measured everything it was given.
until_measured='new Promise(ok => { const f = () => { const r = document.getElementById("result").textContent;
    if (/(^|\n| )done( first: .*)?$/.test(r)) ok(r); else setTimeout(f, 50); }; f(); })'

# --- A listing of some 300 hostile names: its functions, then its run, in the background while the
# pages below are measured; its lines are printed after theirs.

# Prints a string count times.
repeat() {
    i=0
    while [ "$i" -lt "$2" ]; do
        printf '%s' "$1"
        i=$((i + 1))
    done
}

# Fills a directory with some 300 names that test a listing's layout: the longest a file system
# allows (255 bytes) with and without places to break, in Latin, Arabic, Hebrew and CJK script and in
# emoji; names whose every byte the listing shows as a wider \xFF or \u202E mark; markup and URL
# characters; bidi overrides and isolates; invisible and control characters; combining marks; numbered
# names; directories (one of 255 bytes); sizes from 0 bytes to a sparse 5 TiB; a dotfile, never listed.
make_names() {
    d=$1
    mkdir "$d" || return 1
    for i in $(seq 150); do head -c $((i * 97)) /dev/zero >"$d/file$i"; done
    for i in $(seq 40); do : >"$d/IMG_20261202_0800$(printf %02d "$i").jpg"; done
    for i in $(seq 40); do : >"$d/Meeting notes 2026-11-$(printf %02d "$i") (draft, v2) – Ünïcödé.docx"; done
    for dir in dir-a Documents "dir with spaces" "$(repeat d 255)" مجلد 目录 "📁 folder" "$(repeat 'folder ' 36)end"; do
        mkdir "$d/$dir" || return 1
    done
    # shellcheck disable=SC2016 # a backtick in a name, not an expansion
    for name in \
        "$(repeat abcdefghijklmnopqrstuvwxyz 10 | cut -c1-255)" "$(repeat W 255)" "$(repeat 0123456789 26 | cut -c1-255)" \
        "$(repeat _ 255)" "$(repeat '&' 255)" "$(repeat '<' 255)" "$(repeat '%' 255)" \
        "$(repeat 'listing ' 24)listings" "$(repeat 'a.' 127)a" "$(repeat 'a-' 127)a" \
        "$(repeat مرحبا 25).txt" "$(repeat שלום 31).txt" "$(repeat 文件名 28).md" "$(repeat 🎉 63).gz" \
        "$(repeat 👨‍👩‍👧‍👦 10).png" "$(repeat "$(printf 'z\314\201\314\210\315\223')" 36)" \
        "$(printf '\377\376bad\300name.txt')" "$(repeat "$(printf '\377')" 255)" "$(repeat "$(printf '\342\200\256')" 85)" \
        "$(repeat "$(printf '\342\200\213')" 85)" "$(repeat "$(printf 'x\342\200\213')" 63)" \
        "$(printf 'photo\342\200\256gpj.exe')" "$(printf 'invoice\342\200\256fdp.scr')" \
        "$(printf '\342\200\256%s' "$(repeat 'override ' 20)")" \
        "$(printf 'a\342\201\246b\342\201\247c\342\201\250d\342\201\251e.txt')" \
        "$(printf 'zero\342\200\213width\342\200\213space.txt')" "$(printf 'tab\there.txt')" \
        "$(printf 'new\nline.txt')" "$(printf 'bell\007.txt')" "$(printf 'soft\302\255hyphen.txt')" \
        'a<b>c.txt' '<img src=x onerror=alert(1)>.html' 'fish & chips.txt' '&amp;.txt' '"double".txt' \
        "'single'.txt" '#hash.txt' '100%.txt' '%2e%2e.txt' '%00.txt' 'why?.txt' 'a?b#c%d&e.txt' 'back\slash.txt' \
        '`tick`.txt' 'semi;colon.txt' 'plus+sign.txt' ' leading space.txt' 'trailing space.txt ' \
        'many     spaces.txt' '-rf' '~tilde' 'مرحبا بالعالم.txt' 'שלום עולם.txt' 'report-تقرير-2026.pdf' \
        '漢字のファイル名.txt' '한국어 파일.txt' '中文文件名称很长但是没有空格的名字一二三四五六七八九十.txt' \
        '🎉 party.txt' '👨‍👩‍👧‍👦 family.jpg' '🏳️‍🌈.png' 'café.txt' 'Ωmega.txt' 'ﷺ.txt' 'ẞ.txt' \
        'empty.txt' 'one-byte.txt' 'four-k.bin' 'sparse-5M.iso' 'old.txt' 'future.txt'; do
        : >"$d/$name" || return 1
    done
    printf x >"$d/one-byte.txt"
    head -c 4300 /dev/zero >"$d/four-k.bin"
    truncate -s 5M "$d/sparse-5M.iso"
    truncate -s 5T "$d/sparse-5T.img" 2>/dev/null || rm -f "$d/sparse-5T.img"
    touch -t 197001010000 "$d/old.txt"
    touch -t 209912312359 "$d/future.txt"
    : >"$d/.hidden"
}

# Says how many names a directory lists: all but dotfiles.
count_names() {
    n=0
    for f in "$1"/*; do
        [ -e "$f" ] && n=$((n + 1))
    done
    echo "$n"
}

# Prints the figures tests/listing-check.html measured on list/ in an iframe $1 px wide (and 900
# tall), the same run for every check at that width; $2 adds a stylesheet to the listing. The three
# measurements (390 px, 1280 px, 390 px with the control's stylesheet) are one browser's batch.
listing_figures() {
    case $1${2:+-css} in
    390) cat "$work/d/1" ;;
    1280) cat "$work/d/2" ;;
    390-css) cat "$work/d/3" ;;
    esac
}

# Prints one figure of a width's measurement (name, width[, stylesheet]), or fails unless a number.
figure() {
    v=$(listing_figures "$2" "$3" | sed 's/ done.*//' | tr ' ' '\n' | sed -n "s/^$1=//p")
    case $v in '' | *[!0-9]*) return 1 ;; esac
    echo "$v"
}

# Prints the first offender a measurement names, if it names one.
offender() {
    listing_figures "$1" "$2" | sed -n 's/.* done first: /   first offender: /p'
}

# Says whether the listing at a width does not scroll sideways: scrollWidth within clientWidth (the
# window less a scrollbar, so within innerWidth too), the listing's window exactly that wide, and
# a table there (not an error page).
listing_scroll_ok() {
    w=$1
    echo "   $w px: $(listing_figures "$w" | sed 's/ done.*//')"
    inner=$(figure innerWidth "$w") && client=$(figure clientWidth "$w") && scroll=$(figure scrollWidth "$w") &&
        rows=$(figure rows "$w") && [ "$rows" -gt 0 ] && [ "$inner" -eq "$w" ] && [ "$scroll" -le "$client" ] &&
        [ "$scroll" -le "$inner" ]
}

# Says whether every row of the listing at a width has a height and ends inside the window.
listing_rows_ok() {
    rows=$(figure rows "$1") && zero=$(figure zero "$1") && beyond=$(figure beyond "$1") && [ "$rows" -gt 0 ] &&
        [ "$zero" -eq 0 ] && [ "$beyond" -eq 0 ] && return 0
    offender "$1"
    return 1
}

# Says whether no cell's content is wider than the cell (td.scrollWidth <= td.clientWidth + 1).
listing_cells_ok() {
    overflow=$(figure overflow "$1") && cells=$(figure cells "$1") && [ "$cells" -gt 0 ] && [ "$overflow" -eq 0 ] &&
        return 0
    offender "$1"
    return 1
}

# Says whether the listing at a width has a row per name, plus its header row and its ../ row.
listing_count_ok() {
    rows=$(figure rows "$1") && [ "$rows" -eq $((names + 2)) ] && return 0
    echo "   rows: ${rows:-none}, expected $((names + 2))"
    return 1
}

# Saves a screenshot of the listing at a width and says whether it is a PNG. The screenshot is the
# size asked for, 390 px too (only --dump-dom's window is held at 500 px or more).
listing_screenshot_ok() {
    shot=${TMPDIR:-/tmp}/select-server-listing-$1.png
    rm -f "$shot"
    chrome "http://127.0.0.1:$lport/listing-check.html?w=$1" --window-size="$1,900" --screenshot="$shot" >/dev/null
    [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
    size=$(od -An -tu1 -j16 -N8 "$shot" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 "x" \
        $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }')
    echo "   screenshot: $shot ($size)"
}

# The control: with td,td a{white-space:nowrap} added at 390 px, the same measurement must see the page
# scroll sideways and names overflow their cells (or rows pass the window's edge).
listing_control_fails() {
    scroll=$(figure scrollWidth 390 "$nowrap") && client=$(figure clientWidth 390 "$nowrap") &&
        overflow=$(figure overflow 390 "$nowrap") && beyond=$(figure beyond 390 "$nowrap") &&
        [ "$scroll" -gt "$client" ] && [ $((overflow + beyond)) -gt 0 ]
}

# shellcheck disable=SC2030 # the listing's own counts, handed back through $work/listing.counts
(
    passed=0
    failed=0
    lserver=
    trap '[ -n "$lserver" ] && kill "$lserver" 2>/dev/null' EXIT
    (umask 022 && make_names "$site/list" && cat tests/listing-check.html >"$site/listing-check.html") && chmod 755 "$site"
    names=$(count_names "$site/list")
    nowrap='td%2Ctd%20a%7Bwhite-space%3Anowrap%7D' # td,td a{white-space:nowrap}
    start list -q "$site"
    lserver=$started
    lport=$started_port
    cdp "$work/d" "http://127.0.0.1:$lport/listing-check.html?w=390" "$until_measured" \
        "http://127.0.0.1:$lport/listing-check.html?w=1280" "$until_measured" \
        "http://127.0.0.1:$lport/listing-check.html?w=390&css=$nowrap" "$until_measured"
    for w in 390 1280; do
        check "listing of $names names at $w px: no horizontal scroll" listing_scroll_ok "$w"
        check "listing of $names names at $w px: every row has a height and ends inside the window" listing_rows_ok "$w"
        check "listing of $names names at $w px: no name wider than its cell" listing_cells_ok "$w"
        check "listing of $names names at $w px: $names rows, a header and ../" listing_count_ok "$w"
        check "listing of $names names at $w px: screenshot" listing_screenshot_ok "$w"
    done
    check "listing control: the same checks catch names kept on one line" listing_control_fails
    check "listing server still running after the browser" kill -0 "$lserver"
    stop "$lserver"
    lserver=
    echo "$passed $failed" >"$work/listing.counts"
) >"$work/listing.log" 2>&1 &
listing=$!

# --- The index page, the small requests, and the timeline picture from a server that logs.

start main -q -r public
main=$started_port
start visit -r public
visit=$started
cdp "$work/a" "http://127.0.0.1:$main/" "$dom" "http://127.0.0.1:$main/parallel.html?small=16" "$until_done" \
    "http://127.0.0.1:$started_port/" "$dom"
icon=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$started_port/favicon.ico")
stop "$visit"

# Says whether the index page renders its title and its links to the guides, the exercise, the status
# page and the lab report.
index_ok() {
    for want in '<h1>select-server</h1>' 'href="guide.html"' 'href="panduan.html"' 'href="parallel.html"' \
        'href="status.html"' 'href="laporan.html"'; do
        grep -qF "$want" "$work/a/1" || { echo "   no $want in the page's DOM"; return 1; }
    done
}

# Says whether the DOM of parallel.html?small=N reports N rows answered 200 and the page done.
small_ok() {
    rows=$(grep -o '<td class="status"[^>]*>200</td>' "$work/a/2" | wc -l)
    other=$(grep -o '<td class="status"[^>]*>[^<]*</td>' "$work/a/2" | grep -vc '>200<')
    grep -q "done: $1 of $1 answered 200" "$work/a/2" && [ "$rows" -eq "$1" ] && [ "$other" -eq 0 ]
}

# Says whether the index page, loaded from a second server that logs every request, shows the timeline:
# an <img> of demo-timeline.svg in the DOM, the picture fetched with 200 and well-formed SVG, and no
# request of the visit (the page, its stylesheet, the picture, favicon.ico) answered 404.
timeline_page_ok() {
    if [ "$icon" != 200 ]; then
        echo "   /favicon.ico answered $icon, not 200"
        return 1
    fi
    visit=$(grep '" [0-9][0-9][0-9] ' "$work/visit.out")
    if ! tr '\n' ' ' <"$work/a/3" | grep -q '<img src="demo-timeline.svg"'; then
        echo "   no <img src=\"demo-timeline.svg\"> in the page's DOM"
        return 1
    fi
    if ! echo "$visit" | grep -q '"GET /demo-timeline.svg HTTP/1.1" 200 '; then
        echo "   the picture was not fetched with 200; the visit's log:"
        echo "$visit" | sed 's/^/     /'
        return 1
    fi
    if ! python3 -c 'import sys, xml.etree.ElementTree as E; sys.exit(E.parse("public/demo-timeline.svg").getroot().tag != "{http://www.w3.org/2000/svg}svg")'; then
        echo "   public/demo-timeline.svg is not well-formed SVG"
        return 1
    fi
    if echo "$visit" | grep -q '" 404 '; then
        echo "   the visit logged a 404:"
        echo "$visit" | grep '" 404 ' | sed 's/^/     /'
        return 1
    fi
    echo "   $(echo "$visit" | wc -l) requests in the visit, none 404: $(echo "$visit" | sed 's/.*"GET \([^ ]*\) [^"]*" \([0-9]*\) .*/\1 \2/' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
}

check "index page in Chromium, with its links to the guides, the exercise, the status page and the report" index_ok
check "index page shows the demo timeline, and the visit logs no 404 (favicon.ico too)" timeline_page_ok
check "parallel.html?small=16: 16 small requests at once, every row 200" small_ok 16

# --- Exercise 2.4: /parallel.html with no click against ./server -v, then the status page there (no -S).

start x -v -q -r public
x=$started
cdp "$work/b" "http://127.0.0.1:$started_port/parallel.html" "$until_done" \
    "http://127.0.0.1:$started_port/status.html" "$until_problem"
stop "$x"

# Says whether the page reported its four answers read whole, and that all four were in flight at once.
parallel_page_ok() {
    said=$(sed -n 's/.*<p id="state"[^>]*>\([^<]*\)<.*/\1/p' "$work/b/1")
    echo "   the page says: $said"
    case $said in "done: 4 of 4 answered 200 with the whole body; all 4 response heads arrived"*) return 0 ;; esac
    return 1
}

# Says whether the trace shows four connections at once: the page's four requests for files/big.bin
# answered on four distinct connections (a connection runs from its "accepted" line to its "closed"
# line, since descriptor numbers are reused), each still open when the last of the four was answered,
# and a round line with 4 or more open. Prints the lines that show it.
parallel_trace_ok() {
    python3 - "$work/x.err" <<'EOF'
import re, sys
conns, live, big, most = [], {}, [], None
for i, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="replace")):
    line = line.rstrip("\n")
    m = re.match(r"select #\d+ at [0-9.]+ s: \d+ ready; (\d+) open", line)
    if m:
        if int(m.group(1)) >= 4 and most is None:
            most = line
        continue
    m = re.match(r"  fd (\d+): (.*)", line)
    if not m:
        continue
    fd, what = int(m.group(1)), m.group(2)
    if what.startswith("accepted from "):
        live[fd] = {"fd": fd, "line": line, "closed": None}
        conns.append(live[fd])
    elif fd in live and what.startswith("closed ("):
        live[fd]["closed"] = i
        del live[fd]
    elif fd in live and re.match(r'request "GET /files/big\.bin\?connection=\d ', what):
        big.append((i, live[fd], line))
holders = {id(c): c for _, c, _ in big}
last = max((i for i, _, _ in big), default=None)
together = [c for c in holders.values() if c["closed"] is None or c["closed"] > last]
for c in holders.values():
    print("   " + c["line"].strip())
for _, _, line in big:
    print("   " + line.strip())
print("   " + (most or "no round line with 4 or more open"))
ok = len(big) == 4 and len(holders) == 4 and len(together) == 4 and most is not None
if not ok:
    print("   %d requests for big.bin on %d connections, %d of them open together" % (len(big), len(holders), len(together)))
sys.exit(0 if ok else 1)
EOF
}

# Says whether the live status page, against a server with no status path, says how to start one.
status_404_ok() {
    said=$(cat "$work/b/2")
    echo "   it says: $said"
    case $said in *"404"*"./server -v -S /status"*) return 0 ;; esac
    return 1
}

check "exercise 2.4: /parallel.html, with no click, reads its 4 answers whole, all 4 in flight at once" parallel_page_ok
check "exercise 2.4: the trace shows 4 open: the 4 requests on 4 distinct connections, open together" parallel_trace_ok
check "status.html against a server without -S: it says to start the server with -S /status" status_404_ok

# --- The guide pages, the lab report and the status page, from a server with -S /status that logs.

(umask 022 && (cd public && tar cf - --exclude=./files/big.bin .) | (cd "$pages" && tar xf -) &&
    cat tests/listing-check.html >"$pages/listing-check.html") && chmod 755 "$pages"
page_list='guide.html,panduan.html,laporan.html,status.html,index.html,parallel.html?small=16'
control_css='pre%2Ctd%2Ccode%7Bwhite-space%3Apre%3Boverflow-wrap%3Anormal%7D' # pre,td,code{white-space:pre;...}
printed='getComputedStyle(document.querySelector("nav.top")).display + " | " +
    getComputedStyle(document.querySelector("nav.toc")).display + " | " +
    getComputedStyle(document.querySelector("a[href=\"laporan.html\"]"), "::after").content'
start p -S /status "$pages"
p=$started
base=http://127.0.0.1:$started_port
cdp "$work/c" "$base/listing-check.html?w=390&pages=$page_list" "$until_measured" \
    "$base/listing-check.html?w=1280&pages=$page_list" "$until_measured" \
    "$base/listing-check.html?w=390&pages=guide.html&css=$control_css" "$until_measured" \
    "print:$base/guide.html" "$printed"
stop "$p"

# Says whether a page measured at a width ($1, figures in $3) fits it: its window exactly that wide, no
# horizontal scroll, nothing past the window's edge, nothing scrolling sideways inside it, no cell whose
# content is wider than the cell.
page_fits() {
    line=$(grep -F "$2 " "$3" | head -n 1)
    echo "   $line"
    value() { echo "$line" | sed 's/ first: .*//' | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    inner=$(value innerWidth) client=$(value clientWidth) scroll=$(value scrollWidth)
    beyond=$(value beyond) clipped=$(value clipped) overflow=$(value overflow)
    for v in "$inner" "$client" "$scroll" "$beyond" "$clipped" "$overflow"; do
        case $v in '' | *[!0-9]*) return 1 ;; esac
    done
    [ "$inner" -eq "$1" ] && [ "$scroll" -le "$client" ] && [ "$beyond" -eq 0 ] && [ "$clipped" -eq 0 ] &&
        [ "$overflow" -eq 0 ]
}

# The control: with its code, preformatted text and cells kept on one line at 390 px, the same
# measurement must see the guide pass the window's edge.
page_control_fails() {
    line=$(head -n 1 "$work/c/3")
    echo "   $line"
    case $line in "guide.html "*" beyond="[1-9]*) return 0 ;; esac
    return 1
}

# Says whether the guide, printed, hides its navigation and writes each link's address after it.
print_ok() {
    said=$(cat "$work/c/4")
    echo "   printed: navigation ${said%% |*}, contents $(echo "$said" | cut -d'|' -f2 | tr -d ' '); a link is followed by ${said##*| }"
    [ "$said" = 'none | none | " (" attr(href) ")"' ] || [ "$said" = 'none | none | " (laporan.html)"' ]
}

# Says whether the page server's log has each page of the visit (and what they load) answered 200, and
# nothing answered 404.
pages_log_ok() {
    visit=$(grep '" [0-9][0-9][0-9] ' "$work/p.out")
    for want in $(echo "$page_list" | tr ',' ' ') style.css status.js 'status?full' demo-timeline.svg; do
        if ! echo "$visit" | grep -qF "\"GET /$want HTTP/1.1\" 200 "; then
            echo "   /$want was not answered 200"
            return 1
        fi
    done
    if echo "$visit" | grep -q '" 404 '; then
        echo "   the visit logged a 404:"
        echo "$visit" | grep '" 404 ' | sort | uniq -c | sed 's/^/     /'
        return 1
    fi
    echo "   $(echo "$visit" | wc -l) requests, none 404: $(echo "$visit" | sed 's/.*"GET \([^ ?]*\)[^"]*" \([0-9]*\) .*/\1 \2/' |
        sort | uniq -c | awk '{ printf "%s%s %s%s", (NR > 1 ? ", " : ""), $2, $3, ($1 > 1 ? " x" $1 : "") }')"
}

for w in 390 1280; do
    [ "$w" = 390 ] && figures=$work/c/1 || figures=$work/c/2
    for page in $(echo "$page_list" | tr ',' ' '); do
        check "$page at $w px: no horizontal scroll, nothing past the edge or scrolling inside, no cell overflowing" \
            page_fits "$w" "$page" "$figures"
    done
done
check "page control: the same checks catch the guide with its code and cells kept on one line" page_control_fails
check "guide.html printed: no navigation, each link's address shown" print_ok
check "the guide pages, the lab report, the status page, the index and the exercise page: each answered 200, no 404 in the visit" pages_log_ok
check "the demo server still running after the browser" kill -0 "$(echo "$pids" | awk '{ print $1 }')"

wait "$listing"
cat "$work/listing.log"
# shellcheck disable=SC2031 # these counts are this shell's; the listing's come from its file
if read -r listing_passed listing_failed <"$work/listing.counts" 2>/dev/null; then
    passed=$((passed + listing_passed))
    failed=$((failed + listing_failed))
else
    echo "FAIL - the listing checks did not finish"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
