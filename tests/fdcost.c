/*
 * fdcost.c: what one wait call costs when it watches N idle descriptors and one ready one: select(), poll()
 * and epoll_wait(), for N = 100, 1,000 and 10,000. A classroom microbenchmark for `make bench` (Linux only; a
 * test tool, not part of the server).
 *
 *   fdcost [tcp|unix]   idle descriptors are both ends of N/2 loopback TCP connections (default), or of N/2
 *                       socketpairs; the ready one is one more such pair with a byte waiting, never read
 *
 * The ready descriptor has the highest number, so select() and poll() look at every idle one before they find
 * it. Each method is timed twice: with a timeout (as a server's loop waits), where select() and poll() also hang
 * a wait-queue entry on every idle socket they pass before the ready one, and with a zero timeout, a bare scan.
 * epoll_wait() looks only at the ready list the kernel keeps. select() gets a
 * heap array of bit words sized past FD_SETSIZE, set with fdcost's own helpers (glibc's FD_SET aborts past
 * 1,024 under _FORTIFY_SOURCE), copied from a master set before every call as a select() loop must.
 * Prints, per method and N, the median of REPEATS runs: microseconds per call and nanoseconds per watched
 * descriptor, waiting and with a zero timeout.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPEATS 7                    /* runs per method and N; the median is printed */
#define WORK_PER_RUN 200000L         /* calls per run times watched descriptors: 5 to 200 ms per run */
#define MIN_CALLS 20                 /* calls per run at least */
#define WAIT_MS 1000                 /* a waiting call's timeout; never reached, since one descriptor is ready */

typedef unsigned long fd_word;       /* the kernel reads select()'s sets as arrays of unsigned long */
#define WORD_BITS (CHAR_BIT * sizeof(fd_word))

enum method { SELECT, POLL, EPOLL, METHODS };
static const char *const method_names[METHODS] = { "select", "poll", "epoll_wait" };

/* The descriptors one measurement watches: idle ones, then the ready one (the highest number). */
struct watched {
    int *fds;
    int count;                       /* idle descriptors */
    int ready;                       /* the descriptor with a byte waiting */
    int ready_peer;                  /* the other end of the ready pair, kept open so the byte stays */
};

/* Prints what failed with errno's text and exits: a benchmark with a failed setup has nothing to say. */
static void die(const char *what)
{
    fprintf(stderr, "fdcost: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Returns monotonic time in nanoseconds. */
static long long now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        die("clock_gettime");
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Raises the soft descriptor limit to the hard one and returns it: 10,000 watched descriptors need it. */
static rlim_t raise_descriptor_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
        die("getrlimit");
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
            die("setrlimit");
    }
    return limit.rlim_cur;
}

/* Opens a loopback TCP listener on a free port for the connections; returns it and fills in its address. */
static int tcp_listener(struct sockaddr_in *address)
{
    socklen_t len = sizeof *address;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    memset(address, 0, sizeof *address);
    address->sin_family = AF_INET;
    address->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)address, sizeof *address) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)address, &len) < 0)
        die("listener");
    return fd;
}

/* Makes one connected pair: a loopback TCP connection (client end and accepted end), or a socketpair. */
static void make_pair(int tcp, int listener, const struct sockaddr_in *address, int pair[2])
{
    if (!tcp) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
            die("socketpair");
        return;
    }
    pair[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (pair[0] < 0)
        die("socket");
    if (connect(pair[0], (const struct sockaddr *)address, sizeof *address) < 0)
        die("connect");
    pair[1] = accept(listener, NULL, NULL);
    if (pair[1] < 0)
        die("accept");
}

/* Opens n idle descriptors (both ends of n/2 pairs) and, last, a ready one with a byte waiting to be read. */
static struct watched watched_open(int n, int tcp, int listener, const struct sockaddr_in *address)
{
    struct watched w = { .fds = malloc((size_t)n * sizeof(int)), .count = n };
    if (w.fds == NULL)
        die("malloc");
    for (int i = 0; i < n; i += 2)
        make_pair(tcp, listener, address, &w.fds[i]);
    int pair[2];
    make_pair(tcp, listener, address, pair);
    if (write(pair[0], "x", 1) != 1)
        die("write");
    w.ready = pair[1];
    w.ready_peer = pair[0];
    if (tcp) { /* wait until the byte has crossed loopback, so the first call already sees it */
        struct pollfd p = { .fd = w.ready, .events = POLLIN };
        if (poll(&p, 1, WAIT_MS) != 1)
            die("poll for the ready byte");
    }
    return w;
}

/* Closes every descriptor of a measurement. */
static void watched_close(struct watched *w)
{
    for (int i = 0; i < w->count; i++)
        if (close(w->fds[i]) < 0)
            die("close");
    if (close(w->ready) < 0 || close(w->ready_peer) < 0)
        die("close");
    free(w->fds);
}

/* Sets descriptor fd's bit in a select() set of any size. */
static void bit_set(fd_word *set, int fd)
{
    set[(size_t)fd / WORD_BITS] |= (fd_word)1 << ((size_t)fd % WORD_BITS);
}

/* Tells whether descriptor fd's bit is set in a select() set of any size. */
static int bit_is_set(const fd_word *set, int fd)
{
    return (set[(size_t)fd / WORD_BITS] >> ((size_t)fd % WORD_BITS)) & 1;
}

/* Times calls select() calls (master set copied in before each), waiting up to wait_ms; returns ns per call. */
static double time_select(const struct watched *w, int calls, int wait_ms)
{
    int highest = w->ready;
    for (int i = 0; i < w->count; i++)
        highest = w->fds[i] > highest ? w->fds[i] : highest;
    size_t words = (size_t)highest / WORD_BITS + 1;
    fd_word *master = calloc(words, sizeof *master), *work = calloc(words, sizeof *work);
    if (master == NULL || work == NULL)
        die("calloc");
    for (int i = 0; i < w->count; i++)
        bit_set(master, w->fds[i]);
    bit_set(master, w->ready);
    long long start = now_ns();
    for (int call = 0; call < calls; call++) {
        struct timeval timeout = { .tv_sec = wait_ms / 1000, .tv_usec = wait_ms % 1000 * 1000 };
        memcpy(work, master, words * sizeof *work);
        int ready = select(highest + 1, (fd_set *)(void *)work, NULL, NULL, &timeout);
        if (ready != 1 || !bit_is_set(work, w->ready)) {
            if (ready < 0)
                die("select");
            fprintf(stderr, "fdcost: select found %d ready, expected the one\n", ready);
            exit(1);
        }
    }
    double per_call = (double)(now_ns() - start) / calls;
    free(master);
    free(work);
    return per_call;
}

/* Times calls poll() calls over all the descriptors, waiting up to wait_ms; returns nanoseconds per call. */
static double time_poll(const struct watched *w, int calls, int wait_ms)
{
    struct pollfd *fds = calloc((size_t)w->count + 1, sizeof *fds);
    if (fds == NULL)
        die("calloc");
    for (int i = 0; i < w->count; i++)
        fds[i] = (struct pollfd){ .fd = w->fds[i], .events = POLLIN };
    fds[w->count] = (struct pollfd){ .fd = w->ready, .events = POLLIN };
    long long start = now_ns();
    for (int call = 0; call < calls; call++) {
        int ready = poll(fds, (nfds_t)w->count + 1, wait_ms);
        if (ready != 1 || !(fds[w->count].revents & POLLIN)) {
            if (ready < 0)
                die("poll");
            fprintf(stderr, "fdcost: poll found %d ready, expected the one\n", ready);
            exit(1);
        }
    }
    double per_call = (double)(now_ns() - start) / calls;
    free(fds);
    return per_call;
}

/* Times calls epoll_wait() calls on an epoll instance holding all the descriptors, waiting up to wait_ms;
 * returns nanoseconds per call. */
static double time_epoll(const struct watched *w, int calls, int wait_ms)
{
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i <= w->count; i++) {
        int fd = i < w->count ? w->fds[i] : w->ready;
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }
    struct epoll_event events[64];
    long long start = now_ns();
    for (int call = 0; call < calls; call++) {
        int ready = epoll_wait(ep, events, 64, wait_ms);
        if (ready != 1 || events[0].data.fd != w->ready) {
            if (ready < 0)
                die("epoll_wait");
            fprintf(stderr, "fdcost: epoll_wait found %d ready, expected the one\n", ready);
            exit(1);
        }
    }
    double per_call = (double)(now_ns() - start) / calls;
    if (close(ep) < 0)
        die("close");
    return per_call;
}

/* Orders two doubles for qsort. */
static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs one method REPEATS times (after one untimed warm-up run); returns the median nanoseconds per call. */
static double median_cost(enum method m, const struct watched *w, int wait_ms)
{
    int calls = (int)(WORK_PER_RUN / (w->count + 1));
    double runs[REPEATS];
    calls = calls < MIN_CALLS ? MIN_CALLS : calls;
    for (int r = -1; r < REPEATS; r++) {
        double ns = m == SELECT ? time_select(w, calls, wait_ms)
                    : m == POLL ? time_poll(w, calls, wait_ms) : time_epoll(w, calls, wait_ms);
        if (r >= 0)
            runs[r] = ns;
    }
    qsort(runs, REPEATS, sizeof runs[0], compare_doubles);
    return runs[REPEATS / 2];
}

/* Parses the one optional argument, builds each set of descriptors in turn, and prints the table. */
int main(int argc, char **argv)
{
    static const int sizes[] = { 100, 1000, 10000 };
    int tcp = argc < 2 || strcmp(argv[1], "tcp") == 0;
    if (argc > 2 || (argc == 2 && !tcp && strcmp(argv[1], "unix") != 0)) {
        fprintf(stderr, "usage: fdcost [tcp|unix]\n");
        return 2;
    }
    rlim_t limit = raise_descriptor_limit();
    struct sockaddr_in address;
    int listener = tcp ? tcp_listener(&address) : -1;
    printf("cost of one wait call watching N idle descriptors and 1 ready (%s), median of %d runs:\n",
           tcp ? "both ends of N/2 loopback TCP connections" : "both ends of N/2 socketpairs", REPEATS);
    printf("%-11s %7s %28s %28s\n", "", "", "waiting (timeout 1 s)", "zero timeout (a bare scan)");
    printf("%-11s %7s %13s %14s %13s %14s\n", "method", "N", "us per call", "ns per watched", "us per call",
           "ns per watched");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        if ((rlim_t)n + 16 > limit) {
            printf("%-11s %7d   skipped: the descriptor limit is %llu\n", "-", n, (unsigned long long)limit);
            continue;
        }
        struct watched w = watched_open(n, tcp, listener, &address);
        for (int m = 0; m < METHODS; m++) {
            double waiting = median_cost((enum method)m, &w, WAIT_MS), scan = median_cost((enum method)m, &w, 0);
            printf("%-11s %7d %13.2f %14.1f %13.2f %14.1f\n", method_names[m], n, waiting / 1000, waiting / (n + 1),
                   scan / 1000, scan / (n + 1));
            fflush(stdout);
        }
        watched_close(&w);
    }
    if (listener >= 0 && close(listener) < 0)
        die("close");
    return 0;
}
