/* server.c: serves a directory over HTTP from one select() loop; every system call lives here. */
#if defined(__linux__) && !defined(PORTABLE)
#define _GNU_SOURCE       /* accept4 */
#define USE_ACCEPT4 1     /* accept4(): a non-blocking, close-on-exec socket in one call */
#define USE_SENDFILE 1    /* sendfile(): file to socket without a copy through user space */
#define USE_MSG_MORE 1    /* MSG_MORE, and accepted sockets inheriting TCP_NODELAY from the listener */
#define USE_SIZED_SETS 1  /* select() takes descriptor sets larger than FD_SETSIZE */
#define USE_GETIFADDRS 1  /* getifaddrs(): the startup lines list every interface's address */
#define USE_SETGROUPS 1   /* setgroups(): started as root, drop root's supplementary groups too */
#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
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
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
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

/* Tuning: how the loop shares its time, memory and descriptors. The protocol's limits are in http.h. */
#define TIMEOUT_DEFAULT 10            /* seconds for -t */
#define SLICE_BYTES (2048 * 1024)     /* bytes one connection may send in its turn of a round */
#define TURN_REQUESTS 16              /* requests one connection may have answered in its turn */
#define PARK_AFTER_MS 100             /* a connection waiting to read, quiet this long, is parked */
#define FULL_ROUND_MS 30              /* while others are busy, parked connections are watched this often */
#define LINGER_MS 2000                /* how long a closing connection drains unread input */
#define ACCEPT_PAUSE_MS 100           /* accept() pause after EMFILE or ENFILE */
#define OUTPUT_QUEUE (64 * 1024)      /* bytes of log or trace waiting for a slow stdout or stderr */
#define FINAL_FLUSH_MS 1000           /* at exit, how long the log and trace wait for a slow reader */
#define STOPPED_LINE_MAX 256          /* bytes of the Stopped summary line */
#define COPY_BYTES (64 * 1024)        /* a file copied through user space (no sendfile) goes this much a call */
#define SPARE_BUFFERS 16              /* free connection buffers kept for reuse; more are freed */
#define SPARE_IDLE_MS 1000            /* spare buffers unused this long are freed too */
#define CACHE_FILES 64                /* small files and listings kept in memory */
#define CACHE_WAYS 4                  /* slots a path may take: CACHE_FILES / CACHE_WAYS sets of them */
#define CACHE_FILE_MAX (64 * 1024)    /* largest file kept in memory */
#define CACHE_PATH_MAX 256            /* longest path of a file kept in memory */
#define CACHE_SETTLE 2                /* seconds a file must be unchanged before it is kept in memory */
#define LISTING_TTL_MS 1000           /* a kept listing is rebuilt after this, so its sizes and times stay fresh */
#define FILE_SHARE 4                  /* 1/FILE_SHARE of the spare descriptors is kept for open files */
#define TRANSIENT_FDS 2               /* descriptors a request may hold briefly: a directory and its index */
#define FD_PROBE_MAX 65536            /* descriptors inherited at start are looked for below this */
#define CONNS_OPTION_MAX 4000000      /* largest -c accepted; the descriptor limit usually lowers it */
#define SMALL_CAP 64                  /* a default cap below this is worth a note on stderr */
#define BACKLOG 65535                 /* clients waiting to be accepted; the kernel lowers it to its maximum */
#define TABLE_MIN 1024                /* slots in the first connection table; it doubles as descriptors rise */
#define ADDR_TEXT_MAX 64              /* a numeric IPv6 address with a scope name */
#define PATH_TEXT_MAX (HTTP_HEAD_MAX + 16) /* a decoded target, with room for "index.html" and ".gz" */
#define PORT_TEXT_MAX 8
#define MAX_AGE_MAX 31536000          /* largest -m: a year, the most RFC 9111 advises */
#define USERS_FILE_MAX (64 * 1024)    /* largest -a file */
#define DEFAULT_USER "nobody"         /* started as root, the server runs as this user unless -u says */

/*
 * A connection's life. Every state but FREE has a queue of its connections, oldest first, and a time
 * limit counted from when a connection entered the queue, so due deadlines are found at the queues' heads.
 * READING -> SENDING_MEMORY -> SENDING_FILE -> IDLE (keep-alive) -> READING ..., or CLOSING.
 */
enum conn_state {
    CONN_FREE,            /* no connection on this descriptor */
    CONN_IDLE,            /* kept alive between requests, no byte of the next one in hand */
    CONN_READING,         /* a request is due: the connection is new, or part of a head has arrived */
    CONN_SENDING_MEMORY,  /* sending the head, and a body held in memory (page, listing, cached file) */
    CONN_SENDING_FILE,    /* sending a body from an open file */
    CONN_CLOSING,         /* sending side shut down; draining what the client still sends */
    CONN_STATES
};

static const char *const state_names[CONN_STATES] = { "free", "idle", "reading", "sending from memory",
                                                      "sending file", "closing" };

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

/* One client connection, allocated when it opens; the table finds it by its socket. */
struct conn {
    int fd;                  /* its socket */
    enum conn_state state;
    struct conn *prev, *next; /* neighbours in its state's queue; next also links closed ones until freed */
    long long since;         /* monotonic ms it entered the queue; its deadline is since + the state's limit */
    int parked;              /* quiet for PARK_AFTER_MS: watched only in full rounds */
    int pending;             /* listed for a turn next round: a request was left over when its turn ended */
    unsigned long long turn; /* the round of its last turn */
    int keep_alive;          /* serve another request after this response */
    int from_memory;         /* answered from the cache, no file opened (for the trace) */
    int copy_file;           /* sendfile() refused this file: it is copied through user space */
    int file;                /* body file, or -1 */
    off_t file_off, file_end;
    struct blob *blob;       /* a body held in memory, or NULL */
    const char *mem;         /* the part of blob->data to send */
    size_t mem_len;
    struct buffer *buf;      /* NULL while idle between requests */
    size_t reply_head_len;   /* bytes of out[] that are the response head; a short page may follow */
    size_t out_len;          /* bytes of out[] to send */
    size_t sent;             /* bytes of out[] and mem sent */
    enum http_status status; /* for the access log */
    long long body_sent;
    long long response_size, response_sent; /* head and body, for the trace */
    struct http_request req;
    size_t in_len;           /* request bytes in in[] */
    char peer[ADDR_TEXT_MAX], peer_port[PORT_TEXT_MAX];
};

/* A state's connections, oldest first; those before park are parked. */
struct queue {
    struct conn *head, *tail, *park;
    int count;
};

/*
 * A response decided before any byte of it is sent: the fields of its head and where its body comes from.
 * conn_decide fills it; conn_start takes it over and begins sending.
 */
struct reply {
    struct http_response head;
    int page;                /* the body is a generated page naming the status (an error, a redirect) */
    struct blob *blob;       /* a body held in memory (the reply owns one reference), or NULL */
    size_t mem_off, mem_len;
    int file;                /* a body read from this open file (the reply owns it), or -1 */
    off_t file_off, file_end;
    size_t generated;        /* bytes built to decide it (a new listing), counted against the turn */
    int from_memory;
    char etag[HTTP_ETAG_SIZE], last_modified[HTTP_DATE_SIZE], location[HTTP_LOCATION_MAX]; /* last: see conn_decide */
};

#ifdef USE_SIZED_SETS
/* A descriptor set as words of bits, sized to the table; Linux's select() reads as many as nfds asks. */
struct fdset {
    unsigned long *word;
};
#define SET_WORD_BITS ((int)(CHAR_BIT * sizeof(unsigned long)))
#define SET_CAPACITY INT_MAX /* the highest descriptor a set can hold, plus one */
#else
/* A descriptor set as POSIX defines it: only descriptors below FD_SETSIZE may enter. */
struct fdset {
    fd_set bits;
};
#define SET_CAPACITY FD_SETSIZE
#endif

/* Output the loop never waits for: text queues here and is written when the descriptor takes it. */
struct output {
    int fd;
    int nonblocking;              /* a pipe or socket, switched to O_NONBLOCK; restored at exit */
    int flags;                    /* its file status flags before that */
    size_t len;
    unsigned long long dropped;   /* lines lost because the reader fell behind */
    char buf[OUTPUT_QUEUE];
};

/*
 * A small file, or a directory listing, kept in memory. A file is checked with one stat (and one of
 * FILE.gz) in the first select() round that uses it; requests within one round are simultaneous, so that
 * is as fresh as reading it. File times come from a coarse clock, so only a file unchanged for
 * CACHE_SETTLE seconds is kept: any later change then shows in its change time. A listing is checked
 * the same way against its directory, and rebuilt after LISTING_TTL_MS, since its files' sizes and
 * times can change without the directory changing.
 */
struct cached {
    char path[CACHE_PATH_MAX];    /* a listing's path ends with '/' */
    int listing;                  /* a directory listing: no validators, no ranges, no gzip */
    unsigned long long round;     /* the round it was last found unchanged in */
    long long made;               /* monotonic ms it was read or built */
    struct stat st, gz;           /* the file (or directory) when read, and its .gz sibling */
    int has_gz, gz_usable;        /* the sibling exists; and is not older, so a gzip client gets it */
    const char *type;
    char etag[HTTP_ETAG_SIZE], last_modified[HTTP_DATE_SIZE];
    struct blob *blob;            /* NULL: the slot is empty */
    unsigned long long used;      /* when it was last found or put: the set's least recently used goes first */
};

struct server {
    int listen_fd, root_fd;
    int files_above;               /* portable build: body files move above FD_SETSIZE, leaving the low numbers to sockets */
    long long timeout_ms;
    int max_conns, listings, quiet, verbose, spa;
    char extra_fields[HTTP_EXTRA_FIELDS_MAX]; /* the -H lines, on every response */
    char cache_control[32];        /* on every file and listing: no-cache, or -m's max-age */
    struct secret {
        const char *text;          /* "user:password", a line of the -a file */
        size_t len;
    } *user;
    int user_count;                /* users of the -a file; 0: no authentication */
    char *users_text;
    int conns, fd_end;             /* open connections; one past the highest socket in use */
    long long now;                 /* monotonic ms, read once per round */
    long long started;             /* monotonic ms at start, for the trace */
    long long full_round;          /* when select() last watched the parked connections too */
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
    struct cached cache[CACHE_FILES];
    unsigned long long cache_uses; /* the cache's clock: one tick per slot found or filled */
    char drain[HTTP_HEAD_MAX];     /* where closing connections' unread input is thrown away */
    char *mime_text;
    struct queue queue[CONN_STATES];
    int parked;                    /* connections parked, in all queues */
    int table_size;                /* slots in conn[] and in the sets; pending[] holds twice as many */
    struct conn **conn;            /* indexed by socket descriptor; NULL where none is open */
    struct conn *closed;           /* closed this round: freed at its end, when no turn can still hold them */
    struct fdset want_read, want_write, parked_read; /* kept up to date as connections change state */
    struct fdset ready_read, ready_write;            /* this round's copies, which select() overwrites */
#define SETS 5                                       /* the five above, as server_sets lists them */
    int *pending;                  /* connections with a request left over for their next turn */
    int pending_count;
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

#ifdef USE_SIZED_SETS
/* Grows a set from old_size to new_size descriptors, the new ones empty; returns 0 (set unchanged) without memory. */
static int fdset_resize(struct fdset *set, int old_size, int new_size)
{
    size_t old_words = (size_t)old_size / SET_WORD_BITS, words = (size_t)new_size / SET_WORD_BITS;
    unsigned long *grown = realloc(set->word, words * sizeof *grown);
    if (grown == NULL)
        return 0;
    memset(grown + old_words, 0, (words - old_words) * sizeof *grown);
    set->word = grown;
    return 1;
}

/* Puts fd in a set (our own bit arithmetic: glibc's FD_SET aborts past FD_SETSIZE when fortified). */
static void fdset_add(struct fdset *set, int fd)
{
    set->word[fd / SET_WORD_BITS] |= 1UL << (fd % SET_WORD_BITS);
}

/* Takes fd out of a set. */
static void fdset_remove(struct fdset *set, int fd)
{
    set->word[fd / SET_WORD_BITS] &= ~(1UL << (fd % SET_WORD_BITS));
}

/* Says whether fd is in a set. */
static int fdset_has(const struct fdset *set, int fd)
{
    return (set->word[fd / SET_WORD_BITS] >> (fd % SET_WORD_BITS)) & 1;
}

/* Copies the descriptors below end from src to dst, and adds those of extra when it is not NULL. */
static void fdset_copy(struct fdset *dst, const struct fdset *src, const struct fdset *extra, int end)
{
    size_t words = ((size_t)end + SET_WORD_BITS - 1) / SET_WORD_BITS;
    memcpy(dst->word, src->word, words * sizeof *dst->word);
    for (size_t i = 0; extra != NULL && i < words; i++)
        dst->word[i] |= extra->word[i];
}

/* Returns the first descriptor from fd on, below end, that is in a or b; end when there is none. */
static int fdset_next(const struct fdset *a, const struct fdset *b, int fd, int end)
{
    while (fd < end) {
        unsigned long bits = (a->word[fd / SET_WORD_BITS] | b->word[fd / SET_WORD_BITS]) >> (fd % SET_WORD_BITS);
        if (bits == 0) {
            fd = (fd / SET_WORD_BITS + 1) * SET_WORD_BITS; /* the rest of this word is empty */
            continue;
        }
        while (!(bits & 1)) {
            bits >>= 1;
            fd++;
        }
        return fd < end ? fd : end;
    }
    return end;
}

/* The set as select() takes it. */
static fd_set *fdset_arg(struct fdset *set)
{
    return (fd_set *)(void *)set->word;
}

/* Frees a set's words. */
static void fdset_free(struct fdset *set)
{
    free(set->word);
}
#else
/* A POSIX set is a fixed fd_set: it holds any table the portable build allows (FD_SETSIZE at most). */
static int fdset_resize(struct fdset *set, int old_size, int new_size)
{
    if (old_size == 0)
        FD_ZERO(&set->bits);
    return new_size <= FD_SETSIZE;
}

/* Puts fd (below FD_SETSIZE, as the table guarantees) in a set. */
static void fdset_add(struct fdset *set, int fd)
{
    FD_SET(fd, &set->bits);
}

/* Takes fd out of a set. */
static void fdset_remove(struct fdset *set, int fd)
{
    FD_CLR(fd, &set->bits);
}

/* Says whether fd is in a set. */
static int fdset_has(const struct fdset *set, int fd)
{
    return FD_ISSET(fd, &set->bits);
}

/* Copies src to dst, adding the descriptors below end of extra when it is not NULL. */
static void fdset_copy(struct fdset *dst, const struct fdset *src, const struct fdset *extra, int end)
{
    *dst = *src;
    for (int fd = 0; extra != NULL && fd < end; fd++)
        if (FD_ISSET(fd, &extra->bits))
            FD_SET(fd, &dst->bits);
}

/* Returns the first descriptor from fd on, below end, that is in a or b; end when there is none. */
static int fdset_next(const struct fdset *a, const struct fdset *b, int fd, int end)
{
    while (fd < end && !FD_ISSET(fd, &a->bits) && !FD_ISSET(fd, &b->bits))
        fd++;
    return fd;
}

/* The set as select() takes it. */
static fd_set *fdset_arg(struct fdset *set)
{
    return &set->bits;
}

/* A fixed set has nothing to free. */
static void fdset_free(struct fdset *set)
{
    (void)set;
}
#endif

/* Writes what the queue holds as far as its descriptor takes it without blocking. */
static void output_flush(struct output *q)
{
    size_t done = 0;
    if (q->len == 0)
        return;
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

/*
 * Writes the queue until no more than keep bytes are left, waiting for a slow reader until the deadline
 * (monotonic ms) at most: at exit, so that whole lines and the Stopped summary arrive.
 */
static void output_drain(struct output *q, size_t keep, long long deadline)
{
    output_flush(q);
    for (long long left; q->nonblocking && q->len > keep && (left = deadline - clock_ms()) > 0; output_flush(q)) {
        fd_set writable;
        struct timeval tv = { (time_t)(left / 1000), (suseconds_t)(left % 1000 * 1000) };
        FD_ZERO(&writable);
        FD_SET(q->fd, &writable); /* 1 or 2: below FD_SETSIZE */
        if (select(q->fd + 1, NULL, &writable, NULL, &tv) < 0 && errno != EINTR)
            break;
    }
}

/*
 * Restores the descriptor's flags. Two queues on one pipe share its flags: they are closed in the
 * reverse order of opening, so the first one's saved flags, from before the server touched them, are left.
 */
static void output_close(struct output *q)
{
    if (q->nonblocking && fcntl(q->fd, F_SETFL, q->flags) < 0)
        fprintf(stderr, "server: fcntl: %s\n", strerror(errno));
}

/* Says whether a queue waits for its reader: then select() watches its descriptor for writing. */
static int output_waiting(const struct output *q)
{
    return q->nonblocking && q->len > 0;
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

/* Reads the clocks and reformats the Date strings only when the second changes. */
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

/* Returns c's buffer to the pool once it holds nothing needed; past SPARE_BUFFERS, frees it. */
static void conn_give_buffer(struct server *s, struct conn *c)
{
    if (c->buf != NULL && s->spare_buffers < SPARE_BUFFERS) {
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
    if (s->now - s->pool_used < SPARE_IDLE_MS)
        return;
    while (s->free_buffers != NULL) {
        struct buffer *next = s->free_buffers->next;
        free(s->free_buffers);
        s->free_buffers = next;
    }
    s->spare_buffers = 0;
}

/* Lists the loop's descriptor sets, for what is done to each of them alike; returns how many (SETS). */
static int server_sets(struct server *s, struct fdset *sets[SETS])
{
    sets[0] = &s->want_read;
    sets[1] = &s->want_write;
    sets[2] = &s->parked_read;
    sets[3] = &s->ready_read;
    sets[4] = &s->ready_write;
    return SETS;
}

/*
 * Makes the connection table, the descriptor sets and the pending list hold descriptor fd, doubling
 * them as needed: a slot costs a pointer, two ints of pending[] and a few bits, and a connection's
 * memory is allocated when it opens, so memory follows the connections rather than the limit. Returns 0 when fd cannot be watched:
 * no memory, or (portable build) fd at or above FD_SETSIZE. Whatever fails, every array keeps at least
 * table_size slots.
 */
static int server_fit_table(struct server *s, int fd)
{
    int size = s->table_size ? s->table_size : TABLE_MIN, ok = 1;
    while (size <= fd && size <= INT_MAX / 2)
        size *= 2;
    if (fd < s->table_size)
        return 1;
    if (size <= fd || (size_t)size > SIZE_MAX / (2 * sizeof *s->pending)) /* sizes below must not wrap */
        return 0;
    struct conn **conn = realloc(s->conn, (size_t)size * sizeof *conn);
    if (conn != NULL) {
        for (int i = s->table_size; i < size; i++)
            conn[i] = NULL;
        s->conn = conn;
    }
    struct fdset *sets[SETS];
    for (int i = server_sets(s, sets) - 1; i >= 0; i--)
        ok = fdset_resize(sets[i], s->table_size, size) && ok;
    int *pending = realloc(s->pending, 2 * (size_t)size * sizeof *pending); /* this round's list, then the next's */
    if (pending != NULL)
        s->pending = pending;
    if (conn == NULL || pending == NULL || !ok)
        return 0;
    s->table_size = size;
    return 1;
}

/* Says whether connections in a state wait to read (else they wait to write). */
static int state_reads(enum conn_state state)
{
    return state == CONN_IDLE || state == CONN_READING || state == CONN_CLOSING;
}

/* Returns a state's time limit in ms: how long a connection may stay in its queue without progress. */
static long long state_limit(const struct server *s, enum conn_state state)
{
    return state == CONN_CLOSING && s->timeout_ms > LINGER_MS ? LINGER_MS : s->timeout_ms;
}

/* Takes c out of its state's queue and out of the descriptor sets. */
static void queue_unlink(struct server *s, struct conn *c)
{
    struct queue *q = &s->queue[c->state];
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        q->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        q->tail = c->prev;
    if (q->park == c)
        q->park = c->next;
    q->count--;
    if (c->parked) {
        fdset_remove(&s->parked_read, c->fd);
        s->parked--;
        c->parked = 0;
    } else {
        fdset_remove(state_reads(c->state) ? &s->want_read : &s->want_write, c->fd);
    }
}

/* Appends c to its state's queue, stamped now, and watches it for reading or writing as the state needs. */
static void queue_link(struct server *s, struct conn *c)
{
    struct queue *q = &s->queue[c->state];
    c->since = s->now;
    c->prev = q->tail;
    c->next = NULL;
    if (q->tail != NULL)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    if (q->park == NULL)
        q->park = c;
    q->count++;
    fdset_add(state_reads(c->state) ? &s->want_read : &s->want_write, c->fd);
}

/*
 * Moves c to another state: out of the old state's queue, into the tail of the new one's with a fresh
 * deadline, and into the read or write set the new state needs. Every state change goes through here.
 */
static void conn_enter(struct server *s, struct conn *c, enum conn_state state)
{
    if (c->state != CONN_FREE)
        queue_unlink(s, c);
    c->state = state;
    if (state != CONN_FREE)
        queue_link(s, c);
}

/* Restarts c's deadline after progress, moving it to the tail of its queue. */
static void conn_touch(struct server *s, struct conn *c)
{
    if (c->since != s->now) {
        queue_unlink(s, c);
        queue_link(s, c);
    }
}

/* Parks connections waiting to read that have been quiet for PARK_AFTER_MS: busy rounds leave them out. */
static void server_park(struct server *s)
{
    for (int state = CONN_IDLE; state < CONN_STATES; state++) {
        struct queue *q = &s->queue[state];
        if (!state_reads((enum conn_state)state))
            continue;
        for (struct conn *c = q->park; c != NULL && c->since + PARK_AFTER_MS <= s->now; c = q->park) {
            fdset_remove(&s->want_read, c->fd);
            fdset_add(&s->parked_read, c->fd);
            c->parked = 1;
            s->parked++;
            q->park = c->next;
        }
    }
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

/*
 * Closes a connection and empties its slot, logging a response it cut short. Its memory is freed at
 * the end of the round: the turn that closed it may still look at its state, which is CONN_FREE.
 */
static void conn_close(struct server *s, struct conn *c, const char *why)
{
    trace(s, "  fd %d: closed (%s)", c->fd, why);
    if (c->status != 0)
        conn_log(s, c);
    conn_drop_body(c);
    conn_give_buffer(s, c);
    close(c->fd);
    conn_enter(s, c, CONN_FREE);
    s->conn[c->fd] = NULL;
    c->next = s->closed;
    s->closed = c;
    s->conns--;
    while (s->fd_end > 0 && s->conn[s->fd_end - 1] == NULL)
        s->fd_end--;
}

/* Frees the connections closed this round. */
static void server_free_closed(struct server *s)
{
    while (s->closed != NULL) {
        struct conn *next = s->closed->next;
        free(s->closed);
        s->closed = next;
    }
}

/*
 * Closes the longest-idle keep-alive connection to make room, as nginx does when connections run short:
 * only one that has been quiet between requests for PARK_AFTER_MS (so parked), never a new connection,
 * one with a request in hand, or one in reply. A parked connection's next request may have arrived
 * unseen, since busy rounds leave it out: a peek finds it, and the connection goes back to being watched
 * instead (one whose client has gone is closed). Returns 1 when a connection was closed.
 */
static int server_reclaim(struct server *s, const char *why)
{
    struct conn *c;
    while ((c = s->queue[CONN_IDLE].head) != NULL && c->parked && c->in_len == 0) {
        char probe;
        ssize_t n = recv(c->fd, &probe, 1, MSG_PEEK);
        if (n > 0 || (n < 0 && errno == EINTR)) {
            conn_enter(s, c, CONN_IDLE); /* unparked, at the tail: the next round reads its request */
            continue;
        }
        conn_close(s, c, n == 0 ? "client done" : errno == EAGAIN || errno == EWOULDBLOCK ? why : strerror(errno));
        return 1;
    }
    return 0;
}

/*
 * Starts a fresh request on c, keeping any pipelined bytes that followed the last one: READING when some
 * are kept, else waiting, the state to wait in (IDLE between requests, READING for a new connection).
 */
static void conn_next_request(struct server *s, struct conn *c, size_t consumed, enum conn_state waiting)
{
    c->in_len -= consumed;
    if (c->in_len > 0)
        memmove(c->buf->in, c->buf->in + consumed, c->in_len);
    else
        conn_give_buffer(s, c);
    http_request_init(&c->req);
    c->status = 0;
    c->body_sent = 0;
    conn_enter(s, c, c->in_len > 0 ? CONN_READING : waiting);
}

/* Takes a freshly accepted socket into the table; returns 0 without memory. */
static int conn_open(struct server *s, int fd, const struct sockaddr *sa, socklen_t len)
{
    struct conn *c = malloc(sizeof *c);
    if (c == NULL)
        return 0;
    s->conn[fd] = c;
    c->fd = fd;
    c->state = CONN_FREE;
#ifndef USE_MSG_MORE /* Linux sockets inherit TCP_NODELAY from the listening socket */
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
    c->parked = 0;
    c->pending = 0;
    c->turn = 0;
    conn_next_request(s, c, 0, CONN_READING);
    s->conns++;
    if (fd >= s->fd_end)
        s->fd_end = fd + 1;
    trace(s, "  fd %d: accepted from %s:%s", fd, c->peer, c->peer_port);
    return 1;
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

/*
 * Opens name under dir for reading, without side effects: a FIFO or device it names (it is refused
 * after fstat) can neither block the loop nor become the controlling terminal. When the process is out
 * of descriptors, it reclaims an idle keep-alive connection and tries once more, so a file request is
 * refused only when nothing can give way.
 */
static int server_open(struct server *s, int dir, const char *name)
{
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    int fd = openat(dir, name, flags);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && server_reclaim(s, "reclaimed: descriptors ran short"))
        fd = openat(dir, name, flags);
    return fd;
}

/* One directory entry, gathered before sorting. */
struct entry {
    char name[256];
    int is_dir;
    long long size;
    time_t mtime;
};

/* Orders listing entries as people look for them: directories first, then files, each in natural order. */
static int entry_compare(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->is_dir != y->is_dir)
        return x->is_dir ? -1 : 1;
    return http_name_compare(x->name, y->name);
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

/* Builds the sorted HTML listing of an open directory (dir_fd is consumed); NULL when it cannot. */
static struct blob *listing_build(int dir_fd, const char *path)
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
    if (ok && (ok = buf_reserve(&b, HTTP_LISTING_TOP_MAX(strlen(path))))) {
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
    struct blob *blob = ok && !b.overflow ? blob_new(b.data, b.len) : NULL;
    free(b.data);
    return blob;
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

/* Returns a clean path relative to the root, as openat and fstatat take it. */
static const char *relative(const char *path)
{
    return path[1] ? path + 1 : ".";
}

/* Returns the first of the CACHE_WAYS slots a path may be kept in (FNV-1a hash picks the set). */
static struct cached *cache_set(struct server *s, const char *path)
{
    unsigned long h = 2166136261u;
    for (; *path; path++)
        h = (h ^ (unsigned char)*path) * 16777619u;
    return &s->cache[h % (CACHE_FILES / CACHE_WAYS) * CACHE_WAYS];
}

/* Returns the slot that holds path, or NULL. */
static struct cached *cache_lookup(struct server *s, const char *path)
{
    struct cached *set = cache_set(s, path);
    for (int way = 0; way < CACHE_WAYS; way++)
        if (set[way].blob != NULL && strcmp(set[way].path, path) == 0)
            return &set[way];
    return NULL;
}

/* Empties a cache slot; responses still sending its blob keep their reference. */
static void cache_drop(struct cached *e)
{
    blob_release(e->blob);
    e->blob = NULL;
}

/*
 * Returns the kept copy of a file, or of a listing when path ends with '/', if it is there and
 * unchanged (checked once per round), else NULL.
 */
static struct cached *cache_find(struct server *s, const char *path)
{
    struct cached *e = cache_lookup(s, path);
    struct stat st, gz;
    if (e == NULL)
        return NULL;
    if (e->round != s->round) {
        int has_gz = !e->listing && stat_gz(s, path, &gz);
        if (fstatat(s->root_fd, relative(path), &st, 0) != 0 || !same_file(&st, &e->st) || has_gz != e->has_gz ||
            (has_gz && !same_file(&gz, &e->gz))) {
            cache_drop(e);
            return NULL;
        }
        if (e->listing && s->now - e->made >= LISTING_TTL_MS)
            return NULL; /* rebuilt; cache_keep_listing keeps this copy if its bytes did not change */
        e->round = s->round;
    }
    e->used = ++s->cache_uses;
    return e;
}

/*
 * Puts a blob (one more reference) in the cache for path, described by st: in the slot that holds path,
 * else an empty one of its set, else the set's least recently used, so files that are in use stay.
 */
static struct cached *cache_put(struct server *s, const char *path, const struct stat *st, struct blob *blob)
{
    struct cached *e = cache_lookup(s, path), *set = cache_set(s, path);
    if (e == NULL) { /* an empty slot of the set, else its least recently used */
        e = &set[0];
        for (int way = 1; way < CACHE_WAYS; way++)
            if (e->blob != NULL && (set[way].blob == NULL || set[way].used < e->used))
                e = &set[way];
    }
    cache_drop(e);
    e->used = ++s->cache_uses;
    strcpy(e->path, path);
    e->round = s->round;
    e->made = s->now;
    e->st = *st;
    e->listing = path[strlen(path) - 1] == '/';
    e->has_gz = e->gz_usable = 0;
    blob->refs++;
    e->blob = blob;
    return e;
}

/*
 * Keeps a listing just built in the cache, and returns the blob to send (one reference for the caller).
 * When the slot holds this directory's listing with the same bytes, that copy is kept instead, so
 * readers of a big listing share one copy however many times it is rebuilt.
 */
static struct blob *cache_keep_listing(struct server *s, const char *path, const struct stat *dir, struct blob *fresh)
{
    struct cached *e = cache_lookup(s, path);
    struct blob *kept = fresh;
    if (e != NULL && e->blob->len == fresh->len &&
        memcmp(e->blob->data, fresh->data, fresh->len) == 0) {
        kept = e->blob;
        kept->refs++;
        blob_release(fresh);
    }
    cache_put(s, path, dir, kept);
    return kept;
}

/* Reads a small regular file open on fd into the cache; returns its entry, or NULL when it does not fit. */
static struct cached *cache_fill(struct server *s, const char *path, int fd, const struct stat *st,
                                 const struct reply *r, const struct stat *gz)
{
    struct stat after;
    size_t have = 0, size = (size_t)st->st_size;
    struct blob *blob;
    if (st->st_size > CACHE_FILE_MAX || strlen(path) >= CACHE_PATH_MAX ||
        st->st_ctim.tv_sec > s->date_second - CACHE_SETTLE || st->st_mtime > s->date_second ||
        (blob = blob_new(NULL, size)) == NULL) /* a future date: its Last-Modified must follow Date */
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
    struct cached *e = cache_put(s, path, st, blob);
    blob_release(blob);
    e->has_gz = r->head.vary_encoding;
    e->gz_usable = e->has_gz && !older(gz, st);
    if (e->has_gz)
        e->gz = *gz;
    e->type = r->head.content_type;
    strcpy(e->etag, r->etag);
    strcpy(e->last_modified, r->last_modified);
    return e;
}

/* Returns the date a file's Last-Modified gives: its modification time, never later than Date (RFC 9110 8.8.2.1). */
static time_t last_modified(const struct server *s, const struct stat *st)
{
    return st->st_mtime < s->date_second ? st->st_mtime : s->date_second;
}

/* Makes bytes [first, end) of the open file fd r's body; r takes fd over. */
static void reply_file(struct server *s, struct reply *r, int fd, off_t first, off_t end)
{
    if (s->files_above && fd < SET_CAPACITY) { /* leave the numbers select() can watch to sockets */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, SET_CAPACITY);
        if (high >= 0) {
            close(fd);
            fd = high;
        }
    }
    r->file = fd;
    r->file_off = first;
    r->file_end = end;
}

/*
 * Decides the answer about one representation of a file, whose content type, ETag, Last-Modified and
 * Vary r already holds: the validators and Range decide the status. The body comes from the open file
 * fd, or from blob (fd -1); r takes over fd, or a reference to blob, unless the answer has no body.
 */
static void conn_decide_file(struct server *s, struct conn *c, struct reply *r, const struct stat *st, int fd,
                             struct blob *blob)
{
    long long first = 0, last = (long long)st->st_size - 1;
    r->head.full_size = (long long)st->st_size;
    r->head.status = http_file_status(&c->req, c->buf->in, r->head.etag, last_modified(s, st), r->head.full_size,
                                      s->date_second, &first, &last);
    r->page = r->head.status == HTTP_RANGE_NOT_SATISFIABLE || r->head.status == HTTP_PRECONDITION_FAILED;
    if (r->head.status == HTTP_NOT_MODIFIED || r->page) {
        if (fd >= 0)
            close(fd);
        return;
    }
    r->head.range_first = first;
    r->head.range_last = last;
    r->head.content_length = last - first + 1;
    if (blob != NULL) {
        blob->refs++;
        r->blob = blob;
        r->mem_off = (size_t)first;
        r->mem_len = (size_t)r->head.content_length;
        return;
    }
    reply_file(s, r, fd, first, last + 1);
}

/*
 * Decides the answer for the regular file open on fd at path: its .gz sibling instead when the client
 * takes gzip and the sibling is not older. A small plain file is kept in memory on the way.
 */
static void conn_decide_regular(struct server *s, struct conn *c, struct reply *r, int fd, struct stat *st,
                                const char *path)
{
    struct stat gz;
    r->head.content_type = http_mime_type(&s->mime, path);
    r->head.etag = r->etag;
    r->head.last_modified = r->last_modified;
    r->head.vary_encoding = stat_gz(s, path, &gz);
    if (r->head.vary_encoding && !older(&gz, st) && conn_takes_gzip(c)) {
        char name[PATH_TEXT_MAX];
        int gz_fd = server_open(s, s->root_fd, gz_name(name, path));
        if (gz_fd >= 0 && fstat(gz_fd, &gz) == 0 && S_ISREG(gz.st_mode)) {
            close(fd);
            fd = gz_fd;
            *st = gz;
            r->head.gzip = 1;
        } else if (gz_fd >= 0) {
            close(gz_fd);
        }
    }
    http_format_etag(r->etag, (unsigned long long)st->st_ino, (long long)st->st_size,
                     (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st->st_mtim.tv_nsec);
    http_format_date(r->last_modified, last_modified(s, st));
    struct cached *e = r->head.gzip ? NULL : cache_fill(s, path, fd, st, r, &gz);
    if (e != NULL) {
        close(fd);
        conn_decide_file(s, c, r, st, -1, e->blob);
    } else {
        conn_decide_file(s, c, r, st, fd, NULL);
    }
}

/* Makes r a 200 whose body is a listing held in memory; r takes over the caller's reference to blob. */
static void reply_listing(struct reply *r, struct blob *blob)
{
    r->head.status = HTTP_OK;
    r->head.content_type = "text/html";
    r->head.content_length = (long long)blob->len;
    r->blob = blob;
    r->mem_len = blob->len;
}

/* Decides the answer from a kept copy: a listing, or a file (its plain bytes; gzip clients go to disk). */
static void conn_decide_cached(struct server *s, struct conn *c, struct reply *r, struct cached *e)
{
    r->from_memory = 1;
    if (e->listing) {
        e->blob->refs++;
        reply_listing(r, e->blob);
        return;
    }
    r->head.content_type = e->type;
    r->head.etag = e->etag;
    r->head.last_modified = e->last_modified;
    r->head.vary_encoding = e->has_gz;
    conn_decide_file(s, c, r, &e->st, -1, e->blob);
}

/*
 * Decides the answer for a directory open on fd at path (with its trailing slash): its index.html, else
 * its listing, built (and shared with the kept copy when the bytes are unchanged). Returns an error
 * status when neither can be had.
 */
static enum http_status conn_decide_directory(struct server *s, struct conn *c, struct reply *r, int fd,
                                              const struct stat *dir, char *path, size_t path_len)
{
    struct stat st;
    int index = server_open(s, fd, "index.html");
    if (index >= 0 && fstat(index, &st) == 0 && S_ISREG(st.st_mode)) {
        close(fd);
        strcpy(path + path_len, "index.html");
        conn_decide_regular(s, c, r, index, &st, path);
        return HTTP_OK;
    }
    if (index >= 0) {
        close(index); /* not a regular file: the directory is listed */
    } else if (errno != ENOENT) { /* unreadable, or no descriptor: never list what an index hides */
        int err = errno;
        close(fd);
        return status_from_errno(err);
    }
    if (!s->listings) {
        close(fd);
        return HTTP_FORBIDDEN;
    }
    struct blob *blob = listing_build(fd, path);
    if (blob == NULL)
        return HTTP_INTERNAL_ERROR;
    r->generated = blob->len;
    if (path_len < CACHE_PATH_MAX)
        blob = cache_keep_listing(s, path, dir, blob);
    reply_listing(r, blob);
    return HTTP_OK;
}

/*
 * Decides the answer for a clean path (PATH_TEXT_MAX bytes): the file, the directory's index or listing,
 * or a redirect that adds a directory's slash (the target's query after it). Returns an error status when
 * there is none: 404 when nothing has that name.
 */
static enum http_status conn_decide_path(struct server *s, struct conn *c, struct reply *r, char *path,
                                         const char *query, size_t query_len)
{
    struct stat st;
    size_t path_len = strlen(path);
    struct cached *e = NULL;
    if (path[path_len - 1] == '/') { /* a directory's index.html, or its listing, may be in memory */
        strcpy(path + path_len, "index.html");
        e = cache_find(s, path);
        path[path_len] = '\0';
        if (e == NULL && s->listings)
            e = cache_find(s, path);
    } else {
        e = cache_find(s, path);
    }
    if (e != NULL && !(e->gz_usable && conn_takes_gzip(c))) {
        conn_decide_cached(s, c, r, e);
        return HTTP_OK;
    }
    int fd = server_open(s, s->root_fd, relative(path));
    if (fd < 0)
        return status_from_errno(errno);
    if (fstat(fd, &st) < 0) {
        close(fd);
        return HTTP_INTERNAL_ERROR;
    }
    if (S_ISDIR(st.st_mode) && path[path_len - 1] != '/') {
        struct http_buf b = { r->location, 0, sizeof r->location - 1, 0 };
        close(fd);
        http_buf_url(&b, path, path_len);
        http_buf_put(&b, "/", 1);
        http_buf_put(&b, query, query_len);
        r->location[b.overflow ? 0 : b.len] = '\0';
        return b.overflow ? HTTP_URI_TOO_LONG : HTTP_MOVED_PERMANENTLY;
    }
    if (S_ISDIR(st.st_mode))
        return conn_decide_directory(s, c, r, fd, &st, path, path_len);
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return HTTP_FORBIDDEN;
    }
    conn_decide_regular(s, c, r, fd, &st, path);
    return HTTP_OK;
}

/* Lets go of a decided reply's body: the file it holds open, or its reference to a blob. */
static void reply_drop(struct reply *r)
{
    if (r->file >= 0)
        close(r->file);
    blob_release(r->blob);
    r->file = -1;
    r->blob = NULL;
    r->mem_off = r->mem_len = 0;
    r->file_off = r->file_end = 0;
}

/*
 * Finds what a request names and decides its answer; returns an error status when there is none. With
 * -s, a missing name gets the root's index. OPTIONS is decided as a GET would be, and then answered 204
 * (no body) where the GET would be answered at all, so a CORS preflight and the request it announces agree.
 */
static enum http_status conn_decide_target(struct server *s, struct conn *c, struct reply *r)
{
    char path[PATH_TEXT_MAX];
    size_t query;
    const char *target = c->buf->in + c->req.target.off;
    if (c->req.method == HTTP_METHOD_OPTIONS && c->req.target.len == 1 && target[0] == '*')
        return HTTP_NO_CONTENT; /* about the server as a whole */
    enum http_status status = http_target_path(target, c->req.target.len, path, HTTP_HEAD_MAX + 2, &query);
    if (status != HTTP_OK)
        return status;
    if (http_path_hidden(path))
        return HTTP_NOT_FOUND;
    status = conn_decide_path(s, c, r, path, target + query, c->req.target.len - query);
    if (status == HTTP_NOT_FOUND && s->spa) {
        strcpy(path, "/index.html");
        status = conn_decide_path(s, c, r, path, "", 0);
    }
    if (c->req.method == HTTP_METHOD_OPTIONS && (status == HTTP_OK || status == HTTP_MOVED_PERMANENTLY)) {
        reply_drop(r);
        return HTTP_NO_CONTENT;
    }
    return status;
}

/*
 * Makes a 404's body the root's 404.html, when there is one; the status stays 404. It is read from
 * disk each time, so an edit shows at once.
 */
static void conn_decide_not_found(struct server *s, struct reply *r)
{
    struct stat st;
    int fd = server_open(s, s->root_fd, "404.html");
    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    r->page = 0;
    r->head.content_type = "text/html";
    r->head.content_length = (long long)st.st_size;
    reply_file(s, r, fd, 0, st.st_size);
}

/*
 * Says whether the request carries the credentials of a user in the -a file. Every user is compared,
 * each in constant time, so the time taken says nothing about how close a guess came.
 */
static int conn_authorized(const struct server *s, const struct conn *c)
{
    const struct http_span *f = &c->req.field[HTTP_FIELD_AUTHORIZATION];
    char given[HTTP_CREDENTIALS_MAX];
    size_t len = 0;
    int ok = 0;
    if (f->off == 0 || !http_basic_credentials(c->buf->in + f->off, f->len, given, sizeof given, &len))
        return 0;
    for (int i = 0; i < s->user_count; i++)
        ok |= http_secret_equal(given, len, s->user[i].text, s->user[i].len);
    return ok;
}

/* Decides the whole answer to the request just parsed (or failed with status), before any byte is sent. */
static void conn_decide(struct server *s, struct conn *c, enum http_status status, struct reply *r)
{
    memset(r, 0, offsetof(struct reply, etag)); /* the text buffers after it are written before they are read */
    r->file = -1;
    if (status == HTTP_OK && s->user_count > 0 && !conn_authorized(s, c))
        status = HTTP_UNAUTHORIZED;
    if (status == HTTP_OK)
        status = conn_decide_target(s, c, r);
    if (status == HTTP_OK) {
        r->head.cache_control = r->page ? NULL : s->cache_control; /* not on a 416 */
    } else if (status == HTTP_NO_CONTENT) {
        r->head = (struct http_response){ .status = status };
    } else { /* a page about the error, or the redirect */
        r->head = (struct http_response){ .status = status,
                                          .location = status == HTTP_MOVED_PERMANENTLY ? r->location : NULL };
        r->page = 1;
        if (status == HTTP_NOT_FOUND)
            conn_decide_not_found(s, r);
    }
}

/* Takes over a decided reply: formats its head into c's buffer, takes its body, and starts sending. */
static void conn_start(struct server *s, struct conn *c, struct reply *r)
{
    struct http_buf b = { c->buf->out, 0, sizeof c->buf->out, 0 }; /* fits: Location and type are bounded */
    int head_only = c->req.method == HTTP_METHOD_HEAD;
    r->head.date = s->date;
    r->head.extra_fields = s->extra_fields[0] != '\0' ? s->extra_fields : NULL;
    r->head.close = !c->keep_alive;
    r->head.keep_alive_echo = c->keep_alive && c->req.minor == 0;
    if (r->page) {
        c->reply_head_len = http_format_page(&b, &r->head, head_only);
    } else {
        http_format_head(&b, &r->head);
        c->reply_head_len = b.len;
    }
    c->blob = r->blob;
    c->mem = r->blob != NULL ? r->blob->data + r->mem_off : NULL;
    c->mem_len = r->mem_len;
    c->file = r->file;
    c->file_off = r->file_off;
    c->file_end = r->file_end;
    c->from_memory = r->from_memory;
    c->copy_file = 0;
    if (head_only)
        conn_drop_body(c);
    c->status = r->head.status;
    c->out_len = b.len;
    c->sent = 0;
    c->response_sent = 0;
    c->response_size = (long long)(b.len + c->mem_len) + (c->file_end - c->file_off);
    conn_enter(s, c, CONN_SENDING_MEMORY);
}

/* Answers the request the parser just finished (or failed) with status; returns the body bytes it generated. */
static size_t conn_respond(struct server *s, struct conn *c, enum http_status status)
{
    struct reply r;
    s->requests++;
    c->keep_alive = status == HTTP_OK && c->req.keep_alive; /* the parser says no when a body was left unread */
    conn_decide(s, c, status, &r);
    conn_start(s, c, &r);
    if (s->verbose) {
        char line[256];
        struct http_buf b = { line, 0, sizeof line - 1, 0 };
        http_buf_log(&b, c->buf->in + c->req.line.off, c->req.line.len < 64 ? c->req.line.len : 64);
        line[b.len] = '\0';
        if (c->req.line.len == 0) /* no request line came whole: a timeout, or a head that broke off early */
            trace(s, "  fd %d: no whole request line, answering %d", c->fd, (int)c->status);
        else
            trace(s, "  fd %d: request \"%s\" complete, answering %d%s", c->fd, line, (int)c->status,
                  c->from_memory ? " from memory" : "");
    }
    return r.generated + (c->out_len - c->reply_head_len);
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
        conn_next_request(s, c, c->req.end, CONN_IDLE);
        return;
    }
    conn_give_buffer(s, c);
    if (shutdown(c->fd, SHUT_WR) < 0) {
        conn_close(s, c, "client gone");
        return;
    }
    conn_enter(s, c, CONN_CLOSING); /* drain what the client still sends, so our last bytes are not reset */
}

/*
 * Sends up to max body bytes from the file: sendfile() on Linux, pread() and write() elsewhere, and
 * also where a file system refuses sendfile() (EINVAL, ENOSYS), from then on for this file.
 */
static ssize_t conn_send_file(struct conn *c, int fd, size_t max)
{
#ifdef USE_SENDFILE
    if (!c->copy_file) {
        ssize_t sent = sendfile(fd, c->file, &c->file_off, max);
        if (sent >= 0 || (errno != EINVAL && errno != ENOSYS))
            return sent;
        c->copy_file = 1;
    }
#endif
    static char chunk[COPY_BYTES];
    ssize_t n = pread(c->file, chunk, max < sizeof chunk ? max : sizeof chunk, c->file_off);
    if (n <= 0)
        return n;
    n = write(fd, chunk, (size_t)n);
    if (n > 0)
        c->file_off += n;
    return n;
}

/*
 * Sends the head and a body held in memory. With more set, Linux holds the bytes back (MSG_MORE) to
 * leave in one segment with what follows: the file's first bytes, or the FIN that shutdown() sends.
 */
static ssize_t send_head(int fd, struct iovec *iov, int count, int more)
{
#ifdef USE_MSG_MORE
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

/* Leaves a request in c's buffer for the next round: its turn is over, and select() will not report it. */
static void conn_defer(struct server *s, struct conn *c)
{
    if (!c->pending) { /* listed once besides this round's carried turns: pending[] never overflows */
        c->pending = 1;
        s->pending[s->pending_count++] = c->fd;
    }
}

/*
 * Gives one connection its turn: advances it as far as it can go without blocking, answering at most
 * TURN_REQUESTS requests and sending (or generating) at most SLICE_BYTES, so no client holds up the others.
 * It reads only when a read can find bytes: when select() said so (readable), or after a read that
 * filled the space it had; never straight after a response, which the client has not even received yet.
 */
static void conn_advance(struct server *s, struct conn *c, int readable)
{
    int fd = c->fd;
    size_t budget = SLICE_BYTES;
    int answers = TURN_REQUESTS;
    c->turn = s->round;
    for (;;) {
        ssize_t n;
        switch (c->state) {
        case CONN_FREE:
        case CONN_STATES:
            return;
        case CONN_IDLE:
        case CONN_READING: {
            int room_in_turn = answers > 0 && budget > 0;
            enum http_status status = c->in_len && room_in_turn ? http_parse(&c->req, c->buf->in, c->in_len)
                                                                : HTTP_NEED_MORE;
            if (status != HTTP_NEED_MORE) {
                size_t generated = conn_respond(s, c, status);
                budget = generated < budget ? budget - generated : 0;
                answers--;
                break;
            }
            if (c->in_len > 0) /* a body's bytes, once thrown away, leave the buffer */
                c->in_len = http_compact(&c->req, c->buf->in, c->in_len);
            if (c->state == CONN_IDLE && c->in_len > 0) /* a request has begun: its head's time limit runs */
                conn_enter(s, c, CONN_READING);
            if (c->in_len > 0 && !room_in_turn) { /* parse it in the next round's turn */
                conn_defer(s, c);
                return;
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
        case CONN_SENDING_MEMORY: {
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
            if (c->sent > c->reply_head_len)
                c->body_sent = (long long)(c->sent - c->reply_head_len);
            budget = (size_t)n < budget ? budget - (size_t)n : 0;
            c->response_sent += n;
            trace(s, "  fd %d: wrote %zd bytes, %lld of %lld sent", fd, n, c->response_sent, c->response_size);
            if (c->sent == total && c->file_off < c->file_end)
                conn_enter(s, c, CONN_SENDING_FILE);
            else if (c->sent == total)
                conn_finish(s, c);
            else
                conn_touch(s, c);
            break;
        }
        case CONN_SENDING_FILE:
            if (budget == 0)
                return;
            n = conn_send_file(c, fd, c->file_end - c->file_off < (off_t)budget ? (size_t)(c->file_end - c->file_off)
                                                                                : budget);
            if (n < 0 && would_block())
                return;
            if (n <= 0) {
                conn_close(s, c, n == 0 ? "file shrank" : strerror(errno));
                return;
            }
            budget -= (size_t)n;
            c->body_sent += n;
            c->response_sent += n;
            trace(s, "  fd %d: wrote %zd bytes, %lld of %lld sent", fd, n, c->response_sent, c->response_size);
            if (c->file_off == c->file_end)
                conn_finish(s, c);
            else
                conn_touch(s, c);
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

/* Deals with a connection past its deadline: 408 for a partial request, otherwise a silent close. */
static void conn_expire(struct server *s, struct conn *c)
{
    if (c->state == CONN_READING && c->req.started) {
        if (c->req.head_len == 0) { /* the head never came whole: nothing of it is logged as a request */
            trace(s, "  fd %d: request head timed out", c->fd);
            c->req.line.len = 0;
        } else {
            trace(s, "  fd %d: request body timed out", c->fd);
        }
        c->req.method = HTTP_METHOD_UNKNOWN; /* the 408 page is sent, even for a HEAD */
        conn_respond(s, c, HTTP_REQUEST_TIMEOUT);
        conn_advance(s, c, 0);
    } else {
        conn_close(s, c, c->state == CONN_IDLE || c->state == CONN_READING ? "idle timeout" : "timeout");
    }
}

/*
 * Expires every connection past its deadline, and returns the nearest deadline left (monotonic ms), or
 * -1 when no connection is open. Each queue is oldest first, so only its head is looked at; expiring
 * moves a connection only to a later state's queue (a 408 being sent, closing) or closes it.
 */
static long long server_expire(struct server *s)
{
    long long next = -1;
    for (int state = CONN_IDLE; state < CONN_STATES; state++) {
        struct queue *q = &s->queue[state];
        long long limit = state_limit(s, (enum conn_state)state);
        while (q->head != NULL && q->head->since + limit <= s->now)
            conn_expire(s, q->head);
        if (q->head != NULL && (next < 0 || q->head->since + limit < next))
            next = q->head->since + limit;
    }
    return next;
}

/* Answers a client whose socket cannot be watched with a best-effort 503, then closes it. */
static void server_refuse(struct server *s, int fd)
{
    char out[HTTP_RESPONSE_HEAD_MAX];
    struct http_buf b = { out, 0, sizeof out, 0 };
    struct http_response r = { .status = HTTP_UNAVAILABLE, .date = s->date, .close = 1,
                               .extra_fields = s->extra_fields };
    http_format_page(&b, &r, 0);
    if (send(fd, out, b.len, 0) < 0)
        trace(s, "  fd %d: 503 not sent: %s", fd, strerror(errno));
    trace(s, "  fd %d: refused with 503 (descriptor cannot be watched)", fd);
    close(fd);
}

/* Says whether the loop should accept now: below the cap, or at it with an idle connection to reclaim. */
static int server_accepting(const struct server *s)
{
    const struct conn *idle = s->queue[CONN_IDLE].head;
    return s->now >= s->accept_resume && (s->conns < s->max_conns || (idle != NULL && idle->parked));
}

/*
 * Accepts waiting clients until accept() would block. At the cap it reclaims one idle keep-alive
 * connection for the client select() reported, and otherwise leaves the rest in the backlog. A socket
 * that cannot be watched gets the round's one 503, and ends accepting for this round.
 */
static void server_accept(struct server *s)
{
    for (int reported = 1;; reported = 0) {
        if (s->conns >= s->max_conns && !(reported && server_reclaim(s, "reclaimed for a new client")))
            return;
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
#ifdef USE_ACCEPT4
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
                    fprintf(stderr, "server: accept: %s; pausing new connections (raise the limit with ulimit -n)\n",
                            strerror(errno));
                s->accept_resume = s->now + ACCEPT_PAUSE_MS;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fprintf(stderr, "server: accept: %s\n", strerror(errno));
            }
            return;
        }
        s->accept_resume = 0;
        if (!server_fit_table(s, fd) || !conn_open(s, fd, (struct sockaddr *)&sa, len)) {
            server_refuse(s, fd);
            return;
        }
    }
}

/* Queues the round's line of the teaching trace: the ready count and connections per state. */
static void trace_round(struct server *s, int ready, int left_out)
{
    if (!s->verbose)
        return;
    char line[256];
    struct http_buf b = { line, 0, sizeof line, 0 };
    http_buf_printf(&b, "select #%llu at %.3f s: %d ready; %d open", s->round, (s->now - s->started) / 1000.0, ready,
                    s->conns);
    for (int i = CONN_IDLE, first = 1; i < CONN_STATES; i++)
        if (s->queue[i].count) {
            http_buf_printf(&b, "%s%d %s", first ? ": " : ", ", s->queue[i].count, state_names[i]);
            first = 0;
        }
    if (left_out)
        http_buf_printf(&b, "; %d parked, not watched this round", left_out);
    trace(s, "%.*s", (int)b.len, line);
}

/* Returns the earlier of two monotonic times, either of which may be -1 (none). */
static long long earliest(long long a, long long b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

/*
 * Returns how long this round may wait in select(), in ms (-1: until a descriptor is ready), given
 * the nearest connection deadline: also until the next full round, the pool's trim, the moment the
 * longest-idle connection can be reclaimed for a client waiting at the cap, or the end of an accept pause.
 */
static long long server_wait_ms(const struct server *s, long long next, int full, int accepting)
{
    const struct conn *idle = s->queue[CONN_IDLE].head;
    if (!full)
        next = earliest(next, s->full_round + FULL_ROUND_MS);
    if (s->spare_buffers > 0)
        next = earliest(next, s->pool_used + SPARE_IDLE_MS);
    if (s->conns >= s->max_conns && idle != NULL && !idle->parked)
        next = earliest(next, idle->since + PARK_AFTER_MS);
    if (!accepting && s->conns < s->max_conns)
        next = earliest(next, s->accept_resume);
    return next < 0 ? -1 : next > s->now ? next - s->now : 0;
}

/*
 * Copies the master sets into this round's, which select() overwrites: the parked connections too in a
 * full round, the listener while accepting, stdout or stderr while a log waits for its reader. Returns
 * the nfds for select(): one past the highest descriptor watched.
 */
static int server_fill_sets(struct server *s, int full, int accepting)
{
    int log = output_waiting(&s->log), traced = output_waiting(&s->trace), end = s->fd_end;
    end = accepting && s->listen_fd >= end ? s->listen_fd + 1 : end;
    end = log && s->log.fd >= end ? s->log.fd + 1 : end;
    end = traced && s->trace.fd >= end ? s->trace.fd + 1 : end;
    fdset_copy(&s->ready_read, &s->want_read, full ? &s->parked_read : NULL, end);
    fdset_copy(&s->ready_write, &s->want_write, NULL, end);
    if (accepting)
        fdset_add(&s->ready_read, s->listen_fd);
    if (log)
        fdset_add(&s->ready_write, s->log.fd);
    if (traced)
        fdset_add(&s->ready_write, s->trace.fd);
    return end;
}

/* Gives every connection select() reported, then every one with a request left over, its turn. */
static void server_serve(struct server *s, int end)
{
    int carried = s->pending_count; /* turns this round may list more after them, once per descriptor */
    for (int i = 0; i < carried; i++)
        if (s->conn[s->pending[i]] != NULL)
            s->conn[s->pending[i]]->pending = 0;
    for (int fd = fdset_next(&s->ready_read, &s->ready_write, 0, end); fd < end;
         fd = fdset_next(&s->ready_read, &s->ready_write, fd + 1, end))
        if (s->conn[fd] != NULL) /* the listener and the log descriptors have no connection */
            conn_advance(s, s->conn[fd], fdset_has(&s->ready_read, fd));
    for (int i = 0; i < carried; i++) {
        struct conn *c = s->conn[s->pending[i]];
        if (c != NULL && c->turn != s->round)
            conn_advance(s, c, 0);
    }
    s->pending_count -= carried;
    memmove(s->pending, s->pending + carried, (size_t)s->pending_count * sizeof *s->pending);
}

/*
 * The one select() loop: expire, copy the master sets, wait, serve, accept, until a stop signal.
 * select() costs time for every descriptor it watches. So connections waiting to read that have been
 * quiet for PARK_AFTER_MS are parked: while others are busy, a round leaves them out, and a full round
 * that watches them too comes every FULL_ROUND_MS. With nothing busy, every round is full and may wait.
 */
static int server_run(struct server *s, const sigset_t *wait_mask)
{
    while (!stop_requested) {
        server_tick(s);
        s->round++;
        long long next = server_expire(s);
        server_park(s);
        server_trim_pool(s);
        int busy = s->conns > s->parked || s->pending_count > 0;
        int full = s->parked == 0 || !busy || s->now - s->full_round >= FULL_ROUND_MS;
        /* Only look, never wait, when a request is left over, or when a full round comes while others are
           busy: looking at every parked descriptor is the round's cost, and the busy ones need not wait. */
        int look = s->pending_count > 0 || (full && busy && s->parked > 0);
        int accepting = server_accepting(s);
        int end = server_fill_sets(s, full, accepting);
        long long wait = look ? 0 : server_wait_ms(s, next, full, accepting);
        struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000 };
        int ready = pselect(end, fdset_arg(&s->ready_read), fdset_arg(&s->ready_write), NULL,
                            wait < 0 ? NULL : &ts, wait_mask);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            fprintf(stderr, "server: select: %s\n", strerror(errno));
            return 1;
        }
        if (full)
            s->full_round = s->now;
        server_tick(s);
        trace_round(s, ready, full ? 0 : s->parked);
        server_serve(s, end);
        if (accepting && fdset_has(&s->ready_read, s->listen_fd))
            server_accept(s);
        server_free_closed(s);
        output_flush(&s->trace); /* the round's trace, then the log lines of the requests it answered */
        output_flush(&s->log);
    }
    return 0;
}

/* Says why the listening socket could not be had, and what to try next. */
static void listen_failed(const char *addr, const char *port, int err)
{
    if (err == EADDRINUSE)
        fprintf(stderr, "server: port %s on %s is already in use (by another server, or an earlier run); choose "
                        "another with -p PORT, or -p 0 for any free port\n", port, addr);
    else if ((err == EACCES || err == EPERM) && atoi(port) > 0 && atoi(port) < 1024)
        fprintf(stderr, "server: port %s is privileged (below 1024) and this user may not bind it; use a port "
                        "above 1024, such as -p 8080\n", port);
    else if (err == EADDRNOTAVAIL)
        fprintf(stderr, "server: %s is not an address of this machine; use -b 127.0.0.1 for this machine only, "
                        "or -b 0.0.0.0 to share on the network\n", addr);
    else
        fprintf(stderr, "server: cannot listen on %s port %s: %s\n", addr, port, strerror(err));
    exit(2);
}

/* Opens the listening socket on addr:port through getaddrinfo and says where it is; exits with 2 when it cannot. */
static int listen_on(const char *addr, const char *port, struct sockaddr_storage *sa)
{
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list, *ai;
    socklen_t len = sizeof *sa;
    int fd = -1, one = 1, err = getaddrinfo(addr, port, &hints, &list);
    if (err != 0) {
        fprintf(stderr, "server: -b %s: %s; give a numeric address such as 127.0.0.1 or ::1\n", addr,
                gai_strerror(err));
        exit(2);
    }
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (ai->ai_family == AF_INET6) /* "::" takes IPv4 clients too where it can, whatever the system default */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int));
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
#ifdef USE_MSG_MORE /* accepted sockets inherit it */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 &&
#endif
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, BACKLOG) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0)
        listen_failed(addr, port, err ? err : errno);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
        getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
        fprintf(stderr, "server: listening socket: %s\n", strerror(errno));
        exit(1);
    }
    return fd;
}

/* Writes "http://ADDR:PORT/" for a socket address (IPv6 in brackets) into out; returns 0 when it cannot. */
static int addr_url(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
    char host[ADDR_TEXT_MAX], serv[PORT_TEXT_MAX];
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return 0;
    snprintf(out, cap, sa->sa_family == AF_INET6 ? "http://[%s]:%s/" : "http://%s:%s/", host, serv);
    return 1;
}

/* Says whether an address is a loopback one: 127.0.0.0/8 or ::1 (also as ::ffff:127.x.x.x). */
static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Says whether a bound address is a wildcard one (0.0.0.0 or ::), which takes clients on every interface. */
static int addr_is_wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

/*
 * Writes one line per address a wildcard bind can be reached at, so a phone on the same network can
 * open one: every interface's IPv4 address (and IPv6, bound to ::), link-local ones left out, since
 * browsers cannot open them. Without getifaddrs, the host name stands in.
 */
static void server_announce_interfaces(struct http_buf *b, const struct sockaddr_storage *bound, int takes_ipv4)
{
    unsigned short port = bound->ss_family == AF_INET ? ((const struct sockaddr_in *)(const void *)bound)->sin_port
                                                      : ((const struct sockaddr_in6 *)(const void *)bound)->sin6_port;
#ifdef USE_GETIFADDRS
    char url[ADDR_TEXT_MAX + PORT_TEXT_MAX + 16];
    struct ifaddrs *list;
    if (getifaddrs(&list) == 0) {
        for (int loopback = 1; loopback >= 0; loopback--) /* this machine's address first */
            for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
                struct sockaddr_storage sa;
                if (i->ifa_addr == NULL || !(i->ifa_flags & IFF_UP) ||
                    (i->ifa_addr->sa_family == AF_INET ? !takes_ipv4 :
                     i->ifa_addr->sa_family != AF_INET6 || bound->ss_family != AF_INET6))
                    continue;
                socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                                  : sizeof(struct sockaddr_in6);
                memcpy(&sa, i->ifa_addr, len);
                if (sa.ss_family == AF_INET) {
                    ((struct sockaddr_in *)(void *)&sa)->sin_port = port;
                } else {
                    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)&sa;
                    if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr))
                        continue;
                    a6->sin6_port = port;
                }
                if (addr_is_loopback((struct sockaddr *)&sa) == loopback &&
                    addr_url((struct sockaddr *)&sa, len, url, sizeof url))
                    http_buf_printf(b, "  %s\n", url);
            }
        freeifaddrs(list);
        return;
    }
    fprintf(stderr, "server: getifaddrs: %s; showing the host name instead\n", strerror(errno));
#endif
    char host[256];
    (void)takes_ipv4; /* the host name stands for every address the machine has */
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        http_buf_printf(b, "  http://%s:%u/\n", host, (unsigned)ntohs(port));
    }
}

/*
 * Prints the startup lines: "Serving ROOT on URL" first (tests and scripts read the port from it), then
 * every URL a wildcard bind answers at, or, bound to loopback, that only this machine can connect.
 */
static void server_announce(struct server *s, const char *root, const struct sockaddr_storage *bound)
{
    char url[ADDR_TEXT_MAX + PORT_TEXT_MAX + 16] = "http://?/";
    socklen_t len = bound->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    struct http_buf b = output_space(&s->log, 0);
    addr_url((const struct sockaddr *)bound, len, url, sizeof url);
    http_buf_printf(&b, "Serving %s on %s\n", root, url);
    int v6only = 0;
    socklen_t optlen = sizeof v6only;
    if (bound->ss_family == AF_INET6 &&
        getsockopt(s->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) < 0)
        v6only = 1;
    if (addr_is_wildcard((const struct sockaddr *)bound))
        server_announce_interfaces(&b, bound, !v6only);
    else if (addr_is_loopback((const struct sockaddr *)bound))
        http_buf_printf(&b, "  Only this machine can connect; -b 0.0.0.0 shares it on your network.\n");
    output_commit(&s->log, &b);
    output_flush(&s->log);
}

/* Counts the descriptors open below limit (inherited ones, the root, the listener), and those a set could hold. */
static int count_open_descriptors(long limit, int *settable)
{
    int open = 0;
    *settable = 0;
    for (int fd = 0; fd < limit && fd < FD_PROBE_MAX; fd++)
        if (fcntl(fd, F_GETFD) >= 0) {
            open++;
            *settable += fd < SET_CAPACITY;
        }
    return open;
}

/*
 * Sets the connection cap from the descriptor limit. Each connection holds its socket, and one more
 * descriptor while it sends a file from disk; 1/FILE_SHARE of what is left after the descriptors open at
 * start (inherited ones included) is kept for those files. The soft limit is raised towards the hard one
 * as far as the cap needs: without -c, all the way. Every socket must also fit in a descriptor set: the
 * portable build's fd_set holds descriptors below FD_SETSIZE only, and then files move above it.
 */
static void server_fit_descriptors(struct server *s, int cap_given)
{
    struct rlimit rl;
    int settable = 0;
    if (!cap_given)
        s->max_conns = FD_SETSIZE / 2; /* in case the limit cannot be read */
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "server: getrlimit: %s; keeping -c %d\n", strerror(errno), s->max_conns);
        return;
    }
    long soft = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX ? INT_MAX : (long)rl.rlim_cur;
    long hard = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > INT_MAX ? INT_MAX : (long)rl.rlim_max;
    long reserve = count_open_descriptors(soft, &settable) + TRANSIENT_FDS;
    long wanted = cap_given ? reserve + s->max_conns + (s->max_conns + FILE_SHARE - 2) / (FILE_SHARE - 1) : hard;
    if (wanted > hard)
        wanted = hard;
    if (wanted > soft) {
        rl.rlim_cur = (rlim_t)wanted;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            soft = wanted;
        else
            fprintf(stderr, "server: setrlimit: %s\n", strerror(errno));
    }
    long fit = soft > reserve ? (soft - reserve) - (soft - reserve) / FILE_SHARE : 0;
    long settable_room = (long)SET_CAPACITY - settable - TRANSIENT_FDS;
    s->files_above = soft > SET_CAPACITY; /* files can leave the numbers a set holds to sockets */
    if (settable_room < 1) {
        fprintf(stderr, "server: no descriptor below FD_SETSIZE (%d) is free for connections: %d are open at start; "
                        "close inherited descriptors, or use the default build\n", FD_SETSIZE, settable);
        exit(1);
    }
    if (fit < 1 && soft - (reserve - TRANSIENT_FDS) >= 2)
        fit = 1; /* a socket and a file: one connection at a time, rather than none */
    if (fit > settable_room)
        fit = settable_room;
    if (fit < 1) {
        fprintf(stderr, "server: the descriptor limit (%ld) leaves no room for connections: %ld are open at start; "
                        "raise it with ulimit -n\n", soft, reserve - TRANSIENT_FDS);
        exit(1);
    }
    if (!cap_given && fit < SMALL_CAP)
        fprintf(stderr, "server: the descriptor limit (%ld) holds only %ld connection(s) at once; raise it with "
                        "ulimit -n\n", soft, fit);
    if (fit < s->max_conns && cap_given)
        fprintf(stderr, "server: -c %d lowered to %ld: the descriptor limit (%ld) must also hold files and the %ld "
                        "descriptors open at start; raise it with ulimit -n\n", s->max_conns, fit, soft,
                reserve - TRANSIENT_FDS);
    if (fit < s->max_conns || !cap_given)
        s->max_conns = (int)fit;
}

/* Reads /etc/mime.types once, so that extensions the built-in table lacks cost nothing per request. */
static void server_load_mime(struct server *s)
{
    const char *file = "/etc/mime.types";
    struct stat st;
    size_t have = 0;
    int fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC);
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

/* One command-line option: its letter, its long name, and whether a value follows it. */
struct option_spec {
    char letter;
    const char *name;
    int takes_value;
};

static const struct option_spec options[] = {
    { 'p', "port", 1 }, { 'b', "bind", 1 }, { 'r', "root", 1 }, { 't', "timeout", 1 }, { 'c', "max-conns", 1 },
    { 'H', "header", 1 }, { 'm', "max-age", 1 }, { 's', "spa", 0 }, { 'a', "auth", 1 }, { 'u', "user", 1 },
    { 'L', "no-listing", 0 }, { 'q', "quiet", 0 }, { 'v', "verbose", 0 }, { 'h', "help", 0 }, { 'V', "version", 0 },
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

/* What the command line asked for, beyond what goes straight into the server. */
struct settings {
    const char *program, *port, *addr, *root, *dir, *users_file, *user;
    int cap_given, root_given, user_given;
    struct http_buf extra;
};

/* Prints the usage text: every option, short and long. */
static void usage(FILE *out, const char *program)
{
    fprintf(out,
            "usage: %s [options] [DIR]\n"
            "Serves DIR (default ./public) over HTTP from one select() loop.\n"
            "  -p, --port PORT         TCP port; default 8080; 0 picks a free port\n"
            "  -b, --bind ADDR         address to bind, IPv4 or IPv6; default 127.0.0.1 (this machine only);\n"
            "                          0.0.0.0 or :: shares on the network\n"
            "  -r, --root DIR          directory to serve, the same as DIR; default ./public\n"
            "  -t, --timeout SECONDS   time limit for a request head, an idle connection or a stalled\n"
            "                          download; default %d\n"
            "  -c, --max-conns N       most connections open at once; default: what the descriptor limit allows\n"
            "  -H, --header 'NAME: VALUE'\n"
            "                          add a header to every response; repeatable\n"
            "  -m, --max-age SECONDS   Cache-Control: max-age=SECONDS on files, instead of no-cache\n"
            "  -s, --spa               single-page app: a missing path gets the root's index.html\n"
            "  -a, --auth FILE         basic authentication for the user:password lines of FILE\n"
            "  -u, --user USER         started as root: the user to serve as, after binding; default " DEFAULT_USER "\n"
            "  -L, --no-listing        no directory listings\n"
            "  -q, --quiet             no access log\n"
            "  -v, --verbose           trace the select() loop on stderr (teaching mode)\n"
            "  -h, --help              this help\n"
            "  -V, --version           the version\n"
            "A 404.html in the root is the body of every 404.\n",
            program, TIMEOUT_DEFAULT);
}

/* Ends the program with a usage error: one line saying what is wrong, and where help is. */
static void usage_error(const struct settings *set, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "server: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "; see %s --help\n", set->program);
    va_end(ap);
    exit(2);
}

/* Parses a decimal option value in [min, max] (digits only, a minus aside), or exits with 2; shown names the option. */
static long option_number(const struct settings *set, const char *shown, const char *arg, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || !((arg[0] >= '0' && arg[0] <= '9') || arg[0] == '-') || *end != '\0' || v < min || v > max)
        usage_error(set, "%s wants a number from %ld to %ld, not '%s'", shown, min, max, arg);
    return v;
}

/* Applies one option with its value (NULL when it takes none); shown is the option as it was typed. */
static void option_apply(struct server *s, struct settings *set, char letter, const char *value, const char *shown)
{
    const char *why;
    switch (letter) {
    case 'p': set->port = value; option_number(set, shown, value, 0, 65535); break;
    case 'b': set->addr = value; break;
    case 'r':
        if (set->root_given)
            usage_error(set, "the folder is given twice, as %s and as %s; give one", set->root, value);
        set->root = value;
        set->root_given = 1;
        break;
    case 't': s->timeout_ms = option_number(set, shown, value, 1, 86400) * 1000LL; break;
    case 'c':
        s->max_conns = (int)option_number(set, shown, value, 1, CONNS_OPTION_MAX);
        set->cap_given = 1;
        break;
    case 'H':
        if ((why = http_header_option(value, &set->extra)) != NULL)
            usage_error(set, "%s '%s': %s", shown, value, why);
        break;
    case 'm':
        snprintf(s->cache_control, sizeof s->cache_control, "max-age=%ld",
                 option_number(set, shown, value, 0, MAX_AGE_MAX));
        break;
    case 's': s->spa = 1; break;
    case 'a': set->users_file = value; break;
    case 'u': set->user = value; set->user_given = 1; break;
    case 'L': s->listings = 0; break;
    case 'q': s->quiet = 1; break;
    case 'v': s->verbose = 1; break;
    case 'h': usage(stdout, set->program); exit(0);
    case 'V': printf("select-server %s\n", HTTP_SERVER_VERSION); exit(0);
    }
}

/* Finds an option by its letter, or by its long name (name_len bytes); NULL when there is none. */
static const struct option_spec *option_find(char letter, const char *name, size_t name_len)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (name != NULL ? strlen(options[i].name) == name_len && strncmp(options[i].name, name, name_len) == 0
                         : options[i].letter == letter)
            return &options[i];
    return NULL;
}

/*
 * Reads the command line: short options (clustered, "-qv", with a value joined or next, "-p0" or
 * "-p 0"), long ones ("--port 0" or "--port=0"), and one DIR anywhere, "--" ending the options.
 * getopt_long is not POSIX, so this small table does both. Any mistake exits with 2.
 */
static void options_parse(struct server *s, struct settings *set, int argc, char **argv)
{
    int only_dirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_dirs || arg[0] != '-' || arg[1] == '\0') {
            if (set->dir != NULL)
                usage_error(set, "one folder to serve, not two ('%s' is the second)", arg);
            set->dir = arg;
        } else if (strcmp(arg, "--") == 0) {
            only_dirs = 1;
        } else if (arg[1] == '-') {
            const char *eq = strchr(arg + 2, '=');
            size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            const struct option_spec *o = option_find(0, arg + 2, n);
            char shown[24];
            if (o == NULL)
                usage_error(set, "unknown option '%.*s'", (int)(n + 2), arg);
            snprintf(shown, sizeof shown, "--%s", o->name);
            if (!o->takes_value && eq != NULL)
                usage_error(set, "%s takes no value", shown);
            if (o->takes_value && eq == NULL && i + 1 == argc)
                usage_error(set, "%s needs a value", shown);
            option_apply(s, set, o->letter, !o->takes_value ? NULL : eq ? eq + 1 : argv[++i], shown);
        } else {
            for (const char *p = arg + 1; *p != '\0'; p++) {
                char shown[3] = { '-', *p, '\0' };
                const struct option_spec *o = option_find(*p, NULL, 0);
                if (o == NULL)
                    usage_error(set, "unknown option '%s'", shown);
                if (o->takes_value && p[1] == '\0' && i + 1 == argc)
                    usage_error(set, "%s needs a value", shown);
                if (o->takes_value) {
                    option_apply(s, set, o->letter, p[1] != '\0' ? p + 1 : argv[++i], shown);
                    break;
                }
                option_apply(s, set, o->letter, NULL, shown);
            }
        }
    }
    if (set->dir != NULL && set->root_given)
        usage_error(set, "the folder is given twice, as -r and as '%s'; give one", set->dir);
    if (set->dir != NULL)
        set->root = set->dir;
}

/*
 * Reads the -a file: one "user:password" per line; empty lines and lines starting with '#' are skipped.
 * Read once at start, before any privilege is dropped, so the file can stay readable by root alone.
 */
static void server_load_users(struct server *s, const struct settings *set)
{
    const char *file = set->users_file;
    struct stat st;
    size_t have = 0, line = 0;
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); /* a FIFO or tty: no hang, no side effect */
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "server: -a %s: %s; give a file of user:password lines\n", file, strerror(errno));
        exit(2);
    }
    if (!S_ISREG(st.st_mode) || st.st_size > USERS_FILE_MAX) {
        fprintf(stderr, "server: -a %s is not a regular file of at most %d bytes; give a file of user:password "
                        "lines\n", file, USERS_FILE_MAX);
        exit(2);
    }
    if (st.st_mode & S_IROTH)
        fprintf(stderr, "server: warning: -a %s can be read by every user of this machine; chmod 600 %s\n", file, file);
    if ((s->users_text = malloc((size_t)st.st_size + 1)) == NULL ||
        (s->user = malloc(((size_t)st.st_size / 2 + 1) * sizeof *s->user)) == NULL) {
        fprintf(stderr, "server: -a %s: %s\n", file, strerror(errno));
        exit(1);
    }
    for (ssize_t n = 1; have < (size_t)st.st_size && n != 0; have += n > 0 ? (size_t)n : 0)
        if ((n = read(fd, s->users_text + have, (size_t)st.st_size - have)) < 0 && errno != EINTR) {
            fprintf(stderr, "server: -a %s: %s\n", file, strerror(errno));
            exit(1);
        }
    close(fd);
    s->users_text[have] = '\0';
    if (memchr(s->users_text, '\0', have) != NULL) {
        fprintf(stderr, "server: -a %s holds a NUL byte; it must be a text file of user:password lines\n", file);
        exit(2);
    }
    char *text = s->users_text;
    if (have >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* a byte-order mark some editors write */
        text += 3;
    for (char *p = text, *end; *p != '\0'; p = end) {
        end = p + strcspn(p, "\n");
        size_t len = (size_t)(end - p);
        line++;
        if (*end == '\n')
            *end++ = '\0';
        if (len > 0 && p[len - 1] == '\r')
            p[--len] = '\0';
        if (len == 0 || p[0] == '#')
            continue;
        if (memchr(p, ':', len) == NULL || p[0] == ':' || len >= HTTP_CREDENTIALS_MAX) {
            fprintf(stderr, "server: -a %s line %zu: %s; each line is user:password\n", file, line,
                    len >= HTTP_CREDENTIALS_MAX ? "too long" : "no user name and colon");
            exit(2);
        }
        s->user[s->user_count++] = (struct secret){ p, len };
    }
    if (s->user_count == 0) {
        fprintf(stderr, "server: -a %s holds no user:password line; add one\n", file);
        exit(2);
    }
}

/*
 * Started as root, gives root up for good before any client is served: supplementary groups, then the
 * group, then the user, each checked, and then checked again by trying to get root back. Any failure
 * ends the program, so it never serves as root by accident; -u root keeps root, and says so. Returns
 * whether it changed user.
 */
static int server_drop_root(const struct settings *set)
{
    if (geteuid() != 0) {
        if (set->user_given)
            fprintf(stderr, "server: -u %s ignored: only a server started as root changes user\n", set->user);
        return 0;
    }
    errno = 0;
    struct passwd *pw = getpwnam(set->user);
    if (pw == NULL) {
        fprintf(stderr, "server: started as root, but cannot serve as user '%s': %s; name another with -u USER\n",
                set->user, errno != 0 ? strerror(errno) : "no such user");
        exit(2);
    }
    if (pw->pw_uid == 0) {
        fprintf(stderr, "server: warning: serving as root (-u %s): any file root can read can be served\n", set->user);
        return 0;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid, groups[256];
    if (gid == 0) {
        fprintf(stderr, "server: user '%s' has root's group (gid 0); choose another with -u USER\n", set->user);
        exit(2);
    }
#ifdef USE_SETGROUPS
    int own_groups = 1; /* the user's supplementary groups, as a login gives them */
    if (initgroups(pw->pw_name, gid) < 0) {
        fprintf(stderr, "server: initgroups: %s; not serving as root\n", strerror(errno));
        exit(1);
    }
#else
    int own_groups = 0; /* root's supplementary groups cannot be dropped: there must be none but gid */
#endif
    if (setgid(gid) < 0 || setuid(uid) < 0) {
        fprintf(stderr, "server: cannot become user '%s': %s; not serving as root\n", set->user, strerror(errno));
        exit(1);
    }
    int count = getgroups(sizeof groups / sizeof groups[0], groups), kept_root_group = count < 0;
    for (int i = 0; i < count; i++)
        kept_root_group |= groups[i] == 0 || (!own_groups && groups[i] != gid);
    if (setuid(0) == 0 || geteuid() == 0 || getegid() != gid || kept_root_group) {
        fprintf(stderr, "server: root's rights or groups are still held after becoming '%s'; not serving as root\n",
                set->user);
        exit(1);
    }
    fprintf(stderr, "server: started as root; serving as user '%s' (uid %ld)\n", set->user, (long)uid);
    return 1;
}

/*
 * Exits with 2 when the user the server now runs as cannot search the root (dropped: it changed user on
 * the way), since every request would get 403. Searching is all serving needs: a root of mode 711 works.
 */
static void server_check_root(const struct server *s, const struct settings *set, int dropped)
{
    struct stat st;
    if (fstatat(s->root_fd, ".", &st, 0) == 0)
        return;
    fprintf(stderr, "server: cannot serve %s as this user: %s; let it in (chmod a+x %s, and a+r for what it "
                    "shares)%s\n", set->root, strerror(errno), set->root,
            dropped ? ", or serve as a user who may read it with -u USER" : "");
    exit(2);
}

/* Empties every state's queue, before the first connection. */
static void server_init_queues(struct server *s)
{
    for (int state = 0; state < CONN_STATES; state++)
        s->queue[state] = (struct queue){ NULL, NULL, NULL, 0 };
}

/*
 * Opens /dev/null on any of descriptors 0 to 2 that is closed, before anything else is opened: else the
 * first client's socket could take number 2 and receive the trace, other clients' requests included.
 */
static void server_fill_standard_descriptors(void)
{
    for (int fd = 0; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        if (open("/dev/null", O_RDWR) != fd) /* the lowest free number: this one */
            exit(1);                        /* and no stderr to say so on */
    }
}

/* Reads the options, opens the root and the socket, runs the loop, and shuts down cleanly. */
int main(int argc, char **argv)
{
    struct server *s = &server;
    server_fill_standard_descriptors();
    struct settings set = { .program = argc > 0 ? argv[0] : "server", .port = "8080", .addr = "127.0.0.1",
                            .root = "./public", .user = DEFAULT_USER,
                            .extra = { s->extra_fields, 0, sizeof s->extra_fields - 1, 0 } };
    struct sockaddr_storage bound;
    s->timeout_ms = TIMEOUT_DEFAULT * 1000LL;
    s->listings = 1;
    strcpy(s->cache_control, "no-cache");
    options_parse(s, &set, argc, argv);
    s->extra_fields[set.extra.len] = '\0';
    const char *root = set.root;
    s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0) {
        fprintf(stderr, "server: cannot serve %s: %s; name the folder to serve: %s DIR\n", root, strerror(errno),
                set.program);
        return 2;
    }
    if (set.users_file != NULL)
        server_load_users(s, &set);
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
    server_load_mime(s);
    s->listen_fd = listen_on(set.addr, set.port, &bound);
    int dropped = server_drop_root(&set);
    server_check_root(s, &set, dropped);
    server_fit_descriptors(s, set.cap_given);
    server_init_queues(s);
    if (!server_fit_table(s, s->listen_fd) || !server_fit_table(s, STDERR_FILENO)) {
        fprintf(stderr, "server: listening socket %d cannot be watched by select() (FD_SETSIZE %d); "
                        "close inherited descriptors or use the default build\n", s->listen_fd, FD_SETSIZE);
        return 1;
    }
    server_tick(s);
    s->started = s->now;
    output_open(&s->log, STDOUT_FILENO);
    output_open(&s->trace, STDERR_FILENO);
    server_announce(s, root, &bound);
    int rc = server_run(s, &wait_mask);
    for (int fd = 0; fd < s->fd_end; fd++)
        if (s->conn[fd] != NULL)
            conn_close(s, s->conn[fd], "shutting down");
    server_free_closed(s);
    for (int i = 0; i < CACHE_FILES; i++)
        cache_drop(&s->cache[i]);
    s->pool_used = s->now - SPARE_IDLE_MS;
    server_trim_pool(s);
    close(s->listen_fd);
    close(s->root_fd);
    free(s->mime.entry);
    free(s->mime_text);
    free(s->user);
    free(s->users_text);
    free(s->conn);
    free(s->pending);
    struct fdset *sets[SETS];
    for (int i = server_sets(s, sets) - 1; i >= 0; i--)
        fdset_free(sets[i]);
    long long deadline = clock_ms() + FINAL_FLUSH_MS; /* the log, with its Stopped line, first; then the trace */
    output_drain(&s->log, sizeof s->log.buf - STOPPED_LINE_MAX, deadline);
    struct http_buf b = output_space(&s->log, STOPPED_LINE_MAX);
    http_buf_printf(&b, "Stopped: %llu requests, %llu body bytes sent", s->requests, s->bytes);
    if (s->log.dropped || s->trace.dropped)
        http_buf_printf(&b, "; a slow reader lost %llu log and %llu trace lines", s->log.dropped, s->trace.dropped);
    http_buf_put(&b, "\n", 1);
    output_commit(&s->log, &b);
    output_drain(&s->log, 0, deadline);
    output_drain(&s->trace, 0, deadline);
    output_close(&s->trace);
    output_close(&s->log);
    return rc;
}
