/*
 * Consumer offsets: Apache's ConsumerOffsetManager (4.9.8), persisted as
 * config/consumerOffset.json: {"offsetTable":{"topic@group":{0:250,1:249}}}
 * with fastjson's bare integer keys for the queue ids.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta_internal.h"

#define TOPIC_GROUP_SEPARATOR '@'

struct consumer_offset_table {
    pthread_mutex_t lock;          /* guards offsets */
    pthread_mutex_t persist_lock;  /* one writer of the file at a time */
    strmap offsets;                /* "topic@group" -> offset_map* */
    char *path;
};

static void free_offset_map(void *m) { offset_map_free(m); }

static char *topic_at_group(const char *topic, const char *group)
{
    return str_printf("%s%c%s", topic, TOPIC_GROUP_SEPARATOR, group);
}

/* The same key in buf when it fits (a pull commits its offset with every answer: no
 * allocation or printf then), else allocated; free it with key_free. */
static char *key_in(char *buf, size_t cap, const char *topic, const char *group)
{
    size_t tl = strlen(topic), gl = strlen(group);
    if (tl + gl + 2 > cap) return topic_at_group(topic, group);
    memcpy(buf, topic, tl);
    buf[tl] = TOPIC_GROUP_SEPARATOR;
    memcpy(buf + tl + 1, group, gl + 1);
    return buf;
}

static void key_free(char *key, const char *buf)
{
    if (key != buf) free(key);
}

/*
 * Split a key as Apache's topicAtGroup.split("@") with length == 2 does:
 * exactly one separator and a non-empty group. Returns the group part and
 * the topic length.
 */
static const char *split_key(const char *key, size_t *topic_len)
{
    const char *at = strchr(key, TOPIC_GROUP_SEPARATOR);
    if (!at || !at[1] || strchr(at + 1, TOPIC_GROUP_SEPARATOR)) return NULL;
    *topic_len = (size_t)(at - key);
    return at + 1;
}

static bool key_has_topic(const char *key, const char *topic)
{
    size_t tlen;
    return split_key(key, &tlen) && tlen == strlen(topic) && memcmp(key, topic, tlen) == 0;
}

static bool key_has_group(const char *key, const char *group)
{
    size_t tlen;
    const char *g = split_key(key, &tlen);
    return g && strcmp(g, group) == 0;
}

char *consumer_offset_encode(consumer_offset_table *t, bool pretty, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, pretty ? FJSON_PRETTY : 0);
    pthread_mutex_lock(&t->lock);
    fjson_begin_object(&w);
    fjson_key(&w, "offsetTable");
    fjson_begin_object(&w);
    strmap_foreach(&t->offsets, n) {
        fjson_key(&w, n->key);
        offset_map_write(n->value, &w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    pthread_mutex_unlock(&t->lock);
    return fjson_writer_finish(&w, len);
}

int consumer_offset_persist(consumer_offset_table *t)
{
    pthread_mutex_lock(&t->persist_lock);
    size_t len;
    char *text = consumer_offset_encode(t, true, &len);
    int rc = meta_config_save(t->path, text, len);
    free(text);
    pthread_mutex_unlock(&t->persist_lock);
    return rc;
}

/* ConsumerOffsetManager.decode replaces the whole table. */
static int decode_manager(void *table, const cJSON *root, char **err)
{
    consumer_offset_table *t = table;
    if (!cJSON_IsObject(root)) {
        *err = xstrdup("not a JSON object");
        return RMQ_ERR;
    }
    strmap loaded;
    strmap_init(&loaded);
    const cJSON *table_json = cJSON_GetObjectItemCaseSensitive(root, "offsetTable");
    if (table_json && !cJSON_IsNull(table_json)) {
        if (!cJSON_IsObject(table_json)) {
            *err = xstrdup("offsetTable is not an object");
            return RMQ_ERR;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, table_json) {
            offset_map *m = offset_map_decode(e, e->string, err);
            if (!m) {
                strmap_clear(&loaded, free_offset_map);
                return RMQ_ERR;
            }
            offset_map_free(strmap_put(&loaded, e->string, m));
        }
    }
    strmap_clear(&t->offsets, free_offset_map);
    t->offsets = loaded;
    return RMQ_OK;
}

consumer_offset_table *consumer_offset_open(const char *store_root, char **err)
{
    consumer_offset_table *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->persist_lock, NULL);
    strmap_init(&t->offsets);
    t->path = meta_config_path(store_root, "consumerOffset.json");
    if (meta_config_load(t->path, decode_manager, t, err) != RMQ_OK) {
        consumer_offset_free(t);
        return NULL;
    }
    return t;
}

void consumer_offset_free(consumer_offset_table *t)
{
    if (!t) return;
    strmap_clear(&t->offsets, free_offset_map);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->persist_lock);
    free(t->path);
    free(t);
}

void consumer_offset_commit(consumer_offset_table *t, const char *group, const char *topic,
                            int32_t queue_id, int64_t offset)
{
    char buf[2 * META_NAME_MAX];
    char *key = key_in(buf, sizeof buf, topic, group);
    pthread_mutex_lock(&t->lock);
    offset_map *m = strmap_get(&t->offsets, key);
    if (!m) {
        m = xcalloc(1, sizeof *m);
        strmap_put(&t->offsets, key, m);
    }
    int64_t old;
    if (offset_map_get(m, queue_id, &old) && offset < old)
        log_warn(META_LOG, "[NOTIFYME]update consumer offset less than store. key=%s, queueId=%d, "
                 "requestOffset=%lld, storeOffset=%lld", key, queue_id, (long long)offset, (long long)old);
    offset_map_set(m, queue_id, offset);
    pthread_mutex_unlock(&t->lock);
    key_free(key, buf);
}

int64_t consumer_offset_query(consumer_offset_table *t, const char *group, const char *topic,
                              int32_t queue_id)
{
    char buf[2 * META_NAME_MAX];
    char *key = key_in(buf, sizeof buf, topic, group);
    int64_t offset = -1;
    pthread_mutex_lock(&t->lock);
    const offset_map *m = strmap_get(&t->offsets, key);
    if (m && !offset_map_get(m, queue_id, &offset)) offset = -1;
    pthread_mutex_unlock(&t->lock);
    key_free(key, buf);
    return offset;
}

queue_offset *consumer_offset_query_all(consumer_offset_table *t, const char *group,
                                        const char *topic, size_t *count)
{
    char *key = topic_at_group(topic, group);
    queue_offset *all = NULL;
    *count = 0;
    pthread_mutex_lock(&t->lock);
    const offset_map *m = strmap_get(&t->offsets, key);
    if (m && m->count) {
        all = xmalloc(m->count * sizeof *all);
        memcpy(all, m->items, m->count * sizeof *all);
        *count = m->count;
    }
    pthread_mutex_unlock(&t->lock);
    free(key);
    return all;
}

static void remove_matching(consumer_offset_table *t, bool (*match)(const char *key, const char *name),
                            const char *name)
{
    pthread_mutex_lock(&t->lock);
    for (strmap_node *n = t->offsets.head, *next; n; n = next) {
        next = n->next;
        if (!match(n->key, name)) continue;
        log_warn(META_LOG, "clean group offset %s", n->key);
        offset_map_free(strmap_remove_node(&t->offsets, n));
    }
    pthread_mutex_unlock(&t->lock);
}

void consumer_offset_remove_group(consumer_offset_table *t, const char *group)
{
    remove_matching(t, key_has_group, group);
}

void consumer_offset_remove_topic(consumer_offset_table *t, const char *topic)
{
    remove_matching(t, key_has_topic, topic);
}

void consumer_offset_clone(consumer_offset_table *t, const char *src_group, const char *dst_group,
                           const char *topic)
{
    char *src = topic_at_group(topic, src_group), *dst = topic_at_group(topic, dst_group);
    pthread_mutex_lock(&t->lock);
    const offset_map *m = strmap_get(&t->offsets, src);
    if (m) offset_map_free(strmap_put(&t->offsets, dst, offset_map_clone(m)));
    pthread_mutex_unlock(&t->lock);
    free(src);
    free(dst);
}

/* The other half of each key matching NAME, without duplicates. */
static char **collect(consumer_offset_table *t, const char *name, bool by_topic)
{
    pthread_mutex_lock(&t->lock);
    char **out = xcalloc(t->offsets.count + 1, sizeof *out);
    size_t n_out = 0;
    strmap_foreach(&t->offsets, n) {
        size_t tlen;
        const char *group = split_key(n->key, &tlen);
        if (!group) continue;
        char *other;
        if (by_topic && tlen == strlen(name) && memcmp(n->key, name, tlen) == 0)
            other = xstrdup(group);
        else if (!by_topic && strcmp(group, name) == 0)
            other = xstrndup(n->key, tlen);
        else
            continue;
        bool seen = false;
        for (size_t i = 0; i < n_out && !seen; i++) seen = strcmp(out[i], other) == 0;
        if (seen) free(other);
        else out[n_out++] = other;
    }
    pthread_mutex_unlock(&t->lock);
    return out;
}

char **consumer_offset_groups_of_topic(consumer_offset_table *t, const char *topic)
{
    return collect(t, topic, true);
}

char **consumer_offset_topics_of_group(consumer_offset_table *t, const char *group)
{
    return collect(t, group, false);
}
