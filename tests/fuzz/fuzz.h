/*
 * Shared by the libFuzzer harnesses in tests/fuzz/ (see README.md there).
 * Each harness defines LLVMFuzzerTestOneInput; scripts/fuzz.sh links it with
 * libFuzzer, and `make check` links it with replay.c to run the corpus and the
 * kept regressions through the ordinary (and the sanitizer) build.
 */
#ifndef TEST_FUZZ_H
#define TEST_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional per-harness set-up (libFuzzer and replay.c both call it once, first). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant the code under test broke: a finding, like a sanitizer report. */
#define FUZZ_ASSERT(cond)                                                             \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz: %s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* Logs would drown the fuzzer's output and cost time; findings abort anyway. */
static inline void fuzz_quiet(void) { log_set_level((enum log_level)(LOG_ERROR + 1)); }

/* A cursor over the input for harnesses that read structured choices from it. */
typedef struct fuzz_in {
    const uint8_t *p, *end;
} fuzz_in;

static inline size_t fuzz_left(const fuzz_in *in) { return (size_t)(in->end - in->p); }

static inline uint8_t fuzz_u8(fuzz_in *in) { return in->p < in->end ? *in->p++ : 0; }

static inline uint32_t fuzz_u32(fuzz_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = v << 8 | fuzz_u8(in);
    return v;
}

/*
 * The bytes up to the next `sep` (or the end), as a malloc'd NUL-terminated
 * string; the cursor moves past the separator. *len (if given) is the length.
 */
static inline char *fuzz_str(fuzz_in *in, uint8_t sep, size_t *len)
{
    const uint8_t *s = in->p;
    const uint8_t *e = memchr(s, sep, fuzz_left(in));
    size_t n = e ? (size_t)(e - s) : fuzz_left(in);
    in->p = e ? e + 1 : in->end;
    if (len) *len = n;
    return xstrndup((const char *)s, n);
}

#endif
