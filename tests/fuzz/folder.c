/*
 * folder.c: libFuzzer target for what serving a folder adds to http.c. The first byte picks a function:
 * listing rows (any name fits a row, and no invisible or reordering character reaches the page), the
 * natural order (a total order: antisymmetric, transitive, zero only for equal names), Basic
 * credentials (whatever decodes re-encodes to the same digits), -H arguments (an accepted one is
 * exactly one header line), the order of listing entries (a total order, folders first) and the
 * listing's query (any text gives an order, the one a simple model reads, and a top that fits).
 */
#include "http.h"
#include "check.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Says whether the page text holds a raw character a listing must show escaped: C0/C1 controls and DEL
   (outside the markup's own newline), U+00A0, U+200B, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069,
   U+FEFF, and the joiners U+200C-U+200D after an ASCII byte. */
static int has_hidden(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((s[i] < 0x20 && s[i] != '\n') || s[i] == 0x7f || (s[i] == 0xc2 && i + 1 < n && s[i + 1] <= 0xa0))
            return 1;
        if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
            (s[i + 2] == 0x8b || s[i + 2] == 0x8e || s[i + 2] == 0x8f || (s[i + 2] >= 0xaa && s[i + 2] <= 0xae) ||
             ((s[i + 2] == 0x8c || s[i + 2] == 0x8d) && (i == 0 || s[i - 1] < 0x80))))
            return 1;
        if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x81 && s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9)
            return 1;
        if (s[i] == 0xef && i + 2 < n && s[i + 1] == 0xbb && s[i + 2] == 0xbf)
            return 1;
    }
    return 0;
}

/* A listing row of any name up to 255 bytes fits HTTP_LISTING_ROW_MAX and shows nothing hidden. */
static void fuzz_row(const uint8_t *d, size_t n)
{
    char name[256], *row = malloc(HTTP_LISTING_ROW_MAX);
    CHECK(row != NULL);
    size_t len = 0;
    for (size_t i = 0; i < n && len < 255; i++)
        if (d[i] != 0 && d[i] != '/')
            name[len++] = (char)d[i];
    name[len] = '\0';
    struct http_buf b = { row, 0, HTTP_LISTING_ROW_MAX, 0 };
    struct http_entry e = { name, (int)(n % 2), (long long)n * 1000003, (time_t)n * 86400 };
    http_format_listing_row(&b, &e);
    CHECK(!b.overflow);
    const char *text = memchr(row, '>', b.len); /* past the link's href, which is percent-encoded */
    CHECK(text != NULL);
    CHECK(!has_hidden((const unsigned char *)row, b.len));
    free(row);
}

/* Returns -1, 0 or 1 as x is below, equal to or above 0. */
static int sign(int x)
{
    return (x > 0) - (x < 0);
}

/* The natural order of three names split from the input is a total order. */
static void fuzz_order(const uint8_t *d, size_t n)
{
    char *text = malloc(n + 3), *name[3];
    CHECK(text != NULL);
    memcpy(text, d, n);
    text[n] = text[n + 1] = text[n + 2] = '\0';
    name[0] = text;
    name[1] = name[0] + strlen(name[0]) + 1 <= text + n ? name[0] + strlen(name[0]) + 1 : text + n + 1;
    name[2] = name[1] + strlen(name[1]) + 1 <= text + n + 1 ? name[1] + strlen(name[1]) + 1 : text + n + 2;
    for (int i = 0; i < 3; i++) {
        CHECK(http_name_compare(name[i], name[i]) == 0);
        for (int j = 0; j < 3; j++) {
            int c = sign(http_name_compare(name[i], name[j]));
            CHECK(c == -sign(http_name_compare(name[j], name[i])));
            CHECK((c == 0) == (strcmp(name[i], name[j]) == 0));
            for (int k = 0; k < 3; k++)
                if (c < 0 && sign(http_name_compare(name[j], name[k])) < 0)
                    CHECK(http_name_compare(name[i], name[k]) < 0);
        }
    }
    free(text);
}

/* Appends the standard base64 of n bytes (with padding) to out; returns its length. */
static size_t base64(const unsigned char *s, size_t n, char *out)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        out[len++] = digits[v >> 18 & 63];
        out[len++] = digits[v >> 12 & 63];
        out[len++] = i + 1 < n ? digits[v >> 6 & 63] : '=';
        out[len++] = i + 2 < n ? digits[v & 63] : '=';
    }
    return len;
}

/* Any bytes encoded decode back to themselves; any value that decodes encodes back to the same digits. */
static void fuzz_credentials(const uint8_t *d, size_t n)
{
    char value[6 + 4 * 200 / 3 + 8], out[HTTP_CREDENTIALS_MAX];
    size_t len = 0, m = n < 200 ? n : 200;
    memcpy(value, "Basic ", 6);
    size_t vlen = 6 + base64(d, m, value + 6);
    if (m > 0) {
        CHECK(http_basic_credentials(value, vlen, out, sizeof out, &len) == 1);
        CHECK(len == m && memcmp(out, d, m) == 0);
    }
    if (http_basic_credentials((const char *)d, n, out, sizeof out, &len)) {
        char again[sizeof out * 2];
        size_t digits = base64((const unsigned char *)out, len, again), start = 6;
        while (start < n && d[start] == ' ')
            start++;
        CHECK(digits >= n - start && memcmp(again, d + start, n - start) == 0);
    }
}

/* An accepted -H argument becomes exactly one "Name: value" line, with no other CR or LF. */
static void fuzz_header(const uint8_t *d, size_t n)
{
    char *arg = malloc(n + 1), out[HTTP_EXTRA_FIELDS_MAX];
    CHECK(arg != NULL);
    memcpy(arg, d, n);
    arg[n] = '\0';
    struct http_buf b = { out, 0, sizeof out, 0 };
    if (http_header_option(arg, &b) == NULL) {
        CHECK(b.len >= 4 && memcmp(out + b.len - 2, "\r\n", 2) == 0);
        CHECK(memchr(out, '\r', b.len - 2) == NULL && memchr(out, '\n', b.len - 2) == NULL);
        CHECK(memchr(out, ':', b.len) != NULL && out[0] != ':');
    } else {
        CHECK(b.len == 0);
    }
    free(arg);
}

/* Returns the sign of the order of two entries. */
static int entry_order(const struct http_entry *a, const struct http_entry *b, struct http_order order)
{
    return sign(http_entry_compare(a, b, order));
}

/* The order of four entries, names split from the input and sizes and times from its first bytes, is total
   in every column and direction: antisymmetric, transitive (ties too), folders first. */
static void fuzz_entries(const uint8_t *d, size_t n)
{
    static const long long sizes[8] = { -1, 0, 0, 1, 7, 1000, LLONG_MAX - 1, LLONG_MAX };
    static const time_t times[8] = { -86400, 0, 0, 1, 2, 784111777, 1795737600, 253402300799LL };
    if (n < 4)
        return;
    char *text = malloc(n + 4);
    CHECK(text != NULL);
    memcpy(text, d + 4, n - 4);
    memset(text + n - 4, 0, 8);
    struct http_entry e[4];
    const char *name = text;
    for (int i = 0; i < 4; i++) { /* the names: NUL-separated; the last ones empty when there are too few */
        e[i] = (struct http_entry){ name, d[i] & 1, sizes[d[i] >> 1 & 7], times[d[i] >> 4 & 7] };
        name += name < text + n - 4 ? strlen(name) + 1 : 1;
    }
    for (int k = 0; k < 6; k++) {
        struct http_order order = { "NMS"[k % 3], k / 3 };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                int c = entry_order(&e[i], &e[j], order);
                CHECK(c == -entry_order(&e[j], &e[i], order));
                if (!e[i].is_dir != !e[j].is_dir)
                    CHECK(c == (e[i].is_dir ? -1 : 1));
                for (int l = 0; l < 4; l++) { /* i <= j <= l: i <= l, equal only when both are */
                    int next = entry_order(&e[j], &e[l], order), across = entry_order(&e[i], &e[l], order);
                    if (c <= 0 && next <= 0)
                        CHECK(across <= 0 && (across == 0) == (c == 0 && next == 0));
                }
            }
    }
    free(text);
}

/* Any query gives an order: the last well-formed C= and O= parts say it (a simple model reads them the same),
   and the listing's top for it fits HTTP_LISTING_TOP_MAX and marks one column. */
static void fuzz_query(const uint8_t *d, size_t n)
{
    char *query = malloc(n ? n : 1); /* exactly the query, no terminator */
    CHECK(query != NULL);
    memcpy(query, d, n);
    struct http_order order = http_listing_order(query, n), model = { 'N', 0 };
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && d[i] != ';' && d[i] != '&')
            continue;
        if (i - start == 3 && d[start] == 'C' && d[start + 1] == '=' && (d[start + 2] == 'N' || d[start + 2] == 'M' ||
                                                                       d[start + 2] == 'S'))
            model.column = (char)d[start + 2];
        if (i - start == 3 && d[start] == 'O' && d[start + 1] == '=' && (d[start + 2] == 'A' || d[start + 2] == 'D'))
            model.descending = d[start + 2] == 'D';
        start = i + 1;
    }
    CHECK(order.column == model.column && order.descending == model.descending);
    char *top = malloc(HTTP_LISTING_TOP_MAX(1));
    CHECK(top != NULL);
    struct http_buf b = { top, 0, HTTP_LISTING_TOP_MAX(1), 0 };
    http_format_listing_top(&b, "/", order);
    CHECK(!b.overflow);
    const char *sort = memchr(top, 'a', b.len), *end = top + b.len;
    int marked = 0;
    for (; sort != NULL && end - sort > 10; sort = memchr(sort + 1, 'a', (size_t)(end - sort - 1)))
        marked += memcmp(sort, "aria-sort=", 10) == 0;
    CHECK(marked == 1);
    free(top);
    free(query);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sends the input, its first byte taken off, to the function that byte picks. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 6) {
    case 0: fuzz_row(data + 1, size - 1); break;
    case 1: fuzz_order(data + 1, size - 1); break;
    case 2: fuzz_credentials(data + 1, size - 1); break;
    case 3: fuzz_header(data + 1, size - 1); break;
    case 4: fuzz_entries(data + 1, size - 1); break;
    default: fuzz_query(data + 1, size - 1); break;
    }
    return 0;
}
