/* server.c: serves a directory over HTTP from one select() loop; every system call lives here. */
#if defined(__linux__) && !defined(PORTABLE)
#define _GNU_SOURCE       /* accept4 */
#define USE_ACCEPT4 1     /* accept4(): a non-blocking, close-on-exec socket in one call */
#define USE_SENDFILE 1    /* sendfile(): file to socket without a copy through user space */
#define USE_MSG_MORE 1    /* MSG_MORE, and accepted sockets inheriting TCP_NODELAY from the listener */
#define USE_SIZED_SETS 1  /* select() takes descriptor sets larger than FD_SETSIZE */
#define USE_GETIFADDRS 1  /* getifaddrs(): the startup lines list every interface's address */
#define USE_SETGROUPS 1   /* setgroups(): started as root, drop root's supplementary groups too */
#define USE_OUTQ 1        /* ioctl(SIOCOUTQNSD): the bytes a socket has not yet sent, for a close without linger */
#include <grp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
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
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Tuning: how the loop shares its time, memory and descriptors. The protocol's limits are in http.h. */
#define TIMEOUT_DEFAULT 10            /* seconds for -t */
#define SLICE_BYTES (2048 * 1024)     /* bytes one connection may send in its turn of a round */
#define TURN_REQUESTS 16              /* requests one connection may have answered in its turn */
#define LISTING_READ_STEP 64          /* folder entries read and looked at in one turn (a sorted run) */
#define LISTING_ROW_STEP 128          /* listing rows written in one turn */
#define LISTING_TTL_MS 1000           /* a finished listing is shared this long; sizes and times change unseen */
#define NAME_BLOCK (64 * 1024)        /* bytes of entry names a listing keeps per block */
#define PARK_AFTER_MS 100             /* a connection waiting to read, quiet this long, is parked */
#define FULL_ROUND_MS 30              /* while others are busy, parked connections are watched this often */
#define LINGER_MS 2000                /* how long a closing connection drains unread input */
#define ACCEPT_PAUSE_MS 100           /* accept() pause after EMFILE or ENFILE */
#define ACCEPTS_PER_ROUND 128         /* new clients taken (and given their first turn) in one round at most */
#define OUTPUT_QUEUE (64 * 1024)      /* bytes of log or trace waiting for a slow stdout or stderr */
#define FINAL_FLUSH_MS 1000           /* at exit, how long the log and trace wait for a slow reader */
#define STOPPED_LINE_MAX 256          /* bytes of the Stopped summary line */
#define COPY_BYTES (64 * 1024)        /* a file copied through user space goes this much a call */
#define SPARE_BUFFERS 16              /* free connection buffers kept for reuse; more are freed */
#define SPARE_IDLE_MS 1000            /* spare buffers unused this long are freed too */
#define CACHE_FILES 64                /* small files kept in memory */
#define CACHE_WAYS 4                  /* slots a path may take: CACHE_FILES / CACHE_WAYS sets of them */
#define CACHE_FILE_MAX (64 * 1024)    /* largest file kept in memory */
#define CACHE_PATH_MAX 256            /* longest path of a file kept in memory */
#define CACHE_SETTLE 2                /* seconds a file must be unchanged before it is kept in memory */
#define NOTES_KEPT 64                 /* files whose 403 was explained on stderr, remembered so as not to repeat */
#define FILE_SHARE 4                  /* 1/FILE_SHARE of the spare descriptors is kept for open files */
#define TRANSIENT_FDS 2               /* descriptors a request may hold briefly: a directory and its index */
#define FD_PROBE_MAX 65536            /* descriptors inherited at start are looked for below this */
#define CONNS_OPTION_MAX 4000000      /* largest -c accepted; the descriptor limit usually lowers it */
#define SMALL_CAP 64                  /* a default cap below this is worth a note on stderr */
#define BACKLOG 65535                 /* clients waiting to be accepted; the kernel lowers it to its maximum */
#define TABLE_MIN 1024                /* slots in the first connection table; it doubles as descriptors rise */
#define ADDR_TEXT_MAX 64              /* a numeric IPv6 address with a scope name */
#define PATH_TEXT_MAX (HTTP_HEAD_MAX + 16) /* a decoded target, with room for "index.html" and ".zst" */
#define PORT_TEXT_MAX 8
#define MAX_AGE_MAX 31536000          /* largest -m: a year, the most RFC 9111 advises */
#define USERS_FILE_MAX (64 * 1024)    /* largest -a file */
#define DEFAULT_USER "nobody"         /* started as root, the server runs as this user unless -u says */
#ifndef DEFAULT_ROOT
#define DEFAULT_ROOT "./public"       /* the demo site of the source tree; make install builds with "." */
#endif

/* A connection's life: IDLE -> READING -> SENDING -> IDLE (keep-alive) | READING (pipelined) | CLOSING. */
enum conn_state {
    CONN_FREE,            /* no connection on this descriptor */
    CONN_IDLE,            /* open, nothing of a request in hand: between requests, or new */
    CONN_READING,         /* part of a request is in hand */
    CONN_SENDING,         /* answering: the head, then the body, from memory, a file or a listing being built */
    CONN_CLOSING,         /* sending side shut down; draining what the client still sends */
    CONN_STATES
};

static const char *const state_names[CONN_STATES] = { "free", "idle", "reading", "sending", "closing" };

/* A connection's request (bytes and parse) and response head, lent from a pool only while a request is in hand. */
struct buffer {
    struct buffer *next;     /* the next free buffer, while in the pool */
    struct http_request req;
    char out[HTTP_RESPONSE_HEAD_MAX];
    char in[HTTP_HEAD_MAX];  /* the parser refuses a head that would not fit, so in[] never overflows */
};

/* Bytes in memory shared by every response that sends them: a cached file, a finished listing, a page of text. */
struct blob {
    size_t refs, len;
    char *data;
};

/* A block of entry names; a listing's names stay put in these while its entry array grows. */
struct name_block {
    struct name_block *next;
    size_t used;
    char data[NAME_BLOCK];
};

/*
 * A folder's listing, built a bounded step per turn: runs of LISTING_READ_STEP entries sorted as they are read,
 * then merged through a heap as rows are written. Requests for one folder in one order share it while it builds
 * or is fresh; a rebuild that matches a page still being sent shares that page, so slow readers hold one copy.
 */
struct listing {
    struct listing *next;       /* in the server's list of live listings */
    size_t refs;                /* responses waiting for it or sending it, and one while it is fresh */
    int fresh;                  /* holds that reference: shared with new requests until LISTING_TTL_MS */
    char *path;                 /* the folder's clean path, with its trailing slash */
    struct http_order order;
    struct stat dir;            /* the folder when the build began: a change makes a new build */
    long long done_at;          /* monotonic ms it was finished; 0 while it is built */
    int failed;                 /* the folder could not be read: its readers get 500 */
    DIR *stream;                /* open while entries are read */
    struct http_entry *entry;   /* the entries, in sorted runs of LISTING_READ_STEP */
    size_t count, cap;
    struct name_block *names;
    size_t *heap, heap_len;     /* runs, by their next entry: the merge's state */
    size_t *run_next;           /* each run's next entry */
    struct http_buf html;       /* the page so far */
    struct blob *twin;          /* an earlier build's page that this one has matched byte for byte so far */
    size_t compared;            /* how far */
    struct blob *blob;          /* the page, once finished: the twin's, when they are the same */
};

/* A response body: bytes in memory, an open file, or a listing still being built; sent a bounded step a turn. */
struct body {
    struct blob *blob;          /* bytes in memory, or NULL */
    struct listing *listing;    /* the listing whose page the blob is, or which is still being built; or NULL */
    int fd;                     /* an open file, or -1 */
    int copy;                   /* the file goes through user space (pread and write), not sendfile() */
    off_t off, end;             /* the bytes still to send: [off, end) of the blob or the file */
};

/* One client connection, allocated when it opens; the table finds it by its socket. */
struct conn {
    int fd;                  /* its socket */
    enum conn_state state;
    struct conn *prev, *next; /* neighbours in its state's queue; next also links closed ones until freed */
    long long since;         /* monotonic ms it entered the queue; its deadline is since + the state's limit */
    int parked;              /* quiet for PARK_AFTER_MS: watched only in full rounds */
    int pending;             /* listed for a turn next round: a request was left over when its turn ended */
    int loopback;            /* the client is on this machine: files are copied, not sent with sendfile() */
    unsigned long long turn; /* the round of its last turn */
    int keep_alive;          /* serve another request after this response */
    struct buffer *buf;      /* NULL while idle between requests: 10,000 idle connections hold no parse */
    size_t in_len;           /* request bytes in in[] */
    size_t head_len, head_sent; /* the response head in out[] (a short page may follow), and how much is sent */
    size_t page_at;          /* where that page starts in out[]: its bytes count as body in the log */
    struct body body;
    enum http_status status; /* for the access log; 0 once logged */
    long long body_sent, response_size, response_sent; /* for the log and the trace */
    const char *origin;      /* where the answer came from, for the trace: " from memory" or "" */
    char peer[ADDR_TEXT_MAX], peer_port[PORT_TEXT_MAX];
};

/* A state's connections, oldest first, so due deadlines are at its head; those before park are parked. */
struct queue {
    struct conn *head, *tail, *park;
    int count;
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

/* The loop's sets: the master sets, kept up to date as connections change state, and this round's copies. */
enum { WANT_READ, WANT_WRITE, PARKED_READ, READY_READ, READY_WRITE, SETS };

/* Output the loop never waits for: lines queue here and are written when the descriptor takes them. */
struct output {
    int fd;                       /* a pipe, a socket or a file, made non-blocking; a terminal reopened so */
    int own_fd;                   /* fd is the terminal reopened on its own: closed at exit */
    int flags;                    /* the shared descriptor's flags before O_NONBLOCK, restored at exit; -1: none */
    const char *name;             /* what it carries, for the one note on a failure */
    struct output *report;        /* where that note goes; NULL: nowhere (stderr itself) */
    int failed;                   /* that note was given */
    size_t len;
    unsigned long long dropped;   /* lines lost: the queue was full, or the descriptor refused them */
    char buf[OUTPUT_QUEUE];
};

/*
 * A small file kept in memory: every representation a client may get, described for http_decide. It is checked
 * by one stat per name in the first round that uses it (a round's requests are simultaneous). File times come
 * from a coarse clock, so only files unchanged for CACHE_SETTLE seconds are kept: a later change shows in ctime.
 */
struct cached {
    char path[CACHE_PATH_MAX];
    unsigned long long round;     /* the round it was last found unchanged in */
    unsigned long long used;      /* when it was last found or put: the set's least recently used goes first */
    struct stat st[HTTP_CODINGS]; /* the file and its siblings as read; st_nlink 0 where there is none */
    struct stat dir;              /* its folder, looked at before them: a sibling coming or going changes it */
    struct http_found found;       /* its variants' etag and modified point at the two arrays below */
    struct blob *blob[HTTP_CODINGS];
    char etag[HTTP_CODINGS][HTTP_ETAG_SIZE], modified[HTTP_CODINGS][HTTP_DATE_SIZE];
};

/* A turn's allowance: requests answered and bytes sent (or made) before the next connection's turn. */
struct budget {
    size_t bytes;
    int requests;
};

struct server {
    int listen_fd, root_fd;
    const char *single;            /* serving one file: its name in the root's folder; NULL: a folder */
    const char *status_path;       /* -S: the path that answers the loop's status; NULL: none */
    const char *user_name;         /* who the server runs as, for the 403 notes */
    int dropped_root;              /* started as root, it became user_name */
    int files_above;               /* portable build: files move above FD_SETSIZE, leaving the low numbers to sockets */
    long long timeout_ms;
    int max_conns, list_folders, quiet, verbose, spa;
    char extra_fields[HTTP_EXTRA_FIELDS_MAX]; /* the -H lines, on every response */
    char cache_control[32];        /* on every file and listing: no-cache, or -m's max-age */
    struct secret {
        const char *text;          /* "user:password", a line of the -a file */
        size_t len;
    } *user;
    int user_count;                /* users of the -a file; 0: no authentication */
    char *users_text, *mime_text;
    struct http_mime mime;         /* /etc/mime.types, read once at start */
    int conns, fd_end;             /* open connections; one past the highest socket in use */
    long long now;                 /* monotonic ms, read once per round */
    long long started;             /* monotonic ms at start, for the trace */
    long long full_round;          /* when select() last watched the parked connections too */
    long long accept_resume;       /* after EMFILE: no accept() before this time */
    unsigned long long accepts, handled, requests, bytes;
    time_t date_second;
    char date[HTTP_DATE_SIZE], log_date[HTTP_LOG_DATE_SIZE];
    struct output log, err;        /* stdout: the access log; stderr: the -v trace and notes */
    char round_line[256];          /* -v: this round's line, written before its first event */
    size_t round_line_len;         /* 0 once written, or when there is none */
    unsigned long long quiet_rounds; /* -v: rounds not shown since the last one that was: nothing ready or done */
    struct buffer *free_buffers;   /* the pool */
    int spare_buffers;             /* how many it holds */
    long long pool_used;           /* when a buffer last went in or out of it */
    unsigned long long round;      /* select() rounds so far */
    struct cached cache[CACHE_FILES];
    unsigned long long cache_uses; /* the cache's clock: one tick per slot found or filled */
    struct listing *listings;      /* every live listing: building, fresh, or still being sent */
    int building;                  /* listings being built */
    unsigned long noted[NOTES_KEPT]; /* hashes of files whose 403 was explained */
    int noted_next;
    char drain[HTTP_HEAD_MAX];     /* where closing connections' unread input is thrown away */
    char copy[COPY_BYTES];         /* where a file copied through user space passes */
    struct queue queue[CONN_STATES];
    int parked;                    /* connections parked, in all queues */
    int table_size;                /* slots in conn[] and in the sets; pending[] holds twice as many */
    struct conn **conn;            /* indexed by socket descriptor; NULL where none is open */
    struct conn *closed;           /* closed this round: freed at its end, when no turn can still hold them */
    struct fdset set[SETS];
    int *pending;                  /* connections with a request left over for their next turn */
    int pending_count;
};

static struct server server;
static volatile sig_atomic_t stop_requested;

/* Records a stop signal (INT, TERM, HUP); the loop sees it when pselect() returns. */
static void on_stop_signal(int sig)
{
    stop_requested = sig;
}

/* Prints a message that ends the program (formatted, "server: " and newline included) and exits with status. */
_Noreturn static void fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    exit(status);
}

/* Returns monotonic milliseconds, for deadlines that wall-clock jumps cannot move. */
static long long clock_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        fail(1, "server: clock_gettime: %s\n", strerror(errno));
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

/* Puts fd in a set, or takes it out (our own bit arithmetic: glibc's FD_SET aborts past FD_SETSIZE when fortified). */
static void fdset_put(struct fdset *set, int fd, int in)
{
    unsigned long bit = 1UL << (fd % SET_WORD_BITS);
    set->word[fd / SET_WORD_BITS] = in ? set->word[fd / SET_WORD_BITS] | bit : set->word[fd / SET_WORD_BITS] & ~bit;
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

/* Puts fd (below FD_SETSIZE, as the table guarantees) in a set, or takes it out. */
static void fdset_put(struct fdset *set, int fd, int in)
{
    if (in)
        FD_SET(fd, &set->bits);
    else
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

/* Counts the lines in n bytes: what a failed write loses. */
static unsigned long long count_lines(const char *p, size_t n)
{
    unsigned long long lines = 0;
    for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        lines++;
    return lines;
}

static struct http_buf output_space(struct output *q, size_t need);

/* Keeps a line written into output_space, or counts it as dropped when it did not fit. */
static void output_commit(struct output *q, const struct http_buf *b)
{
    if (b->overflow)
        q->dropped++;
    else
        q->len += b->len;
}

/* Writes the queue as far as its descriptor takes it without blocking; one that refuses it loses the lines, counted. */
static void output_flush(struct output *q)
{
    size_t done = 0;
    if (q->len == 0)
        return;
    while (done < q->len) {
        ssize_t n = write(q->fd, q->buf + done, q->len - done);
        if (n > 0 || (n < 0 && errno == EINTR)) {
            done += n > 0 ? (size_t)n : 0;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        const char *why = n < 0 ? strerror(errno) : "no progress";
        q->dropped += count_lines(q->buf + done, q->len - done);
        if (!q->failed && q->report != NULL) {
            struct http_buf b = output_space(q->report, 256);
            http_buf_printf(&b, "server: cannot write the %s: %s; its lines are dropped and counted (make room for "
                                "it, or run with -q)\n", q->name, why);
            output_commit(q->report, &b);
        }
        q->failed = 1;
        done = q->len;
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

/*
 * Sets up a queue on fd so that a stalled reader (Ctrl-S, a stalled ssh session) only fills it: a terminal is
 * reopened on a non-blocking descriptor of its own, a pipe or socket made non-blocking until exit, a file kept.
 */
static void output_open(struct output *q, int fd, const char *name, struct output *report)
{
    struct stat st;
    const char *tty = isatty(fd) ? ttyname(fd) : NULL;
    *q = (struct output){ .fd = fd, .flags = -1, .name = name, .report = report };
    if (tty != NULL && (q->fd = open(tty, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) >= 0) {
        q->own_fd = 1;
        return;
    }
    q->fd = fd;
    if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode)) &&
        (q->flags = fcntl(fd, F_GETFL)) >= 0 && fcntl(fd, F_SETFL, q->flags | O_NONBLOCK) < 0)
        q->flags = -1;
}

/* Says whether a queue waits for its reader: then select() watches its descriptor for writing. */
static int output_waiting(const struct output *q)
{
    return q->len > 0 && (q->own_fd || q->flags >= 0);
}

/* Writes the queue, waiting for a slow reader until the deadline (monotonic ms) at most: at exit. */
static void output_drain(struct output *q, long long deadline)
{
    output_flush(q);
    for (long long left; output_waiting(q) && (left = deadline - clock_ms()) > 0; output_flush(q)) {
        fd_set writable;
        struct timeval tv = { (time_t)(left / 1000), (suseconds_t)(left % 1000 * 1000) };
        FD_ZERO(&writable);
        FD_SET(q->fd, &writable); /* opened at start: below FD_SETSIZE */
        if (select(q->fd + 1, NULL, &writable, NULL, &tv) < 0 && errno != EINTR)
            break;
    }
}

/*
 * Counts what is still queued as dropped and restores the descriptor's flags. Two queues on one pipe share
 * them: closed in the reverse order of opening, the flags saved before the server touched them are left.
 */
static void output_close(struct output *q)
{
    q->dropped += count_lines(q->buf, q->len);
    q->len = 0;
    if (q->own_fd)
        close(q->fd);
    else if (q->flags >= 0 && fcntl(q->fd, F_SETFL, q->flags) < 0)
        fprintf(stderr, "server: fcntl: %s\n", strerror(errno));
}

/* Queues one line (printf-formatted) on stderr, for notes and the trace; never waits for the reader. */
static void note(struct server *s, const char *fmt, ...)
{
    va_list ap;
    struct http_buf b = output_space(&s->err, 1024);
    va_start(ap, fmt);
    int n = vsnprintf(b.data, b.cap, fmt, ap);
    va_end(ap);
    b.overflow = n < 0 || (size_t)n >= b.cap;
    b.len = b.overflow ? 0 : (size_t)n;
    http_buf_put(&b, "\n", 1);
    output_commit(&s->err, &b);
}

/* Queues this round's -v line when it has not been yet, after a summary of the quiet rounds before it. */
static void trace_round_line(struct server *s)
{
    if (s->round_line_len == 0)
        return;
    if (s->quiet_rounds > 0)
        note(s, "... %llu round%s with nothing ready", s->quiet_rounds, s->quiet_rounds == 1 ? "" : "s");
    note(s, "%.*s", (int)s->round_line_len, s->round_line);
    s->quiet_rounds = 0;
    s->round_line_len = 0;
}

/* Queues one event line of the teaching trace (-v) on stderr, after the line of the round it happened in. */
static void trace_event(struct server *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    trace_round_line(s);
    note(s, "%s", line);
}

/* The trace's one entry point: without -v not even its arguments are worked out. */
#define trace(s, ...) ((s)->verbose ? trace_event((s), __VA_ARGS__) : (void)0)

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

/* Makes a blob that takes over len bytes at data (malloc'd); NULL, with data freed, without memory. */
static struct blob *blob_new(char *data, size_t len)
{
    struct blob *b = data != NULL ? malloc(sizeof *b) : NULL;
    if (b == NULL) {
        free(data);
        return NULL;
    }
    *b = (struct blob){ 1, len, data };
    return b;
}

/* Drops one reference to a blob; the last one frees it. */
static void blob_release(struct blob *b)
{
    if (b != NULL && --b->refs == 0) {
        free(b->data);
        free(b);
    }
}

/* Lends c a buffer from the pool (a new one when it is empty), a new request begun in it; 0 without memory. */
static int conn_take_buffer(struct server *s, struct conn *c)
{
    if (c->buf != NULL)
        return 1;
    if ((c->buf = s->free_buffers) != NULL) {
        s->free_buffers = c->buf->next;
        s->spare_buffers--;
        s->pool_used = s->now;
    } else if ((c->buf = malloc(sizeof *c->buf)) == NULL) {
        return 0;
    }
    http_request_init(&c->buf->req);
    return 1;
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

/* Frees the spare buffers once the pool has gone unused for a while (or at exit), so a burst's memory goes back. */
static void server_trim_pool(struct server *s, int now)
{
    for (struct buffer *next; s->free_buffers != NULL && (now || s->now - s->pool_used >= SPARE_IDLE_MS);) {
        next = s->free_buffers->next;
        free(s->free_buffers);
        s->free_buffers = next;
        s->spare_buffers--;
    }
}

/*
 * Makes the table, the sets and the pending list hold descriptor fd, doubling them: memory follows the connections,
 * not the limit. 0: fd cannot be watched (no memory, or the portable build's fd at or above FD_SETSIZE).
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
    for (int i = 0; i < SETS; i++)
        ok = fdset_resize(&s->set[i], s->table_size, size) && ok;
    int *pending = realloc(s->pending, 2 * (size_t)size * sizeof *pending); /* this round's list, then the next's */
    if (pending != NULL)
        s->pending = pending;
    if (conn == NULL || pending == NULL || !ok)
        return 0;
    s->table_size = size;
    return 1;
}

/* Returns the set a connection in a state is watched in: all wait to read, but those sending. */
static struct fdset *state_set(struct server *s, enum conn_state state)
{
    return &s->set[state == CONN_SENDING ? WANT_WRITE : WANT_READ];
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
    *(c->prev != NULL ? &c->prev->next : &q->head) = c->next;
    *(c->next != NULL ? &c->next->prev : &q->tail) = c->prev;
    if (q->park == c)
        q->park = c->next;
    q->count--;
    fdset_put(c->parked ? &s->set[PARKED_READ] : state_set(s, c->state), c->fd, 0);
    s->parked -= c->parked;
    c->parked = 0;
}

/* Appends c to its state's queue, stamped now, and watches it for reading or writing as the state needs. */
static void queue_link(struct server *s, struct conn *c)
{
    struct queue *q = &s->queue[c->state];
    c->since = s->now;
    c->prev = q->tail;
    c->next = NULL;
    *(q->tail != NULL ? &q->tail->next : &q->head) = c;
    q->tail = c;
    if (q->park == NULL)
        q->park = c;
    q->count++;
    fdset_put(state_set(s, c->state), c->fd, 1);
}

/* Moves c to another state: to its queue's tail with a fresh deadline, in the set it needs. Every change comes here. */
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
    if (c->since != s->now)
        conn_enter(s, c, c->state);
}

/* Parks connections waiting to read that have been quiet for PARK_AFTER_MS: busy rounds leave them out. */
static void server_park(struct server *s)
{
    for (int state = CONN_IDLE; state < CONN_STATES; state++) {
        struct queue *q = &s->queue[state];
        for (struct conn *c = q->park; state != CONN_SENDING && c != NULL && c->since + PARK_AFTER_MS <= s->now;
             c = q->park) {
            fdset_put(&s->set[WANT_READ], c->fd, 0);
            fdset_put(&s->set[PARKED_READ], c->fd, 1);
            c->parked = 1;
            s->parked++;
            q->park = c->next;
        }
    }
}

/* Leaves a request in c's buffer for the next round: its turn is over, and select() will not report it. */
static void conn_defer(struct server *s, struct conn *c)
{
    if (!c->pending) { /* listed once besides this round's carried turns: pending[] never overflows */
        c->pending = 1;
        s->pending[s->pending_count++] = c->fd;
    }
}

static void body_drop(struct server *s, struct body *b);

/* Queues one Common Log Format line for stdout; the loop writes the queue once per round. */
static void conn_log(struct server *s, struct conn *c)
{
    enum http_status status = c->status;
    s->bytes += (unsigned long long)c->body_sent;
    c->status = 0; /* logged: a later close must not log it again */
    if (s->quiet)
        return;
    struct http_buf b = output_space(&s->log, 4 * c->buf->req.line.len + 128);
    http_buf_printf(&b, "%s - - [%s] \"", c->peer, s->log_date);
    if (c->buf->req.line.len > 0)
        http_buf_log(&b, c->buf->in + c->buf->req.line.off, c->buf->req.line.len);
    else
        http_buf_put(&b, "-", 1);
    http_buf_printf(&b, "\" %d %lld\n", (int)status, c->body_sent);
    output_commit(&s->log, &b);
}

/* Closes c, logging a response it cut short; freed at the round's end, as its turn may still look at it (CONN_FREE). */
static void conn_close(struct server *s, struct conn *c, const char *why)
{
    trace(s, "  fd %d: closed (%s)", c->fd, why);
    if (c->status != 0)
        conn_log(s, c);
    body_drop(s, &c->body);
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
 * Closes the longest-idle keep-alive connection to make room, as nginx does: an idle one is never being answered.
 * For a new client only a parked one goes; for a file, any. One whose next request came unseen (a peek finds it)
 * is watched again instead. Returns 1 when a connection was closed.
 */
static int server_reclaim(struct server *s, const char *why, int parked_only)
{
    struct conn *c = s->queue[CONN_IDLE].head, *next;
    for (; c != NULL && (c->parked || !parked_only); c = next) {
        char probe;
        ssize_t n = recv(c->fd, &probe, 1, MSG_PEEK);
        next = c->next;
        if (n > 0 || (n < 0 && errno == EINTR)) {
            conn_enter(s, c, CONN_IDLE); /* unparked, at the tail: the next round reads its request */
            continue;
        }
        conn_close(s, c, n == 0 ? "client done" : errno == EAGAIN || errno == EWOULDBLOCK ? why : strerror(errno));
        return 1;
    }
    return 0;
}

/* Starts a fresh request on c, keeping pipelined bytes that followed the last one: READING when some are, else IDLE. */
static void conn_next_request(struct server *s, struct conn *c, size_t consumed)
{
    c->in_len -= consumed;
    if (c->in_len > 0) {
        memmove(c->buf->in, c->buf->in + consumed, c->in_len);
        http_request_init(&c->buf->req);
    } else {
        conn_give_buffer(s, c);
    }
    c->status = 0;
    c->body_sent = 0;
    conn_enter(s, c, c->in_len > 0 ? CONN_READING : CONN_IDLE);
}

/* Says whether an address is a loopback one: 127.0.0.0/8 or ::1 (also as ::ffff:127.x.x.x). */
static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family != AF_INET6)
        return 0;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Takes a freshly accepted socket into the table; returns 0 without memory. */
static int conn_open(struct server *s, int fd, const struct sockaddr *sa, socklen_t len)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return 0;
    s->conn[fd] = c;
    c->fd = fd;
    c->body.fd = -1;
    c->loopback = addr_is_loopback(sa);
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
    conn_next_request(s, c, 0);
    s->conns++;
    s->handled++;
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

/* Says once per file on stderr why path got 403 and what to change: the client only sees a refusal. */
static void server_explain_403(struct server *s, const char *path, const char *why, const char *fix)
{
    unsigned long h = 2166136261u;
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (int i = 0; i < NOTES_KEPT; i++)
        if (s->noted[i] == h)
            return;
    s->noted[s->noted_next] = h;
    s->noted_next = (s->noted_next + 1) % NOTES_KEPT;
    note(s, "server: 403 for %s: %s; %s", path, why, fix);
}

/* Explains a 403 that an open or stat failing with err gave (a refused permission, a symlink loop). */
static void server_explain_errno(struct server *s, const char *path, int err)
{
    char why[160];
    if (status_from_errno(err) != HTTP_FORBIDDEN)
        return;
    snprintf(why, sizeof why, "user '%s' cannot open it: %s", s->user_name, strerror(err));
    server_explain_403(s, path, why, err == ELOOP || err == ENXIO ? "fix the link or the name"
                       : s->dropped_root ? "let that user read it (chmod a+r, and a+x on its folders), or serve "
                                           "as a user who may with -u USER"
                                         : "let this user read it (chmod a+r, and a+x on its folders)");
}

/*
 * Opens name under dir for reading, without side effects: a FIFO or device can neither block the loop nor become
 * the controlling terminal. Out of descriptors, it reclaims an idle keep-alive connection and tries once more. The
 * portable build moves the file above FD_SETSIZE, leaving the numbers select() can watch to sockets.
 */
static int server_open(struct server *s, int dir, const char *name)
{
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    int fd = openat(dir, name, flags);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && server_reclaim(s, "reclaimed: descriptors ran short", 0))
        fd = openat(dir, name, flags);
    if (fd >= 0 && s->files_above && fd < SET_CAPACITY) {
        int high = fcntl(fd, F_DUPFD_CLOEXEC, SET_CAPACITY);
        if (high >= 0) {
            close(fd);
            fd = high;
        }
    }
    return fd;
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

/* Returns a clean path relative to the root, as openat and fstatat take it. */
static const char *relative(const char *path)
{
    return path[1] ? path + 1 : ".";
}

/* Writes a clean path's sibling name in coding, relative to the root, into name (PATH_TEXT_MAX bytes). */
static const char *sibling_name(char name[PATH_TEXT_MAX], const char *path, enum http_coding coding)
{
    const char *file = relative(path), *suffix = http_coding_suffix(coding);
    size_t n = strlen(file);
    memcpy(name, file, n);
    memcpy(name + n, suffix, strlen(suffix) + 1);
    return name;
}

/* Writes the folder of a clean path, relative to the root, into name (PATH_TEXT_MAX bytes). */
static const char *folder_name(char name[PATH_TEXT_MAX], const char *path)
{
    size_t n = (size_t)(strrchr(path, '/') - path);
    memcpy(name, path + 1, n);
    name[n > 0 ? n - 1 : 0] = '\0';
    return n > 1 ? name : ".";
}

/* Describes one representation of a file from its stat, for http_decide. */
static struct http_variant variant_of(const struct stat *st)
{
    return (struct http_variant){ (long long)st->st_size, (unsigned long long)st->st_ino,
                                  (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
                                  (unsigned long long)st->st_mtim.tv_nsec, st->st_mtime, NULL, NULL };
}

/* Reads the regular file on fd (stat st), max bytes at most, into a blob; NULL if larger, short or changed midway. */
static struct blob *read_small_file(int fd, const struct stat *st, size_t max)
{
    size_t size = (size_t)st->st_size, have = 0;
    struct stat after;
    char *data;
    if (!S_ISREG(st->st_mode) || st->st_size < 0 || (unsigned long long)st->st_size > max ||
        (data = malloc(size + 1)) == NULL)
        return NULL;
    for (ssize_t n = 1; have < size && n != 0;) {
        n = pread(fd, data + have, size - have, (off_t)have);
        if (n < 0 && errno != EINTR)
            break;
        have += n > 0 ? (size_t)n : 0;
    }
    data[have] = '\0';
    if (have != size || fstat(fd, &after) != 0 || !same_file(&after, st)) {
        free(data);
        return NULL;
    }
    return blob_new(data, size);
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
        if (set[way].path[0] != '\0' && strcmp(set[way].path, path) == 0)
            return &set[way];
    return NULL;
}

/* Empties a cache slot; responses still sending its blobs keep their references. */
static void cache_drop(struct cached *e)
{
    for (int c = 0; c < HTTP_CODINGS; c++) {
        blob_release(e->blob[c]);
        e->blob[c] = NULL;
    }
    e->path[0] = '\0';
}

/* Returns path's kept file if it is unchanged, else NULL; a sibling that comes or goes changes the folder's stat. */
static struct cached *cache_find(struct server *s, const char *path)
{
    struct cached *e = cache_lookup(s, path);
    char name[PATH_TEXT_MAX];
    struct stat st;
    if (e == NULL)
        return NULL;
    int same = e->round == s->round ||
               (fstatat(s->root_fd, folder_name(name, path), &st, 0) == 0 && same_file(&st, &e->dir));
    for (int c = 0; same && e->round != s->round && c < HTTP_CODINGS; c++)
        same = !e->st[c].st_nlink || (fstatat(s->root_fd, c == 0 ? relative(path) : sibling_name(name, path, c), &st,
                                              0) == 0 && same_file(&st, &e->st[c]));
    if (!same) {
        cache_drop(e);
        return NULL;
    }
    e->round = s->round;
    e->used = ++s->cache_uses;
    return e;
}

/* Says whether a file is small enough, and its path short enough, to be kept in memory. */
static int cache_fits(const char *path, const struct stat *st)
{
    return strlen(path) < CACHE_PATH_MAX && st->st_size <= CACHE_FILE_MAX;
}

/*
 * Keeps a small file (open on fd) and each representation a client may get, so a hit needs no open: in an empty
 * slot of its set, else the least recently used. Only files and siblings unchanged for CACHE_SETTLE s are kept.
 */
static struct cached *cache_put(struct server *s, const char *path, int fd, const struct http_found *f,
                                const struct stat sib[HTTP_CODINGS], const struct stat *dir)
{
    struct blob *blob[HTTP_CODINGS] = { NULL };
    char name[PATH_TEXT_MAX];
    int ok = cache_fits(path, &sib[0]);
    for (int c = 0; ok && c < HTTP_CODINGS; c++) {
        if (f->variant[c].size < 0) /* no sibling, or one older than the file: never sent */
            continue;
        int file = c == 0 ? fd : server_open(s, s->root_fd, sibling_name(name, path, (enum http_coding)c));
        ok = file >= 0 && sib[c].st_ctim.tv_sec <= s->date_second - CACHE_SETTLE &&
             (blob[c] = read_small_file(file, &sib[c], CACHE_FILE_MAX)) != NULL;
        if (c > 0 && file >= 0)
            close(file);
    }
    if (!ok) {
        for (int c = 0; c < HTTP_CODINGS; c++)
            blob_release(blob[c]);
        return NULL;
    }
    struct cached *set = cache_set(s, path), *e = cache_lookup(s, path);
    if (e == NULL) { /* an empty slot of the set, else its least recently used */
        e = &set[0];
        for (int way = 1; way < CACHE_WAYS; way++)
            if (e->path[0] != '\0' && (set[way].path[0] == '\0' || set[way].used < e->used))
                e = &set[way];
    }
    cache_drop(e);
    memcpy(e->blob, blob, sizeof e->blob);
    strcpy(e->path, path);
    memcpy(e->st, sib, sizeof e->st);
    e->dir = *dir;
    e->found = *f;
    for (int c = 0; c < HTTP_CODINGS; c++) { /* formatted once, not for every response */
        struct http_variant *v = &e->found.variant[c];
        http_format_etag(e->etag[c], v->inode, v->size, v->mtime_ns);
        http_format_date(e->modified[c], v->mtime);
        v->etag = e->etag[c];
        v->modified = e->modified[c];
    }
    e->round = s->round;
    e->used = ++s->cache_uses;
    return e;
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

/* Frees what only a build needs: the folder stream, the entries, their names and the merge's heap. */
static void listing_free_build(struct listing *l)
{
    if (l->stream != NULL)
        closedir(l->stream);
    l->stream = NULL;
    while (l->names != NULL) {
        struct name_block *next = l->names->next;
        free(l->names);
        l->names = next;
    }
    free(l->entry);
    free(l->heap);
    free(l->run_next);
    free(l->html.data);
    blob_release(l->twin);
    l->twin = NULL;
    l->entry = NULL;
    l->heap = l->run_next = NULL;
    l->html = (struct http_buf){ NULL, 0, 0, 0 };
}

/* Ends a build, finished or failed: a finished listing is fresh (shared with new requests) for LISTING_TTL_MS. */
static void listing_end(struct server *s, struct listing *l, struct blob *page)
{
    listing_free_build(l);
    l->blob = page;
    l->failed = page == NULL;
    l->done_at = s->now;
    l->fresh = page != NULL;
    l->refs += l->fresh;
    s->building--;
    if (page != NULL)
        trace(s, "  listing of %s built", l->path);
    else
        trace(s, "  listing of %s could not be built", l->path);
}

/* Drops one reference to a listing; the last one frees it and takes it out of the server's list. */
static void listing_release(struct server *s, struct listing *l)
{
    if (--l->refs > 0)
        return;
    struct listing **p = &s->listings;
    while (*p != l)
        p = &(*p)->next;
    *p = l->next;
    if (l->done_at == 0)
        s->building--;
    listing_free_build(l);
    blob_release(l->blob);
    free(l->path);
    free(l);
}

/* Lets new requests build afresh once a finished listing has been shared for LISTING_TTL_MS. */
static void server_expire_listings(struct server *s)
{
    for (struct listing *l = s->listings, *next; l != NULL; l = next) {
        next = l->next;
        if (l->fresh && s->now - l->done_at >= LISTING_TTL_MS) {
            l->fresh = 0;
            listing_release(s, l);
        }
    }
}

/* Sorts the run that ends before entry end (binary insertion: a run holds LISTING_READ_STEP entries at most). */
static void listing_sort_run(struct listing *l, size_t end)
{
    size_t start = (end - 1) / LISTING_READ_STEP * LISTING_READ_STEP;
    for (size_t i = start + 1; i < end; i++) {
        struct http_entry e = l->entry[i];
        size_t low = start, high = i; /* e goes after every entry that does not come after it */
        while (low < high) {
            size_t mid = low + (high - low) / 2;
            if (http_entry_compare(&l->entry[mid], &e, l->order) > 0)
                high = mid;
            else
                low = mid + 1;
        }
        memmove(&l->entry[low + 1], &l->entry[low], (i - low) * sizeof e);
        l->entry[low] = e;
    }
}

/* Says whether run a's next entry comes before run b's. */
static int listing_run_before(const struct listing *l, size_t a, size_t b)
{
    return http_entry_compare(&l->entry[l->run_next[a]], &l->entry[l->run_next[b]], l->order) < 0;
}

/* Restores the heap's order from position i down, after its run's next entry changed. */
static void listing_sift(struct listing *l, size_t i)
{
    for (;;) {
        size_t first = i;
        for (size_t kid = 2 * i + 1; kid <= 2 * i + 2 && kid < l->heap_len; kid++)
            if (listing_run_before(l, l->heap[kid], l->heap[first]))
                first = kid;
        if (first == i)
            return;
        size_t run = l->heap[i];
        l->heap[i] = l->heap[first];
        l->heap[first] = run;
        i = first;
    }
}

/* Says whether two listing orders are the same: same column, same direction. */
static int same_order(struct http_order a, struct http_order b)
{
    return a.column == b.column && a.descending == b.descending;
}

/* Once every entry is read: closes the folder, puts the sorted runs in a heap and writes the page's top. */
static int listing_start_merge(struct listing *l)
{
    size_t runs = (l->count + LISTING_READ_STEP - 1) / LISTING_READ_STEP;
    if (l->count % LISTING_READ_STEP != 0)
        listing_sort_run(l, l->count);
    closedir(l->stream);
    l->stream = NULL;
    l->heap = malloc((runs + 1) * sizeof *l->heap);
    l->run_next = malloc((runs + 1) * sizeof *l->run_next);
    if (l->heap == NULL || l->run_next == NULL || !buf_reserve(&l->html, HTTP_LISTING_TOP_MAX(strlen(l->path))))
        return 0;
    for (size_t run = 0; run < runs; run++) {
        l->heap[run] = run;
        l->run_next[run] = run * LISTING_READ_STEP;
    }
    l->heap_len = runs;
    for (size_t i = runs / 2 + 1; i-- > 0;)
        listing_sift(l, i);
    http_format_listing_top(&l->html, l->path, l->order);
    for (struct listing *other = l->next; other != NULL && l->twin == NULL; other = other->next)
        if (other->blob != NULL && same_order(other->order, l->order) && strcmp(other->path, l->path) == 0)
            (l->twin = other->blob)->refs++;
    return 1;
}

/* Reads and looks at up to LISTING_READ_STEP folder entries, sorting each run as it fills; 0 on failure. */
static int listing_read(struct listing *l)
{
    for (int n = 0; n < LISTING_READ_STEP; n++) {
        struct stat st;
        errno = 0;
        struct dirent *d = readdir(l->stream);
        if (d == NULL)
            return errno == 0 && listing_start_merge(l);
        size_t len = strlen(d->d_name);
        if (d->d_name[0] == '.' || len > 255 || fstatat(dirfd(l->stream), d->d_name, &st, 0) < 0)
            continue; /* hidden, too long, or gone since readdir */
        if (l->count == l->cap) {
            struct http_entry *grown = realloc(l->entry, (2 * l->cap + 64) * sizeof *grown);
            if (grown == NULL)
                return 0;
            l->entry = grown;
            l->cap = 2 * l->cap + 64;
        }
        if (l->names == NULL || NAME_BLOCK - l->names->used < len + 1) {
            struct name_block *b = malloc(sizeof *b);
            if (b == NULL)
                return 0;
            *b = (struct name_block){ .next = l->names };
            l->names = b;
        }
        char *name = memcpy(l->names->data + l->names->used, d->d_name, len + 1);
        l->names->used += len + 1;
        l->entry[l->count++] = (struct http_entry){ name, S_ISDIR(st.st_mode), (long long)st.st_size, st.st_mtime };
        if (l->count % LISTING_READ_STEP == 0)
            listing_sort_run(l, l->count);
    }
    return 1;
}

/* Compares the bytes written since the last comparison with the twin's, and lets the twin go when they differ. */
static void listing_compare_twin(struct listing *l)
{
    if (l->twin != NULL && (l->html.len > l->twin->len || memcmp(l->html.data + l->compared,
                                                                 l->twin->data + l->compared,
                                                                 l->html.len - l->compared) != 0)) {
        blob_release(l->twin); /* not the same page */
        l->twin = NULL;
    }
    l->compared = l->html.len;
}

/* Writes up to LISTING_ROW_STEP rows, taking each from the run whose next entry comes first; 0 on failure. */
static int listing_write(struct listing *l)
{
    for (int rows = 0; rows < LISTING_ROW_STEP && l->heap_len > 0; rows++) {
        size_t run = l->heap[0], end = (run + 1) * LISTING_READ_STEP;
        if (!buf_reserve(&l->html, HTTP_LISTING_ROW_MAX))
            return 0;
        http_format_listing_row(&l->html, &l->entry[l->run_next[run]++]);
        if (l->run_next[run] == (end < l->count ? end : l->count))
            l->heap[0] = l->heap[--l->heap_len];
        listing_sift(l, 0);
    }
    listing_compare_twin(l);
    return 1;
}

/* Advances a build by one bounded step: reading entries, or writing rows; ends it when the page is whole. */
static void listing_step(struct server *s, struct listing *l)
{
    int ok = l->stream != NULL ? listing_read(l) : listing_write(l);
    if (!ok) {
        listing_end(s, l, NULL);
    } else if (l->stream == NULL && l->heap_len == 0) {
        struct blob *page = NULL;
        if (buf_reserve(&l->html, 64)) {
            http_format_listing_end(&l->html);
            listing_compare_twin(l);
            if (l->twin != NULL && l->twin->len == l->html.len) {
                page = l->twin; /* the same bytes as a page still being sent: share it */
                l->twin = NULL;
            } else if (!l->html.overflow) {
                page = blob_new(l->html.data, l->html.len);
                l->html.data = NULL; /* the blob took it over (or freed it) */
            }
        }
        listing_end(s, l, page);
    }
}

/* Returns the listing of the folder fd (consumed) in order: one building or fresh, else a new one; NULL: no memory. */
static struct listing *listing_get(struct server *s, int fd, const struct stat *dir, const char *path,
                                   struct http_order order)
{
    struct listing *l;
    for (l = s->listings; l != NULL; l = l->next)
        if (!l->failed && (l->done_at == 0 || l->fresh) && same_order(l->order, order) && same_file(&l->dir, dir) &&
            strcmp(l->path, path) == 0) {
            close(fd);
            l->refs++;
            return l;
        }
    if ((l = calloc(1, sizeof *l)) == NULL || (l->path = strdup(path)) == NULL ||
        (l->stream = fdopendir(fd)) == NULL) {
        if (l != NULL)
            free(l->path);
        free(l);
        close(fd);
        return NULL;
    }
    l->refs = 1;
    l->order = order;
    l->dir = *dir;
    l->next = s->listings;
    s->listings = l;
    s->building++;
    trace(s, "  listing of %s started", path);
    return l;
}

/* Lets go of a body: the open file, the blob, or the listing it waited for. */
static void body_drop(struct server *s, struct body *b)
{
    if (b->fd >= 0)
        close(b->fd);
    blob_release(b->blob);
    if (b->listing != NULL)
        listing_release(s, b->listing);
    *b = (struct body){ .fd = -1 };
}

/* Where the bytes of a file found for a request are: its kept copies, or the file open on disk. */
struct source {
    struct cached *kept;          /* the file and its siblings in memory, or NULL */
    int fd;                       /* the file itself, open; -1: none (a sibling is opened when it is chosen) */
    char path[PATH_TEXT_MAX];     /* the clean path of what was found */
    char location[HTTP_LOCATION_MAX]; /* a redirect's target */
};

/* Says whether the request carries a user's credentials: all compared, each in constant time, so timing tells none. */
static int conn_authorized(const struct server *s, const struct conn *c)
{
    const struct http_span *f = &c->buf->req.field[HTTP_FIELD_AUTHORIZATION];
    char given[HTTP_CREDENTIALS_MAX];
    size_t len = 0;
    int ok = 0;
    if (f->off == 0 || !http_basic_credentials(c->buf->in + f->off, f->len, given, sizeof given, &len))
        return 0;
    for (int i = 0; i < s->user_count; i++)
        ok |= http_secret_equal(given, len, s->user[i].text, s->user[i].len);
    return ok;
}

/*
 * Describes the regular file open on fd (stat st) at src->path and its siblings for http_decide, keeping a small
 * one in memory on the way. A sibling may be served when it is a regular file not older than the file; the folder
 * is looked at first, so that a sibling that comes meanwhile changes it after.
 */
static void conn_find_file(struct server *s, struct http_found *f, struct source *src, int fd, const struct stat *st)
{
    struct stat sib[HTTP_CODINGS], dir; /* st_nlink 0: no such sibling */
    char name[PATH_TEXT_MAX];
    if (!cache_fits(src->path, st) || fstatat(s->root_fd, folder_name(name, src->path), &dir, 0) != 0)
        memset(&dir, 0, sizeof dir); /* never the same as a folder's: the copy is checked again next round */
    f->status = HTTP_OK;
    f->type = http_mime_type(&s->mime, src->path);
    f->cache_control = s->cache_control;
    f->variant[HTTP_CODING_IDENTITY] = variant_of(st);
    sib[HTTP_CODING_IDENTITY] = *st;
    for (int c = 1; c < HTTP_CODINGS; c++) {
        if (fstatat(s->root_fd, sibling_name(name, src->path, (enum http_coding)c), &sib[c], 0) != 0 ||
            !S_ISREG(sib[c].st_mode))
            memset(&sib[c], 0, sizeof sib[c]);
        f->variant[c] = sib[c].st_nlink && !older(&sib[c], st) ? variant_of(&sib[c])
                                                               : (struct http_variant){ .size = -1 };
    }
    src->kept = cache_put(s, src->path, fd, f, sib, &dir);
    src->fd = fd;
}

/*
 * Finds what a directory open on fd (stat dir) at src->path (len bytes, slash last) gives: its index.html or
 * index.htm, else its listing in the query's order, which a GET waits for as its body; HEAD and OPTIONS build none.
 */
static void conn_find_directory(struct server *s, struct conn *c, struct http_found *f, struct source *src, int fd,
                                const struct stat *dir, size_t len, const char *query, size_t query_len)
{
    static const char *const index_names[] = { "index.html", "index.htm" };
    struct stat st;
    for (size_t i = 0; i < sizeof index_names / sizeof index_names[0]; i++) {
        int index = server_open(s, fd, index_names[i]), err = errno;
        if (index >= 0 && fstat(index, &st) == 0 && S_ISREG(st.st_mode)) {
            close(fd);
            strcpy(src->path + len, index_names[i]);
            conn_find_file(s, f, src, index, &st);
            return;
        }
        if (index >= 0) {
            close(index); /* not a regular file: the folder is listed */
        } else if (err != ENOENT) { /* unreadable, or no descriptor: never list what an index hides */
            close(fd);
            f->status = status_from_errno(err);
            strcpy(src->path + len, index_names[i]);
            server_explain_errno(s, src->path, err);
            return;
        }
    }
    *f = (struct http_found){ s->list_folders ? HTTP_OK : HTTP_FORBIDDEN, "text/html", { { .size = -1 } }, 1, NULL,
                              s->cache_control };
    if (!s->list_folders || c->buf->req.method != HTTP_METHOD_GET) {
        close(fd);
        return;
    }
    c->body.listing = listing_get(s, fd, dir, src->path,
                                  http_listing_order(query + (query_len > 0), query_len - (query_len > 0)));
    f->status = c->body.listing != NULL ? HTTP_OK : HTTP_INTERNAL_ERROR;
}

/* Finds what a clean path names: a file, a folder's index or listing, or a redirect adding its slash; else a status. */
static void conn_find_path(struct server *s, struct conn *c, struct http_found *f, struct source *src,
                           const char *query, size_t query_len)
{
    struct stat st;
    char *path = src->path;
    size_t len = strlen(path);
    if (path[len - 1] == '/') /* a folder's index may be in memory */
        memcpy(path + len, "index.html", sizeof "index.html");
    src->kept = cache_find(s, path);
    if (src->kept != NULL) {
        *f = src->kept->found;
        c->origin = " from memory";
        return;
    }
    path[len] = '\0';
    int fd = server_open(s, s->root_fd, relative(path));
    if (fd < 0) {
        f->status = status_from_errno(errno);
        server_explain_errno(s, path, errno);
    } else if (fstat(fd, &st) < 0) {
        close(fd);
        f->status = HTTP_INTERNAL_ERROR;
    } else if (S_ISDIR(st.st_mode) && path[len - 1] != '/') {
        struct http_buf b = { src->location, 0, sizeof src->location - 1, 0 };
        close(fd);
        http_buf_url(&b, path, len);
        http_buf_put(&b, "/", 1);
        http_buf_put(&b, query, query_len);
        src->location[b.overflow ? 0 : b.len] = '\0';
        f->status = b.overflow ? HTTP_URI_TOO_LONG : HTTP_MOVED_PERMANENTLY;
        f->location = src->location;
    } else if (S_ISDIR(st.st_mode)) {
        conn_find_directory(s, c, f, src, fd, &st, len, query, query_len);
    } else if (!S_ISREG(st.st_mode)) {
        close(fd);
        f->status = HTTP_FORBIDDEN;
        server_explain_403(s, path, "it is not a regular file", "a FIFO, device or socket is never served");
    } else {
        conn_find_file(s, f, src, fd, &st);
    }
}

/* Makes the loop's status text (nginx's stub_status; "?full" adds the loop's own counts) the body. */
static void conn_find_status(struct server *s, struct conn *c, struct http_found *f, const char *query, size_t len)
{
    struct http_loop_status st = { s->accepts, s->handled, s->requests, s->queue[CONN_READING].count,
                                   s->queue[CONN_SENDING].count + s->queue[CONN_CLOSING].count,
                                   s->queue[CONN_IDLE].count, s->round, s->parked, s->queue[CONN_CLOSING].count,
                                   s->building };
    struct http_buf b = { malloc(HTTP_STATUS_TEXT_MAX), 0, HTTP_STATUS_TEXT_MAX, 0 };
    if (b.data != NULL)
        http_format_status(&b, &st, len == 5 && memcmp(query, "?full", 5) == 0);
    c->body.blob = b.overflow ? (free(b.data), NULL) : blob_new(b.data, b.len);
    *f = (struct http_found){ c->body.blob ? HTTP_OK : HTTP_UNAVAILABLE, "text/plain",
                              { { .size = c->body.blob ? (long long)b.len : -1 } }, 1, NULL, "no-store" };
}

/* Makes a 404's body the root's 404.html, when there is one; read from disk each time, so an edit shows at once. */
static void conn_find_not_found_page(struct server *s, struct conn *c, struct http_found *f)
{
    struct stat st;
    int fd = s->single == NULL ? server_open(s, s->root_fd, "404.html") : -1;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        *f = (struct http_found){ HTTP_NOT_FOUND, "text/html", { variant_of(&st) }, 1, NULL, NULL };
        c->body.fd = fd;
    } else if (fd >= 0) {
        close(fd);
    }
}

/* Finds what the request names and describes it in f for http_decide; a 404 may give way to -s's index or 404.html. */
static void conn_find(struct server *s, struct conn *c, struct http_found *f, struct source *src)
{
    const char *target = c->buf->in + c->buf->req.target.off;
    size_t query;
    if (s->user_count > 0 && !conn_authorized(s, c)) {
        f->status = HTTP_UNAUTHORIZED;
        return;
    }
    if (c->buf->req.method == HTTP_METHOD_OPTIONS && c->buf->req.target.len == 1 && target[0] == '*')
        return;
    f->status = http_target_path(target, c->buf->req.target.len, src->path, HTTP_HEAD_MAX + 2, &query);
    if (f->status != HTTP_OK)
        return;
    const char *q = target + query;
    size_t q_len = c->buf->req.target.len - query;
    if (s->status_path != NULL && strcmp(src->path, s->status_path) == 0) {
        conn_find_status(s, c, f, q, q_len);
        return;
    }
    if (s->single != NULL && strcmp(src->path, "/") != 0 && strcmp(src->path + 1, s->single) != 0)
        f->status = HTTP_NOT_FOUND;
    else if (s->single != NULL)
        snprintf(src->path, sizeof src->path, "/%s", s->single);
    else if (http_path_hidden(src->path))
        f->status = HTTP_NOT_FOUND;
    if (f->status == HTTP_OK)
        conn_find_path(s, c, f, src, q, q_len);
    if (f->status == HTTP_NOT_FOUND && s->spa && s->single == NULL && !http_path_hidden(src->path)) {
        strcpy(src->path, "/index.html");
        conn_find_path(s, c, f, src, "", 0);
    }
    if (f->status == HTTP_NOT_FOUND)
        conn_find_not_found_page(s, c, f);
}

/* Takes the chosen representation as c's body: from memory, the open file or its sibling; 0 if that changed since. */
static int conn_take(struct server *s, struct conn *c, const struct http_found *f, struct source *src,
                     enum http_coding coding)
{
    char name[PATH_TEXT_MAX];
    struct stat st;
    if (src->kept != NULL) {
        c->body.blob = src->kept->blob[coding];
        c->body.blob->refs++;
        return 1;
    }
    if (coding == HTTP_CODING_IDENTITY) {
        c->body.fd = src->fd;
        src->fd = -1;
        return 1;
    }
    int fd = server_open(s, s->root_fd, sibling_name(name, src->path, coding));
    struct http_variant v = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? variant_of(&st)
                                                                                  : (struct http_variant){ .size = -1 };
    const struct http_variant *want = &f->variant[coding];
    if (v.size == want->size && v.inode == want->inode && v.mtime_ns == want->mtime_ns) {
        c->body.fd = fd;
        return 1;
    }
    if (fd >= 0)
        close(fd);
    return 0;
}

/*
 * Decides the reply, takes the chosen bytes as the body and writes the head into out[]; a sibling that changed
 * since it was described is left out and the reply decided again. A GET waiting for a listing waits for its head.
 */
static void conn_reply(struct server *s, struct conn *c, struct http_found *f, struct source *src)
{
    struct http_reply r;
    while (http_decide(&c->buf->req, c->buf->in, f, s->date_second, c->keep_alive, &r), r.body && !r.page &&
           !f->generated && !conn_take(s, c, f, src, r.coding))
        f->variant[r.coding].size = -1;
    if (src != NULL && src->fd >= 0)
        close(src->fd);
    if (!r.body || r.page)
        body_drop(s, &c->body);
    else if (c->body.listing != NULL && c->body.blob == NULL)
        return;
    struct http_buf b = { c->buf->out, 0, sizeof c->buf->out, 0 }; /* fits: Location and type are bounded */
    r.head.date = s->date;
    r.head.extra_fields = s->extra_fields[0] != '\0' ? s->extra_fields : NULL;
    if (r.page) {
        c->page_at = http_format_page(&b, &r.head, !r.body);
    } else {
        http_format_head(&b, &r.head);
        c->page_at = b.len;
        c->body.off = r.body ? (off_t)r.first : 0;
        c->body.end = r.body ? (off_t)r.last + 1 : 0;
        c->body.copy = c->loopback;
    }
    c->head_len = b.len;
    c->head_sent = 0;
    c->status = r.head.status;
    c->response_size = (long long)b.len + (c->body.end - c->body.off);
    c->response_sent = 0;
    if (s->verbose) {
        char line[256];
        struct http_buf shown = { line, 0, sizeof line - 1, 0 };
        http_buf_log(&shown, c->buf->in + c->buf->req.line.off, c->buf->req.line.len < 64 ? c->buf->req.line.len : 64);
        line[shown.len] = '\0';
        if (c->buf->req.line.len == 0) /* no request line came whole: a timeout, or a head that broke off early */
            trace(s, "  fd %d: no whole request line, answering %d", c->fd, (int)c->status);
        else
            trace(s, "  fd %d: request \"%s\" complete, answering %d%s", c->fd, line, (int)c->status, c->origin);
    }
}

/* Answers a GET whose listing is now done: its page (shared with every reader) is the body, or 500. */
static void conn_listing_done(struct server *s, struct conn *c)
{
    struct listing *l = c->body.listing;
    struct http_found f = { .status = HTTP_INTERNAL_ERROR };
    if (!l->failed) {
        f = (struct http_found){ HTTP_OK, "text/html", { { .size = (long long)l->blob->len } }, 1, NULL,
                                 s->cache_control };
        c->body.blob = l->blob; /* the listing stays held too, so that a rebuild can find its page */
        l->blob->refs++;
    }
    conn_reply(s, c, &f, NULL);
}

/* Answers the request the parser just finished (or refused with status): finds, decides, starts sending. */
static void conn_respond(struct server *s, struct conn *c, enum http_status status)
{
    struct http_found f = { .status = status };
    struct source src; /* not zeroed: its two buffers are 10 KiB, written before they are read */
    src.kept = NULL;
    src.fd = -1;
    s->requests++;
    c->keep_alive = status == HTTP_OK && c->buf->req.keep_alive; /* the parser says no when a body was left unread */
    c->origin = "";
    conn_enter(s, c, CONN_SENDING);
    if (status == HTTP_OK)
        conn_find(s, c, &f, &src);
    if (c->body.listing != NULL && c->body.listing->done_at != 0)
        conn_listing_done(s, c);
    else
        conn_reply(s, c, &f, &src);
}

#ifdef USE_OUTQ
/* Says whether every byte of the response has left: nothing waits unsent in fd's queue, so a close drops nothing. */
static int sent_all(int fd)
{
    int unsent = 1;
    return ioctl(fd, SIOCOUTQNSD, &unsent) == 0 && unsent == 0;
}
#else
/* Without a way to know whether the client has everything, every close lingers. */
static int sent_all(int fd)
{
    (void)fd;
    return 0;
}
#endif

/*
 * Ends a response: logs it, then waits for the next request, or closes. Closing with unread input (or input
 * arriving while some of the response is unsent) makes the kernel send a reset and drop the rest; so a client
 * that asked to close is closed at once only when it has everything and a read finds nothing more. Any other
 * close lingers: the sending side is shut down and the client's input drained first.
 */
static void conn_finish(struct server *s, struct conn *c)
{
    int asked_to_close = c->status < HTTP_BAD_REQUEST && !c->buf->req.body_unread; /* and the parse went well */
    conn_log(s, c);
    body_drop(s, &c->body);
    if (c->keep_alive) {
        conn_next_request(s, c, c->buf->req.end);
        return;
    }
    ssize_t n = asked_to_close && c->in_len == c->buf->req.end && sent_all(c->fd)
                    ? read(c->fd, s->drain, sizeof s->drain) : 1;
    if (n == 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) { /* nothing unread: no reset to fear */
        conn_close(s, c, "answered; the client asked to close");
        return;
    }
    conn_give_buffer(s, c);
    if (shutdown(c->fd, SHUT_WR) < 0) {
        conn_close(s, c, "client gone");
        return;
    }
    conn_enter(s, c, CONN_CLOSING);
}

/* Says whether a failed call only has to wait or be retried. */
static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Writes the head's rest (iov[0], maybe empty) and body bytes (iov[1]); more: Linux holds them for what follows. */
static ssize_t send_parts(int fd, struct iovec iov[2], int more)
{
    int count = iov[1].iov_len > 0 ? 2 : 1;
    if (iov[0].iov_len == 0)
        return write(fd, iov[1].iov_base, iov[1].iov_len);
#ifdef USE_MSG_MORE
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)count };
    return sendmsg(fd, &msg, more ? MSG_MORE : 0);
#else
    (void)more;
    return writev(fd, iov, count);
#endif
}

/*
 * Sends at most max bytes: the head's rest with the body's next bytes, from memory, with sendfile(), or copied
 * (pread, then one write with the head, as h2o does): for a client on this machine, where that is faster, and
 * where a file system refuses sendfile(). Returns the bytes written, 0 when the file ended early, or -1.
 */
static ssize_t conn_send_step(struct server *s, struct conn *c, size_t max)
{
    struct body *b = &c->body;
    size_t head_left = c->head_len - c->head_sent, room = max > head_left ? max - head_left : 0;
    size_t want = b->end - b->off < (off_t)room ? (size_t)(b->end - b->off) : room; /* off_t: past 4 GiB too */
    struct iovec iov[2] = { { c->buf->out + c->head_sent, head_left }, { NULL, 0 } };
    ssize_t n;
    if (b->fd < 0 || want == 0) { /* memory: MSG_MORE when a file follows */
        if (b->blob != NULL)
            iov[1] = (struct iovec){ b->blob->data + b->off, want };
        return send_parts(c->fd, iov, b->fd >= 0);
    }
#ifdef USE_SENDFILE
    if (!b->copy && head_left > 0)
        return send_parts(c->fd, iov, 1);
    if (!b->copy) {
        off_t off = b->off;
        if ((n = sendfile(c->fd, b->fd, &off, want)) >= 0 || (errno != EINVAL && errno != ENOSYS))
            return n;
        b->copy = 1;
    }
#endif
    n = pread(b->fd, s->copy, want < sizeof s->copy ? want : sizeof s->copy, b->off);
    if (n <= 0)
        return n;
    iov[1] = (struct iovec){ s->copy, (size_t)n };
    return send_parts(c->fd, iov, 0);
}

/* The sending turn: a step of an awaited listing (ending the turn), else sending within the budget; 1: it may go on. */
static int conn_send_turn(struct server *s, struct conn *c, struct budget *b)
{
    if (c->body.listing != NULL && c->body.blob == NULL) {
        if (c->body.listing->done_at == 0) /* another reader's turn may have finished it */
            listing_step(s, c->body.listing);
        conn_touch(s, c);
        if (c->body.listing->done_at != 0)
            conn_listing_done(s, c);
        return 0;
    }
    if (b->bytes == 0)
        return 0;
    ssize_t n = conn_send_step(s, c, b->bytes);
    if (n < 0 && would_block())
        return errno == EINTR;
    if (n <= 0) {
        conn_close(s, c, n == 0 ? "file shrank" : strerror(errno));
        return 0;
    }
    size_t out_part = (size_t)n < c->head_len - c->head_sent ? (size_t)n : c->head_len - c->head_sent;
    size_t head_part = c->head_sent >= c->page_at             ? 0
                       : out_part < c->page_at - c->head_sent ? out_part
                                                              : c->page_at - c->head_sent;
    c->head_sent += out_part;
    c->body.off += (off_t)((size_t)n - out_part);
    c->body_sent += (long long)((size_t)n - head_part); /* a page after the head is its body too */
    c->response_sent += n;
    b->bytes = (size_t)n < b->bytes ? b->bytes - (size_t)n : 0;
    trace(s, "  fd %d: wrote %zd bytes, %lld of %lld sent", c->fd, n, c->response_sent, c->response_size);
    if (c->head_sent == c->head_len && c->body.off >= c->body.end)
        conn_finish(s, c);
    else
        conn_touch(s, c);
    return 1;
}

/*
 * The reading turn: answers a whole request in hand (or refuses a bad one); reads only when select() said bytes
 * wait or the last read filled its room. Partial bytes make an idle connection READING before the turn moves on,
 * so outside a turn IDLE always means nothing in hand. Returns 1 when it may go on.
 */
static int conn_read_turn(struct server *s, struct conn *c, int *readable, struct budget *b)
{
    if (c->in_len > 0) {
        if (b->requests == 0 || b->bytes == 0) { /* parse it in the next round's turn */
            if (c->state == CONN_IDLE)
                conn_enter(s, c, CONN_READING);
            conn_defer(s, c);
            return 0;
        }
        enum http_status status = http_parse(&c->buf->req, c->buf->in, c->in_len);
        if (status != HTTP_NEED_MORE) {
            b->requests--;
            conn_respond(s, c, status); /* READING, or IDLE when the whole request came in one read */
            return 1;
        }
        c->in_len = http_compact(&c->buf->req, c->buf->in, c->in_len); /* a body's bytes, once thrown away, go */
        if (c->state == CONN_IDLE) /* a request has begun: its head's time limit runs */
            conn_enter(s, c, CONN_READING);
    }
    if (!*readable)
        return 0;
    if (!conn_take_buffer(s, c)) {
        conn_close(s, c, "out of memory");
        return 0;
    }
    size_t room = sizeof c->buf->in - c->in_len;
    ssize_t n = read(c->fd, c->buf->in + c->in_len, room);
    if (n > 0) {
        c->in_len += (size_t)n;
        *readable = (size_t)n == room;
        trace(s, "  fd %d: read %zd bytes", c->fd, n);
        return 1;
    }
    if (n == 0 || !would_block()) {
        conn_close(s, c, n < 0 ? strerror(errno) : c->in_len ? "client closed mid-request" : "client done");
        return 0;
    }
    if (errno == EINTR)
        return 1;
    if (c->in_len == 0)
        conn_give_buffer(s, c);
    *readable = 0;
    return 0;
}

/* The closing turn: drains what the client still sends, until it closes too; at most the budget a turn. */
static int conn_drain_turn(struct server *s, struct conn *c, int *readable, struct budget *b)
{
    if (!*readable)
        return 0;
    ssize_t n = read(c->fd, s->drain, sizeof s->drain);
    if (n < 0 && would_block())
        return *readable = errno == EINTR;
    if (n <= 0) {
        conn_close(s, c, n == 0 ? "client done" : strerror(errno));
        return 0;
    }
    *readable = (size_t)n == sizeof s->drain;
    b->bytes = (size_t)n < b->bytes ? b->bytes - (size_t)n : 0; /* a client that keeps sending cannot hold the loop */
    return b->bytes > 0;
}

/* Gives c its turn: its state's turn function runs until it must wait or its budget is spent: none holds up others. */
static void conn_turn(struct server *s, struct conn *c, int readable)
{
    struct budget b = { SLICE_BYTES, TURN_REQUESTS };
    int more = 1;
    c->turn = s->round;
    while (more) {
        switch (c->state) {
        case CONN_IDLE:
        case CONN_READING:
            more = conn_read_turn(s, c, &readable, &b);
            break;
        case CONN_SENDING:
            more = conn_send_turn(s, c, &b);
            break;
        case CONN_CLOSING:
            more = conn_drain_turn(s, c, &readable, &b);
            break;
        default:
            more = 0;
        }
    }
}

/* Deals with a connection past its deadline: 408 for a partial request, otherwise a silent close. */
static void conn_expire(struct server *s, struct conn *c)
{
    if (c->state == CONN_READING && c->buf->req.started) {
        trace(s, "  fd %d: request %s timed out", c->fd, c->buf->req.head_len == 0 ? "head" : "body");
        if (c->buf->req.head_len == 0) /* the head never came whole: nothing of it is logged as a request */
            c->buf->req.line.len = 0;
        conn_respond(s, c, HTTP_REQUEST_TIMEOUT);
        conn_turn(s, c, 0);
    } else {
        conn_close(s, c, c->state == CONN_IDLE || c->state == CONN_READING ? "idle timeout" : "timeout");
    }
}

/* Expires connections past their deadline: queues are oldest first, and expiring only moves to a later state's. */
static void server_expire(struct server *s)
{
    for (int state = CONN_IDLE; state < CONN_STATES; state++) {
        struct queue *q = &s->queue[state];
        long long limit = state_limit(s, (enum conn_state)state);
        while (q->head != NULL && q->head->since + limit <= s->now)
            conn_expire(s, q->head);
    }
    server_expire_listings(s);
}

/* Answers a client whose socket cannot be watched with a best-effort 503, then closes it. */
static void server_refuse(struct server *s, int fd)
{
    char out[HTTP_RESPONSE_HEAD_MAX];
    struct http_buf b = { out, 0, sizeof out, 0 };
    struct http_response r = { .status = HTTP_UNAVAILABLE, .date = s->date, .close = 1,
                               .extra_fields = s->extra_fields[0] != '\0' ? s->extra_fields : NULL };
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
 * Accepts clients until accept() would block, ACCEPTS_PER_ROUND at most, then gives each its first turn (its
 * request usually came with it). All are accepted before any is answered, so every request of the round came
 * before its first response, and a file checked once in the round is as fresh as the requests. At the cap it
 * reclaims one idle connection for the client select() reported; a socket that cannot be watched gets a 503
 * and ends accepting for this round.
 */
static void server_accept(struct server *s)
{
    struct conn *taken[ACCEPTS_PER_ROUND];
    int count = 0;
    for (int reported = 1; count < ACCEPTS_PER_ROUND; reported = 0) {
        if (s->conns >= s->max_conns && !(reported && server_reclaim(s, "reclaimed for a new client", 1)))
            break;
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
#ifdef USE_ACCEPT4
        int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        int fd = accept(s->listen_fd, (struct sockaddr *)&sa, &len);
        if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)) {
            note(s, "server: fcntl: %s", strerror(errno));
            close(fd);
            continue;
        }
#endif
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                if (s->accept_resume == 0)
                    note(s, "server: accept: %s; pausing new connections (raise the limit with ulimit -n)",
                         strerror(errno));
                s->accept_resume = s->now + ACCEPT_PAUSE_MS;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                note(s, "server: accept: %s", strerror(errno));
            }
            break;
        }
        s->accepts++;
        s->accept_resume = 0;
        if (!server_fit_table(s, fd) || !conn_open(s, fd, (struct sockaddr *)&sa, len)) {
            server_refuse(s, fd);
            break;
        }
        taken[count++] = s->conn[fd];
    }
    for (int i = 0; i < count; i++) /* one closed by another's turn (a reclaim) is CONN_FREE until the round ends */
        if (taken[i]->state != CONN_FREE)
            conn_turn(s, taken[i], 1);
}

/* Returns the earlier of two monotonic times, either of which may be -1 (none). */
static long long earliest(long long a, long long b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* Returns how long select() may wait in ms (-1: no limit): until the nearest of the deadlines and timers below. */
static long long server_wait_ms(const struct server *s, int full, int accepting)
{
    const struct conn *idle = s->queue[CONN_IDLE].head;
    long long next = -1;
    for (int state = CONN_IDLE; state < CONN_STATES; state++) /* each queue's head is its nearest deadline */
        if (s->queue[state].head != NULL)
            next = earliest(next, s->queue[state].head->since + state_limit(s, (enum conn_state)state));
    if (!full)
        next = earliest(next, s->full_round + FULL_ROUND_MS);
    if (s->spare_buffers > 0)
        next = earliest(next, s->pool_used + SPARE_IDLE_MS);
    if (s->listings != NULL)
        next = earliest(next, s->now + LISTING_TTL_MS);
    if (s->conns >= s->max_conns && idle != NULL && !idle->parked)
        next = earliest(next, idle->since + PARK_AFTER_MS);
    if (!accepting && s->conns < s->max_conns)
        next = earliest(next, s->accept_resume);
    return next < 0 ? -1 : next > s->now ? next - s->now : 0;
}

/* What one select() call waits for: one past the highest descriptor, and how long (forever when forever). */
struct wait {
    int end;
    int accepting, full, forever;
    struct timespec timeout;
};

/*
 * Fills this round's sets from the master sets: parked connections too in a full round, the listener while
 * accepting, stdout or stderr while a log waits. select() costs time per watched descriptor, so connections quiet
 * for PARK_AFTER_MS are parked: left out while others are busy, watched in a full round every FULL_ROUND_MS.
 */
static struct wait server_fill_sets(struct server *s)
{
    struct wait w;
    server_tick(s);
    s->round++;
    server_park(s);
    server_trim_pool(s, 0);
    int busy = s->conns > s->parked || s->pending_count > 0;
    w.full = s->parked == 0 || !busy || s->now - s->full_round >= FULL_ROUND_MS;
    w.accepting = server_accepting(s);
    int log = output_waiting(&s->log), err = output_waiting(&s->err);
    w.end = s->fd_end;
    w.end = w.accepting && s->listen_fd >= w.end ? s->listen_fd + 1 : w.end;
    w.end = log && s->log.fd >= w.end ? s->log.fd + 1 : w.end;
    w.end = err && s->err.fd >= w.end ? s->err.fd + 1 : w.end;
    fdset_copy(&s->set[READY_READ], &s->set[WANT_READ], w.full ? &s->set[PARKED_READ] : NULL, w.end);
    fdset_copy(&s->set[READY_WRITE], &s->set[WANT_WRITE], NULL, w.end);
    if (w.accepting)
        fdset_put(&s->set[READY_READ], s->listen_fd, 1);
    if (log)
        fdset_put(&s->set[READY_WRITE], s->log.fd, 1);
    if (err)
        fdset_put(&s->set[READY_WRITE], s->err.fd, 1);
    /* Only look, never wait, when a request is left over, or when a full round comes while others are
       busy: looking at every parked descriptor is the round's cost, and the busy ones need not wait. */
    long long wait = s->pending_count > 0 || (w.full && busy && s->parked > 0) ? 0
                                                                             : server_wait_ms(s, w.full, w.accepting);
    w.timeout = (struct timespec){ (time_t)(wait / 1000), (long)(wait % 1000) * 1000000 };
    w.forever = wait < 0;
    if (w.full)
        s->full_round = s->now;
    return w;
}

/* Writes the round's trace line: with -v only before the round's first event (quiet rounds are counted), -vv always. */
static void trace_round(struct server *s, int ready, int left_out)
{
    if (!s->verbose)
        return;
    if (s->round_line_len != 0) /* the last round showed nothing */
        s->quiet_rounds++;
    struct http_buf b = { s->round_line, 0, sizeof s->round_line, 0 };
    http_buf_printf(&b, "select #%llu at %.3f s: %d ready; %d open", s->round, (s->now - s->started) / 1000.0, ready,
                    s->conns);
    for (int i = CONN_IDLE, first = 1; i < CONN_STATES; i++)
        if (s->queue[i].count) {
            http_buf_printf(&b, "%s%d %s", first ? ": " : ", ", s->queue[i].count, state_names[i]);
            first = 0;
        }
    if (left_out)
        http_buf_printf(&b, "; %d parked, not watched this round", left_out);
    s->round_line_len = b.overflow ? 0 : b.len;
    if (ready > 0 || s->verbose > 1)
        trace_round_line(s);
}

/* Gives every connection select() reported, then every one with a request left over, its turn. */
static void server_serve(struct server *s, int end)
{
    int carried = s->pending_count; /* turns this round may list more after them, once per descriptor */
    for (int i = 0; i < carried; i++)
        if (s->conn[s->pending[i]] != NULL)
            s->conn[s->pending[i]]->pending = 0;
    for (int fd = fdset_next(&s->set[READY_READ], &s->set[READY_WRITE], 0, end); fd < end;
         fd = fdset_next(&s->set[READY_READ], &s->set[READY_WRITE], fd + 1, end))
        if (s->conn[fd] != NULL) /* the listener and the log descriptors have no connection */
            conn_turn(s, s->conn[fd], fdset_has(&s->set[READY_READ], fd));
    for (int i = 0; i < carried; i++) {
        struct conn *c = s->conn[s->pending[i]];
        if (c != NULL && c->turn != s->round)
            conn_turn(s, c, 0);
        else if (c != NULL) /* it had its turn this round (a new client's first): the next round's, then */
            conn_defer(s, c);
    }
    s->pending_count -= carried;
    memmove(s->pending, s->pending + carried, (size_t)s->pending_count * sizeof *s->pending);
}

/*
 * The one select() loop, as the workshop draws it: fill the sets, wait, accept, give each ready connection one
 * bounded turn, expire those past their deadline; then write the round's trace and log. A stop signal ends it.
 */
static int server_run(struct server *s, const sigset_t *wait_mask)
{
    while (!stop_requested) {
        struct wait w = server_fill_sets(s);
        int ready = pselect(w.end, fdset_arg(&s->set[READY_READ]), fdset_arg(&s->set[READY_WRITE]), NULL,
                            w.forever ? NULL : &w.timeout, wait_mask);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            fprintf(stderr, "server: select: %s\n", strerror(errno));
            return 1;
        }
        server_tick(s);
        trace_round(s, ready, w.full ? 0 : s->parked);
        if (w.accepting && fdset_has(&s->set[READY_READ], s->listen_fd))
            server_accept(s);
        server_serve(s, w.end);
        server_expire(s);
        server_free_closed(s);
        output_flush(&s->err); /* the round's trace, then the log lines of the requests it answered */
        output_flush(&s->log);
    }
    return 0;
}

/* Says why the listening socket could not be had, and what to try next. */
static void listen_failed(const char *addr, const char *port, int err)
{
    if (err == EADDRINUSE)
        fail(2, "server: port %s on %s is already in use (by another server, or an earlier run); choose "
                "another with -p PORT, or -p 0 for any free port\n", port, addr);
    else if ((err == EACCES || err == EPERM) && atoi(port) > 0 && atoi(port) < 1024)
        fail(2, "server: port %s is privileged (below 1024) and this user may not bind it; use a port "
                "above 1024, such as -p 8080\n", port);
    else if (err == EADDRNOTAVAIL)
        fail(2, "server: %s is not an address of this machine; use -b 127.0.0.1 for this machine only, "
                "or -b 0.0.0.0 to share on the network\n", addr);
    else
        fail(2, "server: cannot listen on %s port %s: %s\n", addr, port, strerror(err));
}

/* Opens the listening socket on addr:port through getaddrinfo and says where it is; exits with 2 when it cannot. */
static int listen_on(const char *addr, const char *port, struct sockaddr_storage *sa)
{
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list, *ai;
    socklen_t len = sizeof *sa;
    int fd = -1, one = 1, err = getaddrinfo(addr, port, &hints, &list);
    if (err != 0)
        fail(2, "server: -b %s: %s; give a numeric address such as 127.0.0.1 or ::1\n", addr, gai_strerror(err));
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
        getsockname(fd, (struct sockaddr *)sa, &len) < 0)
        fail(1, "server: listening socket: %s\n", strerror(errno));
    return fd;
}

/* Writes "http://ADDR:PORT/" for an address (IPv6 in brackets) and a port into out; returns 0 when it cannot. */
static int addr_url(const struct sockaddr *sa, const char *port, char *out, size_t cap)
{
    char host[ADDR_TEXT_MAX];
    socklen_t len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (getnameinfo(sa, len, host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
        return 0;
    snprintf(out, cap, sa->sa_family == AF_INET6 ? "http://[%s]:%s/" : "http://%s:%s/", host, port);
    return 1;
}

/* Says whether a bound address is a wildcard one (0.0.0.0 or ::), which takes clients on every interface. */
static int addr_is_wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

/* Writes a line per address a wildcard bind answers at, but link-local IPv6, which browsers cannot open. */
static void server_announce_interfaces(struct http_buf *b, const char *port, int takes_ipv4, int takes_ipv6)
{
#ifdef USE_GETIFADDRS
    char url[ADDR_TEXT_MAX + PORT_TEXT_MAX + 16];
    struct ifaddrs *list;
    if (getifaddrs(&list) == 0) {
        for (int loopback = 1; loopback >= 0; loopback--) /* this machine's address first */
            for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
                const struct sockaddr *sa = i->ifa_addr;
                if (sa != NULL && (i->ifa_flags & IFF_UP) && addr_is_loopback(sa) == loopback &&
                    (sa->sa_family == AF_INET ? takes_ipv4 : sa->sa_family == AF_INET6 && takes_ipv6 &&
                     !IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) &&
                    addr_url(sa, port, url, sizeof url))
                    http_buf_printf(b, "  %s\n", url);
            }
        freeifaddrs(list);
        return;
    }
    fprintf(stderr, "server: getifaddrs: %s; showing the host name instead\n", strerror(errno));
#endif
    char host[256];
    (void)takes_ipv4; /* the host name stands for every address the machine has */
    (void)takes_ipv6;
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        http_buf_printf(b, "  http://%s:%s/\n", host, port);
    }
}

/* Prints "Serving ROOT on URL" (scripts read the port from it), then a wildcard bind's URLs, or a loopback note. */
static void server_announce(struct server *s, const char *root, const struct sockaddr_storage *bound)
{
    const struct sockaddr *sa = (const struct sockaddr *)bound;
    char url[ADDR_TEXT_MAX + PORT_TEXT_MAX + 16] = "http://?/", port[PORT_TEXT_MAX];
    struct http_buf b = output_space(&s->log, 0);
    int v6only = 0;
    socklen_t optlen = sizeof v6only;
    snprintf(port, sizeof port, "%u", (unsigned)ntohs(sa->sa_family == AF_INET
                                                      ? ((const struct sockaddr_in *)(const void *)sa)->sin_port
                                                      : ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port));
    addr_url(sa, port, url, sizeof url);
    http_buf_printf(&b, "Serving %s on %s\n", root, url);
    if (sa->sa_family == AF_INET6 && getsockopt(s->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) < 0)
        v6only = 1;
    if (addr_is_wildcard(sa))
        server_announce_interfaces(&b, port, !v6only, sa->sa_family == AF_INET6);
    else if (addr_is_loopback(sa))
        http_buf_printf(&b, "  Only this machine can connect; -b 0.0.0.0 shares it on your network.\n");
    output_commit(&s->log, &b);
    output_flush(&s->log);
}

/*
 * Sets the connection cap from the descriptor limit: a connection holds its socket, and a file while it sends one,
 * so 1/FILE_SHARE of what the descriptors open at start leave is kept for files. The soft limit is raised as far
 * as the cap needs (without -c, to the hard one). The portable build's sockets must also be below FD_SETSIZE.
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
    long reserve = TRANSIENT_FDS;
    for (int fd = 0; fd < soft && fd < FD_PROBE_MAX; fd++) /* inherited ones, the root, the listener */
        if (fcntl(fd, F_GETFD) >= 0) {
            reserve++;
            settable += fd < SET_CAPACITY; /* those a set could hold */
        }
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
    if (settable_room < 1)
        fail(1, "server: no descriptor below FD_SETSIZE (%d) is free for connections: %d are open at start; "
                "close inherited descriptors, or use the default build\n", FD_SETSIZE, settable);
    if (fit < 1 && soft - (reserve - TRANSIENT_FDS) >= 2)
        fit = 1; /* a socket and a file: one connection at a time, rather than none */
    if (fit > settable_room)
        fit = settable_room;
    if (fit < 1)
        fail(1, "server: the descriptor limit (%ld) leaves no room for connections: %ld are open at start; "
                "raise it with ulimit -n\n", soft, reserve - TRANSIENT_FDS);
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

/* Reads a small regular file by name into a NUL-terminated blob; NULL (errno set) when it cannot. */
static struct blob *read_named_file(const char *file, size_t max)
{
    struct stat st;
    struct blob *b = NULL;
    int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); /* a FIFO or tty: no hang, no side effect */
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && (b = read_small_file(fd, &st, max)) == NULL)
        errno = !S_ISREG(st.st_mode) || st.st_size > (off_t)max ? EINVAL : EIO;
    close(fd);
    return b;
}

/* Reads /etc/mime.types once, so that extensions the built-in table lacks cost nothing per request. */
static void server_load_mime(struct server *s)
{
    struct blob *b = read_named_file("/etc/mime.types", SIZE_MAX / 4);
    if (b == NULL && errno != ENOENT)
        fprintf(stderr, "server: /etc/mime.types: %s; using the built-in MIME types\n", strerror(errno));
    if (b == NULL)
        return;
    size_t max = b->len / 2 + 1; /* an extension takes at least two bytes: itself and a separator */
    s->mime_text = b->data;
    free(b);
    if ((s->mime.entry = malloc(max * sizeof *s->mime.entry)) != NULL)
        s->mime.count = http_mime_index(s->mime_text, s->mime.entry, max);
}

#define TEXT(x) #x
#define NUMBER_TEXT(x) TEXT(x)

/* One command-line option: its letter, its long name, its value's name (NULL: none) and its help. */
struct option_spec {
    char letter;
    const char *name, *value, *help;
};

static const struct option_spec options[] = {
    { 'p', "port", "PORT", "TCP port; default 8080; 0 picks a free port" },
    { 'b', "bind", "ADDR", "address to bind, IPv4 or IPv6; default 127.0.0.1 (this machine only);\n"
                           "0.0.0.0 or :: shares on the network" },
    { 'r', "root", "DIR", "directory to serve, the same as DIR" },
    { 't', "timeout", "SECONDS", "time limit for a request head, an idle connection or a stalled\n"
                                 "download; default " NUMBER_TEXT(TIMEOUT_DEFAULT) },
    { 'c', "max-conns", "N", "most connections open at once; default: what the descriptor limit allows" },
    { 'H', "header", "'NAME: VALUE'", "add a header to every response; repeatable" },
    { 'm', "max-age", "SECONDS", "Cache-Control: max-age=SECONDS on files and listings, instead of no-cache" },
    { 's', "spa", NULL, "single-page app: a missing path gets the root's index.html" },
    { 'a', "auth", "FILE", "basic authentication for the user:password lines of FILE" },
    { 'u', "user", "USER", "started as root: the user to serve as, after binding; default " DEFAULT_USER },
    { 'S', "status", "PATH", "the loop's live status at PATH, in nginx's stub_status text;\n"
                             "PATH?full adds select() rounds, parked and closing connections and\n"
                             "listings being built" },
    { 'L', "no-listing", NULL, "no directory listings" },
    { 'q', "quiet", NULL, "no access log" },
    { 'v', "verbose", NULL, "trace the select() loop on stderr (teaching mode); -vv: every round" },
    { 'h', "help", NULL, "this help" },
    { 'V', "version", NULL, "the version" },
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

/* What the command line asked for, beyond what goes straight into the server. */
struct settings {
    const char *program, *port, *addr, *root, *users_file, *user;
    int cap_given, root_given, user_given;
    struct http_buf extra;
};

/* Prints the usage text, made from the options table: every option, short and long, with its help. */
static void usage(FILE *out, const char *program)
{
    fprintf(out, "usage: %s [options] [DIR | FILE]\nServes DIR (default %s), or one FILE at / and /FILE, over HTTP "
                 "from one select() loop.\n", program, DEFAULT_ROOT);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_spec *o = &options[i];
        char left[48];
        int n = snprintf(left, sizeof left, "  -%c, --%s%s%s", o->letter, o->name, o->value ? " " : "",
                         o->value ? o->value : "");
        fprintf(out, "%s%*s", left, n < 26 ? 26 - n : 0, "");
        if (n >= 26)
            fprintf(out, "\n%26s", "");
        for (const char *p = o->help; *p != '\0'; p++)
            if (*p == '\n')
                fprintf(out, "\n%26s", "");
            else
                fputc(*p, out);
        fputc('\n', out);
    }
    fprintf(out, "A 404.html in the root is the body of every 404. INT, TERM and HUP stop it cleanly;\n"
                 "USR1, USR2 and ALRM are ignored.\n");
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

/* Takes the folder or file to serve, given as -r or as the one positional argument. */
static void option_root(struct settings *set, const char *value, const char *shown)
{
    if (set->root_given)
        usage_error(set, "the folder is given twice, as '%s' and as %s '%s'; give one", set->root, shown, value);
    set->root = value;
    set->root_given = 1;
}

/* Applies one option with its value (NULL when it takes none); shown is the option as it was typed. */
static void option_apply(struct server *s, struct settings *set, char letter, const char *value, const char *shown)
{
    const char *why;
    switch (letter) {
    case 'p': set->port = value; option_number(set, shown, value, 0, 65535); break;
    case 'b': set->addr = value; break;
    case 'r': option_root(set, value, shown); break;
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
    case 'S':
        if (value[0] != '/')
            usage_error(set, "%s '%s': the status path starts with '/', as /status does", shown, value);
        s->status_path = value;
        break;
    case 'L': s->list_folders = 0; break;
    case 'q': s->quiet = 1; break;
    case 'v': s->verbose++; break;
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
 * Reads the command line: short options ("-qv", "-p0", "-p 0"), long ones ("--port 0", "--port=0") and one DIR or
 * FILE, "--" ending the options; getopt_long is not POSIX. Any mistake exits with 2.
 */
static void options_parse(struct server *s, struct settings *set, int argc, char **argv)
{
    int only_dirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_dirs || arg[0] != '-' || arg[1] == '\0') {
            option_root(set, arg, "the folder");
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
            if (!o->value && eq != NULL)
                usage_error(set, "%s takes no value", shown);
            if (o->value && eq == NULL && i + 1 == argc)
                usage_error(set, "%s needs a value", shown);
            option_apply(s, set, o->letter, !o->value ? NULL : eq ? eq + 1 : argv[++i], shown);
        } else {
            for (const char *p = arg + 1; *p != '\0'; p++) {
                char shown[3] = { '-', *p, '\0' };
                const struct option_spec *o = option_find(*p, NULL, 0);
                if (o == NULL)
                    usage_error(set, "unknown option '%s'", shown);
                if (o->value && p[1] == '\0' && i + 1 == argc)
                    usage_error(set, "%s needs a value", shown);
                if (o->value) {
                    option_apply(s, set, o->letter, p[1] != '\0' ? p + 1 : argv[++i], shown);
                    break;
                }
                option_apply(s, set, o->letter, NULL, shown);
            }
        }
    }
}

/* Reads the -a file's user:password lines ('#' lines skipped) before root is dropped, so it may be root's alone. */
static void server_load_users(struct server *s, const struct settings *set)
{
    const char *file = set->users_file;
    struct blob *b = read_named_file(file, USERS_FILE_MAX);
    size_t line = 0;
    if (b == NULL)
        fail(2, errno == EINVAL ? "server: -a %s is not a regular file of at most " NUMBER_TEXT(USERS_FILE_MAX)
                                  " bytes (%s); give a file of user:password lines\n"
                                : "server: -a %s: %s; give a file of user:password lines\n", file, strerror(errno));
    struct stat st;
    if (stat(file, &st) == 0 && (st.st_mode & S_IROTH))
        fprintf(stderr, "server: warning: -a %s can be read by every user of this machine; chmod 600 %s\n", file, file);
    s->users_text = b->data;
    if (memchr(b->data, '\0', b->len) != NULL)
        fail(2, "server: -a %s holds a NUL byte; it must be a text file of user:password lines\n", file);
    if ((s->user = malloc((b->len / 2 + 1) * sizeof *s->user)) == NULL)
        fail(1, "server: -a %s: %s\n", file, strerror(errno));
    char *text = b->data + (b->len >= 3 && memcmp(b->data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0); /* a byte-order mark */
    free(b);
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
        if (memchr(p, ':', len) == NULL || p[0] == ':' || len >= HTTP_CREDENTIALS_MAX)
            fail(2, "server: -a %s line %zu: %s; each line is user:password\n", file, line,
                 len >= HTTP_CREDENTIALS_MAX ? "too long" : "no user name and colon");
        s->user[s->user_count++] = (struct secret){ p, len };
    }
    if (s->user_count == 0)
        fail(2, "server: -a %s holds no user:password line; add one\n", file);
}

/*
 * Started as root, gives root up for good before serving: groups, group, then user, each checked, and checked again
 * by trying to get root back; any failure exits. -u root keeps root, and says so. Returns 1 if it changed user.
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
    if (pw == NULL)
        fail(2, "server: started as root, but cannot serve as user '%s': %s; name another with -u USER\n",
             set->user, errno != 0 ? strerror(errno) : "no such user");
    if (pw->pw_uid == 0) {
        fprintf(stderr, "server: warning: serving as root (-u %s): any file root can read can be served\n", set->user);
        return 0;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid, groups[256];
    if (gid == 0)
        fail(2, "server: user '%s' has root's group (gid 0); choose another with -u USER\n", set->user);
#ifdef USE_SETGROUPS
    int own_groups = 1; /* the user's supplementary groups, as a login gives them */
    if (initgroups(pw->pw_name, gid) < 0)
        fail(1, "server: initgroups: %s; not serving as root\n", strerror(errno));
#else
    int own_groups = 0; /* root's supplementary groups cannot be dropped: there must be none but gid */
#endif
    if (setgid(gid) < 0 || setuid(uid) < 0)
        fail(1, "server: cannot become user '%s': %s; not serving as root\n", set->user, strerror(errno));
    int count = getgroups(sizeof groups / sizeof groups[0], groups), kept_root_group = count < 0;
    for (int i = 0; i < count; i++)
        kept_root_group |= groups[i] == 0 || (!own_groups && groups[i] != gid);
    if (setuid(0) == 0 || geteuid() == 0 || getegid() != gid || kept_root_group)
        fail(1, "server: root's rights or groups are still held after becoming '%s'; not serving as root\n", set->user);
    fprintf(stderr, "server: started as root; serving as user '%s' (uid %ld)\n", set->user, (long)uid);
    return 1;
}

/* Exits with 2 when this user cannot search the root (mode 711 is enough) or read the one file: all would get 403. */
static void server_check_root(const struct server *s, const struct settings *set)
{
    struct stat st;
    int fd = s->single != NULL ? openat(s->root_fd, s->single, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
    if (s->single != NULL ? fd >= 0 : fstatat(s->root_fd, ".", &st, 0) == 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    fail(2, "server: cannot serve %s as this user: %s; let it in (chmod a+x %s, and a+r for what it "
            "shares)%s\n", set->root, strerror(errno), set->root,
         s->dropped_root ? ", or serve as a user who may read it with -u USER" : "");
}

/* Opens the folder to serve, or one file's folder as the root; else exits with 2 and a hint that fits the case. */
static void server_open_root(struct server *s, const struct settings *set)
{
    struct stat st;
    const char *root = set->root, *slash = strrchr(root, '/');
    s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0 && errno == ENOTDIR && stat(root, &st) == 0 && S_ISREG(st.st_mode)) {
        char folder[PATH_MAX];
        snprintf(folder, sizeof folder, "%.*s", slash == NULL ? 1 : slash == root ? 1 : (int)(slash - root),
                 slash == NULL ? "." : root);
        s->single = slash != NULL ? slash + 1 : root;
        s->root_fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (s->root_fd >= 0)
        return;
    if (!set->root_given)
        fail(2, "server: cannot serve %s: %s; name the folder to serve: %s DIR\n", root, strerror(errno), set->program);
    else if (errno == ENOENT || errno == ENOTDIR)
        fail(2, "server: cannot serve %s: %s; check the name, or name another folder or file\n", root, strerror(errno));
    else if (errno == EACCES)
        fail(2, "server: cannot serve %s: %s; let this user in (chmod a+rx %s), or name another folder\n",
             root, strerror(errno), root);
    else
        fail(2, "server: cannot serve %s: %s\n", root, strerror(errno));
}

/* Opens /dev/null on any of 0 to 2 that is closed: else a client's socket could take 2 and receive the trace. */
static void server_fill_standard_descriptors(void)
{
    for (int fd = 0; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        if (open("/dev/null", O_RDWR) != fd) /* the lowest free number: this one */
            exit(1);                        /* and no stderr to say so on */
    }
}

/*
 * Sets the signals: INT, TERM and HUP stop the loop cleanly, held back except while it waits in pselect(); PIPE,
 * USR1, USR2, ALRM and XFSZ (a log past the file size limit: its lines are counted) are ignored.
 */
static void server_signals(sigset_t *wait_mask)
{
    static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP }, ignored[] = { SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM,
                                                                                  SIGXFSZ };
    struct sigaction ignore = { .sa_handler = SIG_IGN }, stop = { .sa_handler = on_stop_signal };
    sigset_t stop_set;
    int ok = sigemptyset(&stop_set) == 0;
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        ok = ok && sigaction(ignored[i], &ignore, NULL) == 0;
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
        ok = ok && sigaction(stop_signals[i], &stop, NULL) == 0 && sigaddset(&stop_set, stop_signals[i]) == 0;
    ok = ok && sigprocmask(SIG_BLOCK, &stop_set, wait_mask) == 0;
    for (size_t i = 0; ok && i < sizeof stop_signals / sizeof stop_signals[0]; i++)
        sigdelset(wait_mask, stop_signals[i]);
    if (!ok)
        fail(1, "server: signals: %s\n", strerror(errno));
}

/* Closes everything, then writes the Stopped line to the log, or stderr if the log cannot take it in FINAL_FLUSH_MS. */
static void server_stop(struct server *s)
{
    for (int fd = 0; fd < s->fd_end; fd++)
        if (s->conn[fd] != NULL)
            conn_close(s, s->conn[fd], "shutting down");
    server_free_closed(s);
    for (int i = 0; i < CACHE_FILES; i++)
        cache_drop(&s->cache[i]);
    server_trim_pool(s, 1);
    while (s->listings != NULL) /* only fresh ones are left: every reader has closed */
        listing_release(s, s->listings);
    close(s->listen_fd);
    close(s->root_fd);
    free(s->mime.entry);
    free(s->mime_text);
    free(s->user);
    free(s->users_text);
    free(s->conn);
    free(s->pending);
    for (int i = 0; i < SETS; i++)
        fdset_free(&s->set[i]);
    output_drain(&s->log, clock_ms() + FINAL_FLUSH_MS);
    s->log.dropped += count_lines(s->log.buf, s->log.len); /* what a stalled reader did not take in time */
    s->log.len = 0;
    char line[STOPPED_LINE_MAX];
    struct http_buf b = { line, 0, sizeof line, 0 };
    http_buf_printf(&b, "Stopped: %llu requests, %llu body bytes sent", s->requests, s->bytes);
    if (s->err.dropped > 0)
        http_buf_printf(&b, ", %llu trace lines dropped", s->err.dropped);
    if (s->log.dropped > 0)
        http_buf_printf(&b, ", %llu log lines dropped", s->log.dropped);
    http_buf_put(&b, "\n", 1);
    struct http_buf to_log = output_space(&s->log, b.len);
    http_buf_put(&to_log, line, b.len);
    output_commit(&s->log, &to_log);
    output_drain(&s->log, clock_ms() + FINAL_FLUSH_MS);
    if (s->log.len > 0 || s->log.failed)
        note(s, "%.*s", (int)b.len - 1, line);
    output_drain(&s->err, clock_ms() + FINAL_FLUSH_MS);
    output_close(&s->err);
    output_close(&s->log);
}

/* Reads the options, opens the root and the socket, runs the loop, and shuts down cleanly. */
int main(int argc, char **argv)
{
    struct server *s = &server;
    server_fill_standard_descriptors();
    struct settings set = { .program = argc > 0 ? argv[0] : "server", .port = "8080", .addr = "127.0.0.1",
                            .root = DEFAULT_ROOT, .user = DEFAULT_USER,
                            .extra = { s->extra_fields, 0, sizeof s->extra_fields - 1, 0 } };
    struct sockaddr_storage bound;
    sigset_t wait_mask;
    char cwd[PATH_MAX];
    s->timeout_ms = TIMEOUT_DEFAULT * 1000LL;
    s->list_folders = 1;
    strcpy(s->cache_control, "no-cache");
    options_parse(s, &set, argc, argv);
    s->extra_fields[set.extra.len] = '\0';
    server_open_root(s, &set);
    if (set.users_file != NULL)
        server_load_users(s, &set);
    server_signals(&wait_mask);
    server_load_mime(s);
    s->listen_fd = listen_on(set.addr, set.port, &bound);
    s->dropped_root = server_drop_root(&set);
    struct passwd *pw = getpwuid(geteuid());
    s->user_name = pw != NULL && (s->user_name = strdup(pw->pw_name)) != NULL ? s->user_name : "?";
    server_check_root(s, &set);
    server_fit_descriptors(s, set.cap_given);
    if (!server_fit_table(s, s->listen_fd) || !server_fit_table(s, STDERR_FILENO)) {
        fprintf(stderr, "server: listening socket %d cannot be watched by select() (FD_SETSIZE %d); "
                        "close inherited descriptors or use the default build\n", s->listen_fd, FD_SETSIZE);
        return 1;
    }
    server_tick(s);
    s->started = s->now;
    output_open(&s->log, STDOUT_FILENO, "access log (stdout)", &s->err);
    output_open(&s->err, STDERR_FILENO, "trace (stderr)", NULL);
    server_announce(s, !set.root_given && strcmp(set.root, ".") == 0 && getcwd(cwd, sizeof cwd) ? cwd : set.root,
                    &bound);
    int rc = server_run(s, &wait_mask);
    server_stop(s);
    return rc;
}
