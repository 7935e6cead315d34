/*
 * loadgen.c: a bounded HTTP load generator for `make stress` and `make bench` (a test tool, not part of the server).
 *
 *   loadgen soak PORT CONNS TOTAL   a mix of GET, HEAD, 404, malformed, pipelined bursts and aborted
 *                                   downloads on CONNS connections until TOTAL responses; prints
 *                                   "progress N" every 50,000 responses, then a summary line
 *   loadgen ka PORT CONNS SECONDS   keep-alive GET /small.bin on CONNS connections for SECONDS
 *   loadgen count PORT CONNS TOTAL  keep-alive GET /small.bin on CONNS connections until TOTAL responses
 *   loadgen half PORT CONNS SECONDS CONNS connections that send half a request head, then wait SECONDS
 *   loadgen idle PORT CONNS SECONDS CONNS keep-alive connections that make one request, then wait SECONDS
 *   loadgen every PORT CONNS SECONDS
 *                                   connects CONNS keep-alive connections first, then each sends GET /small.bin
 *                                   again as soon as its previous answer arrived, for SECONDS; prints
 *                                   "every: conns N answered A unanswered U responses R rps X min_per_conn M
 *                                   2xx S non2xx F errors E" and fails if a connection got no answer, an answer
 *                                   was not 2xx, or the server broke a connection (what wrk's totals hide)
 *   loadgen idleprobe PORT CONNS SECONDS
 *                                   CONNS keep-alive connections that each make one request (200 expected);
 *                                   prints "holding CONNS connections, each after one request", then for SECONDS
 *                                   sends one request every 100 ms on a different idle connection and times its
 *                                   full response; prints "idleprobe: probes N max_ms X median_ms Y p99_ms Z
 *                                   errors E" (a connection left unanswered while setting up counts as an error)
 *   loadgen cycle PORT CONNS REQS   CONNS connections, each making REQS keep-alive requests and then closing;
 *                                   prints "cycle: conns N requests R seconds S rps X 2xx S non2xx F
 *                                   connect_retries C errors E" (for callgrind: vary REQS, subtract the runs)
 *
 * It expects /small.bin (200), /big.bin (at least 1 MiB) and no /missing on 127.0.0.1:PORT.
 * Up to 20,000 connections: it raises its soft descriptor limit to the hard limit, and connects without
 * blocking, at most CONNECT_WINDOW at a time, so a server that accepts slowly (or a full listen backlog,
 * whose dropped SYNs the kernel retries) only makes connecting take longer.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 20000
#define SPARE_DESCRIPTORS 16          /* kept below the descriptor limit for stdio and the like */
#define QUEUE 16
#define ABORT_AFTER (64 * 1024)       /* body bytes an aborted download reads before it hangs up */
#define SOAK_INPUT (1 << 16)          /* soak downloads /big.bin: big reads */
#define SOAK_OUTPUT 2048              /* soak queues pipelined bursts of 8 requests */
#define SMALL_INPUT 2048              /* other modes fetch /small.bin: a head and 1 KiB, read as it streams */
#define SMALL_OUTPUT 256              /* other modes queue one request at a time */
#define CONNECT_WINDOW 512            /* connections connecting at once */
#define SETUP_SECONDS 30.0            /* most time to connect everyone (and make the first requests) */
#define STALL_SECONDS 5.0             /* setting up ends early once nothing progressed for this long */
#define PROBE_INTERVAL 0.1            /* idleprobe: seconds between probes */
#define PROBE_GRACE 2.0               /* idleprobe: how long a probe sent near the end may still take */
#define RUN_LIMIT 600.0               /* count, soak and cycle give up after this many seconds */

enum mode { M_SOAK, M_KA, M_COUNT, M_HALF, M_IDLE, M_EVERY, M_IDLEPROBE, M_CYCLE, MODES };
enum kind { K_GET, K_HEAD, K_BAD, K_ABORT };
enum state { C_WAITING, C_CONNECTING, C_OPEN, C_DONE };  /* not yet opened, connecting, usable, finished */
enum phase { P_SETUP, P_RUN, P_HOLD };                   /* connecting (and first requests), load, holding */

static const char get_small[] = "GET /small.bin HTTP/1.1\r\nHost: l\r\n\r\n";
static const char half_head[] = "GET /small.bin HTTP/1.1\r\nHost: l\r\n";

struct client {
    int fd;
    enum state state;
    char *out;
    size_t out_cap, out_len, out_off;
    char *in;
    size_t in_cap, in_len;
    enum kind expect[QUEUE];
    int first, count;          /* responses still expected, oldest first */
    int in_body;
    long long body_left, body_seen;
    unsigned step;
    long long answers;         /* complete responses on this slot */
    double probe_sent;         /* idleprobe: when the outstanding probe was sent, else 0 */
};

static struct client *clients;
static struct pollfd *watch;   /* this round's poll() entries, for the clients in watched */
static int *watched;           /* watched[k]: the index of the client whose entry is watch[k] */
static int client_count, next_to_open, connecting, finished;
static int watch_busy_only;    /* leave idle connections out of poll(): a blocking poll() costs about a
                                * microsecond per descriptor, which would be the probe's delay, not the server's */
static enum mode mode;
static enum phase phase;
static unsigned short port;
static long long requests_per_conn;  /* cycle: REQS */
static double last_progress;         /* when a connect or response last completed */
static long long responses, by_class[6], aborted, malformed, errors, reconnects, connect_retries;
static long long answered_2xx, answered_other; /* complete responses by status, counted when the body is in */
static double *latencies;            /* idleprobe: seconds per answered probe */
static size_t latency_count, latency_cap;

/* Returns monotonic seconds. */
static double now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
        perror("loadgen: clock_gettime");
        exit(2);
    }
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Tells whether a mode replaces a broken connection (the load modes) instead of counting it out. */
static int mode_reconnects(void)
{
    return mode == M_SOAK || mode == M_KA || mode == M_COUNT;
}

/* Raises the soft descriptor limit to the hard one, so 20,000 connections fit without a ulimit in the caller. */
static rlim_t raise_descriptor_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0) {
        perror("loadgen: getrlimit");
        exit(2);
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
            perror("loadgen: setrlimit"); /* carry on with the old limit; main checks CONNS against it */
        if (getrlimit(RLIMIT_NOFILE, &limit) < 0) {
            perror("loadgen: getrlimit");
            exit(2);
        }
    }
    return limit.rlim_cur;
}

/* Allocates the client table and its buffers: big ones only for soak, which reads /big.bin and pipelines. */
static void clients_allocate(int n)
{
    size_t in_cap = mode == M_SOAK ? SOAK_INPUT : SMALL_INPUT, out_cap = mode == M_SOAK ? SOAK_OUTPUT : SMALL_OUTPUT;
    clients = calloc((size_t)n, sizeof *clients);
    watch = calloc((size_t)n, sizeof *watch);
    watched = calloc((size_t)n, sizeof *watched);
    if (clients == NULL || watch == NULL || watched == NULL) {
        fprintf(stderr, "loadgen: out of memory for %d clients\n", n);
        exit(2);
    }
    for (int i = 0; i < n; i++) {
        struct client *c = &clients[i];
        c->in = malloc(in_cap + out_cap);
        if (c->in == NULL) {
            fprintf(stderr, "loadgen: out of memory for %d clients\n", n);
            exit(2);
        }
        c->out = c->in + in_cap;
        c->in_cap = in_cap;
        c->out_cap = out_cap;
        c->fd = -1;
        c->state = C_WAITING;
    }
    client_count = n;
}

/* Closes a client's socket for good: it takes no further part (a slot of every, cycle or the hold modes). */
static void client_retire(struct client *c)
{
    if (c->state == C_DONE)
        return;
    if (c->state == C_CONNECTING)
        connecting--;
    if (c->fd >= 0 && close(c->fd) < 0)
        perror("loadgen: close");
    c->fd = -1;
    c->state = C_DONE;
    finished++;
}

static void client_on_open(struct client *c);

/* Starts a non-blocking connect; returns 0, or -1 with errno when the socket could not even be started. */
static int client_connect(struct client *c)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    int one = 1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->out_len = c->out_off = c->in_len = 0;
    c->first = c->count = c->in_body = 0;
    c->probe_sent = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        int saved = errno;
        close(c->fd);
        c->fd = -1;
        errno = saved;
        return -1;
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        c->state = C_OPEN;
        last_progress = now();
        client_on_open(c);
        return 0;
    }
    if (errno != EINPROGRESS) {
        int saved = errno;
        close(c->fd);
        c->fd = -1;
        errno = saved;
        return -1;
    }
    c->state = C_CONNECTING;
    connecting++;
    return 0;
}

/* Deals with a connect that failed: fatal in the load modes (as a blocking connect was), else counted. */
static void client_connect_failed(struct client *c, int error)
{
    if (mode_reconnects()) {
        fprintf(stderr, "loadgen: connect: %s\n", strerror(error));
        exit(2);
    }
    if (mode == M_CYCLE && error == ETIMEDOUT) { /* the server's backlog stayed full: try again */
        if (c->state == C_CONNECTING)
            connecting--;
        if (c->fd >= 0 && close(c->fd) < 0)
            perror("loadgen: close");
        c->fd = -1;
        c->state = C_WAITING;
        connect_retries++;
        if (client_connect(c) < 0)
            client_connect_failed(c, errno);
        return;
    }
    fprintf(stderr, "loadgen: connect: %s\n", strerror(error));
    errors++;
    client_retire(c);
}

/* Opens waiting clients while fewer than CONNECT_WINDOW are connecting. */
static void clients_open_more(void)
{
    while (next_to_open < client_count && connecting < CONNECT_WINDOW) {
        struct client *c = &clients[next_to_open++];
        if (client_connect(c) < 0)
            client_connect_failed(c, errno);
    }
}

/* Drops a connection, with a reset when rst is set, and opens a new one (the load modes). */
static void client_reconnect(struct client *c, int rst)
{
    if (rst) {
        struct linger hard = { 1, 0 };
        if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard) < 0)
            perror("loadgen: setsockopt SO_LINGER"); /* then it closes without a reset */
    }
    if (c->state == C_CONNECTING)
        connecting--;
    if (close(c->fd) < 0)
        perror("loadgen: close");
    c->fd = -1;
    reconnects++;
    if (client_connect(c) < 0)
        client_connect_failed(c, errno);
}

/* Counts a connection the server broke (closed, reset, or answered nonsense); replaces it or retires it. */
static void client_broken(struct client *c)
{
    errors++;
    if (mode_reconnects())
        client_reconnect(c, 0);
    else
        client_retire(c);
}

/* Sends what the output buffer holds, as far as the socket takes it; a failed send breaks the connection. */
static void client_flush(struct client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                client_broken(c);
            return;
        }
    }
}

/* Appends bytes to the output buffer (emptied first when all of it went out). */
static void client_append(struct client *c, const char *bytes, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        fprintf(stderr, "loadgen: output buffer too small\n");
        exit(2);
    }
    memcpy(c->out + c->out_len, bytes, n);
    c->out_len += n;
}

/* Appends one request to the output and remembers what kind of answer it expects. */
static void client_queue(struct client *c, enum kind k, const char *request)
{
    client_append(c, request, strlen(request));
    c->expect[(c->first + c->count++) % QUEUE] = k;
}

/* Queues the next step of the soak mix: mostly GETs, with the other kinds in a fixed rotation. */
static void client_next(struct client *c, int soak)
{
    unsigned s = c->step++ % 20, cycle = c->step / 20;
    if (!soak || s < 10 || s > 14) {
        client_queue(c, K_GET, get_small);
    } else if (s == 10) {
        client_queue(c, K_HEAD, "HEAD /small.bin HTTP/1.1\r\nHost: l\r\n\r\n");
    } else if (s == 11) {
        client_queue(c, K_GET, "GET /missing HTTP/1.1\r\nHost: l\r\n\r\n");
    } else if (s == 12) {
        for (int i = 0; i < 8; i++)
            client_queue(c, i == 3 ? K_HEAD : K_GET, i == 3 ? "HEAD /small.bin HTTP/1.1\r\nHost: l\r\n\r\n" : get_small);
    } else if (s == 13 && cycle % 5 == 0) {
        client_queue(c, K_BAD, "GET /small.bin HTTP/1.1\r\nHost : l\r\n\r\n");
    } else if (s == 14 && cycle % 7 == 0) {
        client_queue(c, K_ABORT, "GET /big.bin HTTP/1.1\r\nHost: l\r\n\r\n");
    } else {
        client_queue(c, K_GET, get_small);
    }
}

/* Does what a mode does once a connection is established: the hold modes send their (half) request. */
static void client_on_open(struct client *c)
{
    if (mode == M_HALF) {
        client_append(c, half_head, sizeof half_head - 1);
        client_flush(c);
    } else if (mode == M_IDLE || mode == M_IDLEPROBE) {
        client_queue(c, K_GET, get_small);
        client_flush(c);
    }
}

/* Gives a connection with nothing outstanding its next request, when its mode wants one now. */
static void client_on_idle(struct client *c)
{
    if (c->state != C_OPEN || c->count != 0 || c->out_off < c->out_len)
        return;
    if (mode_reconnects() || (mode == M_EVERY && phase == P_RUN)) {
        client_next(c, mode == M_SOAK);
        client_flush(c);
    } else if (mode == M_CYCLE) {
        if (c->answers < requests_per_conn) {
            client_queue(c, K_GET, get_small);
            client_flush(c);
        } else {
            client_retire(c);
        }
    }
}

/* Records one complete response on a connection (and the probe's time in idleprobe). */
static void client_on_response(struct client *c, int status)
{
    responses++;
    c->answers++;
    if (status / 100 == 2)
        answered_2xx++;
    else
        answered_other++;
    last_progress = now();
    if (c->probe_sent > 0) {
        if (latency_count == latency_cap) {
            latency_cap = latency_cap ? 2 * latency_cap : 256;
            latencies = realloc(latencies, latency_cap * sizeof *latencies);
            if (latencies == NULL) {
                fprintf(stderr, "loadgen: out of memory\n");
                exit(2);
            }
        }
        latencies[latency_count++] = last_progress - c->probe_sent;
        c->probe_sent = 0;
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

/* Consumes complete responses from the input; returns -1 when the connection was replaced or retired. */
static int client_parse(struct client *c)
{
    for (;;) {
        if (c->count == 0)
            return c->in_len == 0 ? 0 : (client_broken(c), -1);
        enum kind k = c->expect[c->first];
        if (!c->in_body) {
            size_t head = head_length(c->in, c->in_len);
            if (head == 0) {
                if (c->in_len == c->in_cap) { /* a head larger than the whole buffer */
                    client_broken(c);
                    return -1;
                }
                return 0;
            }
            int status = c->in_len > 12 && memcmp(c->in, "HTTP/1.1 ", 9) == 0 ? atoi(c->in + 9) : 0;
            long long length = content_length(c->in, head);
            if (status < 100 || status > 599 || (k != K_HEAD && status != 304 && length < 0)) {
                client_broken(c);
                return -1;
            }
            by_class[status / 100]++;
            c->body_left = k == K_HEAD || status == 304 ? 0 : length;
            c->body_seen = 0;
            c->in_body = status; /* non-zero: the head is in, the body follows */
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
        client_on_response(c, c->in_body);
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

/* Reads what arrived on a connection and parses it; end of stream or an error means the server broke it. */
static void client_receive(struct client *c)
{
    ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r > 0) {
        c->in_len += (size_t)r;
        client_parse(c);
    } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        client_broken(c); /* the server broke a connection the client still expected answers on */
    }
}

/* Finishes a non-blocking connect once the socket says it is done, successfully or not. */
static void client_connect_done(struct client *c)
{
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
        error = errno;
    if (error != 0) {
        client_connect_failed(c, error);
        return;
    }
    connecting--;
    c->state = C_OPEN;
    last_progress = now();
    client_on_open(c);
}

/* Lists what poll() should wait for on each client: connect completion, input, room for output; returns
 * how many entries it made. */
static int clients_set_watch(void)
{
    int k = 0;
    for (int i = 0; i < client_count; i++) {
        const struct client *c = &clients[i];
        int pending = c->out_off < c->out_len;
        short events;
        if (c->state == C_CONNECTING)
            events = POLLOUT;
        else if (c->state == C_OPEN && (!watch_busy_only || pending || c->count > 0))
            events = (short)((mode == M_HALF ? 0 : POLLIN) | (pending ? POLLOUT : 0));
        else
            continue;
        watch[k] = (struct pollfd){ .fd = c->fd, .events = events };
        watched[k++] = i;
    }
    return k;
}

/* One round of the event loop: opens more clients, waits at most wait_seconds, and advances every ready one. */
static void pump(double wait_seconds)
{
    clients_open_more();
    int entries = clients_set_watch();
    int timeout_ms = wait_seconds <= 0 ? 0 : wait_seconds > 1 ? 1000 : (int)(wait_seconds * 1000) + 1;
    int ready = poll(watch, (nfds_t)entries, timeout_ms);
    if (ready < 0) {
        if (errno == EINTR)
            return;
        perror("loadgen: poll");
        exit(2);
    }
    for (int k = 0; k < entries && ready > 0; k++) {
        struct client *c = &clients[watched[k]];
        short revents = watch[k].revents;
        if (revents == 0)
            continue;
        ready--;
        if (c->state == C_CONNECTING) {
            client_connect_done(c);
        } else if (c->state == C_OPEN) {
            if (revents & POLLOUT)
                client_flush(c);
            if (c->state == C_OPEN && (revents & (POLLIN | POLLHUP | POLLERR)))
                client_receive(c);
        }
        client_on_idle(c);
    }
}

/* Counts clients that are open (hold modes: and sent everything) and, with want_answer, got an answer. */
static int clients_set_up(int want_answer)
{
    int n = 0;
    for (int i = 0; i < client_count; i++) {
        const struct client *c = &clients[i];
        n += c->state == C_OPEN && c->out_off == c->out_len && (!want_answer || c->answers > 0);
    }
    return n;
}

/* Counts clients that got at least one answer. */
static int clients_answered(void)
{
    int n = 0;
    for (int i = 0; i < client_count; i++)
        n += clients[i].answers > 0;
    return n;
}

/* Connects every client (and, with want_answer, waits for each one's first answer), bounded by the deadline
 * and by STALL_SECONDS without progress; returns how many got there (a client that failed never does). */
static int clients_setup(int want_answer, double deadline)
{
    int done = 0;
    last_progress = now();
    while ((done = clients_set_up(want_answer)) + finished < client_count) {
        double t = now();
        if (t >= deadline || t - last_progress >= STALL_SECONDS)
            break;
        pump(deadline - t < 0.1 ? deadline - t : 0.1);
    }
    return done;
}

/* The hold modes (half, idle): sets up CONNS connections, says so in one line, then waits until SECONDS pass. */
static int run_hold(double seconds)
{
    int whole = mode == M_IDLE;
    double end = now() + seconds;
    double setup_end = end < now() + SETUP_SECONDS ? end : now() + SETUP_SECONDS;
    int ready = clients_setup(whole, setup_end);
    if (ready == client_count)
        printf("holding %d connections%s\n", client_count,
               whole ? ", each after one request" : ", each half-way through a head");
    else
        printf("holding %d connections, only %d %s\n", client_count, ready, whole ? "answered" : "sent half a head");
    fflush(stdout);
    phase = P_HOLD;
    while (now() < end)
        if (poll(NULL, 0, 100) < 0 && errno != EINTR) {
            perror("loadgen: poll");
            return 2;
        }
    return errors != 0 || ready < client_count;
}

/* Orders two doubles for qsort. */
static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Returns the q-quantile (0..1) of the sorted probe latencies in milliseconds, or 0 without any. */
static double latency_quantile_ms(double q)
{
    if (latency_count == 0)
        return 0;
    size_t i = (size_t)(q * (double)(latency_count - 1) + 0.5);
    return latencies[i < latency_count ? i : latency_count - 1] * 1000;
}

/* Chooses the next idle connection to probe, after the previous one in turn; returns NULL if none is idle. */
static struct client *next_probe_target(void)
{
    static int last = -1;
    for (int tries = 0; tries < client_count; tries++) {
        last = (last + 1) % client_count;
        struct client *c = &clients[last];
        if (c->state == C_OPEN && c->count == 0 && c->out_off == c->out_len && c->answers > 0)
            return c;
    }
    return NULL;
}

/* idleprobe: holds CONNS connections after one request each, then probes one idle connection every 100 ms. */
static int run_idleprobe(double seconds)
{
    int ready = clients_setup(1, now() + SETUP_SECONDS);
    if (ready == client_count)
        printf("holding %d connections, each after one request\n", client_count);
    else
        printf("holding %d connections, only %d answered\n", client_count, ready);
    fflush(stdout);
    for (int i = 0; i < client_count; i++) /* a connection left unanswered (a broken one was counted already) */
        errors += clients[i].state != C_DONE && clients[i].answers == 0;
    long long probes = 0;
    phase = P_RUN;
    watch_busy_only = 1;
    double end = now() + seconds, next_probe = now();
    for (double t = now(); t < end; t = now()) {
        if (t >= next_probe) {
            struct client *c = next_probe_target();
            if (c != NULL) {
                client_queue(c, K_GET, get_small);
                c->probe_sent = now();
                probes++;
                client_flush(c);
            }
            next_probe += PROBE_INTERVAL;
        }
        double until = next_probe < end ? next_probe : end;
        pump(until - now());
    }
    double grace = now() + PROBE_GRACE;
    int outstanding = 1;
    while (outstanding && now() < grace) {
        outstanding = 0;
        for (int i = 0; i < client_count; i++)
            outstanding += clients[i].state == C_OPEN && clients[i].probe_sent > 0;
        if (outstanding)
            pump(grace - now());
    }
    for (int i = 0; i < client_count; i++)
        errors += clients[i].state == C_OPEN && clients[i].probe_sent > 0; /* a probe that got no answer */
    errors += answered_other; /* an answer (first request or probe) other than 2xx */
    qsort(latencies, latency_count, sizeof *latencies, compare_doubles);
    printf("idleprobe: probes %lld max_ms %.1f median_ms %.1f p99_ms %.1f errors %lld\n", probes,
           latency_quantile_ms(1), latency_quantile_ms(0.5), latency_quantile_ms(0.99), errors);
    return errors != 0;
}

/* every: connects CONNS connections first, then keeps a request outstanding on each for SECONDS. */
static int run_every(double seconds)
{
    clients_setup(0, now() + SETUP_SECONDS);
    phase = P_RUN;
    for (int i = 0; i < client_count; i++)
        client_on_idle(&clients[i]);
    double start = now(), end = start + seconds;
    for (double t = start; t < end; t = now())
        pump(end - t);
    double elapsed = now() - start;
    int answered = clients_answered();
    long long min_per_conn = -1;
    for (int i = 0; i < client_count; i++)
        if (min_per_conn < 0 || clients[i].answers < min_per_conn)
            min_per_conn = clients[i].answers;
    long long non2xx = answered_other;
    printf("every: conns %d answered %d unanswered %d responses %lld rps %.0f min_per_conn %lld 2xx %lld non2xx %lld "
           "errors %lld\n", client_count, answered, client_count - answered, responses, responses / elapsed,
           min_per_conn, answered_2xx, non2xx, errors);
    return answered < client_count || non2xx != 0 || errors != 0;
}

/* cycle: CONNS connections, each making REQS keep-alive requests and then closing; ends when all are done. */
static int run_cycle(void)
{
    double start = now(), deadline = start + RUN_LIMIT;
    phase = P_RUN;
    while (finished < client_count) {
        if (now() > deadline) {
            fprintf(stderr, "loadgen: cycle did not finish within %.0f s (%d of %d connections done)\n", RUN_LIMIT,
                    finished, client_count);
            return 1;
        }
        pump(0.1);
    }
    double elapsed = now() - start;
    long long non2xx = answered_other;
    printf("cycle: conns %d requests %lld seconds %.2f rps %.0f 2xx %lld non2xx %lld connect_retries %lld errors %lld\n",
           client_count, responses, elapsed, responses / elapsed, answered_2xx, non2xx, connect_retries, errors);
    return errors != 0 || non2xx != 0 || responses != (long long)client_count * requests_per_conn;
}

/* soak, ka, count: keep-alive load on CONNS connections until TOTAL responses or SECONDS pass. */
static int run_load(const char *name, long long limit)
{
    int soak = mode == M_SOAK, timed = mode == M_KA;
    long long next_progress = 50000;
    phase = P_RUN;
    double start = now(), deadline = timed ? start + (double)limit : start + RUN_LIMIT;
    while (timed ? now() < deadline : responses < limit) {
        if (!timed && now() > deadline) {
            fprintf(stderr, "loadgen: %s did not finish within %.0f s\n", name, RUN_LIMIT);
            return 1;
        }
        for (int i = 0; i < client_count; i++)
            client_on_idle(&clients[i]);
        pump(timed ? deadline - now() : 1.0);
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

/* Parses the arguments, sizes everything for CONNS, and runs the mode. */
int main(int argc, char **argv)
{
    static const char *const names[MODES] = { "soak", "ka", "count", "half", "idle", "every", "idleprobe", "cycle" };
    int chosen = -1;
    for (int i = 0; argc == 5 && i < MODES; i++)
        if (strcmp(argv[1], names[i]) == 0)
            chosen = i;
    if (chosen < 0) {
        fprintf(stderr, "usage: loadgen soak|ka|count|half|idle|every|idleprobe|cycle PORT CONNS LIMIT "
                        "(see tests/loadgen.c)\n");
        return 2;
    }
    mode = (enum mode)chosen;
    int n = atoi(argv[3]);
    long long limit = atoll(argv[4]);
    port = (unsigned short)atoi(argv[2]);
    rlim_t descriptors = raise_descriptor_limit();
    int most = descriptors < MAX_CONNS + SPARE_DESCRIPTORS ? (int)descriptors - SPARE_DESCRIPTORS : MAX_CONNS;
    if (n < 1 || n > most || limit < 1) {
        fprintf(stderr, "loadgen: CONNS must be 1..%d (descriptor limit %llu) and the limit positive\n", most,
                (unsigned long long)descriptors);
        return 2;
    }
    clients_allocate(n);
    phase = P_SETUP;
    last_progress = now();
    switch (mode) {
    case M_HALF:
    case M_IDLE:
        return run_hold((double)limit);
    case M_IDLEPROBE:
        return run_idleprobe((double)limit);
    case M_EVERY:
        return run_every((double)limit);
    case M_CYCLE:
        requests_per_conn = limit;
        return run_cycle();
    default:
        for (int i = 0; i < n; i++) { /* the load modes connect everyone before the clock starts, as before */
            struct client *c = &clients[i];
            next_to_open = i + 1;
            if (client_connect(c) < 0)
                client_connect_failed(c, errno);
        }
        return run_load(argv[1], limit);
    }
}
