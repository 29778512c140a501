/*
 * Orderly POP (Apache 5.3's ConsumerOrderInfoManager.OrderInfo): per topic,
 * group and queue the batch the last orderly POP returned, which of it is
 * acknowledged, per-offset visibility changes and delivery counts. Kept in
 * memory: after a restart a queue is not blocked and counts start again
 * (Apache persists them in consumerOrderInfo.json).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pop_int.h"

typedef struct order_info {
    char *topic, *group;
    int32_t qid;
    char *attempt_id;
    int64_t pop_time, invisible_time;
    int n;
    int64_t offsets[POP_MAX_MSGS];
    int64_t next_visible[POP_MAX_MSGS];   /* 0 = popTime + invisibleTime */
    int32_t consumed[POP_MAX_MSGS];       /* offsetConsumedCount; 0 = first delivery */
    uint64_t acked;                       /* commitOffsetBit */
    struct order_info *next;
} order_info;

static order_info *find(pop_service *p, const char *topic, const char *group, int32_t qid)
{
    for (order_info *o = p->orders; o; o = o->next)
        if (o->qid == qid && strcmp(o->topic, topic) == 0 && strcmp(o->group, group) == 0) return o;
    return NULL;
}

static bool same_attempt(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

bool pop_order_blocked(pop_service *p, const char *topic, const char *group, int32_t qid, const char *attempt_id,
                       int64_t invisible_time, int64_t now)
{
    order_info *o = find(p, topic, group, qid);
    if (!o || o->n == 0 || same_attempt(o->attempt_id, attempt_id)) return false;
    if (o->invisible_time <= 0) o->invisible_time = invisible_time;
    for (int i = 0; i < o->n; i++) {
        if (o->acked & (1ull << i)) continue;
        int64_t visible = o->next_visible[i] ? o->next_visible[i] : o->pop_time + o->invisible_time;
        if (now < visible) return true;
    }
    return false;
}

static void info_piece(char **info, const char *piece)
{
    char *joined = str_printf("%s%s%s", *info ? *info : "", *info ? ";" : "", piece);
    free(*info);
    *info = joined;
}

void pop_order_update(pop_service *p, const char *topic, const char *group, int32_t qid, const char *attempt_id,
                      int64_t pop_time, int64_t invisible_time, const int64_t *offsets, int n, char **order_info_out)
{
    order_info *o = find(p, topic, group, qid);
    if (!o) {
        o = xcalloc(1, sizeof *o);
        o->topic = xstrdup(topic);
        o->group = xstrdup(group);
        o->qid = qid;
        o->next = p->orders;
        p->orders = o;
    }
    /* mergeOffsetConsumedCount: offsets delivered again count once more, unless it is the same attempt. */
    int32_t consumed[POP_MAX_MSGS] = {0};
    bool keep = same_attempt(o->attempt_id, attempt_id);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < o->n; j++)
            if (o->offsets[j] == offsets[i]) consumed[i] = keep ? o->consumed[j] : o->consumed[j] + 1;
    free(o->attempt_id);
    o->attempt_id = attempt_id ? xstrdup(attempt_id) : NULL;
    o->pop_time = pop_time;
    o->invisible_time = invisible_time;
    o->n = n > POP_MAX_MSGS ? POP_MAX_MSGS : n;
    o->acked = 0;
    for (int i = 0; i < o->n; i++) {
        o->offsets[i] = offsets[i];
        o->next_visible[i] = 0;
        o->consumed[i] = consumed[i];
    }
    const char *flag = pop_retry_flag(topic);
    char piece[96];
    int min = o->n ? INT32_MAX : 0;
    for (int i = 0; i < o->n; i++) {
        if (o->consumed[i] > 0) {
            snprintf(piece, sizeof piece, "%s qo%d%%%" PRId64 " %d", flag, qid, o->offsets[i], o->consumed[i]);
            info_piece(order_info_out, piece);
        }
        if (o->consumed[i] < min) min = o->consumed[i];
    }
    /* Older clients read the count per queue: the least of the batch. */
    snprintf(piece, sizeof piece, "%s %d %d", flag, qid, min);
    info_piece(order_info_out, piece);
}

int64_t pop_order_commit(pop_service *p, const char *topic, const char *group, int32_t qid, int64_t offset,
                         int64_t pop_time)
{
    order_info *o = find(p, topic, group, qid);
    if (!o) return offset + 1;
    if (o->n == 0) return -1;
    if (pop_time != o->pop_time) return -2;
    int i = 0;
    while (i < o->n && o->offsets[i] != offset) i++;
    if (i == o->n) return -1;
    o->acked |= 1ull << i;
    for (i = 0; i < o->n && (o->acked & (1ull << i)); i++) {}
    return i == o->n ? o->offsets[o->n - 1] + 1 : o->offsets[i];
}

void pop_order_set_visible(pop_service *p, const char *topic, const char *group, int32_t qid, int64_t offset,
                           int64_t pop_time, int64_t next_visible)
{
    order_info *o = find(p, topic, group, qid);
    if (!o || pop_time != o->pop_time) return;
    for (int i = 0; i < o->n; i++)
        if (o->offsets[i] == offset) o->next_visible[i] = next_visible;
}

void pop_order_free_all(pop_service *p)
{
    for (order_info *o = p->orders, *next; o; o = next) {
        next = o->next;
        free(o->topic);
        free(o->group);
        free(o->attempt_id);
        free(o);
    }
    p->orders = NULL;
}
