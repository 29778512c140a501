/* Helpers shared by the meta tests: temp store roots, golden bodies, entry checks. */
#ifndef RMQ_META_TEST_UTIL_H
#define RMQ_META_TEST_UTIL_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fjson.h"
#include "common/util.h"
#include "meta/meta.h"

static inline char *make_store_root(void)
{
    char tmpl[] = "/tmp/rmq-meta-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return xstrdup(tmpl);
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static inline void remove_store_root(char *root)
{
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(root);
}

/* Write <root>/config/<file> (creating config/). */
static inline void put_config(const char *root, const char *file, const char *text)
{
    char *dir = str_printf("%s/config", root);
    ck_assert_int_eq(mkdirs(dir), RMQ_OK);
    char *path = str_printf("%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(path);
    free(dir);
}

static inline char *get_config(const char *root, const char *file)
{
    char *path = str_printf("%s/config/%s", root, file);
    size_t len;
    char *text = read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    free(path);
    return text;
}

/* A body captured from Apache 4.9.8 (tests/meta/golden/README). */
static inline char *read_golden(const char *name)
{
    const char *src = getenv("RMQ_SRCDIR");
    char *path = str_printf("%s/tests/meta/golden/%s", src ? src : "..", name);
    size_t len;
    char *text = read_file(path, &len);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    free(path);
    return text;
}

static inline cJSON *parse_text(const char *text)
{
    const char *err = NULL;
    cJSON *root = fjson_parse(text, strlen(text), &err);
    ck_assert_msg(root != NULL, "does not parse (%s): %.200s", err ? err : "?", text);
    return root;
}

/*
 * Every member of map MAP_NAME in OURS, re-encoded compactly as
 * "key":value, occurs byte for byte in GOLDEN, and both maps have the
 * same number of members: same entries, whatever the map order.
 */
static inline void assert_same_map_entries(const char *ours, const char *golden, const char *map_name)
{
    cJSON *a = parse_text(ours), *b = parse_text(golden);
    const cJSON *ma = cJSON_GetObjectItemCaseSensitive(a, map_name);
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(b, map_name);
    ck_assert_ptr_nonnull(ma);
    ck_assert_ptr_nonnull(mb);
    ck_assert_int_eq(cJSON_GetArraySize(ma), cJSON_GetArraySize(mb));
    const cJSON *e;
    cJSON_ArrayForEach(e, ma) {
        /* Find the entry's own text in OURS: from its quoted key to the matching '}'. */
        char *needle = str_printf("\"%s\":{", e->string);
        const char *start = strstr(ours, needle);
        ck_assert_msg(start != NULL, "entry %s not found in our text", e->string);
        const char *p = start + strlen(needle);
        int depth = 1;
        while (*p && depth) {
            if (*p == '{') depth++;
            if (*p == '}') depth--;
            p++;
        }
        char *entry = xstrndup(start, (size_t)(p - start));
        ck_assert_msg(strstr(golden, entry) != NULL, "entry not in Apache's body: %s", entry);
        free(entry);
        free(needle);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

#endif
