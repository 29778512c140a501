/*
 * A fake name server for the broker's registration tests: a remoting server on its own
 * thread that records the REGISTER_BROKER / UNREGISTER_BROKER / QUERY_DATA_VERSION
 * requests it reads (their topics, versions, when) and answers them, after a delay
 * when asked. One per test program (static state).
 */
#ifndef RMQ_TESTS_BROKER_FAKE_NAMESRV_H
#define RMQ_TESTS_BROKER_FAKE_NAMESRV_H

#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <zlib.h>

#include "broker_client.h"
#include "common/fjson.h"

#define MAX_SEEN 256
typedef struct seen_register {
    int code;
    bool compressed;
    int64_t counter, timestamp;
    int n_topics;
    char first_topic[64];
    char names[256];       /* ",a,b,...," of a JSON body's first topics */
    int64_t at_ms;         /* when the fake name server read it */
} seen_register;

static struct {
    pthread_mutex_t lock;
    struct event_base *base;
    rmq_server *server;
    pthread_t thread;
    seen_register seen[MAX_SEEN];
    int n_seen;
    bool answer_changed;   /* QUERY_DATA_VERSION's answer */
    int register_delay_ms; /* before answering REGISTER_BROKER */
    const char *register_body; /* REGISTER_BROKER's answer body (the ORDER_TOPIC_CONFIG KVTable) */
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The topics of a REGISTER_BROKER body, JSON or compressed. */
static inline void parse_body(const rmq_cmd *req, seen_register *s)
{
    s->compressed = strcmp(cmd_ext_get(req, "compressed") ? cmd_ext_get(req, "compressed") : "", "true") == 0;
    if (s->compressed) {
        uLongf cap = req->body_len * 20 + 4096;
        uint8_t *raw = xmalloc(cap);
        ck_assert_int_eq(uncompress(raw, &cap, req->body, (uLong)req->body_len), Z_OK);
        uint32_t vlen = get_be32(raw);
        cJSON *v = fjson_parse((const char *)raw + 4, vlen, NULL);
        fjson_field_int64(v, "counter", &s->counter);
        fjson_field_int64(v, "timestamp", &s->timestamp);
        cJSON_Delete(v);
        s->n_topics = (int)get_be32(raw + 4 + vlen);
        if (s->n_topics > 0) {
            const char *line = (const char *)raw + 12 + vlen;
            snprintf(s->first_topic, sizeof s->first_topic, "%.*s", (int)(strchr(line, ' ') - line), line);
        }
        free(raw);
        return;
    }
    cJSON *root = fjson_parse((const char *)req->body, req->body_len, NULL);
    const cJSON *w = cJSON_GetObjectItem(root, "topicConfigSerializeWrapper");
    const cJSON *dv = cJSON_GetObjectItem(w, "dataVersion"), *table = cJSON_GetObjectItem(w, "topicConfigTable");
    fjson_field_int64(dv, "counter", &s->counter);
    fjson_field_int64(dv, "timestamp", &s->timestamp);
    s->n_topics = cJSON_GetArraySize(table);
    if (table && table->child) snprintf(s->first_topic, sizeof s->first_topic, "%s", table->child->string);
    size_t used = (size_t)snprintf(s->names, sizeof s->names, ",");
    for (const cJSON *t = table ? table->child : NULL; t && used < sizeof s->names; t = t->next)
        used += (size_t)snprintf(s->names + used, sizeof s->names - used, "%s,", t->string);
    cJSON_Delete(root);
}

static inline int fake_request(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    seen_register s = {.code = req->code, .at_ms = now_ms()};
    if (req->code == 103) parse_body(req, &s);
    pthread_mutex_lock(&fake.lock);
    if (fake.n_seen < MAX_SEEN) fake.seen[fake.n_seen++] = s;
    bool changed = fake.answer_changed;
    int delay = req->code == 103 ? fake.register_delay_ms : 0;
    const char *body = req->code == 103 ? fake.register_body : NULL;
    pthread_mutex_unlock(&fake.lock);
    if (delay) usleep((useconds_t)delay * 1000);   /* a slow name server: its loop waits too */
    *resp = cmd_new_response(req, 0, NULL);
    if (body) cmd_set_body(*resp, body, strlen(body));
    if (req->code == 322) cmd_ext_set_bool(*resp, "changed", changed);
    else cmd_ext_declare(*resp);
    return RMQ_OK;
}

static inline void *fake_loop(void *arg)
{
    event_base_dispatch(fake.base);
    return NULL;
}

static inline void fake_start(void)
{
    rmq_remoting_init();
    fake.base = event_base_new();
    rmq_server_config sc;
    rmq_server_config_defaults(&sc);
    sc.host = "127.0.0.1";
    sc.port = 0;
    sc.name = "fake-namesrv";
    const char *err;
    fake.server = rmq_server_new(fake.base, &sc, &err);
    ck_assert_ptr_nonnull(fake.server);
    rmq_server_register(fake.server, 103, fake_request, NULL);
    rmq_server_register(fake.server, 104, fake_request, NULL);
    rmq_server_register(fake.server, 322, fake_request, NULL);
    fake.n_seen = 0;
    fake.answer_changed = true;
    fake.register_delay_ms = 0;
    fake.register_body = NULL;
    ck_assert_int_eq(pthread_create(&fake.thread, NULL, fake_loop, NULL), 0);
}

static inline void fake_stop(void)
{
    event_base_loopexit(fake.base, NULL);
    pthread_join(fake.thread, NULL);
    rmq_server_free(fake.server);
    event_base_free(fake.base);
}

static inline char *fake_arg(void)
{
    return str_printf("--namesrvAddr=127.0.0.1:%d", rmq_server_port(fake.server));
}

/* Copies of what the fake name server has seen. */
static inline int seen(seen_register *out)
{
    pthread_mutex_lock(&fake.lock);
    int n = fake.n_seen;
    memcpy(out, fake.seen, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&fake.lock);
    return n;
}

/* Waits (up to 5 s) until at least N frames of CODE arrived; returns how many. */
static inline int wait_seen(int code, int n)
{
    static seen_register s[MAX_SEEN];
    int64_t deadline = now_ms() + 5000;
    int count;
    do {
        int total = seen(s);
        count = 0;
        for (int i = 0; i < total; i++) count += s[i].code == code;
        if (count >= n) return count;
        usleep(10000);
    } while (now_ms() < deadline);
    return count;
}

/* The index (0-based) of the first REGISTER_BROKER from FROM on that carries the whole table, -1 after 5 s. */
static inline int wait_table_from(int from)
{
    static seen_register s[MAX_SEEN];
    int64_t deadline = now_ms() + 5000;
    do {
        int n = seen(s);
        for (int i = from; i < n; i++)
            if (s[i].code == 103 && s[i].n_topics >= 8) return i;
        usleep(10000);
    } while (now_ms() < deadline);
    return -1;
}

/* Waits (up to 5 s) for a REGISTER_BROKER carrying the whole table (>= 8 topics: the
 * system topics); returns how many REGISTER_BROKER had arrived with it. */
static inline int wait_full(void)
{
    int at = wait_table_from(0);
    ck_assert_msg(at >= 0, "no full registration within 5 s");
    static seen_register s[MAX_SEEN];
    seen(s);
    int count = 0;
    for (int i = 0; i <= at; i++) count += s[i].code == 103;
    return count;
}

static inline seen_register last_register(void)
{
    static seen_register s[MAX_SEEN];
    int n = seen(s);
    for (int i = n - 1; i >= 0; i--)
        if (s[i].code == 103) return s[i];
    ck_abort_msg("no REGISTER_BROKER seen");
    return s[0];
}

#endif
