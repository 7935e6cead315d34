/*
 * loadgen.c: a bounded HTTP load generator for `make stress` (a test tool, not part of the server).
 *
 *   loadgen soak PORT CONNS TOTAL   a mix of GET, HEAD, 404, malformed, pipelined bursts and aborted
 *                                   downloads on CONNS connections until TOTAL responses; prints
 *                                   "progress N" every 50,000 responses, then a summary line
 *   loadgen ka PORT CONNS SECONDS   keep-alive GET /small.bin on CONNS connections for SECONDS
 *   loadgen count PORT CONNS TOTAL  keep-alive GET /small.bin on CONNS connections until TOTAL responses
 *   loadgen half PORT CONNS SECONDS CONNS connections that send half a request head, then wait SECONDS
 *   loadgen idle PORT CONNS SECONDS CONNS keep-alive connections that make one request, then wait SECONDS
 *
 * It expects /small.bin (200), /big.bin (at least 1 MiB) and no /missing on 127.0.0.1:PORT.
 * Exit status 0 when every response was well formed and the server never broke a connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define QUEUE 16
#define ABORT_AFTER (64 * 1024) /* body bytes an aborted download reads before it hangs up */

enum kind { K_GET, K_HEAD, K_BAD, K_ABORT };

struct client {
    int fd;
    char out[2048];
    size_t out_len, out_off;
    char in[1 << 16];
    size_t in_len;
    enum kind expect[QUEUE];
    int first, count;          /* responses still expected, oldest first */
    int in_body;
    long long body_left, body_seen;
    unsigned step;
};

static struct client clients[MAX_CONNS];
static unsigned short port;
static long long responses, by_class[6], aborted, malformed, errors, reconnects;

/* Returns monotonic seconds. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Opens a connection to the server (a blocking connect on loopback), then makes it non-blocking. */
static void client_connect(struct client *c)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    int one = 1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("loadgen: connect");
        exit(2);
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    c->out_len = c->out_off = c->in_len = 0;
    c->first = c->count = c->in_body = 0;
}

/* Drops a connection, with a reset when rst is set, and opens a new one. */
static void client_reconnect(struct client *c, int rst)
{
    if (rst) {
        struct linger hard = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    close(c->fd);
    reconnects++;
    client_connect(c);
}

/* Appends one request to the output and remembers what kind of answer it expects. */
static void client_queue(struct client *c, enum kind k, const char *request)
{
    size_t n = strlen(request);
    memcpy(c->out + c->out_len, request, n);
    c->out_len += n;
    c->expect[(c->first + c->count++) % QUEUE] = k;
}

/* Queues the next step of the soak mix: mostly GETs, with the other kinds in a fixed rotation. */
static void client_next(struct client *c, int soak)
{
    static const char get[] = "GET /small.bin HTTP/1.1\r\nHost: l\r\n\r\n";
    unsigned s = c->step++ % 20, cycle = c->step / 20;
    if (!soak || s < 10 || s > 14) {
        client_queue(c, K_GET, get);
    } else if (s == 10) {
        client_queue(c, K_HEAD, "HEAD /small.bin HTTP/1.1\r\nHost: l\r\n\r\n");
    } else if (s == 11) {
        client_queue(c, K_GET, "GET /missing HTTP/1.1\r\nHost: l\r\n\r\n");
    } else if (s == 12) {
        for (int i = 0; i < 8; i++)
            client_queue(c, i == 3 ? K_HEAD : K_GET, i == 3 ? "HEAD /small.bin HTTP/1.1\r\nHost: l\r\n\r\n" : get);
    } else if (s == 13 && cycle % 5 == 0) {
        client_queue(c, K_BAD, "GET /small.bin HTTP/1.1\r\nHost : l\r\n\r\n");
    } else if (s == 14 && cycle % 7 == 0) {
        client_queue(c, K_ABORT, "GET /big.bin HTTP/1.1\r\nHost: l\r\n\r\n");
    } else {
        client_queue(c, K_GET, get);
    }
}

/* Returns the length of the response head at the start of buf (through its empty line), or 0. */
static size_t head_length(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

/* Reads the Content-Length of a response head, or -1. */
static long long content_length(const char *head, size_t len)
{
    for (size_t i = 0; i + 17 < len; i++)
        if (head[i] == '\n' && strncasecmp(head + i + 1, "content-length:", 15) == 0)
            return strtoll(head + i + 16, NULL, 10);
    return -1;
}

/* Consumes complete responses from the input; returns -1 when the connection was replaced. */
static int client_parse(struct client *c)
{
    for (;;) {
        if (c->count == 0)
            return c->in_len == 0 ? 0 : (errors++, client_reconnect(c, 0), -1);
        enum kind k = c->expect[c->first];
        if (!c->in_body) {
            size_t head = head_length(c->in, c->in_len);
            if (head == 0)
                return 0;
            int status = c->in_len > 12 && memcmp(c->in, "HTTP/1.1 ", 9) == 0 ? atoi(c->in + 9) : 0;
            long long length = content_length(c->in, head);
            if (status < 100 || status > 599 || (k != K_HEAD && status != 304 && length < 0)) {
                errors++;
                client_reconnect(c, 0);
                return -1;
            }
            by_class[status / 100]++;
            c->body_left = k == K_HEAD || status == 304 ? 0 : length;
            c->body_seen = 0;
            c->in_body = 1;
            memmove(c->in, c->in + head, c->in_len - head);
            c->in_len -= head;
        }
        size_t take = c->in_len < (size_t)c->body_left ? c->in_len : (size_t)c->body_left;
        memmove(c->in, c->in + take, c->in_len - take);
        c->in_len -= take;
        c->body_left -= (long long)take;
        c->body_seen += (long long)take;
        if (k == K_ABORT && c->body_seen >= ABORT_AFTER) {
            responses++;
            aborted++;
            client_reconnect(c, aborted % 2);
            return -1;
        }
        if (c->body_left > 0)
            return 0;
        responses++;
        c->in_body = 0;
        c->first = (c->first + 1) % QUEUE;
        c->count--;
        if (k == K_BAD) {
            malformed++;
            client_reconnect(c, 0);
            return -1;
        }
    }
}

/* Holds CONNS connections open for SECONDS: each sends half a request head, or makes one whole request. */
static int hold(int n, double seconds, int whole)
{
    static const char half[] = "GET /small.bin HTTP/1.1\r\nHost: l\r\n";
    for (int i = 0; i < n; i++) {
        struct client *c = &clients[i];
        client_connect(c);
        if (whole)
            client_queue(c, K_GET, "GET /small.bin HTTP/1.1\r\nHost: l\r\n\r\n");
        else if (write(c->fd, half, sizeof half - 1) != (ssize_t)sizeof half - 1)
            errors++;
    }
    double end = now() + seconds;
    while (whole && responses < n && now() < end) {
        for (int i = 0; i < n; i++) {
            struct client *c = &clients[i];
            if (c->out_off < c->out_len) {
                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                c->out_off += w > 0 ? (size_t)w : 0;
            }
            ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
            if (r > 0) {
                c->in_len += (size_t)r;
                client_parse(c);
            }
        }
    }
    printf("holding %d connections%s\n", n, whole ? ", each after one request" : ", each half-way through a head");
    fflush(stdout);
    while (now() < end)
        poll(NULL, 0, 100);
    return errors != 0 || (whole && responses < n);
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "soak", "ka", "count", "half", "idle" };
    int mode = -1;
    for (int i = 0; argc == 5 && i < 5; i++)
        if (strcmp(argv[1], modes[i]) == 0)
            mode = i;
    if (mode < 0) {
        fprintf(stderr, "usage: loadgen soak|ka|count|half|idle PORT CONNS LIMIT (see tests/loadgen.c)\n");
        return 2;
    }
    int soak = mode == 0, timed = mode == 1, n = atoi(argv[3]);
    long long limit = atoll(argv[4]), next_progress = 50000;
    port = (unsigned short)atoi(argv[2]);
    if (n < 1 || n > MAX_CONNS || limit < 1) {
        fprintf(stderr, "loadgen: CONNS must be 1..%d and the limit positive\n", MAX_CONNS);
        return 2;
    }
    if (mode >= 3)
        return hold(n, (double)limit, mode == 4);
    struct pollfd pfd[MAX_CONNS];
    for (int i = 0; i < n; i++)
        client_connect(&clients[i]);
    double start = now(), deadline = timed ? start + (double)limit : start + 600;
    while (timed ? now() < deadline : responses < limit) {
        if (!timed && now() > deadline) {
            fprintf(stderr, "loadgen: %s did not finish within 600 s\n", argv[1]);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct client *c = &clients[i];
            if (c->count == 0 && c->out_off == c->out_len) {
                c->out_len = c->out_off = 0;
                client_next(c, soak);
            }
            pfd[i] = (struct pollfd){ c->fd, POLLIN | (c->out_off < c->out_len ? POLLOUT : 0), 0 };
        }
        if (poll(pfd, (nfds_t)n, 1000) < 0 && errno != EINTR) {
            perror("loadgen: poll");
            return 2;
        }
        for (int i = 0; i < n; i++) {
            struct client *c = &clients[i];
            if (pfd[i].revents & POLLOUT) {
                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                if (w > 0)
                    c->out_off += (size_t)w;
            }
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t r = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
                if (r > 0) {
                    c->in_len += (size_t)r;
                    client_parse(c);
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    errors++; /* the server broke a connection the client still expected answers on */
                    client_reconnect(c, 0);
                }
            }
        }
        if (soak && responses >= next_progress) {
            printf("progress %lld\n", responses);
            fflush(stdout);
            next_progress += 50000;
        }
    }
    double seconds = now() - start;
    printf("responses %lld seconds %.2f rps %.0f 2xx %lld 3xx %lld 4xx %lld 5xx %lld aborted %lld malformed %lld "
           "reconnects %lld errors %lld\n", responses, seconds, responses / seconds, by_class[2], by_class[3],
           by_class[4], by_class[5], aborted, malformed, reconnects, errors);
    return errors != 0 || by_class[5] != 0;
}
