#include "sysqueue.h"

#include <string.h>

#include "common/util.h"

#define READ_BATCH 32  /* records per store read */

bool sysqueue_prop(const msg_record *r, const char *key, char *buf, size_t cap)
{
    const char *v;
    size_t n;
    if (!msg_props_find(r->props, r->props_len, key, &v, &n) || n >= cap) return false;
    memcpy(buf, v, n);
    buf[n] = 0;
    return true;
}

bool sysqueue_real_queue(const msg_record *r, char topic[MSG_MAX_TOPIC_LEN + 1], int32_t *queue_id)
{
    char qbuf[16];
    return sysqueue_prop(r, "REAL_TOPIC", topic, MSG_MAX_TOPIC_LEN + 1) &&
           sysqueue_prop(r, "REAL_QID", qbuf, sizeof qbuf) && parse_int32(qbuf, queue_id) == RMQ_OK;
}

void sysqueue_msg_from_record(store_msg *m, const msg_record *r, const char *topic, int32_t queue_id)
{
    *m = (store_msg){
        .topic = topic, .queue_id = queue_id, .flag = r->flag,
        .sysflag = r->sysflag & ~(MSG_SYSFLAG_BORNHOST_V6 | MSG_SYSFLAG_STOREHOST_V6),
        .born_timestamp = r->born_timestamp, .born_host = r->born_host,
        .reconsume_times = r->reconsume_times, .body = r->body, .body_len = r->body_len,
        .props = r->props, .props_len = r->props_len,
    };
}

int sysqueue_scan(store *st, const char *group, const char *topic, int64_t *cursor, sysqueue_visit_fn visit,
                  void *ctx)
{
    for (;;) {
        store_get_result res;
        if (store_get_messages(st, group, topic, 0, *cursor, READ_BATCH, NULL, &res)) return RMQ_ERR;
        if (res.count == 0) {
            int64_t next = res.next_begin_offset, max = res.max_offset;
            store_get_result_release(&res);
            if (next <= *cursor || next > max) return RMQ_OK;
            *cursor = next;
            continue;
        }
        bool stopped = false;
        for (int i = 0; i < res.count && !stopped; i++) {
            msg_record r;
            const char *why;
            if (msg_record_decode(res.msgs[i].data, res.msgs[i].len, &r, &why)) {
                (*cursor)++;
                continue;
            }
            if (visit(ctx, &r)) *cursor = r.queue_offset + 1;
            else stopped = true;
        }
        store_get_result_release(&res);
        if (stopped) return RMQ_OK;
    }
}
