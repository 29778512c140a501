/*
 * A Raft node's disk (docs/ha.md, "Controller store"):
 *   raft.meta      {"term":T,"votedFor":V}, rewritten atomically before a vote or a new term is acted on;
 *   raft.snapshot  [index i64][term i64][state], all big-endian, the state machine's dump;
 *   raft.log       records [index i64][term i64][len u32][data][crc u32 of data], appended
 *                  and fsync'd before the leader counts or a follower acknowledges them.
 * A torn tail record (crash while appending) is dropped at open; the leader sends it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fjson.h"
#include "common/util.h"
#include "raft/raft.h"

struct raft_store {
    char *meta, *snap, *log;
    int fd;    /* raft.log, appending */
};

static void put64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8)) p[i] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static int64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return (int64_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define REC_HEAD 20

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return RMQ_ERR;
        p += n;
        len -= (size_t)n;
    }
    return RMQ_OK;
}

static int write_records(int fd, int64_t first_index, const raft_entry *e, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint8_t head[REC_HEAD], tail[4];
        put64(head, first_index + i);
        put64(head + 8, e[i].term);
        put32(head + 16, (uint32_t)e[i].len);
        put32(tail, (uint32_t)rmq_crc32(e[i].data ? e[i].data : "", e[i].len));
        if (write_all(fd, head, sizeof head) || (e[i].len && write_all(fd, e[i].data, e[i].len)) ||
            write_all(fd, tail, sizeof tail))
            return RMQ_ERR;
    }
    return RMQ_OK;
}

/* The records after snap_index, contiguous; stops at the first torn or foreign one. */
static void read_log(const uint8_t *p, size_t len, raft_disk *d)
{
    size_t off = 0, cap = 0;
    int64_t expect = d->snap_index + 1;
    while (off + REC_HEAD <= len) {
        int64_t index = get64(p + off), term = get64(p + off + 8);
        uint32_t n = get32(p + off + 16);
        if (off + REC_HEAD + n + 4 > len) break;
        const uint8_t *data = p + off + REC_HEAD;
        if ((uint32_t)rmq_crc32(data, n) != get32(data + n)) break;
        off += REC_HEAD + n + 4;
        if (index <= d->snap_index) continue;
        if (index != expect) break;
        if ((size_t)d->n_entries == cap) {
            cap = cap ? cap * 2 : 64;
            d->entries = xrealloc(d->entries, cap * sizeof *d->entries);
        }
        raft_entry *e = &d->entries[d->n_entries++];
        e->term = term;
        e->len = n;
        e->data = xmalloc(n + 1);
        memcpy(e->data, data, n);
        e->data[n] = '\0';
        expect++;
    }
}

raft_store *raft_store_open(const char *dir, raft_disk *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->voted_for = -1;
    if (mkdirs(dir)) {
        snprintf(err, errlen, "cannot create %s", dir);
        return NULL;
    }
    raft_store *s = xcalloc(1, sizeof *s);
    s->meta = str_printf("%s/raft.meta", dir);
    s->snap = str_printf("%s/raft.snapshot", dir);
    s->log = str_printf("%s/raft.log", dir);
    s->fd = -1;
    size_t len;
    char *text = read_file_or_bak(s->meta, &len);
    if (text) {
        const char *why;
        cJSON *root = fjson_parse(text, len, &why);
        int64_t term = 0, vote = -1;
        if (!root || fjson_field_int64(root, "term", &term) || fjson_field_int64(root, "votedFor", &vote)) {
            snprintf(err, errlen, "%s is malformed", s->meta);
            cJSON_Delete(root);
            free(text);
            raft_store_close(s);
            return NULL;
        }
        d->term = term;
        d->voted_for = (int)vote;
        cJSON_Delete(root);
        free(text);
    }
    /* Binary (it starts with zero bytes, which read_file_or_bak takes for an empty file); the
     * rename in write_file_atomic leaves either the old or the new one. */
    char *snap = read_file(s->snap, &len);
    if (snap && len >= 16) {
        d->snap_index = get64((const uint8_t *)snap);
        d->snap_term = get64((const uint8_t *)snap + 8);
        d->snap_len = len - 16;
        d->snap_data = xmalloc(d->snap_len + 1);
        memcpy(d->snap_data, snap + 16, d->snap_len);
        d->snap_data[d->snap_len] = '\0';
    }
    free(snap);
    char *log = read_file(s->log, &len);
    if (log) read_log((const uint8_t *)log, len, d);
    free(log);
    /* Rewrite: drops a torn tail so appends continue a clean file. */
    if (raft_store_rewrite(s, d->snap_index, d->snap_term, NULL, 0, false, d->entries, d->n_entries)) {
        snprintf(err, errlen, "cannot write %s: %s", s->log, strerror(errno));
        raft_store_close(s);
        return NULL;
    }
    return s;
}

void raft_store_close(raft_store *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    free(s->meta);
    free(s->snap);
    free(s->log);
    free(s);
}

int raft_store_meta(raft_store *s, int64_t term, int voted_for)
{
    char *json = str_printf("{\"term\":%lld,\"votedFor\":%d}", (long long)term, voted_for);
    int rc = write_file_atomic(s->meta, json, strlen(json));
    free(json);
    return rc;
}

int raft_store_append(raft_store *s, int64_t first_index, const raft_entry *e, int64_t n)
{
    if (s->fd < 0 || write_records(s->fd, first_index, e, n) || fdatasync(s->fd)) return RMQ_ERR;
    return RMQ_OK;
}

int raft_store_rewrite(raft_store *s, int64_t snap_index, int64_t snap_term, const char *snap, size_t snap_len,
                       bool new_snapshot, const raft_entry *e, int64_t n)
{
    if (new_snapshot) {
        char *buf = xmalloc(16 + snap_len);
        put64((uint8_t *)buf, snap_index);
        put64((uint8_t *)buf + 8, snap_term);
        if (snap_len) memcpy(buf + 16, snap, snap_len);
        int rc = write_file_atomic(s->snap, buf, 16 + snap_len);
        free(buf);
        if (rc) return rc;
    }
    char *tmp = str_printf("%s.tmp", s->log);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 || write_records(fd, snap_index + 1, e, n) || fsync(fd) || rename(tmp, s->log) ? RMQ_ERR : RMQ_OK;
    if (rc && fd >= 0) unlink(tmp);
    if (fd >= 0) close(fd);
    free(tmp);
    if (rc) return rc;
    if (s->fd >= 0) close(s->fd);
    s->fd = open(s->log, O_WRONLY | O_APPEND | O_CLOEXEC);
    return s->fd < 0 ? RMQ_ERR : RMQ_OK;
}
