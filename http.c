/* http.c: request parsing, targets, MIME types, dates, the reply decided and written; pure functions only. */
#include "http.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parser states in the order a request's bytes arrive; a trailer section goes through the field states again. */
enum {
    P_START, P_METHOD, P_TARGET, P_VERSION, P_LINE_LF,
    P_FIELD_START, P_NAME, P_VALUE_START, P_VALUE, P_FIELD_LF, P_END_LF,
    P_BODY,                                                       /* Content-Length bytes */
    P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_DATA_CR, P_CHUNK_DATA_LF, /* a chunk's size line, its data, the CRLF after */
    P_DONE
};

/* Returns the value of a hex digit, or -1. */
static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* an ASCII letter in lower case */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Says whether c is an ASCII digit (not isdigit: no locale, no table lookup through a call). */
static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Says whether c is a control character a field value may not hold: any but tab, and DEL (RFC 9110 5.5). */
static int is_value_ctl(unsigned char c)
{
    return (c < ' ' && c != '\t') || c == 0x7f;
}

/* Says whether c may appear in a token (RFC 9110 5.6.2): method and field names. A bitmap of the 128 ASCII codes
   (digits, letters, and !#$%&'*+-.^_`|~), since every byte of every name comes here. */
static int is_tchar(unsigned char c)
{
    static const uint32_t tchar[4] = { 0, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff };
    return c < 128 && (tchar[c >> 5] >> (c & 31) & 1);
}

/* Says whether the span equals the string s exactly (case_fold compares ASCII letters without case). */
static int span_is(const char *buf, size_t off, size_t len, const char *s, int case_fold)
{
    return strlen(s) == len && (case_fold ? strncasecmp(buf + off, s, len) : strncmp(buf + off, s, len)) == 0;
}

/* Returns which of count names the n bytes at s are (case_fold as span_is), or -1. */
static int find_name(const char *s, size_t n, const char *const *names, int count, int case_fold)
{
    for (int i = 0; i < count; i++)
        if (span_is(s, 0, n, names[i], case_fold))
            return i;
    return -1;
}

/* Prepares r to parse a new request from the start of a buffer. */
void http_request_init(struct http_request *r)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
}

/* Skips optional whitespace (spaces and tabs) from v[i]; returns where it ends. */
static size_t skip_ows(const char *v, size_t len, size_t i)
{
    while (i < len && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return i;
}

/* Skips a token from v[i]; returns where it ends. */
static size_t skip_token(const char *v, size_t len, size_t i)
{
    while (i < len && is_tchar((unsigned char)v[i]))
        i++;
    return i;
}

/* Reads a decimal number at v[*i], saturating at LLONG_MAX; returns -1 when no digit is there. */
static long long read_number(const char *v, size_t len, size_t *i)
{
    long long n = -1;
    for (; *i < len && is_digit((unsigned char)v[*i]); (*i)++) {
        int digit = v[*i] - '0';
        n = n < 0 ? digit : n > (LLONG_MAX - digit) / 10 ? LLONG_MAX : n * 10 + digit;
    }
    return n;
}

/* A comma-separated list being read (RFC 9110 5.6.1): its text, where reading goes on, the element found last. */
struct list { const char *v, *item; size_t len, at, n; };

/* Finds the next non-empty element, OWS trimmed; a quoted string (an entity tag, say) is one piece, with no escapes. */
static int list_next(struct list *l)
{
    size_t i = l->at;
    while (i < l->len && (l->v[i] == ',' || l->v[i] == ' ' || l->v[i] == '\t'))
        i++;
    if (i == l->len)
        return 0;
    l->item = l->v + i;
    for (int quoted = 0; i < l->len && (quoted || l->v[i] != ','); i++)
        quoted ^= l->v[i] == '"';
    for (l->at = i; l->v[i - 1] == ' ' || l->v[i - 1] == '\t'; i--)
        ;
    l->n = (size_t)(l->v + i - l->item);
    return 1;
}

/* Classifies the method: GET, HEAD and OPTIONS are served, the other standard methods get 405, anything else 501. */
static enum http_method method_kind(const char *buf, struct http_span m)
{
    static const char *const names[] = { "GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "CONNECT", "TRACE",
                                         "PATCH" };
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++) /* the first three in the enum's order */
        if (span_is(buf, m.off, m.len, names[i], 0))
            return i < 3 ? (enum http_method)(HTTP_METHOD_GET + i) : HTTP_METHOD_OTHER;
    return HTTP_METHOD_UNKNOWN;
}

/* Reads a Content-Length value: digits, no overflow, once. A repeat is refused even with the same value, as a list
   ("5, 5") is: RFC 9110 8.6 lets a recipient take either, but what a proxy in front made of them is unknown. */
static enum http_status parse_content_length(struct http_request *r, const char *v, size_t len)
{
    size_t end = 0;
    long long n = read_number(v, len, &end);
    if (n < 0 || end != len || len > 18 || r->content_length >= 0)
        return HTTP_BAD_REQUEST;
    r->content_length = n;
    return HTTP_NEED_MORE;
}

/* Reads Transfer-Encoding codings: chunked last, once (RFC 9112 6.1); a non-token element, or one after it, is 400. */
static enum http_status parse_transfer_encoding(struct http_request *r, const char *v, size_t len)
{
    static const char *const known[] = { "chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress" };
    r->has_transfer_encoding = 1;
    for (struct list l = { v, NULL, len, 0, 0 }; list_next(&l);) {
        if (skip_token(l.item, l.n, 0) != l.n || r->te_chunked)
            return HTTP_BAD_REQUEST;
        int coding = find_name(l.item, l.n, known, sizeof known / sizeof known[0], 1);
        r->te_chunked = coding == 0;
        r->te_unknown |= coding < 0;
    }
    return HTTP_NEED_MORE;
}

/* Says whether c may appear in a reg-name or an IP literal of a URI (RFC 3986): unreserved, sub-delims, '%'. */
static int is_host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~!$&'()*+,;=%", c) != NULL);
}

/* Says whether text in brackets is an IP literal: IPv6 characters, two colons at least, or "v" HEXDIG+ "." ... */
static int ip_literal_valid(const char *v, size_t n)
{
    size_t i = 1, colons = 0;
    if (n > 0 && (v[0] == 'v' || v[0] == 'V')) {
        while (i < n && hex_value((unsigned char)v[i]) >= 0)
            i++;
        if (i == 1 || i + 1 >= n || v[i] != '.')
            return 0;
        for (i++; i < n; i++)
            if ((!is_host_char((unsigned char)v[i]) && v[i] != ':') || v[i] == '%')
                return 0;
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (hex_value((unsigned char)v[i]) < 0 && v[i] != ':' && v[i] != '.')
            return 0;
        colons += v[i] == ':';
    }
    return colons >= 2;
}

/* Says whether a Host value is uri-host [":" port] (RFC 9112 3.2), or empty, as sent for a target with no authority. */
static int host_valid(const char *v, size_t len)
{
    size_t i = 0;
    if (len > 0 && v[0] == '[') {
        while (i < len && v[i] != ']')
            i++;
        if (i == len || !ip_literal_valid(v + 1, i - 1))
            return 0;
        i++;
    } else {
        for (; i < len && is_host_char((unsigned char)v[i]); i++)
            if (v[i] == '%' && (i + 2 >= len || hex_value((unsigned char)v[i + 1]) < 0 ||
                                hex_value((unsigned char)v[i + 2]) < 0))
                return 0; /* a '%' starts two hex digits */
    }
    for (size_t k = i; k < len; k++)
        if (k == i ? v[k] != ':' : !is_digit((unsigned char)v[k]))
            return 0;
    return 1;
}

/* Notes the close and keep-alive options of a Connection value. */
static void parse_connection(struct http_request *r, const char *v, size_t len)
{
    for (struct list l = { v, NULL, len, 0, 0 }; list_next(&l);) {
        r->has_close |= span_is(l.item, 0, l.n, "close", 1);
        r->has_keep_alive |= span_is(l.item, 0, l.n, "keep-alive", 1);
    }
}

/* Records one complete header field if the server acts on it, then expects the next field. */
static enum http_status field_done(struct http_request *r, const char *buf)
{
#define KEPT(name) { name, sizeof name - 1 }
    static const struct { const char *name; size_t len; } kept[HTTP_FIELD_COUNT] = { /* most are told by length */
        KEPT("Range"), KEPT("If-Range"), KEPT("If-Match"), KEPT("If-Unmodified-Since"), KEPT("If-None-Match"),
        KEPT("If-Modified-Since"), KEPT("Accept-Encoding"), KEPT("Authorization") };
    r->state = P_FIELD_START;
    if (r->head_len != 0) /* a trailer field: checked like a header field, never used or counted */
        return HTTP_NEED_MORE;
    size_t name_len = r->name_end - r->mark, len = r->value_end - r->value_start;
    if (++r->field_count > HTTP_FIELDS_MAX)
        return HTTP_FIELDS_TOO_LARGE;
    for (int f = 0; f < HTTP_FIELD_COUNT; f++) {
        if (name_len != kept[f].len || strncasecmp(buf + r->mark, kept[f].name, name_len) != 0)
            continue;
        int again = r->field[f].off != 0 || (r->repeated & (1u << f)); /* a list split over lines: not used */
        r->repeated |= again ? 1u << f : 0;
        r->field[f] = again ? (struct http_span){ 0, 0 } : (struct http_span){ r->value_start, len };
    }
    if (span_is(buf, r->mark, name_len, "Expect", 1))
        r->expect_continue = span_is(buf, r->value_start, len, "100-continue", 1);
    else if (span_is(buf, r->mark, name_len, "Host", 1))
        return ++r->hosts > 1 || !host_valid(buf + r->value_start, len) ? HTTP_BAD_REQUEST : HTTP_NEED_MORE;
    else if (span_is(buf, r->mark, name_len, "Connection", 1))
        parse_connection(r, buf + r->value_start, len);
    else if (span_is(buf, r->mark, name_len, "Transfer-Encoding", 1))
        return parse_transfer_encoding(r, buf + r->value_start, len);
    else if (span_is(buf, r->mark, name_len, "Content-Length", 1))
        return parse_content_length(r, buf + r->value_start, len);
    return HTTP_NEED_MORE;
}

/* Ends the request before offset end: its body read whole, or not (then the connection closes, lingering). */
static enum http_status body_done(struct http_request *r, size_t end, int whole)
{
    r->state = P_DONE;
    r->end = end;
    r->keep_alive &= whole;
    r->body_unread = !whole;
    return HTTP_OK;
}

/* Judges a complete head: framing, Host, the method. A small body is read next; a larger one never (then it closes). */
static enum http_status head_done(struct http_request *r)
{
    if (r->head_len != 0) /* the empty line after a trailer section */
        return body_done(r, r->pos + 1, 1);
    r->state = P_DONE;
    r->head_len = r->end = r->pos + 1;
    r->keep_alive = r->minor >= 1 ? !r->has_close : r->has_keep_alive && !r->has_close;
    if (r->minor >= 1 && r->hosts == 0)
        return HTTP_BAD_REQUEST;
    if (r->has_transfer_encoding && (r->minor == 0 || r->content_length >= 0 || !r->te_chunked))
        return HTTP_BAD_REQUEST; /* RFC 9112 6.1, 6.3: faulty framing, or framing a proxy may read the other way */
    if (r->has_transfer_encoding && r->te_unknown)
        return HTTP_NOT_IMPLEMENTED;
    if (r->method == HTTP_METHOD_UNKNOWN || r->method == HTTP_METHOD_OTHER)
        return r->method == HTTP_METHOD_OTHER ? HTTP_METHOD_NOT_ALLOWED : HTTP_NOT_IMPLEMENTED;
    if (!r->has_transfer_encoding && r->content_length <= 0)
        return HTTP_OK;
    if (r->content_length > HTTP_BODY_DISCARD_MAX || r->head_len + HTTP_BODY_ROOM > HTTP_HEAD_MAX ||
        (r->expect_continue && r->minor >= 1)) /* answered now: a client that expects 100 Continue waits for it */
        return body_done(r, r->head_len, 0); /* (HTTP/1.0 has no Expect, RFC 9110 10.1.1); closing drains the body */
    r->body_left = r->has_transfer_encoding ? 0 : (unsigned long long)r->content_length;
    r->state = r->has_transfer_encoding ? P_CHUNK_SIZE : P_BODY;
    return HTTP_NEED_MORE; /* the head is whole; http_parse goes on to the body */
}

/* Ends the request line at r->pos, its LF: checks the version and starts on the header fields. */
static enum http_status line_done(struct http_request *r, const char *buf)
{
    r->line.len = r->mark + 8 - r->line.off;
    r->state = P_FIELD_START;
    if (buf[r->mark + 5] != '1')
        return HTTP_VERSION_NOT_SUPPORTED;
    r->minor = buf[r->mark + 7] - '0';
    return HTTP_NEED_MORE;
}

/* Scans the request line from r->pos: method SP target SP "HTTP/" DIGIT "." DIGIT, then CRLF or LF. Empty lines
   before it are passed over; the method and the target are passed over in tight loops. */
static enum http_status parse_line(struct http_request *r, const char *buf, size_t end)
{
    enum http_status st = HTTP_NEED_MORE;
    size_t pos = r->pos;
    while (pos < end && st == HTTP_NEED_MORE && r->state < P_FIELD_START) {
        unsigned char c = (unsigned char)buf[pos];
        size_t i = pos - r->mark;
        if (r->state == P_START && (c == '\r' || c == '\n')) {
            pos++;
        } else if (r->state == P_START) {
            r->mark = r->line.off = pos;
            r->started = 1;
            r->state = P_METHOD;
        } else if (r->state == P_METHOD || r->state == P_TARGET) {
            int method = r->state == P_METHOD;
            while (pos < end && (method ? is_tchar((unsigned char)buf[pos]) : buf[pos] > ' ' && buf[pos] < 0x7f))
                pos++;
            if (pos == end)
                break;
            if (buf[pos] != ' ' || pos == r->mark)
                return HTTP_BAD_REQUEST;
            if (method)
                r->method = method_kind(buf, (struct http_span){ r->mark, pos - r->mark });
            else
                r->target = (struct http_span){ r->mark, pos - r->mark };
            r->mark = ++pos;
            r->state = method ? P_TARGET : P_VERSION;
        } else if (r->state == P_VERSION && i == 0 && end - pos >= 8 && memcmp(buf + pos, "HTTP/1.", 7) == 0 &&
                   is_digit((unsigned char)buf[pos + 7])) {
            pos += 8; /* the usual version, whole: one comparison */
        } else if (r->state == P_VERSION && i < 8) { /* exactly "HTTP/" DIGIT "." DIGIT */
            st = ((i == 5 || i == 7) ? is_digit(c) : c == "HTTP/x."[i]) ? HTTP_NEED_MORE : HTTP_BAD_REQUEST;
            pos++;
        } else if (r->state == P_VERSION && c == '\r') {
            r->state = P_LINE_LF;
            pos++;
        } else {
            r->pos = pos;
            st = c == '\n' ? line_done(r, buf) : HTTP_BAD_REQUEST;
            pos++;
        }
    }
    r->pos = pos;
    return st;
}

/* Scans the head, or a trailer section: checked like fields, never used (RFC 9112 7.1.2), counted as framing.
   Names, values and targets are passed over in tight loops: every byte of every request comes here. */
static enum http_status parse_fields(struct http_request *r, const char *buf, size_t end)
{
    enum http_status st = HTTP_NEED_MORE;
    int trailers = r->head_len != 0;
    size_t from = r->pos, room = HTTP_BODY_DISCARD_MAX - r->body_seen, pos = r->pos;
    size_t stop = trailers && end - from > room ? from + room : end;
    for (; pos < stop && st == HTTP_NEED_MORE && r->state < P_BODY; pos++) {
        unsigned char c = (unsigned char)buf[pos];
        r->pos = pos; /* where the helpers below read it */
        switch (r->state) {
        case P_FIELD_START:
            r->mark = pos;
            if (c == '\r')
                r->state = P_END_LF;
            else if (c == '\n')
                st = head_done(r);
            else if (is_tchar(c)) /* whitespace here would be obs-fold: rejected */
                r->state = P_NAME;
            else
                st = HTTP_BAD_REQUEST;
            break;
        case P_NAME:
            while (is_tchar(c) && pos + 1 < stop)
                c = (unsigned char)buf[++pos];
            r->name_end = pos;
            if (c == ':')
                r->state = P_VALUE_START;
            else if (!is_tchar(c)) /* whitespace before the colon included */
                st = HTTP_BAD_REQUEST;
            break;
        case P_VALUE_START:
            if (c == ' ' || c == '\t')
                break;
            r->value_start = r->value_end = pos;
            r->state = P_VALUE;
            /* fall through */
        case P_VALUE:
            for (; c > ' ' && c != 0x7f && pos + 1 < stop; c = (unsigned char)buf[++pos])
                r->value_end = pos + 1;
            if (c == '\r')
                r->state = P_FIELD_LF;
            else if (c == '\n')
                st = field_done(r, buf);
            else if (is_value_ctl(c))
                st = HTTP_BAD_REQUEST;
            else if (c != ' ' && c != '\t')
                r->value_end = pos + 1; /* trailing whitespace stays outside the value */
            break;
        default: /* P_FIELD_LF, P_END_LF */
            st = c != '\n' ? HTTP_BAD_REQUEST : r->state == P_END_LF ? head_done(r) : field_done(r, buf);
            break;
        }
    }
    r->pos = pos;
    if (!trailers)
        return st;
    r->body_seen += r->pos - from;
    return st == HTTP_NEED_MORE && r->pos == stop && stop < end ? body_done(r, r->pos + 1, 0) : st;
}

/* Scans the n bytes here of a chunk-size line (RFC 9112 7.1.1): size, extensions (BWS ";" BWS name [BWS "=" BWS
   value], never used), CRLF with no blank before. Returns n, or the first bad byte's offset, so 400 comes early. */
static size_t chunk_line_scan(const char *p, size_t n, unsigned long long *size)
{
    size_t i = 0, at;
    while (i < n && hex_value((unsigned char)p[i]) >= 0 && *size >> HTTP_CHUNK_SIZE_BITS == 0)
        *size = *size * 16 + (unsigned)hex_value((unsigned char)p[i++]);
    if (i == 0 || (i < n && hex_value((unsigned char)p[i]) >= 0))
        return i; /* no digit, or too many */
    for (;;) {
        at = skip_ows(p, n, i);
        if (at < n && at == i && p[at] == '\r')
            return at + 1 == n ? n : p[at + 1] == '\n' ? at + 2 : at + 1;
        if (at == n || p[at] != ';')
            return at;
        at = skip_ows(p, n, at + 1);
        if ((i = skip_token(p, n, at)) == at) /* no name */
            return at;
        at = skip_ows(p, n, i);
        if (at == n || p[at] != '=')
            continue;
        at = skip_ows(p, n, at + 1);
        if (at == n || p[at] != '"') {
            if ((i = skip_token(p, n, at)) == at) /* no value */
                return at;
            continue;
        }
        for (i = at + 1; i < n && p[i] != '"'; i++) /* obs-text is allowed, and escapes; control bytes are not */
            if (is_value_ctl((unsigned char)p[i]) || (p[i] == '\\' && ++i < n && is_value_ctl((unsigned char)p[i])))
                return i;
        if (i++ >= n)
            return n;
    }
}

/* Reads a chunk-size line once its LF is here. CRLF only ends it (RFC 9112 7.1): if a bare LF did, a front end
   ending "3;a\n" there and one reading on to the CRLF would see different chunks, and a request could be smuggled
   in the data. No LF in HTTP_BODY_ROOM bytes is 400: the server's buffer may hold no more. */
static enum http_status chunk_line(struct http_request *r, const char *buf, size_t end)
{
    size_t have = end - r->pos < HTTP_BODY_ROOM ? end - r->pos : HTTP_BODY_ROOM;
    const char *p = buf + r->pos, *lf = memchr(p, '\n', have);
    size_t n = lf != NULL ? (size_t)(lf - p) + 1 : have, room = HTTP_BODY_DISCARD_MAX - r->body_seen;
    unsigned long long size = 0;
    size_t fit = chunk_line_scan(p, n, &size);
    if (fit < n && fit < room)
        return HTTP_BAD_REQUEST;
    if (n > room) /* ends at the first byte past the limit, as if read byte by byte */
        return body_done(r, r->pos + room + 1, 0);
    if (lf == NULL)
        return n == HTTP_BODY_ROOM ? HTTP_BAD_REQUEST : HTTP_NEED_MORE;
    r->pos += n;
    r->body_seen += n;
    r->body_left = size;
    r->state = size > 0 ? P_CHUNK_DATA : P_FIELD_START;
    return size > HTTP_BODY_DISCARD_MAX - r->body_seen ? body_done(r, r->pos, 0) : HTTP_NEED_MORE;
}

/* Reads what is here of a body to throw away: data in one step, a chunk-size line whole, the CRLF after data. */
static enum http_status parse_body(struct http_request *r, const char *buf, size_t end)
{
    if (r->state == P_CHUNK_SIZE)
        return chunk_line(r, buf, end);
    if (r->state == P_BODY || r->state == P_CHUNK_DATA) {
        size_t take = end - r->pos < r->body_left ? end - r->pos : (size_t)r->body_left;
        r->pos += take;
        r->body_left -= take;
        r->body_seen += take;
        if (r->body_left == 0 && r->state == P_BODY)
            return body_done(r, r->pos, 1);
        r->state = r->body_left == 0 ? P_CHUNK_DATA_CR : r->state;
        return HTTP_NEED_MORE;
    }
    if (r->body_seen++ == HTTP_BODY_DISCARD_MAX)
        return body_done(r, r->pos + 1, 0);
    if (buf[r->pos++] != (r->state == P_CHUNK_DATA_CR ? '\r' : '\n'))
        return HTTP_BAD_REQUEST;
    r->state = r->state == P_CHUNK_DATA_CR ? P_CHUNK_DATA_LF : P_CHUNK_SIZE;
    return HTTP_NEED_MORE;
}

/* Scans buf[r->pos .. len), resuming there next time. HTTP_HEAD_MAX bytes of empty lines are 400, no line too long. */
enum http_status http_parse(struct http_request *r, const char *buf, size_t len)
{
    enum http_status st = HTTP_NEED_MORE;
    size_t end = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
    for (size_t from = SIZE_MAX; st == HTTP_NEED_MORE && r->state != P_DONE && r->pos < end && r->pos != from;) {
        from = r->pos; /* a chunk-size line still without its LF stops the loop */
        st = r->state < P_FIELD_START ? parse_line(r, buf, end) : r->state < P_BODY ? parse_fields(r, buf, end)
                                                                                 : parse_body(r, buf, end);
    }
    if (st != HTTP_NEED_MORE || r->pos < HTTP_HEAD_MAX || r->head_len != 0)
        return st; /* else a head that cannot end in time */
    return !r->started ? HTTP_BAD_REQUEST : r->state < P_FIELD_START ? HTTP_URI_TOO_LONG : HTTP_FIELDS_TOO_LARGE;
}

/* Removes the body bytes read from the buffer, so that a body of any length passes through HTTP_HEAD_MAX bytes. */
size_t http_compact(struct http_request *r, char *buf, size_t len)
{
    if (r->head_len == 0 || r->state == P_DONE || r->pos <= r->head_len)
        return len;
    memmove(buf + r->head_len, buf + r->pos, len - r->pos);
    len -= r->pos - r->head_len;
    r->pos = r->head_len;
    return len;
}

/* Turns a request target into a clean file path: absolute form reduced to its path, the query split off (*query is
   its offset, or len), escapes decoded strictly, ".", ".." and empty segments resolved. path needs len + 2 bytes. */
enum http_status http_target_path(const char *target, size_t len, char *path, size_t cap, size_t *query)
{
    size_t i = 0, n = 0, w = 0, end;
    int dir = 1, userinfo = 0;
    if (len >= 7 && strncasecmp(target, "http://", 7) == 0)
        i = 7;
    else if (len >= 8 && strncasecmp(target, "https://", 8) == 0)
        i = 8;
    if (i > 0) /* absolute form: skip the authority, which may not carry userinfo (RFC 9110 section 4.2.4) */
        for (; i < len && target[i] != '/' && target[i] != '?'; i++)
            userinfo |= target[i] == '@';
    for (end = i; end < len && target[end] != '?'; end++)
        ;
    *query = end;
    if (userinfo)
        return HTTP_BAD_REQUEST;
    if (cap < end - i + 2)
        return HTTP_URI_TOO_LONG;
    if (i == end && i > 0)
        path[n++] = '/'; /* "http://host" means "/" */
    else if (i == end || target[i] != '/')
        return HTTP_BAD_REQUEST;
    for (; i < end; i++) {
        unsigned char c = (unsigned char)target[i];
        int high = c == '%' && i + 2 < end ? hex_value((unsigned char)target[i + 1]) : 0;
        int low = c == '%' && i + 2 < end ? hex_value((unsigned char)target[i + 2]) : 0;
        if (c <= ' ' || c >= 0x7f || c == '#' || high < 0 || low < 0 || (c == '%' && (i + 2 >= end || high + low == 0)))
            return HTTP_BAD_REQUEST; /* a '%' starts two hex digits, and no %00 */
        i += c == '%' ? 2 : 0;
        path[n++] = c == '%' ? (char)(high * 16 + low) : (char)c;
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
        int dot = seg_len == 1 && path[seg] == '.', dot_dot = seg_len == 2 && path[seg] == '.' && path[seg + 1] == '.';
        if (dot_dot && w == 0)
            return HTTP_BAD_REQUEST; /* climbs above the root */
        while (dot_dot && w > 0 && path[--w] != '/')
            ;
        if (!dot && !dot_dot) {
            path[w++] = '/';
            memmove(path + w, path + seg, seg_len);
            w += seg_len;
        }
        dir = dot || dot_dot || r < n;
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

/* Compares MIME entries by extension, ignoring case, for lookups. */
static int mime_compare(const void *a, const void *b)
{
    return strcasecmp(((const struct http_mime_entry *)a)->ext, ((const struct http_mime_entry *)b)->ext);
}

/* Orders entries of one table by extension, then by place in the file, so that the first one wins. */
static int mime_order(const void *a, const void *b)
{
    const struct http_mime_entry *x = a, *y = b;
    int c = mime_compare(x, y);
    return c != 0 ? c : (x->ext > y->ext) - (x->ext < y->ext);
}

/* Indexes a mime.types text in place ("type ext ext ..." lines, '#' comments): at most max entries, sorted, an
   extension listed twice keeping its first type; a type longer than HTTP_MIME_TYPE_MAX skips its line. */
size_t http_mime_index(char *text, struct http_mime_entry *entries, size_t max)
{
    size_t count = 0, kept = 0;
    char *lines, *words;
    for (char *line = strtok_r(text, "\n", &lines); line != NULL; line = strtok_r(NULL, "\n", &lines)) {
        const char *type = strtok_r(line, " \t\r", &words);
        if (type == NULL || type[0] == '#' || strlen(type) > HTTP_MIME_TYPE_MAX)
            continue;
        for (char *ext; count < max && (ext = strtok_r(NULL, " \t\r", &words)) != NULL && ext[0] != '#';)
            entries[count++] = (struct http_mime_entry){ ext, type };
    }
    qsort(entries, count, sizeof *entries, mime_order);
    for (size_t i = 0; i < count; i++)
        if (kept == 0 || mime_compare(&entries[kept - 1], &entries[i]) != 0)
            entries[kept++] = entries[i];
    return kept;
}

/* Returns a path's MIME type from its extension: the built-in table first, then the system's. The built-in one has
   the web's types where Debian's mime.types differs (ts is MPEG-TS, not Qt Linguist; .map is a source map) or lacks. */
const char *http_mime_type(const struct http_mime *system, const char *path)
{
    static const struct http_mime_entry builtin[] = {
        { "html", "text/html" }, { "htm", "text/html" }, { "css", "text/css" }, { "js", "text/javascript" },
        { "mjs", "text/javascript" }, { "cjs", "text/javascript" }, { "json", "application/json" },
        { "map", "application/json" }, { "webmanifest", "application/manifest+json" }, { "txt", "text/plain" },
        { "md", "text/markdown" }, { "csv", "text/csv" }, { "vtt", "text/vtt" }, { "xml", "application/xml" },
        { "rss", "application/rss+xml" }, { "svg", "image/svg+xml" }, { "png", "image/png" },
        { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
        { "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" }, { "wasm", "application/wasm" },
        { "pdf", "application/pdf" }, { "mp4", "video/mp4" }, { "webm", "video/webm" }, { "ts", "video/mp2t" },
        { "m3u8", "application/vnd.apple.mpegurl" }, { "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" },
        { "weba", "audio/webm" }, { "wav", "audio/wav" }, { "mid", "audio/midi" }, { "midi", "audio/midi" },
        { "woff", "font/woff" }, { "woff2", "font/woff2" }, { "ttf", "font/ttf" }, { "otf", "font/otf" },
        { "zip", "application/zip" }, { "gz", "application/gzip" }, { "tar", "application/x-tar" },
    };
    const char *base = strrchr(path, '/'), *dot = strrchr(base ? base : path, '.');
    if (dot == NULL)
        return "application/octet-stream";
    struct http_mime_entry key = { dot + 1, NULL };
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (mime_compare(&key, &builtin[i]) == 0)
            return builtin[i].type;
    const struct http_mime_entry *found = system == NULL || system->count == 0 ? NULL :
        bsearch(&key, system->entry, system->count, sizeof key, mime_compare);
    return found ? found->type : "application/octet-stream";
}

/* Returns the reason phrase for a status. */
const char *http_reason(enum http_status status)
{
    static const struct { enum http_status status; const char *text; } reasons[] = { /* the most frequent first */
        { HTTP_OK, "OK" }, { HTTP_NOT_MODIFIED, "Not Modified" }, { HTTP_PARTIAL_CONTENT, "Partial Content" },
        { HTTP_NOT_FOUND, "Not Found" }, { HTTP_MOVED_PERMANENTLY, "Moved Permanently" },
        { HTTP_NO_CONTENT, "No Content" }, { HTTP_BAD_REQUEST, "Bad Request" }, { HTTP_UNAUTHORIZED, "Unauthorized" },
        { HTTP_FORBIDDEN, "Forbidden" }, { HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed" },
        { HTTP_PRECONDITION_FAILED, "Precondition Failed" }, { HTTP_REQUEST_TIMEOUT, "Request Timeout" },
        { HTTP_URI_TOO_LONG, "URI Too Long" }, { HTTP_RANGE_NOT_SATISFIABLE, "Range Not Satisfiable" },
        { HTTP_FIELDS_TOO_LARGE, "Request Header Fields Too Large" }, { HTTP_INTERNAL_ERROR, "Internal Server Error" },
        { HTTP_NOT_IMPLEMENTED, "Not Implemented" }, { HTTP_UNAVAILABLE, "Service Unavailable" },
        { HTTP_VERSION_NOT_SUPPORTED, "HTTP Version Not Supported" },
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Unknown";
}

static const char *const day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const full_day_names[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                               "Saturday" };
static const char *const month_names[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Breaks t into UTC fields by arithmetic (no time zone lock, no library call); outside years 0 to 9999, the epoch. */
static struct tm utc(time_t t)
{
    long long days = (long long)t / 86400, secs = (long long)t % 86400;
    days -= secs < 0;
    secs += secs < 0 ? 86400 : 0;
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, day_of_era = z - era * 146097;
    long long year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    long long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    long long m = (5 * day_of_year + 2) / 153, year = year_of_era + era * 400 + (m >= 10); /* March-based m */
    if (year < 0 || year > 9999)
        return utc(0);
    return (struct tm){ .tm_sec = (int)(secs % 60), .tm_min = (int)(secs / 60 % 60), .tm_hour = (int)(secs / 3600),
                        .tm_mday = (int)(day_of_year - (153 * m + 2) / 5 + 1), .tm_mon = (int)(m < 10 ? m + 2 : m - 10),
                        .tm_year = (int)(year - 1900), .tm_wday = (int)(((days % 7) + 11) % 7) };
}

/* Writes v as exactly n decimal digits at p. */
static void put_digits(char *p, int v, int n)
{
    for (; n-- > 0; v /= 10)
        p[n] = (char)('0' + v % 10);
}

/* Formats t as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7), without printf. */
void http_format_date(char out[HTTP_DATE_SIZE], time_t t)
{
    struct tm tm = utc(t);
    memcpy(out, "Sun, 00 Jan 0000 00:00:00 GMT", HTTP_DATE_SIZE);
    memcpy(out, day_names[tm.tm_wday], 3);
    put_digits(out + 5, tm.tm_mday, 2);
    memcpy(out + 8, month_names[tm.tm_mon], 3);
    put_digits(out + 12, tm.tm_year + 1900, 4);
    put_digits(out + 17, tm.tm_hour, 2);
    put_digits(out + 20, tm.tm_min, 2);
    put_digits(out + 23, tm.tm_sec, 2);
}

/* Formats t the way Common Log Format wants it, in UTC. */
void http_format_log_date(char out[HTTP_LOG_DATE_SIZE], time_t t)
{
    struct tm tm = utc(t);
    snprintf(out, HTTP_LOG_DATE_SIZE, "%02u/%s/%04u:%02u:%02u:%02u +0000", (unsigned)tm.tm_mday % 100,
             month_names[tm.tm_mon], (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)tm.tm_hour % 100,
             (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
}

/* Formats the entity tag of a file from its identity, size and modification time (ns, modulo 2^64). */
void http_format_etag(char out[HTTP_ETAG_SIZE], unsigned long long inode, long long size, unsigned long long mtime_ns)
{
    const unsigned long long part[3] = { inode, (unsigned long long)size, mtime_ns };
    char *p = out;
    for (int i = 0; i < 3; i++) { /* by hand, not snprintf: it runs for every file response */
        int digits = 1;
        while (digits < 16 && part[i] >> (4 * digits) != 0)
            digits++;
        *p++ = i == 0 ? '"' : '-';
        for (int d = digits - 1; d >= 0; d--)
            *p++ = "0123456789abcdef"[part[i] >> (4 * d) & 15];
    }
    memcpy(p, "\"", 2);
}

/* Reads exactly n decimal digits; returns -1 unless all n are digits. */
static int read_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Counts days from 1970-01-01 to a date of the proleptic Gregorian calendar (month 1-12). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long year_of_era = y - era * 400;
    long long day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year - 719468;
}

/* Parses an HTTP date in its three forms (RFC 9110 5.6.7); a two-digit year is the latest not 50 years past now.
   Years 0 to 9999 are computed in long long and clamped to time_t, so none wraps. Returns 1 and sets *out, or 0. */
int http_parse_date(const char *s, size_t len, time_t now, time_t *out)
{
    int day, month, year, clock_at;
    const char *comma = memchr(s, ',', len);
    if (len == 29 && comma == s + 3 && find_name(s, 3, day_names, 7, 0) >= 0 && memcmp(s + 25, " GMT", 4) == 0 &&
        s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ') { /* Sun, 06 Nov 1994 08:49:37 GMT */
        day = read_digits(s + 5, 2);
        month = find_name(s + 8, 3, month_names, 12, 0);
        year = read_digits(s + 12, 4);
        clock_at = 17;
    } else if (comma != NULL && find_name(s, (size_t)(comma - s), full_day_names, 7, 0) >= 0 &&
               s + len - comma == 24 &&
               comma[1] == ' ' && comma[4] == '-' && comma[8] == '-' && comma[11] == ' ' &&
               memcmp(comma + 20, " GMT", 4) == 0) { /* Sunday, 06-Nov-94 08:49:37 GMT */
        day = read_digits(comma + 2, 2);
        month = find_name(comma + 5, 3, month_names, 12, 0);
        year = read_digits(comma + 9, 2);
        int this_year = utc(now).tm_year + 1900;
        if (year >= 0)
            year += this_year / 100 * 100 + (year + this_year / 100 * 100 > this_year + 50 ? -100 : 0);
        clock_at = (int)(comma - s) + 12;
    } else if (len == 24 && find_name(s, 3, day_names, 7, 0) >= 0 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' &&
               s[19] == ' ') { /* Sun Nov  6 08:49:37 1994 */
        day = s[8] == ' ' ? read_digits(s + 9, 1) : read_digits(s + 8, 2);
        month = find_name(s + 4, 3, month_names, 12, 0);
        year = read_digits(s + 20, 4);
        clock_at = 11;
    } else {
        return 0;
    }
    const char *c = s + clock_at;
    int hour = read_digits(c, 2), minute = read_digits(c + 3, 2), second = read_digits(c + 6, 2);
    static const int month_days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (c[2] != ':' || c[5] != ':' || year < 0 || month < 0 || day < 1 || day > month_days[month] ||
        (month == 1 && day == 29 && !leap) || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 60)
        return 0;
    long long t = days_from_civil(year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second;
    int value_bits = (int)(sizeof(time_t) * CHAR_BIT) - ((time_t)-1 < 0); /* time_t's width, never assumed */
    long long max = value_bits < 63 ? (1LL << value_bits) - 1 : LLONG_MAX, min = (time_t)-1 < 0 ? -max - 1 : 0;
    *out = (time_t)(t > max ? max : t < min ? min : t);
    return 1;
}


/* Says whether an entity-tag list names etag, weakly or strongly (RFC 9110 8.8.3.2): "*" any, a bad list none. */
int http_etag_match(const char *v, size_t len, const char *etag, int strong)
{
    size_t i = skip_ows(v, len, 0), n = strlen(etag);
    if (i < len && v[i] == '*')
        return skip_ows(v, len, i + 1) == len;
    for (struct list l = { v, NULL, len, 0, 0 }; list_next(&l);) {
        int weak = l.n >= 2 && l.item[0] == 'W' && l.item[1] == '/';
        const char *tag = l.item + (weak ? 2 : 0);
        size_t tag_len = l.n - (weak ? 2 : 0), k = 1;
        while (k < tag_len && tag[k] != '"' && (unsigned char)tag[k] > ' ' && tag[k] != 0x7f)
            k++;
        if (tag_len < 2 || tag[0] != '"' || k != tag_len - 1)
            return 0;
        if (tag_len == n && memcmp(tag, etag, n) == 0 && !(strong && weak))
            return 1;
    }
    return 0;
}

/* Reads a Range value for a file of size bytes (RFC 9110 14.2): one range is 206 with *first and *last (the end
   clamped to the file), or 416 when it starts past the end; bad syntax or several ranges are 200, the whole file. */
enum http_status http_parse_range(const char *v, size_t len, long long size, long long *first, long long *last)
{
    long long start = -1, end = -1;
    int ranges = 0;
    if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
        return HTTP_OK;
    for (struct list l = { v + 6, NULL, len - 6, 0, 0 }; list_next(&l);) {
        size_t i = 0;
        start = read_number(l.item, l.n, &i);
        if (++ranges > 1 || i == l.n || l.item[i++] != '-')
            return HTTP_OK;
        end = read_number(l.item, l.n, &i);
        if (i != l.n || (start < 0 && end < 0) || (start >= 0 && end >= 0 && end < start))
            return HTTP_OK;
    }
    if (ranges == 0 || (start < 0 && end > 0 && size == 0))
        return HTTP_OK; /* a suffix of an empty file is all of it (RFC 9110 section 14.1.1): a 200 says so */
    if (start < 0 ? end == 0 : start >= size)
        return HTTP_RANGE_NOT_SATISFIABLE;
    *first = start >= 0 ? start : end >= size ? 0 : size - end;
    *last = start >= 0 && end >= 0 && end < size ? end : size - 1;
    return HTTP_PARTIAL_CONTENT;
}

/* Reads a qvalue in thousandths (RFC 9110 12.4.2); a malformed one is 0, so it never makes a coding acceptable. */
static int read_qvalue(const char *v, size_t n)
{
    int q = 0;
    if (n == 0 || n > 5 || (v[0] != '0' && v[0] != '1') || (n > 1 && v[1] != '.'))
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (!is_digit((unsigned char)v[i]) || (v[0] == '1' && v[i] != '0'))
            return 0;
        q = q * 10 + v[i] - '0';
    }
    return v[0] == '1' ? 1000 : n == 5 ? q : n == 4 ? q * 10 : q * 100;
}

/* Returns the weight of an Accept-Encoding element whose coding ends at name_end: its q parameter, or 1000. */
static int coding_weight(const char *v, size_t n, size_t name_end)
{
    int q = 1000;
    for (size_t i = skip_ows(v, n, name_end); i < n && v[i] == ';'; i = skip_ows(v, n, i)) {
        i = skip_ows(v, n, i + 1);
        int is_q = n - i >= 2 && (v[i] == 'q' || v[i] == 'Q') && v[i + 1] == '=';
        size_t value = i += is_q ? 2 : 0;
        for (int quoted = 0; i < n && (quoted || (v[i] != ';' && v[i] != ' ' && v[i] != '\t')); i++)
            quoted ^= v[i] == '"';
        q = is_q ? read_qvalue(v + value, i - value) : q;
    }
    return q;
}

/* Chooses from Accept-Encoding (NULL: absent) among the representations there (size >= 0), by RFC 9110 12.5.3:
   the highest weight, then a sibling before the file itself, then the fewest bytes; with none acceptable,
   identity. Unlisted identity takes the lowest weight listed, so it never outranks a coding the client named. */
enum http_coding http_choose_coding(const char *accept, size_t len, const long long size[HTTP_CODINGS])
{
    /* the codings in the enum's order, gzip's old name (RFC 9110 section 8.4.1.3), the wildcard */
    static const char *const names[] = { "identity", "br", "zstd", "gzip", "x-gzip", "*" };
    int q[HTTP_CODINGS] = { -1, -1, -1, -1 }, any = -1, lowest = 1000, best_q = 0;
    enum http_coding best = HTTP_CODING_IDENTITY;
    if (accept == NULL)
        return HTTP_CODING_IDENTITY;
    for (struct list l = { accept, NULL, len, 0, 0 }; list_next(&l);) {
        size_t name = skip_token(l.item, l.n, 0);
        int weight = coding_weight(l.item, l.n, name);
        int c = find_name(l.item, name, names, sizeof names / sizeof names[0], 1);
        lowest = weight > 0 && weight < lowest ? weight : lowest;
        if (c == HTTP_CODINGS + 1)
            any = weight;
        else if (c >= 0)
            q[c == HTTP_CODINGS ? HTTP_CODING_GZIP : c] = weight;
    }
    for (int c = 0; c < HTTP_CODINGS; c++) {
        int weight = q[c] >= 0 ? q[c] : any >= 0 ? any : c == HTTP_CODING_IDENTITY ? lowest : 0;
        if (size[c] >= 0 && weight > 0 &&
            (weight > best_q || (weight == best_q && (best == HTTP_CODING_IDENTITY || size[c] < size[best])))) {
            best = (enum http_coding)c;
            best_q = weight;
        }
    }
    return best;
}

/* Returns the suffix of a file stored in a coding beside the file: "", ".br", ".zst" or ".gz". */
const char *http_coding_suffix(enum http_coding coding)
{
    static const char *const suffix[HTTP_CODINGS] = { "", ".br", ".zst", ".gz" };
    return (unsigned)coding < HTTP_CODINGS ? suffix[coding] : "";
}

/* Says whether the client's copy is current: by the tag field if sent (over lines: no), else the date; -1: unknown. */
static int copy_is_current(const struct http_request *r, const char *buf, enum http_field tags, enum http_field since,
                           const char *etag, time_t mtime, time_t now)
{
    const struct http_span *t = &r->field[tags], *d = &r->field[since];
    time_t date;
    if (t->off != 0 || (r->repeated & (1u << tags)))
        return t->off != 0 && http_etag_match(buf + t->off, t->len, etag, tags == HTTP_FIELD_IF_MATCH);
    return d->off != 0 && http_parse_date(buf + d->off, d->len, now, &date) ? mtime <= date : -1;
}

/* Decides a GET or HEAD of a file in RFC 9110 13.2.2's order: 412 by If-Match (strong), else If-Unmodified-Since;
   304 by If-None-Match, else If-Modified-Since; then 206 or 416 for a Range If-Range allows, else 200. If-Range
   must name the strong ETag exactly, or a date at least a second old (13.1.5: only that is strong). */
static enum http_status file_status(const struct http_request *r, const char *buf, const char *etag, time_t mtime,
                                    long long size, time_t now, long long *first, long long *last)
{
    const struct http_span *if_range = &r->field[HTTP_FIELD_IF_RANGE], *range = &r->field[HTTP_FIELD_RANGE];
    const char *v = buf + if_range->off;
    size_t n = if_range->len;
    time_t date;
    if (copy_is_current(r, buf, HTTP_FIELD_IF_MATCH, HTTP_FIELD_IF_UNMODIFIED_SINCE, etag, mtime, now) == 0)
        return HTTP_PRECONDITION_FAILED;
    if (copy_is_current(r, buf, HTTP_FIELD_IF_NONE_MATCH, HTTP_FIELD_IF_MODIFIED_SINCE, etag, mtime, now) == 1)
        return HTTP_NOT_MODIFIED;
    if (range->off == 0 || r->method != HTTP_METHOD_GET) /* Range is for GET alone (14.2) */
        return HTTP_OK;
    int tag = n > 0 && (v[0] == '"' || (n > 1 && v[0] == 'W' && v[1] == '/'));
    if ((if_range->off != 0 || (r->repeated & (1u << HTTP_FIELD_IF_RANGE))) &&
        (if_range->off == 0 || (tag ? n != strlen(etag) || memcmp(v, etag, n) != 0
                                    : !http_parse_date(v, n, now, &date) || date != mtime || mtime >= now)))
        return HTTP_OK;
    return http_parse_range(buf + range->off, range->len, size, first, last);
}

/* Decides the answer about a file in the representation Accept-Encoding picks, by its validators. Vary goes on every
   answer about a file with a sibling, the identity one too, so that no cache serves one coding for another. */
static void decide_file(const struct http_request *r, const char *buf, const struct http_found *found, time_t now,
                        struct http_reply *out)
{
    const struct http_span *accept = &r->field[HTTP_FIELD_ACCEPT_ENCODING]; /* off 0: absent, or repeated */
    struct http_response *h = &out->head;
    long long size[HTTP_CODINGS];
    for (int c = 0; c < HTTP_CODINGS; c++) {
        size[c] = found->variant[c].size;
        h->vary_encoding |= c > 0 && size[c] >= 0;
    }
    out->coding = http_choose_coding(accept->off != 0 ? buf + accept->off : NULL, accept->len, size);
    const struct http_variant *v = &found->variant[out->coding];
    time_t modified = v->mtime < now ? v->mtime : now; /* never later than Date (RFC 9110 section 8.8.2.1) */
    if (v->etag == NULL)
        http_format_etag(out->etag, v->inode, v->size, v->mtime_ns);
    if (v->modified == NULL || modified != v->mtime)
        http_format_date(out->last_modified, modified);
    h->etag = v->etag != NULL ? v->etag : out->etag;
    h->last_modified = v->modified != NULL && modified == v->mtime ? v->modified : out->last_modified;
    h->accept_ranges = 1;
    h->full_size = v->size;
    out->last = v->size - 1;
    h->status = file_status(r, buf, h->etag, modified, v->size, now, &out->first, &out->last);
    out->page = h->status == HTTP_PRECONDITION_FAILED || h->status == HTTP_RANGE_NOT_SATISFIABLE;
    h->content_range = h->status == HTTP_RANGE_NOT_SATISFIABLE ? 2 : h->status == HTTP_PARTIAL_CONTENT;
    h->range_first = out->first;
    h->range_last = out->last;
}

/* Decides the reply from what the server found: status, head (but Date and -H's) and body. OPTIONS of what is
   there is a 204; an error a page, or 404.html; generated bytes a 200 without validators, ranges or codings. */
void http_decide(const struct http_request *r, const char *buf, const struct http_found *found, time_t now,
                 int keep_alive, struct http_reply *out)
{
    static const char *const content_coding[HTTP_CODINGS] = { NULL, "br", "zstd", "gzip" };
    struct http_response *h = &out->head;
    int options = r->method == HTTP_METHOD_OPTIONS &&
                  (found->status == HTTP_OK || found->status == HTTP_MOVED_PERMANENTLY);
    out->head = (struct http_response){ .status = options ? HTTP_NO_CONTENT : found->status, .content_length = -1,
                                        .close = !keep_alive, .keep_alive_echo = keep_alive && r->minor == 0,
                                        .allow = options || found->status == HTTP_METHOD_NOT_ALLOWED,
                                        .authenticate = found->status == HTTP_UNAUTHORIZED,
                                        .location = found->status == HTTP_MOVED_PERMANENTLY && !options ?
                                                    found->location : NULL };
    out->page = out->body = 0; /* the tag and date arrays are written only when used */
    out->coding = HTTP_CODING_IDENTITY;
    out->first = 0;
    out->last = -1;
    if (options)
        return;
    if (found->status == HTTP_OK && !found->generated)
        decide_file(r, buf, found, now, out);
    else
        out->page = found->status != HTTP_OK && (!found->generated || found->variant[0].size < 0);
    out->last = found->generated ? found->variant[0].size - 1 : out->last;
    h->cache_control = found->status == HTTP_OK && !out->page ? found->cache_control : NULL;
    out->body = out->page || found->status != HTTP_OK ? r->method != HTTP_METHOD_HEAD
                                                      : h->status != HTTP_NOT_MODIFIED && r->method == HTTP_METHOD_GET;
    if (out->page || h->status == HTTP_NOT_MODIFIED)
        return;
    h->content_type = found->type;
    h->charset = found->type != NULL && found->type[0] == 't' && strncmp(found->type, "text/", 5) == 0; /* UTF-8 */
    h->content_length = out->last - out->first + 1;
    h->content_encoding = content_coding[out->coding];
}

/* Appends n bytes, or marks the buffer overflowed when they do not fit; inline, as every response head is pieces. */
static inline void put(struct http_buf *b, const char *s, size_t n)
{
    if (n == 0 || b->overflow || b->cap - b->len < n) {
        b->overflow |= n > 0;
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Appends a NUL-terminated string. */
static void put_str(struct http_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Appends n bytes, or marks the buffer overflowed when they do not fit. */
void http_buf_put(struct http_buf *b, const char *s, size_t n)
{
    put(b, s, n);
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
    for (size_t i = 0, kept; i < n; i += kept > 0 ? kept : 1) {
        for (kept = 0; i + kept < n; kept++) { /* a run of unreserved bytes goes as it is, in one piece */
            unsigned char c = (unsigned char)s[i + kept];
            if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !is_digit(c) && c != '-' && c != '.' &&
                c != '_' && c != '~' && c != '/')
                break;
        }
        put(b, s + i, kept);
        if (kept == 0) {
            char escape[3] = { '%', "0123456789ABCDEF"[(unsigned char)s[i] >> 4], "0123456789ABCDEF"[s[i] & 15] };
            put(b, escape, sizeof escape);
        }
    }
}

/* Appends s with the characters HTML gives meaning to escaped. */
void http_buf_html(struct http_buf *b, const char *s, size_t n)
{
    static const char html_special[] = "&<>\"'";
    static const char *const html_entity[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
    for (size_t i = 0; i < n; i++) {
        const char *special = memchr(html_special, s[i], sizeof html_special - 1);
        if (special != NULL)
            put_str(b, html_entity[special - html_special]);
        else
            put(b, s + i, 1);
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

/* Appends a string literal, its length known when compiling; or, with PUT_IF, when cond holds. */
#define PUT(b, literal) put((b), literal, sizeof literal - 1)
#define PUT_IF(b, cond, literal) ((cond) ? PUT(b, literal) : (void)0)

/* Appends a field's name, a literal (after the CRLF that ends the line before), and its value, when it has one. */
#define PUT_FIELD(b, name, value) ((value) != NULL ? (PUT(b, name), put_str(b, value)) : (void)0)

/* Appends text, then a decimal number. */
static void put_number(struct http_buf *b, const char *text, long long n)
{
    char digits[24];
    size_t i = sizeof digits;
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    do
        digits[--i] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (n < 0)
        digits[--i] = '-';
    put_str(b, text);
    put(b, digits + i, sizeof digits - i);
}

/* Writes a response head: the status line, the fields r asks for (nothing tied to the status), the empty line.
   It runs for every response, so it appends pieces directly: printf would cost more than the rest of a request. */
void http_format_head(struct http_buf *b, const struct http_response *r)
{
    char code[4] = { (char)('0' + r->status / 100 % 10), (char)('0' + r->status / 10 % 10),
                     (char)('0' + r->status % 10), ' ' }; /* a status has three digits */
    PUT(b, "HTTP/1.1 ");
    put(b, code, sizeof code);
    put_str(b, http_reason(r->status));
    PUT_FIELD(b, "\r\nDate: ", r->date);
    PUT(b, "\r\nServer: " HTTP_SERVER_NAME);
    PUT_FIELD(b, "\r\nContent-Type: ", r->content_type);
    PUT_IF(b, r->content_type != NULL && r->charset, "; charset=utf-8");
    if (r->content_length >= 0)
        put_number(b, "\r\nContent-Length: ", r->content_length);
    PUT_FIELD(b, "\r\nContent-Encoding: ", r->content_encoding);
    PUT_FIELD(b, "\r\nLast-Modified: ", r->last_modified);
    PUT_FIELD(b, "\r\nETag: ", r->etag);
    PUT_IF(b, r->accept_ranges, "\r\nAccept-Ranges: bytes");
    PUT_IF(b, r->vary_encoding, "\r\nVary: Accept-Encoding");
    PUT_FIELD(b, "\r\nCache-Control: ", r->cache_control);
    if (r->content_range == 1) {
        put_number(b, "\r\nContent-Range: bytes ", r->range_first);
        put_number(b, "-", r->range_last);
    }
    PUT_IF(b, r->content_range == 2, "\r\nContent-Range: bytes *");
    if (r->content_range != 0)
        put_number(b, "/", r->full_size);
    PUT_FIELD(b, "\r\nLocation: ", r->location);
    PUT_IF(b, r->allow, "\r\nAllow: GET, HEAD, OPTIONS");
    PUT_IF(b, r->authenticate, "\r\nWWW-Authenticate: Basic realm=\"" HTTP_AUTH_REALM "\", charset=\"UTF-8\"");
    PUT(b, "\r\n");
    PUT_FIELD(b, "", r->extra_fields); /* whole lines */
    PUT_IF(b, r->close, "Connection: close\r\n");
    PUT_IF(b, !r->close && r->keep_alive_echo, "Connection: keep-alive\r\n");
    PUT(b, "\r\n");
}

/* Writes a head and, unless head_only, a short HTML page naming the status; returns the head's length. */
size_t http_format_page(struct http_buf *b, struct http_response *r, int head_only)
{
    char page[256];
    struct http_buf body = { page, 0, sizeof page, 0 };
    http_buf_printf(&body, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                           "<body><h1>%d %s</h1></body></html>\n",
                    (int)r->status, http_reason(r->status), (int)r->status, http_reason(r->status));
    r->content_type = "text/html";
    r->charset = 1;
    r->content_length = (long long)body.len;
    r->content_encoding = NULL; /* the page itself, whatever file it is about */
    size_t start = b->len;
    http_format_head(b, r);
    size_t head_len = b->len - start;
    if (!head_only)
        http_buf_put(b, page, body.len);
    return head_len;
}

#define TEXT(x) #x
#define NUMBER_TEXT(x) TEXT(x)

/* Checks a -H argument, "Name: value", and appends it to out as a header line; returns NULL, or why not. The name
   is a token the server does not write; the value holds no control byte but tab, so it cannot split a head. */
const char *http_header_option(const char *arg, struct http_buf *out)
{
    static const char *const owned_fields[] = { /* the server writes these: -H may neither add nor repeat them */
        "Date", "Server", "Content-Type", "Content-Length", "Content-Encoding", "Content-Range", "Transfer-Encoding",
        "Connection", "Keep-Alive", "Last-Modified", "ETag", "Accept-Ranges", "Vary", "Cache-Control", "Location",
        "Allow", "WWW-Authenticate", "Upgrade", "Trailer" };
    const char *colon = strchr(arg, ':');
    if (colon == NULL)
        return "it has no colon; write it as 'Name: value'";
    size_t name_len = (size_t)(colon - arg), len;
    if (name_len == 0)
        return "the name before the colon is empty";
    if (skip_token(arg, name_len, 0) != name_len)
        return "the name holds a space or a character a header name cannot hold";
    if (find_name(arg, name_len, owned_fields, sizeof owned_fields / sizeof owned_fields[0], 1) >= 0)
        return "the server writes that header itself";
    const char *v = colon + 1 + strspn(colon + 1, " \t");
    for (len = strlen(v); len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'); len--)
        ;
    for (size_t i = 0; i < len; i++)
        if (is_value_ctl((unsigned char)v[i]))
            return "the value holds a control character (CR, LF or another)";
    size_t start = out->len;
    http_buf_put(out, arg, name_len);
    PUT(out, ": ");
    http_buf_put(out, v, len);
    PUT(out, "\r\n");
    if (!out->overflow)
        return NULL;
    out->len = start; /* no part of a line that did not fit */
    return "the -H headers together are longer than " NUMBER_TEXT(HTTP_EXTRA_FIELDS_MAX) " bytes";
}

/* Decodes Basic credentials (RFC 7617) into out; 0 for another scheme, base64 not canonical, or over cap bytes. */
int http_basic_credentials(const char *v, size_t len, char *out, size_t cap, size_t *out_len)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 5, n = 0, count = 0, pad = 0;
    unsigned bits = 0;
    int have = 0;
    if (len < 7 || strncasecmp(v, "Basic ", 6) != 0)
        return 0;
    while (i < len && v[i] == ' ')
        i++;
    for (const char *digit; i < len && v[i] != '='; i++, count++) {
        if (v[i] == '\0' || (digit = strchr(digits, v[i])) == NULL)
            return 0;
        bits = (bits << 6 | (unsigned)(digit - digits)) & 0xffffu;
        if ((have += 6) >= 8) {
            have -= 8;
            if (n == cap)
                return 0;
            out[n++] = (char)(bits >> have & 0xffu);
        }
    }
    for (; i < len && v[i] == '='; i++)
        pad++;
    if (i != len || count == 0 || count % 4 == 1 || pad > 2 || (pad > 0 && (count + pad) % 4 != 0) ||
        (bits & ((1u << have) - 1)) != 0) /* leftover bits must be zero: one spelling per value */
        return 0;
    *out_len = n;
    return 1;
}

/* Compares a secret a client gave with the expected one, in a time that depends on the expected one only. */
int http_secret_equal(const char *given, size_t given_len, const char *secret, size_t secret_len)
{
    unsigned diff = given_len != secret_len;
    for (size_t i = 0; i < secret_len; i++)
        diff |= (unsigned char)secret[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
    return diff == 0;
}

/* Folds an ASCII capital to lower case, for the natural order. */
static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Passes over a number's leading zeros (not its last digit) at *p; returns how many digits are left. */
static size_t digit_run(const unsigned char **p)
{
    size_t n = 0;
    while (**p == '0' && is_digit((*p)[1]))
        (*p)++;
    while (is_digit((*p)[n]))
        n++;
    return n;
}

/* Orders names as people count ("file2" before "file10", case folded), then bytewise: a total order. */
int http_name_compare(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (;;) {
        while (*p == *q && *p != '\0' && !is_digit(*p)) { /* the same bytes, outside numbers: passed over at once */
            p++;
            q++;
        }
        if (*p == '\0' || *q == '\0')
            break;
        if (is_digit(*p) && is_digit(*q)) {
            size_t np = digit_run(&p), nq = digit_run(&q);
            int order = np != nq ? (np < nq ? -1 : 1) : memcmp(p, q, np);
            if (order != 0)
                return order;
            p += np;
            q += nq;
        } else if (fold(*p) != fold(*q)) {
            return fold(*p) < fold(*q) ? -1 : 1;
        } else {
            p++;
            q++;
        }
    }
    if (*p != *q)
        return *p == '\0' ? -1 : 1;
    return strcmp(a, b);
}

/* Says whether a code point is in a table of inclusive ranges. */
static int in_ranges(unsigned long cp, const unsigned long (*ranges)[2], size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1])
            return 1;
    return 0;
}

/* Says whether a code point after prev (0 at the start) would hide what a name is: controls, bidi controls, format
   characters and spaces but ASCII's, which let a name pose as another ("photo\u202Egpj.exe"). Joiners and variation
   selectors pass after a character not ASCII (emoji, Persian need them), not in "invoice\u200D.pdf". */
static int is_hidden_char(unsigned long cp, unsigned long prev)
{
    static const unsigned long hidden[][2] = {
        { 0x00, 0x1f }, { 0x7f, 0xa0 }, { 0xad, 0xad }, { 0x34f, 0x34f }, { 0x600, 0x605 }, { 0x61c, 0x61c },
        { 0x6dd, 0x6dd }, { 0x70f, 0x70f }, { 0x890, 0x891 }, { 0x8e2, 0x8e2 }, { 0x115f, 0x1160 }, { 0x1680, 0x1680 },
        { 0x17b4, 0x17b5 }, { 0x180b, 0x180f }, { 0x2000, 0x200b }, { 0x200e, 0x200f }, { 0x2028, 0x202f },
        { 0x205f, 0x206f }, { 0x3000, 0x3000 }, { 0x3164, 0x3164 }, { 0xfeff, 0xfeff }, { 0xffa0, 0xffa0 },
        { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd }, { 0x13430, 0x1345f }, { 0x1bca0, 0x1bca3 },
        { 0x1d173, 0x1d17a }, { 0xe0000, 0xe007f }
    };
    static const unsigned long joining[][2] = { { 0x200c, 0x200d }, { 0xfe00, 0xfe0f }, { 0xe0100, 0xe01ef } };
    return in_ranges(cp, hidden, sizeof hidden / sizeof hidden[0]) ||
           (prev < 0x80 && in_ranges(cp, joining, sizeof joining / sizeof joining[0]));
}

/* Decodes the UTF-8 sequence at s strictly (no overlong form, surrogate or past U+10FFFF): its length, or 0. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
    static const unsigned long min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
                 s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    *cp = len == 1 ? s[0] : s[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3fu);
    }
    if (*cp < min[len] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

/* Appends a name HTML-escaped as what it is: hidden characters as \u202E, bytes not UTF-8 as \xHH, so too spaces
   at either end, each in <mark> unless markup cannot go there (a title). Each byte takes at most 19. */
static void put_visible_name(struct http_buf *b, const char *name, size_t n, int marked)
{
    const unsigned char *s = (const unsigned char *)name;
    const char *open = marked ? "<mark>" : "", *close = marked ? "</mark>" : "";
    unsigned long prev = 0;
    for (size_t i = 0; i < n;) {
        size_t safe = i; /* printable ASCII that HTML leaves alone, spaces inside the name: as it is, at once */
        while (safe < n && s[safe] < 0x7f && s[safe] != '&' && s[safe] != '<' && s[safe] != '>' && s[safe] != '"' &&
               s[safe] != '\'' && (s[safe] > ' ' || (s[safe] == ' ' && safe > 0 && safe + 1 < n)))
            safe++;
        if (safe > i) {
            put(b, name + i, safe - i);
            prev = 0;
            i = safe;
            continue;
        }
        unsigned long cp = 0;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            http_buf_printf(b, "%s\\x%02X%s", open, s[i], close);
        else if (is_hidden_char(cp, prev) || (cp == ' ' && (i == 0 || i + 1 == n)))
            http_buf_printf(b, cp > 0xffff ? "%s\\U%08lX%s" : "%s\\u%04lX%s", open, cp, close);
        else
            http_buf_html(b, name + i, len);
        prev = b->len > 0 && (unsigned char)b->data[b->len - 1] >= 0x80 ? cp : 0; /* shown as itself, or as ASCII */
        i += len > 0 ? len : 1;
    }
}

/* Appends a size for people: bytes below 1 KiB, else one decimal, rounded, in the largest binary unit that fits. */
static void put_size(struct http_buf *b, long long size)
{
    static const char units[][4] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    unsigned long long n = size > 0 ? (unsigned long long)size : 0, unit = 1024, tenths;
    int u = 0;
    if (n < 1024) {
        put_number(b, "", (long long)n);
        PUT(b, " B");
        return;
    }
    for (; u < 5 && n / unit >= 1024; u++)
        unit *= 1024;
    tenths = n / unit * 10 + ((n % unit) * 10 + unit / 2) / unit;
    if (tenths >= 10240 && u < 5) { /* rounded up to 1024.0: 1.0 of the next unit */
        tenths = 10;
        u++;
    }
    put_number(b, "", (long long)(tenths / 10));
    put_number(b, ".", (long long)(tenths % 10));
    PUT(b, " ");
    put_str(b, units[u]);
}

/* Reads a listing's order from Apache's query (after '?'): C=N|M|S, O=A|D, by ';' or '&'; other parts pass over. */
struct http_order http_listing_order(const char *query, size_t len)
{
    struct http_order order = { 'N', 0 };
    for (size_t i = 0; i < len; i++) {
        size_t start = i;
        while (i < len && query[i] != ';' && query[i] != '&')
            i++;
        if (i - start != 3 || query[start + 1] != '=')
            continue;
        if (query[start] == 'C' && memchr("NMS", query[start + 2], 3) != NULL)
            order.column = query[start + 2];
        else if (query[start] == 'O' && (query[start + 2] == 'A' || query[start + 2] == 'D'))
            order.descending = query[start + 2] == 'D';
    }
    return order;
}

/* Orders entries: folders first, then by the column (folders by name), then name; descending reverses it. Total. */
int http_entry_compare(const struct http_entry *a, const struct http_entry *b, struct http_order order)
{
    int c = 0;
    if (!a->is_dir != !b->is_dir)
        return a->is_dir ? -1 : 1;
    if (order.column == 'M')
        c = (a->mtime > b->mtime) - (a->mtime < b->mtime);
    else if (order.column == 'S' && !a->is_dir)
        c = (a->size > b->size) - (a->size < b->size);
    c = c != 0 ? c : http_name_compare(a->name, b->name);
    return order.descending ? -c : c;
}

/* Writes a listing's start, ../ but at the root; its stylesheet keeps long names from pushing columns off a phone.
   A column head links to the listing by it, ascending, or reversed for the current one, which an arrow marks. */
void http_format_listing_top(struct http_buf *b, const char *path, struct http_order order)
{
    PUT(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Index of ");
    put_visible_name(b, path, strlen(path), 0);
    PUT(b, "</title>\n<style>\n"
           "body{font:15px/1.4 system-ui,sans-serif;margin:1rem;color:#222;background:#fff}\n"
           "mark{background:#fde68a;color:#000;font-family:monospace;white-space:nowrap}\nh1{font-size:1.25rem}\n"
           ".time{width:11.5rem;white-space:nowrap;font-variant-numeric:tabular-nums}\ntd a{white-space:pre-wrap}\n"
           "th,td{padding:.3rem .5rem;text-align:left;vertical-align:top}\n.size{width:6.5rem;text-align:right}\n"
           "table{width:100%;border-collapse:collapse;table-layout:fixed}\ntr:nth-child(even) td{background:#f4f4f4}\n"
           "a{color:#0645ad;text-decoration:none}\nth{border-bottom:1px solid #ccc}\nh1,th,td{overflow-wrap:anywhere}\n"
           "a:hover{text-decoration:underline}\n"
           "@media (max-width:32rem){body{margin:.5rem}th,td{padding:.3rem}.size,.time{font-size:.8rem}"
           ".size{width:4.6rem}.time{width:5.6rem;white-space:normal}}\n</style></head>\n<body><h1>Index of ");
    put_visible_name(b, path, strlen(path), 1);
    PUT(b, "</h1>\n<table>\n<tr>");
    for (int i = 0; i < 3; i++) {
        static const char *const class_name[3] = { "name", "size", "time" };
        static const char *const label[3] = { "Name", "Size", "Modified" };
        int current = order.column == "NSM"[i];
        http_buf_printf(b, "<th class=\"%s\"%s><a href=\"?C=%c;O=%c\">%s%s</a></th>", class_name[i],
                        !current ? "" : order.descending ? " aria-sort=\"descending\"" : " aria-sort=\"ascending\"",
                        "NSM"[i], current && !order.descending ? 'D' : 'A', label[i],
                        !current ? "" : order.descending ? " \xe2\x96\xbc" : " \xe2\x96\xb2"); /* U+25BC, U+25B2 */
    }
    PUT(b, "</tr>\n");
    if (strcmp(path, "/") != 0)
        PUT(b, "<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td><td class=\"time\"></td></tr>\n");
}

/* Writes a listing row: the link, the name as people should see it, the size (bytes in its title), the time in UTC. */
void http_format_listing_row(struct http_buf *b, const struct http_entry *e)
{
    struct tm tm = utc(e->mtime);
    size_t n = strlen(e->name);
    PUT(b, "<tr><td><a href=\"./");
    http_buf_url(b, e->name, n);
    put_str(b, e->is_dir ? "/\">" : "\">");
    put_visible_name(b, e->name, n, 1);
    if (e->is_dir) {
        PUT(b, "/</a></td><td class=\"size\">-");
    } else {
        PUT(b, "</a></td><td class=\"size\" title=\"");
        put_number(b, "", e->size);
        put_str(b, e->size == 1 ? " byte\">" : " bytes\">");
        put_size(b, e->size);
    }
    char when[] = "0000-00-00 00:00"; /* by hand, not printf: a row for every entry of a folder */
    put_digits(when, tm.tm_year + 1900, 4);
    put_digits(when + 5, tm.tm_mon + 1, 2);
    put_digits(when + 8, tm.tm_mday, 2);
    put_digits(when + 11, tm.tm_hour, 2);
    put_digits(when + 14, tm.tm_min, 2);
    PUT(b, "</td><td class=\"time\">");
    put(b, when, sizeof when - 1);
    PUT(b, " UTC</td></tr>\n");
}

/* Writes the end of a directory listing. */
void http_format_listing_end(struct http_buf *b)
{
    PUT(b, "</table>\n</body></html>\n");
}

/* Writes the status text (-S) byte for byte as nginx's stub_status, for what reads that; full adds the loop's. */
void http_format_status(struct http_buf *b, const struct http_loop_status *st, int full)
{
    http_buf_printf(b, "Active connections: %lld \nserver accepts handled requests\n %llu %llu %llu \n"
                       "Reading: %d Writing: %d Waiting: %d \n", (long long)st->reading + st->writing + st->waiting,
                    st->accepts, st->handled, st->requests, st->reading, st->writing, st->waiting);
    if (full)
        http_buf_printf(b, "select() rounds: %llu\nparked: %d\nclosing: %d\nlistings being built: %d\n", st->rounds,
                        st->parked, st->closing, st->building);
}
