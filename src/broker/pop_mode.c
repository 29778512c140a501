/*
 * Message request modes per topic and group (Apache's MessageRequestModeManager),
 * persisted in config/messageRequestMode.json in Apache's shape:
 * {"messageRequestModeMap":{"<topic>":{"<group>":{"consumerGroup":..,"mode":"POP",
 * "popShareQueueNum":0,"topic":..}}}}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "pop_int.h"

const char *pop_mode_name(pop_request_mode m)
{
    return m == POP_MODE_POP ? "POP" : "PULL";
}

int pop_mode_from_name(const char *s)
{
    if (!s) return -1;
    if (strcmp(s, "PULL") == 0) return POP_MODE_PULL;
    if (strcmp(s, "POP") == 0) return POP_MODE_POP;
    return -1;
}

static pop_mode_entry *find(pop_service *p, const char *topic, const char *group)
{
    for (pop_mode_entry *e = p->modes; e; e = e->next)
        if (strcmp(e->topic, topic) == 0 && strcmp(e->group, group) == 0) return e;
    return NULL;
}

bool pop_mode_get(pop_service *p, const char *topic, const char *group, pop_mode_setting *out)
{
    pop_mode_entry *e = find(p, topic, group);
    if (e) *out = e->setting;
    return e != NULL;
}

static void put(pop_service *p, const char *topic, const char *group, const pop_mode_setting *s)
{
    pop_mode_entry *e = find(p, topic, group);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->topic = xstrdup(topic);
        e->group = xstrdup(group);
        pop_mode_entry **tail = &p->modes;
        while (*tail) tail = &(*tail)->next;
        *tail = e;  /* insertion order keeps a topic's groups together when written */
    }
    e->setting = *s;
}

char *pop_mode_encode(pop_service *p, bool pretty, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, pretty ? FJSON_PRETTY : 0);
    fjson_begin_object(&w);
    fjson_key(&w, "messageRequestModeMap");
    fjson_begin_object(&w);
    /* One object per topic: each topic once, at its first entry. */
    for (pop_mode_entry *t = p->modes; t; t = t->next) {
        bool seen = false;
        for (pop_mode_entry *q = p->modes; q != t && !seen; q = q->next) seen = strcmp(q->topic, t->topic) == 0;
        if (seen) continue;
        fjson_key(&w, t->topic);
        fjson_begin_object(&w);
        for (pop_mode_entry *e = t; e; e = e->next) {
            if (strcmp(e->topic, t->topic)) continue;
            fjson_key(&w, e->group);
            fjson_begin_object(&w);
            fjson_prop_string(&w, "consumerGroup", e->group);
            fjson_prop_string(&w, "mode", pop_mode_name(e->setting.mode));
            fjson_prop_int64(&w, "popShareQueueNum", e->setting.pop_share_queue_num);
            fjson_prop_string(&w, "topic", e->topic);
            fjson_end_object(&w);
        }
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

/* ---- the module's config files ---- */

char *pop_config_path(pop_service *p, const char *file)
{
    return str_printf("%s/config/%s", p->b->cfg.storePathRootDir, file);
}

bool pop_config_write(pop_service *p, const char *path, const char *text, size_t len)
{
    char *dir = str_printf("%s/config", p->b->cfg.storePathRootDir);
    bool ok = mkdirs(dir) == RMQ_OK && write_file_atomic(path, text, len) == RMQ_OK;
    if (!ok) log_error("pop", "persist %s failed: %s", path, strerror(errno));
    free(dir);
    return ok;
}

int pop_config_read(const char *path, cJSON **root, char *err, size_t errlen)
{
    *root = NULL;
    size_t len;
    char *text = read_file_or_bak(path, &len);
    if (!text || len == 0) {
        free(text);
        return RMQ_OK;  /* first start */
    }
    const char *why = NULL;
    *root = fjson_parse(text, len, &why);
    free(text);
    if (*root) return RMQ_OK;
    snprintf(err, errlen, "%s: %s", path, why);
    return RMQ_ERR;
}

static void persist(pop_service *p)
{
    size_t len;
    char *text = pop_mode_encode(p, true, &len);
    pop_config_write(p, p->modes_path, text, len);
    free(text);
}

void pop_mode_set(pop_service *p, const char *topic, const char *group, const pop_mode_setting *s)
{
    put(p, topic, group, s);
    persist(p);
}

/* SetMessageRequestModeRequestBody: mode defaults to PULL, popShareQueueNum to 0. */
int pop_mode_decode_setting(const cJSON *obj, pop_mode_setting *out, const char **why)
{
    *out = (pop_mode_setting){POP_MODE_PULL, 0};
    const char *mode;
    enum fjson_field r = fjson_field_string(obj, "mode", &mode);
    if (r == FJSON_WRONG_TYPE || (r == FJSON_OK && pop_mode_from_name(mode) < 0)) {
        *why = "mode is not PULL or POP";
        return RMQ_ERR;
    }
    if (r == FJSON_OK) out->mode = (pop_request_mode)pop_mode_from_name(mode);
    if (fjson_field_int32(obj, "popShareQueueNum", &out->pop_share_queue_num) == FJSON_WRONG_TYPE) {
        *why = "popShareQueueNum is not a number";
        return RMQ_ERR;
    }
    return RMQ_OK;
}

int pop_mode_load(pop_service *p, char *err, size_t errlen)
{
    p->modes_path = pop_config_path(p, "messageRequestMode.json");
    cJSON *root;
    if (pop_config_read(p->modes_path, &root, err, errlen)) return RMQ_ERR;
    const char *why = NULL;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "messageRequestModeMap");
    const cJSON *topic, *group;
    cJSON_ArrayForEach(topic, map) {
        cJSON_ArrayForEach(group, topic) {
            pop_mode_setting s;
            if (pop_mode_decode_setting(group, &s, &why)) {
                snprintf(err, errlen, "%s: %s@%s: %s", p->modes_path, group->string, topic->string, why);
                cJSON_Delete(root);
                return RMQ_ERR;
            }
            put(p, topic->string, group->string, &s);
        }
    }
    cJSON_Delete(root);
    return RMQ_OK;
}

void pop_mode_free_all(pop_service *p)
{
    for (pop_mode_entry *e = p->modes, *next; e; e = next) {
        next = e->next;
        free(e->topic);
        free(e->group);
        free(e);
    }
    p->modes = NULL;
    free(p->modes_path);
}
