/*
 * commitlog: reading the record stream of the commit log — validation
 * (CommitLog.checkMessageAndReturnSize), scanning across segments for
 * recovery and dispatch, and referenced reads. Appending lives in store.c
 * next to the lock that guards it.
 */
#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_int.h"

record_check commitlog_check_record(const uint8_t *p, int64_t avail, bool check_crc, msg_record *rec)
{
    if (avail < 8)
        return REC_INCOMPLETE;
    uint32_t total = get_be32(p);
    uint32_t magic = get_be32(p + 4);
    if (magic == MSG_BLANK_MAGIC_CODE)
        return REC_BLANK;
    if (magic != MSG_MAGIC_CODE || total < msg_record_size(0, 0, 0, false, false))
        return REC_INVALID;
    if ((int64_t)total > avail)
        return REC_INCOMPLETE;
    const char *reason;
    if (msg_record_decode(p, total, rec, &reason) != RMQ_OK)
        return REC_INVALID;
    if (check_crc && rmq_crc32(rec->body, rec->body_len) != rec->body_crc)
        return REC_INVALID;
    return REC_OK;
}

int64_t commitlog_scan(mapped_queue *cl, int64_t from, int64_t limit, bool check_crc,
                       record_visitor visit, void *arg)
{
    int64_t pos = from;
    mapped_file *f = mapped_queue_find(cl, pos);
    while (f) {
        int64_t end = f->from + f->size;
        if (limit < end)
            end = limit;
        msg_record rec;
        record_check rc = commitlog_check_record(f->base + (pos - f->from), end - pos, check_crc, &rec);
        if (rc == REC_OK) {
            if (rec.phys_offset != pos)
                log_warn("store", "record at %" PRId64 " says it is at %" PRId64, pos, rec.phys_offset);
            if (visit)
                visit(arg, f, f->base + (pos - f->from), &rec);
            pos += rec.total_size;
            continue;
        }
        if (rc != REC_BLANK)
            break;
        /* Blank end of segment: the stream continues in the next file. */
        mapped_file *next = mapped_queue_find(cl, f->from + f->size);
        if (!next || next->from >= limit) {
            if (next)
                mapped_file_unref(next);
            break;
        }
        mapped_file_unref(f);
        f = next;
        pos = f->from;
    }
    if (f)
        mapped_file_unref(f);
    return pos;
}

int commitlog_get(mapped_queue *cl, int64_t offset, uint32_t size, store_slice *out)
{
    mapped_file *f = mapped_queue_find(cl, offset);
    if (!f)
        return RMQ_ERR;
    int64_t pos = offset - f->from;
    if (pos + (int64_t)size > atomic_load_explicit(&f->wrote, memory_order_acquire)) {
        mapped_file_unref(f);
        return RMQ_ERR;
    }
    out->data = f->base + pos;
    out->len = size;
    out->phys_offset = offset;
    out->file = f;
    return RMQ_OK;
}

int64_t commitlog_store_timestamp(mapped_queue *cl, int64_t offset, uint32_t size)
{
    store_slice sl;
    if (commitlog_get(cl, offset, size, &sl) != RMQ_OK)
        return -1;
    int64_t ts = -1;
    /* STORETIMESTAMP ends at byte 80 at most (IPv6 born host). */
    if (size >= 80)
        ts = msg_record_store_timestamp(sl.data);
    store_slice_release(&sl);
    return ts;
}
