#!/bin/sh
# The demo site in headless Chromium against ./server: parallel.html must report every request
# answered 200, read from the DOM. Then a directory listing of some 300 hostile names, measured at
# 390 px (a phone) and 1280 px through tests/listing-check.html: no horizontal scroll, every row
# there and inside the window, no name wider than its cell. And the index page from a server that
# logs (no -q): it shows make demo's timeline picture, and the visit (favicon.ico too) logs no 404.
# Skips, saying why, when Chromium is not installed.
cd "$(dirname "$0")/.." || exit 2
browser=$(command -v chromium || command -v chromium-browser)
if [ -z "$browser" ]; then
    echo "ok - browser tests # skip: Chromium is not installed (Debian: apt-get install -y chromium)"
    echo "0 passed, 0 failed"
    exit 0
fi
work=$(mktemp -d)
site=$(mktemp -d)
server=
lserver=
vserver=
trap '[ -n "$server" ] && kill $server 2>/dev/null; [ -n "$lserver" ] && kill $lserver 2>/dev/null
[ -n "$vserver" ] && kill $vserver 2>/dev/null; rm -rf "$work" "$site"' EXIT
trap 'exit 1' INT TERM
./server -q -p 0 -r public >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 50); do grep -q Serving "$work/out" && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)\/$/\1/p' "$work/out")
passed=0
failed=0

# Loads a page in headless Chromium (a fresh profile each time): a path on the demo server, or a
# whole http:// URL; extra arguments come first.
chrome() {
    url=$1
    shift
    case $url in http://*) ;; *) url="http://127.0.0.1:$port$url" ;; esac
    timeout -k 5 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" \
        --virtual-time-budget=10000 "$@" "$url" 2>>"$work/chrome.log"
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

# Says whether the index page, loaded from a second server that logs every request, shows the timeline:
# an <img> of demo-timeline.svg in the DOM, the picture fetched with 200 and well-formed SVG, and no
# request of the visit (the page, its stylesheet, the picture, favicon.ico) answered 404.
timeline_page_ok() {
    ./server -p 0 -r public >"$work/vout" 2>"$work/verr" &
    vserver=$!
    for _ in $(seq 50); do grep -q Serving "$work/vout" && break; sleep 0.1; done
    vport=$(sed -n '1s/.*:\([0-9]*\)\/$/\1/p' "$work/vout")
    chrome "http://127.0.0.1:$vport/" --dump-dom >"$work/vindex.html"
    icon=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$vport/favicon.ico")
    kill "$vserver" && wait "$vserver" 2>/dev/null # its log is complete once it has stopped; Chromium may skip the icon
    vserver=
    if [ "$icon" != 200 ]; then
        echo "   /favicon.ico answered $icon, not 200"
        return 1
    fi
    visit=$(grep '" [0-9][0-9][0-9] ' "$work/vout")
    if ! tr '\n' ' ' <"$work/vindex.html" | grep -q '<img src="demo-timeline.svg"'; then
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

check "index page in Chromium" index_ok
check "index page shows the demo timeline, and the visit logs no 404 (favicon.ico too)" timeline_page_ok
check "parallel.html: 4 parallel requests, every row 200" parallel_ok 4
check "parallel.html: 16 parallel requests, every row 200" parallel_ok 16
check "screenshot of the 16-request run" screenshot_ok
check "server still running after the browser" kill -0 "$server"

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
# tall), the same run for every check at that width; $2 adds a stylesheet to the listing.
listing_figures() {
    f=$work/figures-$1${2:+-css}
    if [ ! -e "$f" ]; then
        chrome "http://127.0.0.1:$lport/listing-check.html?w=$1${2:+&css=$2}" --window-size="$1,900" --dump-dom |
            sed -n 's/.*<pre id="result">\([^<]*\)<\/pre>.*/\1/p' >"$f"
    fi
    cat "$f"
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

(umask 022 && make_names "$site/list" && cat tests/listing-check.html >"$site/listing-check.html") && chmod 755 "$site"
names=$(count_names "$site/list")
nowrap='td%2Ctd%20a%7Bwhite-space%3Anowrap%7D' # td,td a{white-space:nowrap}
./server -q -p 0 "$site" >"$work/lout" 2>"$work/lerr" &
lserver=$!
for _ in $(seq 50); do grep -q Serving "$work/lout" && break; sleep 0.1; done
lport=$(sed -n '1s/.*:\([0-9]*\)\/$/\1/p' "$work/lout")
for w in 390 1280; do
    check "listing of $names names at $w px: no horizontal scroll" listing_scroll_ok "$w"
    check "listing of $names names at $w px: every row has a height and ends inside the window" listing_rows_ok "$w"
    check "listing of $names names at $w px: no name wider than its cell" listing_cells_ok "$w"
    check "listing of $names names at $w px: $names rows, a header and ../" listing_count_ok "$w"
    check "listing of $names names at $w px: screenshot" listing_screenshot_ok "$w"
done
check "listing control: the same checks catch names kept on one line" listing_control_fails
check "listing server still running after the browser" kill -0 "$lserver"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
