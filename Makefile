# Builds ./server and runs its tests; see README.md.
CC ?= cc
CFLAGS ?= -O2 -g
STD = -std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -Wall -Wextra -pedantic
SANITIZE = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SENDFILE ?= 1
ifeq ($(SENDFILE),0)
PORTABLE = -DPORTABLE
endif
SOURCES = server.c http.c

server: $(SOURCES) http.h
	$(CC) $(STD) $(CFLAGS) $(PORTABLE) -o $@ $(SOURCES)

build/server-portable: $(SOURCES) http.h | build
	$(CC) $(STD) $(CFLAGS) -DPORTABLE -o $@ $(SOURCES)

build/server-asan: $(SOURCES) http.h | build
	$(CC) $(STD) $(SANITIZE) -o $@ $(SOURCES)

build/unit: tests/unit.c http.c http.h | build
	$(CC) $(STD) $(SANITIZE) -I. -o $@ tests/unit.c http.c

build:
	mkdir -p build

test: server build/server-portable build/server-asan build/unit
	sh tests/run.sh

clean:
	rm -rf server build

.PHONY: test clean
