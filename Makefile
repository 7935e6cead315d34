# Builds ./server and runs its tests; see README.md.
CC ?= cc
CFLAGS ?= -O2 -g
# 64-bit off_t and time_t on every build, 32-bit ones included: files past 4 GiB, dates past 2038.
STD = -std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -Wall -Wextra -pedantic
SANITIZE = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SENDFILE ?= 1
ifeq ($(SENDFILE),0)
PORTABLE = -DPORTABLE
endif
SOURCES = server.c http.c

server: $(SOURCES) http.h
	$(CC) $(STD) $(CFLAGS) $(PORTABLE) -o $@ $(SOURCES)

# Exercise 2.4's large file (public/parallel.html asks for it four times at once, so that each request
# stays in flight on a connection of its own): 32 MiB of zeros, made here and never committed.
public/files/big.bin:
	head -c 33554432 /dev/zero >$@.tmp && mv $@.tmp $@
server: | public/files/big.bin

build/server-portable: $(SOURCES) http.h | build
	$(CC) $(STD) $(CFLAGS) -DPORTABLE -o $@ $(SOURCES)

build/server-asan: $(SOURCES) http.h | build
	$(CC) $(STD) $(SANITIZE) -o $@ $(SOURCES)

# The 32-bit build, where the compiler can make one (Debian: gcc-multilib);
# tests/run.sh says so and skips it otherwise.
build/server-32: $(SOURCES) http.h | build
	-$(CC) $(STD) -m32 -O2 -o $@ $(SOURCES)

build/unit: tests/unit.c http.c http.h | build
	$(CC) $(STD) $(SANITIZE) -I. -o $@ tests/unit.c http.c

build:
	mkdir -p build

test: server build/server-portable build/server-asan build/server-fortify build/server-32 build/unit
	sh tests/run.sh

# Coverage-guided fuzzing of http.c with libFuzzer, ASan and UBSan; FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: | build
	sh tests/fuzz.sh $(FUZZ_SECONDS)

# Overload, descriptor exhaustion, slowloris, soak, valgrind and changing files: bounded, loopback only.
build/server-fortify: $(SOURCES) http.h | build
	$(CC) $(STD) -O2 -D_FORTIFY_SOURCE=2 -o $@ $(SOURCES)

build/loadgen: tests/loadgen.c | build
	$(CC) $(STD) -O2 -o $@ tests/loadgen.c

stress: server build/server-portable build/server-fortify build/loadgen
	python3 tests/stress.py

# The select() exercise: ./server -v and four clients at once, a timeline and a results summary.
demo: server
	bash tests/demo.sh

# ./server against nginx, lighttpd, h2o and a fixed-reply epoll ceiling with wrk; BENCH_ROUNDS, BENCH_SECONDS
# and BENCH_SCENARIOS set the length.
build/fdcost: tests/fdcost.c | build
	$(CC) $(STD) -O2 -o $@ tests/fdcost.c

build/ceiling: tests/ceiling.c | build
	$(CC) $(STD) -O2 -o $@ tests/ceiling.c

bench: server build/loadgen build/fdcost build/ceiling
	bash tests/bench.sh

# Installs ./server as PREFIX/bin/select-server (under DESTDIR when packaging); -h and the README are its manual.
PREFIX ?= /usr/local
# install(1) replaces the file rather than writing into it, so a running select-server does not stop it.
# The installed program serves the current folder when none is named (./server serves the demo site).
build/select-server: $(SOURCES) http.h | build
	$(CC) $(STD) $(CFLAGS) $(PORTABLE) '-DDEFAULT_ROOT="."' -o $@ $(SOURCES)

install: build/select-server
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 build/select-server $(DESTDIR)$(PREFIX)/bin/select-server

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/select-server

clean:
	rm -rf server build

.PHONY: test fuzz stress bench demo clean install uninstall
