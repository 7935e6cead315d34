/*
 * parse.c: libFuzzer target for http_parse and http_compact. The first input byte seeds the chunk sizes,
 * the rest is the request: parsed whole, in chunks, byte by byte, and through a server's buffer that
 * http_compact empties of body bytes, it must give the same result every time.
 */
#include "http.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIPELINED 16 /* requests parsed one after another from one input */

/* Returns the next number of a small xorshift generator. */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Feeds buf to a fresh request the way the server does, step bytes more each call (0: whole, -1: random). */
static enum http_status feed(struct http_request *r, const char *buf, size_t len, long step, uint32_t *rng,
                             uint32_t max_chunk)
{
    enum http_status st;
    size_t have = 0;
    http_request_init(r);
    if (step == 0)
        return http_parse(r, buf, len);
    for (;;) {
        st = http_parse(r, buf, have);
        if (st != HTTP_NEED_MORE || have == len)
            return st;
        size_t more = step > 0 ? (size_t)step : 1 + next_random(rng) % max_chunk;
        have = len - have < more ? len : have + more;
    }
}

/* Says whether two spans are equal. */
static int same_span(struct http_span a, struct http_span b)
{
    return a.off == b.off && a.len == b.len;
}

/* Aborts unless two parses agree on the head: the request line and the fields the server reads. */
static void check_head(const struct http_request *a, const struct http_request *b)
{
    CHECK(a->head_len == b->head_len);
    CHECK(a->method == b->method);
    CHECK(same_span(a->target, b->target));
    CHECK(same_span(a->line, b->line));
    CHECK(a->minor == b->minor);
    CHECK(a->keep_alive == b->keep_alive);
    CHECK(a->content_length == b->content_length);
    CHECK(a->hosts == b->hosts);
    CHECK(a->started == b->started);
    for (int f = 0; f < HTTP_FIELD_COUNT; f++)
        CHECK(same_span(a->field[f], b->field[f]));
    CHECK(a->repeated == b->repeated);
}

/* Aborts unless two parses of the same bytes agree on everything the server reads. */
static void check_same(enum http_status sa, const struct http_request *a, enum http_status sb,
                       const struct http_request *b)
{
    CHECK(sa == sb);
    CHECK(a->end == b->end);
    CHECK(a->keep_alive == b->keep_alive && a->body_unread == b->body_unread);
    check_head(a, b);
}

/* Aborts unless a span lies inside the first end bytes. */
static void check_inside(struct http_span s, size_t end)
{
    CHECK(s.off <= end && s.len <= end - s.off);
}

/* Checks what must hold of any result, and of a servable head in particular. */
static void check_result(enum http_status st, const struct http_request *r, const char *buf, size_t len)
{
    CHECK(r->head_len <= len && r->head_len <= HTTP_HEAD_MAX);
    if (st == HTTP_NEED_MORE) { /* a full head's worth of bytes always gets an answer, or is in a body */
        CHECK(len < HTTP_HEAD_MAX || r->head_len > 0);
        return;
    }
    CHECK(st == HTTP_OK || st == HTTP_BAD_REQUEST || st == HTTP_NOT_IMPLEMENTED ||
          st == HTTP_METHOD_NOT_ALLOWED || st == HTTP_URI_TOO_LONG || st == HTTP_FIELDS_TOO_LARGE ||
          st == HTTP_VERSION_NOT_SUPPORTED);
    if (st != HTTP_OK)
        return;
    CHECK(r->head_len >= 1 && buf[r->head_len - 1] == '\n');
    CHECK(r->started);
    CHECK(r->method == HTTP_METHOD_GET || r->method == HTTP_METHOD_HEAD || r->method == HTTP_METHOD_OPTIONS);
    CHECK(r->minor >= 0 && r->minor <= 9);
    CHECK(r->hosts <= 1);
    CHECK(r->content_length >= -1);
    CHECK(!r->body_unread || !r->keep_alive); /* a body not read closes the connection */
    CHECK(r->end >= r->head_len && r->end <= len && r->end <= HTTP_HEAD_MAX);
    if (r->content_length >= 0) /* the body read whole, or (too long, no room) not waited for at all */
        CHECK(r->end - r->head_len == (size_t)r->content_length || (r->end == r->head_len && !r->keep_alive));
    else if (r->end > r->head_len) /* chunked, read whole: it ends with the trailer section's empty line */
        CHECK(buf[r->end - 1] == '\n');
    check_inside(r->line, r->head_len);
    check_inside(r->target, r->head_len);
    CHECK(r->line.len > 0 && r->target.len > 0);
    CHECK(r->target.off > r->line.off && r->target.off + r->target.len < r->line.off + r->line.len);
    for (size_t i = 0; i < r->line.off; i++)
        CHECK(buf[i] == '\r' || buf[i] == '\n'); /* only empty lines before the request line */
    const char *method = r->method == HTTP_METHOD_GET ? "GET " : r->method == HTTP_METHOD_HEAD ? "HEAD " : "OPTIONS ";
    CHECK(r->target.off == r->line.off + strlen(method));
    CHECK(memcmp(buf + r->line.off, method, strlen(method)) == 0);
    for (size_t i = 0; i < r->target.len; i++)
        CHECK(buf[r->target.off + i] > ' ' && buf[r->target.off + i] < 0x7f);
    const char *version = buf + r->target.off + r->target.len;
    CHECK(r->line.off + r->line.len == r->target.off + r->target.len + 9);
    CHECK(memcmp(version, " HTTP/1.", 8) == 0 && version[8] == '0' + r->minor);
    for (int f = 0; f < HTTP_FIELD_COUNT; f++) {
        const struct http_span *v = &r->field[f];
        if (v->off == 0) {
            CHECK(v->len == 0);
            continue;
        }
        CHECK(v->off >= r->line.off + r->line.len);
        check_inside(*v, r->head_len);
        CHECK((r->repeated & (1u << f)) == 0);
        CHECK(buf[v->off - 1] == ':' || buf[v->off - 1] == ' ' || buf[v->off - 1] == '\t');
        for (size_t i = 0; i < v->len; i++)
            CHECK(buf[v->off + i] != '\r' && buf[v->off + i] != '\n' && buf[v->off + i] != '\0');
        if (v->len > 0) /* surrounding whitespace is not part of the value */
            CHECK(buf[v->off] != ' ' && buf[v->off] != '\t' && buf[v->off + v->len - 1] != ' ' &&
                  buf[v->off + v->len - 1] != '\t');
    }
}

/* Aborts unless a head written by http_format_head (head_len bytes of text) parses back: a status line and
   fields, each ended by CRLF with no other CR or LF, the empty line last, and one Content-Length at most. */
static void check_head_text(const char *text, size_t head_len)
{
    int lengths = 0;
    CHECK(head_len > 13 && memcmp(text, "HTTP/1.1 ", 9) == 0 && memcmp(text + head_len - 4, "\r\n\r\n", 4) == 0);
    for (size_t i = 0, line = 0; i + 2 < head_len; i++) {
        CHECK(text[i] != '\n' || (i > 0 && text[i - 1] == '\r'));
        CHECK(text[i] != '\r' || text[i + 1] == '\n');
        if (text[i] != '\n')
            continue;
        CHECK(i - line > 1); /* no empty line before the last */
        lengths += strncmp(text + i + 1, "Content-Length:", 15) == 0;
        if (line > 0) /* a field: "Name: value" */
            CHECK(memchr(text + line, ':', i - line) != NULL && text[line] != ' ');
        line = i + 1;
    }
    CHECK(lengths <= 1);
}

/* Aborts unless a reply keeps its invariants, and its head, written as the server writes it, parses back. */
static void check_reply(const struct http_request *r, const struct http_found *found, const struct http_reply *out)
{
    const struct http_response *h = &out->head;
    const struct http_variant *v = &found->variant[out->coding];
    if (r->method == HTTP_METHOD_HEAD || h->status == HTTP_NOT_MODIFIED || h->status == HTTP_NO_CONTENT)
        CHECK(!out->body);
    CHECK(h->date == NULL && h->extra_fields == NULL && h->close == !r->keep_alive);
    CHECK(out->coding == HTTP_CODING_IDENTITY || (found->status == HTTP_OK && !found->generated));
    if (found->status == HTTP_OK && !found->generated && h->status != HTTP_NO_CONTENT)
        CHECK(v->size >= 0 && h->etag == out->etag && h->full_size == v->size && h->vary_encoding ==
              (found->variant[1].size >= 0 || found->variant[2].size >= 0 || found->variant[3].size >= 0));
    if (h->status == HTTP_OK || h->status == HTTP_PARTIAL_CONTENT)
        CHECK((h->content_encoding != NULL) == (out->coding != HTTP_CODING_IDENTITY));
    if (h->status == HTTP_PARTIAL_CONTENT)
        CHECK(out->first >= 0 && out->first <= out->last && out->last < v->size && h->content_range == 1);
    if (out->body && !out->page && !found->generated)
        CHECK(h->content_length == out->last - out->first + 1 && out->first >= 0 && out->last < v->size);
    char text[HTTP_RESPONSE_HEAD_MAX];
    struct http_buf b = { text, 0, sizeof text, 0 };
    struct http_response head = *h;
    head.date = "Sun, 06 Nov 1994 08:49:37 GMT";
    size_t head_len;
    if (out->page) {
        head_len = http_format_page(&b, &head, !out->body);
        CHECK(b.len - head_len == (out->body ? (size_t)head.content_length : 0));
    } else {
        http_format_head(&b, &head);
        head_len = b.len;
    }
    CHECK(!b.overflow);
    check_head_text(text, head_len);
}

/* Decides the request about a file of the given sizes (-1: that sibling is not there), and about what else the
   server may find: errors, a redirect, generated bytes of known or unknown length, 404.html. */
static void decide_all(const struct http_request *r, const char *buf, const long long size[HTTP_CODINGS])
{
    const time_t now = 1795737600, mtime = 784111777; /* 2026-11-27, and 1994-11-06 08:49:37 */
    static const enum http_status statuses[] = { HTTP_OK, HTTP_OK, HTTP_OK, HTTP_NOT_FOUND, HTTP_NOT_FOUND,
                                                 HTTP_MOVED_PERMANENTLY, HTTP_UNAUTHORIZED, HTTP_FORBIDDEN };
    for (size_t k = 0; k < sizeof statuses / sizeof statuses[0]; k++) {
        struct http_found found = { statuses[k], "text/html", { { .size = 0 } }, k == 1 || k == 2 || k == 4, "/d/",
                                    "no-cache" };
        for (int c = 0; c < HTTP_CODINGS; c++)
            found.variant[c] = (struct http_variant){ found.generated && c > 0 ? -1 : size[c], 0xe1 + (unsigned)c,
                                                      (unsigned long long)c, mtime + c, NULL, NULL };
        if (k == 2)
            found.variant[0].size = -1; /* a listing still being built */
        struct http_reply out;
        http_decide(r, buf, &found, now, r->keep_alive, &out);
        enum http_status st = out.head.status;
        CHECK(st == HTTP_OK || st == HTTP_PARTIAL_CONTENT || st == HTTP_NOT_MODIFIED || st == HTTP_NO_CONTENT ||
              st == HTTP_RANGE_NOT_SATISFIABLE || st == HTTP_PRECONDITION_FAILED || st == statuses[k]);
        check_reply(r, &found, &out);
    }
}

/* Runs what the server runs on a servable head: target decoding, the listing's order, then the reply's decision
   for files of several sizes with and without siblings, and the coding chosen for them. */
static void serve(const struct http_request *r, const char *buf)
{
    size_t cap = r->target.len + 2, query = 0;
    char *path = malloc(cap);
    CHECK(path != NULL);
    enum http_status st = http_target_path(buf + r->target.off, r->target.len, path, cap, &query);
    CHECK(st == HTTP_OK || st == HTTP_BAD_REQUEST);
    CHECK(query <= r->target.len);
    if (st == HTTP_OK) {
        CHECK(path[0] == '/' && strlen(path) < cap);
        (void)http_path_hidden(path);
        CHECK(http_mime_type(NULL, path) != NULL);
        size_t after = query + (query < r->target.len); /* the text after '?' */
        struct http_order order = http_listing_order(buf + r->target.off + after, r->target.len - after);
        CHECK((order.column == 'N' || order.column == 'M' || order.column == 'S') && (order.descending & ~1) == 0);
    }
    free(path);

    static const long long sizes[] = { 0, 1, 1000, 5368709120LL, -1 };
    const struct http_span *ae = &r->field[HTTP_FIELD_ACCEPT_ENCODING];
    for (size_t i = 0; i < 4; i++)
        for (size_t pattern = 0; pattern < 4; pattern++) {
            long long size[HTTP_CODINGS] = { sizes[i] };
            for (int c = 1; c < HTTP_CODINGS; c++) /* pattern 0: no sibling; then each, of a varied size, or none */
                size[c] = pattern == 0 ? -1 : sizes[(i + (size_t)c * pattern) % 5];
            enum http_coding coding = http_choose_coding(ae->off ? buf + ae->off : NULL, ae->len, size);
            CHECK((unsigned)coding < HTTP_CODINGS && size[coding] >= 0);
            decide_all(r, buf, size);
        }
}

/*
 * Feeds in the way the server does: into a buffer of HTTP_HEAD_MAX bytes (sbuf), random pieces as room
 * allows, http_parse, and http_compact after each HTTP_NEED_MORE. Returns the status; *have is the bytes
 * left in sbuf, *removed the input bytes compaction took out of it.
 */
static enum http_status feed_server(struct http_request *r, char *sbuf, const char *in, size_t len, uint32_t *rng,
                                    uint32_t max_chunk, size_t *have, size_t *removed)
{
    size_t taken = 0;
    *have = *removed = 0;
    http_request_init(r);
    for (;;) {
        size_t n = 1 + next_random(rng) % max_chunk;
        n = n > HTTP_HEAD_MAX - *have ? HTTP_HEAD_MAX - *have : n;
        n = n > len - taken ? len - taken : n;
        memcpy(sbuf + *have, in + taken, n);
        *have += n;
        taken += n;
        enum http_status st = http_parse(r, sbuf, *have);
        if (st != HTTP_NEED_MORE || taken == len)
            return st;
        size_t before = *have;
        *have = http_compact(r, sbuf, *have);
        CHECK(*have <= before && *have < HTTP_HEAD_MAX); /* the server always has room to read more */
        if (*have < before)
            CHECK(r->head_len > 0 && r->pos == r->head_len); /* only a body is taken out, all that was read */
        *removed += before - *have;
    }
}

/*
 * Compares the server's feed with the whole one. Both parse the same byte stream, but http_parse reads
 * at most HTTP_HEAD_MAX bytes of a buffer, while compaction lets the server's feed go on through a
 * longer body. Compaction happens only inside a body, so up to the end of the head both feeds see the
 * same bytes at the same offsets, and after it the same bytes in the same order until the whole feed's
 * cutoff at HTTP_HEAD_MAX. So:
 * - the whole feed answered (anything but HTTP_NEED_MORE): it decided on bytes both saw, and the
 *   server's feed must decide the same: status, keep-alive, head, and for HTTP_OK the same bytes taken
 *   (whole.end == server.end + removed; an error leaves end at the head in both);
 * - it wants more with fewer than HTTP_HEAD_MAX bytes: it ran out of input, and so did the server's
 *   feed, at the same byte of the stream;
 * - it wants more with HTTP_HEAD_MAX bytes or more: it stopped at its cutoff inside a body (a head that
 *   long gets 414 or 431). Only there may they differ: the server's feed saw more of the body and may
 *   have ended it, refused it or given it up past HTTP_BODY_DISCARD_MAX; the head must still agree, and
 *   a body that ended must have ended past the cutoff.
 */
static void check_server(enum http_status sw, const struct http_request *whole, const char *in, size_t len,
                         enum http_status ss, const struct http_request *s, const char *sbuf, size_t have,
                         size_t removed)
{
    if (s->head_len > 0) /* compaction never moves the head */
        CHECK(memcmp(sbuf, in, s->head_len) == 0);
    if (ss == HTTP_OK) { /* what follows the request is the input's next bytes, in order */
        CHECK(s->end >= s->head_len && s->end <= have);
        CHECK(memcmp(sbuf + s->end, in + s->end + removed, have - s->end) == 0);
    }
    if (sw != HTTP_NEED_MORE || len < HTTP_HEAD_MAX) {
        CHECK(sw == ss);
        CHECK(whole->keep_alive == s->keep_alive && whole->body_unread == s->body_unread);
        CHECK(whole->end == s->end + (ss == HTTP_OK ? removed : 0));
        if (sw == HTTP_NEED_MORE)
            CHECK(whole->pos == s->pos + removed);
        check_head(whole, s);
        return;
    }
    CHECK(whole->head_len > 0);
    check_head(whole, s);
    if (ss == HTTP_OK)
        CHECK(s->end + removed > HTTP_HEAD_MAX);
}

/* Parses buf four ways and compares; returns how many bytes the request took, or 0 to stop. */
static size_t one_request(const char *buf, size_t len, uint32_t *rng, uint32_t max_chunk, char *sbuf)
{
    struct http_request whole, chunks, bytes, server;
    size_t have, removed;
    enum http_status sw = feed(&whole, buf, len, 0, rng, max_chunk);
    enum http_status sc = feed(&chunks, buf, len, -1, rng, max_chunk);
    enum http_status sb = feed(&bytes, buf, len, 1, rng, max_chunk);
    enum http_status ss = feed_server(&server, sbuf, buf, len, rng, max_chunk, &have, &removed);
    check_result(sw, &whole, buf, len);
    check_same(sw, &whole, sc, &chunks);
    check_same(sw, &whole, sb, &bytes);
    check_server(sw, &whole, buf, len, ss, &server, sbuf, have, removed);
    if (sw != HTTP_OK)
        return 0;
    serve(&whole, buf);
    return whole.end;
}

/* libFuzzer entry point: byte 0 seeds the splits, the rest is one or more pipelined requests. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const uint32_t max_chunks[4] = { 2, 16, 200, 4096 };
    uint32_t rng = 0x9e3779b9u ^ ((uint32_t)data[0] * 0x01000193u), max_chunk = max_chunks[data[0] & 3];
    size_t len = size - 1;
    char *buf = malloc(len ? len : 1); /* exactly the request, no terminator: ASan sees any over-read */
    char *sbuf = malloc(HTTP_HEAD_MAX); /* the server's buffer, exactly */
    CHECK(buf != NULL && sbuf != NULL);
    memcpy(buf, data + 1, len);
    size_t off = 0;
    for (int n = 0; n < MAX_PIPELINED && off < len; n++) {
        char *rest = buf + off;
        size_t used = one_request(rest, len - off, &rng, max_chunk, sbuf);
        if (used == 0)
            break;
        off += used;
    }
    free(buf);
    free(sbuf);
    return 0;
}
