/*
 * Administration requests (Apache 4.9.8 AdminBrokerProcessor, Broker2Client):
 * what mqadmin and the dashboards ask a broker — topics, subscription groups,
 * broker config, runtime info and stats, consume progress, offset reset, and
 * the calls relayed to an online consumer (GET_CONSUMER_RUNNING_INFO,
 * CONSUME_MESSAGE_DIRECTLY, GET_CONSUMER_STATUS_FROM_CLIENT), answered later
 * with RMQ_AGAIN once the client replied or timed out.
 *
 * This file is the door: it dispatches each code to the handlers of
 * admin_topic.c, admin_broker.c, admin_consume.c and admin_client.c and
 * holds what they share (admin_int.h). The broker has no
 * StoreStatsService/BrokerStats of its own, so it also samples the store's
 * counters once a second: the TPS windows of GET_BROKER_RUNTIME_INFO, the
 * morning totals, VIEW_BROKER_STATS_DATA.
 * Everything runs on the broker's event loop.
 */
#include <event2/event.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_int.h"
#include "common/fjson.h"
#include "common/util.h"
#include "meta/meta.h"
#include "response_codes.h"
#include "store/store.h"

/* ---- store counter sampling (StoreStatsService.sampling, BrokerStats.record) ---- */

#define SAMPLES_SEC 602   /* MAX_RECORDS_OF_SAMPLING + 1, and one being written */
#define SAMPLES_MIN 1442  /* a day of minutes, for VIEW_BROKER_STATS_DATA */

/* One admin state per broker, shared by its two servers; it lives as long as
 * the process (the broker has no teardown hook for processors). */
static admin *admins;

static void ring_push(ring *r, const sample *s)
{
    r->s[r->head] = *s;
    r->head = (r->head + 1) % r->cap;
    if (r->n < r->cap) r->n++;
}

void admin_take_sample(admin *a, sample *s)
{
    store_stats st;
    store_get_stats(a->b->store, &st);
    s->ms = now_ms();
    s->put = st.put_message_times_total;
    s->found = st.get_message_times_total_found;
    s->miss = st.get_message_times_total_miss;
    s->transferred = st.get_message_transfered_msg_count;
}

static int day_of(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_year * 400 + tm.tm_yday;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    admin *a = arg;
    sample s;
    admin_take_sample(a, &s);
    ring_push(&a->secs, &s);
    if (a->ticks++ % 60 == 0) ring_push(&a->mins, &s);
    int day = day_of(s.ms);
    if (day != a->today) {   /* BrokerStats.record, run at midnight */
        a->today = day;
        a->put_yesterday_morning = a->put_today_morning;
        a->put_today_morning = s.put;
        a->get_yesterday_morning = a->get_today_morning;
        a->get_today_morning = s.transferred;
    }
}

static admin *admin_of(broker *b)
{
    for (admin *a = admins; a; a = a->next)
        if (a->b == b) return a;
    admin *a = xcalloc(1, sizeof *a);
    a->b = b;
    a->secs = (ring){xcalloc(SAMPLES_SEC, sizeof(sample)), SAMPLES_SEC, 0, 0};
    a->mins = (ring){xcalloc(SAMPLES_MIN, sizeof(sample)), SAMPLES_MIN, 0, 0};
    a->today = day_of(now_ms());
    a->config_version = (data_version){.timestamp = now_ms()};
    a->tick = event_new(b->base, -1, EV_PERSIST, tick_cb, a);
    struct timeval tv = {1, 0};
    event_add(a->tick, &tv);
    tick_cb(-1, 0, a);
    a->next = admins;
    admins = a;
    return a;
}

/* ---- small helpers ---- */

void admin_fail(rmq_cmd *resp, int code, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cmd_set_code(resp, code, buf);
}

int admin_decode(const rmq_cmd *req, rmq_cmd *resp, const hdr_field *f, size_t n, void *out)
{
    char err[512];
    if (cmd_decode_header(req, f, n, out, err, sizeof err) == RMQ_OK) return RMQ_OK;
    cmd_set_code(resp, RC_SYSTEM_ERROR, err);
    return RMQ_ERR;
}

/* validateSlave: topics and groups are changed on masters only. */
bool admin_refused_on_slave(const admin *a, rmq_cmd *resp)
{
    if (!broker_is_slave(a->b)) return false;
    cmd_set_code(resp, RC_SYSTEM_ERROR,
                 "Can't modify topic or subscription group from slave broker, please execute it from master broker.");
    return true;
}

/* A MessageQueue as a map key: {"brokerName":..,"queueId":..,"topic":..}. */
void admin_key_message_queue(fjson_writer *w, const char *broker_name, const char *topic, int32_t queue_id)
{
    fjson_writer k;
    fjson_writer_init(&k, 0);
    fjson_begin_object(&k);
    fjson_prop_string(&k, "brokerName", broker_name);
    fjson_prop_int64(&k, "queueId", queue_id);
    fjson_prop_string(&k, "topic", topic);
    fjson_end_object(&k);
    char *text = fjson_writer_finish(&k, NULL);
    fjson_key_raw(w, text);
    free(text);
}

void admin_write_message_queue(fjson_writer *w, const char *broker_name, const char *topic, int32_t queue_id)
{
    fjson_begin_object(w);
    fjson_prop_string(w, "brokerName", broker_name);
    fjson_prop_int64(w, "queueId", queue_id);
    fjson_prop_string(w, "topic", topic);
    fjson_end_object(w);
}

/* A parsed tree written back, object keys ({..}:v) kept as keys rather than quoted. */
void admin_copy_item(fjson_writer *w, const cJSON *item)
{
    if (!cJSON_IsObject(item)) {
        fjson_item(w, item);
        return;
    }
    fjson_begin_object(w);
    const cJSON *c;
    cJSON_ArrayForEach(c, item) {
        const char *k = c->string ? c->string : "";
        if (k[0] == '{') fjson_key_raw(w, k);
        else fjson_key(w, k);
        admin_copy_item(w, c);
    }
    fjson_end_object(w);
}

void admin_write_string_list(fjson_writer *w, const char *name, char **items, size_t n)
{
    fjson_key(w, name);
    fjson_begin_array(w);
    for (size_t i = 0; i < n; i++) fjson_string(w, items[i]);
    fjson_end_array(w);
}

bool admin_list_has(char **items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], s) == 0) return true;
    return false;
}

/* The topic config, or TOPIC_NOT_EXIST "topic[x] not exist". */
bool admin_topic_or_fail(const admin *a, const char *topic, topic_config *tc, rmq_cmd *resp)
{
    if (topic_table_get(a->b->topics, topic, tc)) return true;
    admin_fail(resp, RC_TOPIC_NOT_EXIST, "topic[%s] not exist", topic);
    return false;
}

const hdr_field admin_topic_field[1] = {{"topic", HDR_STR, true, offsetof(topic_header, topic)}};

/* ---- dispatch ---- */

static const admin_handler *const tables[] = {
    admin_topic_handlers, admin_broker_handlers, admin_consume_handlers, admin_client_handlers, admin5_handlers,
    admin_ha_handlers, admin_acl_handlers,
};

static const admin_handler *handler_of(int code)
{
    for (size_t i = 0; i < N(tables); i++)
        for (const admin_handler *h = tables[i]; h->code; h++)
            if (h->code == code) return h;
    return NULL;
}

static int admin_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    admin *a = arg;
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    const admin_handler *h = handler_of(req->code);
    if (h && h->fn) {
        h->fn(a, conn, req, resp);
    } else if (h && h->async_fn(a, conn, req, resp) == RMQ_AGAIN) {
        cmd_free(resp);
        *out = NULL;
        return RMQ_AGAIN;
    }
    *out = resp;
    return RMQ_OK;
}

void processor_register_admin(rmq_server *s, broker *b)
{
    admin *a = admin_of(b);
    for (size_t i = 0; i < N(tables); i++)
        for (const admin_handler *h = tables[i]; h->code; h++) rmq_server_register(s, h->code, admin_processor, a);
}
