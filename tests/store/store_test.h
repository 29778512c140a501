/* Helpers shared by the store tests: temp dirs, small configs, one-line puts. */
#ifndef RMQ_STORE_TEST_H
#define RMQ_STORE_TEST_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/message.h"
#include "common/util.h"
#include "store/store.h"

static inline char *test_mkdtemp(void)
{
    char *dir = xstrdup("/tmp/rmq-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static inline void test_rmrf(char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Small segments so tests cross boundaries quickly. */
static inline void test_config(store_config *cfg, const char *dir)
{
    store_config_defaults(cfg);
    snprintf(cfg->storePathRootDir, sizeof(cfg->storePathRootDir), "%s", dir);
    cfg->mappedFileSizeCommitLog = 64 * 1024;
    cfg->mappedFileSizeConsumeQueue = 100 * 20;
    cfg->maxHashSlotNum = 64;
    cfg->maxIndexNum = 256;
    cfg->maxMessageSize = 16 * 1024;
    msg_host_parse(&cfg->storeHost, "10.1.2.3:10911");
}

static inline store *test_open(const store_config *cfg)
{
    char err[256] = "";
    store *s = store_open(cfg, err, sizeof(err));
    if (!s)
        ck_abort_msg("store_open: %s", err);
    return s;
}

/* Puts one message with TAGS/KEYS properties; returns the entry. */
static inline store_put_entry test_put(store *s, const char *topic, int qid, const char *body,
                                       const char *tags, const char *keys)
{
    char props[512];
    int n = 0;
    if (tags)
        n += snprintf(props + n, sizeof(props) - n, "TAGS\001%s", tags);
    if (keys)
        n += snprintf(props + n, sizeof(props) - n, "%sKEYS\001%s", n ? "\002" : "", keys);
    store_msg m = {
        .topic = topic, .queue_id = qid, .born_timestamp = 1700000000000LL,
        .body = (const uint8_t *)body, .body_len = (uint32_t)strlen(body),
        .props = props, .props_len = (uint32_t)n,
    };
    msg_host_parse(&m.born_host, "192.168.0.7:50000");
    store_put_entry e;
    store_put_result res = {.entries = &e};
    ck_assert_int_eq(store_put(s, &m, 1, &res), STORE_PUT_OK);
    return e;
}

static inline char *test_path(const char *dir, const char *rel)
{
    return str_printf("%s/%s", dir, rel);
}

static inline int64_t test_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

#endif
