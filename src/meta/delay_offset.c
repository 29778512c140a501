/*
 * Delay offsets: how far ScheduleMessageService has delivered each delay
 * level's queue of SCHEDULE_TOPIC_XXXX, persisted as config/delayOffset.json
 * (DelayOffsetSerializeWrapper): {"offsetTable":{1:0,2:5}}.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "meta/meta_internal.h"

struct delay_offset_table {
    pthread_mutex_t lock;          /* guards offsets */
    pthread_mutex_t persist_lock;  /* one writer of the file at a time */
    offset_map *offsets;
    char *path;
};

char *delay_offset_encode(delay_offset_table *t, bool pretty, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, pretty ? FJSON_PRETTY : 0);
    pthread_mutex_lock(&t->lock);
    fjson_begin_object(&w);
    fjson_key(&w, "offsetTable");
    offset_map_write(t->offsets, &w);
    fjson_end_object(&w);
    pthread_mutex_unlock(&t->lock);
    return fjson_writer_finish(&w, len);
}

int delay_offset_persist(delay_offset_table *t)
{
    pthread_mutex_lock(&t->persist_lock);
    size_t len;
    char *text = delay_offset_encode(t, true, &len);
    int rc = meta_config_save(t->path, text, len);
    free(text);
    pthread_mutex_unlock(&t->persist_lock);
    return rc;
}

/* ScheduleMessageService.decode: putAll. */
static int decode_wrapper(void *table, const cJSON *root, char **err)
{
    delay_offset_table *t = table;
    if (!cJSON_IsObject(root)) {
        *err = xstrdup("not a JSON object");
        return RMQ_ERR;
    }
    const cJSON *table_json = cJSON_GetObjectItemCaseSensitive(root, "offsetTable");
    if (!table_json || cJSON_IsNull(table_json)) return RMQ_OK;
    offset_map *loaded = offset_map_decode(table_json, "offsetTable", err);
    if (!loaded) return RMQ_ERR;
    for (size_t i = 0; i < loaded->count; i++)
        offset_map_set(t->offsets, loaded->items[i].queue_id, loaded->items[i].offset);
    offset_map_free(loaded);
    return RMQ_OK;
}

delay_offset_table *delay_offset_open(const char *store_root, char **err)
{
    delay_offset_table *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->persist_lock, NULL);
    t->offsets = xcalloc(1, sizeof *t->offsets);
    t->path = meta_config_path(store_root, "delayOffset.json");
    if (meta_config_load(t->path, decode_wrapper, t, err) != RMQ_OK) {
        delay_offset_free(t);
        return NULL;
    }
    return t;
}

void delay_offset_free(delay_offset_table *t)
{
    if (!t) return;
    offset_map_free(t->offsets);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->persist_lock);
    free(t->path);
    free(t);
}

void delay_offset_update(delay_offset_table *t, int32_t level, int64_t offset)
{
    pthread_mutex_lock(&t->lock);
    offset_map_set(t->offsets, level, offset);
    pthread_mutex_unlock(&t->lock);
}

bool delay_offset_get(delay_offset_table *t, int32_t level, int64_t *offset)
{
    pthread_mutex_lock(&t->lock);
    bool found = offset_map_get(t->offsets, level, offset);
    pthread_mutex_unlock(&t->lock);
    return found;
}
