/*
 * What the four tables share: ConfigManager's load/persist, DataVersion,
 * and the int -> long offset maps of consumerOffset.json / delayOffset.json.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta_internal.h"

bool meta_copy_name(char *dst, const char *name)
{
    size_t n = strlen(name);
    if (n >= META_NAME_MAX) return false;
    memcpy(dst, name, n + 1);
    return true;
}

void meta_names_free(char **names)
{
    if (!names) return;
    for (char **p = names; *p; p++) free(*p);
    free(names);
}

/* ---- DataVersion ------------------------------------------------------ */

void data_version_init(data_version *v)
{
    v->timestamp = now_ms();
    v->counter = 0;
}

void data_version_next(data_version *v)
{
    v->timestamp = now_ms();
    v->counter++;
}

void data_version_write(const data_version *v, fjson_writer *w)
{
    fjson_begin_object(w);
    fjson_prop_int64(w, "counter", v->counter);
    if (v->state_version) fjson_prop_int64(w, "stateVersion", v->state_version);
    fjson_prop_int64(w, "timestamp", v->timestamp);
    fjson_end_object(w);
}

int data_version_decode(const cJSON *obj, data_version *v, char **err)
{
    if (!cJSON_IsObject(obj)) {
        *err = xstrdup("dataVersion is not an object");
        return RMQ_ERR;
    }
    data_version nv = *v;
    if (fjson_field_int64(obj, "counter", &nv.counter) == FJSON_WRONG_TYPE ||
        fjson_field_int64(obj, "timestamp", &nv.timestamp) == FJSON_WRONG_TYPE ||
        fjson_field_int64(obj, "stateVersion", &nv.state_version) == FJSON_WRONG_TYPE) {
        *err = xstrdup("dataVersion has a non-integer counter or timestamp");
        return RMQ_ERR;
    }
    *v = nv;
    return RMQ_OK;
}

/* ---- offset_map ------------------------------------------------------- */

/* Index of KEY, or of where it would go. */
static size_t lower_bound(const offset_map *m, int32_t key)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->items[mid].queue_id < key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void offset_map_set(offset_map *m, int32_t key, int64_t value)
{
    size_t i = lower_bound(m, key);
    if (i < m->count && m->items[i].queue_id == key) {
        m->items[i].offset = value;
        return;
    }
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->items = xrealloc(m->items, m->cap * sizeof *m->items);
    }
    memmove(m->items + i + 1, m->items + i, (m->count - i) * sizeof *m->items);
    m->items[i] = (queue_offset){ .queue_id = key, .offset = value };
    m->count++;
}

bool offset_map_get(const offset_map *m, int32_t key, int64_t *value)
{
    size_t i = lower_bound(m, key);
    if (i >= m->count || m->items[i].queue_id != key) return false;
    *value = m->items[i].offset;
    return true;
}

offset_map *offset_map_clone(const offset_map *m)
{
    offset_map *c = xcalloc(1, sizeof *c);
    if (m->count) {
        c->items = xmalloc(m->count * sizeof *c->items);
        memcpy(c->items, m->items, m->count * sizeof *c->items);
        c->count = c->cap = m->count;
    }
    return c;
}

void offset_map_free(offset_map *m)
{
    if (!m) return;
    free(m->items);
    free(m);
}

void offset_map_write(const offset_map *m, fjson_writer *w)
{
    fjson_begin_object(w);
    for (size_t i = 0; i < m->count; i++) {
        fjson_key_int(w, m->items[i].queue_id);
        fjson_int64(w, m->items[i].offset);
    }
    fjson_end_object(w);
}

offset_map *offset_map_decode(const cJSON *obj, const char *what, char **err)
{
    if (!cJSON_IsObject(obj)) {
        *err = str_printf("%s is not an object", what);
        return NULL;
    }
    offset_map *m = xcalloc(1, sizeof *m);
    const cJSON *e;
    cJSON_ArrayForEach(e, obj) {
        int32_t key;
        int64_t value;
        if (parse_int32(e->string, &key) != RMQ_OK) {
            *err = str_printf("%s has a non-integer key \"%s\"", what, e->string);
            goto bad;
        }
        if (cJSON_IsNull(e)) continue;   /* fastjson: a null Long, dropped */
        if (!fjson_get_int64(e, &value)) {
            *err = str_printf("%s has a non-integer value at key %d", what, key);
            goto bad;
        }
        offset_map_set(m, key, value);
    }
    return m;
bad:
    offset_map_free(m);
    return NULL;
}

/* ---- ConfigManager ------------------------------------------------------ */

void meta_named_table_write(fjson_writer *w, const data_version *version, const char *table_field, const strmap *map,
                            meta_value_write_fn write_value)
{
    fjson_begin_object(w);
    fjson_key(w, "dataVersion");
    data_version_write(version, w);
    fjson_key(w, table_field);
    fjson_begin_object(w);
    strmap_foreach(map, n) {
        fjson_key(w, n->key);
        write_value(n->value, w);
    }
    fjson_end_object(w);
    fjson_end_object(w);
}

int meta_named_table_decode(const cJSON *root, const char *table_field, const char *what, size_t value_size,
                            meta_value_decode_fn decode_value, strmap *map, data_version *version, char **err)
{
    if (!cJSON_IsObject(root)) {
        *err = xstrdup("not a JSON object");
        return RMQ_ERR;
    }
    data_version loaded_version = *version;
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "dataVersion");
    if (dv && !cJSON_IsNull(dv) && data_version_decode(dv, &loaded_version, err) != RMQ_OK) return RMQ_ERR;

    strmap loaded;
    strmap_init(&loaded);
    const cJSON *table_json = cJSON_GetObjectItemCaseSensitive(root, table_field);
    if (table_json && !cJSON_IsNull(table_json)) {
        if (!cJSON_IsObject(table_json)) {
            *err = str_printf("%s is not an object", table_field);
            return RMQ_ERR;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, table_json) {
            if (strlen(e->string) >= META_NAME_MAX) {
                log_warn(META_LOG, "skipping %s with a %zu-byte name", what, strlen(e->string));
                continue;
            }
            void *value = xmalloc(value_size);
            free(strmap_put(&loaded, e->string, value));
            if (decode_value(e->string, e, value, err) != RMQ_OK) {
                strmap_clear(&loaded, free);
                return RMQ_ERR;
            }
        }
    }
    strmap_foreach(&loaded, n) {
        free(strmap_put(map, n->key, n->value));
        n->value = NULL;
    }
    strmap_clear(&loaded, NULL);
    *version = loaded_version;
    return RMQ_OK;
}

char *meta_config_path(const char *store_root, const char *file)
{
    return str_printf("%s/config/%s", store_root, file);
}

#define BIG_FILE_BYTES (1u << 20)

/* RMQ_AGAIN: nothing there (missing or empty), try the next copy. */
static int load_one(const char *path, meta_decode_fn decode, void *table, char **err)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        if (errno == ENOENT) return RMQ_AGAIN;
        *err = str_printf("%s: %s", path, strerror(errno));
        return RMQ_ERR;
    }
    if (len == 0) {
        free(text);
        return RMQ_AGAIN;
    }
    const char *perr = NULL;
    cJSON *root = fjson_parse(text, len, &perr);
    free(text);
    if (!root) {
        *err = str_printf("%s: %s", path, perr);
        return RMQ_ERR;
    }
    char *derr = NULL;
    int rc = decode(table, root, &derr);
    cJSON_Delete(root);
    /* The parse tree of a large file (100k topics: ~1M small blocks) would stay in the heap. */
    if (len > BIG_FILE_BYTES) malloc_trim(0);
    if (rc != RMQ_OK) {
        *err = str_printf("%s: %s", path, derr ? derr : "cannot decode");
        free(derr);
        return RMQ_ERR;
    }
    return RMQ_OK;
}

int meta_config_load(const char *path, meta_decode_fn decode, void *table, char **err)
{
    char *main_err = NULL;
    int rc = load_one(path, decode, table, &main_err);
    if (rc == RMQ_OK) return RMQ_OK;
    if (rc == RMQ_ERR) log_error(META_LOG, "load %s failed, trying the backup: %s", path, main_err);

    char *bak = str_printf("%s.bak", path);
    char *bak_err = NULL;
    int brc = load_one(bak, decode, table, &bak_err);
    free(bak);
    if (brc == RMQ_OK) {
        free(main_err);
        log_info(META_LOG, "loaded %s from its backup", path);
        return RMQ_OK;
    }
    if (brc == RMQ_AGAIN && rc == RMQ_AGAIN) return RMQ_OK;   /* first start */
    *err = brc == RMQ_ERR ? bak_err : main_err;
    free(brc == RMQ_ERR ? main_err : bak_err);
    return RMQ_ERR;
}

int meta_config_save(const char *path, const char *text, size_t len)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    int rc = (slash && mkdirs(dir) != RMQ_OK) ? RMQ_ERR : write_file_atomic(path, text, len);
    if (rc != RMQ_OK) log_error(META_LOG, "persist %s failed: %s", path, strerror(errno));
    free(dir);
    return rc;
}

int meta_named_table_persist(const char *path, pthread_mutex_t *lock, const data_version *version,
                             const char *table_field, const strmap *map, size_t value_size,
                             meta_value_write_fn write_value, meta_journal *journal)
{
    /* Copied under the lock, encoded after: with 100k topics the copy holds the
     * table for a few ms, the pretty encoding would hold it ten times longer. */
    pthread_mutex_lock(lock);
    size_t n = map->count, key_bytes = 0;
    strmap_foreach(map, e) key_bytes += strlen(e->key) + 1;
    char **keys = xmalloc((n ? n : 1) * sizeof *keys);
    char *arena = xmalloc(key_bytes ? key_bytes : 1), *k = arena;
    char *values = xmalloc((n ? n : 1) * value_size);
    size_t i = 0;
    strmap_foreach(map, e) {
        size_t kl = strlen(e->key) + 1;
        keys[i] = memcpy(k, e->key, kl);
        k += kl;
        memcpy(values + i * value_size, e->value, value_size);
        i++;
    }
    data_version v = *version;
    pthread_mutex_unlock(lock);

    fjson_writer w;
    fjson_writer_init(&w, FJSON_PRETTY);
    fjson_begin_object(&w);
    fjson_key(&w, "dataVersion");
    data_version_write(&v, &w);
    fjson_key(&w, table_field);
    fjson_begin_object(&w);
    for (i = 0; i < n; i++) {
        fjson_key(&w, keys[i]);
        write_value(values + i * value_size, &w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    free(keys);
    free(arena);
    free(values);
    size_t len;
    char *text = fjson_writer_finish(&w, &len);
    int rc = meta_config_save(path, text, len);
    free(text);
    if (rc == RMQ_OK) meta_journal_prune(journal, v.counter);
    return rc;
}

int meta_named_table_journal(pthread_mutex_t *lock, const data_version *version, const strmap *map,
                             const char *name, meta_value_write_fn write_value, meta_journal *journal)
{
    pthread_mutex_lock(lock);
    size_t len;
    char *entry = meta_journal_entry(version, name, strmap_get(map, name), write_value, &len);
    pthread_mutex_unlock(lock);
    int rc = meta_journal_append(journal, entry, len);
    free(entry);
    return rc;
}
