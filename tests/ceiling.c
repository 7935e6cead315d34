/*
 * ceiling.c: the fastest answer the kernel allows, for `make bench` (Linux only; a test tool, not part of the server).
 *
 *   ceiling PORT    listens on 127.0.0.1:PORT and answers every request on a connection with one fixed
 *                   response: a head like the server's for /small.bin (status line, Date, Server, Content-Type,
 *                   Content-Length, Last-Modified, ETag, Accept-Ranges, Cache-Control, and Connection: close
 *                   when the request said so) and a 1,024-byte body
 *
 * One epoll loop, level-triggered: a readable connection gets one read, every request it completes gets its
 * response in one write (pipelined requests share that write), nothing parsed but the end of a head (CRLFCRLF)
 * and a "Connection: close" field, after whose response the connection is closed. Requests with a body are not
 * supported (the bench sends none). Bytes of a head that is not complete yet are kept for the next read. No
 * timeouts: the clients close their connections. It raises its soft descriptor limit to the hard one and
 * runs until a signal stops it.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define BODY_SIZE 1024               /* the bench's /small.bin */
#define READ_SIZE 65536              /* one read takes at most this (pipelined requests included) */
#define HEAD_MAX 8192                /* a head still incomplete past this closes the connection */
#define BATCH 64                     /* events taken per epoll_wait, and responses per write */
#define BACKLOG 4096

static const char head[] = "HTTP/1.1 200 OK\r\n"
                           "Date: Mon, 07 Dec 2026 05:31:18 GMT\r\n"
                           "Server: ceiling/1.0\r\n"
                           "Content-Type: application/octet-stream\r\n"
                           "Content-Length: 1024\r\n"
                           "Last-Modified: Mon, 07 Dec 2026 05:31:18 GMT\r\n"
                           "ETag: \"a7210e-400-18eee1b729e50b07\"\r\n"
                           "Accept-Ranges: bytes\r\n"
                           "Cache-Control: no-cache\r\n";
static const char closing[] = "Connection: close\r\n";

/* One connection: the start of a head not complete yet, and the responses owed but not yet written. */
struct conn {
    char *held;                      /* bytes of an incomplete head, or NULL */
    size_t held_len;
    unsigned long owed;              /* responses still to write; the first from offset `sent` on */
    size_t sent;
    int close_after;                 /* the last owed response answers "Connection: close" */
};

/* The two responses: keep_alive[], and last[] (with Connection: close) for a request that asked to close. */
static char keep_alive[sizeof head - 1 + 2 + BODY_SIZE], last[sizeof head - 1 + sizeof closing - 1 + 2 + BODY_SIZE];
static struct conn *conns;           /* indexed by descriptor */
static int epoll_fd;

/* Prints what failed with errno's text and exits. */
static void die(const char *what)
{
    fprintf(stderr, "ceiling: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Raises the soft descriptor limit to the hard one; returns the limit (the size of the connection table). */
static rlim_t raise_descriptor_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
        die("getrlimit");
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) < 0 || getrlimit(RLIMIT_NOFILE, &limit) < 0)
        die("setrlimit");
    return limit.rlim_cur;
}

/* Opens the listening socket on 127.0.0.1:port. */
static int listen_on(unsigned short port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, BACKLOG) < 0)
        die("bind/listen");
    return fd;
}

/* Watches fd for input, or for room to write when out is set. */
static void watch(int fd, int op, int out)
{
    struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN, .data.fd = fd };
    if (epoll_ctl(epoll_fd, op, fd, &ev) < 0)
        die("epoll_ctl");
}

/* Closes a connection and forgets its state. */
static void conn_close(int fd)
{
    free(conns[fd].held);
    conns[fd] = (struct conn){ 0 };
    close(fd); /* also takes it out of the epoll set */
}

/* Accepts every waiting connection. */
static void accept_all(int listen_fd)
{
    for (;;) {
        int one = 1, fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                perror("ceiling: accept4"); /* EMFILE and the like: the client waits in the backlog */
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        watch(fd, EPOLL_CTL_ADD, 0);
    }
}

/* Tells whether a complete head asks to close the connection ("Connection: close"). */
static int asks_close(const char *h, size_t len)
{
    static const char name[] = "\nconnection:";
    for (size_t i = 0; i + sizeof name - 1 < len; i++) {
        if (h[i] != '\n' || strncasecmp(h + i, name, sizeof name - 1) != 0)
            continue;
        size_t v = i + sizeof name - 1;
        while (v < len && (h[v] == ' ' || h[v] == '\t'))
            v++;
        return len - v >= 5 && strncasecmp(h + v, "close", 5) == 0;
    }
    return 0;
}

/* Returns the size of the k-th response a connection owes (0: the first), and points *bytes at it. */
static size_t owed_response(const struct conn *c, unsigned long k, const char **bytes)
{
    int closes = c->close_after && k == c->owed - 1;
    *bytes = closes ? last : keep_alive;
    return closes ? sizeof last : sizeof keep_alive;
}

/* Writes what a connection owes in one call (up to BATCH responses); returns -1 when it was closed. */
static int conn_write(int fd)
{
    struct conn *c = &conns[fd];
    struct iovec iov[BATCH];
    const char *bytes;
    int n = 0;
    for (unsigned long k = 0; k < c->owed && n < BATCH; k++, n++) {
        size_t skip = k ? 0 : c->sent, size = owed_response(c, k, &bytes);
        iov[n] = (struct iovec){ (char *)bytes + skip, size - skip };
    }
    ssize_t w = writev(fd, iov, n);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        w = 0;
    if (w < 0) {
        conn_close(fd);
        return -1;
    }
    for (size_t left = (size_t)w; left > 0;) { /* retire the responses written whole */
        size_t rest = owed_response(c, 0, &bytes) - c->sent;
        if (left < rest) {
            c->sent += left;
            break;
        }
        left -= rest;
        c->sent = 0;
        c->owed--;
    }
    if (c->owed == 0 && c->close_after) {
        conn_close(fd);
        return -1;
    }
    return 0;
}

/* Reads once from a connection, counts the requests it completes, and answers them in one write. */
static void conn_read(int fd, char *buf)
{
    struct conn *c = &conns[fd];
    size_t have = c->held_len;
    if (have)
        memcpy(buf, c->held, have);
    ssize_t r = read(fd, buf + have, READ_SIZE);
    if (r <= 0) {
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            conn_close(fd);
        return;
    }
    have += (size_t)r;
    size_t start = 0;
    for (size_t i = 3; i < have && !c->close_after; i++) {
        if (buf[i] != '\n' || memcmp(buf + i - 3, "\r\n\r\n", 4) != 0)
            continue;
        c->owed++;
        c->close_after = asks_close(buf + start, i + 1 - start);
        start = i + 1;
    }
    size_t rest = c->close_after ? 0 : have - start;
    if (rest > HEAD_MAX) {
        conn_close(fd);
        return;
    }
    if (rest == 0) {
        free(c->held);
        c->held = NULL;
    } else {
        char *held = realloc(c->held, rest);
        if (held == NULL)
            die("realloc");
        memcpy(held, buf + start, rest);
        c->held = held;
    }
    c->held_len = rest;
    if (c->owed > 0 && conn_write(fd) == 0 && c->owed > 0)
        watch(fd, EPOLL_CTL_MOD, 1); /* no more reading until the rest is written */
}

/* Parses the port, builds the response, and runs the epoll loop until a signal stops the process. */
int main(int argc, char **argv)
{
    if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: ceiling PORT (see tests/ceiling.c)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    rlim_t limit = raise_descriptor_limit();
    static char buf[HEAD_MAX + READ_SIZE];
    memcpy(keep_alive, head, sizeof head - 1);
    memcpy(keep_alive + sizeof head - 1, "\r\n", 2);
    memset(keep_alive + sizeof head + 1, 'x', BODY_SIZE);
    memcpy(last, head, sizeof head - 1);
    memcpy(last + sizeof head - 1, closing, sizeof closing - 1);
    memcpy(last + sizeof head - 1 + sizeof closing - 1, "\r\n", 2);
    memset(last + sizeof head + sizeof closing, 'x', BODY_SIZE);
    conns = calloc((size_t)limit, sizeof *conns);
    if (conns == NULL)
        die("calloc");
    int listen_fd = listen_on((unsigned short)atoi(argv[1]));
    if ((epoll_fd = epoll_create1(0)) < 0)
        die("epoll_create1");
    watch(listen_fd, EPOLL_CTL_ADD, 0);
    printf("ceiling: serving 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        struct epoll_event events[BATCH];
        int n = epoll_wait(epoll_fd, events, BATCH, -1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listen_fd) {
                accept_all(listen_fd);
            } else if (conns[fd].owed == 0) {
                conn_read(fd, buf);
            } else if (conn_write(fd) == 0 && conns[fd].owed == 0) {
                watch(fd, EPOLL_CTL_MOD, 0); /* all written: read again */
            }
        }
    }
}
