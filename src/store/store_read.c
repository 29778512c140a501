/*
 * store_read: pulls (getMessage), queue offset and time lookups, single
 * record reads, key queries and the HA raw read.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

/* ---- get ---- */

const char *store_get_status_name(store_get_status st)
{
    static const char *names[] = {
        "FOUND", "NO_MATCHED_MESSAGE", "MESSAGE_WAS_REMOVING", "OFFSET_FOUND_NULL",
        "OFFSET_OVERFLOW_BADLY", "OFFSET_OVERFLOW_ONE", "OFFSET_TOO_SMALL",
        "NO_MATCHED_LOGIC_QUEUE", "NO_MESSAGE_IN_QUEUE",
    };
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "UNKNOWN";
}

void store_slice_release(store_slice *sl)
{
    if (sl->file)
        mapped_file_unref(sl->file);
    sl->file = NULL;
    sl->data = NULL;
}

/* nextOffsetCorrection: a slave keeps the consumer's offset unless told to check it. */
static int64_t next_offset_correction(store *s, int64_t old_offset, int64_t new_offset)
{
    return s->cfg.brokerRole != STORE_SLAVE || s->cfg.offsetCheckInSlave ? new_offset : old_offset;
}

/* DefaultMessageStore.isTheBatchFull */
static bool batch_full(store *s, int32_t size, int max_msgs, uint32_t total_bytes, int count, bool in_disk)
{
    if (total_bytes == 0 || count == 0)
        return false;
    if (max_msgs <= count)
        return true;
    int max_bytes = in_disk ? s->cfg.maxTransferBytesOnMessageInDisk : s->cfg.maxTransferBytesOnMessageInMemory;
    int max_count = in_disk ? s->cfg.maxTransferCountOnMessageInDisk : s->cfg.maxTransferCountOnMessageInMemory;
    return (int64_t)total_bytes + size > max_bytes || count > max_count - 1;
}

static void read_queue(store *s, consume_queue *cq, int64_t offset, int max_msgs,
                       const store_filter *filter, store_get_result *res)
{
    store_slice entries;
    if (cq_entries(cq, offset, &entries) != RMQ_OK) {
        int64_t units = s->cqs.file_size / CQ_UNIT_SIZE;
        res->status = STORE_GET_OFFSET_FOUND_NULL;
        res->next_begin_offset = next_offset_correction(s, offset, offset + units - offset % units);
        log_warn("store", "consume queue %s-%d offset %" PRId64 " (min %" PRId64 " max %" PRId64 ") not readable",
                 cq->topic, cq->queue_id, offset, res->min_offset, res->max_offset);
        return;
    }
    int64_t max_phys = mapped_queue_max_offset(&s->cl), max_pulling = 0;
    int64_t next_file_start = INT64_MIN;
    mapped_file *cur = NULL;           /* segment of the last record taken, referenced */
    int64_t seg = s->cfg.mappedFileSizeCommitLog;
    uint32_t max_filter = (uint32_t)(max_msgs * CQ_UNIT_SIZE > 16000 ? max_msgs * CQ_UNIT_SIZE : 16000);
    uint32_t i;
    res->status = STORE_GET_NO_MATCHED_MESSAGE;
    res->msgs = xcalloc((size_t)(max_msgs > 0 ? max_msgs : 1), sizeof(*res->msgs));
    for (i = 0; i < entries.len && i < max_filter; i += CQ_UNIT_SIZE) {
        const uint8_t *e = entries.data + i;
        int64_t phys = (int64_t)get_be64(e);
        int32_t size = (int32_t)get_be32(e + 8);
        int64_t tags = (int64_t)get_be64(e + 12);
        max_pulling = phys;
        if (next_file_start != INT64_MIN && phys < next_file_start)
            continue;
        bool in_disk = max_phys - phys > s->memory_for_hot_data;
        if (batch_full(s, size, max_msgs, res->total_bytes, res->count, in_disk))
            break;
        if (filter && filter->by_tags_code && !filter->by_tags_code(filter->arg, tags)) {
            if (res->total_bytes == 0)
                res->status = STORE_GET_NO_MATCHED_MESSAGE;
            continue;
        }
        store_slice m;
        /* Most entries of a pull lie in the segment of the one before: reference it
         * again instead of looking the segment up under the queue's lock. */
        if (cur && size > 0 && phys >= cur->from &&
            phys + size <= cur->from + atomic_load_explicit(&cur->wrote, memory_order_acquire)) {
            mapped_file_ref(cur);
            m = (store_slice){.data = cur->base + (phys - cur->from), .len = (uint32_t)size,
                              .phys_offset = phys, .file = cur};
        } else if (size <= 0 || commitlog_get(&s->cl, phys, (uint32_t)size, &m) != RMQ_OK) {
            if (res->total_bytes == 0)
                res->status = STORE_GET_MESSAGE_WAS_REMOVING;
            next_file_start = phys + seg - phys % seg;
            continue;
        } else {
            if (cur) mapped_file_unref(cur);
            cur = m.file;
            mapped_file_ref(cur);
        }
        if (filter && filter->by_record && !filter->by_record(filter->arg, m.data, m.len)) {
            if (res->total_bytes == 0)
                res->status = STORE_GET_NO_MATCHED_MESSAGE;
            store_slice_release(&m);
            continue;
        }
        res->msgs[res->count++] = m;
        res->total_bytes += m.len;
        res->status = STORE_GET_FOUND;
        next_file_start = INT64_MIN;
    }
    if (cur) mapped_file_unref(cur);
    atomic_fetch_add(&s->get_transferred, res->count);
    res->next_begin_offset = offset + i / CQ_UNIT_SIZE;
    res->suggest_pulling_from_slave = max_phys - max_pulling > s->memory_for_hot_data;
    store_slice_release(&entries);
}

int store_get_messages(store *s, const char *group, const char *topic, int32_t queue_id,
                       int64_t offset, int max_msgs, const store_filter *filter,
                       store_get_result *res)
{
    (void)group;
    int64_t begin = mono_ms();
    memset(res, 0, sizeof(*res));
    if (atomic_load(&s->shutdown))
        return RMQ_ERR;
    res->status = STORE_GET_NO_MESSAGE_IN_QUEUE;
    res->next_begin_offset = next_offset_correction(s, offset, 0);
    store_dispatch_catch_up(s);
    pthread_rwlock_rdlock(&s->cqs.lock);
    consume_queue *cq = cq_find(&s->cqs, topic, queue_id);
    if (cq) {
        res->min_offset = cq_min_offset(cq);
        res->max_offset = cq_max_offset(cq);
        if (res->max_offset == 0) {
            res->status = STORE_GET_NO_MESSAGE_IN_QUEUE;
            res->next_begin_offset = next_offset_correction(s, offset, 0);
        } else if (offset < res->min_offset) {
            res->status = STORE_GET_OFFSET_TOO_SMALL;
            res->next_begin_offset = next_offset_correction(s, offset, res->min_offset);
        } else if (offset == res->max_offset) {
            res->status = STORE_GET_OFFSET_OVERFLOW_ONE;
            res->next_begin_offset = next_offset_correction(s, offset, offset);
        } else if (offset > res->max_offset) {
            res->status = STORE_GET_OFFSET_OVERFLOW_BADLY;
            res->next_begin_offset = next_offset_correction(s, offset, res->max_offset);
        } else {
            read_queue(s, cq, offset, max_msgs, filter, res);
        }
    }
    pthread_rwlock_unlock(&s->cqs.lock);
    atomic_fetch_add(res->status == STORE_GET_FOUND ? &s->get_found : &s->get_miss, 1);
    store_record_get_time(s, mono_ms() - begin);
    return RMQ_OK;
}

void store_get_result_release(store_get_result *res)
{
    for (int i = 0; i < res->count; i++)
        store_slice_release(&res->msgs[i]);
    free(res->msgs);
    res->msgs = NULL;
    res->count = 0;
}

/* ---- lookups ---- */

/* Returns expr evaluated on the queue under the table's read lock, dflt without a queue. */
#define WITH_QUEUE(s, topic, queue_id, dflt, expr)                  \
    do {                                                            \
        int64_t v_ = (dflt);                                        \
        store_dispatch_catch_up(s);                                 \
        pthread_rwlock_rdlock(&(s)->cqs.lock);                      \
        consume_queue *cq = cq_find(&(s)->cqs, (topic), (queue_id)); \
        if (cq)                                                     \
            v_ = (expr);                                            \
        pthread_rwlock_unlock(&(s)->cqs.lock);                      \
        return v_;                                                  \
    } while (0)

int64_t store_min_offset_in_queue(store *s, const char *topic, int32_t queue_id)
{
    WITH_QUEUE(s, topic, queue_id, 0, cq_min_offset(cq));
}

int64_t store_max_offset_in_queue(store *s, const char *topic, int32_t queue_id)
{
    WITH_QUEUE(s, topic, queue_id, 0, cq_max_offset(cq));
}

int64_t store_offset_by_time(store *s, const char *topic, int32_t queue_id, int64_t timestamp)
{
    WITH_QUEUE(s, topic, queue_id, 0, cq_offset_by_time(cq, &s->cl, timestamp));
}

/* getStoreTime of the entry at queue_offset; -1 when absent. */
static int64_t entry_store_time(store *s, consume_queue *cq, int64_t queue_offset)
{
    int64_t phys, tags;
    int32_t size;
    if (cq_read_entry(cq, queue_offset, &phys, &size, &tags) != RMQ_OK || size <= 0)
        return -1;
    return commitlog_store_timestamp(&s->cl, phys, (uint32_t)size);
}

int64_t store_earliest_message_time(store *s, const char *topic, int32_t queue_id)
{
    WITH_QUEUE(s, topic, queue_id, -1, entry_store_time(s, cq, cq_min_offset(cq)));
}

int64_t store_message_store_time(store *s, const char *topic, int32_t queue_id, int64_t queue_offset)
{
    WITH_QUEUE(s, topic, queue_id, -1, entry_store_time(s, cq, queue_offset));
}

int store_get_record(store *s, int64_t phys_offset, store_slice *out)
{
    store_slice head;
    if (commitlog_get(&s->cl, phys_offset, 8, &head) != RMQ_OK)
        return RMQ_ERR;
    uint32_t size = get_be32(head.data), magic = get_be32(head.data + 4);
    store_slice_release(&head);
    if (magic != MSG_MAGIC_CODE || size < msg_record_size(0, 0, 0, false, false))
        return RMQ_ERR;
    return commitlog_get(&s->cl, phys_offset, size, out);
}

void store_query_by_key(store *s, const char *topic, const char *key, int max,
                        int64_t begin, int64_t end, store_query_result *out)
{
    memset(out, 0, sizeof(*out));
    if (max > s->cfg.maxMsgsNumBatch)
        max = s->cfg.maxMsgsNumBatch;
    if (max > (int)(sizeof(out->offsets) / sizeof(out->offsets[0])))
        max = (int)(sizeof(out->offsets) / sizeof(out->offsets[0]));
    store_dispatch_catch_up(s);
    if (s->cfg.messageIndexEnable)
        index_query(&s->idx, topic, key, max, begin, end, out);
}

int64_t store_commitlog_min_offset(store *s)
{
    int64_t v = mapped_queue_min_offset(&s->cl);
    return v < 0 ? 0 : v;
}

int64_t store_commitlog_max_offset(store *s)
{
    return mapped_queue_max_offset(&s->cl);
}

int64_t store_commitlog_flushed_offset(store *s)
{
    return atomic_load(&s->cl.flushed_where);
}

void store_foreach_queue(store *s, void (*cb)(void *arg, const char *topic, int32_t queue_id), void *arg)
{
    pthread_rwlock_rdlock(&s->cqs.lock);
    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    char **topics = xmalloc((size_t)(n + 1) * sizeof(*topics));
    int32_t *ids = xmalloc((size_t)(n + 1) * sizeof(*ids));
    for (int i = 0; i < n; i++) {
        topics[i] = xstrdup(all[i]->topic);
        ids[i] = all[i]->queue_id;
    }
    pthread_rwlock_unlock(&s->cqs.lock);
    free(all);
    for (int i = 0; i < n; i++) {
        cb(arg, topics[i], ids[i]);
        free(topics[i]);
    }
    free(topics);
    free(ids);
}

/* ---- HA ---- */

int store_read_raw(store *s, int64_t phys_offset, uint32_t max, store_slice *out)
{
    mapped_file *f = mapped_queue_find(&s->cl, phys_offset);
    if (!f)
        return phys_offset == mapped_queue_max_offset(&s->cl) ? RMQ_AGAIN : RMQ_ERR;
    int64_t pos = phys_offset - f->from;
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
    if (pos >= wrote) {
        mapped_file_unref(f);
        return RMQ_AGAIN;
    }
    int64_t n = wrote - pos < (int64_t)max ? wrote - pos : (int64_t)max;
    out->data = f->base + pos;
    out->len = (uint32_t)n;
    out->phys_offset = phys_offset;
    out->file = f;
    return RMQ_OK;
}
