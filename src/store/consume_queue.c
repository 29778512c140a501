/*
 * consume_queue: one ConsumeQueue per topic/queueId — 20-byte entries
 * (commit-log offset, size, tagsCode) whose index is the queue offset —
 * and the table of all of them.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

static uint32_t cq_hash(const char *topic, int32_t queue_id)
{
    uint32_t h = 2166136261u;
    for (const char *p = topic; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return (h ^ (uint32_t)queue_id) * 16777619u;
}

static consume_queue *cq_new(cq_table *t, const char *topic, int32_t queue_id)
{
    consume_queue *cq = xcalloc(1, sizeof(*cq));
    cq->topic = xstrdup(topic);
    cq->queue_id = queue_id;
    char *dir = str_printf("%s/%s/%d", t->root, topic, queue_id);
    mapped_queue_init(&cq->q, dir, t->file_size, true);
    free(dir);
    atomic_init(&cq->min_logic_offset, 0);
    return cq;
}

static void cq_free(consume_queue *cq)
{
    mapped_queue_free(&cq->q);
    free(cq->topic);
    free(cq);
}

static void table_insert(cq_table *t, consume_queue *cq)
{
    if (t->count >= t->nbuckets) {
        int nb = t->nbuckets ? t->nbuckets * 2 : 256;
        consume_queue **b = xcalloc((size_t)nb, sizeof(*b));
        for (int i = 0; i < t->nbuckets; i++) {
            while (t->buckets[i]) {
                consume_queue *c = t->buckets[i];
                t->buckets[i] = c->next;
                uint32_t h = cq_hash(c->topic, c->queue_id) % (uint32_t)nb;
                c->next = b[h];
                b[h] = c;
            }
        }
        free(t->buckets);
        t->buckets = b;
        t->nbuckets = nb;
    }
    uint32_t h = cq_hash(cq->topic, cq->queue_id) % (uint32_t)t->nbuckets;
    cq->next = t->buckets[h];
    t->buckets[h] = cq;
    t->count++;
}

void cq_table_init(cq_table *t, const char *root, int64_t file_size)
{
    memset(t, 0, sizeof(*t));
    t->root = xstrdup(root);
    t->file_size = file_size;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&t->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
}

consume_queue *cq_find(cq_table *t, const char *topic, int32_t queue_id)
{
    if (!t->nbuckets)
        return NULL;
    uint32_t h = cq_hash(topic, queue_id) % (uint32_t)t->nbuckets;
    for (consume_queue *c = t->buckets[h]; c; c = c->next)
        if (c->queue_id == queue_id && strcmp(c->topic, topic) == 0)
            return c;
    return NULL;
}

void cq_ensure(cq_table *t, const char *topic, int32_t queue_id)
{
    pthread_rwlock_wrlock(&t->lock);
    if (!cq_find(t, topic, queue_id))
        table_insert(t, cq_new(t, topic, queue_id));
    pthread_rwlock_unlock(&t->lock);
}

void cq_remove(cq_table *t, consume_queue *cq)
{
    uint32_t h = cq_hash(cq->topic, cq->queue_id) % (uint32_t)t->nbuckets;
    for (consume_queue **pp = &t->buckets[h]; *pp; pp = &(*pp)->next) {
        if (*pp == cq) {
            *pp = cq->next;
            t->count--;
            break;
        }
    }
    mapped_queue_destroy_all(&cq->q);
    char *topic_dir = str_printf("%s/%s", t->root, cq->topic);
    rmdir(topic_dir);                  /* succeeds once the topic's last queue is gone */
    free(topic_dir);
    cq->next = t->removed;
    t->removed = cq;
}

consume_queue **cq_list(cq_table *t, int *n)
{
    consume_queue **out = xmalloc((size_t)(t->count + 1) * sizeof(*out));
    int k = 0;
    for (int i = 0; i < t->nbuckets; i++)
        for (consume_queue *c = t->buckets[i]; c; c = c->next)
            out[k++] = c;
    *n = k;
    return out;
}

void cq_table_free(cq_table *t)
{
    for (int i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i]) {
            consume_queue *c = t->buckets[i];
            t->buckets[i] = c->next;
            cq_free(c);
        }
    }
    while (t->removed) {
        consume_queue *c = t->removed;
        t->removed = c->next;
        cq_free(c);
    }
    free(t->buckets);
    free(t->root);
    pthread_rwlock_destroy(&t->lock);
}

static void entry_at(const uint8_t *p, int64_t *phys, int32_t *size, int64_t *tags)
{
    *phys = (int64_t)get_be64(p);
    *size = (int32_t)get_be32(p + 8);
    if (tags)
        *tags = (int64_t)get_be64(p + 12);
}

/* ConsumeQueue.recover: keep entries while (offset >= 0, size > 0). Single-threaded. */
static void cq_recover(consume_queue *cq)
{
    mapped_queue *q = &cq->q;
    if (q->count == 0)
        return;
    int i = q->count > 3 ? q->count - 3 : 0;
    int64_t end = q->files[i]->from;
    for (; i < q->count; i++) {
        mapped_file *f = q->files[i];
        int64_t pos = 0;
        for (; pos + CQ_UNIT_SIZE <= f->size; pos += CQ_UNIT_SIZE) {
            int64_t phys;
            int32_t size;
            entry_at(f->base + pos, &phys, &size, NULL);
            if (phys < 0 || size <= 0)
                break;
            cq->max_physic_offset = phys + size;
        }
        end = f->from + pos;
        if (pos < f->size)
            break;
    }
    mapped_queue_truncate(q, end, 0);
    atomic_store(&cq->min_logic_offset, q->count ? q->files[0]->from : 0);
}

int cq_table_load(cq_table *t, char *err, size_t errlen)
{
    DIR *d = opendir(t->root);
    if (!d) {
        if (errno == ENOENT)
            return RMQ_OK;
        snprintf(err, errlen, "opendir %s: %s", t->root, strerror(errno));
        return RMQ_ERR;
    }
    int rc = RMQ_OK;
    struct dirent *de;
    while (rc == RMQ_OK && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *tdir = str_printf("%s/%s", t->root, de->d_name);
        DIR *qd = opendir(tdir);
        free(tdir);
        if (!qd)
            continue;
        struct dirent *qe;
        while (rc == RMQ_OK && (qe = readdir(qd)) != NULL) {
            int32_t qid;
            if (parse_int32(qe->d_name, &qid) != RMQ_OK || qid < 0)
                continue;
            consume_queue *cq = cq_new(t, de->d_name, qid);
            rc = mapped_queue_load(&cq->q, err, errlen);
            if (rc != RMQ_OK) {
                cq_free(cq);
                break;
            }
            cq_recover(cq);
            table_insert(t, cq);
        }
        closedir(qd);
    }
    closedir(d);
    return rc;
}

int64_t cq_min_offset(consume_queue *cq)
{
    return atomic_load(&cq->min_logic_offset) / CQ_UNIT_SIZE;
}

int64_t cq_max_offset(consume_queue *cq)
{
    return mapped_queue_max_offset(&cq->q) / CQ_UNIT_SIZE;
}

/* ConsumeQueue.fillPreBlank: a queue whose first file starts mid-file. */
static void fill_pre_blank(mapped_file *f, int64_t until)
{
    for (int64_t pos = 0; pos < until; pos += CQ_UNIT_SIZE) {
        put_be64(f->base + pos, 0);
        put_be32(f->base + pos + 8, INT32_MAX);
        put_be64(f->base + pos + 12, 0);
    }
    atomic_store_explicit(&f->wrote, until, memory_order_release);
}

int cq_put(consume_queue *cq, int64_t phys, int32_t size, int64_t tags_code, int64_t queue_offset)
{
    if (phys + size <= cq->max_physic_offset)
        return RMQ_OK;                 /* built already (recovery replays) */
    mapped_queue *q = &cq->q;
    int64_t expect = queue_offset * CQ_UNIT_SIZE;
    mapped_file *f = mapped_queue_last(q);
    if (f && atomic_load(&f->wrote) == f->size) {
        int64_t next = f->from + f->size;
        mapped_file_unref(f);
        f = NULL;
        char err[256];
        if (!mapped_queue_create(q, next, err, sizeof(err))) {
            log_error("store", "consume queue %s-%d: %s", cq->topic, cq->queue_id, err);
            return RMQ_ERR;
        }
        f = mapped_queue_last(q);
    } else if (!f) {
        char err[256];
        int64_t from = expect - expect % q->file_size;
        if (!mapped_queue_create(q, from, err, sizeof(err))) {
            log_error("store", "consume queue %s-%d: %s", cq->topic, cq->queue_id, err);
            return RMQ_ERR;
        }
        f = mapped_queue_last(q);
        if (expect != from)
            fill_pre_blank(f, expect - from);
        atomic_store(&cq->min_logic_offset, expect);
        atomic_store(&q->flushed_where, from);
    }
    int64_t wrote = atomic_load(&f->wrote);
    int64_t current = f->from + wrote;
    if (queue_offset != 0 && expect < current) {
        mapped_file_unref(f);
        return RMQ_OK;                 /* repeated build */
    }
    if (expect != current)
        log_error("store", "[BUG] consume queue %s-%d order may be wrong: expect %" PRId64 " current %" PRId64,
                  cq->topic, cq->queue_id, expect, current);
    uint8_t *p = f->base + wrote;
    put_be64(p, (uint64_t)phys);
    put_be32(p + 8, (uint32_t)size);
    put_be64(p + 12, (uint64_t)tags_code);
    atomic_store_explicit(&f->wrote, wrote + CQ_UNIT_SIZE, memory_order_release);
    cq->max_physic_offset = phys + size;
    mapped_file_unref(f);
    return RMQ_OK;
}

int cq_entries(consume_queue *cq, int64_t queue_offset, store_slice *out)
{
    int64_t pos = queue_offset * CQ_UNIT_SIZE;
    if (queue_offset < 0 || pos < atomic_load(&cq->min_logic_offset))
        return RMQ_ERR;
    mapped_file *f = mapped_queue_find(&cq->q, pos);
    if (!f)
        return RMQ_ERR;
    int64_t rel = pos - f->from;
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
    if (rel >= wrote) {
        mapped_file_unref(f);
        return RMQ_ERR;
    }
    out->data = f->base + rel;
    out->len = (uint32_t)(wrote - rel);
    out->phys_offset = pos;
    out->file = f;
    return RMQ_OK;
}

int cq_read_entry(consume_queue *cq, int64_t queue_offset, int64_t *phys, int32_t *size, int64_t *tags)
{
    store_slice sl;
    if (cq_entries(cq, queue_offset, &sl) != RMQ_OK)
        return RMQ_ERR;
    entry_at(sl.data, phys, size, tags);
    store_slice_release(&sl);
    return RMQ_OK;
}

void cq_truncate_dirty(consume_queue *cq, int64_t phys_end)
{
    mapped_queue *q = &cq->q;
    if (q->count == 0)
        return;
    mapped_file *last = q->files[q->count - 1];
    int64_t old_end = last->from + atomic_load(&last->wrote);
    int64_t cut = q->files[0]->from;
    cq->max_physic_offset = 0;
    /* Entries are in commit-log order: walk back to the last one before phys_end. */
    for (int i = q->count - 1; i >= 0; i--) {
        mapped_file *f = q->files[i];
        int64_t pos = atomic_load(&f->wrote) - CQ_UNIT_SIZE;
        for (; pos >= 0; pos -= CQ_UNIT_SIZE) {
            int64_t phys;
            int32_t size;
            entry_at(f->base + pos, &phys, &size, NULL);
            if (phys < phys_end) {
                cut = f->from + pos + CQ_UNIT_SIZE;
                cq->max_physic_offset = phys + size;
                goto found;
            }
        }
    }
found:
    if (cut < old_end) {
        log_info("store", "consume queue %s-%d: dropping entries past commit-log offset %" PRId64,
                 cq->topic, cq->queue_id, phys_end);
        mapped_queue_truncate(q, cut, old_end - cut);
    }
}

void cq_correct_min_offset(consume_queue *cq, int64_t phys_min)
{
    mapped_file *f = mapped_queue_first(&cq->q);
    if (!f)
        return;
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
    for (int64_t pos = 0; pos + CQ_UNIT_SIZE <= wrote; pos += CQ_UNIT_SIZE) {
        int64_t phys;
        int32_t size;
        entry_at(f->base + pos, &phys, &size, NULL);
        if (phys >= phys_min) {
            atomic_store(&cq->min_logic_offset, f->from + pos);
            break;
        }
    }
    mapped_file_unref(f);
}

void cq_delete_expired(consume_queue *cq, int64_t phys_min)
{
    for (;;) {
        pthread_rwlock_rdlock(&cq->q.lock);
        bool expired = false;
        if (cq->q.count > 1) {
            mapped_file *f = cq->q.files[0];
            int64_t phys;
            int32_t size;
            entry_at(f->base + f->size - CQ_UNIT_SIZE, &phys, &size, NULL);
            expired = phys < phys_min;
        }
        pthread_rwlock_unlock(&cq->q.lock);
        if (!expired)
            break;
        mapped_queue_delete_first(&cq->q);
    }
    cq_correct_min_offset(cq, phys_min);
}

int64_t cq_last_phys_offset(consume_queue *cq)
{
    mapped_file *f = mapped_queue_last(&cq->q);
    if (!f)
        return -1;
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire), phys = -1;
    int32_t size;
    if (wrote >= CQ_UNIT_SIZE)
        entry_at(f->base + wrote - CQ_UNIT_SIZE, &phys, &size, NULL);
    mapped_file_unref(f);
    return phys;
}

/* MappedFileQueue.getMappedFileByTime: first file modified at or after ts, else the last. */
static mapped_file *file_by_time(mapped_queue *q, int64_t ts)
{
    mapped_file *found = NULL;
    pthread_rwlock_rdlock(&q->lock);
    for (int i = 0; i < q->count && !found; i++)
        if (mapped_file_mtime(q->files[i]) >= ts)
            found = q->files[i];
    if (!found && q->count)
        found = q->files[q->count - 1];
    if (found)
        mapped_file_ref(found);
    pthread_rwlock_unlock(&q->lock);
    return found;
}

int64_t cq_offset_by_time(consume_queue *cq, mapped_queue *cl, int64_t timestamp)
{
    mapped_file *f = file_by_time(&cq->q, timestamp);
    if (!f)
        return 0;
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
    int64_t min_logic = atomic_load(&cq->min_logic_offset);
    int64_t low = min_logic > f->from ? min_logic - f->from : 0;
    int64_t high = wrote - CQ_UNIT_SIZE;
    int64_t target = -1, left = -1, right = -1, left_ts = -1, right_ts = -1, result = 0;
    int64_t min_phys = mapped_queue_min_offset(cl);
    if (wrote == 0)
        goto out;
    while (high >= low) {
        int64_t mid = (low + high) / (2 * CQ_UNIT_SIZE) * CQ_UNIT_SIZE;
        int64_t phys;
        int32_t size;
        entry_at(f->base + mid, &phys, &size, NULL);
        if (phys < min_phys) {
            low = mid + CQ_UNIT_SIZE;
            left = mid;
            continue;
        }
        int64_t ts = commitlog_store_timestamp(cl, phys, (uint32_t)size);
        if (ts < 0)
            goto out;
        if (ts == timestamp) {
            target = mid;
            break;
        } else if (ts > timestamp) {
            high = mid - CQ_UNIT_SIZE;
            right = mid;
            right_ts = ts;
        } else {
            low = mid + CQ_UNIT_SIZE;
            left = mid;
            left_ts = ts;
        }
    }
    int64_t off;
    if (target != -1)
        off = target;
    else if (left_ts == -1)
        off = right;
    else if (right_ts == -1)
        off = left;
    else
        off = llabs(timestamp - left_ts) > llabs(timestamp - right_ts) ? right : left;
    result = (f->from + off) / CQ_UNIT_SIZE;
out:
    mapped_file_unref(f);
    return result;
}
