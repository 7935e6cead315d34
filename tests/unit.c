/* unit.c: table-driven tests of http.c; prints one line per failure and "N passed, N failed" last. */
#include "http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

/* Counts one case and reports it when it failed. */
static void check(int ok, const char *what, const char *detail)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL - %s: %s\n", what, detail);
}

/* A request and what parsing it must give; fields after status only matter for HTTP_OK. */
struct request_case {
    const char *raw;
    enum http_status status;
    const char *target;
    enum http_method method;
    int minor, keep_alive;
    long long content_length;
};

static const struct request_case requests[] = {
    { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 1, -1 },
    { "HEAD /x?y HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OK, "/x?y", HTTP_METHOD_HEAD, 1, 1, -1 },
    { "GET / HTTP/1.0\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 0, 0, -1 },
    { "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 0, 1, -1 },
    { "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 0, -1 },
    { "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, CLOSE\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 0, -1 },
    { "GET / HTTP/1.1\nHost: a\n\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 1, -1 },
    { "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 1, -1 },
    { "GET / HTTP/1.1\r\nHost:a\r\nX-Empty:\r\nX-Tab:\t v \t\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 1, -1 },
    { "GET / HTTP/1.1\r\nhOsT: a\r\nContent-Length: 0\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 1, 0 },
    { "GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OK, "http://a/b", HTTP_METHOD_GET, 1, 1, -1 },
    { "GET http://u:p@a/b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OK, "http://u:p@a/b", HTTP_METHOD_GET, 1, 1, -1 },
    { "GET / HTTP/1.9\r\nHost: a\r\nX: \x80\xff\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 9, 1, -1 },
    { "GET / HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\n Host: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\rX\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\n\rX", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\n: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET /\tx HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\rHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / http/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.x\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/11\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET /\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { " GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", HTTP_BAD_REQUEST,
      NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", HTTP_BAD_REQUEST,
      NULL, 0, 0, 0, 0 },
    { "GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTP_VERSION_NOT_SUPPORTED, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/0.9\r\nHost: a\r\n\r\n", HTTP_VERSION_NOT_SUPPORTED, NULL, 0, 0, 0, 0 },
    { "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_NOT_IMPLEMENTED, NULL, 0, 0, 0, 0 },
    { "get / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_NOT_IMPLEMENTED, NULL, 0, 0, 0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", HTTP_BAD_REQUEST, NULL, 0, 0,
      0, 0 },
    { "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", HTTP_OK, "/", HTTP_METHOD_GET, 1, 1,
      -1 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", HTTP_METHOD_NOT_ALLOWED, NULL, 0, 0, 0, 0 },
    { "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_OK, "*", HTTP_METHOD_OPTIONS, 1, 1, -1 },
    { "OPTIONS /x HTTP/1.1\r\nHost: a\r\nOrigin: http://b\r\n\r\n", HTTP_OK, "/x", HTTP_METHOD_OPTIONS, 1, 1, -1 },
    { "options / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_NOT_IMPLEMENTED, NULL, 0, 0, 0, 0 },
    { "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_METHOD_NOT_ALLOWED, NULL, 0, 0, 0, 0 },
};

/* Parses raw fed in pieces of step bytes (0: all at once); returns the status and fills r. */
static enum http_status parse_in_steps(struct http_request *r, const char *raw, size_t len, size_t step)
{
    enum http_status st = HTTP_NEED_MORE;
    http_request_init(r);
    for (size_t have = step ? step : len; st == HTTP_NEED_MORE; have += step ? step : len) {
        st = http_parse(r, raw, have < len ? have : len);
        if (have >= len)
            break;
    }
    return st;
}

/* Every request of the table, parsed whole, byte by byte and in 7-byte pieces. */
static void test_requests(void)
{
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        const struct request_case *t = &requests[i];
        size_t len = strlen(t->raw);
        static const size_t steps[] = { 0, 1, 7 };
        for (size_t s = 0; s < 3; s++) {
            struct http_request r;
            char detail[512];
            enum http_status st = parse_in_steps(&r, t->raw, len, steps[s]);
            int ok = st == t->status;
            if (ok && st == HTTP_OK)
                ok = r.target.len == strlen(t->target) && memcmp(t->raw + r.target.off, t->target, r.target.len) == 0 &&
                     r.method == t->method && r.minor == t->minor && r.keep_alive == t->keep_alive &&
                     r.content_length == t->content_length && r.end == len;
            snprintf(detail, sizeof detail, "case %zu step %zu: status %d, want %d (%.40s)", i, steps[s], (int)st,
                     (int)t->status, t->raw);
            check(ok, "parse", detail);
        }
    }
}

/* A request that never ends in time: one long request line, or too many or too big header fields. */
static void test_limits(void)
{
    char *buf = malloc(4 * HTTP_HEAD_MAX);
    struct http_request r;
    size_t n;

    n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'a', HTTP_HEAD_MAX);
    check(parse_in_steps(&r, buf, n + HTTP_HEAD_MAX, 0) == HTTP_URI_TOO_LONG, "limits", "long request line: 414");
    check(parse_in_steps(&r, buf, HTTP_HEAD_MAX - 1, 0) == HTTP_NEED_MORE, "limits", "8191 bytes of line: more");

    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(buf + n, 'b', HTTP_HEAD_MAX);
    check(parse_in_steps(&r, buf, n + HTTP_HEAD_MAX, 0) == HTTP_FIELDS_TOO_LARGE, "limits", "long field: 431");

    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    size_t fill = HTTP_HEAD_MAX - n - 4;
    memset(buf + n, 'c', fill);
    memcpy(buf + n + fill, "\r\n\r\n", 4);
    check(parse_in_steps(&r, buf, HTTP_HEAD_MAX, 0) == HTTP_OK && r.head_len == HTTP_HEAD_MAX, "limits",
          "a head of exactly HTTP_HEAD_MAX bytes is accepted");

    for (int fields = HTTP_FIELDS_MAX; fields <= HTTP_FIELDS_MAX + 1; fields++) {
        n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 1; i < fields; i++)
            n += (size_t)sprintf(buf + n, "X%d: y\r\n", i);
        n += (size_t)sprintf(buf + n, "\r\n");
        enum http_status want = fields > HTTP_FIELDS_MAX ? HTTP_FIELDS_TOO_LARGE : HTTP_OK;
        check(parse_in_steps(&r, buf, n, 1) == want, "limits", fields > HTTP_FIELDS_MAX ? "101 fields: 431" : "100 fields: 200");
    }

    for (n = 0; n < HTTP_HEAD_MAX; n++) /* empty lines only: no request line to be too long */
        buf[n] = n % 3 == 2 ? '\n' : '\r';
    check(parse_in_steps(&r, buf, HTTP_HEAD_MAX, 0) == HTTP_BAD_REQUEST, "limits", "8192 bytes of empty lines: 400");
    check(parse_in_steps(&r, buf, HTTP_HEAD_MAX, 7) == HTTP_BAD_REQUEST, "limits", "empty lines in pieces: 400");
    check(parse_in_steps(&r, buf, HTTP_HEAD_MAX - 1, 0) == HTTP_NEED_MORE, "limits", "8191 bytes of them: more");
    free(buf);
}

/* Empty lines before a request do not start it, so a timeout then closes silently instead of with 408. */
static void test_started(void)
{
    struct http_request r;
    http_request_init(&r);
    check(http_parse(&r, "\r\n\r\n", 4) == HTTP_NEED_MORE && !r.started, "started", "empty lines only");
    check(http_parse(&r, "\r\n\r\nG", 5) == HTTP_NEED_MORE && r.started && r.line.len == 0, "started",
          "the first byte of the method starts the request; the line is not complete yet");
}

/* Pipelined requests: the parser stops at the end of the first head, leaving the rest untouched. */
static void test_pipelining(void)
{
    const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    struct http_request r;
    http_request_init(&r);
    enum http_status st = http_parse(&r, two, strlen(two));
    check(st == HTTP_OK && r.head_len == strlen(two) / 2, "pipelining", "first head ends at its empty line");
    http_request_init(&r);
    st = http_parse(&r, two + strlen(two) / 2, strlen(two) / 2);
    check(st == HTTP_OK && memcmp(two + strlen(two) / 2 + r.target.off, "/b", 2) == 0, "pipelining",
          "second head parses from its own start");
}

#define B_GET "GET / HTTP/1.1\r\nHost: a\r\n"
#define B_TE(codings) B_GET "Transfer-Encoding: " codings "\r\n\r\n"
#define B_CHUNKED B_TE("chunked")
#define B_NEXT "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"

/*
 * A request that may carry a body, and the bytes that follow it on the connection: r.end must be the
 * length of request whatever the status. after NULL means a pipelined GET /next, which must then parse
 * from r.end. An error in the body leaves r.end at the head: request is the head, after the body; an
 * error inside the head (a field refused as it ends) leaves it 0: request is "", after all of it.
 */
struct body_case {
    const char *request, *after;
    enum http_status status;
    int keep_alive; /* checked for HTTP_OK */
};

static const struct body_case bodies[] = {
    /* smuggling: two framings (CL.TE, TE.CL), a Transfer-Encoding not ending in chunked, bad sizes */
    { B_GET "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", 400, 0 },
    { B_GET "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "0\r\n\r\n", 400, 0 },
    { B_GET "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", 400, 0 },
    { B_GET "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", "0\r\n\r\n", 400, 0 },
    { "", B_TE("chunked, identity") "0\r\n\r\n", 400, 0 },
    { B_TE("xchunked"), "0\r\n\r\n", 400, 0 },
    { B_TE("chunkedx"), "0\r\n\r\n", 400, 0 },
    { "", B_TE("chunked;x=1") "0\r\n\r\n", 400, 0 },
    { "", B_TE("chunked, chunked") "0\r\n\r\n", 400, 0 },
    { "", B_TE("chunked x") "0\r\n\r\n", 400, 0 },
    { "", B_TE("\"chunked\"") "0\r\n\r\n", 400, 0 },
    { B_TE("identity"), "0\r\n\r\n", 400, 0 },
    { B_TE("gzip"), "0\r\n\r\n", 400, 0 },
    { B_TE(""), "0\r\n\r\n", 400, 0 },
    { "", B_GET "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n" "0\r\n\r\n", 400, 0 },
    { "", B_GET "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" "0\r\n\r\n", 400, 0 },
    { "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", 400, 0 },
    { "GET / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", 400, 0 },
    { B_TE("foo, chunked"), "0\r\n\r\n", 501, 0 },
    { B_GET "Transfer-Encoding: br\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", 501, 0 },
    { B_CHUNKED, "10000000000000000\r\nx\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "0x5\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "-5\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "+5\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, " 5\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, ";x=1\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5\r\nhello\r\n\r\n\r\n", 400, 0 }, /* an empty size line after a chunk */
    { B_CHUNKED, "5\r\nhello\n\n\n", 400, 0 },
    { B_CHUNKED, "5\r\nhello\r\n;x\r\n\r\n", 400, 0 },
    { B_CHUNKED, "g\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5\rX", 400, 0 },
    { B_CHUNKED, "5\r\nhelloX\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5\r\nhello\r\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5\r\nhello\r\n0\r\n\rX", 400, 0 },
    { B_CHUNKED, "5;a=\x01\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a\x7f\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=\"x\rx\"\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=\"\\\n\"\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=\"x\r\nhello\r\n0\r\n\r\n", 400, 0 }, /* an unclosed quote runs into the line end */
    { B_CHUNKED, "5 6\r\nhello\r\n0\r\n\r\n", 400, 0 }, /* extensions follow their grammar, not just its bytes */
    { B_CHUNKED, "5 \r\nhello\r\n0\r\n\r\n", 400, 0 },      /* blanks only before a ';' */
    { B_CHUNKED, "5;a \r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=b \r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=\"b\" \r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;=\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=b=c\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a b\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a=\r\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "0\r\n X: y\r\n\r\n", 400, 0 },
    { B_CHUNKED, "0\r\nX y: z\r\n\r\n", 400, 0 },
    { B_CHUNKED, "0\r\n: y\r\n\r\n", 400, 0 },
    { B_CHUNKED, "0\r\nX: \x01\r\n\r\n", 400, 0 },
    { B_CHUNKED, "0\r\nX: y\rZ\r\n\r\n", 400, 0 },
    { B_CHUNKED, "0\r\nX: y\r\n z\r\n\r\n", 400, 0 },
    /* chunk framing takes CRLF only (RFC 9112 7.1): a bare LF in it would let two parsers split chunks apart */
    { B_CHUNKED, "5\nhello\n0\nX: y\n\n", 400, 0 },
    { "GET / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n", "5\nhe\r\nl\n0\n\n", 400, 0 },
    { B_CHUNKED, "5\r\nhello\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "5;a\nhello\r\n0\r\n\r\n", 400, 0 },
    { B_CHUNKED, "3b;a\n" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "\r\n\r\n0\r\n\r\n"
                 "GET /secret HTTP/1.1\r\nHost: a\r\n\r\n", 400, 0 }, /* "funky chunks" */
    { B_CHUNKED "5\r\nhello\r\n0\r\nX: y\n\n", NULL, 200, 1 }, /* trailer fields are the head's: LF alone ends them */
    /* a client that expects 100 Continue is answered at once, and the connection will close */
    { B_GET "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", "hello", 200, 0 },
    { B_GET "Expect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", 200, 0 },
    /* but HTTP/1.0 has no Expect (RFC 9110 10.1.1): its body is read like any other */
    { "GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", NULL, 200, 1 },
    { "GET / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", NULL, 200, 0 },
    /* obfuscated codings that still say chunked, last */
    { B_TE("chunked ") "0\r\n\r\n", NULL, 200, 1 },
    { B_TE(" chunked") "0\r\n\r\n", NULL, 200, 1 },
    { B_TE("chunked\t") "0\r\n\r\n", NULL, 200, 1 },
    { B_TE("Chunked") "0\r\n\r\n", NULL, 200, 1 },
    { B_TE("CHUNKED") "0\r\n\r\n", NULL, 200, 1 },
    { B_TE(",chunked,") "0\r\n\r\n", NULL, 200, 1 },
    { B_TE("gzip, chunked") "0\r\n\r\n", NULL, 200, 1 },
    { B_TE("x-gzip,deflate , compress,\tx-compress,chunked") "0\r\n\r\n", NULL, 200, 1 },
    { B_GET "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", NULL, 200, 1 },
    /* chunked bodies read whole: the request ends after the final empty line */
    { B_CHUNKED "5\r\nhello\r\n0\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "5\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "00000005\r\nhello\r\n000\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "5;name=value\r\nhello\r\n0;last\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "5 ; a = \"q\\\"uo;ted\\\\\" ;b;c=d\r\nhello\r\n0\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "5;a=\"\xff\tx\\\xfe\"\r\nhello\r\n0\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "5\r\nhello\r\n0\r\nX-Sum: 1\r\nY:\r\nZ: a\tb \xff\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "1c\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n\r\n0\r\n\r\n", NULL, 200, 1 },
    { B_CHUNKED "5\r\n0\r\n\r\n\r\n0\r\n\r\n", NULL, 200, 1 },
    { B_GET "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", NULL, 200, 0 },
    { "HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", NULL, 200, 1 },
    { "OPTIONS * HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", NULL, 200, 1 },
    /* Content-Length bodies */
    { B_GET "Content-Length: 1\r\n\r\nx", NULL, 200, 1 },
    { B_GET "Content-Length: 5\r\n\r\nhello", NULL, 200, 1 },
    { B_GET "Content-Length: 00012\r\n\r\nGET / HTTP/1", NULL, 200, 1 },
    { B_GET "Content-Length: 0\r\n\r\n", NULL, 200, 1 },
    { B_GET "Content-Length: 65537\r\n\r\n", "body that is not waited for", 200, 0 },
    { B_GET "Content-Length: 999999999999999999\r\n\r\n", "body that is not waited for", 200, 0 },
    { B_GET "Connection: close\r\nContent-Length: 3\r\n\r\nabc", NULL, 200, 0 },
    { "GET / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc", NULL, 200, 1 },
    { "GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", NULL, 200, 0 },
    { "HEAD / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", NULL, 200, 1 },
    { "OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd", NULL, 200, 1 },
    { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", "abc", 405, 0 },
    { "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\nabc\r\n0\r\n\r\n", 405, 0 },
    { "BREW / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", "abc", 501, 0 },
};

/* Writes n bytes of s into out (cap bytes) the way a log shows them: control bytes escaped. */
static const char *shown(char *out, size_t cap, const char *s, size_t n)
{
    struct http_buf b = { out, 0, cap - 1, 0 };
    http_buf_log(&b, s, n < 80 ? n : 80);
    out[b.overflow ? 0 : b.len] = '\0';
    return out;
}

/* Bodies read and thrown away, or refused: each request whole, byte by byte and in 7-byte pieces. */
static void test_bodies(void)
{
    static const size_t steps[] = { 0, 1, 7 };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        const struct body_case *t = &bodies[i];
        char raw[512], detail[700], text[400];
        size_t len = (size_t)snprintf(raw, sizeof raw, "%s%s", t->request, t->after ? t->after : B_NEXT);
        size_t want_end = strlen(t->request), from = want_end > 40 ? want_end - 40 : 0; /* shown from here */
        for (size_t s = 0; s < 3; s++) {
            struct http_request r, next;
            enum http_status st = parse_in_steps(&r, raw, len, steps[s]);
            int ok = st == t->status && r.end == want_end && (st != HTTP_OK || r.keep_alive == t->keep_alive) &&
                     (st != HTTP_OK || r.body_unread == (t->after != NULL)); /* what follows a 200 is body unread */
            if (ok && st == HTTP_OK && t->after == NULL) /* the pipelined request starts at r.end */
                ok = parse_in_steps(&next, raw + r.end, len - r.end, steps[s]) == HTTP_OK && next.target.len == 5 &&
                     memcmp(raw + r.end + next.target.off, "/next", 5) == 0 && next.end == strlen(B_NEXT);
            snprintf(detail, sizeof detail, "case %zu step %zu: status %d end %zu keep-alive %d, want %d %zu %d (%s)",
                     i, steps[s], (int)st, r.end, r.keep_alive, (int)t->status, want_end, t->keep_alive,
                     shown(text, sizeof text, raw + from, len - from));
            check(ok, "body", detail);
        }
    }
}

/* Host values: uri-host [":" port], or empty; anything else is 400. */
static void test_hosts(void)
{
    static const struct { const char *host; enum http_status status; } cases[] = {
        { "a", 200 }, { "a:80", 200 }, { "a.b-c_d~e", 200 }, { "127.0.0.1:8080", 200 }, { "[::1]", 200 },
        { "[::1]:80", 200 }, { "[v7.x]", 200 }, { "xn--bcher-kva.example", 200 }, { "%41b", 200 }, { "a%2e", 200 },
        { "", 200 }, { "a:", 200 }, { ":80", 200 }, { "a!$&'()*+,;=", 200 }, { "a:80 ", 200 },
        { "a b", 400 }, { "a/b", 400 }, { "u@a", 400 }, { "a:8x", 400 }, { "[::1", 400 }, { "[]", 400 },
        { "a:80:90", 400 }, { "%4", 400 }, { "%zz", 400 }, { "a%4g", 400 }, { "%", 400 }, { "a\"b", 400 },
        { "[::1]x", 400 }, { "[::1]:x", 400 }, { "a:-1", 400 }, { "[a/b]", 400 }, { "\xc3\xa9", 400 }, { "a?b", 400 },
        { "a#b", 400 }, { "a\\b", 400 }, { "::1", 400 }, { "[zz]", 400 }, { "[1]", 400 }, { "[v.x]", 400 },
        { "[v7.]", 400 }, { "[v7x]", 400 }, { "[v1.%zz]", 400 }, { "[v1.%]", 400 }, { "[::ffff:127.0.0.1]", 200 }, { "[V1F.a:b]", 200 },
    };
    static const size_t steps[] = { 0, 1, 7 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char raw[128], detail[160];
        size_t len = (size_t)snprintf(raw, sizeof raw, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", cases[i].host);
        for (size_t s = 0; s < 3; s++) {
            struct http_request r;
            enum http_status st = parse_in_steps(&r, raw, len, steps[s]);
            snprintf(detail, sizeof detail, "'%s' step %zu: %d, want %d", cases[i].host, steps[s], (int)st,
                     (int)cases[i].status);
            check(st == cases[i].status && (st != HTTP_OK || (r.end == len && r.keep_alive)), "host", detail);
        }
    }
}

/*
 * Feeds in (len bytes) the way the server does: into its buffer of HTTP_HEAD_MAX bytes, step bytes at a
 * time as room allows (0: all that fit), http_parse, then http_compact after each HTTP_NEED_MORE. Returns
 * the status; *have is the bytes left in buf, *taken the input copied, *removed what compaction took out.
 */
static enum http_status serve_through(struct http_request *r, char *buf, const char *in, size_t len, size_t step,
                                      size_t *have, size_t *taken, size_t *removed)
{
    *have = *taken = *removed = 0;
    http_request_init(r);
    for (;;) {
        size_t n = HTTP_HEAD_MAX - *have;
        n = step != 0 && n > step ? step : n;
        n = n > len - *taken ? len - *taken : n;
        memcpy(buf + *have, in + *taken, n);
        *have += n;
        *taken += n;
        enum http_status st = http_parse(r, buf, *have);
        if (st != HTTP_NEED_MORE || n == 0) /* an answer, or no more input or no room: stuck */
            return st;
        size_t before = *have;
        *have = http_compact(r, buf, *have);
        *removed += before - *have;
    }
}

/* Chunk-size lines up to HTTP_BODY_ROOM bytes, and a trailer section counted against HTTP_BODY_DISCARD_MAX. */
static void test_chunk_lines(void)
{
    static char in[HTTP_BODY_DISCARD_MAX + 4 * HTTP_HEAD_MAX], buf[HTTP_HEAD_MAX];
    struct http_request r;
    static const struct { size_t line; int crlf; enum http_status status; } lines[] = {
        { HTTP_BODY_ROOM - 1, 0, HTTP_NEED_MORE }, { HTTP_BODY_ROOM, 0, HTTP_BAD_REQUEST },
        { HTTP_BODY_ROOM - 2, 1, HTTP_OK }, { HTTP_BODY_ROOM - 1, 1, HTTP_BAD_REQUEST },
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) { /* "5;x=yyy...", with its CRLF or not */
        size_t head = (size_t)sprintf(in, B_CHUNKED "5;x="), n = head + lines[i].line - 4;
        memset(in + head, 'y', lines[i].line - 4);
        n += lines[i].crlf ? (size_t)sprintf(in + n, "\r\nhello\r\n0\r\n\r\n") : 0;
        for (size_t step = 0; step <= 7; step += 7)
            check(parse_in_steps(&r, in, n, step) == lines[i].status && (lines[i].status != HTTP_OK || r.end == n),
                  "chunk line", lines[i].crlf ? "a line and its CRLF, at most HTTP_BODY_ROOM" : "a line without LF");
    }
    for (size_t trailer = 1; trailer <= 2; trailer++) { /* a trailer that ends at the limit, then one byte past it */
        size_t have, taken, removed, head = (size_t)sprintf(in, B_CHUNKED "ffee\r\n"), len = head + 0xffee;
        memset(in + head, 'd', 0xffee);
        len += (size_t)sprintf(in + len, "\r\n0\r\nX: %s\r\n\r\n" B_NEXT, trailer == 1 ? "" : "y");
        enum http_status st = serve_through(&r, buf, in, len, 1000, &have, &taken, &removed);
        size_t body = r.end + removed - r.head_len; /* 6 + 65518 + 2 + 3, then "X: \r\n\r\n": 7 */
        check(st == HTTP_OK && r.keep_alive == (trailer == 1) && r.body_unread == (trailer == 2) &&
              body == HTTP_BODY_DISCARD_MAX + trailer - 1, "trailer",
              trailer == 1 ? "a trailer section ending at HTTP_BODY_DISCARD_MAX" : "one byte past it: given up");
    }
}

/* Writes into in a GET /big with a body (content_length, or chunks of chunk bytes when -1), its head padded to head
   bytes (0: not padded), then B_NEXT; returns its length and sets *head_len. */
static size_t big_request(char *in, long long content_length, size_t chunk, size_t chunks, size_t head, size_t *head_len)
{
    static const char fill[] = "0\r\n\r\nGET /evil HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t len = (size_t)sprintf(in, "GET /big HTTP/1.1\r\nHost: a\r\n");
    if (content_length >= 0)
        len += (size_t)sprintf(in + len, "Content-Length: %lld\r\n", content_length);
    else
        len += (size_t)sprintf(in + len, "Transfer-Encoding: chunked\r\n");
    if (head) { /* "X: ppp...\r\n", then the empty line */
        size_t pad = head - len - 7;
        len += (size_t)sprintf(in + len, "X: ");
        memset(in + len, 'p', pad);
        len += pad;
        len += (size_t)sprintf(in + len, "\r\n");
    }
    len += (size_t)sprintf(in + len, "\r\n");
    *head_len = len;
    size_t data = content_length >= 0 ? (size_t)content_length : 0;
    for (size_t c = 0; c < chunks; c++) {
        len += (size_t)sprintf(in + len, "%zx\r\n", chunk);
        for (size_t k = 0; k < chunk; k++)
            in[len++] = fill[k % (sizeof fill - 1)];
        len += (size_t)sprintf(in + len, "\r\n");
    }
    if (content_length < 0)
        len += (size_t)sprintf(in + len, "0\r\n\r\n");
    for (size_t k = 0; k < data; k++)
        in[len++] = fill[k % (sizeof fill - 1)];
    return len + (size_t)sprintf(in + len, "%s", B_NEXT);
}

/* Bodies longer than the server's buffer: passed through it by http_compact, or not waited for past 64 KiB. */
static void test_compact(void)
{
    static const struct {
        const char *what;
        long long content_length; /* -1: chunked, in chunks of chunk bytes and then the last chunk */
        size_t chunk, chunks;
        size_t head;              /* the head padded to this many bytes; 0: not padded */
        int keep_alive;           /* the body is read whole (1), or not waited for (0) */
        size_t body_end;          /* bytes of the body the request takes: r.end + removed - r.head_len */
    } cases[] = {
        { "Content-Length 60000", 60000, 0, 0, 0, 1, 60000 },
        { "Content-Length 65536, the most read", 65536, 0, 0, 0, 1, 65536 },
        { "Content-Length 65537", 65537, 0, 0, 0, 0, 0 },
        { "60 chunks of 1000", -1, 1000, 60, 0, 1, 60 * 1007 + 5 },
        { "1 chunk of 60000", -1, 60000, 1, 0, 1, 6 + 60000 + 2 + 5 },
        { "chunks of 1000 past 64 KiB: ends at the size line that would pass it", -1, 1000, 70, 0, 0, 65460 },
        { "one chunk of 1 MiB: not waited for", -1, 0x100000, 1, 0, 0, 8 },
        { "chunks of 1 past 64 KiB", -1, 1, 11000, 0, 0, 65537 },
        { "a head leaving HTTP_BODY_ROOM, Content-Length", 5, 0, 0, HTTP_HEAD_MAX - HTTP_BODY_ROOM, 1, 5 },
        { "a head leaving less, Content-Length", 5, 0, 0, HTTP_HEAD_MAX - HTTP_BODY_ROOM + 1, 0, 0 },
        { "a head leaving HTTP_BODY_ROOM, chunked", -1, 5, 1, HTTP_HEAD_MAX - HTTP_BODY_ROOM, 1, 3 + 5 + 2 + 5 },
        { "a head leaving less, chunked", -1, 5, 1, HTTP_HEAD_MAX - HTTP_BODY_ROOM + 1, 0, 0 },
    };
    static const size_t steps[] = { 0, 1, 7, 1000 };
    size_t cap = 0x100000 + 80000 + HTTP_HEAD_MAX; /* the longest case, a 1 MiB chunk, and its framing */
    char *in = malloc(cap), *buf = malloc(HTTP_HEAD_MAX), *next = malloc(cap);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t head_len, len = big_request(in, cases[i].content_length, cases[i].chunk, cases[i].chunks, cases[i].head,
                                           &head_len);
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            struct http_request r, n;
            size_t have, taken, removed;
            char detail[300];
            enum http_status st = serve_through(&r, buf, in, len, steps[s], &have, &taken, &removed);
            int ok = st == HTTP_OK && r.keep_alive == cases[i].keep_alive && r.body_unread == !cases[i].keep_alive &&
                     r.head_len == head_len &&
                     r.end + removed - r.head_len == cases[i].body_end && r.end <= have &&
                     memcmp(buf, in, head_len) == 0 && r.target.len == 4 &&
                     memcmp(buf + r.target.off, "/big", 4) == 0 &&
                     memcmp(buf + r.end, in + r.end + removed, have - r.end) == 0;
            if (ok && cases[i].keep_alive) { /* what follows is the pipelined request, whole */
                memcpy(next, buf + r.end, have - r.end);
                memcpy(next + have - r.end, in + taken, len - taken);
                size_t next_len = have - r.end + len - taken;
                ok = parse_in_steps(&n, next, next_len, 0) == HTTP_OK && n.end == next_len && n.target.len == 5 &&
                     memcmp(next + n.target.off, "/next", 5) == 0;
            }
            snprintf(detail, sizeof detail, "%s, step %zu: status %d keep-alive %d body end %zu, want 200 %d %zu",
                     cases[i].what, steps[s], (int)st, r.keep_alive, r.end + removed - r.head_len,
                     cases[i].keep_alive, cases[i].body_end);
            check(ok, "compact", detail);
        }
    }
    free(in);
    free(buf);
    free(next);
}

struct path_case {
    const char *target;
    enum http_status status;
    const char *path;
    const char *query;
};

static const struct path_case paths[] = {
    { "/", HTTP_OK, "/", "" },
    { "/a/b.txt", HTTP_OK, "/a/b.txt", "" },
    { "/a/b/", HTTP_OK, "/a/b/", "" },
    { "/a?x=1&y", HTTP_OK, "/a", "?x=1&y" },
    { "/a/?", HTTP_OK, "/a/", "?" },
    { "/a/./b", HTTP_OK, "/a/b", "" },
    { "/a/.", HTTP_OK, "/a/", "" },
    { "/a/b/..", HTTP_OK, "/a/", "" },
    { "/a/b/../c", HTTP_OK, "/a/c", "" },
    { "//a///b//", HTTP_OK, "/a/b/", "" },
    { "/./", HTTP_OK, "/", "" },
    { "/a/..", HTTP_OK, "/", "" },
    { "/%41%62", HTTP_OK, "/Ab", "" },
    { "/a%20b%c3%a9", HTTP_OK, "/a b\xc3\xa9", "" },
    { "/a%2fb", HTTP_OK, "/a/b", "" },
    { "/x/%2e%2e/y", HTTP_OK, "/y", "" },
    { "/x/..%2fy", HTTP_OK, "/y", "" },
    { "/..\\..\\etc/passwd", HTTP_OK, "/..\\..\\etc/passwd", "" },
    { "/%2e%2e%5c", HTTP_OK, "/..\\", "" },
    { "/a%3Fb?c", HTTP_OK, "/a?b", "?c" },
    { "http://host/a/b", HTTP_OK, "/a/b", "" },
    { "HTTP://host", HTTP_OK, "/", "" },
    { "http://host?q", HTTP_OK, "/", "?q" },
    { "https://host:8080/x?y", HTTP_OK, "/x", "?y" },
    { "/..", HTTP_BAD_REQUEST, NULL, NULL },
    { "/../etc/passwd", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a/../../b", HTTP_BAD_REQUEST, NULL, NULL },
    { "/%2e%2e/x", HTTP_BAD_REQUEST, NULL, NULL },
    { "/..%2f..%2fetc%2fpasswd", HTTP_BAD_REQUEST, NULL, NULL },
    { "/%2E%2E%2F", HTTP_BAD_REQUEST, NULL, NULL },
    { "http://host/../x", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a%00b", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a%zz", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a%2", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a%", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a%2?x", HTTP_BAD_REQUEST, NULL, NULL },
    { "a/b", HTTP_BAD_REQUEST, NULL, NULL },
    { "*", HTTP_BAD_REQUEST, NULL, NULL },
    { "", HTTP_BAD_REQUEST, NULL, NULL },
    { "?x", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a#b", HTTP_BAD_REQUEST, NULL, NULL },
    { "/a b", HTTP_BAD_REQUEST, NULL, NULL },
    { "ftp://host/x", HTTP_BAD_REQUEST, NULL, NULL },
    { "http://u@h/x", HTTP_BAD_REQUEST, NULL, NULL },
    { "http://u:p@h", HTTP_BAD_REQUEST, NULL, NULL },
    { "HTTPS://@h/", HTTP_BAD_REQUEST, NULL, NULL },
    { "http://h@/", HTTP_BAD_REQUEST, NULL, NULL },
    { "http://h/x@y", HTTP_OK, "/x@y", "" },
    { "http://h?u@h", HTTP_OK, "/", "?u@h" },
    { "/u@h/x", HTTP_OK, "/u@h/x", "" },
};

/* Target decoding and normalisation, the traversal forms included. */
static void test_paths(void)
{
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const struct path_case *t = &paths[i];
        size_t len = strlen(t->target), query = 0;
        char path[64], detail[256];
        enum http_status st = http_target_path(t->target, len, path, sizeof path, &query);
        int ok = st == t->status;
        if (ok && st == HTTP_OK)
            ok = strcmp(path, t->path) == 0 && strcmp(t->target + query, t->query) == 0;
        snprintf(detail, sizeof detail, "'%s': status %d path '%s', want %d '%s'", t->target, (int)st,
                 st == HTTP_OK ? path : "", (int)t->status, t->path ? t->path : "");
        check(ok, "target", detail);
    }
    char small[4];
    size_t query;
    check(http_target_path("/abcdef", 7, small, sizeof small, &query) == HTTP_URI_TOO_LONG, "target",
          "a path longer than the buffer: 414");
}

/* Dotfiles and dot-directories are hidden, /.well-known/ is not. */
static void test_hidden(void)
{
    static const struct { const char *path; int hidden; } cases[] = {
        { "/", 0 }, { "/a/b.txt", 0 }, { "/a.b/c", 0 }, { "/.git/config", 1 }, { "/.env", 1 },
        { "/a/.b/c", 1 }, { "/a/.", 1 }, { "/.well-known/x", 0 }, { "/.well-known/", 0 }, { "/.well-known", 0 },
        { "/.well-known/.x", 1 }, { "/.well-knownx/y", 1 }, { "/a/.well-known/x", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(http_path_hidden(cases[i].path) == cases[i].hidden, "hidden", cases[i].path);
}

/* The built-in MIME table, its default, and a system table that extends it without overriding it. */
static void test_mime(void)
{
    static const char *const cases[][2] = {
        { "/a.html", "text/html" }, { "/A.HTM", "text/html" }, { "/s.css", "text/css" },
        { "/a.js", "text/javascript" }, { "/m.mjs", "text/javascript" }, { "/d.json", "application/json" },
        { "/t.txt", "text/plain" }, { "/r.md", "text/markdown" }, { "/c.csv", "text/csv" },
        { "/x.xml", "application/xml" }, { "/i.svg", "image/svg+xml" }, { "/i.png", "image/png" },
        { "/i.jpg", "image/jpeg" }, { "/i.jpeg", "image/jpeg" }, { "/i.gif", "image/gif" },
        { "/i.webp", "image/webp" }, { "/i.avif", "image/avif" }, { "/favicon.ico", "image/vnd.microsoft.icon" },
        { "/w.wasm", "application/wasm" }, { "/d.pdf", "application/pdf" }, { "/v.mp4", "video/mp4" },
        { "/v.webm", "video/webm" }, { "/a.mp3", "audio/mpeg" }, { "/a.ogg", "audio/ogg" },
        { "/a.wav", "audio/wav" }, { "/f.woff", "font/woff" }, { "/f.woff2", "font/woff2" },
        { "/f.ttf", "font/ttf" }, { "/f.otf", "font/otf" }, { "/z.zip", "application/zip" },
        { "/z.tar.gz", "application/gzip" }, { "/z.tar", "application/x-tar" },
        { "/v.ts", "video/mp2t" }, { "/s.mid", "audio/midi" }, { "/s.MIDI", "audio/midi" },
        { "/feed.rss", "application/rss+xml" }, { "/app.js.map", "application/json" }, { "/m.cjs", "text/javascript" },
        { "/a.weba", "audio/webm" }, { "/live.m3u8", "application/vnd.apple.mpegurl" }, { "/c.vtt", "text/vtt" },
        { "/site.webmanifest", "application/manifest+json" },
        { "/noext", "application/octet-stream" }, { "/dir.html/noext", "application/octet-stream" },
        { "/x.unknown", "application/octet-stream" }, { "/trailing.", "application/octet-stream" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(strcmp(http_mime_type(NULL, cases[i][0]), cases[i][1]) == 0, "mime", cases[i][0]);

    char text[] = "# comment: text/x-bad bad\n"
                  "application/javascript\tjs es\r\n"
                  "application/epub+zip   epub\n"
                  "\n"
                  "text/x-typeless\n"
                  "audio/flac flac\n"
                  "application/vnd.oasis.opendocument.text  odt   # a comment: odm\n"
                  "text/x-last last";
    struct http_mime_entry entries[16];
    struct http_mime system = { entries, http_mime_index(text, entries, 16) };
    check(system.count == 6, "mime.types", "6 extensions indexed: comments skipped, also from mid-line");
    check(strcmp(http_mime_type(&system, "/x.odt"), "application/vnd.oasis.opendocument.text") == 0, "mime.types", "odt");
    check(strcmp(http_mime_type(&system, "/x.odm"), "application/octet-stream") == 0, "mime.types", "mid-line comment");
    check(strcmp(http_mime_type(&system, "/book.EPUB"), "application/epub+zip") == 0, "mime.types", "epub");
    check(strcmp(http_mime_type(&system, "/a.flac"), "audio/flac") == 0, "mime.types", "flac");
    check(strcmp(http_mime_type(&system, "/x.es"), "application/javascript") == 0, "mime.types", "es");
    check(strcmp(http_mime_type(&system, "/x.last"), "text/x-last") == 0, "mime.types", "a last line without newline");
    check(strcmp(http_mime_type(&system, "/x.js"), "text/javascript") == 0, "mime.types", "built-in js wins");
    check(strcmp(http_mime_type(&system, "/x.bad"), "application/octet-stream") == 0, "mime.types", "comment");
    char debian[] = "text/vnd.trolltech.linguist ts\napplication/x-rss+xml rss\naudio/sp-midi mid\n";
    struct http_mime_entry deb[4];
    struct http_mime deb_table = { deb, http_mime_index(debian, deb, 4) };
    check(strcmp(http_mime_type(&deb_table, "/a.ts"), "video/mp2t") == 0 &&
          strcmp(http_mime_type(&deb_table, "/a.rss"), "application/rss+xml") == 0 &&
          strcmp(http_mime_type(&deb_table, "/a.mid"), "audio/midi") == 0, "mime.types", "the web's types win over Debian's");
    struct http_mime_entry few[2];
    char again[] = "a/b x y z\n";
    check(http_mime_index(again, few, 2) == 2, "mime.types", "at most max entries");

    char dups[300] = "text/x-first sh\napplication/x-second SH csh\n";
    size_t n = strlen(dups);
    memset(dups + n, 't', HTTP_MIME_TYPE_MAX + 1);
    strcpy(dups + n + HTTP_MIME_TYPE_MAX + 1, " long\n");
    struct http_mime_entry d[8];
    struct http_mime dup_table = { d, http_mime_index(dups, d, 8) };
    check(dup_table.count == 2, "mime.types", "a repeated extension is kept once; an over-long type is skipped");
    check(strcmp(http_mime_type(&dup_table, "/run.sh"), "text/x-first") == 0, "mime.types", "the first type wins");
    check(strcmp(http_mime_type(&dup_table, "/x.long"), "application/octet-stream") == 0, "mime.types",
          "a type longer than HTTP_MIME_TYPE_MAX is not used");
}

/* HTTP and log dates, including the far past and a time too large to format. */
static void test_dates(void)
{
    char d[HTTP_DATE_SIZE], l[HTTP_LOG_DATE_SIZE];
    http_format_date(d, 784111777);
    check(strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT") == 0, "date", d);
    http_format_date(d, 0);
    check(strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT") == 0, "date", d);
    http_format_date(d, 4102444799);
    check(strcmp(d, "Thu, 31 Dec 2099 23:59:59 GMT") == 0, "date", d);
    http_format_date(d, (time_t)1 << 50);
    check(strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT") == 0, "date", "unrepresentable year falls back to the epoch");
    http_format_date(d, -70000000000LL);
    check(strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT") == 0, "date", "a year before 0 falls back to the epoch");
    http_format_log_date(l, 784111777);
    check(strcmp(l, "06/Nov/1994:08:49:37 +0000") == 0, "log date", l);
}

#define NOW 1795737600 /* 2026-11-27: two-digit years up to 76 are 20xx, from 77 on 19xx */

/* Dates in the three HTTP forms, and the malformed ones that must be ignored. */
static void test_date_parsing(void)
{
    static const struct { const char *text; int ok; long long when; } cases[] = {
        { "Sun, 06 Nov 1994 08:49:37 GMT", 1, 784111777 },
        { "Sunday, 06-Nov-94 08:49:37 GMT", 1, 784111777 },
        { "Sun Nov  6 08:49:37 1994", 1, 784111777 },
        { "Wed Nov 16 08:49:37 1994", 1, 784975777 },
        { "Thu, 01 Jan 1970 00:00:00 GMT", 1, 0 },
        { "Mon, 01 Jan 1900 00:00:00 GMT", 1, -2208988800LL },
        { "Fri, 31 Dec 9999 23:59:59 GMT", 1, 253402300799LL },
        { "Tue, 19 Jan 2038 03:14:07 GMT", 1, 2147483647LL },
        { "Tue, 19 Jan 2038 03:14:08 GMT", 1, 2147483648LL },
        { "Tue Jan 19 03:14:08 2038", 1, 2147483648LL },
        { "Sun, 01 Jan 2040 00:00:00 GMT", 1, 2208988800LL },
        { "Fri, 01 Jan 2100 00:00:00 GMT", 1, 4102444800LL },
        { "Thu, 01 Jan 1885 00:00:00 GMT", 1, -2682288000LL },
        { "Thu Jan  1 00:00:00 1885", 1, -2682288000LL },
        { "Sat, 01 Jan 0000 00:00:00 GMT", 1, -62167219200LL },
        { "Thursday, 01-Jan-70 00:00:00 GMT", 1, 3155760000LL },
        { "Saturday, 01-Jan-77 00:00:00 GMT", 1, 220924800 },
        { "Sun, 29 Feb 2004 00:00:00 GMT", 1, 1078012800 },
        { "Tue, 29 Feb 2000 12:00:00 GMT", 1, 951825600 },
        { "Sat, 29 Feb 2003 00:00:00 GMT", 0, 0 },
        { "Mon, 29 Feb 1900 00:00:00 GMT", 0, 0 },
        { "Sun, 31 Apr 2004 00:00:00 GMT", 0, 0 },
        { "Sun, 00 Nov 1994 08:49:37 GMT", 0, 0 },
        { "Sun, 06 Nov 1994 24:00:00 GMT", 0, 0 },
        { "Sun, 06 Nov 1994 08:60:00 GMT", 0, 0 },
        { "Sun, 06 Nov 1994 08:49:37 UTC", 0, 0 },
        { "Sun, 6 Nov 1994 08:49:37 GMT", 0, 0 },
        { "Sun, 06 Nov 1994 08:49:37 GMT ", 0, 0 },
        { "Xyz, 06 Nov 1994 08:49:37 GMT", 0, 0 },
        { "Sun, 06 Foo 1994 08:49:37 GMT", 0, 0 },
        { "sun, 06 nov 1994 08:49:37 gmt", 0, 0 },
        { "Sun, 06 Nov 94 08:49:37 GMT", 0, 0 },
        { "Sun, 06 Nov 1994 08-49-37 GMT", 0, 0 },
        { "Sun, 06 Nov +994 08:49:37 GMT", 0, 0 },
        { "Sunday, 06-Nov-1994 08:49:37 GMT", 0, 0 },
        { "Sun, 06-Nov-94 08:49:37 GMT", 0, 0 },
        { "Sun Nov 6 08:49:37 1994", 0, 0 },
        { "", 0, 0 },
        { "1994-11-06T08:49:37Z", 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        time_t t = 12345;
        long long want = cases[i].when; /* a 32-bit time_t holds the nearest time it can, never a wrapped one */
        if (sizeof(time_t) < 8)
            want = want > 2147483647LL ? 2147483647LL : want < -2147483647LL - 1 ? -2147483647LL - 1 : want;
        int ok = http_parse_date(cases[i].text, strlen(cases[i].text), NOW, &t);
        check(ok == cases[i].ok && (!ok || (long long)t == want), "date parse", cases[i].text);
    }
}

/* If-None-Match lists under weak comparison. */
static void test_etag_match(void)
{
    static const struct { const char *list; int match; } cases[] = {
        { "\"abc\"", 1 }, { "W/\"abc\"", 1 }, { "\"x\", \"abc\"", 1 }, { "\"x\",W/\"abc\"", 1 },
        { ", ,\"abc\"", 1 }, { "\"x\",\"y\"", 0 }, { "*", 1 }, { " * ", 1 }, { "*, \"x\"", 0 },
        { "abc", 0 }, { "\"abc", 0 }, { "\"ab c\"", 0 }, { "", 0 }, { "\"abcd\"", 0 },
        { "\"x\" junk, \"abc\"", 0 }, { "w/\"abc\"", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(http_etag_match(cases[i].list, strlen(cases[i].list), "\"abc\"", 0) == cases[i].match, "etag match",
              cases[i].list);
    char etag[HTTP_ETAG_SIZE];
    http_format_etag(etag, 0xffffffffffffffffULL, 5368709120LL, 1795737600123456789ULL);
    check(strcmp(etag, "\"ffffffffffffffff-140000000-18ebbdd5452bcd15\"") == 0, "etag format", etag);
}

/* Range values against a file size: forms, clamping, unsatisfiable, and what is ignored. */
static void test_ranges(void)
{
    static const struct { const char *v; long long size; enum http_status status; long long first, last; } cases[] = {
        { "bytes=0-0", 1000, 206, 0, 0 }, { "bytes=0-499", 1000, 206, 0, 499 }, { "bytes=500-", 1000, 206, 500, 999 },
        { "bytes=-200", 1000, 206, 800, 999 }, { "bytes=-2000", 1000, 206, 0, 999 },
        { "bytes=900-5000", 1000, 206, 900, 999 }, { "bytes=999-999", 1000, 206, 999, 999 },
        { "Bytes=1-2", 1000, 206, 1, 2 }, { "bytes= 1-2", 1000, 206, 1, 2 }, { "bytes=1-2 ,", 1000, 206, 1, 2 },
        { "bytes=0-99999999999999999999", 1000, 206, 0, 999 }, { "bytes=-99999999999999999999", 1000, 206, 0, 999 },
        { "bytes=4294967295-4294967296", 5368709120LL, 206, 4294967295LL, 4294967296LL },
        { "bytes=2147483647-", 5368709120LL, 206, 2147483647LL, 5368709119LL },
        { "bytes=1000-", 1000, 416, 0, 0 }, { "bytes=1000-2000", 1000, 416, 0, 0 }, { "bytes=-0", 1000, 416, 0, 0 },
        { "bytes=0-", 0, 416, 0, 0 }, { "bytes=-5", 0, 200, 0, 0 },
        { "bytes=-0", 0, 416, 0, 0 }, { "bytes=0-0", 0, 416, 0, 0 },
        { "bytes=99999999999999999999-", 1000, 416, 0, 0 },
        { "bytes=5-3", 1000, 200, 0, 0 }, { "", 1000, 200, 0, 0 }, { "bytes=", 1000, 200, 0, 0 },
        { "bytes=-", 1000, 200, 0, 0 }, { "bytes=a-b", 1000, 200, 0, 0 }, { "bytes=0-5,10-20", 1000, 200, 0, 0 },
        { "bytes=0-5, 1000-", 1000, 200, 0, 0 }, { "bytes=0 -5", 1000, 200, 0, 0 }, { "bytes=0- 5", 1000, 200, 0, 0 },
        { "items=0-5", 1000, 200, 0, 0 }, { "bytes=--5", 1000, 200, 0, 0 }, { "bytes=0-5-6", 1000, 200, 0, 0 },
        { "bytes 0-5", 1000, 200, 0, 0 }, { "bytes=+1-2", 1000, 200, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long first = -7, last = -7;
        enum http_status st = http_parse_range(cases[i].v, strlen(cases[i].v), cases[i].size, &first, &last);
        char detail[128];
        snprintf(detail, sizeof detail, "'%s' of %lld: %d %lld-%lld", cases[i].v, cases[i].size, (int)st, first, last);
        check(st == cases[i].status && (st != 206 || (first == cases[i].first && last == cases[i].last)), "range",
              detail);
    }
}

/* Accept-Encoding against the representations there are: q-values first, then the fewest bytes, then the order. */
static void test_choose_coding(void)
{
    static const long long gzip_only[HTTP_CODINGS] = { 1000, -1, -1, 400 };
    static const struct { const char *v; int gzip; } was_accepts_gzip[] = { /* gzip chosen where it was accepted */
        { "gzip", 1 }, { "gzip, deflate, br", 1 }, { "deflate", 0 }, { "*", 1 }, { "gzip;q=0", 0 },
        { "gzip;q=0.000", 0 }, { "gzip; q=0.5", 1 }, { "gzip;Q=1.0", 1 }, { "*;q=0, gzip", 1 }, { "gzip;q=0, *", 0 },
        { "x-gzip", 1 }, { "GZIP", 1 }, { "identity", 0 }, { "", 0 }, { "br;q=1, gzip;q=0.001", 1 },
        { "gzip;level=1", 1 }, { "gzip;q=abc", 0 }, { "gzipx", 0 }, { "*;q=0", 0 }, { " , gzip ,", 1 },
    };
    for (size_t i = 0; i < sizeof was_accepts_gzip / sizeof was_accepts_gzip[0]; i++)
        check(http_choose_coding(was_accepts_gzip[i].v, strlen(was_accepts_gzip[i].v), gzip_only) ==
              (was_accepts_gzip[i].gzip ? HTTP_CODING_GZIP : HTTP_CODING_IDENTITY), "accept-encoding", was_accepts_gzip[i].v);
    static const struct { const char *v; long long size[HTTP_CODINGS]; enum http_coding want; } cases[] = {
        { "br, gzip", { 1000, 500, -1, 400 }, HTTP_CODING_GZIP },          /* .br larger than .gz: gzip */
        { "gzip, br", { 1000, 300, -1, 400 }, HTTP_CODING_BR },
        { "br;q=0.9, gzip;q=0.8", { 1000, 500, -1, 400 }, HTTP_CODING_BR }, /* the weight before the size */
        { "br;q=0.5, gzip", { 1000, 300, -1, 400 }, HTTP_CODING_GZIP },
        { "gzip;q=0.5", { 1000, -1, -1, 400 }, HTTP_CODING_GZIP },        /* identity unlisted: the lowest weight */
        { "identity;q=0.6, gzip;q=0.5", { 1000, -1, -1, 400 }, HTTP_CODING_IDENTITY },
        { "gzip, identity", { 100, -1, -1, 400 }, HTTP_CODING_GZIP },     /* a sibling before the file itself */
        { "gzip;q=0.5, identity", { 100, -1, -1, 400 }, HTTP_CODING_IDENTITY }, /* unless weighed higher */
        { "zstd, br, gzip", { 1000, 300, 300, 300 }, HTTP_CODING_BR },    /* a tie: the enum's order */
        { "gzip", { 400, -1, -1, 900 }, HTTP_CODING_GZIP },
        { "br", { 1000, -1, -1, 400 }, HTTP_CODING_IDENTITY },            /* no .br */
        { "identity;q=0", { 1000, -1, -1, -1 }, HTTP_CODING_IDENTITY },   /* nothing acceptable: identity */
        { "identity;q=0, gzip;q=0.1", { 1000, -1, -1, 400 }, HTTP_CODING_GZIP },
        { "identity;q=0, gzip;q=0", { 1000, -1, -1, 400 }, HTTP_CODING_IDENTITY },
        { "*;q=0", { 1000, 300, 300, 400 }, HTTP_CODING_IDENTITY },
        { "*;q=0, br", { 1000, 300, 300, 400 }, HTTP_CODING_BR },
        { "*;q=0, identity", { 1000, 300, 300, 400 }, HTTP_CODING_IDENTITY },
        { "*", { 1000, 300, 200, 400 }, HTTP_CODING_ZSTD },
        { "*;q=0.5, br", { 1000, 300, 200, 400 }, HTTP_CODING_BR },
        { "x-gzip", { 1000, 300, -1, 400 }, HTTP_CODING_GZIP },
        { "X-Gzip;q=1", { 1000, -1, -1, 400 }, HTTP_CODING_GZIP },
        { "", { 1000, 300, 200, 400 }, HTTP_CODING_IDENTITY },            /* an empty value: identity only */
        { "gzip;q=1.001", { 1000, -1, -1, 400 }, HTTP_CODING_IDENTITY },  /* invalid q-values count as 0 */
        { "gzip;q=0.0001", { 1000, -1, -1, 400 }, HTTP_CODING_IDENTITY },
        { "gzip;q=.5", { 1000, -1, -1, 400 }, HTTP_CODING_IDENTITY },
        { "gzip;q=", { 1000, -1, -1, 400 }, HTTP_CODING_IDENTITY },
        { "gzip;q=0.001", { 1000, -1, -1, 400 }, HTTP_CODING_GZIP },
        { "gzip;q=1.000", { 1000, -1, -1, 400 }, HTTP_CODING_GZIP },
        { "gzip;a=\"x;q=0, y\", br;q=0", { 1000, 300, -1, 400 }, HTTP_CODING_GZIP }, /* a quoted ';' and ',' */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(http_choose_coding(cases[i].v, strlen(cases[i].v), cases[i].size) == cases[i].want, "coding",
              cases[i].v);
    static const long long all[HTTP_CODINGS] = { 1000, 10, 10, 10 };
    check(http_choose_coding(NULL, 0, all) == HTTP_CODING_IDENTITY, "coding", "no Accept-Encoding: identity");
    check(strcmp(http_coding_suffix(HTTP_CODING_IDENTITY), "") == 0 && strcmp(http_coding_suffix(HTTP_CODING_BR), ".br") == 0 &&
          strcmp(http_coding_suffix(HTTP_CODING_ZSTD), ".zst") == 0 && strcmp(http_coding_suffix(HTTP_CODING_GZIP), ".gz") == 0,
          "coding", "suffixes");
}

#define E1 "\"e1-3e8-0\""      /* the entity tag of the_file: inode 0xe1, 1000 bytes, mtime_ns 0 */
#define FILE_TIME 784111777    /* Sun, 06 Nov 1994 08:49:37 GMT */

/* A file of 1000 bytes, last modified at FILE_TIME, with no sibling. */
static struct http_found a_file(time_t mtime)
{
    return (struct http_found){ .status = HTTP_OK, .type = "text/plain", .cache_control = "no-cache",
                                .variant = { { 1000, 0xe1, 0, mtime }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 } } };
}

/* Parses a GET of /f with the given fields and decides it about found, at now. */
static enum http_status decide_fields(const char *fields, const struct http_found *found, time_t now,
                                      struct http_reply *out)
{
    static char raw[512];
    struct http_request r;
    int n = snprintf(raw, sizeof raw, "GET /f HTTP/1.1\r\nHost: h\r\n%s\r\n", fields);
    if (parse_in_steps(&r, raw, (size_t)n, 1) != HTTP_OK)
        return HTTP_NEED_MORE;
    http_decide(&r, raw, found, now, 1, out);
    return out->head.status;
}

/* The decision about a file, as http_file_status made it: validators, their precedence, If-Range, then Range. */
static void test_file_status(void)
{
    static const struct { const char *fields; enum http_status status; } cases[] = {
        { "", 200 },
        { "If-None-Match: " E1 "\r\n", 304 },
        { "If-None-Match: W/" E1 "\r\n", 304 },
        { "If-None-Match: \"e0\", " E1 "\r\n", 304 },
        { "If-None-Match: *\r\n", 304 },
        { "If-None-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 200 },
        { "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 304 },
        { "If-Modified-Since: Sunday, 06-Nov-94 08:49:38 GMT\r\n", 304 },
        { "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200 },
        { "If-Modified-Since: yesterday\r\n", 200 },
        { "Range: bytes=0-9\r\n", 206 },
        { "Range: bytes=2000-\r\n", 416 },
        { "Range: bytes=0-9\r\nIf-Range: " E1 "\r\n", 206 },
        { "Range: bytes=0-9\r\nIf-Range: \"e2\"\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: W/" E1 "\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 206 },
        { "Range: bytes=0-9\r\nIf-Range: Sun, 06 Nov 1994 08:49:38 GMT\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: garbage\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: \"e0\", " E1 "\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: " E1 "\r\nIf-Range: " E1 "\r\n", 200 },
        { "If-None-Match: " E1 "\r\nIf-None-Match: " E1 "\r\n", 200 },
        { "If-None-Match: \"e0\"\r\nIf-None-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
          200 },
        { "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
          200 },
        { "Range: bytes=0-9\r\nIf-Range:\r\n", 200 },
        { "If-Range: " E1 "\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-None-Match: " E1 "\r\n", 304 },
        { "range: bytes=3-4\r\nRANGE: bytes=0-9\r\n", 200 },
        { "Range: bytes=0-9\r\nX: y\r\nRange: bytes=0-9\r\nRange: bytes=0-9\r\n", 200 },
        /* preconditions: If-Match (strong), else If-Unmodified-Since, both before the others (412 first) */
        { "If-Match: " E1 "\r\n", 200 },
        { "If-Match: \"e2\"\r\n", 412 },
        { "If-Match: W/" E1 "\r\n", 412 },
        { "If-Match: *\r\n", 200 },
        { "If-Match: \"e0\", " E1 "\r\n", 200 },
        { "If-Match: \"e0\", W/" E1 "\r\n", 412 },
        { "If-Match: garbage\r\n", 412 },
        { "If-Match:\r\n", 412 },
        { "If-Match: " E1 "\r\nIf-Match: " E1 "\r\n", 412 },
        { "if-match: \"e0\"\r\nIF-MATCH: " E1 "\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 200 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\n", 200 },
        { "If-Unmodified-Since: Sun Nov  6 08:49:36 1994\r\n", 412 },
        { "If-Unmodified-Since: yesterday\r\n", 200 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n"
          "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200 },
        { "If-Match: " E1 "\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200 },
        { "If-Match: \"e2\"\r\nIf-None-Match: " E1 "\r\n", 412 },
        { "If-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\nIf-None-Match: " E1 "\r\n", 412 },
        { "If-Match: " E1 "\r\nIf-None-Match: " E1 "\r\n", 304 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-None-Match: *\r\n", 304 },
        { "If-Match: " E1 "\r\nRange: bytes=0-9\r\n", 206 },
        { "If-Match: *\r\nRange: bytes=0-9\r\nIf-Range: " E1 "\r\n", 206 },
        { "If-Match: \"e2\"\r\nRange: bytes=0-9\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\nRange: bytes=0-9\r\n", 206 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\nRange: bytes=2000-\r\n", 412 },
    };
    struct http_found file = a_file(FILE_TIME);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_reply out;
        enum http_status st = decide_fields(cases[i].fields, &file, NOW, &out);
        int ok = st == cases[i].status && (st != 206 || (out.first == 0 && out.last == 9)) &&
                 (st == 200 || st == 206 ? out.body && !out.page && out.head.content_length == out.last - out.first + 1
                  : st == 304 ? !out.body && !out.page : out.body && out.page);
        check(ok, "file status", cases[i].fields[0] ? cases[i].fields : "(no fields)");
    }
}

/* If-Range dates, and preconditions on dates past 2038 and before 1970. */
static void test_file_dates(void)
{
    static const struct { const char *fields; time_t mtime, now; enum http_status status; } dates[] = {
        { "Range: bytes=0-9\r\nIf-Range: Wed, 01 Jan 2020 12:00:00 GMT\r\n", 1577880000, NOW, 206 },
        { "Range: bytes=0-9\r\nIf-Range: Wednesday, 01-Jan-20 12:00:00 GMT\r\n", 1577880000, NOW, 206 },
        { "Range: bytes=0-9\r\nIf-Range: Wed Jan  1 12:00:00 2020\r\n", 1577880000, NOW, 206 },
        { "Range: bytes=0-9\r\nIf-Range: Fri, 27 Nov 2026 00:00:00 GMT\r\n", NOW, NOW, 200 }, /* this second: weak */
        { "Range: bytes=0-9\r\nIf-Range: Thu, 26 Nov 2026 23:59:59 GMT\r\n", NOW - 1, NOW, 206 },
        /* dates past 2038, and before 1970 */
        { "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n", 2208988800LL, 2240611200LL, 304 },
        { "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n", 2208988800LL, NOW, 304 },
        { "If-Modified-Since: Sun, 01 Jan 2040 00:00:00 GMT\r\n", 2208988801LL, 2240611200LL, 200 },
        { "If-Modified-Since: Tue, 19 Jan 2038 03:14:07 GMT\r\n", 2147483648LL, 2240611200LL, 200 },
        { "If-Modified-Since: Tue, 19 Jan 2038 03:14:08 GMT\r\n", 2147483648LL, 2240611200LL, 304 },
        { "If-Unmodified-Since: Sat, 01 Jan 2039 00:00:00 GMT\r\n", 1780315200, NOW, 200 },
        { "If-Unmodified-Since: Mon, 01 Jan 1900 00:00:00 GMT\r\n", 1780315200, NOW, 412 },
        { "If-Modified-Since: Thu, 01 Jan 1885 00:00:00 GMT\r\n", 1780315200, NOW, 200 },
        { "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n", 1780315200, NOW, 304 },
        { "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n", 0, NOW, 304 },
        { "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n", 1, NOW, 200 },
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        struct http_reply out;
        struct http_found dated = a_file(dates[i].mtime);
        check(decide_fields(dates[i].fields, &dated, dates[i].now, &out) == dates[i].status, "file dates",
              dates[i].fields);
    }
    /* validators formatted already (a kept file) are used as they are, unless Date is earlier than the file */
    struct http_reply out;
    struct http_found kept = a_file(NOW - 10), future = a_file(NOW + 10);
    kept.variant[0].etag = future.variant[0].etag = "\"kept\"";
    kept.variant[0].modified = future.variant[0].modified = "Mon, 01 Jan 2001 00:00:00 GMT";
    char now_text[HTTP_DATE_SIZE];
    http_format_date(now_text, NOW);
    check(decide_fields("If-None-Match: \"kept\"\r\n", &kept, NOW, &out) == 304 &&
          strcmp(out.head.etag, "\"kept\"") == 0 && strcmp(out.head.last_modified, "Mon, 01 Jan 2001 00:00:00 GMT") == 0,
          "file dates", "a kept file's validators are used as formatted");
    check(decide_fields("", &future, NOW, &out) == 200 && strcmp(out.head.last_modified, now_text) == 0,
          "file dates", "a future file's Last-Modified is Date, not its formatted date");
}

enum { F_FILE, F_CODINGS, F_LISTING, F_BUILDING, F_STATUS, F_404, F_404_HTML, F_401, F_403, F_405, F_301, F_FUTURE };

/* What the server may find: a file, one with siblings, generated bytes, errors, a redirect. */
static const struct http_found founds[] = {
    [F_FILE] = { HTTP_OK, "text/plain", { { 1000, 0xe1, 0, FILE_TIME }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 } },
                 0, NULL, "no-cache" },
    [F_CODINGS] = { HTTP_OK, "image/svg+xml", { { 1000, 0xa, 1, FILE_TIME }, { 300, 0xb, 2, FILE_TIME + 1 },
                                                { -1, 0, 0, 0 }, { 400, 0xc, 3, FILE_TIME + 2 } }, 0, NULL, "max-age=60" },
    [F_LISTING] = { HTTP_OK, "text/html", { { 1234, 0, 0, 0 }, { -1, 0, 0, 0 } }, 1, NULL, "no-cache" },
    [F_BUILDING] = { HTTP_OK, "text/html", { { -1, 0, 0, 0 }, { -1, 0, 0, 0 } }, 1, NULL, "no-cache" },
    [F_STATUS] = { HTTP_OK, "text/plain", { { 97, 0, 0, 0 }, { -1, 0, 0, 0 } }, 1, NULL, NULL },
    [F_404] = { HTTP_NOT_FOUND, NULL, { { -1, 0, 0, 0 } }, 0, NULL, "no-cache" },
    [F_404_HTML] = { HTTP_NOT_FOUND, "text/html", { { 50, 0, 0, 0 } }, 1, NULL, "no-cache" },
    [F_401] = { HTTP_UNAUTHORIZED, NULL, { { -1, 0, 0, 0 } }, 0, NULL, NULL },
    [F_403] = { HTTP_FORBIDDEN, NULL, { { -1, 0, 0, 0 } }, 0, NULL, NULL },
    [F_405] = { HTTP_METHOD_NOT_ALLOWED, NULL, { { -1, 0, 0, 0 } }, 0, NULL, NULL },
    [F_301] = { HTTP_MOVED_PERMANENTLY, NULL, { { -1, 0, 0, 0 } }, 0, "/d/?q=1", "no-cache" },
    [F_FUTURE] = { HTTP_OK, "application/pdf", { { 5, 1, 1, NOW + 3600 }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 }, { -1, 0, 0, 0 } },
                   0, NULL, NULL },
};

#define GET_F "GET /f HTTP/1.1\r\nHost: h\r\n"
#define HEAD_F "HEAD /f HTTP/1.1\r\nHost: h\r\n"
#define OPTIONS_F "OPTIONS /f HTTP/1.1\r\nHost: h\r\n"
#define CODINGS_HEAD "Content-Type: image/svg+xml\r|Cache-Control: max-age=60|Vary: Accept-Encoding|Accept-Ranges: bytes"

/* A request, what was found for it, and the reply: its status, page and body, bytes, and what its head says. */
static const struct decide_case {
    const char *request;
    int found, keep_alive;
    enum http_status status;
    int page, body;
    enum http_coding coding;
    long long first, last;
    const char *has, *lacks; /* '|' between them: text the head holds, and field names it must not have */
} decides[] = {
    { GET_F "\r\n", F_FILE, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 999,
      "Content-Type: text/plain; charset=utf-8|Content-Length: 1000|ETag: " E1 "|Accept-Ranges: bytes|"
      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT|Cache-Control: no-cache", "Vary|Content-Encoding|Connection|Allow" },
    { HEAD_F "\r\n", F_FILE, 1, 200, 0, 0, HTTP_CODING_IDENTITY, 0, 999, "Content-Length: 1000|ETag: " E1, "Vary" },
    { HEAD_F "Range: bytes=0-9\r\n", F_FILE, 1, 200, 0, 0, HTTP_CODING_IDENTITY, 0, 999, "Content-Length: 1000",
      "Content-Range" },
    { GET_F "Range: bytes=0-9\r\n", F_FILE, 1, 206, 0, 1, HTTP_CODING_IDENTITY, 0, 9,
      "HTTP/1.1 206 Partial Content\r|Content-Length: 10|Content-Range: bytes 0-9/1000|ETag: " E1, "Vary" },
    { OPTIONS_F "\r\n", F_FILE, 1, 204, 0, 0, HTTP_CODING_IDENTITY, 0, -1, "HTTP/1.1 204 No Content\r|Allow: GET, HEAD, OPTIONS",
      "Content-Length|Content-Type|Cache-Control|ETag|Accept-Ranges|Last-Modified" },
    { OPTIONS_F "\r\n", F_301, 1, 204, 0, 0, HTTP_CODING_IDENTITY, 0, -1, "Allow: GET, HEAD, OPTIONS", "Location" },
    { OPTIONS_F "\r\n", F_404, 1, 404, 1, 1, HTTP_CODING_IDENTITY, 0, -1, "Content-Type: text/html; charset=utf-8", "Allow" },
    { "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", F_LISTING, 1, 204, 0, 0, HTTP_CODING_IDENTITY, 0, -1, "Allow", "Content-Type" },
    /* codings: the sibling chosen gives its own ETag and Last-Modified; Vary on every answer about the file */
    { GET_F "Accept-Encoding: gzip, br\r\n", F_CODINGS, 1, 200, 0, 1, HTTP_CODING_BR, 0, 299,
      CODINGS_HEAD "|Content-Encoding: br|Content-Length: 300|ETag: \"b-12c-2\"|Last-Modified: Sun, 06 Nov 1994 08:49:38 GMT",
      "Content-Range" },
    { GET_F "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n", F_CODINGS, 1, 206, 0, 1, HTTP_CODING_GZIP, 0, 9,
      CODINGS_HEAD "|Content-Encoding: gzip|Content-Length: 10|Content-Range: bytes 0-9/400|ETag: \"c-190-3\"", "" },
    { GET_F "\r\n", F_CODINGS, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 999,
      CODINGS_HEAD "|Content-Length: 1000|ETag: \"a-3e8-1\"", "Content-Encoding" },
    { GET_F "Accept-Encoding: gzip\r\nAccept-Encoding: br\r\n", F_CODINGS, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 999,
      CODINGS_HEAD "|ETag: \"a-3e8-1\"", "Content-Encoding" },
    { GET_F "Accept-Encoding: gzip\r\nIf-None-Match: \"c-190-3\"\r\n", F_CODINGS, 1, 304, 0, 0, HTTP_CODING_GZIP, 0, 399,
      "HTTP/1.1 304 Not Modified\r|Vary: Accept-Encoding|ETag: \"c-190-3\"|Cache-Control: max-age=60|Accept-Ranges: bytes",
      "Content-Length|Content-Type|Content-Encoding" },
    { GET_F "Accept-Encoding: gzip\r\nIf-None-Match: \"a-3e8-1\"\r\n", F_CODINGS, 1, 200, 0, 1, HTTP_CODING_GZIP, 0, 399,
      "Content-Encoding: gzip", "" },
    { GET_F "Accept-Encoding: gzip\r\nRange: bytes=400-\r\n", F_CODINGS, 1, 416, 1, 1, HTTP_CODING_GZIP, 0, 399,
      "Content-Range: bytes */400|Vary: Accept-Encoding|ETag: \"c-190-3\"|Content-Type: text/html; charset=utf-8",
      "Cache-Control|Content-Encoding" },
    /* failed preconditions and ranges: a page, the validators kept, no Cache-Control */
    { GET_F "If-Match: \"e2\"\r\n", F_FILE, 1, 412, 1, 1, HTTP_CODING_IDENTITY, 0, 999,
      "ETag: " E1 "|Last-Modified|Accept-Ranges|Content-Type: text/html; charset=utf-8", "Cache-Control|Content-Range" },
    { HEAD_F "If-Match: \"e2\"\r\n", F_FILE, 1, 412, 1, 0, HTTP_CODING_IDENTITY, 0, 999, "ETag: " E1, "Cache-Control" },
    { GET_F "Range: bytes=2000-\r\n", F_FILE, 1, 416, 1, 1, HTTP_CODING_IDENTITY, 0, 999, "Content-Range: bytes */1000|ETag",
      "Cache-Control" },
    /* errors and redirects: a page; 404.html's bytes when there are */
    { GET_F "\r\n", F_404, 1, 404, 1, 1, HTTP_CODING_IDENTITY, 0, -1, "HTTP/1.1 404 Not Found\r",
      "Cache-Control|ETag|Last-Modified|Allow|Location|WWW-Authenticate" },
    { HEAD_F "\r\n", F_404, 1, 404, 1, 0, HTTP_CODING_IDENTITY, 0, -1, "Content-Length", "Cache-Control" },
    { GET_F "\r\n", F_404_HTML, 1, 404, 0, 1, HTTP_CODING_IDENTITY, 0, 49,
      "Content-Length: 50|Content-Type: text/html; charset=utf-8", "Cache-Control|ETag" },
    { HEAD_F "\r\n", F_404_HTML, 1, 404, 0, 0, HTTP_CODING_IDENTITY, 0, 49, "Content-Length: 50", "Cache-Control" },
    { GET_F "\r\n", F_401, 1, 401, 1, 1, HTTP_CODING_IDENTITY, 0, -1,
      "WWW-Authenticate: Basic realm=\"" HTTP_AUTH_REALM "\"", "Allow" },
    { GET_F "\r\n", F_403, 1, 403, 1, 1, HTTP_CODING_IDENTITY, 0, -1, "HTTP/1.1 403 Forbidden\r", "Allow|WWW-Authenticate" },
    { "POST /f HTTP/1.1\r\nHost: h\r\n\r\n", F_405, 1, 405, 1, 1, HTTP_CODING_IDENTITY, 0, -1,
      "Allow: GET, HEAD, OPTIONS", "Cache-Control" },
    { GET_F "\r\n", F_301, 1, 301, 1, 1, HTTP_CODING_IDENTITY, 0, -1, "Location: /d/?q=1", "Cache-Control" },
    /* generated bytes: no validators, ranges or codings */
    { GET_F "Range: bytes=0-9\r\nAccept-Encoding: gzip\r\n", F_LISTING, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 1233,
      "Content-Length: 1234|Content-Type: text/html; charset=utf-8|Cache-Control: no-cache",
      "ETag|Last-Modified|Accept-Ranges|Vary|Content-Range|Content-Encoding" },
    { HEAD_F "\r\n", F_LISTING, 1, 200, 0, 0, HTTP_CODING_IDENTITY, 0, 1233, "Content-Length: 1234", "ETag" },
    { GET_F "\r\n", F_BUILDING, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, -2, "Content-Type: text/html", "Content-Length" },
    { HEAD_F "\r\n", F_BUILDING, 1, 200, 0, 0, HTTP_CODING_IDENTITY, 0, -2, "Cache-Control", "Content-Length" },
    { GET_F "\r\n", F_STATUS, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 96, "Content-Type: text/plain; charset=utf-8\r",
      "Cache-Control" },
    /* the connection */
    { "GET /f HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", F_FILE, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 999,
      "Connection: keep-alive", "" },
    { "GET /f HTTP/1.0\r\n\r\n", F_FILE, 0, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 999, "Connection: close", "" },
    { GET_F "Connection: close\r\n\r\n", F_404, 0, 404, 1, 1, HTTP_CODING_IDENTITY, 0, -1, "Connection: close", "" },
    { GET_F "\r\n", F_FUTURE, 1, 200, 0, 1, HTTP_CODING_IDENTITY, 0, 4,
      "Last-Modified: Fri, 27 Nov 2026 00:00:00 GMT|Content-Type: application/pdf\r", "Cache-Control" },
};

/* Says whether a head holds each '|'-separated text of has, and no field named in lacks. */
static int head_says(const char *head, const char *has, const char *lacks)
{
    char want[256];
    for (int lacking = 0; lacking < 2; lacking++)
        for (const char *p = lacking ? lacks : has; *p != '\0';) {
            size_t n = strcspn(p, "|");
            snprintf(want, sizeof want, lacking ? "\r\n%.*s:" : "%.*s", (int)n, p);
            if ((strstr(head, want) != NULL) == lacking)
                return 0;
            p += n + (p[n] == '|');
        }
    return 1;
}

/* http_decide on every case, its head written as the server writes it, and checked. */
static void test_decide(void)
{
    for (size_t i = 0; i < sizeof decides / sizeof decides[0]; i++) {
        const struct decide_case *t = &decides[i];
        struct http_request r;
        struct http_reply out;
        char text[2048], detail[2400];
        struct http_buf b = { text, 0, sizeof text - 1, 0 };
        parse_in_steps(&r, t->request, strlen(t->request), 0);
        http_decide(&r, t->request, &founds[t->found], NOW, t->keep_alive, &out);
        int ok = out.head.date == NULL && out.head.extra_fields == NULL;
        out.head.date = "D";
        size_t head_len = b.len;
        if (out.page)
            head_len = http_format_page(&b, &out.head, !out.body);
        else
            http_format_head(&b, &out.head);
        head_len = out.page ? head_len : b.len;
        text[b.len] = '\0';
        ok = ok && strstr(text, "\r\n\r\n") == text + head_len - 4 && (!out.page || !out.body ||
                                                                    (long long)(b.len - head_len) == out.head.content_length);
        text[head_len] = '\0';
        ok = ok && out.head.status == t->status && out.page == t->page && out.body == t->body &&
             out.coding == t->coding && out.first == t->first && out.last == t->last && head_says(text, t->has, t->lacks);
        if (t->status == 200 || t->status == 206) /* a file's bytes, or generated ones of known length */
            ok = ok && out.head.content_length == (t->last >= -1 ? t->last - t->first + 1 : -1);
        snprintf(detail, sizeof detail, "case %zu: %d page %d body %d coding %d %lld-%lld\n%s", i, (int)out.head.status,
                 out.page, out.body, (int)out.coding, out.first, out.last, text);
        check(ok, "decide", detail);
    }
}

/* Escaping for URLs, HTML and logs, and the buffer's overflow rule. */
static void test_escaping(void)
{
    char out[128];
    struct http_buf b = { out, 0, sizeof out - 1, 0 };
    http_buf_url(&b, "a b/%\xc3\xa9~.-_\"?#", 14);
    out[b.len] = '\0';
    check(strcmp(out, "a%20b/%25%C3%A9~.-_%22%3F%23") == 0, "url encode", out);

    b.len = 0;
    http_buf_html(&b, "<a href=\"x\">&'", 14);
    out[b.len] = '\0';
    check(strcmp(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;") == 0, "html escape", out);

    b.len = 0;
    http_buf_log(&b, "GET /\"\x1b[2J\n\\\xff", 13);
    out[b.len] = '\0';
    check(strcmp(out, "GET /\\x22\\x1B[2J\\x0A\\x5C\\xFF") == 0, "log escape", out);

    char tiny[4];
    struct http_buf t = { tiny, 0, sizeof tiny, 0 };
    http_buf_put(&t, "abc", 3);
    http_buf_put(&t, "de", 2);
    http_buf_put(&t, "f", 1);
    check(t.overflow && t.len == 3, "buffer", "a write that does not fit sets overflow and writes nothing more");
    t = (struct http_buf){ tiny, 0, sizeof tiny, 0 };
    http_buf_printf(&t, "%s", "abcd");
    check(t.overflow && t.len == 0, "buffer", "printf that does not fit (NUL included) overflows");
}

/* Response heads: http_format_head writes what the response says, whatever its status, and nothing else. */
static void test_heads(void)
{
    char out[1024];
    struct http_buf b = { out, 0, sizeof out - 1, 0 };
    struct http_response r = { .status = HTTP_OK, .date = "Sun, 06 Nov 1994 08:49:37 GMT", .content_type = "text/plain",
                               .charset = 1, .content_length = 5368709120LL, .last_modified = "Sun, 06 Nov 1994 08:49:37 GMT" };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strcmp(out, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: " HTTP_SERVER_NAME "\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5368709120\r\n"
                      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n") == 0,
          "head", out);

    b.len = 0;
    r = (struct http_response){ .status = HTTP_PARTIAL_CONTENT, .date = "D", .content_type = "text/css",
                                .content_length = 10, .content_encoding = "br", .etag = "\"e\"", .accept_ranges = 1,
                                .vary_encoding = 1, .content_range = 1, .range_first = 0, .range_last = 9,
                                .full_size = 300, .cache_control = "max-age=60", .extra_fields = "X-A: b\r\n" };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strcmp(out, "HTTP/1.1 206 Partial Content\r\nDate: D\r\nServer: " HTTP_SERVER_NAME "\r\n"
                      "Content-Type: text/css\r\nContent-Length: 10\r\nContent-Encoding: br\r\nETag: \"e\"\r\n"
                      "Accept-Ranges: bytes\r\nVary: Accept-Encoding\r\nCache-Control: max-age=60\r\n"
                      "Content-Range: bytes 0-9/300\r\nX-A: b\r\n\r\n") == 0, "head", out);

    b.len = 0;
    r = (struct http_response){ .status = HTTP_METHOD_NOT_ALLOWED, .date = "D", .content_length = -1, .close = 1 };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strcmp(out, "HTTP/1.1 405 Method Not Allowed\r\nDate: D\r\nServer: " HTTP_SERVER_NAME "\r\n"
                      "Connection: close\r\n\r\n") == 0, "head", "nothing tied to the status: no Allow unless asked");

    b.len = 0;
    r = (struct http_response){ .status = HTTP_NO_CONTENT, .date = "D", .content_length = -1, .allow = 1,
                                .authenticate = 1, .location = "/d/?q=1", .keep_alive_echo = 1, .content_range = 2,
                                .full_size = 7 };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strcmp(out, "HTTP/1.1 204 No Content\r\nDate: D\r\nServer: " HTTP_SERVER_NAME "\r\n"
                      "Content-Range: bytes */7\r\nLocation: /d/?q=1\r\nAllow: GET, HEAD, OPTIONS\r\n"
                      "WWW-Authenticate: Basic realm=\"" HTTP_AUTH_REALM "\", charset=\"UTF-8\"\r\n"
                      "Connection: keep-alive\r\n\r\n") == 0, "head", out);

    b.len = 0;
    char epoch[HTTP_DATE_SIZE];
    http_format_date(epoch, 0);
    r = (struct http_response){ .status = HTTP_OK, .date = "D", .last_modified = epoch, .content_length = 0 };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strstr(out, "\r\nLast-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n") && strstr(out, "\r\nContent-Length: 0\r\n"),
          "head", "Last-Modified at the epoch, Content-Length 0");

    b.len = 0;
    struct http_response page = { .status = HTTP_NOT_FOUND, .date = "D", .content_encoding = "gzip", .etag = "\"e\"" };
    size_t head_len = http_format_page(&b, &page, 0);
    out[b.len] = '\0';
    check(strstr(out, "<title>404 Not Found</title>") && strstr(out, "<h1>404 Not Found</h1>") &&
          strstr(out, "Content-Type: text/html; charset=utf-8\r\n") && head_len < b.len && strstr(out, "ETag: \"e\"\r\n") &&
          !strstr(out, "Content-Encoding") && memcmp(out + head_len - 4, "\r\n\r\n", 4) == 0 &&
          (long long)(b.len - head_len) == page.content_length, "page", out);

    size_t full = b.len;
    b.len = 0;
    page = (struct http_response){ .status = HTTP_NOT_FOUND, .date = "D", .etag = "\"e\"" };
    head_len = http_format_page(&b, &page, 1);
    check(head_len == b.len && full - b.len == (size_t)page.content_length, "page",
          "head only: the same head, the same Content-Length, no body");

    static const enum http_status statuses[] = { 200, 204, 206, 301, 304, 400, 401, 403, 404, 405, 408, 412, 414, 416,
                                                 431, 500, 501, 503, 505 };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        check(strcmp(http_reason(statuses[i]), "Unknown") != 0, "reason", http_reason(statuses[i]));
}

/* The status text: nginx's stub_status byte for byte, then the loop's own counts; any values fit. */
static void test_status(void)
{
    char out[HTTP_STATUS_TEXT_MAX + 1];
    struct http_buf b = { out, 0, HTTP_STATUS_TEXT_MAX, 0 };
    struct http_loop_status st = { 16630948, 16630948, 31070465, 6, 179, 106, 1234, 2, 3, 1 };
    http_format_status(&b, &st, 0);
    out[b.len] = '\0';
    check(strcmp(out, "Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \n"
                      "Reading: 6 Writing: 179 Waiting: 106 \n") == 0, "status", out);
    b.len = 0;
    http_format_status(&b, &st, 1);
    out[b.len] = '\0';
    check(strcmp(out, "Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \n"
                      "Reading: 6 Writing: 179 Waiting: 106 \nselect() rounds: 1234\nparked: 2\nclosing: 3\n"
                      "listings being built: 1\n") == 0, "status", out);
    st = (struct http_loop_status){ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    b.len = 0;
    http_format_status(&b, &st, 0);
    out[b.len] = '\0';
    check(strcmp(out, "Active connections: 0 \nserver accepts handled requests\n 0 0 0 \n"
                      "Reading: 0 Writing: 0 Waiting: 0 \n") == 0, "status", out);
    st = (struct http_loop_status){ ~0ULL, ~0ULL, ~0ULL, INT_MIN, INT_MIN, INT_MIN, ~0ULL, INT_MIN, INT_MIN, INT_MIN };
    b.len = 0;
    http_format_status(&b, &st, 1);
    check(!b.overflow, "status", "the longest values fit HTTP_STATUS_TEXT_MAX");
    st = (struct http_loop_status){ 0, 0, 0, INT_MAX, INT_MAX, INT_MAX, 0, 0, 0, 0 };
    b.len = 0;
    http_format_status(&b, &st, 0);
    out[b.len] = '\0';
    check(strncmp(out, "Active connections: 6442450941 \n", 32) == 0, "status", "the sum does not wrap");
}

static const struct http_order by_name = { 'N', 0 };

/* Writes one listing row for an entry of these values. */
static void put_row(struct http_buf *b, const char *name, int is_dir, long long size, time_t mtime)
{
    struct http_entry e = { name, is_dir, size, mtime };
    http_format_listing_row(b, &e);
}

/* Directory listing rows: names escaped in the text and encoded in the link. */
static void test_listing(void)
{
    char out[HTTP_LISTING_ROW_MAX];
    struct http_buf b = { out, 0, sizeof out - 1, 0 };
    put_row(&b, "a <b>&\"c\".txt", 0, 1234, 784111777);
    out[b.len] = '\0';
    check(strstr(out, "href=\"./a%20%3Cb%3E%26%22c%22.txt\"") && strstr(out, ">a &lt;b&gt;&amp;&quot;c&quot;.txt<") &&
          strstr(out, "<td class=\"size\" title=\"1234 bytes\">1.2 KiB</td>") &&
          strstr(out, ">1994-11-06 08:49 UTC</td>"), "listing row", out);

    b.len = 0;
    put_row(&b, "sub", 1, 4096, 0);
    out[b.len] = '\0';
    check(strstr(out, "href=\"./sub/\">sub/</a>") && strstr(out, "<td class=\"size\">-</td>") && !strstr(out, "title"),
          "listing dir row", out);

    b.len = 0;
    http_format_listing_top(&b, "/", by_name);
    out[b.len] = '\0';
    check(strstr(out, "Index of /") && !strstr(out, "../") && strstr(out, "name=\"viewport\"") &&
          strstr(out, "<style>") && !strstr(out, "http:") && !strstr(out, "https:"), "listing top",
          "no ../ at the root; a viewport and an inline stylesheet, no external URL");
    b.len = 0;
    http_format_listing_top(&b, "/a&b/", by_name);
    out[b.len] = '\0';
    check(strstr(out, "Index of /a&amp;b/") && strstr(out, "href=\"../\""), "listing top", "../ below the root");
    b.len = 0;
    http_format_listing_top(&b, "/d\xe2\x80\xaex/", by_name);
    out[b.len] = '\0';
    check(strstr(out, "<title>Index of /d\\u202Ex/</title>") && strstr(out, "<h1>Index of /d<mark>\\u202E</mark>x/</h1>"),
          "listing top", "escapes in the title are plain text, marked in the heading");

    static char top[HTTP_LISTING_TOP_MAX(4000)];
    char worst[4001];
    memset(worst, 0x01, 4000); /* each byte shown as a marked \u0001, twice: 19 bytes each */
    worst[0] = '/';
    worst[4000] = '\0';
    struct http_buf t = { top, 0, sizeof top, 0 };
    http_format_listing_top(&t, worst, (struct http_order){ 'M', 1 });
    check(!t.overflow, "listing top", "the worst 4000-byte path fits HTTP_LISTING_TOP_MAX");
    t = (struct http_buf){ top, 0, HTTP_LISTING_TOP_MAX(1), 0 };
    http_format_listing_top(&t, "/", (struct http_order){ 'S', 0 });
    check(!t.overflow, "listing top", "the root's top fits HTTP_LISTING_TOP_MAX");

    char row[HTTP_LISTING_ROW_MAX];
    char name[256];
    memset(name, '"', 255);
    name[255] = '\0';
    struct http_buf big = { row, 0, sizeof row, 0 };
    put_row(&big, name, 1, 0, 0);
    check(!big.overflow, "listing row", "a 255-byte name of the worst character fits HTTP_LISTING_ROW_MAX");
    memset(name, 0xff, 255); /* not UTF-8: each byte shown as a marked \xFF */
    big.len = 0;
    put_row(&big, name, 0, 0, 0);
    check(!big.overflow, "listing row", "a 255-byte name of bytes that are not UTF-8 fits HTTP_LISTING_ROW_MAX");
    memset(name, 0x01, 255); /* each byte a marked \u0001: 19 bytes, the most one byte takes */
    big.len = 0;
    put_row(&big, name, 0, 0, 0);
    check(!big.overflow, "listing row", "a 255-byte name of control bytes fits HTTP_LISTING_ROW_MAX");
}

/* Listing names shown as they are, or escaped where they would hide what they are; sizes for people. */
static void test_listing_names(void)
{
    char out[HTTP_LISTING_ROW_MAX];
    struct http_buf b = { out, 0, sizeof out - 1, 0 };
    static const struct {
        const char *name, *shown;
    } visible[] = {
        { "photo\xe2\x80\xaegpj.exe", ">photo<mark>\\u202E</mark>gpj.exe<" },
        { "a\xe2\x81\xa6" "b\xe2\x81\xa9", ">a<mark>\\u2066</mark>b<mark>\\u2069</mark><" },
        { "zero\xe2\x80\x8bwidth", ">zero<mark>\\u200B</mark>width<" },
        { "tag\xf3\xa0\x80\x81", ">tag<mark>\\U000E0001</mark><" },
        { "bell\x07\x7f", ">bell<mark>\\u0007</mark><mark>\\u007F</mark><" },
        { "bad\xc0\xafutf8\xed\xa0\x80", ">bad<mark>\\xC0</mark><mark>\\xAF</mark>utf8<mark>\\xED</mark>"
                                         "<mark>\\xA0</mark><mark>\\x80</mark><" },
        { "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xb7", ">caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xb7<" },
        { "family \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7", ">family \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7<" },
        { "lrm\xe2\x80\x8e", ">lrm<mark>\\u200E</mark><" },
        { "a\xc2\xa0" "b \xe3\x80\x80" "c", ">a<mark>\\u00A0</mark>b <mark>\\u3000</mark>c<" },
        { " edges ", "><mark>\\u0020</mark>edges<mark>\\u0020</mark><" },
        { "in  side", ">in  side<" },
        { "invoice\xe2\x80\x8d.pdf", ">invoice<mark>\\u200D</mark>.pdf<" },
        { "a\xef\xb8\x8f.txt", ">a<mark>\\uFE0F</mark>.txt<" },
        { "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88", ">\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88<" },
        { "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85", ">\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85<" },
        { "en\xe2\x80\x93" "dash \xe2\x80\x9cq\xe2\x80\x9d", ">en\xe2\x80\x93" "dash \xe2\x80\x9cq\xe2\x80\x9d<" },
        { "arabic\xd8\x80" "x", ">arabic<mark>\\u0600</mark>x<" },
    };
    for (size_t i = 0; i < sizeof visible / sizeof visible[0]; i++) {
        b.len = 0;
        put_row(&b, visible[i].name, 0, 1, 0);
        out[b.len] = '\0';
        check(strstr(out, visible[i].shown) != NULL, "listing name shown", out);
    }
    b.len = 0;
    put_row(&b, "photo\xe2\x80\xaegpj.exe", 0, 1, 0);
    out[b.len] = '\0';
    check(strstr(out, "href=\"./photo%E2%80%AEgpj.exe\"") != NULL, "listing link", "the link keeps the real name");

    static const struct {
        long long size;
        const char *shown;
    } sizes[] = {
        { 0, ">0 B<" }, { 1023, ">1023 B<" }, { 1024, ">1.0 KiB<" }, { 4300, ">4.2 KiB<" },
        { 1048524, ">1023.9 KiB<" }, { 1048575, ">1.0 MiB<" }, { 5368709120LL, ">5.0 GiB<" },
        { 9223372036854775807LL, ">8.0 EiB<" },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        b.len = 0;
        put_row(&b, "f", 0, sizes[i].size, 0);
        out[b.len] = '\0';
        check(strstr(out, sizes[i].shown) != NULL, "listing size", out);
    }
}

/* Checks entries listed in their ascending order by column: so they compare, and reversed but folders first. */
static void check_sorted(const struct http_entry *e, size_t n, char column)
{
    for (int descending = 0; descending < 2; descending++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                int c = http_entry_compare(&e[i], &e[j], (struct http_order){ column, descending });
                int want = i == j ? 0 : (i < j) != (descending && e[i].is_dir == e[j].is_dir) ? -1 : 1;
                check((c > 0) - (c < 0) == want, "entry order", e[i].name);
            }
}

/* The order a listing's query asks for: Apache's C= and O=, anything else the default, by name ascending. */
static void test_listing_order(void)
{
    static const struct { const char *query; char column; int descending; } cases[] = {
        { "", 'N', 0 }, { "C=S", 'S', 0 }, { "C=M;O=D", 'M', 1 }, { "O=D;C=S", 'S', 1 }, { "C=S&O=D", 'S', 1 },
        { "O=D", 'N', 1 }, { "C=N;O=A", 'N', 0 }, { "?C=M", 'N', 0 }, { "C=X;O=D", 'N', 1 }, { "C=s", 'N', 0 },
        { "C=SS", 'N', 0 }, { "C=", 'N', 0 }, { "O=Z", 'N', 0 }, { "F=0;V=1;C=S", 'S', 0 }, { ";;C=M;", 'M', 0 },
        { "C=S;C=M", 'M', 0 }, { "C=S;O=D;O=A", 'S', 0 }, { "x=1&C=S&y", 'S', 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_order o = http_listing_order(cases[i].query, strlen(cases[i].query));
        check(o.column == cases[i].column && o.descending == cases[i].descending, "listing order", cases[i].query);
    }
    struct http_order nul = http_listing_order("C=\0", 3); /* a NUL is no column: "NMS" holds none */
    check(nul.column == 'N' && !nul.descending, "listing order", "C= and a NUL");
    static const struct http_entry by_size[] = { /* folders first, by name; then files by size, then name */
        { "a2", 1, 9, 5 }, { "a10", 1, 1, 4 }, { "B", 1, 0, 0 }, { "z", 0, 0, 9 }, { "c", 0, 7, 1 }, { "d", 0, 7, 0 },
        { "a", 0, 900, 3 },
    };
    static const struct http_entry by_time[] = { /* folders first, by time; then files by time, then name */
        { "B", 1, 0, 0 }, { "a10", 1, 1, 4 }, { "a2", 1, 9, 5 }, { "d", 0, 7, 0 }, { "c", 0, 7, 1 }, { "a", 0, 900, 3 },
        { "b", 0, 1, 3 }, { "z", 0, 0, 9 },
    };
    check_sorted(by_size, sizeof by_size / sizeof by_size[0], 'S');
    check_sorted(by_time, sizeof by_time / sizeof by_time[0], 'M');
    struct http_entry f2 = { "file2", 0, 5, 5 }, f10 = { "file10", 0, 5, 5 }, dir = { "zz", 1, 0, 0 };
    check(http_entry_compare(&f2, &f10, by_name) < 0 && http_entry_compare(&f2, &f10, (struct http_order){ 'N', 1 }) > 0 &&
          http_entry_compare(&dir, &f2, (struct http_order){ 'N', 1 }) < 0 && http_entry_compare(&f2, &f2, by_name) == 0,
          "entry order", "natural names, reversed, folders first either way");

    char out[HTTP_LISTING_TOP_MAX(1)];
    struct http_buf b = { out, 0, sizeof out - 1, 0 };
    http_format_listing_top(&b, "/", by_name);
    out[b.len] = '\0';
    check(strstr(out, "<th class=\"name\" aria-sort=\"ascending\"><a href=\"?C=N;O=D\">Name \xe2\x96\xb2</a></th>") &&
          strstr(out, "<th class=\"size\"><a href=\"?C=S;O=A\">Size</a></th>") &&
          strstr(out, "<th class=\"time\"><a href=\"?C=M;O=A\">Modified</a></th>"), "listing top", out);
    b.len = 0;
    http_format_listing_top(&b, "/", (struct http_order){ 'S', 1 });
    out[b.len] = '\0';
    check(strstr(out, "<th class=\"name\"><a href=\"?C=N;O=A\">Name</a></th>") &&
          strstr(out, "<th class=\"size\" aria-sort=\"descending\"><a href=\"?C=S;O=A\">Size \xe2\x96\xbc</a></th>") &&
          strstr(out, "<a href=\"?C=M;O=A\">Modified</a>"), "listing top", out);
}

/* Natural order: numbers by value, case folded, byte order breaking ties; a total order. */
static void test_name_order(void)
{
    static const char *const sorted[] = { "a", "A1", "a02", "a2", "a10", "b", "file2", "file10", "file13",
                                          "file138", "file0138x", "file138x", "README", "z9", "z10", "\xc3\xa9" };
    size_t n = sizeof sorted / sizeof sorted[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int c = http_name_compare(sorted[i], sorted[j]);
            char detail[128];
            snprintf(detail, sizeof detail, "%s vs %s gave %d", sorted[i], sorted[j], c);
            check(i < j ? c < 0 : i > j ? c > 0 : c == 0, "name order", detail);
        }
}

/* -H arguments: good ones become header lines; bad names, bad values and the server's own headers are refused. */
static void test_header_option(void)
{
    char out[HTTP_EXTRA_FIELDS_MAX];
    struct http_buf b = { out, 0, sizeof out, 0 };
    check(http_header_option("Access-Control-Allow-Origin:  * \t", &b) == NULL && b.len == 32 &&
          memcmp(out, "Access-Control-Allow-Origin: *\r\n", 32) == 0, "-H", "a good header, its value trimmed");
    check(http_header_option("X-Empty:", &b) == NULL, "-H", "an empty value is allowed");
    static const char *const bad[] = { "NoColon", ": v", "Bad Name: v", "Bad\"Name: v", "X: a\rb", "X: a\nb",
                                       "X: a\x01", "X: \x7f", "content-length: 5", "Date: x", "Server: x",
                                       "Connection: close", "cache-control: max-age=1", "Transfer-Encoding: x",
                                       "Content-Type: text/plain", "Location: /", "WWW-Authenticate: x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = b.len;
        check(http_header_option(bad[i], &b) != NULL && b.len == len, "-H refused", bad[i]);
    }
    char long_value[HTTP_EXTRA_FIELDS_MAX + 8];
    memset(long_value, 'v', sizeof long_value - 1);
    memcpy(long_value, "X-Long: ", 8);
    long_value[sizeof long_value - 1] = '\0';
    check(http_header_option(long_value, &b) != NULL, "-H refused", "longer than HTTP_EXTRA_FIELDS_MAX");
}

/* Basic credentials: decoded from base64 strictly; another scheme, bad base64 or too long gives 0. */
static void test_credentials(void)
{
    char out[64];
    size_t n = 0;
    static const char *const good = "Basic dXNlcjpwYXNz"; /* user:pass */
    check(http_basic_credentials(good, strlen(good), out, sizeof out, &n) == 1 && n == 9 &&
          memcmp(out, "user:pass", 9) == 0, "basic", good);
    check(http_basic_credentials("basic  YTpi", 11, out, sizeof out, &n) == 1 && n == 3 && memcmp(out, "a:b", 3) == 0,
          "basic", "scheme without case, several spaces, no padding");
    check(http_basic_credentials("Basic YTpiYw==", 14, out, sizeof out, &n) == 1 && n == 4 &&
          memcmp(out, "a:bc", 4) == 0, "basic", "padding");
    static const char *const bad[] = { "Bearer dXNlcjpwYXNz", "Basic", "Basic ", "Basic dXNl*jpw", "Basic YTpiY===",
                                       "Basic YTpiYw=", "Basic YTpiY", "Basic YTpi YTpi", "BasicYTpi",
                                       "Basic YR==" /* leftover bits not zero */ };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check(http_basic_credentials(bad[i], strlen(bad[i]), out, sizeof out, &n) == 0, "basic refused", bad[i]);
    check(http_basic_credentials(good, strlen(good), out, 8, &n) == 0, "basic refused", "longer than cap");
    check(http_secret_equal("a:b", 3, "a:b", 3) && !http_secret_equal("a:c", 3, "a:b", 3) &&
          !http_secret_equal("a:b", 3, "a:bc", 4) && !http_secret_equal("a:bc", 4, "a:b", 3) &&
          !http_secret_equal("", 0, "a", 1) && http_secret_equal("", 0, "", 0), "secret compare", "equal only when equal");
}

/* Runs every test; exits 1 when one failed. */
int main(void)
{
    test_requests();
    test_limits();
    test_pipelining();
    test_bodies();
    test_hosts();
    test_compact();
    test_chunk_lines();
    test_started();
    test_paths();
    test_hidden();
    test_mime();
    test_dates();
    test_date_parsing();
    test_etag_match();
    test_ranges();
    test_choose_coding();
    test_file_status();
    test_file_dates();
    test_decide();
    test_escaping();
    test_heads();
    test_status();
    test_listing();
    test_listing_names();
    test_listing_order();
    test_name_order();
    test_header_option();
    test_credentials();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
