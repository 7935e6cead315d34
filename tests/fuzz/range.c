/*
 * range.c: libFuzzer target for the values a file response reads: Range against several sizes,
 * Accept-Encoding against several sets of siblings, and If-None-Match.
 */
#include "http.h"
#include "check.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer entry point: the whole input is the field value. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long long sizes[] = { 0, 1, 2, 1000, 4294967301LL, LLONG_MAX - 1, LLONG_MAX };
    char *v = malloc(size ? size : 1); /* exactly the value, no terminator */
    CHECK(v != NULL);
    memcpy(v, data, size);
    int satisfiable = -1; /* whether the value names one range that starts in a file of the size */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        long long first = -7, last = -7;
        enum http_status st = http_parse_range(v, size, sizes[i], &first, &last);
        CHECK(st == HTTP_OK || st == HTTP_PARTIAL_CONTENT || st == HTTP_RANGE_NOT_SATISFIABLE);
        if (st == HTTP_PARTIAL_CONTENT)
            CHECK(first >= 0 && first <= last && last < sizes[i]);
        else
            CHECK(first == -7 && last == -7); /* untouched unless 206 */
        if (sizes[i] == 0) /* of an empty file a suffix range is all of it: a 200 (RFC 9110 section 14.1.1) */
            CHECK(st != HTTP_PARTIAL_CONTENT);
        else if (satisfiable < 0)
            satisfiable = st != HTTP_OK; /* syntax alone decides 200: the same for every other size */
        else
            CHECK(satisfiable == (st != HTTP_OK));
    }

    static const long long siblings[][HTTP_CODINGS] = { { 10, -1, -1, -1 }, { 10, 5, 5, 5 }, { 0, 9, -1, 1 },
                                                         { 5, 5, 5, 5 }, { 1000, -1, 300, 400 } };
    for (size_t i = 0; i < sizeof siblings / sizeof siblings[0]; i++) { /* one that exists is chosen */
        enum http_coding c = http_choose_coding(v, size, siblings[i]);
        CHECK((unsigned)c < HTTP_CODINGS && siblings[i][c] >= 0);
        for (int gone = 1; gone < HTTP_CODINGS; gone++) { /* a sibling not chosen goes: the choice stays */
            long long fewer[HTTP_CODINGS];
            memcpy(fewer, siblings[i], sizeof fewer);
            fewer[gone] = -1;
            CHECK(gone == (int)c || http_choose_coding(v, size, fewer) == c);
        }
    }
    CHECK(http_choose_coding(NULL, 0, siblings[1]) == HTTP_CODING_IDENTITY);
    static const char *const etags[] = { "\"e1\"", "\"\"", "\"ffffffffffffffff-140000000-18ebbdd5452bcd15\"" };
    for (size_t i = 0; i < sizeof etags / sizeof etags[0]; i++) {
        int match = http_etag_match(v, size, etags[i], 0);
        CHECK(match == 0 || match == 1);
        if (size == strlen(etags[i]) && memcmp(v, etags[i], size) == 0)
            CHECK(match == 1);
    }
    if (size >= 2) { /* the value as its own tag: a list of just it matches it */
        char *tag = malloc(size + 1);
        CHECK(tag != NULL);
        memcpy(tag, v, size);
        tag[size] = '\0';
        if (tag[0] == '"' && tag[size - 1] == '"' && strlen(tag) == size && strchr(tag + 1, '"') == tag + size - 1) {
            int plain = 1;
            for (size_t i = 1; i + 1 < size; i++)
                plain = plain && (unsigned char)tag[i] > ' ' && tag[i] != 0x7f;
            if (plain)
                CHECK(http_etag_match(v, size, tag, 0) == 1);
        }
        free(tag);
    }
    free(v);
    return 0;
}
