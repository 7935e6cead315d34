/* http.h: the pure HTTP/1.x protocol side of the server: no sockets, no files, no global state. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <time.h>

#define HTTP_HEAD_MAX 8192             /* bytes in a request head: request line plus header fields */
#define HTTP_FIELDS_MAX 100            /* header fields in one request */
#define HTTP_RESPONSE_HEAD_MAX 4096    /* bytes for a response head plus a short generated body */
#define HTTP_LOCATION_MAX 2048         /* bytes of a redirect's Location; a longer one gets 414 */
#define HTTP_LISTING_ROW_MAX 8192      /* bytes for one listing row: a 255-byte name in its link and shown escaped */
#define HTTP_LISTING_TOP_MAX(path_len) (38 * (size_t)(path_len) + 4096) /* a listing's top: its stylesheet, the
                                                                           column links, the path twice (19 a byte) */
#define HTTP_DATE_SIZE 30              /* "Sun, 06 Nov 1994 08:49:37 GMT" and its NUL */
#define HTTP_LOG_DATE_SIZE 27          /* "06/Nov/1994:08:49:37 +0000" and its NUL */
#define HTTP_ETAG_SIZE 64              /* a quoted entity tag of three hex numbers and its NUL */
#define HTTP_MIME_TYPE_MAX 127         /* longest type taken from /etc/mime.types */
#define HTTP_BODY_DISCARD_MAX (64 * 1024) /* request body bytes read and thrown away to keep a connection */
#define HTTP_BODY_ROOM 1024            /* buffer room a head must leave for a body to be read past it; also the
                                          longest chunk-size line (extensions included) */
#define HTTP_CHUNK_SIZE_BITS 60        /* a chunk size needing more bits is refused: none this big is real */
#define HTTP_EXTRA_FIELDS_MAX 1024     /* bytes of the -H header lines added to every response */
#define HTTP_CREDENTIALS_MAX 512       /* bytes of a decoded Basic "user:password"; a longer one never matches */
#define HTTP_STATUS_TEXT_MAX 512       /* bytes of the loop's status text (-S), in either form */
#define HTTP_SERVER_VERSION "1.2"
#define HTTP_SERVER_NAME "select-server/" HTTP_SERVER_VERSION
#define HTTP_AUTH_REALM "select-server"  /* the realm a browser's password prompt names */

/* Statuses carry their HTTP code; HTTP_NEED_MORE means the parser wants more bytes. */
enum http_status {
    HTTP_NEED_MORE = 0,
    HTTP_OK = 200, HTTP_NO_CONTENT = 204, HTTP_PARTIAL_CONTENT = 206,
    HTTP_MOVED_PERMANENTLY = 301, HTTP_NOT_MODIFIED = 304,
    HTTP_BAD_REQUEST = 400, HTTP_UNAUTHORIZED = 401, HTTP_FORBIDDEN = 403, HTTP_NOT_FOUND = 404,
    HTTP_METHOD_NOT_ALLOWED = 405, HTTP_REQUEST_TIMEOUT = 408, HTTP_PRECONDITION_FAILED = 412,
    HTTP_URI_TOO_LONG = 414, HTTP_RANGE_NOT_SATISFIABLE = 416, HTTP_FIELDS_TOO_LARGE = 431,
    HTTP_INTERNAL_ERROR = 500, HTTP_NOT_IMPLEMENTED = 501, HTTP_UNAVAILABLE = 503, HTTP_VERSION_NOT_SUPPORTED = 505
};

enum http_method { HTTP_METHOD_UNKNOWN, HTTP_METHOD_GET, HTTP_METHOD_HEAD, HTTP_METHOD_OPTIONS, HTTP_METHOD_OTHER };

/* Request fields whose values the server reads: to send a file, and to let a client in. */
enum http_field {
    HTTP_FIELD_RANGE, HTTP_FIELD_IF_RANGE, HTTP_FIELD_IF_MATCH, HTTP_FIELD_IF_UNMODIFIED_SINCE,
    HTTP_FIELD_IF_NONE_MATCH, HTTP_FIELD_IF_MODIFIED_SINCE, HTTP_FIELD_ACCEPT_ENCODING, HTTP_FIELD_AUTHORIZATION,
    HTTP_FIELD_COUNT
};

/* Bytes [off, off + len) of the buffer the request was parsed from. */
struct http_span { size_t off, len; };

/* One request, parsed incrementally; http_request_init before the first byte. */
struct http_request {
    /* parser position and what it has seen so far, private to http.c */
    int state;
    size_t pos, mark, name_end, value_start, value_end;
    unsigned field_count, hosts;
    int has_close, has_keep_alive, has_transfer_encoding, te_chunked, te_unknown, expect_continue;
    unsigned long long body_left;  /* body bytes, or this chunk's, still to be thrown away */
    size_t body_seen;              /* bytes of the body read so far, chunk framing included */
    int started;                   /* the request line has begun (empty lines before it do not count) */
    /* results, valid once http_parse has returned anything but HTTP_NEED_MORE */
    size_t head_len;               /* bytes of the head, final empty line included */
    size_t end;                    /* bytes of the request in the buffer: the head, and any body still there */
    struct http_span line, target; /* line is empty until the whole request line has arrived */
    enum http_method method;       /* known once the method's token has ended */
    int minor;                     /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
    long long content_length;      /* -1 when absent */
    int keep_alive;                /* the connection may serve another request (any body was read whole) */
    int body_unread;               /* a body follows the head that was not read: the connection closes, lingering */
    struct http_span field[HTTP_FIELD_COUNT]; /* each one's value; off is 0 when it was not sent */
    unsigned repeated;             /* bit (1 << field) when it came on several lines: then it is not used */
};

/* Content codings a file may be stored in beside it (FILE.br, FILE.zst, FILE.gz), identity first. */
enum http_coding { HTTP_CODING_IDENTITY, HTTP_CODING_BR, HTTP_CODING_ZSTD, HTTP_CODING_GZIP, HTTP_CODINGS };

/* One representation of a file: the file itself, or a precompressed sibling. */
struct http_variant {
    long long size;                /* -1: none (or a sibling older than the file, which is never served) */
    unsigned long long inode, mtime_ns; /* for its entity tag */
    time_t mtime;                  /* for Last-Modified */
    const char *etag, *modified;   /* both already formatted from the above (a file kept in memory); NULL: not */
};

/* What the server found for a request, as data: http_decide turns it and the request into the reply. */
struct http_found {
    enum http_status status;       /* HTTP_OK when found; else what to answer (301, 401, 403, 404, 500, 503 ...) */
    const char *type;              /* the body's MIME type; NULL when there is no body to describe */
    struct http_variant variant[HTTP_CODINGS]; /* a file and its siblings; variant[0] alone for generated bytes */
    int generated;                 /* a listing, the status text or 404.html: no validators, ranges or codings;
                                      variant[0].size is its length, -1 while it is still being built */
    const char *location;          /* a 301's Location */
    const char *cache_control;     /* for a successful answer (200, 206, 304); NULL: none */
};

/* What a response head says: http_decide fills it (the server adds date and extra_fields), http_format_head writes. */
struct http_response {
    enum http_status status;
    const char *date;              /* the current Date value, formatted by the caller once a second */
    const char *content_type;      /* NULL: none */
    int charset;                   /* "; charset=utf-8" follows the type */
    long long content_length;      /* -1: none */
    const char *content_encoding;  /* NULL: none */
    const char *last_modified, *etag; /* NULL: none */
    int accept_ranges;             /* Accept-Ranges: bytes */
    int vary_encoding;             /* Vary: Accept-Encoding */
    int content_range;             /* 1: Content-Range "bytes first-last/full_size"; 2: "bytes * /full_size" */
    long long range_first, range_last, full_size;
    const char *location, *cache_control; /* NULL: none */
    int allow;                     /* Allow: GET, HEAD, OPTIONS */
    int authenticate;              /* WWW-Authenticate: Basic, for HTTP_AUTH_REALM */
    int close;                     /* Connection: close */
    int keep_alive_echo;           /* Connection: keep-alive, to an HTTP/1.0 client that asked for it */
    const char *extra_fields;      /* whole "Name: value\r\n" lines added to the head (-H); NULL: none */
};

/* The reply decided for one request. head.etag and head.last_modified may point into it: do not copy it. */
struct http_reply {
    struct http_response head;
    int page;                      /* the body is a short page naming the status (http_format_page writes it) */
    int body;                      /* bytes follow the head: the page, or bytes [first, last] of variant coding */
    enum http_coding coding;
    long long first, last;
    char etag[HTTP_ETAG_SIZE], last_modified[HTTP_DATE_SIZE];
};

/* A directory listing's order, from Apache's query "C=N|M|S;O=A|D": by name, modified time or size. */
struct http_order {
    char column;                   /* 'N', 'M' or 'S' */
    int descending;
};

/* One entry of a directory, as a listing shows it. */
struct http_entry {
    const char *name;
    int is_dir;
    long long size;
    time_t mtime;
};

/* The loop's counts that the status text (-S) shows. */
struct http_loop_status {
    unsigned long long accepts, handled, requests; /* since start, as nginx's stub_status counts them */
    int reading, writing, waiting;                 /* connections now: waiting is idle keep-alive */
    unsigned long long rounds;                     /* beside them, in the full form: select() rounds, */
    int parked, closing, building;                 /* connections parked or closing, listings being built */
};

/* One extension of a MIME table and its type. */
struct http_mime_entry { const char *ext, *type; };

/* The system's MIME table (/etc/mime.types), sorted by extension; the built-in one wins over it. */
struct http_mime {
    struct http_mime_entry *entry;
    size_t count;
};

/* A fixed-size output buffer; a write that does not fit sets overflow and leaves len alone. */
struct http_buf {
    char *data;
    size_t len, cap;
    int overflow;
};

void http_request_init(struct http_request *r);
enum http_status http_parse(struct http_request *r, const char *buf, size_t len);
size_t http_compact(struct http_request *r, char *buf, size_t len);
enum http_status http_target_path(const char *target, size_t len, char *path, size_t cap, size_t *query);
int http_path_hidden(const char *path);
size_t http_mime_index(char *text, struct http_mime_entry *entries, size_t max);
const char *http_mime_type(const struct http_mime *system, const char *path);
void http_format_etag(char out[HTTP_ETAG_SIZE], unsigned long long inode, long long size, unsigned long long mtime_ns);
int http_parse_date(const char *s, size_t len, time_t now, time_t *out);
int http_etag_match(const char *list, size_t len, const char *etag, int strong);
enum http_status http_parse_range(const char *v, size_t len, long long size, long long *first, long long *last);
enum http_coding http_choose_coding(const char *accept, size_t len, const long long size[HTTP_CODINGS]);
const char *http_coding_suffix(enum http_coding coding);
void http_decide(const struct http_request *r, const char *buf, const struct http_found *found, time_t now,
                 int keep_alive, struct http_reply *out);
const char *http_reason(enum http_status status);
const char *http_header_option(const char *arg, struct http_buf *out);
int http_basic_credentials(const char *v, size_t len, char *out, size_t cap, size_t *out_len);
int http_secret_equal(const char *given, size_t given_len, const char *secret, size_t secret_len);
int http_name_compare(const char *a, const char *b);
struct http_order http_listing_order(const char *query, size_t len);
int http_entry_compare(const struct http_entry *a, const struct http_entry *b, struct http_order order);
void http_format_date(char out[HTTP_DATE_SIZE], time_t t);
void http_format_log_date(char out[HTTP_LOG_DATE_SIZE], time_t t);

void http_buf_put(struct http_buf *b, const char *s, size_t n);
void http_buf_printf(struct http_buf *b, const char *fmt, ...);
void http_buf_url(struct http_buf *b, const char *s, size_t n);
void http_buf_html(struct http_buf *b, const char *s, size_t n);
void http_buf_log(struct http_buf *b, const char *s, size_t n);

void http_format_head(struct http_buf *b, const struct http_response *r);
size_t http_format_page(struct http_buf *b, struct http_response *r, int head_only);
void http_format_listing_top(struct http_buf *b, const char *path, struct http_order order);
void http_format_listing_row(struct http_buf *b, const struct http_entry *e);
void http_format_listing_end(struct http_buf *b);
void http_format_status(struct http_buf *b, const struct http_loop_status *st, int full);

#endif
