/*
 * index_file: IndexService / IndexFile — hash index from "topic#key" to
 * commit-log offsets, in files named by their creation time
 * (yyyyMMddHHmmssSSS). Layout: 40-byte header, hashSlotNum int32 slots
 * (newest entry number of the bucket), then 20-byte entries chained
 * newest-first through prevIndexNo. Entry 0 is never used.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

#define IDX_HEADER_SIZE 40
#define IDX_ENTRY_SIZE 20
enum { H_BEGIN_TS = 0, H_END_TS = 8, H_BEGIN_PHY = 16, H_END_PHY = 24, H_SLOT_COUNT = 32, H_INDEX_COUNT = 36 };

static int64_t file_size(const index_service *ix)
{
    return IDX_HEADER_SIZE + (int64_t)ix->hash_slots * 4 + (int64_t)ix->index_num * IDX_ENTRY_SIZE;
}

static int64_t h64(const mapped_file *f, int off) { return (int64_t)get_be64(f->base + off); }
static int32_t h32(const mapped_file *f, int off) { return (int32_t)get_be32(f->base + off); }
static void set64(mapped_file *f, int off, int64_t v) { put_be64(f->base + off, (uint64_t)v); }
static void set32(mapped_file *f, int off, int32_t v) { put_be32(f->base + off, (uint32_t)v); }

static uint8_t *slot_at(const mapped_file *f, int32_t slot)
{
    return f->base + IDX_HEADER_SIZE + (int64_t)slot * 4;
}

static uint8_t *entry_at(const index_service *ix, const mapped_file *f, int32_t no)
{
    return f->base + IDX_HEADER_SIZE + (int64_t)ix->hash_slots * 4 + (int64_t)no * IDX_ENTRY_SIZE;
}

/* indexKeyHashMethod: abs(String.hashCode), 0 when that overflows. */
static int32_t key_hash(const char *key, size_t len)
{
    int32_t h = java_string_hash(key, len);
    return h == INT32_MIN ? 0 : (h < 0 ? -h : h);
}

void index_init(index_service *ix, const char *dir, int32_t hash_slots, int32_t index_num)
{
    memset(ix, 0, sizeof(*ix));
    ix->dir = xstrdup(dir);
    ix->hash_slots = hash_slots;
    ix->index_num = index_num;
    pthread_rwlock_init(&ix->lock, NULL);
}

/* UtilAll.timeMillisToHumanString, local time. */
static void ms_to_name(int64_t ms, char out[48])
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&sec, &tm);
    snprintf(out, 48, "%04d%02d%02d%02d%02d%02d%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int64_t name_to_ms(const char *name)
{
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(name, "%4d%2d%2d%2d%2d%2d%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000 + ms;
}

static void push_file(index_service *ix, mapped_file *f)
{
    pthread_rwlock_wrlock(&ix->lock);
    if (ix->count == ix->cap) {
        ix->cap = ix->cap ? ix->cap * 2 : 8;
        ix->files = xrealloc(ix->files, (size_t)ix->cap * sizeof(*ix->files));
    }
    ix->files[ix->count++] = f;
    pthread_rwlock_unlock(&ix->lock);
}

int index_load(index_service *ix, char *err, size_t errlen)
{
    int n, rc = RMQ_OK;
    char **names = store_list_files(ix->dir, 17, &n, err, errlen);
    if (n < 0)
        return RMQ_ERR;
    for (int i = 0; i < n; i++) {
        if (rc == RMQ_OK) {
            char *path = str_printf("%s/%s", ix->dir, names[i]);
            mapped_file *f = mapped_file_open(path, 0, file_size(ix), false, false, err, errlen);
            free(path);
            if (f) {
                push_file(ix, f);
                ix->last_file_ms = name_to_ms(names[i]);
            } else {
                rc = RMQ_ERR;
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

void index_free(index_service *ix)
{
    for (int i = 0; i < ix->count; i++)
        mapped_file_unref(ix->files[i]);
    free(ix->files);
    free(ix->dir);
    pthread_rwlock_destroy(&ix->lock);
}

static void flush_whole(mapped_file *f)
{
    if (msync(f->base, (size_t)f->size, MS_SYNC) != 0)
        log_error("store", "msync %s: %s", f->path, strerror(errno));
}

/* getAndCreateLastIndexFile: the newest file with room, creating one if needed. */
static mapped_file *writable_file(index_service *ix, int64_t now)
{
    /* Only the appender adds files and retention never removes the last
     * one, so the pointer stays valid after the lock is dropped. */
    pthread_rwlock_rdlock(&ix->lock);
    mapped_file *last = ix->count ? ix->files[ix->count - 1] : NULL;
    pthread_rwlock_unlock(&ix->lock);
    if (last && h32(last, H_INDEX_COUNT) < ix->index_num)
        return last;
    if (mkdirs(ix->dir) != RMQ_OK) {
        log_error("store", "mkdir %s: %s", ix->dir, strerror(errno));
        return NULL;
    }
    /* Names must sort in creation order even when files fill within one ms. */
    int64_t ms = now > ix->last_file_ms ? now : ix->last_file_ms + 1;
    char name[48], err[256];
    ms_to_name(ms, name);
    char *path = str_printf("%s/%s", ix->dir, name);
    mapped_file *f = mapped_file_open(path, 0, file_size(ix), true, false, err, sizeof(err));
    free(path);
    if (!f) {
        log_error("store", "create index file: %s", err);
        return NULL;
    }
    ix->last_file_ms = ms;
    if (last) {
        int64_t end_phy = h64(last, H_END_PHY), end_ts = h64(last, H_END_TS);
        set64(f, H_BEGIN_PHY, end_phy);
        set64(f, H_END_PHY, end_phy);
        set64(f, H_BEGIN_TS, end_ts);
        set64(f, H_END_TS, end_ts);
        flush_whole(last);
    }
    set32(f, H_INDEX_COUNT, 1);
    push_file(ix, f);
    return f;
}

/* IndexFile.putKey; false when the file is full. */
static bool put_key(index_service *ix, mapped_file *f, const char *key, size_t len,
                    int64_t phys, int64_t store_ts)
{
    int32_t count = h32(f, H_INDEX_COUNT);
    if (count >= ix->index_num)
        return false;
    int32_t hash = key_hash(key, len);
    uint8_t *slot = slot_at(f, hash % ix->hash_slots);
    int32_t head = (int32_t)get_be32(slot);
    /* A head equal to count was written by a putKey cut short before the
     * count moved; that entry's prev link still holds the real head. */
    if (head == count && count > 0)
        head = (int32_t)get_be32(entry_at(ix, f, count) + 16);
    if (head <= 0 || head > count)
        head = 0;
    int64_t begin_ts = h64(f, H_BEGIN_TS);
    int64_t diff = (store_ts - begin_ts) / 1000;
    if (begin_ts <= 0 || diff < 0)
        diff = 0;
    else if (diff > INT32_MAX)
        diff = INT32_MAX;
    uint8_t *e = entry_at(ix, f, count);
    put_be32(e, (uint32_t)hash);
    put_be64(e + 4, (uint64_t)phys);
    put_be32(e + 12, (uint32_t)diff);
    put_be32(e + 16, (uint32_t)head);
    put_be32(slot, (uint32_t)count);
    if (count <= 1) {
        set64(f, H_BEGIN_PHY, phys);
        set64(f, H_BEGIN_TS, store_ts);
    }
    if (head == 0)
        set32(f, H_SLOT_COUNT, h32(f, H_SLOT_COUNT) + 1);
    set32(f, H_INDEX_COUNT, count + 1);
    set64(f, H_END_PHY, phys);
    set64(f, H_END_TS, store_ts);
    return true;
}

static mapped_file *index_key(index_service *ix, mapped_file *f, const char *topic, size_t topic_len,
                              const char *key, size_t key_len, const msg_record *rec, int64_t now)
{
    char stack[512];
    size_t len = topic_len + 1 + key_len;
    char *buf = len <= sizeof(stack) ? stack : xmalloc(len);
    memcpy(buf, topic, topic_len);
    buf[topic_len] = '#';
    memcpy(buf + topic_len + 1, key, key_len);
    while (f && !put_key(ix, f, buf, len, rec->phys_offset, rec->store_timestamp))
        f = writable_file(ix, now);
    if (buf != stack)
        free(buf);
    return f;
}

void index_build(index_service *ix, const msg_record *rec, int64_t now)
{
    mapped_file *f = writable_file(ix, now);
    if (!f || rec->phys_offset < h64(f, H_END_PHY))
        return;                        /* indexed already (recovery replays) */
    if (MSG_TRANSACTION_TYPE(rec->sysflag) == MSG_TRANS_ROLLBACK)
        return;
    const char *v;
    size_t vlen;
    if (msg_props_find(rec->props, rec->props_len, MSG_PROP_UNIQ_KEY, &v, &vlen) && vlen > 0)
        f = index_key(ix, f, rec->topic, rec->topic_len, v, vlen, rec, now);
    if (f && msg_props_find(rec->props, rec->props_len, MSG_PROP_KEYS, &v, &vlen)) {
        const char *end = v + vlen;
        while (f && v < end) {
            const char *sp = memchr(v, MSG_KEY_SEPARATOR, (size_t)(end - v));
            const char *kend = sp ? sp : end;
            if (kend > v)
                f = index_key(ix, f, rec->topic, rec->topic_len, v, (size_t)(kend - v), rec, now);
            v = kend + 1;
        }
    }
}

/* IndexFile.isTimeMatched */
static bool time_matched(const mapped_file *f, int64_t begin, int64_t end)
{
    int64_t b = h64(f, H_BEGIN_TS), e = h64(f, H_END_TS);
    return (begin < b && end > e) || (begin >= b && begin <= e) || (end >= b && end <= e);
}

/* IndexFile.selectPhyOffset */
static void select_offsets(index_service *ix, mapped_file *f, const char *key, size_t len, int max,
                           int64_t begin, int64_t end, store_query_result *out)
{
    int32_t hash = key_hash(key, len);
    int32_t count = h32(f, H_INDEX_COUNT);
    int32_t no = (int32_t)get_be32(slot_at(f, hash % ix->hash_slots));
    if (no <= 0 || no > count || count <= 1)
        return;
    int64_t begin_ts = h64(f, H_BEGIN_TS);
    while (out->count < max) {
        const uint8_t *e = entry_at(ix, f, no);
        int32_t hash_read = (int32_t)get_be32(e);
        int64_t phys = (int64_t)get_be64(e + 4);
        int64_t diff = (int32_t)get_be32(e + 12);
        int32_t prev = (int32_t)get_be32(e + 16);
        if (diff < 0)
            break;
        int64_t time_read = begin_ts + diff * 1000;
        if (hash_read == hash && time_read >= begin && time_read <= end)
            out->offsets[out->count++] = phys;
        if (prev <= 0 || prev > count || prev == no || time_read < begin)
            break;
        no = prev;
    }
}

void index_query(index_service *ix, const char *topic, const char *key, int max,
                 int64_t begin, int64_t end, store_query_result *out)
{
    char *full = str_printf("%s#%s", topic, key);
    size_t len = strlen(full);
    pthread_rwlock_rdlock(&ix->lock);
    for (int i = ix->count; i > 0; i--) {
        mapped_file *f = ix->files[i - 1];
        if (i == ix->count) {
            out->index_last_update_timestamp = h64(f, H_END_TS);
            out->index_last_update_phy_offset = h64(f, H_END_PHY);
        }
        if (time_matched(f, begin, end))
            select_offsets(ix, f, full, len, max, begin, end, out);
        if (h64(f, H_BEGIN_TS) < begin || out->count >= max)
            break;
    }
    pthread_rwlock_unlock(&ix->lock);
    free(full);
}

void index_flush(index_service *ix)
{
    pthread_rwlock_rdlock(&ix->lock);
    mapped_file *f = ix->count ? ix->files[ix->count - 1] : NULL;
    if (f)
        mapped_file_ref(f);
    pthread_rwlock_unlock(&ix->lock);
    if (f) {
        flush_whole(f);
        mapped_file_unref(f);
    }
}

void index_delete_expired(index_service *ix, int64_t phys_min)
{
    pthread_rwlock_wrlock(&ix->lock);
    int keep_from = 0;
    while (keep_from < ix->count - 1 && h64(ix->files[keep_from], H_END_PHY) < phys_min) {
        mapped_file *f = ix->files[keep_from++];
        log_info("store", "delete index file %s", f->path);
        unlink(f->path);
        mapped_file_unref(f);
    }
    memmove(ix->files, ix->files + keep_from, (size_t)(ix->count - keep_from) * sizeof(*ix->files));
    ix->count -= keep_from;
    pthread_rwlock_unlock(&ix->lock);
}
