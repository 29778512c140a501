/*
 * Apache 5.x's EpochFileCache: which master epoch wrote which part of the
 * commit log, kept in storePathRootDir/epochFileCheckpoint in the format of
 * its CheckpointFile:
 *
 *     <number of entries>\n<crc32 of the entry lines>\n<epoch>-<startOffset>\n...
 *
 * written as MixAll.string2File does (write_file_atomic: the previous file
 * kept as .bak). An
 * entry ends where the next one starts; the last one at the log's end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "ha/ha.h"

void ha_epochs_init(ha_epochs *e, const char *path)
{
    memset(e, 0, sizeof *e);
    e->path = path ? xstrdup(path) : NULL;
}

void ha_epochs_free(ha_epochs *e)
{
    free(e->path);
    free(e->v);
    memset(e, 0, sizeof *e);
}

static void push(ha_epochs *e, int32_t epoch, int64_t start)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->v = xrealloc(e->v, sizeof *e->v * (size_t)e->cap);
    }
    e->v[e->n].epoch = epoch;
    e->v[e->n].start = start;
    e->n++;
}

void ha_epochs_decode(ha_epochs *e, const uint8_t *body, size_t len)
{
    e->n = 0;
    for (size_t i = 0; i + HA_AS_EPOCH_ENTRY_SIZE <= len; i += HA_AS_EPOCH_ENTRY_SIZE)
        push(e, (int32_t)get_be32(body + i), (int64_t)get_be64(body + i + 4));
}

/* CheckpointFile.read of one file: RMQ_ERR when missing, short or its CRC disagrees. */
static int parse(ha_epochs *e, const char *text)
{
    e->n = 0;
    char *end;
    long count = strtol(text, &end, 10);
    if (end == text || *end != '\n' || count < 0) return RMQ_ERR;
    const char *p = end + 1;
    long crc = strtol(p, &end, 10);
    if (end == p || *end != '\n') return RMQ_ERR;
    const char *lines = end + 1;
    if ((int32_t)crc != rmq_crc32(lines, strlen(lines))) return RMQ_ERR;
    for (p = lines; *p;) {
        long long ep = strtoll(p, &end, 10);
        if (end == p || *end != '-') return RMQ_ERR;
        const char *q = end + 1;
        long long start = strtoll(q, &end, 10);
        if (end == q || (*end && *end != '\n')) return RMQ_ERR;
        push(e, (int32_t)ep, start);
        p = *end ? end + 1 : end;
    }
    return e->n == count ? RMQ_OK : RMQ_ERR;
}

int ha_epochs_load(ha_epochs *e)
{
    const char *suffix[] = {"", ".bak"};
    for (int i = 0; i < 2; i++) {
        char *path = str_printf("%s%s", e->path, suffix[i]);
        char *text = read_file(path, NULL);
        int rc = text ? parse(e, text) : RMQ_ERR;
        free(text);
        if (rc == RMQ_OK) {
            log_info("ha", "%d epoch entries loaded from %s", e->n, path);
            free(path);
            return RMQ_OK;
        }
        if (text) log_warn("ha", "%s is not an epoch checkpoint; ignored", path);
        free(path);
    }
    e->n = 0;
    return RMQ_OK;   /* no file: a broker that never ran in controller mode */
}

static int persist(const ha_epochs *e)
{
    if (!e->path || !e->n) return RMQ_OK;   /* CheckpointFile.write skips an empty list */
    char *lines = xstrdup("");
    for (int i = 0; i < e->n; i++) {
        char *l = str_printf("%s%d-%" PRId64 "\n", lines, e->v[i].epoch, e->v[i].start);
        free(lines);
        lines = l;
    }
    char *text = str_printf("%d\n%d\n%s", e->n, rmq_crc32(lines, strlen(lines)), lines);
    int rc = write_file_atomic(e->path, text, strlen(text));   /* the previous file becomes .bak */
    if (rc) log_error("ha", "cannot write %s", e->path);
    free(text);
    free(lines);
    return rc;
}

int32_t ha_epochs_last(const ha_epochs *e) { return e->n ? e->v[e->n - 1].epoch : -1; }

bool ha_epochs_append(ha_epochs *e, int32_t epoch, int64_t start)
{
    /* appendEntry refuses an epoch or a start offset that does not grow. */
    if (e->n && (e->v[e->n - 1].epoch >= epoch || e->v[e->n - 1].start >= start)) return false;
    push(e, epoch, start);
    persist(e);
    return true;
}

void ha_epochs_truncate_from(ha_epochs *e, int64_t offset)
{
    int n = e->n;
    while (e->n && e->v[e->n - 1].start >= offset) e->n--;
    if (e->n != n) persist(e);
}

void ha_epochs_truncate_from_epoch(ha_epochs *e, int32_t epoch)
{
    int n = e->n;
    while (e->n && e->v[e->n - 1].epoch >= epoch) e->n--;
    if (e->n != n) persist(e);
}

int64_t ha_epochs_end(const ha_epochs *e, int i, int64_t log_end)
{
    return i + 1 < e->n ? e->v[i + 1].start : log_end;
}

int ha_epochs_find(const ha_epochs *e, int64_t offset)
{
    for (int i = e->n - 1; i >= 0; i--)
        if (e->v[i].start <= offset) return i;
    return -1;
}

int64_t ha_epochs_consistent_point(const ha_epochs *local, int64_t local_end, const ha_epochs *remote,
                                   int64_t remote_end)
{
    /* findConsistentPoint: the newest local epoch the other side has with the
     * same start; they agree up to the nearer of the two ends. */
    for (int i = local->n - 1; i >= 0; i--)
        for (int j = 0; j < remote->n; j++)
            if (remote->v[j].epoch == local->v[i].epoch) {
                if (remote->v[j].start != local->v[i].start) break;
                int64_t a = ha_epochs_end(local, i, local_end), b = ha_epochs_end(remote, j, remote_end);
                return a < b ? a : b;
            }
    return -1;
}
