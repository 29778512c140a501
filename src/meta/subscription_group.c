/*
 * Subscription groups: Apache's SubscriptionGroupManager (4.9.8), persisted
 * as config/subscriptionGroup.json — the manager itself serialised, i.e.
 * {"dataVersion":..,"subscriptionGroupTable":..}.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta_internal.h"

struct subgroup_table {
    pthread_mutex_t lock;          /* guards everything below but path */
    pthread_mutex_t persist_lock;  /* one writer of the file at a time */
    strmap groups;                 /* name -> subscription_group_config* */
    data_version version;
    bool auto_create;
    char *path;
    meta_journal *journal;         /* changes since the file was last written */
};

bool subscription_group_config_init(subscription_group_config *c, const char *name)
{
    memset(c, 0, sizeof *c);
    c->consume_enable = true;
    c->consume_from_min_enable = true;
    c->consume_broadcast_enable = true;
    c->retry_queue_nums = 1;
    c->retry_max_times = 16;
    c->broker_id = 0;
    c->which_broker_when_consume_slowly = 1;
    c->notify_consumer_ids_changed_enable = true;
    return meta_copy_name(c->group_name, name);
}

/* SubscriptionGroupConfig's getters, alphabetically. */
void subscription_group_config_write(const subscription_group_config *c, fjson_writer *w)
{
    fjson_begin_object(w);
    fjson_prop_int64(w, "brokerId", c->broker_id);
    fjson_prop_bool(w, "consumeBroadcastEnable", c->consume_broadcast_enable);
    fjson_prop_bool(w, "consumeEnable", c->consume_enable);
    fjson_prop_bool(w, "consumeFromMinEnable", c->consume_from_min_enable);
    /* 5.x's field, written only when set so that 4.x readers see their own shape. */
    if (c->consume_message_orderly) fjson_prop_bool(w, "consumeMessageOrderly", true);
    fjson_prop_string(w, "groupName", c->group_name);
    fjson_prop_bool(w, "notifyConsumerIdsChangedEnable", c->notify_consumer_ids_changed_enable);
    fjson_prop_int64(w, "retryMaxTimes", c->retry_max_times);
    fjson_prop_int64(w, "retryQueueNums", c->retry_queue_nums);
    fjson_prop_int64(w, "whichBrokerWhenConsumeSlowly", c->which_broker_when_consume_slowly);
    fjson_end_object(w);
}

static void group_write(const void *value, fjson_writer *w) { subscription_group_config_write(value, w); }

char *subgroup_table_encode(subgroup_table *t, bool pretty, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, pretty ? FJSON_PRETTY : 0);
    pthread_mutex_lock(&t->lock);
    meta_named_table_write(&w, &t->version, "subscriptionGroupTable", &t->groups, group_write);
    pthread_mutex_unlock(&t->lock);
    return fjson_writer_finish(&w, len);
}

int subgroup_table_persist(subgroup_table *t)
{
    pthread_mutex_lock(&t->persist_lock);
    int rc = meta_named_table_persist(t->path, &t->lock, &t->version, "subscriptionGroupTable", &t->groups,
                                      sizeof(subscription_group_config), group_write, t->journal);
    pthread_mutex_unlock(&t->persist_lock);
    return rc;
}

int subgroup_table_journal(subgroup_table *t, const char *group)
{
    return meta_named_table_journal(&t->lock, &t->version, &t->groups, group, group_write, t->journal);
}

int subscription_group_config_decode(const char *key, const cJSON *obj, void *value, char **err)
{
    subscription_group_config *c = value;
    if (!cJSON_IsObject(obj)) {
        *err = str_printf("group %s is not an object", key);
        return RMQ_ERR;
    }
    subscription_group_config_init(c, key);   /* the caller checked that KEY fits */
    const char *name = NULL;
    if (fjson_field_string(obj, "groupName", &name) == FJSON_WRONG_TYPE ||
        fjson_field_bool(obj, "consumeEnable", &c->consume_enable) == FJSON_WRONG_TYPE ||
        fjson_field_bool(obj, "consumeFromMinEnable", &c->consume_from_min_enable) == FJSON_WRONG_TYPE ||
        fjson_field_bool(obj, "consumeBroadcastEnable", &c->consume_broadcast_enable) == FJSON_WRONG_TYPE ||
        fjson_field_bool(obj, "consumeMessageOrderly", &c->consume_message_orderly) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "retryQueueNums", &c->retry_queue_nums) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "retryMaxTimes", &c->retry_max_times) == FJSON_WRONG_TYPE ||
        fjson_field_int64(obj, "brokerId", &c->broker_id) == FJSON_WRONG_TYPE ||
        fjson_field_int64(obj, "whichBrokerWhenConsumeSlowly", &c->which_broker_when_consume_slowly) ==
            FJSON_WRONG_TYPE ||
        fjson_field_bool(obj, "notifyConsumerIdsChangedEnable", &c->notify_consumer_ids_changed_enable) ==
            FJSON_WRONG_TYPE) {
        *err = str_printf("group %s has a field of the wrong type", key);
        return RMQ_ERR;
    }
    if (name && !meta_copy_name(c->group_name, name)) {
        *err = str_printf("group %s: groupName too long", key);
        return RMQ_ERR;
    }
    return RMQ_OK;
}

/* SubscriptionGroupManager.decode: putAll, take the version. */
static int decode_manager(void *table, const cJSON *root, char **err)
{
    subgroup_table *t = table;
    return meta_named_table_decode(root, "subscriptionGroupTable", "group", sizeof(subscription_group_config),
                                   subscription_group_config_decode, &t->groups, &t->version, err);
}

/* Caller holds the lock (or owns T exclusively). */
static void put_locked(subgroup_table *t, const subscription_group_config *c)
{
    subscription_group_config *copy = xmalloc(sizeof *copy);
    *copy = *c;
    free(strmap_put(&t->groups, c->group_name, copy));
}

subgroup_table *subgroup_table_open(const char *store_root, bool auto_create, char **err)
{
    subgroup_table *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->persist_lock, NULL);
    strmap_init(&t->groups);
    data_version_init(&t->version);
    t->auto_create = auto_create;
    t->path = meta_config_path(store_root, "subscriptionGroup.json");
    t->journal = meta_journal_open(t->path);
    /* SubscriptionGroupManager.init: all with the defaults (the ONS ones set
     * consumeBroadcastEnable=true, which is the default anyway). */
    static const char *const system_groups[] = {
        GROUP_TOOLS_CONSUMER, GROUP_FILTERSRV_CONSUMER, GROUP_SELF_TEST_CONSUMER, GROUP_ONS_HTTP_PROXY,
        GROUP_ONSAPI_PULL, GROUP_ONSAPI_PERMISSION, GROUP_ONSAPI_OWNER,
    };
    for (size_t i = 0; i < sizeof system_groups / sizeof *system_groups; i++) {
        subscription_group_config c;
        subscription_group_config_init(&c, system_groups[i]);
        put_locked(t, &c);
    }
    if (meta_config_load(t->path, decode_manager, t, err) != RMQ_OK) {
        subgroup_table_free(t);
        return NULL;
    }
    if (meta_journal_replay(t->journal, &t->groups, sizeof(subscription_group_config),
                            subscription_group_config_decode, &t->version)) {
        *err = str_printf("cannot read %s.journal", t->path);
        subgroup_table_free(t);
        return NULL;
    }
    return t;
}

void subgroup_table_free(subgroup_table *t)
{
    if (!t) return;
    strmap_clear(&t->groups, free);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->persist_lock);
    meta_journal_close(t->journal);
    free(t->path);
    free(t);
}

bool subgroup_table_get(subgroup_table *t, const char *group, subscription_group_config *out)
{
    pthread_mutex_lock(&t->lock);
    const subscription_group_config *c = strmap_get(&t->groups, group);
    if (c && out) *out = *c;
    pthread_mutex_unlock(&t->lock);
    return c != NULL;
}

bool subgroup_table_find(subgroup_table *t, const char *group, subscription_group_config *out,
                         bool *created)
{
    *created = false;
    pthread_mutex_lock(&t->lock);
    const subscription_group_config *c = strmap_get(&t->groups, group);
    bool found = c != NULL;
    if (c) {
        *out = *c;
    } else if ((t->auto_create || strncmp(group, GROUP_SYS_PREFIX, strlen(GROUP_SYS_PREFIX)) == 0) &&
               subscription_group_config_init(out, group)) {
        put_locked(t, out);
        data_version_next(&t->version);
        log_info(META_LOG, "auto create a subscription group %s", group);
        found = *created = true;
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

void subgroup_table_put(subgroup_table *t, const subscription_group_config *c)
{
    pthread_mutex_lock(&t->lock);
    put_locked(t, c);
    data_version_next(&t->version);
    pthread_mutex_unlock(&t->lock);
}

int subgroup_table_delete(subgroup_table *t, const char *group)
{
    pthread_mutex_lock(&t->lock);
    subscription_group_config *old = strmap_remove(&t->groups, group);
    if (old) data_version_next(&t->version);
    pthread_mutex_unlock(&t->lock);
    if (!old) log_warn(META_LOG, "delete subscription group failed, group: %s not exists", group);
    free(old);
    return old ? RMQ_OK : RMQ_ERR;
}

void subgroup_table_disable_consume(subgroup_table *t, const char *group)
{
    pthread_mutex_lock(&t->lock);
    subscription_group_config *c = strmap_get(&t->groups, group);
    if (c) {
        c->consume_enable = false;
        data_version_next(&t->version);
    }
    pthread_mutex_unlock(&t->lock);
}

size_t subgroup_table_count(subgroup_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->groups.count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

subscription_group_config *subgroup_table_snapshot(subgroup_table *t, size_t *count)
{
    pthread_mutex_lock(&t->lock);
    subscription_group_config *all = xmalloc((t->groups.count ? t->groups.count : 1) * sizeof *all);
    size_t i = 0;
    strmap_foreach(&t->groups, n) all[i++] = *(const subscription_group_config *)n->value;
    *count = i;
    pthread_mutex_unlock(&t->lock);
    return all;
}

data_version subgroup_table_data_version(subgroup_table *t)
{
    pthread_mutex_lock(&t->lock);
    data_version v = t->version;
    pthread_mutex_unlock(&t->lock);
    return v;
}
