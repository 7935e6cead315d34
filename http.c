/* http.c: request parsing, target decoding, MIME types, dates and response formatting; pure functions only. */
#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Parser states, in the order the bytes of a head arrive. */
enum {
    P_START, P_METHOD, P_TARGET, P_VERSION, P_LINE_LF,
    P_FIELD_START, P_NAME, P_VALUE_START, P_VALUE, P_FIELD_LF, P_END_LF, P_DONE
};

/* Says whether c may appear in a token (RFC 9110 5.6.2): method names and field names. */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Says whether the span equals the string s exactly (case_fold compares ASCII letters without case). */
static int span_is(const char *buf, size_t off, size_t len, const char *s, int case_fold)
{
    return strlen(s) == len && (case_fold ? strncasecmp(buf + off, s, len) : strncmp(buf + off, s, len)) == 0;
}

/* Prepares r to parse a new request from the start of a buffer. */
void http_request_init(struct http_request *r)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
}

/* Classifies the method: GET and HEAD are served, the other standard methods get 405, anything else 501. */
static enum http_method method_kind(const char *buf, struct http_span m)
{
    static const char *const other[] = { "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH" };
    if (span_is(buf, m.off, m.len, "GET", 0))
        return HTTP_METHOD_GET;
    if (span_is(buf, m.off, m.len, "HEAD", 0))
        return HTTP_METHOD_HEAD;
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (span_is(buf, m.off, m.len, other[i], 0))
            return HTTP_METHOD_OTHER;
    return HTTP_METHOD_UNKNOWN;
}

/* Reads a Content-Length value: digits only, no overflow, equal to any earlier one. */
static enum http_status parse_content_length(struct http_request *r, const char *v, size_t len)
{
    long long n = 0;
    if (len == 0 || len > 18)
        return HTTP_BAD_REQUEST;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return HTTP_BAD_REQUEST;
        n = n * 10 + (v[i] - '0');
    }
    if (r->content_length >= 0 && r->content_length != n)
        return HTTP_BAD_REQUEST;
    r->content_length = n;
    return HTTP_NEED_MORE;
}

/* Notes the close and keep-alive options of a comma-separated Connection value. */
static void parse_connection(struct http_request *r, const char *v, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (span_is(v, start, i - start, "close", 1))
            r->has_close = 1;
        else if (span_is(v, start, i - start, "keep-alive", 1))
            r->has_keep_alive = 1;
    }
}

/* Records one complete header field if the server acts on it, then expects the next field. */
static enum http_status field_done(struct http_request *r, const char *buf)
{
    size_t name_len = r->name_end - r->mark, len = r->value_end - r->value_start;
    r->state = P_FIELD_START;
    if (++r->field_count > HTTP_FIELDS_MAX)
        return HTTP_FIELDS_TOO_LARGE;
    if (span_is(buf, r->mark, name_len, "Host", 1))
        r->hosts++;
    else if (span_is(buf, r->mark, name_len, "Connection", 1))
        parse_connection(r, buf + r->value_start, len);
    else if (span_is(buf, r->mark, name_len, "Transfer-Encoding", 1))
        r->has_transfer_encoding = 1;
    else if (span_is(buf, r->mark, name_len, "Content-Length", 1))
        return parse_content_length(r, buf + r->value_start, len);
    return HTTP_NEED_MORE;
}

/* Judges a complete head: framing and Host first, then the method. */
static enum http_status head_done(struct http_request *r)
{
    r->state = P_DONE;
    r->head_len = r->pos + 1;
    r->keep_alive = r->minor >= 1 ? !r->has_close : r->has_keep_alive && !r->has_close;
    if (r->hosts > 1 || (r->minor >= 1 && r->hosts == 0))
        return HTTP_BAD_REQUEST;
    if (r->has_transfer_encoding)
        return HTTP_NOT_IMPLEMENTED;
    if (r->method == HTTP_METHOD_UNKNOWN)
        return HTTP_NOT_IMPLEMENTED;
    if (r->method == HTTP_METHOD_OTHER)
        return HTTP_METHOD_NOT_ALLOWED;
    return HTTP_OK;
}

/* Ends the request line at r->pos: checks the version and starts on the header fields. */
static enum http_status line_done(struct http_request *r, const char *buf)
{
    const char *v = buf + r->mark;
    r->line.len = r->mark + 8 - r->line.off;
    r->state = P_FIELD_START;
    if (v[5] != '1')
        return HTTP_VERSION_NOT_SUPPORTED;
    r->minor = v[7] - '0';
    return HTTP_NEED_MORE;
}

/*
 * Scans buf[r->pos .. len) and resumes there on the next call, so no byte is scanned twice.
 * Returns HTTP_NEED_MORE, HTTP_OK for a complete servable head, or the error status to answer.
 */
enum http_status http_parse(struct http_request *r, const char *buf, size_t len)
{
    enum http_status st = HTTP_NEED_MORE;
    size_t end = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
    for (; r->pos < end && st == HTTP_NEED_MORE; r->pos++) {
        unsigned char c = (unsigned char)buf[r->pos];
        switch (r->state) {
        case P_START: /* empty lines before the request line are tolerated */
            if (c == '\r' || c == '\n')
                break;
            r->mark = r->line.off = r->pos;
            r->started = 1;
            r->state = P_METHOD;
            /* fall through */
        case P_METHOD:
            if (c == ' ' && r->pos > r->mark) {
                r->method = method_kind(buf, (struct http_span){ r->mark, r->pos - r->mark });
                r->mark = r->pos + 1;
                r->state = P_TARGET;
            } else if (!is_tchar(c)) {
                st = HTTP_BAD_REQUEST;
            }
            break;
        case P_TARGET:
            if (c == ' ' && r->pos > r->mark) {
                r->target = (struct http_span){ r->mark, r->pos - r->mark };
                r->mark = r->pos + 1;
                r->state = P_VERSION;
            } else if (c <= ' ' || c >= 0x7f) {
                st = HTTP_BAD_REQUEST;
            }
            break;
        case P_VERSION: { /* exactly "HTTP/" DIGIT "." DIGIT, then CRLF or LF */
            size_t i = r->pos - r->mark;
            if (i == 8 && c == '\r')
                r->state = P_LINE_LF;
            else if (i == 8 && c == '\n')
                st = line_done(r, buf);
            else if (i == 8 || ((i == 5 || i == 7) ? (c < '0' || c > '9') : c != "HTTP/x."[i]))
                st = HTTP_BAD_REQUEST;
            break;
        }
        case P_LINE_LF:
            st = c == '\n' ? line_done(r, buf) : HTTP_BAD_REQUEST;
            break;
        case P_FIELD_START:
            if (c == '\r') {
                r->state = P_END_LF;
            } else if (c == '\n') {
                st = head_done(r);
            } else if (is_tchar(c)) { /* whitespace here would be obs-fold: rejected */
                r->mark = r->pos;
                r->state = P_NAME;
            } else {
                st = HTTP_BAD_REQUEST;
            }
            break;
        case P_NAME:
            if (c == ':') {
                r->name_end = r->pos;
                r->state = P_VALUE_START;
            } else if (!is_tchar(c)) { /* includes whitespace before the colon */
                st = HTTP_BAD_REQUEST;
            }
            break;
        case P_VALUE_START:
            if (c == ' ' || c == '\t')
                break;
            r->value_start = r->value_end = r->pos;
            r->state = P_VALUE;
            /* fall through */
        case P_VALUE:
            if (c == '\r')
                r->state = P_FIELD_LF;
            else if (c == '\n')
                st = field_done(r, buf);
            else if ((c < ' ' && c != '\t') || c == 0x7f)
                st = HTTP_BAD_REQUEST;
            else if (c != ' ' && c != '\t')
                r->value_end = r->pos + 1; /* trailing whitespace stays outside the value */
            break;
        case P_FIELD_LF:
            st = c == '\n' ? field_done(r, buf) : HTTP_BAD_REQUEST;
            break;
        case P_END_LF:
            st = c == '\n' ? head_done(r) : HTTP_BAD_REQUEST;
            break;
        }
    }
    if (st == HTTP_NEED_MORE && r->pos >= HTTP_HEAD_MAX)
        return r->state < P_FIELD_START ? HTTP_URI_TOO_LONG : HTTP_FIELDS_TOO_LARGE;
    return st;
}

/* Returns the value of a hex digit, or -1. */
static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Turns a request target into a clean file path: absolute form reduced to its path, query split off
 * (*query is its offset in target, or len), percent-escapes decoded strictly, and ".", ".." and
 * empty segments resolved one segment at a time. path needs len + 2 bytes; it keeps a trailing slash.
 */
enum http_status http_target_path(const char *target, size_t len, char *path, size_t cap, size_t *query)
{
    size_t i = 0, n = 0, w = 0, end;
    int dir = 1;
    if (len >= 7 && strncasecmp(target, "http://", 7) == 0)
        i = 7;
    else if (len >= 8 && strncasecmp(target, "https://", 8) == 0)
        i = 8;
    if (i > 0) /* absolute form: skip the authority */
        while (i < len && target[i] != '/' && target[i] != '?')
            i++;
    for (end = i; end < len && target[end] != '?'; end++)
        ;
    *query = end;
    if (cap < end - i + 2)
        return HTTP_URI_TOO_LONG;
    if (i == end && i > 0)
        path[n++] = '/'; /* "http://host" means "/" */
    else if (i == end || target[i] != '/')
        return HTTP_BAD_REQUEST;
    for (; i < end; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c <= ' ' || c >= 0x7f || c == '#')
            return HTTP_BAD_REQUEST;
        if (c == '%') {
            if (i + 2 >= end || hex_value((unsigned char)target[i + 1]) < 0 ||
                hex_value((unsigned char)target[i + 2]) < 0)
                return HTTP_BAD_REQUEST;
            c = (unsigned char)(hex_value((unsigned char)target[i + 1]) * 16 + hex_value((unsigned char)target[i + 2]));
            if (c == 0)
                return HTTP_BAD_REQUEST;
            i += 2;
        }
        path[n++] = (char)c;
    }
    for (size_t r = 0; r < n;) { /* normalise in place: the output never outruns the input */
        while (r < n && path[r] == '/')
            r++;
        size_t seg = r;
        while (r < n && path[r] != '/')
            r++;
        size_t seg_len = r - seg;
        if (seg_len == 0)
            break;
        if (seg_len == 1 && path[seg] == '.') {
            dir = 1;
        } else if (seg_len == 2 && path[seg] == '.' && path[seg + 1] == '.') {
            if (w == 0)
                return HTTP_BAD_REQUEST; /* climbs above the root */
            while (w > 0 && path[--w] != '/')
                ;
            dir = 1;
        } else {
            path[w++] = '/';
            memmove(path + w, path + seg, seg_len);
            w += seg_len;
            dir = r < n;
        }
    }
    if (w == 0 || dir)
        path[w++] = '/';
    path[w] = '\0';
    return HTTP_OK;
}

/* Says whether a clean path names a dotfile or passes through a dot-directory, /.well-known aside. */
int http_path_hidden(const char *path)
{
    if (strncmp(path, "/.well-known", 12) == 0 && (path[12] == '/' || path[12] == '\0'))
        path += 12;
    for (const char *p = path; (p = strchr(p, '/')) != NULL; p++)
        if (p[1] == '.')
            return 1;
    return 0;
}

/* Returns the Content-Type for a path from its extension; unknown types are application/octet-stream. */
const char *http_mime_type(const char *path)
{
    static const char *const table[][2] = {
        { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
        { "css", "text/css; charset=utf-8" }, { "js", "text/javascript; charset=utf-8" },
        { "mjs", "text/javascript; charset=utf-8" }, { "json", "application/json" },
        { "txt", "text/plain; charset=utf-8" }, { "md", "text/markdown; charset=utf-8" },
        { "csv", "text/csv; charset=utf-8" }, { "xml", "application/xml" },
        { "svg", "image/svg+xml" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
        { "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" },
        { "wasm", "application/wasm" }, { "pdf", "application/pdf" }, { "mp4", "video/mp4" },
        { "webm", "video/webm" }, { "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" },
        { "wav", "audio/wav" }, { "woff", "font/woff" }, { "woff2", "font/woff2" },
        { "ttf", "font/ttf" }, { "otf", "font/otf" }, { "zip", "application/zip" },
        { "gz", "application/gzip" }, { "tar", "application/x-tar" },
    };
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base : path, '.');
    if (dot != NULL)
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (strcasecmp(dot + 1, table[i][0]) == 0)
                return table[i][1];
    return "application/octet-stream";
}

/* Returns the reason phrase for a status. */
const char *http_reason(enum http_status status)
{
    switch (status) {
    case HTTP_OK: return "OK";
    case HTTP_MOVED_PERMANENTLY: return "Moved Permanently";
    case HTTP_BAD_REQUEST: return "Bad Request";
    case HTTP_FORBIDDEN: return "Forbidden";
    case HTTP_NOT_FOUND: return "Not Found";
    case HTTP_METHOD_NOT_ALLOWED: return "Method Not Allowed";
    case HTTP_REQUEST_TIMEOUT: return "Request Timeout";
    case HTTP_URI_TOO_LONG: return "URI Too Long";
    case HTTP_FIELDS_TOO_LARGE: return "Request Header Fields Too Large";
    case HTTP_INTERNAL_ERROR: return "Internal Server Error";
    case HTTP_NOT_IMPLEMENTED: return "Not Implemented";
    case HTTP_UNAVAILABLE: return "Service Unavailable";
    case HTTP_VERSION_NOT_SUPPORTED: return "HTTP Version Not Supported";
    case HTTP_NEED_MORE: break;
    }
    return "Unknown";
}

static const char day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char month_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Breaks t into UTC fields; a time gmtime cannot represent, or past year 9999, becomes the epoch. */
static struct tm utc(time_t t)
{
    struct tm tm;
    time_t zero = 0;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year > 8099)
        gmtime_r(&zero, &tm);
    return tm;
}

/* Formats t as an IMF-fixdate, the form HTTP dates are sent in (RFC 9110 5.6.7). */
void http_format_date(char out[HTTP_DATE_SIZE], time_t t)
{
    struct tm tm = utc(t);
    snprintf(out, HTTP_DATE_SIZE, "%s, %02u %s %04u %02u:%02u:%02u GMT", day_names[tm.tm_wday],
             (unsigned)tm.tm_mday % 100, month_names[tm.tm_mon], (unsigned)(tm.tm_year + 1900) % 10000,
             (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
}

/* Formats t the way Common Log Format wants it, in UTC. */
void http_format_log_date(char out[HTTP_LOG_DATE_SIZE], time_t t)
{
    struct tm tm = utc(t);
    snprintf(out, HTTP_LOG_DATE_SIZE, "%02u/%s/%04u:%02u:%02u:%02u +0000", (unsigned)tm.tm_mday % 100,
             month_names[tm.tm_mon], (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)tm.tm_hour % 100,
             (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
}

/* Appends n bytes, or marks the buffer overflowed when they do not fit. */
void http_buf_put(struct http_buf *b, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (b->overflow || b->cap - b->len < n) {
        b->overflow = 1;
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Appends printf-formatted text, or marks the buffer overflowed. */
void http_buf_printf(struct http_buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->overflow)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->overflow = 1;
    else
        b->len += (size_t)n;
}

/* Appends s percent-encoded for a URL path: unreserved characters and '/' stay as they are. */
void http_buf_url(struct http_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/", c))
            http_buf_put(b, (const char *)&c, 1);
        else
            http_buf_printf(b, "%%%02X", c);
    }
}

/* Appends s with the characters HTML gives meaning to escaped. */
void http_buf_html(struct http_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': http_buf_put(b, "&amp;", 5); break;
        case '<': http_buf_put(b, "&lt;", 4); break;
        case '>': http_buf_put(b, "&gt;", 4); break;
        case '"': http_buf_put(b, "&quot;", 6); break;
        case '\'': http_buf_put(b, "&#39;", 5); break;
        default: http_buf_put(b, s + i, 1);
        }
    }
}

/* Appends s for a log line: quotes, backslashes, control and non-ASCII bytes become \xHH. */
void http_buf_log(struct http_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < ' ' || c >= 0x7f || c == '"' || c == '\\')
            http_buf_printf(b, "\\x%02X", c);
        else
            http_buf_put(b, s + i, 1);
    }
}

/* Writes a response head: status line, the fields r asks for, and the empty line. */
void http_format_head(struct http_buf *b, const struct http_response *r)
{
    http_buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: " HTTP_SERVER_NAME "\r\n", (int)r->status,
                    http_reason(r->status), r->date);
    if (r->content_type != NULL)
        http_buf_printf(b, "Content-Type: %s\r\n", r->content_type);
    http_buf_printf(b, "Content-Length: %lld\r\n", r->content_length);
    if (r->has_last_modified) {
        char date[HTTP_DATE_SIZE];
        http_format_date(date, r->last_modified);
        http_buf_printf(b, "Last-Modified: %s\r\n", date);
    }
    if (r->location != NULL)
        http_buf_printf(b, "Location: %s\r\n", r->location);
    if (r->status == HTTP_METHOD_NOT_ALLOWED)
        http_buf_printf(b, "Allow: GET, HEAD\r\n");
    if (r->close)
        http_buf_printf(b, "Connection: close\r\n");
    else if (r->keep_alive_echo)
        http_buf_printf(b, "Connection: keep-alive\r\n");
    http_buf_put(b, "\r\n", 2);
}

/*
 * Writes a whole generated response: the head, then (unless head_only) a short HTML page naming
 * the status, as errors and redirects carry. Returns the length of the head.
 */
size_t http_format_page(struct http_buf *b, struct http_response *r, int head_only)
{
    char page[256];
    struct http_buf body = { page, 0, sizeof page, 0 };
    http_buf_printf(&body, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                           "<body><h1>%d %s</h1></body></html>\n",
                    (int)r->status, http_reason(r->status), (int)r->status, http_reason(r->status));
    r->content_type = "text/html; charset=utf-8";
    r->content_length = (long long)body.len;
    size_t start = b->len;
    http_format_head(b, r);
    size_t head_len = b->len - start;
    if (!head_only)
        http_buf_put(b, page, body.len);
    return head_len;
}

/* Writes the start of a directory listing for a clean path, with a ../ row except at the root. */
void http_format_listing_top(struct http_buf *b, const char *path)
{
    http_buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    http_buf_html(b, path, strlen(path));
    http_buf_printf(b, "</title></head>\n<body><h1>Index of ");
    http_buf_html(b, path, strlen(path));
    http_buf_printf(b, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n");
    if (strcmp(path, "/") != 0)
        http_buf_printf(b, "<tr><td><a href=\"../\">../</a></td><td>-</td><td></td></tr>\n");
}

/* Writes one listing row: an encoded link, the escaped name, size ("-" for a directory) and mtime. */
void http_format_listing_row(struct http_buf *b, const char *name, int is_dir, long long size, time_t mtime)
{
    struct tm tm = utc(mtime);
    size_t n = strlen(name);
    http_buf_printf(b, "<tr><td><a href=\"./");
    http_buf_url(b, name, n);
    http_buf_printf(b, "%s\">", is_dir ? "/" : "");
    http_buf_html(b, name, n);
    http_buf_printf(b, "%s</a></td><td>", is_dir ? "/" : "");
    if (is_dir)
        http_buf_put(b, "-", 1);
    else
        http_buf_printf(b, "%lld", size);
    http_buf_printf(b, "</td><td>%04d-%02d-%02d %02d:%02d</td></tr>\n", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* Writes the end of a directory listing. */
void http_format_listing_end(struct http_buf *b)
{
    http_buf_printf(b, "</table>\n</body></html>\n");
}
