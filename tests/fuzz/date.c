/*
 * date.c: libFuzzer target for http_parse_date: a parsed date lies in the years its form allows,
 * and formatting a time then parsing it back, in any of the three forms, gives the same time.
 */
#include "http.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1795737600                 /* 2026-11-27: two-digit years mean 1977 to 2076 */
#define YEAR_0 (-62167219200LL)        /* 0000-01-01 00:00:00 */
#define YEAR_1900 (-2208988800LL)      /* 1900-01-01 00:00:00 */
#define YEAR_9999_END 253402300799LL   /* 9999-12-31 23:59:59 */

/* Parses a NUL-terminated date from an exact-size heap copy; returns 1 and sets *t on success. */
static int parse(const char *s, time_t *t)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    CHECK(copy != NULL);
    memcpy(copy, s, n);
    int ok = http_parse_date(copy, n, NOW, t);
    free(copy);
    return ok;
}

/* Returns the UTC year of t (t within years 0 to 9999 and a second). */
static long long year_of(time_t t)
{
    struct tm tm;
    CHECK(gmtime_r(&t, &tm) != NULL);
    return tm.tm_year + 1900LL;
}

/* Formats t in all three forms and checks each parses back to t; t is within 1900 to 9999. */
static void round_trip(time_t t)
{
    static const char *const days[7] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                         "Saturday" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char imf[HTTP_DATE_SIZE], other[64], log[HTTP_LOG_DATE_SIZE];
    time_t back = 0;
    struct tm tm;
    http_format_date(imf, t);
    CHECK(strlen(imf) == HTTP_DATE_SIZE - 1);
    CHECK(parse(imf, &back) && back == t);
    http_format_log_date(log, t);
    CHECK(strlen(log) == HTTP_LOG_DATE_SIZE - 1);

    CHECK(gmtime_r(&t, &tm) != NULL);
    snprintf(other, sizeof other, "%.3s %s %2d %02d:%02d:%02d %04d", days[tm.tm_wday], months[tm.tm_mon],
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
    CHECK(parse(other, &back) && back == t); /* asctime */
    if (tm.tm_year + 1900 >= 1977 && tm.tm_year + 1900 <= 2076) {
        snprintf(other, sizeof other, "%s, %02d-%s-%02d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], (tm.tm_year + 1900) % 100, tm.tm_hour, tm.tm_min, tm.tm_sec);
        CHECK(parse(other, &back) && back == t); /* RFC 850 */
    }
}

/* libFuzzer entry point: the input is a date; its first 8 bytes are also a time to round-trip. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1); /* exactly the date, no terminator */
    CHECK(s != NULL);
    memcpy(s, data, size);
    time_t t = 12345;
    int ok = http_parse_date(s, size, NOW, &t);
    CHECK(ok == 0 || ok == 1);
    if (ok) {
        /* a 4-digit year: 0000 to 9999 (and the leap second 60 may carry into 10000-01-01 00:00:00) */
        CHECK((long long)t >= YEAR_0 && (long long)t <= YEAR_9999_END + 1);
        const char *comma = memchr(s, ',', size);
        if (comma != NULL && comma - s > 3) { /* RFC 850: a two-digit year within 50 years of now */
            long long year = year_of(t - (s[size - 6] == '6' && s[size - 5] == '0'));
            CHECK(year >= 1977 && year <= 2076);
        }
        if ((long long)t >= YEAR_1900 && (long long)t <= YEAR_9999_END)
            round_trip(t);
    } else {
        CHECK(t == 12345); /* untouched on failure */
    }

    if (size >= 8) { /* any time of 1900 to 9999 formats and parses back */
        uint64_t raw = 0;
        for (int i = 0; i < 8; i++)
            raw = raw << 8 | data[i];
        long long span = YEAR_9999_END - YEAR_1900 + 1;
        round_trip((time_t)(YEAR_1900 + (long long)(raw % (uint64_t)span)));
    }
    free(s);
    return 0;
}
