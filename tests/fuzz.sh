#!/bin/sh
# Builds the libFuzzer targets in tests/fuzz/ and runs each for SECONDS on a scratch copy of its seeds.
# Usage: sh tests/fuzz.sh [SECONDS [TARGET...]]  (default 60 s, every target; `make fuzz FUZZ_SECONDS=N`)
# Prints one line per target; exits 1 if any target found something, 2 if it cannot fuzz at all.
# To replay a finding: build/fuzz-TARGET build/fuzz-artifacts/TARGET-crash-...
cd "$(dirname "$0")/.." || exit 2
seconds=${1:-60}
[ $# -gt 0 ] && shift
case $seconds in
'' | *[!0-9]* | 0)
    echo "fuzz: SECONDS must be a positive whole number, not '$seconds'" >&2
    exit 2
    ;;
esac
targets=$*
if [ -z "$targets" ]; then
    for f in tests/fuzz/*.c; do
        targets="$targets $(basename "$f" .c)"
    done
fi

CLANG=${FUZZ_CC:-clang}
FLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -I. -Wall -Wextra -pedantic -g -O1 -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
mkdir -p build/fuzz-artifacts build/fuzz-corpus

# Stops with the packages to install when clang, or its libFuzzer runtime, is not there.
need_clang() {
    echo "fuzz: $1" >&2
    echo "fuzz: install clang with libFuzzer, e.g. on Debian: apt-get install clang" >&2
    major=""
    "$CLANG" --version 2>/dev/null | grep -q clang && major=$("$CLANG" -dumpversion | cut -d. -f1)
    echo "fuzz: (libFuzzer and the sanitizer runtimes come with it, in libclang-rt-${major:-NN}-dev; clang 14: libclang-rt-14-dev)" >&2
    exit 2
}
command -v "$CLANG" >/dev/null 2>&1 || need_clang "$CLANG not found"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\n%s\n' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >build/fuzz-probe.c
# shellcheck disable=SC2086
if ! out=$("$CLANG" $FLAGS -o build/fuzz-probe build/fuzz-probe.c 2>&1); then
    rm -f build/fuzz-probe.c
    need_clang "$CLANG cannot link -fsanitize=fuzzer,address,undefined: $(echo "$out" | tail -n 3)"
fi
rm -f build/fuzz-probe build/fuzz-probe.c

findings=0
for t in $targets; do
    if [ ! -f "tests/fuzz/$t.c" ]; then
        echo "fuzz $t: no such target (tests/fuzz/$t.c)"
        findings=$((findings + 1))
        continue
    fi
    # shellcheck disable=SC2086
    if ! "$CLANG" $FLAGS -o "build/fuzz-$t" "tests/fuzz/$t.c" http.c; then
        echo "fuzz $t: build failed"
        findings=$((findings + 1))
        continue
    fi
    work=build/fuzz-corpus/$t # libFuzzer adds to its first corpus directory: never tests/corpus
    rm -rf "$work"
    mkdir -p "$work"
    [ -d "tests/corpus/$t" ] && cp "tests/corpus/$t"/* "$work"/
    extra=""
    [ "$t" = parse ] && extra="-max_len=9000" # room to reach the HTTP_HEAD_MAX (8192) limits
    log=build/fuzz-$t.log
    start=$(date +%s)
    # shellcheck disable=SC2086
    "build/fuzz-$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build/fuzz-artifacts/$t-" $extra "$work" >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -z "$artifact" ]; then
        echo "fuzz $t: ${execs:-?} executions in $elapsed s, no findings"
        continue
    fi
    findings=$((findings + 1))
    echo "fuzz $t: ${execs:-?} executions in $elapsed s, FINDING: ${artifact:-none written (exit $rc), see $log}"
    grep -E 'check failed at line|^SUMMARY|^==[0-9]+==ERROR|runtime error' "$log" | head -n 3 | sed 's/^/    /'
    echo "    log: $log; replay: build/fuzz-$t ${artifact:-<input>}"
done
[ "$findings" -eq 0 ]
exit $?
