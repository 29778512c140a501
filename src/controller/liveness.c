/*
 * Broker liveness: Apache's DefaultBrokerHeartbeatManager. Each controller
 * keeps its own table from the heartbeats brokers send to every controller;
 * it is not replicated (as in Apache).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/util.h"
#include "controller/ctl_int.h"
#include "remoting/remoting.h"

/* ---- liveness ---- */

live *ctl_find_live(const ctl_state *s, const char *cluster, const char *name, int64_t id)
{
    for (live *l = s->lives; l; l = l->next)
        if (l->id == id && strcmp(l->name, name) == 0 && strcmp(l->cluster, cluster ? cluster : "") == 0) return l;
    return NULL;
}

bool ctl_broker_alive(const ctl_state *s, const char *cluster, const char *broker_name, int64_t id, int64_t now_ms)
{
    const live *l = ctl_find_live(s, cluster, broker_name, id);
    return l && l->last_ms + l->timeout_ms >= now_ms;
}

void ctl_on_heartbeat(ctl_state *s, const ctl_heartbeat *hb, int64_t now_ms)
{
    live *l = ctl_find_live(s, hb->cluster, hb->broker_name, hb->broker_id);
    if (!l) {
        l = xcalloc(1, sizeof *l);
        l->cluster = xstrdup(hb->cluster ? hb->cluster : "");
        l->name = xstrdup(hb->broker_name);
        l->addr = xstrdup(hb->broker_addr ? hb->broker_addr : "");
        l->id = hb->broker_id;
        l->epoch = hb->epoch;
        l->max_offset = hb->max_offset;
        l->confirm_offset = hb->confirm_offset;
        l->next = s->lives;
        s->lives = l;
    } else if (hb->epoch > l->epoch || (hb->epoch == l->epoch && hb->max_offset > l->max_offset)) {
        l->epoch = hb->epoch;
        l->max_offset = hb->max_offset;
        l->confirm_offset = hb->confirm_offset;
    }
    l->last_ms = now_ms;
    l->timeout_ms = hb->timeout_ms;
    l->priority = hb->election_priority;
    l->conn = hb->conn;
}

void ctl_expire(ctl_state *s, int64_t now_ms, const rmq_conn *conn, ctl_inactive_fn fn, void *arg)
{
    live **pp = &s->lives;
    while (*pp) {
        live *l = *pp;
        bool gone = conn ? l->conn == conn : now_ms - l->last_ms > l->timeout_ms;
        if (!gone) {
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        if (fn) fn(arg, l->cluster, l->name, l->id);
        ctl_live_free(l);
    }
}

void ctl_sets_needing_election(const ctl_state *s, int64_t now_ms, void (*fn)(void *arg, const char *name), void *arg)
{
    for (const broker_set *b = s->sets; b; b = b->next) {
        if (b->master_id == CTL_NO_ID || ctl_broker_alive(s, b->cluster, b->name, b->master_id, now_ms)) continue;
        for (int i = 0; i < b->n_replicas; i++)
            if (ctl_broker_alive(s, b->cluster, b->name, b->replicas[i].id, now_ms)) {
                fn(arg, b->name);
                break;
            }
    }
}

