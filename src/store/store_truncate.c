/*
 * DefaultMessageStore.truncateFiles for a broker in controller mode whose log
 * went further than its new master's (docs/ha.md, "Epochs and truncation"):
 * at start when it rejoins as a slave, or while it runs when it was demoted
 * without a restart. The commit log is cut at a record boundary and
 * consume-queue entries pointing past it are dropped, as recovery does with a
 * torn tail. The index keeps its entries (Apache's truncation does too); a
 * lookup that lands past the end finds nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store_int.h"

/* isOffsetAligned: a record (or a segment's blank end) starts at OFFSET. */
static bool aligned(store *s, int64_t offset)
{
    mapped_file *f = mapped_queue_find(&s->cl, offset);
    if (!f) return true;
    int64_t pos = offset - f->from, avail = atomic_load(&f->wrote) - pos;
    msg_record rec;
    record_check rc = avail > 0 ? commitlog_check_record(f->base + pos, avail, false, &rec) : REC_OK;
    mapped_file_unref(f);
    return rc == REC_OK || rc == REC_BLANK;
}

/*
 * Records that stay (below the cut) but that dispatch has not reached yet: their
 * queue offsets were given at put time, so a queue's next offset must pass them even
 * though its consume queue does not hold them yet. The dispatcher thread, a confirm
 * gate or SYNC_FLUSH's dispatch after the sync can each leave such records behind.
 */
typedef struct survivor {
    char topic[MSG_MAX_TOPIC_LEN + 1];
    int32_t queue_id;
    int64_t next_queue_offset;
} survivor;

typedef struct survivors {
    survivor *items;
    int n, cap;
} survivors;

static void note_survivor(void *arg, mapped_file *f, const uint8_t *record, const msg_record *rec)
{
    (void)f, (void)record;
    survivors *sv = arg;
    int tran = MSG_TRANSACTION_TYPE(rec->sysflag);
    /* As dispatch: only these take a queue offset, and only a sane one. */
    if ((tran != MSG_TRANS_NOT_TYPE && tran != MSG_TRANS_COMMIT) || rec->queue_offset < 0 ||
        rec->queue_offset >= INT64_MAX / CQ_UNIT_SIZE)
        return;
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 16;
        sv->items = xrealloc(sv->items, (size_t)sv->cap * sizeof *sv->items);
    }
    survivor *v = &sv->items[sv->n++];
    memcpy(v->topic, rec->topic, rec->topic_len);
    v->topic[rec->topic_len] = '\0';
    v->queue_id = rec->queue_id;
    v->next_queue_offset = rec->queue_offset + 1;
}

int store_truncate(store *s, int64_t offset, char *err, size_t errlen)
{
    /* No flush, cleaning pass, put or dispatch runs meanwhile (store_int.h's order). */
    pthread_rwlock_wrlock(&s->truncate_lock);
    store_put_lock(s);
    pthread_mutex_lock(&s->dispatch_lock);
    pthread_rwlock_wrlock(&s->cqs.lock);
    int rc = RMQ_OK;
    int64_t end = mapped_queue_max_offset(&s->cl), min = mapped_queue_min_offset(&s->cl);
    if (offset >= end) goto out;
    if (offset < 0 || (min >= 0 && offset < min)) {
        snprintf(err, errlen, "offset %" PRId64 " is outside the commit log [%" PRId64 ", %" PRId64 ")", offset, min,
                 end);
        rc = RMQ_ERR;
        goto out;
    }
    if (!aligned(s, offset)) {
        snprintf(err, errlen, "offset %" PRId64 " is not where a record starts", offset);
        rc = RMQ_ERR;
        goto out;
    }
    survivors sv = {0};
    if (s->dispatched_upto < offset)
        commitlog_scan(&s->cl, s->dispatched_upto, offset, false, note_survivor, &sv);
    mapped_queue_truncate(&s->cl, offset, end - offset);
    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    for (int i = 0; i < n; i++) {
        if (all[i]->max_physic_offset > offset) cq_truncate_dirty(all[i], offset);
        all[i]->next_queue_offset = cq_max_offset(all[i]);
    }
    free(all);
    for (int i = 0; i < sv.n; i++) {
        consume_queue *cq = cq_find(&s->cqs, sv.items[i].topic, sv.items[i].queue_id);
        if (cq && cq->next_queue_offset < sv.items[i].next_queue_offset)
            cq->next_queue_offset = sv.items[i].next_queue_offset;
    }
    free(sv.items);
    if (s->dispatched_upto > offset) s->dispatched_upto = offset;
    atomic_store(&s->put_end, offset);
    /* SYNC_FLUSH's bookkeeping must not count the cut bytes as claimed or asked for. */
    pthread_mutex_lock(&s->flush_mu);
    if (s->sync_claimed > offset) s->sync_claimed = offset;
    if (s->waiter_max > offset) s->waiter_max = offset;
    pthread_mutex_unlock(&s->flush_mu);
    atomic_store(&s->dispatched, s->dispatched_upto);
    log_warn("store", "commit log cut back from %" PRId64 " to %" PRId64 " (its later records belong to an old epoch)",
             end, offset);
out:
    pthread_rwlock_unlock(&s->cqs.lock);
    pthread_mutex_unlock(&s->dispatch_lock);
    store_put_unlock(s);
    pthread_rwlock_unlock(&s->truncate_lock);
    return rc;
}
