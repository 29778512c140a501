/*
 * The name server's JSON answers built from the route table (routeinfo_int.h):
 * TopicRouteData, ClusterInfo, TopicList, as fastjson writes them for Apache.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/util.h"
#include "namesrv/routeinfo_int.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_long_key(const void *a, const void *b)
{
    int64_t x = 0, y = 0;
    parse_int64(*(const char *const *)a, &x);
    parse_int64(*(const char *const *)b, &y);
    return (x > y) - (x < y);
}

/* Keys of M in Java order, or sorted with CMP (MapSortField). Caller frees the array. */
static const char **map_keys(const jmap *m, int (*cmp)(const void *, const void *))
{
    const char **keys = xcalloc(m->size + 1, sizeof *keys);
    size_t n = 0;
    JMAP_FOREACH(m, e) keys[n++] = e->key;
    if (cmp) qsort(keys, n, sizeof *keys, cmp);
    return keys;
}

static void write_broker_addrs(fjson_writer *w, const jmap *addrs, bool sorted)
{
    const char **keys = map_keys(addrs, sorted ? cmp_long_key : NULL);
    fjson_begin_object(w);
    for (size_t i = 0; i < addrs->size; i++) {
        int64_t id = 0;
        parse_int64(keys[i], &id);
        fjson_key_int(w, id);
        fjson_string(w, jmap_get(addrs, keys[i]));
    }
    fjson_end_object(w);
    free(keys);
}

static void write_broker_data(fjson_writer *w, const broker_data *bd, const jmap *addrs, unsigned form)
{
    fjson_begin_object(w);
    fjson_key(w, "brokerAddrs");
    write_broker_addrs(w, addrs, form & ROUTE_STANDARD);
    fjson_prop_string(w, "brokerName", bd->broker_name);
    fjson_prop_string(w, "cluster", bd->cluster);
    if (form & ROUTE_5X) {
        fjson_prop_bool(w, "enableActingMaster", bd->enable_acting_master);
        if (bd->zone_name) fjson_prop_string(w, "zoneName", bd->zone_name);
    }
    fjson_end_object(w);
}

static void write_queue_data(fjson_writer *w, const queue_data *qd)
{
    fjson_begin_object(w);
    fjson_prop_string(w, "brokerName", qd->broker_name);
    fjson_prop_int64(w, "perm", qd->perm);
    fjson_prop_int64(w, "readQueueNums", qd->read_queue_nums);
    fjson_prop_int64(w, "topicSysFlag", qd->topic_sys_flag);
    fjson_prop_int64(w, "writeQueueNums", qd->write_queue_nums);
    fjson_end_object(w);
}

static void write_string_array(fjson_writer *w, char *const *v, size_t n)
{
    fjson_begin_array(w);
    for (size_t i = 0; i < n; i++) fjson_string(w, v[i]);
    fjson_end_array(w);
}

char *route_topic_route_json(const route_table *rt, const char *topic, const char *order_topic_conf,
                             unsigned form, size_t *len)
{
    bool standard = form & ROUTE_STANDARD;
    const jmap *queues = jmap_get(&rt->topic_queue, topic);
    if (!queues) return NULL;

    /* pickupTopicRouteData: a HashSet of the broker names, each BrokerData
     * cloned (HashMap.clone re-sizes the table to fit), filter servers of
     * every address of those brokers. */
    jmap names;
    jmap_init(&names, 0);
    JMAP_FOREACH(queues, q) jmap_put(&names, q->key, NULL, NULL);
    size_t n_brokers = 0;
    const broker_data **brokers = xcalloc(names.size + 1, sizeof *brokers);
    jmap *clones = xcalloc(names.size + 1, sizeof *clones);
    jmap filters;
    jmap_init(&filters, 0);
    JMAP_FOREACH(&names, n) {
        const broker_data *bd = jmap_get(&rt->broker_addr, n->key);
        if (!bd) continue;
        jmap *clone = &clones[n_brokers];
        jmap_init_long(clone, (uint32_t)((float)bd->addrs.size / 0.75f + 1.0f));
        JMAP_FOREACH(&bd->addrs, a) {
            jmap_put(clone, a->key, a->val, NULL);
            const str_list *fl = rt->filter_server.size ? jmap_get(&rt->filter_server, a->val) : NULL;
            if (fl) jmap_put(&filters, a->val, (void *)fl, NULL);
        }
        brokers[n_brokers++] = bd;
    }
    jmap_clear(&names, NULL);

    char *json = NULL;
    if (n_brokers > 0) {
        fjson_writer w;
        fjson_writer_init(&w, standard ? FJSON_STANDARD : 0);
        fjson_begin_object(&w);
        fjson_key(&w, "brokerDatas");
        fjson_begin_array(&w);
        for (size_t i = 0; i < n_brokers; i++) write_broker_data(&w, brokers[i], &clones[i], form);
        fjson_end_array(&w);
        fjson_key(&w, "filterServerTable");
        fjson_begin_object(&w);
        const char **fkeys = map_keys(&filters, standard ? cmp_str : NULL);
        for (size_t i = 0; i < filters.size; i++) {
            const str_list *fl = jmap_get(&filters, fkeys[i]);
            fjson_key(&w, fkeys[i]);
            write_string_array(&w, fl->v, fl->n);
        }
        free(fkeys);
        fjson_end_object(&w);
        fjson_prop_string(&w, "orderTopicConf", order_topic_conf);
        fjson_key(&w, "queueDatas");
        fjson_begin_array(&w);
        JMAP_FOREACH(queues, q) write_queue_data(&w, q->val);
        fjson_end_array(&w);
        fjson_end_object(&w);
        json = fjson_writer_finish(&w, len);
    }
    for (size_t i = 0; i < n_brokers; i++) jmap_clear(&clones[i], NULL);
    jmap_clear(&filters, NULL);
    free(clones);
    free(brokers);
    return json;
}

char *route_broker_member_group_json(const route_table *rt, const char *cluster, const char *broker_name,
                                     size_t *len)
{
    const broker_data *bd = broker_name ? jmap_get(&rt->broker_addr, broker_name) : NULL;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "brokerMemberGroup");
    fjson_begin_object(&w);
    fjson_key(&w, "brokerAddrs");   /* a new HashMap, putAll of the broker's */
    if (bd) {
        write_broker_addrs(&w, &bd->addrs, false);
    } else {
        fjson_begin_object(&w);
        fjson_end_object(&w);
    }
    if (broker_name) fjson_prop_string(&w, "brokerName", broker_name);  /* fastjson leaves nulls out */
    if (cluster) fjson_prop_string(&w, "cluster", cluster);
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

char *route_cluster_info_json(const route_table *rt, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "brokerAddrTable");
    fjson_begin_object(&w);
    JMAP_FOREACH(&rt->broker_addr, e) {
        const broker_data *bd = e->val;
        fjson_key(&w, e->key);
        write_broker_data(&w, bd, &bd->addrs, false);
    }
    fjson_end_object(&w);
    fjson_key(&w, "clusterAddrTable");
    fjson_begin_object(&w);
    JMAP_FOREACH(&rt->cluster_addr, c) {
        fjson_key(&w, c->key);
        fjson_begin_array(&w);
        JMAP_FOREACH((const jmap *)c->val, n) fjson_string(&w, n->key);
        fjson_end_array(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

/* TopicList {brokerAddr?, topicList}; consumes the set. */
static char *topic_list_json(jmap *set, const char *broker_addr, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_string(&w, "brokerAddr", broker_addr);
    fjson_key(&w, "topicList");
    fjson_begin_array(&w);
    JMAP_FOREACH(set, e) fjson_string(&w, e->key);
    fjson_end_array(&w);
    fjson_end_object(&w);
    jmap_clear(set, NULL);
    return fjson_writer_finish(&w, len);
}

char *route_all_topics_json(const route_table *rt, size_t *len)
{
    jmap set;
    jmap_init(&set, 0);
    JMAP_FOREACH(&rt->topic_queue, e) jmap_put(&set, e->key, NULL, NULL);
    return topic_list_json(&set, NULL, len);
}

char *route_topics_by_cluster_json(const route_table *rt, const char *cluster, size_t *len)
{
    jmap set;
    jmap_init(&set, 0);
    const jmap *names = jmap_get(&rt->cluster_addr, cluster);
    if (names) {
        JMAP_FOREACH(names, n) {
            JMAP_FOREACH(&rt->topic_queue, t) {
                if (jmap_has(t->val, n->key)) jmap_put(&set, t->key, NULL, NULL);
            }
        }
    }
    return topic_list_json(&set, NULL, len);
}

char *route_system_topics_json(const route_table *rt, size_t *len)
{
    jmap set;
    jmap_init(&set, 0);
    JMAP_FOREACH(&rt->cluster_addr, c) {
        jmap_put(&set, c->key, NULL, NULL);
        JMAP_FOREACH((const jmap *)c->val, n) jmap_put(&set, n->key, NULL, NULL);
    }
    const char *broker_addr = NULL;
    JMAP_FOREACH(&rt->broker_addr, e) {
        const broker_data *bd = e->val;
        const jmap_entry *first = jmap_first(&bd->addrs);
        if (first) {
            broker_addr = first->val;
            break;
        }
    }
    return topic_list_json(&set, broker_addr, len);
}

char *route_unit_topics_json(const route_table *rt, enum unit_topic_kind kind, size_t *len)
{
    jmap set;
    jmap_init(&set, 0);
    JMAP_FOREACH(&rt->topic_queue, e) {
        /* Apache looks at the first queue data of each topic only. */
        const jmap_entry *first = jmap_first(e->val);
        if (!first) continue;
        int32_t flag = ((const queue_data *)first->val)->topic_sys_flag;
        bool unit = flag & NAMESRV_TOPIC_FLAG_UNIT, unit_sub = flag & NAMESRV_TOPIC_FLAG_UNIT_SUB;
        bool pick = kind == UNIT_TOPICS ? unit : kind == HAS_UNIT_SUB_TOPICS ? unit_sub : !unit && unit_sub;
        if (pick) jmap_put(&set, e->key, NULL, NULL);
    }
    return topic_list_json(&set, NULL, len);
}
