/* check.h: the assertion the fuzz targets share; on failure libFuzzer saves the input that caused it. */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s: check failed at line %d: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#endif
