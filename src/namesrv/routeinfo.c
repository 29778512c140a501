/*
 * The route table: RouteInfoManager of Apache RocketMQ 4.9.8, table for
 * table, with the same HashMap capacities so that every body lists its
 * entries in Apache's order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "namesrv/routeinfo_int.h"

#define LOG_MOD "namesrv"


/* ---- ownership helpers ---- */

static void queue_data_free(void *p)
{
    queue_data *qd = p;
    if (!qd) return;
    free(qd->broker_name);
    free(qd);
}

static void queue_map_free(void *p)
{
    jmap *m = p;
    if (!m) return;
    jmap_clear(m, queue_data_free);
    free(m);
}

static void name_set_free(void *p)
{
    jmap *m = p;
    if (!m) return;
    jmap_clear(m, NULL);
    free(m);
}

static void broker_data_free(void *p)
{
    broker_data *bd = p;
    if (!bd) return;
    jmap_clear(&bd->addrs, free);
    free(bd->zone_name);
    free(bd->cluster);
    free(bd->broker_name);
    free(bd);
}

static void broker_live_free(void *p)
{
    broker_live *bl = p;
    if (!bl) return;
    if (bl->conn) rmq_conn_release(bl->conn);
    free(bl->ha_server_addr);
    free(bl->seen);
    free(bl);
}

static void str_list_free(void *p)
{
    str_list *l = p;
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    free(l);
}

static jmap *new_map(uint32_t cap)
{
    jmap *m = xmalloc(sizeof *m);
    jmap_init(m, cap);
    return m;
}

route_table *route_table_new(void)
{
    route_table *rt = xcalloc(1, sizeof *rt);
    jmap_init(&rt->topic_queue, 1024);
    jmap_init(&rt->broker_addr, 128);
    jmap_init(&rt->cluster_addr, 32);
    jmap_init(&rt->broker_live, 256);
    jmap_init(&rt->filter_server, 256);
    return rt;
}

void route_table_free(route_table *rt)
{
    if (!rt) return;
    jmap_clear(&rt->topic_queue, queue_map_free);
    jmap_clear(&rt->broker_addr, broker_data_free);
    jmap_clear(&rt->cluster_addr, name_set_free);
    jmap_clear(&rt->broker_live, broker_live_free);
    jmap_clear(&rt->filter_server, str_list_free);
    free(rt);
}

static void id_key(char *buf, size_t len, int64_t id) { snprintf(buf, len, "%" PRId64, id); }

/* ---- registration ---- */

static bool data_version_equal(const data_version *a, const data_version *b)
{
    return a->timestamp == b->timestamp && a->counter == b->counter;
}

bool route_broker_data_version(const route_table *rt, const char *broker_addr, data_version *out)
{
    const broker_live *bl = jmap_get(&rt->broker_live, broker_addr);
    if (!bl) return false;
    *out = bl->data_version;
    return true;
}

bool route_data_version_changed(const route_table *rt, const char *broker_addr, const data_version *dv)
{
    data_version prev;
    return !route_broker_data_version(rt, broker_addr, &prev) || !data_version_equal(&prev, dv);
}

void route_touch_broker(route_table *rt, const char *broker_addr, int64_t now_ms)
{
    broker_live *bl = jmap_get(&rt->broker_live, broker_addr);
    if (bl) bl->last_update_ms = now_ms;
}

static void create_and_update_queue_data(route_table *rt, const char *broker_name, const topic_config *tc)
{
    queue_data *qd = xcalloc(1, sizeof *qd);
    qd->broker_name = xstrdup(broker_name);
    qd->read_queue_nums = tc->read_queue_nums;
    qd->write_queue_nums = tc->write_queue_nums;
    qd->perm = tc->perm;
    qd->topic_sys_flag = tc->topic_sys_flag;

    jmap *qmap = jmap_get(&rt->topic_queue, tc->topic_name);
    if (!qmap) {
        qmap = new_map(0);
        jmap_put(qmap, broker_name, qd, NULL);
        jmap_put(&rt->topic_queue, tc->topic_name, qmap, NULL);
        log_debug(LOG_MOD, "new topic registered, %s %s", tc->topic_name, broker_name);
        return;
    }
    void *old = NULL;
    jmap_put(qmap, broker_name, qd, &old);
    queue_data_free(old);
}

/* A slave learns its master's address and HA address. */
static void put_queue(jmap *qmap, const route_queue *q)
{
    queue_data *qd = xcalloc(1, sizeof *qd);
    qd->broker_name = xstrdup(q->broker_name);
    qd->read_queue_nums = q->read_queue_nums;
    qd->write_queue_nums = q->write_queue_nums;
    qd->perm = q->perm;
    qd->topic_sys_flag = q->topic_sys_flag;
    void *old = NULL;
    jmap_put(qmap, q->broker_name, qd, &old);
    queue_data_free(old);
}

void route_register_topic(route_table *rt, const char *topic, const route_queue *queues, size_t n)
{
    if (!n) return;
    jmap *qmap = jmap_get(&rt->topic_queue, topic);
    /* Apache puts into an existing route one by one until a broker is unknown (what came
     * before it stays), and checks all before making a new one. */
    for (size_t i = 0; i < n; i++) {
        if (!jmap_get(&rt->broker_addr, queues[i].broker_name)) {
            log_warn(LOG_MOD, "Register topic contains illegal broker, %s, %s", topic, queues[i].broker_name);
            return;
        }
        if (qmap) put_queue(qmap, &queues[i]);
    }
    if (qmap) return;
    qmap = new_map(0);
    for (size_t i = 0; i < n; i++) put_queue(qmap, &queues[i]);
    jmap_put(&rt->topic_queue, topic, qmap, NULL);
    log_info(LOG_MOD, "Register topic route:%s", topic);
}

static void master_of(const route_table *rt, const broker_data *bd, int64_t broker_id, register_result *out)
{
    if (broker_id == NAMESRV_MASTER_ID) return;
    const char *master_addr = jmap_get(&bd->addrs, "0");
    const broker_live *master = master_addr ? jmap_get(&rt->broker_live, master_addr) : NULL;
    if (master) {
        out->ha_server_addr = master->ha_server_addr ? xstrdup(master->ha_server_addr) : NULL;
        out->master_addr = xstrdup(master_addr);
    }
}

/* RouteInfoManager.registerBroker: setEnableActingMaster(!isOldVersionBroker && enableActingMaster), setZoneName. */
static void set_5x_fields(broker_data *bd, const broker_registration *reg)
{
    bd->enable_acting_master = reg->enable_acting_master == 1;
    free(bd->zone_name);
    bd->zone_name = reg->zone_name ? xstrdup(reg->zone_name) : NULL;
}

void route_register_broker(route_table *rt, const broker_registration *reg, int64_t now_ms,
                           register_result *out)
{
    memset(out, 0, sizeof *out);

    jmap *names = jmap_get(&rt->cluster_addr, reg->cluster_name);
    if (!names) {
        names = new_map(0);
        jmap_put(&rt->cluster_addr, reg->cluster_name, names, NULL);
    }
    jmap_put(names, reg->broker_name, NULL, NULL);

    bool register_first = false;
    broker_data *bd = jmap_get(&rt->broker_addr, reg->broker_name);
    if (!bd) {
        register_first = true;
        bd = xcalloc(1, sizeof *bd);
        bd->cluster = xstrdup(reg->cluster_name);
        bd->broker_name = xstrdup(reg->broker_name);
        jmap_init_long(&bd->addrs, 0);
        jmap_put(&rt->broker_addr, reg->broker_name, bd, NULL);
    }
    set_5x_fields(bd, reg);

    /* A slave turned master (or back): one address keeps one id. */
    char key[24];
    id_key(key, sizeof key, reg->broker_id);
    for (jmap_entry *e = jmap_first(&bd->addrs), *nx; e; e = nx) {
        nx = jmap_next(&bd->addrs, e);
        if (strcmp(e->val, reg->broker_addr) == 0 && strcmp(e->key, key) != 0) {
            void *addr;
            jmap_remove(&bd->addrs, e->key, &addr);
            free(addr);
        }
    }
    /* 5.x: a broker with an older stateVersion (master epoch) than the one holding
     * its id is ignored, and forgotten: a deposed master's late registration must
     * not send clients back to it. */
    const char *holder = jmap_get(&bd->addrs, key);
    const broker_live *held = holder && strcmp(holder, reg->broker_addr) ? jmap_get(&rt->broker_live, holder) : NULL;
    if (held && held->data_version.state_version > reg->data_version.state_version) {
        log_warn(LOG_MOD, "Registering Broker conflicts with the existed one, just ignore.: Cluster:%s, BrokerName:%s, "
                 "BrokerId:%lld, Old BrokerAddr:%s, Old Version:%lld, New BrokerAddr:%s, New Version:%lld.",
                 reg->cluster_name, reg->broker_name, (long long)reg->broker_id, holder,
                 (long long)held->data_version.state_version, reg->broker_addr,
                 (long long)reg->data_version.state_version);
        void *live = NULL;
        jmap_remove(&rt->broker_live, reg->broker_addr, &live);
        broker_live_free(live);
        return;
    }
    void *old_addr = NULL;
    jmap_put(&bd->addrs, key, xstrdup(reg->broker_addr), &old_addr);
    if (reg->broker_id == NAMESRV_MASTER_ID)
        log_info(LOG_MOD, "cluster [%s] brokerName [%s] master address change from %s to %s",
                 bd->cluster, bd->broker_name, old_addr ? (char *)old_addr : "null", reg->broker_addr);
    register_first = register_first || !old_addr;
    free(old_addr);

    /*
     * A master's topics are applied when its data version changed; with the
     * version unchanged (a periodic registration of an unchanged broker, or a
     * later batch of a split one) only topics the broker is not listed on yet
     * are added, as 5.x's isTopicConfigChanged does: hash lookups, no walk
     * over the topics already known.
     */
    if (reg->broker_id == NAMESRV_MASTER_ID) {
        bool changed = register_first || route_data_version_changed(rt, reg->broker_addr, &reg->data_version);
        for (size_t i = 0; i < reg->n_topics; i++) {
            const jmap *queues = changed ? NULL : jmap_get(&rt->topic_queue, reg->topics[i].topic_name);
            if (changed || !queues || !jmap_has(queues, reg->broker_name))
                create_and_update_queue_data(rt, reg->broker_name, &reg->topics[i]);
        }
    }

    broker_live *bl = xcalloc(1, sizeof *bl);
    bl->last_update_ms = now_ms;
    bl->data_version = reg->data_version;
    bl->conn = reg->conn;
    if (bl->conn) rmq_conn_hold(bl->conn);
    bl->ha_server_addr = reg->ha_server_addr ? xstrdup(reg->ha_server_addr) : NULL;
    void *prev_live = NULL;
    if (jmap_put(&rt->broker_live, reg->broker_addr, bl, &prev_live))
        log_info(LOG_MOD, "new broker registered, %s HAServer: %s", reg->broker_addr,
                 reg->ha_server_addr ? reg->ha_server_addr : "null");
    broker_live *prev = prev_live;
    if (prev) {   /* the bodies it applied stay known */
        bl->seen = prev->seen;
        bl->n_seen = prev->n_seen;
        bl->next_seen = prev->next_seen;
        prev->seen = NULL;
    }
    broker_live_free(prev_live);
    if (reg->body_len) {
        if (!bl->seen) bl->seen = xcalloc(SEEN_BODIES, sizeof *bl->seen);
        bl->seen[bl->next_seen] = (seen_body){reg->body_crc32, reg->body_len, reg->data_version};
        bl->next_seen = (bl->next_seen + 1) % SEEN_BODIES;
        if (bl->n_seen < SEEN_BODIES) bl->n_seen++;
    }

    if (reg->has_filter_servers) {
        void *old_list = NULL;
        if (reg->n_filter_servers == 0) {
            jmap_remove(&rt->filter_server, reg->broker_addr, &old_list);
        } else {
            str_list *l = xcalloc(1, sizeof *l);
            l->n = reg->n_filter_servers;
            l->v = xcalloc(l->n, sizeof *l->v);
            for (size_t i = 0; i < l->n; i++) l->v[i] = xstrdup(reg->filter_servers[i]);
            jmap_put(&rt->filter_server, reg->broker_addr, l, &old_list);
        }
        str_list_free(old_list);
    }

    master_of(rt, bd, reg->broker_id, out);
}

bool route_register_seen_body(route_table *rt, const broker_registration *reg, int64_t now_ms,
                              register_result *out)
{
    memset(out, 0, sizeof *out);
    broker_live *bl = jmap_get(&rt->broker_live, reg->broker_addr);
    broker_data *bd = jmap_get(&rt->broker_addr, reg->broker_name);
    char key[24];
    id_key(key, sizeof key, reg->broker_id);
    const char *addr = bd ? jmap_get(&bd->addrs, key) : NULL;
    if (!bl || !bl->seen || !addr || strcmp(addr, reg->broker_addr) != 0 || strcmp(bd->cluster, reg->cluster_name))
        return false;
    const seen_body *found = NULL;
    for (uint32_t i = 0; i < bl->n_seen && !found; i++)
        if (bl->seen[i].crc == reg->body_crc32 && bl->seen[i].len == reg->body_len) found = &bl->seen[i];
    if (!found) return false;
    bl->last_update_ms = now_ms;
    bl->data_version = found->data_version;
    set_5x_fields(bd, reg);
    if (bl->conn != reg->conn) {
        if (bl->conn) rmq_conn_release(bl->conn);
        bl->conn = reg->conn;
        if (bl->conn) rmq_conn_hold(bl->conn);
    }
    if (reg->ha_server_addr && (!bl->ha_server_addr || strcmp(bl->ha_server_addr, reg->ha_server_addr))) {
        free(bl->ha_server_addr);
        bl->ha_server_addr = xstrdup(reg->ha_server_addr);
    }
    master_of(rt, bd, reg->broker_id, out);
    return true;
}

/* RouteInfoManager.removeTopicByBrokerName and the tail of onChannelDestroy. */
static void remove_broker_from_topics(route_table *rt, const char *broker_name)
{
    for (jmap_entry *e = jmap_first(&rt->topic_queue), *nx; e; e = nx) {
        nx = jmap_next(&rt->topic_queue, e);
        jmap *qmap = e->val;
        void *old = NULL;
        if (jmap_remove(qmap, broker_name, &old))
            log_debug(LOG_MOD, "remove one broker's topic %s %s", e->key, broker_name);
        queue_data_free(old);
        if (qmap->size == 0) {
            log_info(LOG_MOD, "remove the topic all queue %s", e->key);
            void *m;
            jmap_remove(&rt->topic_queue, e->key, &m);
            queue_map_free(m);
        }
    }
}

void route_unregister_broker(route_table *rt, const char *cluster_name, const char *broker_addr,
                             const char *broker_name, int64_t broker_id)
{
    void *live = NULL, *filters = NULL;
    bool removed = jmap_remove(&rt->broker_live, broker_addr, &live);
    log_info(LOG_MOD, "unregisterBroker, remove from brokerLiveTable %s, %s", removed ? "OK" : "Failed",
             broker_addr);
    broker_live_free(live);
    jmap_remove(&rt->filter_server, broker_addr, &filters);
    str_list_free(filters);

    bool remove_broker_name = false;
    broker_data *bd = jmap_get(&rt->broker_addr, broker_name);
    if (bd) {
        char key[24];
        void *addr = NULL;
        id_key(key, sizeof key, broker_id);
        removed = jmap_remove(&bd->addrs, key, &addr);
        free(addr);
        log_info(LOG_MOD, "unregisterBroker, remove addr from brokerAddrTable %s, %s",
                 removed ? "OK" : "Failed", broker_addr);
        if (bd->addrs.size == 0) {
            jmap_remove(&rt->broker_addr, broker_name, NULL);
            broker_data_free(bd);
            log_info(LOG_MOD, "unregisterBroker, remove name from brokerAddrTable OK, %s", broker_name);
            remove_broker_name = true;
        }
    }
    if (!remove_broker_name) return;

    jmap *names = jmap_get(&rt->cluster_addr, cluster_name);
    if (names) {
        jmap_remove(names, broker_name, NULL);
        if (names->size == 0) {
            jmap_remove(&rt->cluster_addr, cluster_name, NULL);
            name_set_free(names);
            log_info(LOG_MOD, "unregisterBroker, remove cluster from clusterAddrTable %s", cluster_name);
        }
    }
    remove_broker_from_topics(rt, broker_name);
}

/* onChannelDestroy once the broker address is known. */
static void destroy_broker_addr(route_table *rt, const char *broker_addr)
{
    void *live = NULL, *filters = NULL;
    jmap_remove(&rt->broker_live, broker_addr, &live);
    broker_live_free(live);
    jmap_remove(&rt->filter_server, broker_addr, &filters);
    str_list_free(filters);

    char *name_found = NULL;
    bool remove_broker_name = false;
    for (jmap_entry *e = jmap_first(&rt->broker_addr), *nx; e && !name_found; e = nx) {
        nx = jmap_next(&rt->broker_addr, e);
        broker_data *bd = e->val;
        JMAP_FOREACH(&bd->addrs, a) {
            if (strcmp(a->val, broker_addr) == 0) {
                name_found = xstrdup(bd->broker_name);
                log_info(LOG_MOD, "remove brokerAddr[%s, %s] from brokerAddrTable, because channel destroyed",
                         a->key, broker_addr);
                void *addr;
                jmap_remove(&bd->addrs, a->key, &addr);
                free(addr);
                break;
            }
        }
        if (bd->addrs.size == 0) {
            remove_broker_name = true;
            log_info(LOG_MOD, "remove brokerName[%s] from brokerAddrTable, because channel destroyed",
                     bd->broker_name);
            jmap_remove(&rt->broker_addr, e->key, NULL);
            broker_data_free(bd);
        }
    }

    if (name_found && remove_broker_name) {
        JMAP_FOREACH(&rt->cluster_addr, c) {
            jmap *names = c->val;
            if (jmap_remove(names, name_found, NULL)) {
                if (names->size == 0) {
                    log_info(LOG_MOD, "remove the clusterName[%s] from clusterAddrTable, because channel "
                             "destroyed and no broker in this cluster", c->key);
                    jmap_remove(&rt->cluster_addr, c->key, NULL);
                    name_set_free(names);
                }
                break;
            }
        }
    }
    if (name_found && remove_broker_name) remove_broker_from_topics(rt, name_found);
    free(name_found);
}

void route_on_channel_destroy(route_table *rt, const char *remote_addr, const rmq_conn *conn)
{
    char *found = NULL;
    if (conn) {
        JMAP_FOREACH(&rt->broker_live, e) {
            const broker_live *bl = e->val;
            if (bl->conn == conn) {
                found = xstrdup(e->key);
                break;
            }
        }
    }
    if (found)
        log_info(LOG_MOD, "the broker's channel destroyed, %s, clean it's data structure at once", found);
    else if (remote_addr)
        found = xstrdup(remote_addr);
    if (found && *found) destroy_broker_addr(rt, found);
    free(found);
}

int route_scan_not_active(route_table *rt, int64_t now_ms, int64_t expire_ms)
{
    int removed = 0;
    rmq_conn **to_close = NULL;
    for (jmap_entry *e = jmap_first(&rt->broker_live), *nx; e; e = nx) {
        nx = jmap_next(&rt->broker_live, e);
        broker_live *bl = e->val;
        if (bl->last_update_ms + expire_ms >= now_ms) continue;
        char *addr = xstrdup(e->key);
        log_warn(LOG_MOD, "The broker channel expired, %s %" PRId64 "ms", addr, expire_ms);
        /* Close after the tables are consistent: closing calls us back. */
        to_close = xrealloc(to_close, (removed + 1) * sizeof *to_close);
        to_close[removed++] = bl->conn;
        bl->conn = NULL;
        jmap_remove(&rt->broker_live, addr, NULL);
        broker_live_free(bl);
        destroy_broker_addr(rt, addr);
        free(addr);
    }
    for (int i = 0; i < removed; i++) {
        if (!to_close[i]) continue;
        rmq_conn_close(to_close[i]);
        rmq_conn_release(to_close[i]);
    }
    free(to_close);
    return removed;
}

/* ---- admin operations ---- */

void route_delete_topic(route_table *rt, const char *topic, const char *cluster_name)
{
    void *qmap = NULL;
    if (!cluster_name || !*cluster_name) {
        jmap_remove(&rt->topic_queue, topic, &qmap);
        queue_map_free(qmap);
        return;
    }
    jmap *names = jmap_get(&rt->cluster_addr, cluster_name);
    jmap *queues = jmap_get(&rt->topic_queue, topic);
    if (!names || names->size == 0 || !queues) return;
    JMAP_FOREACH(names, n) {
        void *qd = NULL;
        if (jmap_remove(queues, n->key, &qd))
            log_info(LOG_MOD, "deleteTopic, remove one broker's topic %s %s", n->key, topic);
        queue_data_free(qd);
    }
    if (queues->size == 0) {
        log_info(LOG_MOD, "deleteTopic, remove the topic all queue %s %s", cluster_name, topic);
        jmap_remove(&rt->topic_queue, topic, NULL);
        queue_map_free(queues);
    }
}

static int operate_write_perm(route_table *rt, const char *broker_name, bool wipe)
{
    int count = 0;
    JMAP_FOREACH(&rt->topic_queue, e) {
        queue_data *qd = jmap_get(e->val, broker_name);
        if (!qd) continue;
        qd->perm = wipe ? qd->perm & ~NAMESRV_PERM_WRITE : NAMESRV_PERM_READ | NAMESRV_PERM_WRITE;
        count++;
    }
    return count;
}

int route_wipe_write_perm(route_table *rt, const char *broker_name)
{
    return operate_write_perm(rt, broker_name, true);
}

int route_add_write_perm(route_table *rt, const char *broker_name)
{
    return operate_write_perm(rt, broker_name, false);
}

/* ---- bodies ---- */
