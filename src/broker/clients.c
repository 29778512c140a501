/*
 * The producer/consumer registry and the queue locks (see clients.h);
 * subscriptions and the enum names are in subscription.c.
 * Groups and locks live in small chained string maps; the channels and
 * subscriptions of one group are short arrays searched linearly.
 */
#include "broker/clients.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define REQUEST_NOTIFY_CONSUMER_IDS_CHANGED 40

/* ---- a chained string map --------------------------------------------- */

typedef struct map_entry {
    char *key;
    void *val;
    struct map_entry *next;
} map_entry;

typedef struct strmap {
    map_entry **buckets;
    size_t n_buckets, n;
} strmap;

static size_t str_hash(const char *s)
{
    size_t h = 5381;
    while (*s) h = h * 33 + (unsigned char)*s++;
    return h;
}

static map_entry **map_slot(const strmap *m, const char *key)
{
    if (!m->n_buckets) return NULL;
    map_entry **pp = &m->buckets[str_hash(key) % m->n_buckets];
    while (*pp && strcmp((*pp)->key, key) != 0) pp = &(*pp)->next;
    return pp;
}

static void *map_get(const strmap *m, const char *key)
{
    map_entry **pp = map_slot(m, key);
    return pp && *pp ? (*pp)->val : NULL;
}

static void map_grow(strmap *m)
{
    size_t nb = m->n_buckets ? m->n_buckets * 2 : 16;
    map_entry **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (map_entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t h = str_hash(e->key) % nb;
            e->next = b[h];
            b[h] = e;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->n_buckets = nb;
}

/* Adds key (absent) with val. */
static void map_add(strmap *m, const char *key, void *val)
{
    if (m->n + 1 > m->n_buckets) map_grow(m);
    map_entry *e = xmalloc(sizeof *e);
    e->key = xstrdup(key);
    e->val = val;
    map_entry **head = &m->buckets[str_hash(key) % m->n_buckets];
    e->next = *head;
    *head = e;
    m->n++;
}

/* Removes key; returns its value (NULL if absent). */
static void *map_remove(strmap *m, const char *key)
{
    map_entry **pp = map_slot(m, key);
    if (!pp || !*pp) return NULL;
    map_entry *e = *pp;
    void *val = e->val;
    *pp = e->next;
    free(e->key);
    free(e);
    m->n--;
    return val;
}

/* Removes every entry whose value is val; returns how many. */
static size_t map_remove_value(strmap *m, const void *val)
{
    size_t removed = 0;
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (map_entry **pp = &m->buckets[i]; *pp;) {
            map_entry *e = *pp;
            if (e->val != val) {
                pp = &e->next;
                continue;
            }
            *pp = e->next;
            free(e->key);
            free(e);
            m->n--;
            removed++;
        }
    }
    return removed;
}

/* Every value, in a malloc'd snapshot (so callers may remove while walking it). */
static void **map_values(const strmap *m, size_t *n)
{
    void **v = xmalloc((m->n ? m->n : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < m->n_buckets; i++)
        for (map_entry *e = m->buckets[i]; e; e = e->next) v[k++] = e->val;
    *n = k;
    return v;
}

static void map_clear(strmap *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (map_entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            if (free_val) free_val(e->val);
            free(e->key);
            free(e);
        }
    }
    free(m->buckets);
    *m = (strmap){0};
}

/* ---- the registry ----------------------------------------------------- */

typedef struct lock_entry {
    char *client_id;
    int64_t last_update_ms;
} lock_entry;

struct client_registry {
    clients_hooks hooks;
    int64_t (*clock)(void);
    strmap producers;        /* group -> producer_group */
    strmap producer_ids;     /* clientId -> rmq_conn (held): clientChannelTable */
    strmap consumers;        /* group -> consumer_group */
    strmap locks;            /* lock_key(group, mq) -> lock_entry */
    unsigned producer_rr;    /* getAvailableChannel's counter */
};

client_registry *clients_new(const clients_hooks *hooks)
{
    client_registry *reg = xcalloc(1, sizeof *reg);
    if (hooks) reg->hooks = *hooks;
    reg->clock = now_ms;
    return reg;
}

void clients_set_clock(client_registry *reg, int64_t (*clock)(void)) { reg->clock = clock; }

bool clients_consumer_group_seen(client_registry *reg, const char *group, bool unit_mode)
{
    if (!reg->hooks.consumer_group_seen) return true;
    return reg->hooks.consumer_group_seen(group, unit_mode, reg->hooks.arg);
}

bool clients_notify_enabled(client_registry *reg, const char *group)
{
    if (!reg->hooks.notify_enabled) return true;
    return reg->hooks.notify_enabled(group, reg->hooks.arg);
}

/* ---- channels --------------------------------------------------------- */

static client_channel *channel_find(client_channel *ch, size_t n, const rmq_conn *conn)
{
    for (size_t i = 0; i < n; i++)
        if (ch[i].conn == conn) return &ch[i];
    return NULL;
}

static void channel_add(client_channel **ch, size_t *n, size_t *cap, const client_identity *who,
                        int64_t now)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *ch = xrealloc(*ch, *cap * sizeof **ch);
    }
    rmq_conn_hold(who->conn);
    (*ch)[(*n)++] = (client_channel){
        .conn = who->conn,
        .client_id = xstrdup(who->client_id ? who->client_id : ""),
        .language = who->language,
        .version = who->version,
        .last_update_ms = now,
    };
}

static void channel_release(client_channel *c)
{
    rmq_conn_release(c->conn);
    free(c->client_id);
}

/* Removes ch[i] keeping the order (clientId lists come out in registration order). */
static void channel_remove_at(client_channel *ch, size_t *n, size_t i)
{
    channel_release(&ch[i]);
    memmove(&ch[i], &ch[i + 1], (*n - i - 1) * sizeof *ch);
    (*n)--;
}

/* ---- producers -------------------------------------------------------- */

static void producer_id_set(client_registry *reg, const char *client_id, rmq_conn *conn)
{
    rmq_conn *old = map_remove(&reg->producer_ids, client_id);
    if (old) rmq_conn_release(old);
    rmq_conn_hold(conn);
    map_add(&reg->producer_ids, client_id, conn);
}

/* Forget client_id's connection if it is still `conn` (a client that reconnected
 * keeps its new one; Apache drops the id whatever it maps to). */
static void producer_id_drop(client_registry *reg, const char *client_id, const rmq_conn *conn)
{
    if (map_get(&reg->producer_ids, client_id) == conn)
        rmq_conn_release(map_remove(&reg->producer_ids, client_id));
}

static void producer_group_free(void *p)
{
    producer_group *g = p;
    for (size_t i = 0; i < g->n_channels; i++) channel_release(&g->channels[i]);
    free(g->channels);
    free(g->name);
    free(g);
}

void clients_register_producer(client_registry *reg, const char *group, const client_identity *who)
{
    producer_group *g = map_get(&reg->producers, group);
    if (!g) {
        g = xcalloc(1, sizeof *g);
        g->name = xstrdup(group);
        map_add(&reg->producers, group, g);
    }
    int64_t now = reg->clock();
    client_channel *c = channel_find(g->channels, g->n_channels, who->conn);
    if (c) {
        c->last_update_ms = now;
        return;
    }
    channel_add(&g->channels, &g->n_channels, &g->cap_channels, who, now);
    producer_id_set(reg, g->channels[g->n_channels - 1].client_id, who->conn);
    log_info("clients", "new producer connected, group: %s client: %s %s", group,
             who->client_id ? who->client_id : "", rmq_conn_remote(who->conn));
}

void clients_unregister_producer(client_registry *reg, const char *group, const client_identity *who)
{
    producer_group *g = map_get(&reg->producers, group);
    if (!g || !g->n_channels) return;
    for (size_t i = 0; i < g->n_channels; i++) {
        if (g->channels[i].conn == who->conn) {
            channel_remove_at(g->channels, &g->n_channels, i);
            log_info("clients", "unregister a producer[%s] %s", group, rmq_conn_remote(who->conn));
            break;
        }
    }
    /* As Apache, the id goes even when the channel was not in this group. */
    if (who->client_id) producer_id_drop(reg, who->client_id, who->conn);
    if (!g->n_channels) producer_group_free(map_remove(&reg->producers, group));
}

const producer_group *clients_producer_group(const client_registry *reg, const char *group)
{
    return map_get(&reg->producers, group);
}

const producer_group **clients_producer_groups(const client_registry *reg, size_t *n)
{
    return (const producer_group **)map_values(&reg->producers, n);
}

const consumer_group **clients_consumer_groups(const client_registry *reg, size_t *n)
{
    return (const consumer_group **)map_values(&reg->consumers, n);
}

rmq_conn *clients_producer_channel(client_registry *reg, const char *group)
{
    const producer_group *g = map_get(&reg->producers, group);
    if (!g || !g->n_channels) return NULL;
    /* Apache: start at a rotating index, try 3 channels for one active and writable,
     * else the last active one seen. "Writable" here: output below 1 MiB. */
    size_t n = g->n_channels, idx = reg->producer_rr++ % n;
    rmq_conn *last_open = NULL;
    for (size_t tries = 0; tries < (n < 4 ? n : 4); tries++, idx = (idx + 1) % n) {
        rmq_conn *c = g->channels[idx].conn;
        if (rmq_conn_closed(c)) continue;
        if (rmq_conn_output_len(c) < (1u << 20)) return c;
        last_open = c;
    }
    return last_open;
}

rmq_conn *clients_find_producer_conn(const client_registry *reg, const char *client_id)
{
    rmq_conn *c = map_get(&reg->producer_ids, client_id);
    return c && !rmq_conn_closed(c) ? c : NULL;
}

/* ---- consumers -------------------------------------------------------- */

static void consumer_group_free(void *p)
{
    consumer_group *g = p;
    for (size_t i = 0; i < g->n_channels; i++) channel_release(&g->channels[i]);
    for (size_t i = 0; i < g->n_subs; i++) subscription_free(g->subs[i]);
    free(g->channels);
    free(g->subs);
    free(g->name);
    free(g);
}

static void notify_ids_changed(const consumer_group *g)
{
    for (size_t i = 0; i < g->n_channels; i++) {
        rmq_conn *c = g->channels[i].conn;
        if (rmq_conn_closed(c)) continue;
        rmq_cmd *req = cmd_new_request(REQUEST_NOTIFY_CONSUMER_IDS_CHANGED);
        cmd_ext_set(req, "consumerGroup", g->name);
        rmq_conn_oneway(c, req);
    }
}

static size_t sub_index(const consumer_group *g, const char *topic)
{
    for (size_t i = 0; i < g->n_subs; i++)
        if (strcmp(g->subs[i]->topic, topic) == 0) return i;
    return (size_t)-1;
}

/* ConsumerGroupInfo.updateSubscription; takes every element of subs. */
static bool update_subscriptions(consumer_group *g, subscription_data **subs, size_t n)
{
    bool changed = false;
    /* Topics the client no longer sends go first (Apache drops them after adding;
     * the outcome is the same and subs[] is still whole here). */
    for (size_t i = 0; i < g->n_subs;) {
        bool kept = false;
        for (size_t k = 0; k < n && !kept; k++) kept = strcmp(subs[k]->topic, g->subs[i]->topic) == 0;
        if (kept) {
            i++;
            continue;
        }
        log_warn("clients", "subscription changed, group: %s remove topic %s", g->name, g->subs[i]->topic);
        subscription_free(g->subs[i]);
        memmove(&g->subs[i], &g->subs[i + 1], (g->n_subs - i - 1) * sizeof *g->subs);
        g->n_subs--;
        changed = true;
    }
    for (size_t k = 0; k < n; k++) {
        subscription_data *sd = subs[k];
        size_t i = sub_index(g, sd->topic);
        if (i == (size_t)-1) {
            if (g->n_subs == g->cap_subs) {
                g->cap_subs = g->cap_subs ? g->cap_subs * 2 : 4;
                g->subs = xrealloc(g->subs, g->cap_subs * sizeof *g->subs);
            }
            g->subs[g->n_subs++] = sd;
            changed = true;
            log_info("clients", "subscription changed, add new topic, group: %s %s", g->name, sd->topic);
        } else if (sd->sub_version > g->subs[i]->sub_version) {
            subscription_free(g->subs[i]);
            g->subs[i] = sd;
        } else {
            subscription_free(sd);  /* not newer, or the topic twice in one heartbeat */
        }
    }
    return changed;
}

bool clients_register_consumer(client_registry *reg, const client_identity *who,
                               const consumer_data *cd, bool notify)
{
    consumer_group *g = map_get(&reg->consumers, cd->group);
    if (!g) {
        g = xcalloc(1, sizeof *g);
        g->name = xstrdup(cd->group);
        map_add(&reg->consumers, cd->group, g);
    }
    int64_t now = reg->clock();
    /* ConsumerGroupInfo.updateChannel */
    g->consume_type = cd->consume_type;
    g->message_model = cd->message_model;
    g->consume_from_where = cd->consume_from_where;
    bool channel_new = false;
    client_channel *c = channel_find(g->channels, g->n_channels, who->conn);
    if (!c) {
        channel_add(&g->channels, &g->n_channels, &g->cap_channels, who, now);
        channel_new = true;
        log_info("clients", "new consumer connected, group: %s %s %s client: %s %s", g->name,
                 consume_type_name(g->consume_type) ? consume_type_name(g->consume_type) : "null",
                 message_model_name(g->message_model) ? message_model_name(g->message_model) : "null",
                 who->client_id ? who->client_id : "", rmq_conn_remote(who->conn));
    } else {
        if (who->client_id && strcmp(c->client_id, who->client_id) != 0) {
            log_error("clients", "[BUG] consumer channel exist in broker, but clientId not equal. "
                      "GROUP: %s OLD: %s NEW: %s", g->name, c->client_id, who->client_id);
            free(c->client_id);
            c->client_id = xstrdup(who->client_id);
            c->language = who->language;
            c->version = who->version;
        }
        c->last_update_ms = now;
    }
    bool subs_changed = update_subscriptions(g, cd->subs, cd->n_subs);
    g->last_update_ms = now;
    if ((channel_new || subs_changed) && notify) notify_ids_changed(g);
    return channel_new || subs_changed;
}

/* Drops an empty group; true if it did. */
static bool consumer_group_drop_if_empty(client_registry *reg, consumer_group *g)
{
    if (g->n_channels) return false;
    log_info("clients", "unregister consumer ok, no any connection, and remove consumer group, %s", g->name);
    consumer_group_free(map_remove(&reg->consumers, g->name));
    return true;
}

void clients_unregister_consumer(client_registry *reg, const char *group, const client_identity *who,
                                 bool notify)
{
    consumer_group *g = map_get(&reg->consumers, group);
    if (!g) return;
    for (size_t i = 0; i < g->n_channels; i++) {
        if (g->channels[i].conn == who->conn) {
            log_info("clients", "unregister a consumer[%s] %s", group, g->channels[i].client_id);
            channel_remove_at(g->channels, &g->n_channels, i);
            break;
        }
    }
    if (consumer_group_drop_if_empty(reg, g)) return;   /* nobody left to tell */
    if (notify) notify_ids_changed(g);
}

const consumer_group *clients_consumer_group(const client_registry *reg, const char *group)
{
    return map_get(&reg->consumers, group);
}

const subscription_data *consumer_group_subscription(const consumer_group *g, const char *topic)
{
    size_t i = sub_index(g, topic);
    return i == (size_t)-1 ? NULL : g->subs[i];
}

const client_channel *consumer_group_channel(const consumer_group *g, const char *client_id)
{
    for (size_t i = 0; i < g->n_channels; i++)
        if (strcmp(g->channels[i].client_id, client_id) == 0) return &g->channels[i];
    return NULL;
}

const char **clients_consumer_ids(const client_registry *reg, const char *group, size_t *n)
{
    const consumer_group *g = map_get(&reg->consumers, group);
    *n = 0;
    if (!g) return NULL;
    const char **ids = xmalloc((g->n_channels ? g->n_channels : 1) * sizeof *ids);
    for (size_t i = 0; i < g->n_channels; i++) ids[(*n)++] = g->channels[i].client_id;
    return ids;
}

const char **clients_groups_by_topic(const client_registry *reg, const char *topic, size_t *n)
{
    size_t ng;
    void **groups = map_values(&reg->consumers, &ng);
    const char **out = xmalloc((ng ? ng : 1) * sizeof *out);
    *n = 0;
    for (size_t i = 0; i < ng; i++) {
        const consumer_group *g = groups[i];
        if (consumer_group_subscription(g, topic)) out[(*n)++] = g->name;
    }
    free(groups);
    return out;
}

/* ---- closing and expiry ---------------------------------------------- */

void clients_on_conn_closed(client_registry *reg, rmq_conn *conn)
{
    size_t n;
    void **groups = map_values(&reg->producers, &n);
    for (size_t i = 0; i < n; i++) {
        producer_group *g = groups[i];
        for (size_t k = 0; k < g->n_channels; k++) {
            if (g->channels[k].conn != conn) continue;
            log_info("clients", "remove channel %s from producer group %s", rmq_conn_remote(conn), g->name);
            channel_remove_at(g->channels, &g->n_channels, k);
            break;
        }
        if (!g->n_channels) producer_group_free(map_remove(&reg->producers, g->name));
    }
    free(groups);
    /* Every client id still naming this connection, even one whose channel left
     * under another id, so no dead connection stays held. */
    for (size_t k = map_remove_value(&reg->producer_ids, conn); k > 0; k--) rmq_conn_release(conn);

    groups = map_values(&reg->consumers, &n);
    for (size_t i = 0; i < n; i++) {
        consumer_group *g = groups[i];
        for (size_t k = 0; k < g->n_channels; k++) {
            if (g->channels[k].conn != conn) continue;
            log_warn("clients", "remove not active channel %s from consumer group %s",
                     rmq_conn_remote(conn), g->name);
            channel_remove_at(g->channels, &g->n_channels, k);
            /* ConsumerManager.doChannelCloseEvent tells the rest whatever the group's
             * config says (only the broker-wide switch counts there). */
            if (!consumer_group_drop_if_empty(reg, g)) notify_ids_changed(g);
            break;
        }
    }
    free(groups);
}

void clients_scan_expired(client_registry *reg, int64_t now_ms, int64_t expiry_ms)
{
    /* Drop first, close after: closing calls back into clients_on_conn_closed. */
    rmq_conn **to_close = NULL;
    size_t n_close = 0;
    size_t n;
    void **groups = map_values(&reg->producers, &n);
    for (size_t i = 0; i < n; i++) {
        producer_group *g = groups[i];
        for (size_t k = 0; k < g->n_channels;) {
            client_channel *c = &g->channels[k];
            if (now_ms - c->last_update_ms <= expiry_ms) {
                k++;
                continue;
            }
            log_warn("clients", "SCAN: remove expired channel[%s] from producer group %s",
                     rmq_conn_remote(c->conn), g->name);
            to_close = xrealloc(to_close, (n_close + 1) * sizeof *to_close);
            rmq_conn_hold(to_close[n_close++] = c->conn);
            producer_id_drop(reg, c->client_id, c->conn);
            channel_remove_at(g->channels, &g->n_channels, k);
        }
        if (!g->n_channels) producer_group_free(map_remove(&reg->producers, g->name));
    }
    free(groups);

    groups = map_values(&reg->consumers, &n);
    for (size_t i = 0; i < n; i++) {
        consumer_group *g = groups[i];
        bool dropped = false;
        for (size_t k = 0; k < g->n_channels;) {
            client_channel *c = &g->channels[k];
            if (now_ms - c->last_update_ms <= expiry_ms) {
                k++;
                continue;
            }
            log_warn("clients", "SCAN: remove expired channel %s from consumer group %s",
                     rmq_conn_remote(c->conn), g->name);
            to_close = xrealloc(to_close, (n_close + 1) * sizeof *to_close);
            rmq_conn_hold(to_close[n_close++] = c->conn);
            channel_remove_at(g->channels, &g->n_channels, k);
            dropped = true;
        }
        /* Apache says nothing here (the channel is gone before its close event);
         * the remaining members are told at once rather than at their next rebalance. */
        if (dropped && !consumer_group_drop_if_empty(reg, g)) notify_ids_changed(g);
    }
    free(groups);

    for (size_t i = 0; i < n_close; i++) {
        rmq_conn_close(to_close[i]);
        rmq_conn_release(to_close[i]);
    }
    free(to_close);
}

/* ---- queue locks ------------------------------------------------------ */

static char *lock_key(const char *group, const message_queue *mq)
{
    /* \001 cannot occur in group, topic or broker names (their legal characters). */
    return str_printf("%s\001%s\001%s\001%d", group, mq->topic ? mq->topic : "",
                      mq->broker_name ? mq->broker_name : "", mq->queue_id);
}

static void lock_entry_free(void *p)
{
    lock_entry *e = p;
    free(e->client_id);
    free(e);
}

void clients_try_lock_batch(client_registry *reg, const char *group, const message_queue *mqs,
                            size_t n, const char *client_id, bool *locked)
{
    int64_t now = reg->clock();
    for (size_t i = 0; i < n; i++) {
        char *key = lock_key(group, &mqs[i]);
        lock_entry *e = map_get(&reg->locks, key);
        if (!e) {
            e = xcalloc(1, sizeof *e);
            e->client_id = xstrdup(client_id);
            e->last_update_ms = now;
            map_add(&reg->locks, key, e);
            log_info("clients", "tryLockBatch, message queue not locked, I got it. Group: %s NewClientId: %s "
                     "%s/%s/%d", group, client_id, mqs[i].topic, mqs[i].broker_name, mqs[i].queue_id);
            locked[i] = true;
        } else if (strcmp(e->client_id, client_id) == 0 || now - e->last_update_ms > CLIENTS_LOCK_MAX_LIVE_MS) {
            /* Ours (renewed, even if it had lapsed), or another's that expired. */
            if (strcmp(e->client_id, client_id) != 0) {
                log_warn("clients", "tryLockBatch, message queue lock expired, I got it. Group: %s "
                         "OldClientId: %s NewClientId: %s", group, e->client_id, client_id);
                free(e->client_id);
                e->client_id = xstrdup(client_id);
            }
            e->last_update_ms = now;
            locked[i] = true;
        } else {
            log_warn("clients", "tryLockBatch, message queue locked by other client. Group: %s "
                     "OtherClientId: %s NewClientId: %s", group, e->client_id, client_id);
            locked[i] = false;
        }
        free(key);
    }
}

void clients_unlock_batch(client_registry *reg, const char *group, const message_queue *mqs,
                          size_t n, const char *client_id)
{
    for (size_t i = 0; i < n; i++) {
        char *key = lock_key(group, &mqs[i]);
        lock_entry *e = map_get(&reg->locks, key);
        if (!e)
            log_warn("clients", "unlockBatch, but mq not locked, Group: %s %s", group, client_id);
        else if (strcmp(e->client_id, client_id) == 0)
            lock_entry_free(map_remove(&reg->locks, key));
        else
            log_warn("clients", "unlockBatch, but mq locked by other client: %s, Group: %s %s",
                     e->client_id, group, client_id);
        free(key);
    }
}

static void release_conn(void *p) { rmq_conn_release(p); }

void clients_free(client_registry *reg)
{
    if (!reg) return;
    map_clear(&reg->producers, producer_group_free);
    map_clear(&reg->producer_ids, release_conn);
    map_clear(&reg->consumers, consumer_group_free);
    map_clear(&reg->locks, lock_entry_free);
    clients_forget_fingerprints(reg);
    free(reg);
}
