/* unit.c: table-driven tests of http.c; prints one line per failure and "N passed, N failed" last. */
#include "http.h"

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
    /* a client that expects 100 Continue is answered at once, and the connection will close */
    { B_GET "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", "hello", 200, 0 },
    { B_GET "Expect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", 200, 0 },
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
    { B_CHUNKED "5\nhello\n0\nX: y\n\n", NULL, 200, 1 },
    { "GET / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n5\nhe\r\nl\n0\n\n", NULL, 200, 1 },
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
            int ok = st == t->status && r.end == want_end && (st != HTTP_OK || r.keep_alive == t->keep_alive);
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
    static const char fill[] = "0\r\n\r\nGET /evil HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const size_t steps[] = { 0, 1, 7, 1000 };
    size_t cap = 0x100000 + 80000 + HTTP_HEAD_MAX; /* the longest case, a 1 MiB chunk, and its framing */
    char *in = malloc(cap), *buf = malloc(HTTP_HEAD_MAX), *next = malloc(cap);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = (size_t)sprintf(in, "GET /big HTTP/1.1\r\nHost: a\r\n");
        if (cases[i].content_length >= 0)
            len += (size_t)sprintf(in + len, "Content-Length: %lld\r\n", cases[i].content_length);
        else
            len += (size_t)sprintf(in + len, "Transfer-Encoding: chunked\r\n");
        if (cases[i].head) { /* "X: ppp...\r\n", then the empty line */
            size_t pad = cases[i].head - len - 7;
            len += (size_t)sprintf(in + len, "X: ");
            memset(in + len, 'p', pad);
            len += pad;
            len += (size_t)sprintf(in + len, "\r\n");
        }
        len += (size_t)sprintf(in + len, "\r\n");
        size_t head_len = len;
        size_t data = cases[i].content_length >= 0 ? (size_t)cases[i].content_length : 0;
        for (size_t c = 0; c < cases[i].chunks; c++) {
            len += (size_t)sprintf(in + len, "%zx\r\n", cases[i].chunk);
            for (size_t k = 0; k < cases[i].chunk; k++)
                in[len++] = fill[k % (sizeof fill - 1)];
            len += (size_t)sprintf(in + len, "\r\n");
        }
        if (cases[i].content_length < 0)
            len += (size_t)sprintf(in + len, "0\r\n\r\n");
        for (size_t k = 0; k < data; k++)
            in[len++] = fill[k % (sizeof fill - 1)];
        len += (size_t)sprintf(in + len, "%s", B_NEXT);
        for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
            struct http_request r, n;
            size_t have, taken, removed;
            char detail[300];
            enum http_status st = serve_through(&r, buf, in, len, steps[s], &have, &taken, &removed);
            int ok = st == HTTP_OK && r.keep_alive == cases[i].keep_alive && r.head_len == head_len &&
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
        int ok = http_parse_date(cases[i].text, strlen(cases[i].text), NOW, &t);
        check(ok == cases[i].ok && (!ok || (long long)t == cases[i].when), "date parse", cases[i].text);
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

/* Accept-Encoding: gzip by name or by "*", with q-values deciding. */
static void test_accepts_gzip(void)
{
    static const struct { const char *v; int gzip; } cases[] = {
        { "gzip", 1 }, { "gzip, deflate, br", 1 }, { "deflate", 0 }, { "*", 1 }, { "gzip;q=0", 0 },
        { "gzip;q=0.000", 0 }, { "gzip; q=0.5", 1 }, { "gzip;Q=1.0", 1 }, { "*;q=0, gzip", 1 }, { "gzip;q=0, *", 0 },
        { "x-gzip", 1 }, { "GZIP", 1 }, { "identity", 0 }, { "", 0 }, { "br;q=1, gzip;q=0.001", 1 },
        { "gzip;level=1", 1 }, { "gzip;q=abc", 0 }, { "gzipx", 0 }, { "*;q=0", 0 }, { " , gzip ,", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(http_accepts_gzip(cases[i].v, strlen(cases[i].v)) == cases[i].gzip, "accept-encoding", cases[i].v);
}

/* The whole decision for a file: validators, their precedence, If-Range, then Range. */
static void test_file_status(void)
{
    static const struct { const char *fields; enum http_status status; } cases[] = {
        { "", 200 },
        { "If-None-Match: \"e1\"\r\n", 304 },
        { "If-None-Match: W/\"e1\"\r\n", 304 },
        { "If-None-Match: \"e0\", \"e1\"\r\n", 304 },
        { "If-None-Match: *\r\n", 304 },
        { "If-None-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 200 },
        { "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 304 },
        { "If-Modified-Since: Sunday, 06-Nov-94 08:49:38 GMT\r\n", 304 },
        { "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200 },
        { "If-Modified-Since: yesterday\r\n", 200 },
        { "Range: bytes=0-9\r\n", 206 },
        { "Range: bytes=2000-\r\n", 416 },
        { "Range: bytes=0-9\r\nIf-Range: \"e1\"\r\n", 206 },
        { "Range: bytes=0-9\r\nIf-Range: \"e2\"\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: W/\"e1\"\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 206 },
        { "Range: bytes=0-9\r\nIf-Range: Sun, 06 Nov 1994 08:49:38 GMT\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: garbage\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: \"e0\", \"e1\"\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-Range: \"e1\"\r\nIf-Range: \"e1\"\r\n", 200 },
        { "If-None-Match: \"e1\"\r\nIf-None-Match: \"e1\"\r\n", 200 },
        { "If-None-Match: \"e0\"\r\nIf-None-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
          200 },
        { "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
          200 },
        { "Range: bytes=0-9\r\nIf-Range:\r\n", 200 },
        { "If-Range: \"e1\"\r\n", 200 },
        { "Range: bytes=0-9\r\nIf-None-Match: \"e1\"\r\n", 304 },
        { "range: bytes=3-4\r\nRANGE: bytes=0-9\r\n", 200 },
        { "Range: bytes=0-9\r\nX: y\r\nRange: bytes=0-9\r\nRange: bytes=0-9\r\n", 200 },
        /* preconditions: If-Match (strong), else If-Unmodified-Since, both before the others (412 first) */
        { "If-Match: \"e1\"\r\n", 200 },
        { "If-Match: \"e2\"\r\n", 412 },
        { "If-Match: W/\"e1\"\r\n", 412 },
        { "If-Match: *\r\n", 200 },
        { "If-Match: \"e0\", \"e1\"\r\n", 200 },
        { "If-Match: \"e0\", W/\"e1\"\r\n", 412 },
        { "If-Match: garbage\r\n", 412 },
        { "If-Match:\r\n", 412 },
        { "If-Match: \"e1\"\r\nIf-Match: \"e1\"\r\n", 412 },
        { "if-match: \"e0\"\r\nIF-MATCH: \"e1\"\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 200 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\n", 200 },
        { "If-Unmodified-Since: Sun Nov  6 08:49:36 1994\r\n", 412 },
        { "If-Unmodified-Since: yesterday\r\n", 200 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n"
          "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200 },
        { "If-Match: \"e1\"\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200 },
        { "If-Match: \"e2\"\r\nIf-None-Match: \"e1\"\r\n", 412 },
        { "If-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\nIf-None-Match: \"e1\"\r\n", 412 },
        { "If-Match: \"e1\"\r\nIf-None-Match: \"e1\"\r\n", 304 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-None-Match: *\r\n", 304 },
        { "If-Match: \"e1\"\r\nRange: bytes=0-9\r\n", 206 },
        { "If-Match: *\r\nRange: bytes=0-9\r\nIf-Range: \"e1\"\r\n", 206 },
        { "If-Match: \"e2\"\r\nRange: bytes=0-9\r\n", 412 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\nRange: bytes=0-9\r\n", 206 },
        { "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\nRange: bytes=2000-\r\n", 412 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char raw[512];
        struct http_request r;
        long long first = 0, last = 999;
        int n = snprintf(raw, sizeof raw, "GET /f HTTP/1.1\r\nHost: h\r\n%s\r\n", cases[i].fields);
        int parsed = parse_in_steps(&r, raw, (size_t)n, 1) == HTTP_OK;
        enum http_status st = http_file_status(&r, raw, "\"e1\"", 784111777, 1000, NOW, &first, &last);
        check(parsed && st == cases[i].status && (st != 206 || (first == 0 && last == 9)), "file status",
              cases[i].fields[0] ? cases[i].fields : "(no fields)");
    }
    static const struct { const char *if_range; time_t mtime; enum http_status status; } dates[] = {
        { "Wed, 01 Jan 2020 12:00:00 GMT", 1577880000, 206 },
        { "Wednesday, 01-Jan-20 12:00:00 GMT", 1577880000, 206 },
        { "Wed Jan  1 12:00:00 2020", 1577880000, 206 },
        { "Fri, 27 Nov 2026 00:00:00 GMT", NOW, 200 }, /* modified this second: the date is weak */
        { "Thu, 26 Nov 2026 23:59:59 GMT", NOW - 1, 206 },
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char raw[256];
        struct http_request r;
        long long first = 0, last = 999;
        int n = snprintf(raw, sizeof raw, "GET /f HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\nIf-Range: %s\r\n\r\n",
                         dates[i].if_range);
        parse_in_steps(&r, raw, (size_t)n, 0);
        check(http_file_status(&r, raw, "\"e1\"", dates[i].mtime, 1000, NOW, &first, &last) == dates[i].status,
              "if-range date", dates[i].if_range);
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

/* Response heads: the fields every response carries, and the optional ones. */
static void test_heads(void)
{
    char out[1024];
    struct http_buf b = { out, 0, sizeof out - 1, 0 };
    struct http_response r = { .status = HTTP_OK, .date = "Sun, 06 Nov 1994 08:49:37 GMT",
                               .content_type = "text/plain", .content_length = 5368709120LL,
                               .last_modified = "Sun, 06 Nov 1994 08:49:37 GMT" };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strcmp(out, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: " HTTP_SERVER_NAME "\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5368709120\r\n"
                      "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n") == 0,
          "head", out);

    b.len = 0;
    r = (struct http_response){ .status = HTTP_METHOD_NOT_ALLOWED, .date = "D", .content_type = "text/html",
                                .content_length = 3, .close = 1 };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n") == out && strstr(out, "\r\nAllow: GET, HEAD, OPTIONS\r\n") &&
          strstr(out, "\r\nConnection: close\r\n") && !strstr(out, "Last-Modified"), "head", out);

    b.len = 0;
    r = (struct http_response){ .status = HTTP_MOVED_PERMANENTLY, .date = "D", .location = "/d/?q=1",
                                .keep_alive_echo = 1 };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strstr(out, "\r\nLocation: /d/?q=1\r\n") && strstr(out, "\r\nConnection: keep-alive\r\n"), "head", out);

    b.len = 0;
    char epoch[HTTP_DATE_SIZE];
    http_format_date(epoch, 0);
    r = (struct http_response){ .status = HTTP_OK, .date = "D", .last_modified = epoch };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strstr(out, "\r\nLast-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n") != NULL, "head", "Last-Modified at the epoch");

    b.len = 0;
    struct http_response page = { .status = HTTP_NOT_FOUND, .date = "D" };
    size_t head_len = http_format_page(&b, &page, 0);
    out[b.len] = '\0';
    check(strstr(out, "<title>404 Not Found</title>") && strstr(out, "<h1>404 Not Found</h1>") &&
          strstr(out, "Content-Type: text/html; charset=utf-8\r\n") && head_len < b.len &&
          memcmp(out + head_len - 4, "\r\n\r\n", 4) == 0 && (long long)(b.len - head_len) == page.content_length,
          "page", out);

    size_t full = b.len;
    b.len = 0;
    page = (struct http_response){ .status = HTTP_NOT_FOUND, .date = "D" };
    head_len = http_format_page(&b, &page, 1);
    check(head_len == b.len && full - b.len == (size_t)page.content_length, "page",
          "head only: the same head, the same Content-Length, no body");

    b.len = 0;
    r = (struct http_response){ .status = HTTP_NO_CONTENT, .date = "D", .content_type = "text/html",
                                .extra_fields = "Access-Control-Allow-Origin: *\r\n" };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strstr(out, "HTTP/1.1 204 No Content\r\n") == out && strstr(out, "\r\nAllow: GET, HEAD, OPTIONS\r\n") &&
          !strstr(out, "Content-Length") && !strstr(out, "Content-Type") &&
          strstr(out, "\r\nAccess-Control-Allow-Origin: *\r\n\r\n"), "head", out);

    b.len = 0;
    r = (struct http_response){ .status = HTTP_UNAUTHORIZED, .date = "D", .content_length = 0 };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strstr(out, "\r\nWWW-Authenticate: Basic realm=\"" HTTP_AUTH_REALM "\", charset=\"UTF-8\"\r\n") != NULL,
          "head", out);

    b.len = 0;
    r = (struct http_response){ .status = HTTP_NOT_MODIFIED, .date = "D", .etag = "\"e\"", .cache_control = "no-cache" };
    http_format_head(&b, &r);
    out[b.len] = '\0';
    check(strstr(out, "\r\nCache-Control: no-cache\r\n") && !strstr(out, "Content-Length"), "head", out);

    static const enum http_status statuses[] = { 200, 204, 301, 400, 401, 403, 404, 405, 408, 414, 431, 500, 501,
                                                 503, 505 };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        check(strcmp(http_reason(statuses[i]), "Unknown") != 0, "reason", http_reason(statuses[i]));
}

/* Directory listing rows: names escaped in the text and encoded in the link. */
static void test_listing(void)
{
    char out[HTTP_LISTING_ROW_MAX];
    struct http_buf b = { out, 0, sizeof out - 1, 0 };
    http_format_listing_row(&b, "a <b>&\"c\".txt", 0, 1234, 784111777);
    out[b.len] = '\0';
    check(strstr(out, "href=\"./a%20%3Cb%3E%26%22c%22.txt\"") && strstr(out, ">a &lt;b&gt;&amp;&quot;c&quot;.txt<") &&
          strstr(out, "<td class=\"size\" title=\"1234 bytes\">1.2 KiB</td>") &&
          strstr(out, ">1994-11-06 08:49 UTC</td>"), "listing row", out);

    b.len = 0;
    http_format_listing_row(&b, "sub", 1, 4096, 0);
    out[b.len] = '\0';
    check(strstr(out, "href=\"./sub/\">sub/</a>") && strstr(out, "<td class=\"size\">-</td>") && !strstr(out, "title"),
          "listing dir row", out);

    b.len = 0;
    http_format_listing_top(&b, "/");
    out[b.len] = '\0';
    check(strstr(out, "Index of /") && !strstr(out, "../") && strstr(out, "name=\"viewport\"") &&
          strstr(out, "<style>") && !strstr(out, "http:") && !strstr(out, "https:"), "listing top",
          "no ../ at the root; a viewport and an inline stylesheet, no external URL");
    b.len = 0;
    http_format_listing_top(&b, "/a&b/");
    out[b.len] = '\0';
    check(strstr(out, "Index of /a&amp;b/") && strstr(out, "href=\"../\""), "listing top", "../ below the root");
    b.len = 0;
    http_format_listing_top(&b, "/d\xe2\x80\xaex/");
    out[b.len] = '\0';
    check(strstr(out, "<title>Index of /d\\u202Ex/</title>") && strstr(out, "<h1>Index of /d<mark>\\u202E</mark>x/</h1>"),
          "listing top", "escapes in the title are plain text, marked in the heading");

    static char top[HTTP_LISTING_TOP_MAX(4000)];
    char worst[4001];
    memset(worst, 0x01, 4000); /* each byte shown as a marked \u0001, twice: 19 bytes each */
    worst[0] = '/';
    worst[4000] = '\0';
    struct http_buf t = { top, 0, sizeof top, 0 };
    http_format_listing_top(&t, worst);
    check(!t.overflow, "listing top", "the worst 4000-byte path fits HTTP_LISTING_TOP_MAX");
    t = (struct http_buf){ top, 0, HTTP_LISTING_TOP_MAX(1), 0 };
    http_format_listing_top(&t, "/");
    check(!t.overflow, "listing top", "the root's top fits HTTP_LISTING_TOP_MAX");

    char row[HTTP_LISTING_ROW_MAX];
    char name[256];
    memset(name, '"', 255);
    name[255] = '\0';
    struct http_buf big = { row, 0, sizeof row, 0 };
    http_format_listing_row(&big, name, 1, 0, 0);
    check(!big.overflow, "listing row", "a 255-byte name of the worst character fits HTTP_LISTING_ROW_MAX");
    memset(name, 0xff, 255); /* not UTF-8: each byte shown as a marked \xFF */
    big.len = 0;
    http_format_listing_row(&big, name, 0, 0, 0);
    check(!big.overflow, "listing row", "a 255-byte name of bytes that are not UTF-8 fits HTTP_LISTING_ROW_MAX");
    memset(name, 0x01, 255); /* each byte a marked \u0001: 19 bytes, the most one byte takes */
    big.len = 0;
    http_format_listing_row(&big, name, 0, 0, 0);
    check(!big.overflow, "listing row", "a 255-byte name of control bytes fits HTTP_LISTING_ROW_MAX");

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
        http_format_listing_row(&b, visible[i].name, 0, 1, 0);
        out[b.len] = '\0';
        check(strstr(out, visible[i].shown) != NULL, "listing name shown", out);
    }
    b.len = 0;
    http_format_listing_row(&b, "photo\xe2\x80\xaegpj.exe", 0, 1, 0);
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
        http_format_listing_row(&b, "f", 0, sizes[i].size, 0);
        out[b.len] = '\0';
        check(strstr(out, sizes[i].shown) != NULL, "listing size", out);
    }
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

int main(void)
{
    test_requests();
    test_limits();
    test_pipelining();
    test_bodies();
    test_hosts();
    test_compact();
    test_started();
    test_paths();
    test_hidden();
    test_mime();
    test_dates();
    test_date_parsing();
    test_etag_match();
    test_ranges();
    test_accepts_gzip();
    test_file_status();
    test_escaping();
    test_heads();
    test_listing();
    test_name_order();
    test_header_option();
    test_credentials();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
