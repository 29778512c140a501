/*
 * Topic configs: Apache's TopicConfigManager and TopicValidator (4.9.8),
 * persisted as config/topics.json (TopicConfigSerializeWrapper).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta_internal.h"

#define SCHEDULE_TOPIC_QUEUE_NUM 18
#define SYSTEM_TOPIC_PREFIX "rmq_sys_"
#define REPLY_TOPIC_POSTFIX "REPLY_TOPIC"

struct topic_table {
    pthread_mutex_t lock;          /* guards everything below but path */
    pthread_mutex_t persist_lock;  /* one writer of the file at a time */
    strmap topics;                 /* name -> topic_config* */
    strmap system_topics;          /* TopicValidator.addSystemTopic names; values unused */
    data_version version;
    bool auto_create_topic_enable;
    char *path;
    meta_journal *journal;         /* changes since topics.json was last written */
};

/* ---- TopicConfig / TopicValidator --------------------------------------- */

bool topic_config_init(topic_config *tc, const char *name)
{
    memset(tc, 0, sizeof *tc);
    tc->read_queue_nums = 16;
    tc->write_queue_nums = 16;
    tc->perm = PERM_READ | PERM_WRITE;
    tc->topic_filter_type = TOPIC_FILTER_SINGLE_TAG;
    return meta_copy_name(tc->topic_name, name);
}

/* VALID_CHAR_BIT_MAP: ^[%|a-zA-Z0-9_-]+$ */
static bool valid_topic_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '%' || c == '|' || c == '_' || c == '-';
}

const char *topic_validate(const char *topic)
{
    /* UtilAll.isBlank: empty or only whitespace. */
    const char *p = topic;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v') p++;
    if (!*p) return "The specified topic is blank.";
    for (p = topic; *p; p++)
        if (!valid_topic_char((unsigned char)*p))
            return "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$";
    if (strlen(topic) > TOPIC_MAX_LENGTH) return "The specified topic is longer than topic max length.";
    return NULL;
}

static const char *const not_allowed_send[] = {
    TOPIC_SCHEDULE, TOPIC_TRANS_HALF, TOPIC_TRANS_OP_HALF, TOPIC_TRANS_CHECK_MAX_TIME,
    TOPIC_SELF_TEST, TOPIC_OFFSET_MOVED_EVENT,
};

static const char *const builtin_system_topics[] = {
    TOPIC_AUTO_CREATE_KEY, TOPIC_SCHEDULE, TOPIC_BENCHMARK, TOPIC_TRANS_HALF, TOPIC_TRACE,
    TOPIC_TRANS_OP_HALF, TOPIC_TRANS_CHECK_MAX_TIME, TOPIC_SELF_TEST, TOPIC_OFFSET_MOVED_EVENT,
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return true;
    return false;
}

bool topic_is_not_allowed_send(const char *topic)
{
    return in_list(topic, not_allowed_send, sizeof not_allowed_send / sizeof *not_allowed_send);
}

bool topic_table_is_system_topic(topic_table *t, const char *topic)
{
    if (in_list(topic, builtin_system_topics, sizeof builtin_system_topics / sizeof *builtin_system_topics) ||
        strncmp(topic, SYSTEM_TOPIC_PREFIX, strlen(SYSTEM_TOPIC_PREFIX)) == 0)
        return true;
    pthread_mutex_lock(&t->lock);
    bool added = strmap_get(&t->system_topics, topic) != NULL;
    pthread_mutex_unlock(&t->lock);
    return added;
}

/* ---- encoding ---------------------------------------------------------- */

static const char *filter_type_name(enum topic_filter_type f)
{
    return f == TOPIC_FILTER_MULTI_TAG ? "MULTI_TAG" : "SINGLE_TAG";
}

/*
 * TopicConfig's getters, alphabetically, as fastjson writes them. 5.x writes
 * `attributes` ({} when empty); a topic without any is written as 4.9.8 does,
 * so 4.9.8 bodies and files stay byte for byte the same.
 */
void topic_config_write(const topic_config *tc, fjson_writer *w)
{
    fjson_begin_object(w);
    if (topic_config_has_attributes(tc)) {
        fjson_key(w, "attributes");
        fjson_begin_object(w);
        for (int i = 0; i < TOPIC_ATTR_COUNT; i++)
            if (tc->attributes[i][0]) fjson_prop_string(w, topic_attr_name(i), tc->attributes[i]);
        fjson_end_object(w);
    }
    fjson_prop_bool(w, "order", tc->order);
    fjson_prop_int64(w, "perm", tc->perm);
    fjson_prop_int64(w, "readQueueNums", tc->read_queue_nums);
    fjson_prop_string(w, "topicFilterType", filter_type_name(tc->topic_filter_type));
    fjson_prop_string(w, "topicName", tc->topic_name);
    fjson_prop_int64(w, "topicSysFlag", tc->topic_sys_flag);
    fjson_prop_int64(w, "writeQueueNums", tc->write_queue_nums);
    fjson_end_object(w);
}

static void write_value(const void *value, fjson_writer *w) { topic_config_write(value, w); }

void topic_table_write(topic_table *t, fjson_writer *w)
{
    pthread_mutex_lock(&t->lock);
    meta_named_table_write(w, &t->version, "topicConfigTable", &t->topics, write_value);
    pthread_mutex_unlock(&t->lock);
}

char *topic_table_encode(topic_table *t, bool pretty, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, pretty ? FJSON_PRETTY : 0);
    topic_table_write(t, &w);
    return fjson_writer_finish(&w, len);
}

int topic_table_persist(topic_table *t)
{
    pthread_mutex_lock(&t->persist_lock);
    int rc = meta_named_table_persist(t->path, &t->lock, &t->version, "topicConfigTable", &t->topics,
                                      sizeof(topic_config), write_value, t->journal);
    pthread_mutex_unlock(&t->persist_lock);
    return rc;
}

int topic_table_journal(topic_table *t, const char *topic)
{
    return meta_named_table_journal(&t->lock, &t->version, &t->topics, topic, write_value, t->journal);
}

/* ---- decoding ---------------------------------------------------------- */

/* The 5.x `attributes` map. A key TopicAttributes does not know (no 5.x broker
 * accepts one) or an oversized value is left out with a warning. */
static int decode_attributes(const char *topic, const cJSON *attrs, topic_config *tc, char **err)
{
    if (!attrs || cJSON_IsNull(attrs)) return RMQ_OK;
    if (!cJSON_IsObject(attrs)) {
        *err = str_printf("topic %s: attributes is not an object", topic);
        return RMQ_ERR;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, attrs) {
        int i = 0;
        while (i < TOPIC_ATTR_COUNT && strcmp(topic_attr_name(i), a->string) != 0) i++;
        if (!cJSON_IsString(a)) {
            *err = str_printf("topic %s: attribute %s is not a string", topic, a->string);
            return RMQ_ERR;
        }
        if (i == TOPIC_ATTR_COUNT || strlen(a->valuestring) >= TOPIC_ATTR_VALUE_MAX) {
            log_warn("meta", "topic %s: attribute %s=%s not kept", topic, a->string, a->valuestring);
            continue;
        }
        strcpy(tc->attributes[i], a->valuestring);
    }
    return RMQ_OK;
}

int topic_config_decode(const char *key, const cJSON *obj, void *value, char **err)
{
    topic_config *tc = value;
    if (!cJSON_IsObject(obj)) {
        *err = str_printf("topic %s is not an object", key);
        return RMQ_ERR;
    }
    topic_config_init(tc, key);   /* the caller checked that KEY fits */
    const char *name = NULL, *filter = NULL;
    int64_t filter_ordinal;
    if (fjson_field_string(obj, "topicName", &name) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "readQueueNums", &tc->read_queue_nums) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "writeQueueNums", &tc->write_queue_nums) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "perm", &tc->perm) == FJSON_WRONG_TYPE ||
        fjson_field_int32(obj, "topicSysFlag", &tc->topic_sys_flag) == FJSON_WRONG_TYPE ||
        fjson_field_bool(obj, "order", &tc->order) == FJSON_WRONG_TYPE) {
        *err = str_printf("topic %s has a field of the wrong type", key);
        return RMQ_ERR;
    }
    if (name && !meta_copy_name(tc->topic_name, name)) {
        *err = str_printf("topic %s: topicName too long", key);
        return RMQ_ERR;
    }
    if (decode_attributes(key, cJSON_GetObjectItemCaseSensitive(obj, "attributes"), tc, err)) return RMQ_ERR;
    /* fastjson reads enums by name or by ordinal. */
    const cJSON *ft = cJSON_GetObjectItemCaseSensitive(obj, "topicFilterType");
    if (fjson_get_int64(ft, &filter_ordinal) && (filter_ordinal == 0 || filter_ordinal == 1)) {
        tc->topic_filter_type = filter_ordinal ? TOPIC_FILTER_MULTI_TAG : TOPIC_FILTER_SINGLE_TAG;
    } else if (fjson_field_string(obj, "topicFilterType", &filter) == FJSON_OK) {
        if (strcmp(filter, "MULTI_TAG") == 0) tc->topic_filter_type = TOPIC_FILTER_MULTI_TAG;
        else if (strcmp(filter, "SINGLE_TAG") == 0) tc->topic_filter_type = TOPIC_FILTER_SINGLE_TAG;
        else goto bad_filter;
    } else if (ft && !cJSON_IsNull(ft)) {
        goto bad_filter;
    }
    return RMQ_OK;
bad_filter:
    *err = str_printf("topic %s has an unknown topicFilterType", key);
    return RMQ_ERR;
}

/* TopicConfigManager.decode: putAll over what is there, take the version. */
static int decode_wrapper(void *table, const cJSON *root, char **err)
{
    topic_table *t = table;
    return meta_named_table_decode(root, "topicConfigTable", "topic", sizeof(topic_config), topic_config_decode, &t->topics,
                                   &t->version, err);
}

/* ---- the table ----------------------------------------------------------- */

void topic_table_options_default(topic_table_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->broker_cluster_name = "DefaultCluster";
    opt->auto_create_topic_enable = true;
    opt->default_topic_queue_nums = 8;
    opt->cluster_topic_enable = true;
    opt->broker_topic_enable = true;
    opt->msg_trace_topic_name = TOPIC_TRACE;
}

/* Caller holds the lock (or owns T exclusively). */
static void put_locked(topic_table *t, const topic_config *tc)
{
    topic_config *copy = xmalloc(sizeof *copy);
    *copy = *tc;
    free(strmap_put(&t->topics, tc->topic_name, copy));
}

/* One block of TopicConfigManager's constructor; false if NAME is too long. */
static bool add_system_topic(topic_table *t, const char *name, int32_t queue_nums, int32_t perm)
{
    topic_config tc;
    if (!topic_config_init(&tc, name)) return false;
    if (queue_nums > 0) tc.read_queue_nums = tc.write_queue_nums = queue_nums;
    tc.perm = perm;
    strmap_put(&t->system_topics, name, t);
    put_locked(t, &tc);
    return true;
}

static bool create_system_topics(topic_table *t, const topic_table_options *o)
{
    const int32_t rw = PERM_READ | PERM_WRITE;
    /* 0 queues: keep TopicConfig's default 16 (the cluster topic does). */
    bool ok = add_system_topic(t, TOPIC_SELF_TEST, 1, rw);
    if (o->auto_create_topic_enable)
        ok = ok && add_system_topic(t, TOPIC_AUTO_CREATE_KEY, o->default_topic_queue_nums, rw | PERM_INHERIT);
    ok = ok && add_system_topic(t, TOPIC_BENCHMARK, 1024, rw);
    ok = ok && add_system_topic(t, o->broker_cluster_name, 0,
                                PERM_INHERIT | (o->cluster_topic_enable ? rw : 0));
    ok = ok && add_system_topic(t, o->broker_name, 1, PERM_INHERIT | (o->broker_topic_enable ? rw : 0));
    ok = ok && add_system_topic(t, TOPIC_OFFSET_MOVED_EVENT, 1, rw);
    ok = ok && add_system_topic(t, TOPIC_SCHEDULE, SCHEDULE_TOPIC_QUEUE_NUM, rw);
    if (o->trace_topic_enable) ok = ok && add_system_topic(t, o->msg_trace_topic_name, 1, rw);
    char *reply = str_printf("%s_%s", o->broker_cluster_name, REPLY_TOPIC_POSTFIX);
    ok = ok && add_system_topic(t, reply, 1, rw);
    free(reply);
    return ok;
}

topic_table *topic_table_open(const topic_table_options *opt, char **err)
{
    if (!opt->store_root || !opt->broker_name || !opt->broker_cluster_name || !opt->msg_trace_topic_name) {
        *err = xstrdup("topic table: store root, broker name, cluster name and trace topic are required");
        return NULL;
    }
    topic_table *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->persist_lock, NULL);
    strmap_init(&t->topics);
    strmap_init(&t->system_topics);
    data_version_init(&t->version);
    t->auto_create_topic_enable = opt->auto_create_topic_enable;
    t->path = meta_config_path(opt->store_root, "topics.json");
    t->journal = meta_journal_open(t->path);
    if (!create_system_topics(t, opt)) {
        *err = xstrdup("topic table: broker or cluster name too long");
        topic_table_free(t);
        return NULL;
    }
    if (meta_config_load(t->path, decode_wrapper, t, err) != RMQ_OK) {
        topic_table_free(t);
        return NULL;
    }
    if (meta_journal_replay(t->journal, &t->topics, sizeof(topic_config), topic_config_decode, &t->version)) {
        *err = str_printf("cannot read %s.journal", t->path);
        topic_table_free(t);
        return NULL;
    }
    return t;
}

void topic_table_free(topic_table *t)
{
    if (!t) return;
    strmap_clear(&t->topics, free);
    strmap_clear(&t->system_topics, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->persist_lock);
    meta_journal_close(t->journal);
    free(t->path);
    free(t);
}

bool topic_table_get(topic_table *t, const char *topic, topic_config *out)
{
    pthread_mutex_lock(&t->lock);
    const topic_config *tc = strmap_get(&t->topics, topic);
    if (tc && out) *out = *tc;
    pthread_mutex_unlock(&t->lock);
    return tc != NULL;
}

size_t topic_table_count(topic_table *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->topics.count;
    pthread_mutex_unlock(&t->lock);
    return n;
}

topic_config *topic_table_snapshot(topic_table *t, size_t *count)
{
    data_version ignored;
    return topic_table_snapshot_at(t, count, &ignored);
}

topic_config *topic_table_snapshot_at(topic_table *t, size_t *count, data_version *version)
{
    pthread_mutex_lock(&t->lock);
    topic_config *all = xmalloc((t->topics.count ? t->topics.count : 1) * sizeof *all);
    size_t i = 0;
    strmap_foreach(&t->topics, n) all[i++] = *(const topic_config *)n->value;
    *count = i;
    *version = t->version;
    pthread_mutex_unlock(&t->lock);
    return all;
}

data_version topic_table_data_version(topic_table *t)
{
    pthread_mutex_lock(&t->lock);
    data_version v = t->version;
    pthread_mutex_unlock(&t->lock);
    return v;
}

void topic_table_next_state_version(topic_table *t, int64_t state_version)
{
    pthread_mutex_lock(&t->lock);
    data_version_next(&t->version);
    t->version.state_version = state_version;
    pthread_mutex_unlock(&t->lock);
}

void topic_table_put(topic_table *t, const topic_config *tc)
{
    pthread_mutex_lock(&t->lock);
    put_locked(t, tc);
    data_version_next(&t->version);
    pthread_mutex_unlock(&t->lock);
}

int topic_table_delete(topic_table *t, const char *topic)
{
    pthread_mutex_lock(&t->lock);
    topic_config *old = strmap_remove(&t->topics, topic);
    if (old) data_version_next(&t->version);
    pthread_mutex_unlock(&t->lock);
    if (!old) log_warn(META_LOG, "delete topic config failed, topic: %s not exists", topic);
    free(old);
    return old ? RMQ_OK : RMQ_ERR;
}

int topic_table_create_in_send(topic_table *t, const char *topic, const char *default_topic,
                               int32_t client_default_queue_nums, int32_t topic_sys_flag,
                               topic_config *out, bool *created)
{
    int rc = RMQ_ERR;
    *created = false;
    pthread_mutex_lock(&t->lock);
    const topic_config *existing = strmap_get(&t->topics, topic);
    if (existing) {
        *out = *existing;
        rc = RMQ_OK;
        goto done;
    }
    topic_config *def = strmap_get(&t->topics, default_topic);
    if (!def) {
        log_warn(META_LOG, "Create new topic failed, because the default topic[%s] not exist.", default_topic);
        goto done;
    }
    /* With auto-creation off, TBW102 (e.g. loaded from an old file) loses INHERIT. */
    if (strcmp(default_topic, TOPIC_AUTO_CREATE_KEY) == 0 && !t->auto_create_topic_enable)
        def->perm = PERM_READ | PERM_WRITE;
    if (!(def->perm & PERM_INHERIT)) {
        log_warn(META_LOG, "Create new topic failed, because the default topic[%s] has no perm [%d]",
                 default_topic, def->perm);
        goto done;
    }
    topic_config tc;
    if (!topic_config_init(&tc, topic)) goto done;
    int32_t queue_nums = client_default_queue_nums < def->write_queue_nums ? client_default_queue_nums
                                                                           : def->write_queue_nums;
    if (queue_nums < 0) queue_nums = 0;
    tc.read_queue_nums = tc.write_queue_nums = queue_nums;
    tc.perm = def->perm & ~PERM_INHERIT;
    tc.topic_sys_flag = topic_sys_flag;
    tc.topic_filter_type = def->topic_filter_type;
    put_locked(t, &tc);
    data_version_next(&t->version);
    log_info(META_LOG, "Create new topic by default topic:[%s] topic:[%s] queues:%d perm:%d",
             default_topic, topic, queue_nums, tc.perm);
    *out = tc;
    *created = true;
    rc = RMQ_OK;
done:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int topic_table_create_in_send_back(topic_table *t, const char *topic, int32_t queue_nums,
                                    int32_t perm, int32_t topic_sys_flag,
                                    topic_config *out, bool *created)
{
    int rc = RMQ_OK;
    *created = false;
    pthread_mutex_lock(&t->lock);
    const topic_config *existing = strmap_get(&t->topics, topic);
    topic_config tc;
    if (existing) {
        *out = *existing;
    } else if (!topic_config_init(&tc, topic)) {
        rc = RMQ_ERR;
    } else {
        tc.read_queue_nums = tc.write_queue_nums = queue_nums;
        tc.perm = perm;
        tc.topic_sys_flag = topic_sys_flag;
        put_locked(t, &tc);
        data_version_next(&t->version);
        log_info(META_LOG, "create new topic %s queues:%d perm:%d", topic, queue_nums, perm);
        *out = tc;
        *created = true;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}
