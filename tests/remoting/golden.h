/* Test helper: iterate the golden frames captured from Apache RocketMQ 4.9.8. */
#ifndef TEST_GOLDEN_H
#define TEST_GOLDEN_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Path of tests/golden/NAME (see its README) in the source tree: $RMQ_SRCDIR as
 * `make check` sets it, else "..", the source tree seen from a build dir inside it. */
static inline char *golden_path(const char *name)
{
    const char *src = getenv("RMQ_SRCDIR");
    return str_printf("%s/tests/golden/%s", src ? src : "..", name);
}

/* Calls fn for each line (a parsed JSON object); returns lines seen, -1 if absent. */
static inline int golden_each(const char *name, void (*fn)(cJSON *line, void *arg), void *arg)
{
    char *path = golden_path(name);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        if (!j) continue;
        fn(j, arg);
        cJSON_Delete(j);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

#endif
