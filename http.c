/* http.c: request parsing, target decoding, MIME types, dates and response formatting; pure functions only. */
#include "http.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parser states, in the order the bytes of a request arrive: the head, then a body to throw away. */
enum {
    P_START, P_METHOD, P_TARGET, P_VERSION, P_LINE_LF,
    P_FIELD_START, P_NAME, P_VALUE_START, P_VALUE, P_FIELD_LF, P_END_LF,
    P_BODY,                                                       /* Content-Length bytes */
    P_CHUNK_SIZE, P_CHUNK_EXT, P_CHUNK_EXT_BLANK, P_CHUNK_EXT_NAME_START, P_CHUNK_EXT_NAME, /* a chunk's size */
    P_CHUNK_EXT_AFTER_NAME, P_CHUNK_EXT_VALUE_START, P_CHUNK_EXT_VALUE, P_CHUNK_QUOTED, P_CHUNK_ESCAPE, /* line, */
    P_CHUNK_SIZE_LF,                                              /* its extensions and its end */
    P_CHUNK_DATA, P_CHUNK_DATA_END, P_CHUNK_DATA_LF,              /* its data and the line end after it */
    P_TRAILER_START, P_TRAILER_NAME, P_TRAILER_VALUE, P_TRAILER_LF, P_TRAILER_END_LF, /* the trailer section */
    P_DONE
};

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

/* Says whether c is a control character a field value may not hold: any but tab, and DEL (RFC 9110 5.5). */
static int is_value_ctl(unsigned char c)
{
    return (c < ' ' && c != '\t') || c == 0x7f;
}

/* Says whether c may appear in a token (RFC 9110 5.6.2): method names and field names. */
static int is_tchar(unsigned char c)
{
    switch (c) { /* a switch, not strchr: every byte of every method and field name comes here */
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
        return 1;
    default:
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
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

/* Classifies the method: GET, HEAD and OPTIONS are served, the other standard methods get 405, anything else 501. */
static enum http_method method_kind(const char *buf, struct http_span m)
{
    static const char *const other[] = { "POST", "PUT", "DELETE", "CONNECT", "TRACE", "PATCH" };
    if (span_is(buf, m.off, m.len, "GET", 0))
        return HTTP_METHOD_GET;
    if (span_is(buf, m.off, m.len, "HEAD", 0))
        return HTTP_METHOD_HEAD;
    if (span_is(buf, m.off, m.len, "OPTIONS", 0))
        return HTTP_METHOD_OPTIONS;
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (span_is(buf, m.off, m.len, other[i], 0))
            return HTTP_METHOD_OTHER;
    return HTTP_METHOD_UNKNOWN;
}

/*
 * Reads a Content-Length value: digits only, no overflow, and only once. A second Content-Length is
 * refused even with the same value, as a list ("5, 5") is: RFC 9110 section 8.6 lets a recipient take
 * such repeats, but what a proxy in front made of them cannot be known, so neither form is trusted.
 */
static enum http_status parse_content_length(struct http_request *r, const char *v, size_t len)
{
    long long n = 0;
    if (len == 0 || len > 18 || r->content_length >= 0)
        return HTTP_BAD_REQUEST;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return HTTP_BAD_REQUEST;
        n = n * 10 + (v[i] - '0');
    }
    r->content_length = n;
    return HTTP_NEED_MORE;
}

/*
 * Reads one Transfer-Encoding line's codings, in order after any earlier line's. chunked must come
 * last, once (RFC 9112 section 6.1); the other registered codings are known, anything else is not.
 * Returns HTTP_BAD_REQUEST for a coding after chunked, or an empty or malformed element.
 */
static enum http_status parse_transfer_encoding(struct http_request *r, const char *v, size_t len)
{
    static const char *const known[] = { "gzip", "x-gzip", "deflate", "compress", "x-compress" };
    size_t i = 0;
    r->has_transfer_encoding = 1;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && is_tchar((unsigned char)v[i]))
            i++;
        size_t n = i - start;
        while (i < len && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (n == 0 && i == len)
            break;
        if (n == 0 || (i < len && v[i] != ',') || r->te_chunked) /* a parameter, a stray byte, or after chunked */
            return HTTP_BAD_REQUEST;
        r->te_chunked = span_is(v, start, n, "chunked", 1);
        int is_known = r->te_chunked;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            is_known |= span_is(v, start, n, known[k], 1);
        r->te_unknown |= !is_known;
    }
    return HTTP_NEED_MORE;
}

/* Says whether c may appear in a reg-name or an IP literal of a URI (RFC 3986): unreserved, sub-delims, '%'. */
static int is_host_char(unsigned char c)
{
    switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'': case '(': case ')':
    case '*': case '+': case ',': case ';': case '=': case '%':
        return 1;
    default:
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
}

/*
 * Says whether the text inside an IP literal's brackets is one: an IPv6 address's characters (hex
 * digits, ':' and '.', two colons at least), or an IPvFuture, "v" HEXDIG+ "." and URI characters.
 */
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

/*
 * Says whether a Host value is uri-host [ ":" port ] (RFC 9112 section 3.2, RFC 3986 section 3.2.2):
 * a reg-name or IPv4 address of URI characters, or an IP literal in brackets, then an optional port of
 * digits. The empty value is allowed: a target with no authority sends it.
 */
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
        if (k == i ? v[k] != ':' : v[k] < '0' || v[k] > '9')
            return 0;
    return 1;
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
#define KEPT(name) { name, sizeof name - 1 }
    static const struct {
        const char *name;
        size_t len; /* known when compiling: most fields are passed over on their length alone */
    } kept[HTTP_FIELD_COUNT] = { KEPT("Range"), KEPT("If-Range"), KEPT("If-Match"), KEPT("If-Unmodified-Since"),
                                 KEPT("If-None-Match"), KEPT("If-Modified-Since"), KEPT("Accept-Encoding"),
                                 KEPT("Authorization") };
    size_t name_len = r->name_end - r->mark, len = r->value_end - r->value_start;
    r->state = P_FIELD_START;
    if (++r->field_count > HTTP_FIELDS_MAX)
        return HTTP_FIELDS_TOO_LARGE;
    for (int f = 0; f < HTTP_FIELD_COUNT; f++) {
        if (name_len != kept[f].len || strncasecmp(buf + r->mark, kept[f].name, name_len) != 0)
            continue;
        if (r->field[f].off != 0 || (r->repeated & (1u << f))) { /* a list split over lines: not used */
            r->repeated |= 1u << f;
            r->field[f] = (struct http_span){ 0, 0 };
        } else {
            r->field[f] = (struct http_span){ r->value_start, len };
        }
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

/*
 * Judges a complete head: framing and Host first, then the method. A body follows a servable head
 * when it has Content-Length above 0 or is chunked: a small one (HTTP_BODY_DISCARD_MAX) is read and thrown
 * away, and the request ends after it; a larger one is not waited for, and the connection will close.
 */
static enum http_status head_done(struct http_request *r)
{
    r->state = P_DONE;
    r->head_len = r->end = r->pos + 1;
    r->keep_alive = r->minor >= 1 ? !r->has_close : r->has_keep_alive && !r->has_close;
    if (r->minor >= 1 && r->hosts == 0)
        return HTTP_BAD_REQUEST;
    if (r->has_transfer_encoding) { /* RFC 9112 section 6.1 and 6.3 */
        if (r->minor == 0 || r->content_length >= 0 || !r->te_chunked)
            return HTTP_BAD_REQUEST; /* faulty framing, or framing a proxy may have read the other way */
        if (r->te_unknown)
            return HTTP_NOT_IMPLEMENTED;
    }
    if (r->method == HTTP_METHOD_UNKNOWN)
        return HTTP_NOT_IMPLEMENTED;
    if (r->method == HTTP_METHOD_OTHER)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!r->has_transfer_encoding && r->content_length <= 0)
        return HTTP_OK;
    if (r->content_length > HTTP_BODY_DISCARD_MAX || r->head_len + HTTP_BODY_ROOM > HTTP_HEAD_MAX ||
        r->expect_continue) { /* answered now (a client that expects 100 Continue waits for an answer) */
        r->keep_alive = 0;    /* and the closing connection drains the body */
        return HTTP_OK;
    }
    r->body_left = r->has_transfer_encoding ? 0 : (unsigned long long)r->content_length;
    r->state = r->has_transfer_encoding ? P_CHUNK_SIZE : P_BODY;
    return HTTP_OK; /* the head is whole; http_parse goes on to the body */
}

/* Ends a request whose body has been read whole, at r->pos. */
static enum http_status body_done(struct http_request *r)
{
    r->state = P_DONE;
    r->end = r->pos + 1;
    return HTTP_OK;
}

/*
 * Ends the size line of a chunk: its data follows, or, after the last chunk (size 0), the trailer
 * section. A chunk that would take the body past HTTP_BODY_DISCARD_MAX is not waited for: the request
 * ends here, to be answered on a connection that then closes.
 */
static enum http_status chunk_size_done(struct http_request *r)
{
    if (r->body_left > HTTP_BODY_DISCARD_MAX - r->body_seen) {
        r->keep_alive = 0;
        return body_done(r);
    }
    r->state = r->body_left > 0 ? P_CHUNK_DATA : P_TRAILER_START;
    return HTTP_NEED_MORE;
}

/*
 * Takes one byte of a chunk's size line after the size: chunk extensions, each BWS ";" BWS name and an
 * optional BWS "=" BWS value (a token or a quoted string), then CRLF or a bare LF (RFC 9112 section
 * 7.1.1). They are checked, never used. Returns HTTP_NEED_MORE, HTTP_OK for a body cut short, or 400.
 */
static enum http_status chunk_line_byte(struct http_request *r, unsigned char c)
{
    int blank = c == ' ' || c == '\t';
    if ((c == '\r' || c == '\n') && (r->state == P_CHUNK_EXT || r->state == P_CHUNK_EXT_NAME ||
                                      r->state == P_CHUNK_EXT_VALUE)) { /* after blanks, only ';' may come */
        if (c == '\n')
            return chunk_size_done(r);
        r->state = P_CHUNK_SIZE_LF;
        return HTTP_NEED_MORE;
    }
    switch (r->state) {
    case P_CHUNK_EXT:       /* after a quoted value: blanks, or the next extension */
    case P_CHUNK_EXT_BLANK: /* after the size, a value or blanks: more blanks, or the next extension */
        if (c == ';')
            r->state = P_CHUNK_EXT_NAME_START;
        else if (blank)
            r->state = P_CHUNK_EXT_BLANK;
        else
            return HTTP_BAD_REQUEST;
        break;
    case P_CHUNK_EXT_NAME_START:
        if (is_tchar(c))
            r->state = P_CHUNK_EXT_NAME;
        else if (!blank)
            return HTTP_BAD_REQUEST;
        break;
    case P_CHUNK_EXT_NAME:
    case P_CHUNK_EXT_AFTER_NAME:
        if (c == '=')
            r->state = P_CHUNK_EXT_VALUE_START;
        else if (c == ';')
            r->state = P_CHUNK_EXT_NAME_START;
        else if (blank)
            r->state = P_CHUNK_EXT_AFTER_NAME;
        else if (!is_tchar(c) || r->state == P_CHUNK_EXT_AFTER_NAME)
            return HTTP_BAD_REQUEST;
        break;
    case P_CHUNK_EXT_VALUE_START:
        if (c == '"')
            r->state = P_CHUNK_QUOTED;
        else if (is_tchar(c))
            r->state = P_CHUNK_EXT_VALUE;
        else if (!blank)
            return HTTP_BAD_REQUEST;
        break;
    case P_CHUNK_EXT_VALUE:
        if (c == ';')
            r->state = P_CHUNK_EXT_NAME_START;
        else if (blank)
            r->state = P_CHUNK_EXT_BLANK;
        else if (!is_tchar(c))
            return HTTP_BAD_REQUEST;
        break;
    case P_CHUNK_QUOTED:
        if (c == '"')
            r->state = P_CHUNK_EXT;
        else if (c == '\\')
            r->state = P_CHUNK_ESCAPE;
        else if (is_value_ctl(c))
            return HTTP_BAD_REQUEST;
        break;
    default: /* P_CHUNK_ESCAPE: any visible character, a blank, or obs-text */
        if (is_value_ctl(c))
            return HTTP_BAD_REQUEST;
        r->state = P_CHUNK_QUOTED;
        break;
    }
    return HTTP_NEED_MORE;
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
 * Takes one byte of a body to throw away (c, at r->pos; the buffer's bytes end at end): Content-Length
 * bytes, or chunked framing checked strictly (RFC 9112 section 7.1). Chunk data is passed over in one
 * step. Past HTTP_BODY_DISCARD_MAX bytes the rest is not waited for: the request ends, to be answered on
 * a connection that then closes. Returns HTTP_NEED_MORE, HTTP_OK at the body's end, or HTTP_BAD_REQUEST.
 */
static enum http_status body_byte(struct http_request *r, unsigned char c, size_t end)
{
    if (r->state == P_BODY || r->state == P_CHUNK_DATA) { /* pass over what is here of the data */
        size_t take = end - r->pos < r->body_left ? end - r->pos : (size_t)r->body_left;
        r->pos += take - 1; /* the caller's loop steps over the last one */
        r->body_left -= take;
        r->body_seen += take;
        if (r->body_left == 0 && r->state == P_BODY)
            return body_done(r);
        if (r->body_left == 0)
            r->state = P_CHUNK_DATA_END;
        return HTTP_NEED_MORE;
    }
    if (++r->body_seen > HTTP_BODY_DISCARD_MAX) {
        r->keep_alive = 0;
        return body_done(r);
    }
    switch (r->state) {
    case P_CHUNK_SIZE:
        if (hex_value(c) >= 0 && r->body_left >> HTTP_CHUNK_SIZE_BITS == 0) {
            r->body_left = r->body_left * 16 + (unsigned)hex_value(c);
            r->chunk_digits = 1;
        } else if (hex_value(c) >= 0 || !r->chunk_digits) {
            return HTTP_BAD_REQUEST; /* overflow, or no digit before the extension or line end */
        } else if (c == ';' || c == ' ' || c == '\t') {
            r->state = c == ';' ? P_CHUNK_EXT_NAME_START : P_CHUNK_EXT_BLANK;
        } else if (c == '\r') {
            r->state = P_CHUNK_SIZE_LF;
        } else if (c == '\n') {
            return chunk_size_done(r);
        } else {
            return HTTP_BAD_REQUEST;
        }
        break;
    case P_CHUNK_EXT:
    case P_CHUNK_EXT_BLANK:
    case P_CHUNK_EXT_NAME_START:
    case P_CHUNK_EXT_NAME:
    case P_CHUNK_EXT_AFTER_NAME:
    case P_CHUNK_EXT_VALUE_START:
    case P_CHUNK_EXT_VALUE:
    case P_CHUNK_QUOTED:
    case P_CHUNK_ESCAPE:
        return chunk_line_byte(r, c);
    case P_CHUNK_SIZE_LF:
        if (c != '\n')
            return HTTP_BAD_REQUEST;
        return chunk_size_done(r);
    case P_CHUNK_DATA_END: /* CRLF, or a bare LF as in the head */
        if (c != '\r' && c != '\n')
            return HTTP_BAD_REQUEST;
        r->state = c == '\r' ? P_CHUNK_DATA_LF : P_CHUNK_SIZE;
        r->chunk_digits = 0;
        break;
    case P_CHUNK_DATA_LF:
        if (c != '\n')
            return HTTP_BAD_REQUEST;
        r->state = P_CHUNK_SIZE;
        r->chunk_digits = 0;
        break;
    case P_TRAILER_START: /* trailer fields are checked like header fields, and never used */
        if (c == '\r')
            r->state = P_TRAILER_END_LF;
        else if (c == '\n')
            return body_done(r);
        else if (is_tchar(c))
            r->state = P_TRAILER_NAME;
        else
            return HTTP_BAD_REQUEST;
        break;
    case P_TRAILER_NAME:
        if (c == ':')
            r->state = P_TRAILER_VALUE;
        else if (!is_tchar(c))
            return HTTP_BAD_REQUEST;
        break;
    case P_TRAILER_VALUE:
        if (c == '\r')
            r->state = P_TRAILER_LF;
        else if (c == '\n')
            r->state = P_TRAILER_START;
        else if (is_value_ctl(c))
            return HTTP_BAD_REQUEST;
        break;
    case P_TRAILER_LF:
        if (c != '\n')
            return HTTP_BAD_REQUEST;
        r->state = P_TRAILER_START;
        break;
    case P_TRAILER_END_LF:
        return c == '\n' ? body_done(r) : HTTP_BAD_REQUEST;
    default: /* P_DONE: nothing more belongs to this request */
        break;
    }
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
    for (; r->pos < end && st == HTTP_NEED_MORE && r->state < P_BODY; r->pos++) {
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
            else if (is_value_ctl(c))
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
    if (r->state >= P_BODY && r->state < P_DONE && (st == HTTP_OK || st == HTTP_NEED_MORE)) {
        st = HTTP_NEED_MORE; /* a body to read and throw away: its own loop keeps the head's switch lean */
        for (; r->pos < end && st == HTTP_NEED_MORE; r->pos++)
            st = body_byte(r, (unsigned char)buf[r->pos], end);
    }
    if (st == HTTP_NEED_MORE && r->pos >= HTTP_HEAD_MAX && r->state < P_BODY)
        return r->state < P_FIELD_START ? HTTP_URI_TOO_LONG : HTTP_FIELDS_TOO_LARGE;
    return st;
}

/*
 * Removes the body bytes the parser has already thrown away from the buffer (between the head and
 * r->pos), moving what follows down; returns the bytes left. So a body of any length passes through a
 * buffer of HTTP_HEAD_MAX while the head stays where it is.
 */
size_t http_compact(struct http_request *r, char *buf, size_t len)
{
    if (r->state < P_BODY || r->state == P_DONE || r->pos <= r->head_len)
        return len;
    memmove(buf + r->head_len, buf + r->pos, len - r->pos);
    len -= r->pos - r->head_len;
    r->pos = r->head_len;
    return len;
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
    int userinfo = 0;
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

/*
 * Indexes the text of a mime.types file in place (lines of "type ext ext ...", '#' comments): the
 * words are NUL-terminated where they stand. Fills at most max entries, sorted, an extension listed
 * twice keeping its first type; types over HTTP_MIME_TYPE_MAX are skipped. Returns how many.
 */
size_t http_mime_index(char *text, struct http_mime_entry *entries, size_t max)
{
    size_t count = 0;
    char *p = text;
    while (*p != '\0') {
        const char *type = NULL;
        int comment = 0;
        while (*p != '\0' && *p != '\n') {
            while (*p == ' ' || *p == '\t' || *p == '\r')
                *p++ = '\0';
            char *word = p;
            while (*p != '\0' && *p != '\n' && *p != ' ' && *p != '\t' && *p != '\r')
                p++;
            comment = comment || *word == '#'; /* a comment runs from a word starting with '#' */
            if (comment || p == word)
                continue;
            if (type == NULL && p - word > HTTP_MIME_TYPE_MAX)
                comment = 1; /* too long to be a type: skip the line */
            else if (type == NULL)
                type = word;
            else if (count < max)
                entries[count++] = (struct http_mime_entry){ word, type };
            if (*p == ' ' || *p == '\t' || *p == '\r')
                *p++ = '\0';
        }
        if (*p == '\n')
            *p++ = '\0';
    }
    qsort(entries, count, sizeof *entries, mime_order);
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (kept == 0 || mime_compare(&entries[kept - 1], &entries[i]) != 0)
            entries[kept++] = entries[i];
    return kept;
}

/* Returns a path's MIME type from its extension: the built-in table first, then the system's. */
const char *http_mime_type(const struct http_mime *system, const char *path)
{
    static const struct http_mime_entry builtin[] = {
        { "html", "text/html" }, { "htm", "text/html" }, { "css", "text/css" },
        { "js", "text/javascript" }, { "mjs", "text/javascript" }, { "json", "application/json" },
        { "txt", "text/plain" }, { "md", "text/markdown" }, { "csv", "text/csv" },
        { "xml", "application/xml" }, { "svg", "image/svg+xml" }, { "png", "image/png" },
        { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "gif", "image/gif" },
        { "webp", "image/webp" }, { "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" },
        { "wasm", "application/wasm" }, { "pdf", "application/pdf" }, { "mp4", "video/mp4" },
        { "webm", "video/webm" }, { "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" },
        { "wav", "audio/wav" }, { "woff", "font/woff" }, { "woff2", "font/woff2" },
        { "ttf", "font/ttf" }, { "otf", "font/otf" }, { "zip", "application/zip" },
        { "gz", "application/gzip" }, { "tar", "application/x-tar" },
    };
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base : path, '.');
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
    switch (status) {
    case HTTP_OK: return "OK";
    case HTTP_NO_CONTENT: return "No Content";
    case HTTP_PARTIAL_CONTENT: return "Partial Content";
    case HTTP_MOVED_PERMANENTLY: return "Moved Permanently";
    case HTTP_NOT_MODIFIED: return "Not Modified";
    case HTTP_BAD_REQUEST: return "Bad Request";
    case HTTP_UNAUTHORIZED: return "Unauthorized";
    case HTTP_FORBIDDEN: return "Forbidden";
    case HTTP_NOT_FOUND: return "Not Found";
    case HTTP_METHOD_NOT_ALLOWED: return "Method Not Allowed";
    case HTTP_PRECONDITION_FAILED: return "Precondition Failed";
    case HTTP_REQUEST_TIMEOUT: return "Request Timeout";
    case HTTP_URI_TOO_LONG: return "URI Too Long";
    case HTTP_RANGE_NOT_SATISFIABLE: return "Range Not Satisfiable";
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

/* Breaks t into UTC fields; a time gmtime cannot represent, or outside years 0 to 9999, becomes the epoch. */
static struct tm utc(time_t t)
{
    struct tm tm;
    time_t zero = 0;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year > 8099 || tm.tm_year < -1900)
        gmtime_r(&zero, &tm);
    return tm;
}

/* Writes v as exactly n decimal digits at p. */
static void put_digits(char *p, int v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
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
    snprintf(out, HTTP_ETAG_SIZE, "\"%llx-%llx-%llx\"", inode, (unsigned long long)size, mtime_ns);
}

/* Reads exactly n decimal digits; returns -1 unless all n are digits. */
static int read_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Returns the month (0-11) whose three-letter name starts s, or -1. */
static int read_month(const char *s)
{
    for (int m = 0; m < 12; m++)
        if (strncmp(s, month_names[m], 3) == 0)
            return m;
    return -1;
}

/* Says whether s (n bytes) is a day name: abbreviated, or in full when full is set. */
static int is_day_name(const char *s, size_t n, int full)
{
    static const char *const full_names[7] = { "Sunday", "Monday", "Tuesday", "Wednesday",
                                               "Thursday", "Friday", "Saturday" };
    for (int d = 0; d < 7; d++)
        if (full ? n == strlen(full_names[d]) && strncmp(s, full_names[d], n) == 0
                 : n == 3 && strncmp(s, day_names[d], 3) == 0)
            return 1;
    return 0;
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

/*
 * Parses an HTTP date in any of its three forms (RFC 9110 5.6.7): IMF-fixdate, RFC 850 and asctime.
 * A two-digit year is the latest one not more than 50 years after now. Returns 1 and sets *out, or 0.
 */
int http_parse_date(const char *s, size_t len, time_t now, time_t *out)
{
    int day, month, year, clock_at;
    const char *comma = memchr(s, ',', len);
    if (len == 29 && comma == s + 3 && is_day_name(s, 3, 0) && memcmp(s + 25, " GMT", 4) == 0 &&
        s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ') { /* Sun, 06 Nov 1994 08:49:37 GMT */
        day = read_digits(s + 5, 2);
        month = read_month(s + 8);
        year = read_digits(s + 12, 4);
        clock_at = 17;
    } else if (comma != NULL && is_day_name(s, (size_t)(comma - s), 1) && s + len - comma == 24 &&
               comma[1] == ' ' && comma[4] == '-' && comma[8] == '-' && comma[11] == ' ' &&
               memcmp(comma + 20, " GMT", 4) == 0) { /* Sunday, 06-Nov-94 08:49:37 GMT */
        day = read_digits(comma + 2, 2);
        month = read_month(comma + 5);
        year = read_digits(comma + 9, 2);
        int this_year = utc(now).tm_year + 1900;
        if (year >= 0)
            year += this_year / 100 * 100 + (year + this_year / 100 * 100 > this_year + 50 ? -100 : 0);
        clock_at = (int)(comma - s) + 12;
    } else if (len == 24 && is_day_name(s, 3, 0) && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' &&
               s[19] == ' ') { /* Sun Nov  6 08:49:37 1994 */
        day = s[8] == ' ' ? read_digits(s + 9, 1) : read_digits(s + 8, 2);
        month = read_month(s + 4);
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
    *out = (time_t)(days_from_civil(year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second);
    return 1;
}

/* Skips optional whitespace (spaces and tabs). */
static size_t skip_ows(const char *v, size_t len, size_t i)
{
    while (i < len && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return i;
}

/*
 * Says whether an entity-tag list (If-None-Match, If-Match) names etag: by weak comparison, where a W/
 * prefix does not matter, or by strong comparison, where a weak tag matches nothing (RFC 9110 section
 * 8.8.3.2). "*" matches any tag; a malformed list matches nothing.
 */
int http_etag_match(const char *v, size_t len, const char *etag, int strong)
{
    size_t i = skip_ows(v, len, 0), n = strlen(etag);
    if (i < len && v[i] == '*')
        return skip_ows(v, len, i + 1) == len;
    for (;;) {
        while (i < len && (v[i] == ',' || v[i] == ' ' || v[i] == '\t')) /* empty list elements are allowed */
            i++;
        if (i == len)
            return 0;
        int weak = len - i >= 2 && v[i] == 'W' && v[i + 1] == '/';
        i += weak ? 2 : 0;
        if (i >= len || v[i] != '"')
            return 0;
        size_t start = i++;
        while (i < len && v[i] != '"' && (unsigned char)v[i] > ' ' && v[i] != 0x7f)
            i++;
        if (i >= len || v[i] != '"')
            return 0;
        i++;
        if (i - start == n && memcmp(v + start, etag, n) == 0 && !(strong && weak))
            return 1;
        i = skip_ows(v, len, i);
        if (i < len && v[i] != ',')
            return 0;
    }
}

/* Reads a decimal number at v[*i], saturating at LLONG_MAX; returns -1 when no digit is there. */
static long long read_number(const char *v, size_t len, size_t *i)
{
    long long n = -1;
    for (; *i < len && v[*i] >= '0' && v[*i] <= '9'; (*i)++) {
        int digit = v[*i] - '0';
        n = n < 0 ? digit : n > (LLONG_MAX - digit) / 10 ? LLONG_MAX : n * 10 + digit;
    }
    return n;
}

/*
 * Reads a Range value for a file of size bytes (RFC 9110 14.2). One range gives HTTP_PARTIAL_CONTENT
 * with *first and *last (inclusive, the end clamped to the file); one that starts past the end gives
 * HTTP_RANGE_NOT_SATISFIABLE. Invalid syntax or several ranges give HTTP_OK: the whole file.
 */
enum http_status http_parse_range(const char *v, size_t len, long long size, long long *first, long long *last)
{
    long long start = -1, end = -1;
    int ranges = 0;
    if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
        return HTTP_OK;
    for (size_t i = 6; (i = skip_ows(v, len, i)) < len;) {
        if (v[i] == ',') {
            i++;
            continue;
        }
        if (++ranges > 1)
            return HTTP_OK;
        start = read_number(v, len, &i);
        if (i >= len || v[i++] != '-')
            return HTTP_OK;
        end = read_number(v, len, &i);
        i = skip_ows(v, len, i);
        if ((start < 0 && end < 0) || (start >= 0 && end >= 0 && end < start) || (i < len && v[i] != ','))
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

/* Says whether a qvalue is above zero; an invalid one counts as zero. */
static int q_positive(const char *v, size_t n)
{
    if (n == 0 || (v[0] != '0' && v[0] != '1'))
        return 0;
    if (v[0] == '1')
        return 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] >= '1' && v[i] <= '9')
            return 1;
    return 0;
}

/* Says whether an Accept-Encoding value accepts gzip: by its own q, else by the q of "*". */
int http_accepts_gzip(const char *v, size_t len)
{
    int gzip = -1, any = -1;
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t name = i;
        while (i < len && (is_tchar((unsigned char)v[i])))
            i++;
        size_t name_len = i - name;
        int accepted = 1;
        for (i = skip_ows(v, len, i); i < len && v[i] == ';'; i = skip_ows(v, len, i)) {
            i = skip_ows(v, len, i + 1);
            int is_q = len - i >= 2 && (v[i] == 'q' || v[i] == 'Q') && v[i + 1] == '=';
            size_t value = i += is_q ? 2 : 0;
            while (i < len && v[i] != ',' && v[i] != ';' && v[i] != ' ' && v[i] != '\t')
                i++;
            if (is_q)
                accepted = q_positive(v + value, i - value);
        }
        if (span_is(v, name, name_len, "gzip", 1) || span_is(v, name, name_len, "x-gzip", 1))
            gzip = accepted;
        else if (span_is(v, name, name_len, "*", 0))
            any = accepted;
        while (i < len && v[i] != ',')
            i++;
    }
    return gzip >= 0 ? gzip : any == 1;
}

/*
 * Decides how to answer a GET or HEAD of a file from the request's preconditions and Range, in the
 * order of RFC 9110 section 13.2.2: 412 when If-Match (strong comparison; "*" matches the file) names
 * no current tag, or, without it, If-Unmodified-Since is older than the file; then 304 when If-None-Match
 * (or, without it, If-Modified-Since) says the client's copy is current; then 206 or 416 for a Range that
 * If-Range (if sent) allows, else 200. Sets *first and *last for a 206. If-Range must name the strong
 * ETag exactly, or a Last-Modified date at least a second old (13.1.5: only then is the date strong).
 * An If-Match split over several lines is not combined, and fails: a resumed download must not mix.
 */
enum http_status http_file_status(const struct http_request *r, const char *buf, const char *etag, time_t mtime,
                                  long long size, time_t now, long long *first, long long *last)
{
    const struct http_span *f = r->field;
    const char *v;
    time_t date;
    if (f[HTTP_FIELD_IF_MATCH].off != 0 || (r->repeated & (1u << HTTP_FIELD_IF_MATCH))) {
        if (f[HTTP_FIELD_IF_MATCH].off == 0 ||
            !http_etag_match(buf + f[HTTP_FIELD_IF_MATCH].off, f[HTTP_FIELD_IF_MATCH].len, etag, 1))
            return HTTP_PRECONDITION_FAILED;
    } else if (f[HTTP_FIELD_IF_UNMODIFIED_SINCE].off != 0) {
        v = buf + f[HTTP_FIELD_IF_UNMODIFIED_SINCE].off;
        if (http_parse_date(v, f[HTTP_FIELD_IF_UNMODIFIED_SINCE].len, now, &date) && mtime > date)
            return HTTP_PRECONDITION_FAILED;
    }
    if (f[HTTP_FIELD_IF_NONE_MATCH].off != 0 || (r->repeated & (1u << HTTP_FIELD_IF_NONE_MATCH))) {
        v = buf + f[HTTP_FIELD_IF_NONE_MATCH].off;
        if (f[HTTP_FIELD_IF_NONE_MATCH].off != 0 && http_etag_match(v, f[HTTP_FIELD_IF_NONE_MATCH].len, etag, 0))
            return HTTP_NOT_MODIFIED;
    } else if (f[HTTP_FIELD_IF_MODIFIED_SINCE].off != 0) {
        v = buf + f[HTTP_FIELD_IF_MODIFIED_SINCE].off;
        if (http_parse_date(v, f[HTTP_FIELD_IF_MODIFIED_SINCE].len, now, &date) && mtime <= date)
            return HTTP_NOT_MODIFIED;
    }
    if (f[HTTP_FIELD_RANGE].off == 0 || r->method != HTTP_METHOD_GET) /* Range is for GET alone (14.2) */
        return HTTP_OK;
    if (f[HTTP_FIELD_IF_RANGE].off != 0 || (r->repeated & (1u << HTTP_FIELD_IF_RANGE))) {
        size_t n = f[HTTP_FIELD_IF_RANGE].len;
        v = buf + f[HTTP_FIELD_IF_RANGE].off;
        int tag = n > 0 && (v[0] == '"' || (n > 1 && v[0] == 'W' && v[1] == '/'));
        if (f[HTTP_FIELD_IF_RANGE].off == 0 || (tag ? n != strlen(etag) || memcmp(v, etag, n) != 0
                                                    : !http_parse_date(v, n, now, &date) || date != mtime ||
                                                      mtime >= now))
            return HTTP_OK;
    }
    return http_parse_range(buf + f[HTTP_FIELD_RANGE].off, f[HTTP_FIELD_RANGE].len, size, first, last);
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

/* Appends a NUL-terminated string. */
static void put_str(struct http_buf *b, const char *s)
{
    http_buf_put(b, s, strlen(s));
}

/* Appends a string literal, its length known when compiling. */
#define PUT(b, literal) http_buf_put((b), literal, sizeof literal - 1)

/* Appends one header field line: the name with its colon and space, the value, CRLF. */
static void put_field(struct http_buf *b, const char *name, const char *value)
{
    put_str(b, name);
    put_str(b, value);
    PUT(b, "\r\n");
}

/* Appends a decimal number. */
static void put_number(struct http_buf *b, long long n)
{
    char digits[24];
    size_t i = sizeof digits;
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    do
        digits[--i] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (n < 0)
        digits[--i] = '-';
    http_buf_put(b, digits + i, sizeof digits - i);
}

/* Writes a response head: status line, the fields r asks for, and the empty line. It runs for every
   response, so it appends pieces directly: printf would cost more than all the rest of a request. */
void http_format_head(struct http_buf *b, const struct http_response *r)
{
    PUT(b, "HTTP/1.1 ");
    put_number(b, r->status);
    PUT(b, " ");
    put_str(b, http_reason(r->status));
    PUT(b, "\r\n");
    put_field(b, "Date: ", r->date);
    PUT(b, "Server: " HTTP_SERVER_NAME "\r\n");
    if (r->status != HTTP_NOT_MODIFIED && r->status != HTTP_NO_CONTENT) { /* no content to describe */
        if (r->content_type != NULL) {
            PUT(b, "Content-Type: ");
            put_str(b, r->content_type);
            if (strncmp(r->content_type, "text/", 5) == 0)
                PUT(b, "; charset=utf-8");
            PUT(b, "\r\n");
        }
        PUT(b, "Content-Length: ");
        put_number(b, r->content_length);
        PUT(b, "\r\n");
        if (r->gzip)
            PUT(b, "Content-Encoding: gzip\r\n");
    }
    if (r->last_modified != NULL)
        put_field(b, "Last-Modified: ", r->last_modified);
    if (r->etag != NULL) {
        put_field(b, "ETag: ", r->etag);
        PUT(b, "Accept-Ranges: bytes\r\n");
    }
    if (r->vary_encoding)
        PUT(b, "Vary: Accept-Encoding\r\n");
    if (r->cache_control != NULL)
        put_field(b, "Cache-Control: ", r->cache_control);
    if (r->status == HTTP_PARTIAL_CONTENT || r->status == HTTP_RANGE_NOT_SATISFIABLE) {
        PUT(b, "Content-Range: bytes ");
        if (r->status == HTTP_PARTIAL_CONTENT) {
            put_number(b, r->range_first);
            PUT(b, "-");
            put_number(b, r->range_last);
        } else {
            PUT(b, "*");
        }
        PUT(b, "/");
        put_number(b, r->full_size);
        PUT(b, "\r\n");
    }
    if (r->location != NULL)
        put_field(b, "Location: ", r->location);
    if (r->status == HTTP_METHOD_NOT_ALLOWED || r->status == HTTP_NO_CONTENT)
        PUT(b, "Allow: GET, HEAD, OPTIONS\r\n");
    if (r->status == HTTP_UNAUTHORIZED) {
        PUT(b, "WWW-Authenticate: Basic realm=\"" HTTP_AUTH_REALM "\", charset=\"UTF-8\"\r\n");
    }
    if (r->extra_fields != NULL)
        put_str(b, r->extra_fields);
    if (r->close)
        PUT(b, "Connection: close\r\n");
    else if (r->keep_alive_echo)
        PUT(b, "Connection: keep-alive\r\n");
    PUT(b, "\r\n");
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
    r->content_type = "text/html";
    r->content_length = (long long)body.len;
    r->gzip = 0; /* the page itself, whatever file it is about */
    size_t start = b->len;
    http_format_head(b, r);
    size_t head_len = b->len - start;
    if (!head_only)
        http_buf_put(b, page, body.len);
    return head_len;
}

/* Header names the server writes itself: -H may neither add nor repeat them. */
static const char *const owned_fields[] = {
    "Date", "Server", "Content-Type", "Content-Length", "Content-Encoding", "Content-Range", "Transfer-Encoding",
    "Connection", "Keep-Alive", "Last-Modified", "ETag", "Accept-Ranges", "Vary", "Cache-Control", "Location",
    "Allow", "WWW-Authenticate", "Upgrade", "Trailer"
};

#define TEXT(x) #x
#define NUMBER_TEXT(x) TEXT(x)

/*
 * Checks a -H argument, "Name: value", and appends it to out as one header line. Returns NULL when it
 * is good, else why not: the name must be a token the server does not write itself, and the value may
 * hold no control character but tab, so that no argument can split a response head or end it early.
 */
const char *http_header_option(const char *arg, struct http_buf *out)
{
    const char *colon = strchr(arg, ':');
    if (colon == NULL)
        return "it has no colon; write it as 'Name: value'";
    size_t name_len = (size_t)(colon - arg), len;
    if (name_len == 0)
        return "the name before the colon is empty";
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)arg[i]))
            return "the name holds a space or a character a header name cannot hold";
    for (size_t i = 0; i < sizeof owned_fields / sizeof owned_fields[0]; i++)
        if (span_is(arg, 0, name_len, owned_fields[i], 1))
            return "the server writes that header itself";
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
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

/* Returns the value of a base64 digit, or -1. */
static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/*
 * Decodes an Authorization value of the Basic scheme (RFC 7617) into out: "user:password". Returns 0
 * when it is another scheme, is not canonical base64 (padding may be left out), or decodes to more
 * than cap bytes.
 */
int http_basic_credentials(const char *v, size_t len, char *out, size_t cap, size_t *out_len)
{
    size_t i = 5, n = 0, digits = 0, pad = 0;
    unsigned bits = 0;
    int have = 0;
    if (len < 7 || strncasecmp(v, "Basic ", 6) != 0)
        return 0;
    while (i < len && v[i] == ' ')
        i++;
    for (; i < len && v[i] != '='; i++, digits++) {
        int d = base64_value((unsigned char)v[i]);
        if (d < 0)
            return 0;
        bits = (bits << 6 | (unsigned)d) & 0xffffu;
        if ((have += 6) >= 8) {
            have -= 8;
            if (n == cap)
                return 0;
            out[n++] = (char)(bits >> have & 0xffu);
        }
    }
    for (; i < len && v[i] == '='; i++)
        pad++;
    if (i != len || digits == 0 || digits % 4 == 1 || pad > 2 || (pad > 0 && (digits + pad) % 4 != 0) ||
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

/* Says whether c is an ASCII digit. */
static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Folds an ASCII capital to lower case, for the natural order. */
static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * Orders names as people count: runs of digits by their value ("file2" before "file10"), the rest
 * bytewise with ASCII case folded. Names equal in that order fall back to byte order, so no two differ.
 */
int http_name_compare(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    while (*p != '\0' && *q != '\0') {
        if (is_digit(*p) && is_digit(*q)) {
            while (*p == '0' && is_digit(p[1]))
                p++;
            while (*q == '0' && is_digit(q[1]))
                q++;
            size_t np = 0, nq = 0;
            while (is_digit(p[np]))
                np++;
            while (is_digit(q[nq]))
                nq++;
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

/*
 * Says whether a code point, after the code point prev (0 at the start), would hide what a name is:
 * controls, bidirectional controls, format characters and spaces other than the ASCII one, which would
 * let a name pose as another ("photo\u202Egpj.exe", "a\u00A0b"). Joiners and variation selectors are
 * shown as they are only after a character that is not ASCII: emoji sequences and Persian words need
 * them there, while "invoice\u200D.pdf" must not pass for "invoice.pdf".
 */
static int is_hidden_char(unsigned long cp, unsigned long prev)
{
    static const unsigned long hidden[][2] = {
        { 0x00, 0x1f }, { 0x7f, 0xa0 }, { 0xad, 0xad }, { 0x34f, 0x34f }, { 0x600, 0x605 }, { 0x61c, 0x61c },
        { 0x6dd, 0x6dd }, { 0x70f, 0x70f }, { 0x890, 0x891 }, { 0x8e2, 0x8e2 }, { 0x115f, 0x1160 },
        { 0x1680, 0x1680 }, { 0x17b4, 0x17b5 }, { 0x180b, 0x180f }, { 0x2000, 0x200b }, { 0x200e, 0x200f },
        { 0x2028, 0x202f },
        { 0x205f, 0x206f }, { 0x3000, 0x3000 }, { 0x3164, 0x3164 }, { 0xfeff, 0xfeff }, { 0xffa0, 0xffa0 },
        { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd }, { 0x13430, 0x1345f },
        { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0000, 0xe007f }
    };
    static const unsigned long joining[][2] = { { 0x200c, 0x200d }, { 0xfe00, 0xfe0f }, { 0xe0100, 0xe01ef } };
    return in_ranges(cp, hidden, sizeof hidden / sizeof hidden[0]) ||
           (prev < 0x80 && in_ranges(cp, joining, sizeof joining / sizeof joining[0]));
}

/*
 * Decodes the UTF-8 sequence at s (n bytes left) strictly: no overlong forms, surrogates or values past
 * U+10FFFF. Returns its length and sets *cp, or returns 0 for a byte that starts no valid sequence.
 */
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

/*
 * Appends a file name for a page, HTML-escaped, so that it reads as what it is: invisible and reordering
 * characters become escapes (\u202E), bytes that are not UTF-8 \xHH, and so do spaces at either end;
 * marked (in <mark>) unless the text goes where markup cannot, as in a title. Each byte takes at most 19.
 */
static void put_visible_name(struct http_buf *b, const char *name, size_t n, int marked)
{
    const unsigned char *s = (const unsigned char *)name;
    const char *open = marked ? "<mark>" : "", *close = marked ? "</mark>" : "";
    unsigned long prev = 0;
    for (size_t i = 0; i < n;) {
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

/* Appends a size for people: bytes below 1 KiB, else one decimal in the largest binary unit that fits. */
static void put_size(struct http_buf *b, long long size)
{
    static const char units[][4] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    unsigned long long n = size > 0 ? (unsigned long long)size : 0, unit = 1;
    int u = 0;
    while (u < 6 && n / unit >= 1024) {
        unit *= 1024;
        u++;
    }
    if (u == 0) {
        http_buf_printf(b, "%llu B", n);
        return;
    }
    unsigned long long whole = n / unit, tenths = ((n % unit) * 10 + unit / 2) / unit;
    if (tenths == 10) {
        whole++;
        tenths = 0;
    }
    if (whole == 1024 && u < 6) {
        whole = 1;
        u++;
    }
    http_buf_printf(b, "%llu.%llu %s", whole, tenths, units[u]);
}

/*
 * Writes the start of a directory listing for a clean path, with a ../ row except at the root. Its
 * small stylesheet fixes the Size and Modified columns' widths and wraps long names inside theirs, so
 * no name pushes a column off a phone's screen.
 */
void http_format_listing_top(struct http_buf *b, const char *path)
{
    PUT(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Index of ");
    put_visible_name(b, path, strlen(path), 0);
    PUT(b, "</title>\n<style>\n"
           "body{font:15px/1.4 system-ui,sans-serif;margin:1rem;color:#222;background:#fff}\n"
           "h1{font-size:1.25rem;overflow-wrap:anywhere}\n"
           "table{width:100%;border-collapse:collapse;table-layout:fixed}\n"
           "th,td{padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\n"
           "th{border-bottom:1px solid #ccc}\n"
           "td a{white-space:pre-wrap}\n"
           ".size{width:6.5rem;text-align:right}\n"
           ".time{width:11.5rem;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
           "tr:nth-child(even) td{background:#f4f4f4}\n"
           "a{color:#0645ad;text-decoration:none}\na:hover{text-decoration:underline}\n"
           "mark{background:#fde68a;color:#000;font-family:monospace;white-space:nowrap}\n"
           "@media (max-width:32rem){body{margin:.5rem}th,td{padding:.3rem}td.size,td.time{font-size:.8rem}"
           ".size{width:4.6rem}.time{width:5.6rem;white-space:normal}}\n"
           "</style></head>\n<body><h1>Index of ");
    put_visible_name(b, path, strlen(path), 1);
    PUT(b, "</h1>\n<table>\n<tr><th class=\"name\">Name</th><th class=\"size\">Size</th>"
           "<th class=\"time\">Modified</th></tr>\n");
    if (strcmp(path, "/") != 0)
        PUT(b, "<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td><td class=\"time\"></td></tr>\n");
}

/*
 * Writes one listing row: the link (percent-encoded), the name as people should see it, the size for
 * people with the exact bytes in its title ("-" for a directory), and the modification time in UTC.
 */
void http_format_listing_row(struct http_buf *b, const char *name, int is_dir, long long size, time_t mtime)
{
    struct tm tm = utc(mtime);
    size_t n = strlen(name);
    PUT(b, "<tr><td><a href=\"./");
    http_buf_url(b, name, n);
    put_str(b, is_dir ? "/\">" : "\">");
    put_visible_name(b, name, n, 1);
    if (is_dir) {
        PUT(b, "/</a></td><td class=\"size\">-");
    } else {
        PUT(b, "</a></td><td class=\"size\" title=\"");
        put_number(b, size);
        put_str(b, size == 1 ? " byte\">" : " bytes\">");
        put_size(b, size);
    }
    http_buf_printf(b, "</td><td class=\"time\">%04d-%02d-%02d %02d:%02d UTC</td></tr>\n", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* Writes the end of a directory listing. */
void http_format_listing_end(struct http_buf *b)
{
    PUT(b, "</table>\n</body></html>\n");
}
