#!/bin/sh
# Compiles the server with gcc and clang, sendfile and portable, and fails on any warning.
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0
for cc in gcc clang; do
    for defs in "" "-DPORTABLE"; do
        name="$cc ${defs:-(sendfile)}"
        if ! command -v "$cc" >/dev/null; then
            echo "ok - $name # skip $cc not installed"
            passed=$((passed + 1))
            continue
        fi
        if out=$($cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -Wall -Wextra -pedantic -Werror \
            -O2 $defs -o build/warnings-check server.c http.c 2>&1); then
            echo "ok - $name builds without warnings"
            passed=$((passed + 1))
        else
            echo "FAIL - $name: $out"
            failed=$((failed + 1))
        fi
    done
done
rm -f build/warnings-check
echo "$passed passed, $failed failed"
