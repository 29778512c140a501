/*
 * DefaultMessageStore.truncateFiles for a broker in controller mode that
 * rejoins as a slave with log its new master never had (docs/ha.md, "Epochs
 * and truncation"): the commit log is cut at a record boundary, consume-queue
 * entries pointing past it are dropped, as recovery does with a torn tail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "store_int.h"

int store_truncate(store *s, int64_t offset, char *err, size_t errlen)
{
    int64_t end = mapped_queue_max_offset(&s->cl), min = mapped_queue_min_offset(&s->cl);
    if (offset >= end) return RMQ_OK;
    if (offset < 0 || (min >= 0 && offset < min)) {
        snprintf(err, errlen, "offset %" PRId64 " is outside the commit log [%" PRId64 ", %" PRId64 ")", offset, min,
                 end);
        return RMQ_ERR;
    }
    mapped_queue_truncate(&s->cl, offset, end - offset);
    int n;
    consume_queue **all = cq_list(&s->cqs, &n);
    for (int i = 0; i < n; i++) {
        if (all[i]->max_physic_offset > offset) cq_truncate_dirty(all[i], offset);
        all[i]->next_queue_offset = cq_max_offset(all[i]);
    }
    free(all);
    if (s->dispatched_upto > offset) s->dispatched_upto = offset;
    log_warn("store", "commit log cut back from %" PRId64 " to %" PRId64 " (its later records belong to an old epoch)",
             end, offset);
    return RMQ_OK;
}
