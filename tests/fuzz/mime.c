/*
 * mime.c: libFuzzer target for http_mime_index and http_mime_type: the index of any text is sorted,
 * bounded, agrees with a simple model (the first type of an extension wins), and lookups find it.
 */
#include "http.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OCTET "application/octet-stream"

/* Aborts unless s is a word of the text buffer [text, end): non-empty, no blanks, NUL-terminated there. */
static void check_word(const char *s, const char *text, const char *end)
{
    CHECK(s >= text && s < end);
    size_t n = strlen(s);
    CHECK(n > 0 && s + n < end);
    CHECK(strpbrk(s, " \t\r\n") == NULL);
}

/* One extension and its type as a model reads them from the text: spans of the original input. */
struct pair {
    const char *ext, *type;
    size_t ext_len, type_len;
};

/* Says whether c ends a word of a mime.types line. */
static int is_break(char c)
{
    return c == '\0' || c == '\n' || c == ' ' || c == '\t' || c == '\r';
}

/*
 * Reads a mime.types text the simple way: the first max extensions in file order, comments and
 * lines with an over-long type skipped, then each extension (ignoring case) kept at its first place.
 */
static size_t model_index(const char *s, size_t len, struct pair *out, size_t max)
{
    size_t count = 0, i = 0;
    while (i < len && s[i] != '\0') {
        const char *type = NULL;
        size_t type_len = 0;
        int skip = 0;
        while (i < len && s[i] != '\0' && s[i] != '\n') {
            if (is_break(s[i])) {
                i++;
                continue;
            }
            size_t start = i;
            while (i < len && !is_break(s[i]))
                i++;
            size_t n = i - start;
            if (skip || s[start] == '#' || (type == NULL && n > HTTP_MIME_TYPE_MAX))
                skip = 1;
            else if (type == NULL)
                type = s + start, type_len = n;
            else if (count < max)
                out[count++] = (struct pair){ s + start, type, n, type_len };
        }
        if (i < len && s[i] == '\n')
            i++;
    }
    size_t kept = 0;
    for (size_t k = 0; k < count; k++) {
        int seen = 0;
        for (size_t j = 0; j < kept && !seen; j++)
            seen = out[j].ext_len == out[k].ext_len && strncasecmp(out[j].ext, out[k].ext, out[k].ext_len) == 0;
        if (!seen)
            out[kept++] = out[k];
    }
    return kept;
}

/* Says whether a NUL-terminated word equals the n bytes at s. */
static int word_is(const char *word, const char *s, size_t n)
{
    return strlen(word) == n && memcmp(word, s, n) == 0;
}

/* Returns the type looked up for a file named "x." ext, in the given table. */
static const char *type_of(const struct http_mime *system, const char *ext, char *path, size_t cap)
{
    snprintf(path, cap, "/dir.d/x.%s", ext);
    return http_mime_type(system, path);
}

/* libFuzzer entry point: byte 0 bounds the entries, the rest is the text of a mime.types file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max = data[0] % 40, len = size - 1;
    char *text = malloc(len + 1); /* exactly the text and its NUL */
    struct http_mime_entry *entries = malloc(max ? max * sizeof *entries : 1);
    CHECK(text != NULL && entries != NULL);
    memcpy(text, data + 1, len);
    text[len] = '\0';
    struct http_mime system = { entries, http_mime_index(text, entries, max) };
    CHECK(system.count <= max);

    char *path = malloc(len + 16);
    CHECK(path != NULL);
    for (size_t i = 0; i < system.count; i++) {
        const struct http_mime_entry *e = &entries[i];
        check_word(e->ext, text, text + len + 1);
        check_word(e->type, text, text + len + 1);
        CHECK(e->ext[0] != '#' && e->type[0] != '#');
        CHECK(strlen(e->type) <= HTTP_MIME_TYPE_MAX);
        if (i > 0)
            CHECK(strcasecmp(entries[i - 1].ext, e->ext) < 0); /* sorted, each extension once */
        if (strpbrk(e->ext, "./") != NULL)
            continue;
        const char *builtin = type_of(NULL, e->ext, path, len + 16);
        const char *found = type_of(&system, e->ext, path, len + 16);
        CHECK(found == (strcmp(builtin, OCTET) != 0 ? builtin : e->type)); /* the built-in table first */
    }
    struct pair *model = malloc((max ? max : 1) * sizeof *model);
    CHECK(model != NULL);
    size_t model_count = model_index((const char *)data + 1, len, model, max);
    CHECK(model_count == system.count);
    for (size_t k = 0; k < model_count; k++) { /* each extension once, with the type of its first line */
        size_t j = 0;
        while (j < system.count && !(strlen(entries[j].ext) == model[k].ext_len &&
                                     strncasecmp(entries[j].ext, model[k].ext, model[k].ext_len) == 0))
            j++;
        CHECK(j < system.count);
        CHECK(word_is(entries[j].ext, model[k].ext, model[k].ext_len));
        CHECK(word_is(entries[j].type, model[k].type, model[k].type_len));
    }
    free(model);
    static const char *const names[] = { "/a.html", "/b.HTM", "/c.unknown", "/d", "/e.", "/f.tar.gz", "/g.d/h" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(http_mime_type(&system, names[i]) != NULL);
    free(path);
    free(entries);
    free(text);
    return 0;
}
