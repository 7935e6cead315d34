/* server.c: serves a directory over HTTP from one select() loop; every system call lives here. */
#if defined(__linux__) && !defined(PORTABLE)
#define _GNU_SOURCE /* accept4 */
#define USE_LINUX_CALLS 1
#include <sys/sendfile.h>
#endif

#include "http.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Descriptors taken before any client: stdin, stdout, stderr, the listening socket and the root. */
#define RESERVED_FDS 5
#define MAX_CONNS (FD_SETSIZE - RESERVED_FDS)
#define ADDR_TEXT_MAX 64 /* a numeric IPv6 address with a scope name */
#define PATH_TEXT_MAX (HTTP_HEAD_MAX + 16) /* a decoded target, with room for "index.html" and ".gz" */
#define PORT_TEXT_MAX 8

/* A connection's life: READ_HEAD -> WRITE_HEAD -> WRITE_BODY -> READ_HEAD (keep-alive) or CLOSING. */
enum conn_state { CONN_FREE, CONN_READ_HEAD, CONN_WRITE_HEAD, CONN_WRITE_BODY, CONN_CLOSING, CONN_STATES };

static const char *const state_names[CONN_STATES] = { "free", "reading", "sending head", "sending file", "closing" };

/* A connection's request bytes and response head, lent from a pool only while a request is in hand. */
struct buffer {
    struct buffer *next;     /* the next free buffer, while in the pool */
    char out[HTTP_RESPONSE_HEAD_MAX];
    char in[HTTP_HEAD_MAX];  /* the parser refuses a head that would not fit, so in[] never overflows */
};

/* A body held in memory (a directory listing, a cached file), shared by every response that sends it. */
struct blob {
    size_t refs, len;
    char data[];
};

/* One client connection; the table is indexed by its socket, so every socket is below FD_SETSIZE. */
struct conn {
    enum conn_state state;
    long long deadline;      /* monotonic ms: past it, the connection times out */
    long long active;        /* monotonic ms when select() last reported it ready */
    int keep_alive;          /* serve another request after this response */
    int from_memory;         /* answered from the cache, no file opened (for the trace) */
    int file;                /* body file, or -1 */
    off_t file_off, file_end;
    struct blob *blob;       /* a body held in memory, or NULL */
    const char *mem;         /* the part of blob->data to send */
    size_t mem_len;
    struct buffer *buf;      /* NULL while idle between requests */
    size_t head_len, out_len; /* out[] holds the head, then a short inline body */
    size_t sent;             /* bytes of out[] and mem sent */
    enum http_status status; /* for the access log */
    long long body_sent;
    long long response_size, response_sent; /* head and body, for the trace */
    struct http_request req;
    size_t in_len;           /* request bytes in in[] */
    char peer[ADDR_TEXT_MAX], peer_port[PORT_TEXT_MAX];
};

/* Output the loop never waits for: text queues here and is written when the descriptor takes it. */
struct output {
    int fd;
    int nonblocking;              /* a pipe or socket, switched to O_NONBLOCK; restored at exit */
    int flags;                    /* its file status flags before that */
    size_t len;
    unsigned long long dropped;   /* lines lost because the reader fell behind */
    char buf[HTTP_OUTPUT_QUEUE];
};

/*
 * A small file kept in memory. It is checked with one stat (and one of FILE.gz) in the first select()
 * round that uses it; requests within one round are simultaneous, so that is as fresh as reading it.
 * File times come from a coarse clock, so only a file unchanged for HTTP_CACHE_SETTLE seconds is kept:
 * any later change then shows in its change time.
 */
struct cached {
    char path[HTTP_CACHE_PATH_MAX];
    unsigned long long round;     /* the round it was last found unchanged in */
    struct stat st, gz;           /* the file when read, and its .gz sibling */
    int has_gz, gz_usable;        /* the sibling exists; and is not older, so a gzip client gets it */
    const char *type;
    char etag[HTTP_ETAG_SIZE], last_modified[HTTP_DATE_SIZE];
    struct blob *blob;            /* NULL: the slot is empty */
};

struct server {
    int listen_fd, root_fd;
    int files_above;               /* the descriptor limit leaves room for body files above FD_SETSIZE */
    long long timeout_ms;
    int max_conns, listings, quiet, verbose;
    int conns, fd_end;             /* open connections; one past the highest socket in use */
    long long now;                 /* monotonic ms, read once per round */
    long long started;             /* monotonic ms at start, for the trace */
    long long full_round;          /* when select() last watched every connection */
    int idle[FD_SETSIZE];          /* this round's idle connections, watched only in a full round */
    long long accept_resume;       /* after EMFILE: no accept() before this time */
    unsigned long long requests, bytes;
    time_t date_second;
    char date[HTTP_DATE_SIZE], log_date[HTTP_LOG_DATE_SIZE];
    struct output log, trace;      /* stdout: the access log; stderr: the -v trace */
    struct http_mime mime;         /* /etc/mime.types, read once at start */
    struct buffer *free_buffers;   /* the pool */
    int spare_buffers;             /* how many it holds */
    long long pool_used;           /* when a buffer last went in or out of it */
    unsigned long long round;      /* select() rounds so far */
    struct cached cache[HTTP_CACHE_FILES];
    char drain[HTTP_HEAD_MAX];     /* where closing connections' unread input is thrown away */
    char *mime_text;
    struct conn conn[FD_SETSIZE];
};

static struct server server;
static volatile sig_atomic_t stop_requested;

/* Records SIGINT or SIGTERM; the loop sees it when pselect() returns. */
static void on_stop_signal(int sig)
{
    stop_requested = sig;
}

/* Returns monotonic milliseconds, for deadlines that wall-clock jumps cannot move. */
static long long clock_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
        fprintf(stderr, "server: clock_gettime: %s\n", strerror(errno));
        exit(1);
    }
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes what the queue holds as far as its descriptor takes it without blocking. */
static void output_flush(struct output *q)
{
    size_t done = 0;
    while (done < q->len) {
        ssize_t n = write(q->fd, q->buf + done, q->len - done);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                done = q->len; /* the reader is gone: nothing to keep */
            break;
        }
    }
    q->len -= done;
    memmove(q->buf, q->buf + done, q->len);
}

/* Gives a buffer over the queue's free space, flushing first when less than need bytes are free. */
static struct http_buf output_space(struct output *q, size_t need)
{
    if (sizeof q->buf - q->len < need)
        output_flush(q);
    return (struct http_buf){ q->buf + q->len, 0, sizeof q->buf - q->len, 0 };
}

/* Keeps a line written into output_space, or counts it as dropped when it did not fit. */
static void output_commit(struct output *q, const struct http_buf *b)
{
    if (b->overflow)
        q->dropped++;
    else
        q->len += b->len;
}

/* Sets up a queue on fd; pipes and sockets become non-blocking so a stalled reader cannot stop the loop. */
static void output_open(struct output *q, int fd)
{
    struct stat st;
    q->fd = fd;
    if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return;
    q->flags = fcntl(fd, F_GETFL);
    q->nonblocking = q->flags >= 0 && fcntl(fd, F_SETFL, q->flags | O_NONBLOCK) == 0;
}

/* Writes what the reader takes of the queue one last time, and restores the descriptor's flags. */
static void output_close(struct output *q)
{
    output_flush(q);
    if (q->nonblocking && fcntl(q->fd, F_SETFL, q->flags) < 0)
        fprintf(stderr, "server: fcntl: %s\n", strerror(errno));
}

/* Queues one line of the teaching trace for stderr when -v is on. */
static void trace(struct server *s, const char *fmt, ...)
{
    va_list ap;
    if (!s->verbose)
        return;
    struct http_buf b = output_space(&s->trace, 512);
    va_start(ap, fmt);
    int n = vsnprintf(b.data, b.cap, fmt, ap);
    va_end(ap);
    b.overflow = n < 0 || (size_t)n >= b.cap;
    b.len = b.overflow ? 0 : (size_t)n;
    http_buf_put(&b, "\n", 1);
    output_commit(&s->trace, &b);
}

/* Reads the clocks once per round and reformats the Date strings only when the second changes. */
static void server_tick(struct server *s)
{
    time_t t = time(NULL);
    s->now = clock_ms();
    if (t != s->date_second) {
        s->date_second = t;
        http_format_date(s->date, t);
        http_format_log_date(s->log_date, t);
    }
}

/* Makes a blob holding a copy of len bytes (data may be NULL: filled by the caller); NULL without memory. */
static struct blob *blob_new(const char *data, size_t len)
{
    struct blob *b = malloc(sizeof *b + len);
    if (b != NULL) {
        b->refs = 1;
        b->len = len;
        if (data != NULL)
            memcpy(b->data, data, len);
    }
    return b;
}

/* Drops one reference to a blob; the last one frees it. */
static void blob_release(struct blob *b)
{
    if (b != NULL && --b->refs == 0)
        free(b);
}

/* Lends c a buffer from the pool, allocating one when the pool is empty; returns 0 without memory. */
static int conn_take_buffer(struct server *s, struct conn *c)
{
    if (c->buf == NULL && (c->buf = s->free_buffers) != NULL) {
        s->free_buffers = c->buf->next;
        s->spare_buffers--;
        s->pool_used = s->now;
    } else if (c->buf == NULL) {
        c->buf = malloc(sizeof *c->buf);
    }
    return c->buf != NULL;
}

/* Returns c's buffer to the pool once it holds nothing needed; past HTTP_SPARE_BUFFERS, frees it. */
static void conn_give_buffer(struct server *s, struct conn *c)
{
    if (c->buf != NULL && s->spare_buffers < HTTP_SPARE_BUFFERS) {
        c->buf->next = s->free_buffers;
        s->free_buffers = c->buf;
        s->spare_buffers++;
        s->pool_used = s->now;
    } else {
        free(c->buf);
    }
    c->buf = NULL;
}

/* Frees the spare buffers once the pool has gone unused for a while, so a burst's memory goes back. */
static void server_trim_pool(struct server *s)
{
    if (s->now - s->pool_used < HTTP_SPARE_IDLE_MS)
        return;
    while (s->free_buffers != NULL) {
        struct buffer *next = s->free_buffers->next;
        free(s->free_buffers);
        s->free_buffers = next;
    }
    s->spare_buffers = 0;
}

/* Releases a connection's body: the open file or the blob. */
static void conn_drop_body(struct conn *c)
{
    if (c->file >= 0)
        close(c->file);
    blob_release(c->blob);
    c->file = -1;
    c->file_off = c->file_end = 0;
    c->blob = NULL;
    c->mem = NULL;
    c->mem_len = 0;
}

/* Queues one Common Log Format line for stdout; the loop writes the queue once per round. */
static void conn_log(struct server *s, struct conn *c)
{
    enum http_status status = c->status;
    s->bytes += (unsigned long long)c->body_sent;
    c->status = 0; /* logged: a later close must not log it again */
    if (s->quiet)
        return;
    struct http_buf b = output_space(&s->log, 4 * c->req.line.len + 128);
    http_buf_printf(&b, "%s - - [%s] \"", c->peer, s->log_date);
    if (c->req.line.len > 0)
        http_buf_log(&b, c->buf->in + c->req.line.off, c->req.line.len);
    else
        http_buf_put(&b, "-", 1);
    http_buf_printf(&b, "\" %d %lld\n", (int)status, c->body_sent);
    output_commit(&s->log, &b);
}

/* Closes a connection and frees its slot, logging a response it cut short. */
static void conn_close(struct server *s, struct conn *c, const char *why)
{
    int fd = (int)(c - s->conn);
    trace(s, "  fd %d: closed (%s)", fd, why);
    if (c->status != 0)
        conn_log(s, c);
    conn_drop_body(c);
    conn_give_buffer(s, c);
    close(fd);
    c->state = CONN_FREE;
    s->conns--;
    while (s->fd_end > 0 && s->conn[s->fd_end - 1].state == CONN_FREE)
        s->fd_end--;
}

/* Starts a fresh request on c, keeping any pipelined bytes that followed the last one. */
static void conn_next_request(struct server *s, struct conn *c, size_t consumed)
{
    c->in_len -= consumed;
    if (c->in_len > 0)
        memmove(c->buf->in, c->buf->in + consumed, c->in_len);
    else
        conn_give_buffer(s, c);
    http_request_init(&c->req);
    c->state = CONN_READ_HEAD;
    c->deadline = s->now + s->timeout_ms;
    c->status = 0;
    c->body_sent = 0;
}

/* Takes a freshly accepted socket into the table. */
static void conn_open(struct server *s, int fd, const struct sockaddr *sa, socklen_t len)
{
    struct conn *c = &s->conn[fd];
#ifndef USE_LINUX_CALLS /* Linux sockets inherit TCP_NODELAY from the listening socket */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        trace(s, "  fd %d: TCP_NODELAY: %s", fd, strerror(errno));
#endif
    if (getnameinfo(sa, len, c->peer, sizeof c->peer, c->peer_port, sizeof c->peer_port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        strcpy(c->peer, "-");
        strcpy(c->peer_port, "-");
    }
    c->file = -1;
    c->blob = NULL;
    c->buf = NULL;
    c->in_len = 0;
    c->keep_alive = 0;
    c->active = s->now;
    conn_next_request(s, c, 0);
    s->conns++;
    if (fd >= s->fd_end)
        s->fd_end = fd + 1;
    trace(s, "  fd %d: accepted from %s:%s", fd, c->peer, c->peer_port);
}

/* Formats r's head into c->out (with the generated page for it when page is set) and starts sending. */
static void conn_start_response(struct server *s, struct conn *c, struct http_response *r, int page)
{
    struct http_buf b = { c->buf->out, 0, sizeof c->buf->out, 0 }; /* fits: Location and type are bounded */
    int head_only = c->req.method == HTTP_METHOD_HEAD;
    r->date = s->date;
    r->close = !c->keep_alive;
    r->keep_alive_echo = c->keep_alive && c->req.minor == 0;
    if (page) {
        c->head_len = http_format_page(&b, r, head_only);
    } else {
        http_format_head(&b, r);
        c->head_len = b.len;
    }
    if (head_only)
        conn_drop_body(c);
    c->status = r->status;
    c->out_len = b.len;
    c->sent = 0;
    c->response_sent = 0;
    c->response_size = (long long)(b.len + c->mem_len) + (c->file_end - c->file_off);
    c->state = CONN_WRITE_HEAD;
    c->deadline = s->now + s->timeout_ms;
}

/* Sends a generated page: an error, or a redirect when location is set. */
static void conn_reply(struct server *s, struct conn *c, enum http_status status, const char *location)
{
    struct http_response r = { .status = status, .location = location };
    conn_start_response(s, c, &r, 1);
}

/* Maps a failed open() or stat() to the status the client sees. */
static enum http_status status_from_errno(int err)
{
    switch (err) {
    case ENOENT: case ENOTDIR: case ENAMETOOLONG: return HTTP_NOT_FOUND;
    case EACCES: case EPERM: case ELOOP: case ENXIO: return HTTP_FORBIDDEN;
    case EMFILE: case ENFILE: case ENOMEM: return HTTP_UNAVAILABLE;
    default: return HTTP_INTERNAL_ERROR;
    }
}

/* One directory entry, gathered before sorting. */
struct entry {
    char name[256];
    int is_dir;
    long long size;
    time_t mtime;
};

/* Orders listing entries by name, bytewise. */
static int entry_compare(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Makes room for need more bytes in a heap-backed buffer; returns 0 when memory runs out. */
static int buf_reserve(struct http_buf *b, size_t need)
{
    char *grown;
    if (b->cap - b->len >= need)
        return 1;
    if ((grown = realloc(b->data, 2 * b->cap + need)) == NULL)
        return 0;
    b->data = grown;
    b->cap = 2 * b->cap + need;
    return 1;
}

/* Builds the sorted HTML listing of an open directory (dir_fd is consumed) as c's body. */
static enum http_status conn_build_listing(struct conn *c, int dir_fd, const char *path)
{
    DIR *dir = fdopendir(dir_fd);
    struct entry *entries = NULL;
    size_t count = 0;
    struct http_buf list = { NULL, 0, 0, 0 }, b = { NULL, 0, 0, 0 };
    struct dirent *d;
    int ok = dir != NULL;
    if (!ok)
        close(dir_fd);
    while (ok && (errno = 0, d = readdir(dir)) != NULL) {
        struct stat st;
        if (d->d_name[0] == '.' || strlen(d->d_name) >= sizeof entries->name ||
            fstatat(dirfd(dir), d->d_name, &st, 0) < 0)
            continue; /* hidden, too long, or gone since readdir */
        if (!(ok = buf_reserve(&list, sizeof *entries)))
            break;
        entries = (struct entry *)(void *)list.data;
        strcpy(entries[count].name, d->d_name);
        entries[count].is_dir = S_ISDIR(st.st_mode);
        entries[count].size = (long long)st.st_size;
        entries[count++].mtime = st.st_mtime;
        list.len += sizeof *entries;
    }
    ok = ok && errno == 0; /* readdir returns NULL for an error too */
    if (dir != NULL)
        closedir(dir);
    if (ok && (ok = buf_reserve(&b, 12 * strlen(path) + 1024))) {
        if (count > 0)
            qsort(entries, count, sizeof *entries, entry_compare);
        http_format_listing_top(&b, path);
        for (size_t i = 0; ok && i < count; i++)
            if ((ok = buf_reserve(&b, HTTP_LISTING_ROW_MAX)))
                http_format_listing_row(&b, entries[i].name, entries[i].is_dir, entries[i].size, entries[i].mtime);
        ok = ok && buf_reserve(&b, 64);
        http_format_listing_end(&b);
    }
    free(list.data);
    c->blob = ok && !b.overflow ? blob_new(b.data, b.len) : NULL;
    free(b.data);
    if (c->blob == NULL)
        return HTTP_INTERNAL_ERROR;
    c->mem = c->blob->data;
    c->mem_len = c->blob->len;
    return HTTP_OK;
}

/* Says whether a file was modified before another one. */
static int older(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec < b->st_mtim.tv_sec ||
           (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec < b->st_mtim.tv_nsec);
}

/* Says whether two stats describe the same, unchanged file. */
static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size && !older(a, b) &&
           !older(b, a) && a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Says whether the request accepts gzip. */
static int conn_takes_gzip(const struct conn *c)
{
    const struct http_span *accept = &c->req.field[HTTP_FIELD_ACCEPT_ENCODING];
    return accept->off && http_accepts_gzip(c->buf->in + accept->off, accept->len);
}

/* Writes the name of a clean path's .gz sibling, relative to the root, into name (PATH_TEXT_MAX bytes). */
static const char *gz_name(char name[PATH_TEXT_MAX], const char *path)
{
    size_t n = strlen(path + 1);
    memcpy(name, path + 1, n);
    memcpy(name + n, ".gz", 4);
    return name;
}

/* Stats path.gz beside a clean path; says whether it is a regular file. */
static int stat_gz(struct server *s, const char *path, struct stat *gz)
{
    char name[PATH_TEXT_MAX];
    return fstatat(s->root_fd, gz_name(name, path), gz, 0) == 0 && S_ISREG(gz->st_mode);
}

/* Returns the cache slot a path belongs in (FNV-1a hash). */
static struct cached *cache_slot(struct server *s, const char *path)
{
    unsigned long h = 2166136261u;
    for (; *path; path++)
        h = (h ^ (unsigned char)*path) * 16777619u;
    return &s->cache[h % HTTP_CACHE_FILES];
}

/* Empties a cache slot; responses still sending its blob keep their reference. */
static void cache_drop(struct cached *e)
{
    blob_release(e->blob);
    e->blob = NULL;
}

/* Returns the cached copy of a path if it is there and unchanged (checked once per round), else NULL. */
static struct cached *cache_find(struct server *s, const char *path)
{
    struct cached *e = cache_slot(s, path);
    struct stat st, gz;
    if (e->blob == NULL || strcmp(e->path, path) != 0)
        return NULL;
    if (e->round != s->round) {
        int has_gz = stat_gz(s, path, &gz);
        if (fstatat(s->root_fd, path + 1, &st, 0) != 0 || !same_file(&st, &e->st) || has_gz != e->has_gz ||
            (has_gz && !same_file(&gz, &e->gz))) {
            cache_drop(e);
            return NULL;
        }
        e->round = s->round;
    }
    return e;
}

/* Reads a small regular file open on fd into the cache; returns its entry, or NULL when it does not fit. */
static struct cached *cache_fill(struct server *s, const char *path, int fd, const struct stat *st,
                                 const struct http_response *r, const struct stat *gz)
{
    struct cached *e = cache_slot(s, path);
    struct stat after;
    size_t have = 0, size = (size_t)st->st_size;
    struct blob *blob;
    if (st->st_size > HTTP_CACHE_FILE_MAX || strlen(path) >= sizeof e->path - 3 ||
        st->st_ctim.tv_sec > s->date_second - HTTP_CACHE_SETTLE || (blob = blob_new(NULL, size)) == NULL)
        return NULL;
    for (ssize_t n = 1; have < size && n != 0;) {
        n = pread(fd, blob->data + have, size - have, (off_t)have);
        if (n < 0 && errno != EINTR)
            break;
        have += n > 0 ? (size_t)n : 0;
    }
    if (have != size || fstat(fd, &after) != 0 || !same_file(&after, st)) { /* it changed while read */
        blob_release(blob);
        return NULL;
    }
    cache_drop(e);
    strcpy(e->path, path);
    e->round = s->round;
    e->st = *st;
    e->has_gz = r->vary_encoding;
    e->gz_usable = e->has_gz && !older(gz, st);
    if (e->has_gz)
        e->gz = *gz;
    e->type = r->content_type;
    strcpy(e->etag, r->etag);
    strcpy(e->last_modified, r->last_modified);
    e->blob = blob;
    return e;
}

/*
 * Answers with one representation of a file, whose content type, ETag, Last-Modified and Vary r already
 * holds: the validators and Range decide the status. The body comes from the open file fd, or blob (fd -1).
 */
static void conn_answer_file(struct server *s, struct conn *c, struct http_response *r, const struct stat *st,
                             int fd, struct blob *blob)
{
    r->full_size = r->content_length = (long long)st->st_size;
    r->range_first = 0;
    r->range_last = r->full_size - 1;
    r->status = http_file_status(&c->req, c->buf->in, r->etag, st->st_mtime, r->full_size, s->date_second,
                                 &r->range_first, &r->range_last);
    if (r->status == HTTP_NOT_MODIFIED || r->status == HTTP_RANGE_NOT_SATISFIABLE) {
        if (fd >= 0)
            close(fd);
        conn_start_response(s, c, r, r->status == HTTP_RANGE_NOT_SATISFIABLE);
        return;
    }
    r->content_length = r->range_last - r->range_first + 1;
    if (blob != NULL) {
        blob->refs++;
        c->blob = blob;
        c->mem = blob->data + r->range_first;
        c->mem_len = (size_t)r->content_length;
    } else {
        c->file = fd;
        if (s->files_above && fd < FD_SETSIZE) { /* leave the numbers select() can watch to sockets */
            int high = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
            if (high >= 0) {
                close(fd);
                c->file = high;
            }
        }
        c->file_off = r->range_first;
        c->file_end = r->range_last + 1;
    }
    conn_start_response(s, c, r, 0);
}

/*
 * Starts the response for the regular file open on fd at path: its .gz sibling instead when the
 * client takes gzip and the sibling is not older. A small plain file is kept in memory on the way.
 */
static void conn_serve_file(struct server *s, struct conn *c, int fd, struct stat *st, char *path)
{
    struct stat gz;
    char etag[HTTP_ETAG_SIZE], last_modified[HTTP_DATE_SIZE];
    struct http_response r = { .content_type = http_mime_type(&s->mime, path), .etag = etag,
                               .last_modified = last_modified };
    r.vary_encoding = stat_gz(s, path, &gz);
    if (r.vary_encoding && !older(&gz, st) && conn_takes_gzip(c)) {
        char name[PATH_TEXT_MAX];
        int gz_fd = openat(s->root_fd, gz_name(name, path), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (gz_fd >= 0 && fstat(gz_fd, &gz) == 0 && S_ISREG(gz.st_mode)) {
            close(fd);
            fd = gz_fd;
            *st = gz;
            r.gzip = 1;
        } else if (gz_fd >= 0) {
            close(gz_fd);
        }
    }
    http_format_etag(etag, (unsigned long long)st->st_ino, (long long)st->st_size,
                     (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st->st_mtim.tv_nsec);
    http_format_date(last_modified, st->st_mtime);
    struct cached *e = r.gzip ? NULL : cache_fill(s, path, fd, st, &r, &gz);
    if (e != NULL) {
        close(fd);
        conn_answer_file(s, c, &r, st, -1, e->blob);
    } else {
        conn_answer_file(s, c, &r, st, fd, NULL);
    }
}

/* Finds what a GET or HEAD names and starts the response; returns a status for conn_reply otherwise. */
static enum http_status conn_route(struct server *s, struct conn *c, char *location, size_t location_cap)
{
    char path[PATH_TEXT_MAX];
    size_t query;
    const char *target = c->buf->in + c->req.target.off;
    struct stat st;
    enum http_status status = http_target_path(target, c->req.target.len, path, HTTP_HEAD_MAX + 2, &query);
    if (status != HTTP_OK)
        return status;
    if (http_path_hidden(path))
        return HTTP_NOT_FOUND;
    size_t path_len = strlen(path);
    if (path[path_len - 1] == '/') /* a directory's index.html may be in memory */
        strcpy(path + path_len, "index.html");
    struct cached *e = cache_find(s, path);
    path[path_len] = '\0';
    if (e != NULL && !(e->gz_usable && conn_takes_gzip(c))) {
        struct http_response r = { .content_type = e->type, .etag = e->etag, .last_modified = e->last_modified,
                                   .vary_encoding = e->has_gz };
        c->from_memory = 1;
        conn_answer_file(s, c, &r, &e->st, -1, e->blob);
        return HTTP_OK;
    }
    int fd = openat(s->root_fd, path[1] ? path + 1 : ".", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return status_from_errno(errno);
    if (fstat(fd, &st) < 0) {
        close(fd);
        return HTTP_INTERNAL_ERROR;
    }
    if (S_ISDIR(st.st_mode) && path[path_len - 1] != '/') {
        struct http_buf b = { location, 0, location_cap - 1, 0 };
        close(fd);
        http_buf_url(&b, path, path_len);
        http_buf_put(&b, "/", 1);
        http_buf_put(&b, target + query, c->req.target.len - query);
        location[b.overflow ? 0 : b.len] = '\0';
        return b.overflow ? HTTP_URI_TOO_LONG : HTTP_MOVED_PERMANENTLY;
    }
    if (S_ISDIR(st.st_mode)) {
        int index = openat(fd, "index.html", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (index >= 0 && fstat(index, &st) == 0 && S_ISREG(st.st_mode)) {
            close(fd);
            fd = index;
            strcpy(path + path_len, "index.html");
        } else {
            if (index >= 0)
                close(index);
            if (!s->listings) {
                close(fd);
                return HTTP_FORBIDDEN;
            }
            if ((status = conn_build_listing(c, fd, path)) != HTTP_OK)
                return status;
            struct http_response r = { .status = HTTP_OK, .content_type = "text/html",
                                       .content_length = (long long)c->mem_len };
            conn_start_response(s, c, &r, 0);
            return HTTP_OK;
        }
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return HTTP_FORBIDDEN;
    }
    conn_serve_file(s, c, fd, &st, path);
    return HTTP_OK;
}

/* Answers the request the parser just finished (or failed) with status. */
static void conn_respond(struct server *s, struct conn *c, enum http_status status)
{
    char location[HTTP_LOCATION_MAX];
    s->requests++;
    c->keep_alive = status == HTTP_OK && c->req.keep_alive && c->req.content_length <= 0;
    c->from_memory = 0;
    if (status == HTTP_OK)
        status = conn_route(s, c, location, sizeof location);
    if (status != HTTP_OK)
        conn_reply(s, c, status, status == HTTP_MOVED_PERMANENTLY ? location : NULL);
    if (s->verbose) {
        char line[256];
        struct http_buf b = { line, 0, sizeof line - 1, 0 };
        http_buf_log(&b, c->buf->in + c->req.line.off, c->req.line.len < 64 ? c->req.line.len : 64);
        line[b.len] = '\0';
        trace(s, "  fd %d: request \"%s\" complete, answering %d%s", (int)(c - s->conn), line, (int)c->status,
              c->from_memory ? " from memory" : "");
    }
}

/*
 * Ends a response: logs it, then waits for the next request, or starts a lingering close. A close
 * always lingers: closing a socket with unread input (bytes the client sent after its request,
 * even much later) makes the kernel send a reset and drop what it has not sent of the response.
 */
static void conn_finish(struct server *s, struct conn *c)
{
    conn_log(s, c);
    conn_drop_body(c);
    if (c->keep_alive) {
        conn_next_request(s, c, c->req.head_len);
        return;
    }
    conn_give_buffer(s, c);
    if (shutdown((int)(c - s->conn), SHUT_WR) < 0) {
        conn_close(s, c, "client gone");
        return;
    }
    c->state = CONN_CLOSING; /* drain what the client still sends, so our last bytes are not reset */
    c->deadline = s->now + (s->timeout_ms < HTTP_LINGER_MS ? s->timeout_ms : HTTP_LINGER_MS);
}

/* Sends up to max body bytes from the file: sendfile() on Linux, pread() and write() elsewhere. */
static ssize_t conn_send_file(struct conn *c, int fd, size_t max)
{
#ifdef USE_LINUX_CALLS
    return sendfile(fd, c->file, &c->file_off, max);
#else
    static char chunk[64 * 1024];
    ssize_t n = pread(c->file, chunk, max < sizeof chunk ? max : sizeof chunk, c->file_off);
    if (n <= 0)
        return n;
    n = write(fd, chunk, (size_t)n);
    if (n > 0)
        c->file_off += n;
    return n;
#endif
}

/*
 * Sends the head and a body held in memory. With more set, Linux holds the bytes back (MSG_MORE) to
 * leave in one segment with what follows: the file's first bytes, or the FIN that shutdown() sends.
 */
static ssize_t send_head(int fd, struct iovec *iov, int count, int more)
{
#ifdef USE_LINUX_CALLS
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)count };
    return sendmsg(fd, &msg, more ? MSG_MORE : 0);
#else
    (void)more;
    return writev(fd, iov, count);
#endif
}

/* Says whether a failed call only has to wait or be retried. */
static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/*
 * Advances one connection as far as it can go without blocking, sending at most HTTP_SLICE_BYTES.
 * It reads only when a read can find bytes: when select() said so, or after a read that filled the
 * space it had; never straight after a response, which the client has not even received yet.
 * This switch is the only place a connection changes state.
 */
static void conn_advance(struct server *s, struct conn *c)
{
    int fd = (int)(c - s->conn);
    size_t budget = HTTP_SLICE_BYTES;
    int readable = c->state == CONN_READ_HEAD || c->state == CONN_CLOSING;
    c->active = s->now;
    for (;;) {
        ssize_t n;
        switch (c->state) {
        case CONN_FREE:
        case CONN_STATES:
            return;
        case CONN_READ_HEAD: {
            enum http_status status = c->in_len ? http_parse(&c->req, c->buf->in, c->in_len) : HTTP_NEED_MORE;
            if (status != HTTP_NEED_MORE) {
                conn_respond(s, c, status);
                break;
            }
            if (!readable)
                return;
            if (!conn_take_buffer(s, c)) {
                conn_close(s, c, "out of memory");
                return;
            }
            size_t room = sizeof c->buf->in - c->in_len;
            n = read(fd, c->buf->in + c->in_len, room);
            if (n > 0) {
                if (c->in_len == 0) /* the head's time limit runs from its first byte */
                    c->deadline = s->now + s->timeout_ms;
                c->in_len += (size_t)n;
                readable = (size_t)n == room;
                trace(s, "  fd %d: read %zd bytes", fd, n);
            } else if (n == 0) {
                conn_close(s, c, c->in_len ? "client closed mid-request" : "client done");
                return;
            } else if (!would_block()) {
                conn_close(s, c, strerror(errno));
                return;
            } else if (errno != EINTR) {
                if (c->in_len == 0)
                    conn_give_buffer(s, c);
                return;
            }
            break;
        }
        case CONN_WRITE_HEAD: {
            size_t total = c->out_len + c->mem_len;
            if (budget == 0)
                return;
            if (c->sent < c->out_len) {
                size_t head_left = c->out_len - c->sent;
                size_t mem_part = budget > head_left ? budget - head_left : 0;
                struct iovec iov[2] = { { c->buf->out + c->sent, head_left },
                                        { (void *)c->mem, mem_part < c->mem_len ? mem_part : c->mem_len } };
                n = send_head(fd, iov, mem_part && c->mem_len ? 2 : 1, c->file_off < c->file_end || !c->keep_alive);
            } else {
                n = write(fd, c->mem + (c->sent - c->out_len), total - c->sent < budget ? total - c->sent : budget);
            }
            if (n < 0 && would_block())
                return;
            if (n < 0) {
                conn_close(s, c, strerror(errno));
                return;
            }
            c->sent += (size_t)n;
            if (c->sent > c->head_len)
                c->body_sent = (long long)(c->sent - c->head_len);
            budget = (size_t)n < budget ? budget - (size_t)n : 0;
            c->deadline = s->now + s->timeout_ms;
            c->response_sent += n;
            trace(s, "  fd %d: wrote %zd bytes, %lld of %lld sent", fd, n, c->response_sent, c->response_size);
            if (c->sent == total && c->file_off < c->file_end)
                c->state = CONN_WRITE_BODY;
            else if (c->sent == total)
                conn_finish(s, c);
            break;
        }
        case CONN_WRITE_BODY:
            if (budget == 0)
                return;
            n = conn_send_file(c, fd, (size_t)(c->file_end - c->file_off) < budget
                                          ? (size_t)(c->file_end - c->file_off) : budget);
            if (n < 0 && would_block())
                return;
            if (n <= 0) {
                conn_close(s, c, n == 0 ? "file shrank" : strerror(errno));
                return;
            }
            budget -= (size_t)n;
            c->body_sent += n;
            c->deadline = s->now + s->timeout_ms;
            c->response_sent += n;
            trace(s, "  fd %d: wrote %zd bytes, %lld of %lld sent", fd, n, c->response_sent, c->response_size);
            if (c->file_off == c->file_end)
                conn_finish(s, c);
            break;
        case CONN_CLOSING:
            if (!readable)
                return;
            n = read(fd, s->drain, sizeof s->drain);
            if (n < 0 && would_block())
                return;
            if (n <= 0) {
                conn_close(s, c, n == 0 ? "client done" : strerror(errno));
                return;
            }
            readable = (size_t)n == sizeof s->drain;
            if ((size_t)n >= budget) /* a client that keeps sending cannot hold the loop */
                return;
            budget -= (size_t)n;
            break;
        }
    }
}

/*
 * Says whether a connection may sit out a busy round: it waits to read, and it has been silent, or
 * in the middle of a request head, for HTTP_IDLE_AFTER_MS (a real client sends its head at once).
 */
static int conn_idle(const struct server *s, const struct conn *c)
{
    long long head_started = c->deadline - s->timeout_ms; /* the head's timer runs from its first byte */
    return (c->state == CONN_READ_HEAD || c->state == CONN_CLOSING) &&
           (s->now - c->active >= HTTP_IDLE_AFTER_MS ||
            (c->state == CONN_READ_HEAD && c->in_len > 0 && s->now - head_started >= HTTP_IDLE_AFTER_MS));
}

/* Deals with a connection past its deadline: 408 for a partial request, otherwise a silent close. */
static void conn_expire(struct server *s, struct conn *c)
{
    if (c->state == CONN_READ_HEAD && c->req.started) {
        trace(s, "  fd %d: request head timed out", (int)(c - s->conn));
        c->keep_alive = 0;
        c->req.line.len = 0;
        c->req.method = HTTP_METHOD_UNKNOWN;
        s->requests++;
        conn_reply(s, c, HTTP_REQUEST_TIMEOUT, NULL);
        conn_advance(s, c);
    } else {
        conn_close(s, c, c->state == CONN_READ_HEAD ? "idle timeout" : "timeout");
    }
}

/* Answers a client that cannot get a slot with a best-effort 503, then closes it. */
static void server_refuse(struct server *s, int fd)
{
    char out[HTTP_RESPONSE_HEAD_MAX];
    struct http_buf b = { out, 0, sizeof out, 0 };
    struct http_response r = { .status = HTTP_UNAVAILABLE, .date = s->date, .close = 1 };
    http_format_page(&b, &r, 0);
    if (send(fd, out, b.len, 0) < 0)
        trace(s, "  fd %d: 503 not sent: %s", fd, strerror(errno));
    trace(s, "  fd %d: refused with 503 (descriptor above FD_SETSIZE)", fd);
    close(fd);
}

/* Accepts every waiting client until accept() would block or the connection cap is reached. */
static void server_accept(struct server *s)
{
    while (s->conns < s->max_conns) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
#ifdef USE_LINUX_CALLS
        int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        int fd = accept(s->listen_fd, (struct sockaddr *)&sa, &len);
        if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)) {
            fprintf(stderr, "server: fcntl: %s\n", strerror(errno));
            close(fd);
            continue;
        }
#endif
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (s->accept_resume == 0)
                    fprintf(stderr, "server: accept: %s; pausing new connections\n", strerror(errno));
                s->accept_resume = s->now + HTTP_ACCEPT_PAUSE_MS;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fprintf(stderr, "server: accept: %s\n", strerror(errno));
            }
            return;
        }
        s->accept_resume = 0;
        if (fd >= FD_SETSIZE)
            server_refuse(s, fd);
        else
            conn_open(s, fd, (struct sockaddr *)&sa, len);
    }
}

/* Queues the round's line of the teaching trace: the ready count and connections per state. */
static void trace_round(struct server *s, int ready, const int *per_state, int left_out)
{
    char line[256];
    struct http_buf b = { line, 0, sizeof line, 0 };
    if (!s->verbose)
        return;
    http_buf_printf(&b, "select #%llu at %.3f s: %d ready; %d open", s->round, (s->now - s->started) / 1000.0, ready,
                    s->conns);
    for (int i = CONN_READ_HEAD, first = 1; i < CONN_STATES; i++)
        if (per_state[i]) {
            http_buf_printf(&b, "%s%d %s", first ? ": " : ", ", per_state[i], state_names[i]);
            first = 0;
        }
    if (left_out)
        http_buf_printf(&b, "; %d idle not watched this round", left_out);
    trace(s, "%.*s", (int)b.len, line);
}

/* Adds an output queue's descriptor to the write set while it holds text its reader has not taken. */
static void output_watch(const struct output *q, fd_set *writable, int *max_fd)
{
    if (q->nonblocking && q->len > 0 && q->fd < FD_SETSIZE) {
        FD_SET(q->fd, writable);
        if (q->fd > *max_fd)
            *max_fd = q->fd;
    }
}

/*
 * The one select() loop: build the sets, wait, accept, advance ready connections, until a stop signal.
 * select() costs time for every descriptor it watches. So while some connections are active, a round
 * leaves out idle ones (conn_idle: a parked keep-alive, a slowloris), and a full round that watches them
 * too comes every HTTP_IDLE_CHECK_MS. With nothing active, every round is full and may wait.
 */
static int server_run(struct server *s, const sigset_t *wait_mask)
{
    while (!stop_requested) {
        fd_set readable, writable;
        int max_fd = -1, per_state[CONN_STATES] = { 0 }, idle = 0;
        long long next = -1;
        FD_ZERO(&readable);
        FD_ZERO(&writable);
        s->now = clock_ms();
        s->round++;
        for (int fd = 0; fd < s->fd_end; fd++) {
            struct conn *c = &s->conn[fd];
            if (c->state != CONN_FREE && c->deadline <= s->now)
                conn_expire(s, c);
            if (c->state == CONN_FREE)
                continue;
            per_state[c->state]++;
            if (next < 0 || c->deadline < next)
                next = c->deadline;
            if (conn_idle(s, c)) {
                s->idle[idle++] = fd;
                continue;
            }
            FD_SET(fd, c->state == CONN_WRITE_HEAD || c->state == CONN_WRITE_BODY ? &writable : &readable);
            max_fd = fd;
        }
        int full = idle == s->conns || s->now - s->full_round >= HTTP_IDLE_CHECK_MS;
        for (int i = 0; full && i < idle; i++) {
            FD_SET(s->idle[i], &readable);
            max_fd = s->idle[i] > max_fd ? s->idle[i] : max_fd;
        }
        if (!full && (next < 0 || s->full_round + HTTP_IDLE_CHECK_MS < next))
            next = s->full_round + HTTP_IDLE_CHECK_MS;
        server_trim_pool(s);
        if (s->spare_buffers > 0 && (next < 0 || s->pool_used + HTTP_SPARE_IDLE_MS < next))
            next = s->pool_used + HTTP_SPARE_IDLE_MS;
        if (s->conns < s->max_conns && s->now >= s->accept_resume) {
            FD_SET(s->listen_fd, &readable);
            if (s->listen_fd > max_fd)
                max_fd = s->listen_fd;
        } else if (s->conns < s->max_conns && (next < 0 || s->accept_resume < next)) {
            next = s->accept_resume;
        }
        output_watch(&s->log, &writable, &max_fd);
        output_watch(&s->trace, &writable, &max_fd);
        long long wait = next < 0 ? 0 : next > s->now ? next - s->now : 0;
        struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000 };
        int ready = pselect(max_fd + 1, &readable, &writable, NULL, next < 0 ? NULL : &ts, wait_mask);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            fprintf(stderr, "server: select: %s\n", strerror(errno));
            return 1;
        }
        if (full)
            s->full_round = s->now;
        server_tick(s);
        trace_round(s, ready, per_state, full ? 0 : idle);
        if (FD_ISSET(s->listen_fd, &readable))
            server_accept(s);
        for (int fd = 0; fd <= max_fd; fd++)
            if ((FD_ISSET(fd, &readable) || FD_ISSET(fd, &writable)) && s->conn[fd].state != CONN_FREE)
                conn_advance(s, &s->conn[fd]);
        output_flush(&s->log);
        output_flush(&s->trace);
    }
    return 0;
}

/* Opens the listening socket on addr:port through getaddrinfo; exits with 2 when it cannot. */
static int listen_on(const char *addr, const char *port, char *shown, size_t shown_len)
{
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list, *ai;
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char host[ADDR_TEXT_MAX], serv[PORT_TEXT_MAX];
    int fd = -1, one = 1, err = getaddrinfo(addr, port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "server: %s: %s\n", addr, gai_strerror(err));
        exit(2);
    }
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
#ifdef USE_LINUX_CALLS /* accepted sockets inherit it */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 &&
#endif
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0) {
        fprintf(stderr, "server: cannot listen on %s port %s: %s\n", addr, port, strerror(err ? err : errno));
        exit(2);
    }
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        fprintf(stderr, "server: listening socket: %s\n", strerror(errno));
        exit(1);
    }
    if ((err = getnameinfo((struct sockaddr *)&sa, len, host, sizeof host, serv, sizeof serv,
                           NI_NUMERICHOST | NI_NUMERICSERV)) != 0) {
        fprintf(stderr, "server: listening socket: %s\n", gai_strerror(err));
        exit(1);
    }
    snprintf(shown, shown_len, sa.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
    return fd;
}

/*
 * Raises the soft descriptor limit as far as the table can use, then caps connections so that each
 * can hold its socket and a file at once; otherwise a full table would leave no descriptor for files.
 */
static void server_fit_descriptors(struct server *s, int cap_given)
{
    struct rlimit rl;
    const rlim_t wanted = 2 * FD_SETSIZE;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "server: getrlimit: %s\n", strerror(errno));
        return;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
        rlim_t old = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < wanted ? rl.rlim_max : wanted;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            fprintf(stderr, "server: setrlimit: %s\n", strerror(errno));
            rl.rlim_cur = old;
        }
    }
    s->files_above = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_SETSIZE;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= wanted)
        return;
    int fit = rl.rlim_cur > 2 + RESERVED_FDS ? (int)(rl.rlim_cur - RESERVED_FDS) / 2 : 1;
    if (fit < s->max_conns && cap_given)
        fprintf(stderr, "server: -c %d lowered to %d: the descriptor limit (%lu) must hold a socket and a file "
                        "for each connection\n", s->max_conns, fit, (unsigned long)rl.rlim_cur);
    if (fit < s->max_conns)
        s->max_conns = fit;
}

/* Reads /etc/mime.types once, so that extensions the built-in table lacks cost nothing per request. */
static void server_load_mime(struct server *s)
{
    const char *file = "/etc/mime.types";
    struct stat st;
    size_t have = 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            fprintf(stderr, "server: %s: %s; using the built-in MIME types\n", file, strerror(errno));
        return;
    }
    if (fstat(fd, &st) == 0 && (s->mime_text = malloc((size_t)st.st_size + 1)) != NULL) {
        ssize_t n = 1;
        while (have < (size_t)st.st_size && (n = read(fd, s->mime_text + have, (size_t)st.st_size - have)) != 0) {
            if (n < 0 && errno != EINTR)
                break;
            have += n > 0 ? (size_t)n : 0;
        }
        s->mime_text[have] = '\0';
        size_t max = have / 2 + 1; /* an extension takes at least two bytes: itself and a separator */
        if (n >= 0 && (s->mime.entry = malloc(max * sizeof *s->mime.entry)) != NULL)
            s->mime.count = http_mime_index(s->mime_text, s->mime.entry, max);
    }
    if (s->mime.entry == NULL)
        fprintf(stderr, "server: %s: %s; using the built-in MIME types\n", file, strerror(errno));
    close(fd);
}

/* Prints the usage text. */
static void usage(FILE *out)
{
    fprintf(out,
            "usage: server [-p PORT] [-b ADDR] [-r ROOT] [-t SECONDS] [-c MAXCONN] [-L] [-q] [-v] [-h]\n"
            "  -p PORT      TCP port; default 8080; 0 picks a free port\n"
            "  -b ADDR      address to bind, IPv4 or IPv6; default 127.0.0.1\n"
            "  -r ROOT      directory to serve; default ./public\n"
            "  -t SECONDS   time limit for a request head, an idle connection or a stalled download;"
            " default %d\n"
            "  -c MAXCONN   most connections open at once; default and ceiling %d\n"
            "  -L           no directory listings\n"
            "  -q           no access log\n"
            "  -v           trace the select() loop on stderr (teaching mode)\n"
            "  -h           this help\n",
            HTTP_TIMEOUT_DEFAULT, MAX_CONNS);
}

/* Parses a decimal option argument in [min, max], or exits with 2. */
static long option_number(int opt, const char *arg, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "server: -%c wants a number from %ld to %ld, not '%s'\n", opt, min, max, arg);
        exit(2);
    }
    return v;
}

/* Reads the options, opens the root and the socket, runs the loop, and shuts down cleanly. */
int main(int argc, char **argv)
{
    struct server *s = &server;
    const char *port = "8080", *addr = "127.0.0.1", *root = "./public";
    char shown[ADDR_TEXT_MAX + PORT_TEXT_MAX + 4];
    int opt, cap_given = 0;
    s->timeout_ms = HTTP_TIMEOUT_DEFAULT * 1000LL;
    s->max_conns = MAX_CONNS;
    s->listings = 1;
    while ((opt = getopt(argc, argv, "p:b:r:t:c:Lqvh")) != -1) {
        switch (opt) {
        case 'p': port = optarg; option_number(opt, optarg, 0, 65535); break;
        case 'b': addr = optarg; break;
        case 'r': root = optarg; break;
        case 't': s->timeout_ms = option_number(opt, optarg, 1, 86400) * 1000LL; break;
        case 'c':
            s->max_conns = (int)option_number(opt, optarg, 1, MAX_CONNS);
            cap_given = 1;
            break;
        case 'L': s->listings = 0; break;
        case 'q': s->quiet = 1; break;
        case 'v': s->verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "server: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0) {
        fprintf(stderr, "server: root %s: %s\n", root, strerror(errno));
        return 2;
    }
    struct sigaction ignore = { .sa_handler = SIG_IGN }, stop = { .sa_handler = on_stop_signal };
    sigset_t stop_set, wait_mask;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    if (sigaction(SIGPIPE, &ignore, NULL) < 0 || sigaction(SIGINT, &stop, NULL) < 0 ||
        sigaction(SIGTERM, &stop, NULL) < 0 || sigprocmask(SIG_BLOCK, &stop_set, &wait_mask) < 0) {
        fprintf(stderr, "server: signals: %s\n", strerror(errno));
        return 1;
    }
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    server_fit_descriptors(s, cap_given);
    server_load_mime(s);
    s->listen_fd = listen_on(addr, port, shown, sizeof shown);
    if (s->listen_fd >= FD_SETSIZE) {
        fprintf(stderr, "server: listening socket %d is above FD_SETSIZE\n", s->listen_fd);
        return 1;
    }
    server_tick(s);
    s->started = s->now;
    output_open(&s->log, STDOUT_FILENO);
    output_open(&s->trace, STDERR_FILENO);
    struct http_buf b = output_space(&s->log, 0);
    http_buf_printf(&b, "Serving %s on http://%s/\n", root, shown);
    output_commit(&s->log, &b);
    output_flush(&s->log);
    int rc = server_run(s, &wait_mask);
    for (int fd = 0; fd < s->fd_end; fd++)
        if (s->conn[fd].state != CONN_FREE)
            conn_close(s, &s->conn[fd], "shutting down");
    for (int i = 0; i < HTTP_CACHE_FILES; i++)
        cache_drop(&s->cache[i]);
    s->pool_used = s->now - HTTP_SPARE_IDLE_MS;
    server_trim_pool(s);
    close(s->listen_fd);
    close(s->root_fd);
    free(s->mime.entry);
    free(s->mime_text);
    b = output_space(&s->log, 256);
    http_buf_printf(&b, "Stopped: %llu requests, %llu body bytes sent", s->requests, s->bytes);
    if (s->log.dropped || s->trace.dropped)
        http_buf_printf(&b, "; a slow reader lost %llu log and %llu trace lines", s->log.dropped, s->trace.dropped);
    http_buf_put(&b, "\n", 1);
    output_commit(&s->log, &b);
    output_close(&s->log);
    output_close(&s->trace);
    return rc;
}
