/*
 * Heartbeat v2 (Apache 5.x ClientManageProcessor.heartBeatV2), beside the
 * registry of clients.c:
 *
 *  - consumerGroupHeartbeatTable: the last fingerprint each consumer group
 *    heart-beat with. A v2 heartbeat whose fingerprint differs from the one
 *    recorded answers IS_SUB_CHANGE=true, and the client sends its
 *    subscriptions again;
 *  - registerConsumerWithoutSub: a v2 heartbeat "withoutSub" refreshes the
 *    channel and the group's consume settings and leaves its subscriptions.
 *
 * The tables are kept per registry in a short list (one registry per broker)
 * and dropped by clients_free.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/clients.h"
#include "common/util.h"

typedef struct fp_entry {
    char *group;
    int32_t fingerprint;
} fp_entry;

typedef struct fp_table {
    const client_registry *reg;
    fp_entry *entries;             /* sorted by group */
    size_t n, cap;
    struct fp_table *next;
} fp_table;

static fp_table *tables;

static fp_table *table_of(const client_registry *reg, bool create)
{
    for (fp_table *t = tables; t; t = t->next)
        if (t->reg == reg) return t;
    if (!create) return NULL;
    fp_table *t = xcalloc(1, sizeof *t);
    t->reg = reg;
    t->next = tables;
    tables = t;
    return t;
}

/* Index of GROUP, or where it goes (*found false). */
static size_t find(const fp_table *t, const char *group, bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(t->entries[mid].group, group);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

bool clients_fingerprint_changed(client_registry *reg, const char *group, int32_t fingerprint)
{
    fp_table *t = table_of(reg, true);
    bool found;
    size_t i = find(t, group, &found);
    if (found) {
        bool changed = t->entries[i].fingerprint != fingerprint;
        t->entries[i].fingerprint = fingerprint;
        return changed;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->entries = xrealloc(t->entries, t->cap * sizeof *t->entries);
    }
    memmove(&t->entries[i + 1], &t->entries[i], (t->n - i) * sizeof *t->entries);
    t->entries[i] = (fp_entry){xstrdup(group), fingerprint};
    t->n++;
    return false;
}

void clients_forget_fingerprints(const client_registry *reg)
{
    for (fp_table **pp = &tables; *pp; pp = &(*pp)->next) {
        fp_table *t = *pp;
        if (t->reg != reg) continue;
        *pp = t->next;
        for (size_t i = 0; i < t->n; i++) free(t->entries[i].group);
        free(t->entries);
        free(t);
        return;
    }
}

bool clients_register_consumer_without_sub(client_registry *reg, const client_identity *who,
                                           const consumer_data *cd, bool notify)
{
    consumer_data keep = *cd;
    const consumer_group *g = clients_consumer_group(reg, cd->group);
    size_t n = g ? g->n_subs : 0;
    keep.subs = xcalloc(n + 1, sizeof *keep.subs);
    keep.n_subs = n;
    for (size_t i = 0; i < n; i++) {
        const subscription_data *s = g->subs[i];
        keep.subs[i] = subscription_new(s->topic, s->sub_string, s->expression_type, (const char *const *)s->tags,
                                        s->n_tags, s->sub_version, s->class_filter_mode);
    }
    bool changed = clients_register_consumer(reg, who, &keep, notify);
    free(keep.subs);
    return changed;
}
