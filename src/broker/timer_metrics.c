/*
 * config/timermetrics as Apache 5.x's TimerMetrics writes it (timer_metrics.h).
 * One mutex: the timer's delivery thread counts deliveries off while the
 * loop counts arrivals on and answers GET_TIMER_METRICS.
 */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "timer_metrics.h"

typedef struct metric {
    char *topic;
    int64_t count;
    int64_t time_stamp;          /* Metric.timeStamp: the last change */
} metric;

struct timer_metrics {
    char *path;
    metric *v;                   /* sorted by topic: the file lists them in this order */
    size_t n, cap;
    int64_t dv_counter, dv_timestamp, dv_state;
    bool dirty;
    pthread_mutex_t mu;
};

/* Index of TOPIC, or where it would go (*found false). */
static size_t find(const timer_metrics *m, const char *topic, size_t len, bool *found)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *t = m->v[mid].topic;
        int c = strncmp(t, topic, len);
        if (c == 0) c = t[len] ? 1 : 0;
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

static metric *get_or_add(timer_metrics *m, const char *topic, size_t len, int64_t now)
{
    bool found;
    size_t i = find(m, topic, len, &found);
    if (found) return &m->v[i];
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->v = xrealloc(m->v, m->cap * sizeof *m->v);
    }
    memmove(m->v + i + 1, m->v + i, (m->n - i) * sizeof *m->v);
    m->n++;
    m->v[i] = (metric){xstrndup(topic, len), 0, now};
    return &m->v[i];
}

static void load(timer_metrics *m)
{
    size_t len;
    char *text = read_file_or_bak(m->path, &len);
    if (!text) return;
    const char *why = NULL;
    cJSON *root = fjson_parse(text, len, &why);
    free(text);
    if (!cJSON_IsObject(root)) {
        log_warn("timer", "%s: %s; timer metrics start from zero", m->path, why ? why : "not an object");
        cJSON_Delete(root);
        return;
    }
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "dataVersion");
    if (cJSON_IsObject(dv)) {
        fjson_field_int64(dv, "counter", &m->dv_counter);
        fjson_field_int64(dv, "timestamp", &m->dv_timestamp);
        fjson_field_int64(dv, "stateVersion", &m->dv_state);
    }
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "timingCount"), *e;
    if (!cJSON_IsObject(tc)) tc = NULL;
    cJSON_ArrayForEach(e, tc)
    {
        if (!cJSON_IsObject(e) || !e->string) continue;
        int64_t count = 0, ts = 0;
        fjson_field_int64(e, "count", &count);
        fjson_field_int64(e, "timeStamp", &ts);
        metric *x = get_or_add(m, e->string, strlen(e->string), ts);
        x->count = count;
        x->time_stamp = ts;
    }
    cJSON_Delete(root);
}

timer_metrics *timer_metrics_open(const char *root)
{
    timer_metrics *m = xcalloc(1, sizeof *m);
    m->path = str_printf("%s/config/timermetrics", root);
    m->dv_timestamp = now_ms();   /* new DataVersion() */
    pthread_mutex_init(&m->mu, NULL);
    load(m);
    return m;
}

void timer_metrics_close(timer_metrics *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->v[i].topic);
    free(m->v);
    free(m->path);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void timer_metrics_zero(timer_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n; i++) m->v[i].count = 0;
    m->dirty = true;
    pthread_mutex_unlock(&m->mu);
}

void timer_metrics_add(timer_metrics *m, const char *topic, size_t topic_len, int64_t delta, int64_t now)
{
    pthread_mutex_lock(&m->mu);
    metric *x = get_or_add(m, topic, topic_len, now);
    x->count += delta;
    x->time_stamp = now;
    m->dv_counter++;   /* DataVersion.nextVersion */
    m->dv_timestamp = now;
    m->dirty = true;
    pthread_mutex_unlock(&m->mu);
}

int64_t timer_metrics_count(const timer_metrics *m, const char *topic)
{
    bool found;
    pthread_mutex_lock((pthread_mutex_t *)&m->mu);
    size_t i = find(m, topic, strlen(topic), &found);
    int64_t n = found ? m->v[i].count : 0;
    pthread_mutex_unlock((pthread_mutex_t *)&m->mu);
    return n;
}

static char *encode_locked(const timer_metrics *m, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "dataVersion");
    fjson_begin_object(&w);   /* 5.x's DataVersion writes stateVersion, 0 included */
    fjson_prop_int64(&w, "counter", m->dv_counter);
    fjson_prop_int64(&w, "stateVersion", m->dv_state);
    fjson_prop_int64(&w, "timestamp", m->dv_timestamp);
    fjson_end_object(&w);
    fjson_key(&w, "timingCount");
    fjson_begin_object(&w);
    for (size_t i = 0; i < m->n; i++) {
        fjson_key(&w, m->v[i].topic);
        fjson_begin_object(&w);
        fjson_prop_int64(&w, "count", m->v[i].count);
        fjson_prop_int64(&w, "timeStamp", m->v[i].time_stamp);
        fjson_end_object(&w);
    }
    fjson_end_object(&w);
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

char *timer_metrics_encode(const timer_metrics *m, size_t *len)
{
    pthread_mutex_lock((pthread_mutex_t *)&m->mu);
    char *text = encode_locked(m, len);
    pthread_mutex_unlock((pthread_mutex_t *)&m->mu);
    return text;
}

void timer_metrics_persist(timer_metrics *m)
{
    size_t len;
    pthread_mutex_lock(&m->mu);
    bool dirty = m->dirty;
    char *text = dirty ? encode_locked(m, &len) : NULL;
    m->dirty = false;
    pthread_mutex_unlock(&m->mu);
    if (!dirty) return;
    char *dir = str_printf("%.*s", (int)(strrchr(m->path, '/') - m->path), m->path);
    if (mkdirs(dir) != RMQ_OK || write_file_atomic(m->path, text, len) != RMQ_OK) {
        log_warn("timer", "cannot write %s", m->path);
        pthread_mutex_lock(&m->mu);
        m->dirty = true;  /* written next time */
        pthread_mutex_unlock(&m->mu);
    }
    free(dir);
    free(text);
}
