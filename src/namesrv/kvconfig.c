/*
 * KVConfigManager: namespace -> key -> value, written whole to kvConfig.json
 * ({"configTable":{"ns":{"k":"v"}}}, KVConfigSerializeWrapper.toJson) after
 * every change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "namesrv/jmap.h"
#include "namesrv/namesrv.h"

#define LOG_MOD "namesrv"

struct kv_config {
    char *path;
    jmap table;   /* namespace -> jmap * (key -> char *value) */
};

static void kv_table_free(void *p)
{
    jmap *m = p;
    if (!m) return;
    jmap_clear(m, free);
    free(m);
}

kv_config *kv_config_new(const char *path)
{
    kv_config *kv = xcalloc(1, sizeof *kv);
    kv->path = xstrdup(path);
    jmap_init(&kv->table, 0);
    return kv;
}

void kv_config_free(kv_config *kv)
{
    if (!kv) return;
    jmap_clear(&kv->table, kv_table_free);
    free(kv->path);
    free(kv);
}

static void put_value(kv_config *kv, const char *ns, const char *key, const char *value)
{
    jmap *t = jmap_get(&kv->table, ns);
    if (!t) {
        t = xmalloc(sizeof *t);
        jmap_init(t, 0);
        jmap_put(&kv->table, ns, t, NULL);
    }
    void *old = NULL;
    jmap_put(t, key, xstrdup(value), &old);
    free(old);
}

int kv_config_load(kv_config *kv, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_file_or_bak(kv->path, &len);
    if (!text) {
        if (errno == ENOENT) return RMQ_OK;
        snprintf(err, errlen, "%s: %s", kv->path, strerror(errno));
        return RMQ_ERR;
    }
    const char *perr = NULL;
    cJSON *root = fjson_parse(text, len, &perr);
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: not a KV config file (%s)", kv->path, perr ? perr : "not an object");
        cJSON_Delete(root);
        return RMQ_ERR;
    }
    const cJSON *table = cJSON_GetObjectItemCaseSensitive(root, "configTable");
    const cJSON *ns, *kvp;
    if (!cJSON_IsObject(table)) table = NULL;
    cJSON_ArrayForEach(ns, table) {
        if (!cJSON_IsObject(ns)) continue;
        cJSON_ArrayForEach(kvp, ns) {
            const char *v = NULL;
            if (fjson_field_string(ns, kvp->string, &v) == FJSON_OK) put_value(kv, ns->string, kvp->string, v);
        }
    }
    cJSON_Delete(root);
    log_info(LOG_MOD, "load KV config table OK");
    return RMQ_OK;
}

int kv_config_persist(const kv_config *kv)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "configTable");
    fjson_begin_object(&w);
    JMAP_FOREACH(&kv->table, ns) {
        fjson_key(&w, ns->key);
        fjson_begin_object(&w);
        JMAP_FOREACH((const jmap *)ns->val, e) {
            fjson_key(&w, e->key);
            fjson_string(&w, e->val);
        }
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    size_t len;
    char *json = fjson_writer_finish(&w, &len);
    int rc = write_file_atomic(kv->path, json, len);
    if (rc != RMQ_OK) log_error(LOG_MOD, "persist kvconfig Exception, %s: %s", kv->path, strerror(errno));
    free(json);
    return rc;
}

int kv_config_put(kv_config *kv, const char *ns, const char *key, const char *value)
{
    bool new_ns = !jmap_has(&kv->table, ns);
    bool update = !new_ns && jmap_has(jmap_get(&kv->table, ns), key);
    put_value(kv, ns, key, value);
    if (new_ns) log_info(LOG_MOD, "putKVConfig create new Namespace %s", ns);
    log_info(LOG_MOD, "putKVConfig %s config item, Namespace: %s Key: %s Value: %s",
             update ? "update" : "create new", ns, key, value);
    return kv_config_persist(kv);
}

int kv_config_delete(kv_config *kv, const char *ns, const char *key)
{
    jmap *t = jmap_get(&kv->table, ns);
    void *old = NULL;
    if (t && jmap_remove(t, key, &old)) {
        log_info(LOG_MOD, "deleteKVConfig delete a config item, Namespace: %s Key: %s Value: %s", ns, key,
                 (char *)old);
        free(old);
    }
    return kv_config_persist(kv);
}

const char *kv_config_get(const kv_config *kv, const char *ns, const char *key)
{
    const jmap *t = jmap_get(&kv->table, ns);
    return t ? jmap_get(t, key) : NULL;
}

char *kv_config_namespace_json(const kv_config *kv, const char *ns, size_t *len)
{
    const jmap *t = jmap_get(&kv->table, ns);
    if (!t) return NULL;
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "table");
    fjson_begin_object(&w);
    JMAP_FOREACH(t, e) {
        fjson_key(&w, e->key);
        fjson_string(&w, e->val);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}
