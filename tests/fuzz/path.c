/*
 * path.c: libFuzzer target for http_target_path: a clean path never climbs out of the root, never
 * holds NUL, "//", "." or ".." segments, and cleaning it again changes nothing.
 */
#include "http.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Returns where the path of a target starts: after "http://authority" or "https://authority", else 0. */
static size_t path_start(const char *t, size_t len)
{
    size_t i = 0;
    if (len >= 7 && strncasecmp(t, "http://", 7) == 0)
        i = 7;
    else if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
        i = 8;
    if (i > 0)
        while (i < len && t[i] != '/' && t[i] != '?')
            i++;
    return i;
}

/* Says whether the path part of a target holds a NUL byte, raw or as %00. */
static int has_nul(const char *t, size_t from, size_t end)
{
    for (size_t i = from; i < end; i++)
        if (t[i] == '\0' || (t[i] == '%' && end - i >= 3 && t[i + 1] == '0' && t[i + 2] == '0'))
            return 1;
    return 0;
}

/* Says whether a clean path should be hidden: a segment starts with '.', a leading /.well-known aside. */
static int model_hidden(const char *path)
{
    for (const char *seg = path + 1;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n > 0 && seg[0] == '.' && !(seg == path + 1 && n == 11 && strncmp(seg, ".well-known", 11) == 0))
            return 1;
        if (slash == NULL)
            break;
        seg = slash + 1;
    }
    return 0;
}

/* Aborts unless a path returned with HTTP_OK is clean. */
static void check_clean(const char *path, size_t cap)
{
    size_t n = strlen(path);
    CHECK(n < cap);
    CHECK(path[0] == '/');
    CHECK(strstr(path, "//") == NULL);
    for (const char *seg = path + 1; *seg != '\0';) {
        const char *slash = strchr(seg, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
        CHECK(!(len == 1 && seg[0] == '.'));
        CHECK(!(len == 2 && seg[0] == '.' && seg[1] == '.'));
        if (slash == NULL)
            break;
        seg = slash + 1;
    }
    CHECK(http_path_hidden(path) == model_hidden(path));
    const char *type = http_mime_type(NULL, path);
    CHECK(type != NULL && strchr(type, '/') != NULL);
}

/* Percent-encodes what a target cannot carry as it is; returns a heap copy of exactly *len bytes. */
static char *encode(const char *path, size_t *len)
{
    size_t n = strlen(path), w = 0;
    char *out = malloc(3 * n + 1);
    CHECK(out != NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c <= ' ' || c >= 0x7f || c == '%' || c == '?' || c == '#')
            w += (size_t)sprintf(out + w, "%%%02X", c);
        else
            out[w++] = (char)c;
    }
    *len = w;
    return out;
}

/* libFuzzer entry point: the input is the target, the first byte also picks a smaller output buffer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *target = malloc(size ? size : 1); /* exactly the target, no terminator */
    size_t cap = size + 2, query = size + 1;
    char *path = malloc(cap); /* what the header asks for: len + 2 */
    CHECK(target != NULL && path != NULL);
    memcpy(target, data, size);
    enum http_status st = http_target_path(target, size, path, cap, &query);
    CHECK(st == HTTP_OK || st == HTTP_BAD_REQUEST);
    CHECK(query <= size);
    CHECK(query == size || target[query] == '?');
    if (st == HTTP_OK) {
        size_t from = path_start(target, size);
        CHECK(!has_nul(target, from, query));
        check_clean(path, cap);

        size_t again_len, again_query = 0;
        char *again = encode(path, &again_len);
        char *again_path = malloc(again_len + 2);
        CHECK(again_path != NULL);
        CHECK(http_target_path(again, again_len, again_path, again_len + 2, &again_query) == HTTP_OK);
        CHECK(again_query == again_len);
        CHECK(strcmp(again_path, path) == 0); /* cleaning is idempotent */
        free(again_path);
        free(again);
    }

    size_t small_cap = size > 0 ? 1 + data[0] % (size + 2) : 1, small_query = 0;
    char *small = malloc(small_cap);
    CHECK(small != NULL);
    enum http_status st2 = http_target_path(target, size, small, small_cap, &small_query);
    CHECK(small_query == query);
    CHECK(st2 == HTTP_URI_TOO_LONG || st2 == st); /* a short buffer gives 414 or the same answer */
    if (st2 == HTTP_OK)
        CHECK(strcmp(small, path) == 0);
    free(small);
    free(path);
    free(target);
    return 0;
}
