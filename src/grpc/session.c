/*
 * The client's own RPCs (Apache's proxy ClientActivity): Telemetry, whose first command
 * carries the client's Settings and is answered with the server's view of them;
 * Heartbeat, which registers the client with the broker as those settings say; and
 * NotifyClientTermination, which unregisters it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "grpc_int.h"
#include "meta/meta.h"

/* ProxyConfig defaults the SDKs receive. */
#define PRODUCER_MAX_ATTEMPTS 3
#define PRODUCER_BACKOFF_INITIAL_MS 10
#define PRODUCER_BACKOFF_MAX_MS 1000
#define PRODUCER_BACKOFF_MULTIPLIER 2.0f
#define CONSUMER_BATCH_SIZE 32
#define CONSUMER_LONG_POLLING_MS 20000

/* CustomizedRetryPolicy's default delays (SubscriptionGroupConfig), in seconds. */
static const int retry_delays_s[] = {1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200};

static Google__Protobuf__Duration *duration_ms(int64_t ms)
{
    Google__Protobuf__Duration *d = xmalloc(sizeof *d);
    google__protobuf__duration__init(d);
    d->seconds = ms / 1000;
    d->nanos = (int32_t)(ms % 1000) * 1000000;
    return d;
}

/* A deep copy (the stored settings outlive the request message). */
static Apache__Rocketmq__V2__Settings *settings_copy(const Apache__Rocketmq__V2__Settings *s)
{
    size_t n = apache__rocketmq__v2__settings__get_packed_size(s);
    uint8_t *buf = xmalloc(n ? n : 1);
    apache__rocketmq__v2__settings__pack(s, buf);
    Apache__Rocketmq__V2__Settings *copy = apache__rocketmq__v2__settings__unpack(NULL, n, buf);
    free(buf);
    return copy;
}

static void free_backoff(Apache__Rocketmq__V2__RetryPolicy *p)
{
    if (p) apache__rocketmq__v2__retry_policy__free_unpacked(p, NULL);
}

/* GrpcClientSettingsManager.getClientSettings: the client's settings with the server's parts. */
static Apache__Rocketmq__V2__Settings *server_settings(gclient *cl)
{
    Apache__Rocketmq__V2__Settings *s = settings_copy(cl->settings);
    if (!s) return NULL;
    Apache__Rocketmq__V2__RetryPolicy *rp = xmalloc(sizeof *rp);
    apache__rocketmq__v2__retry_policy__init(rp);
    if (s->pub_sub_case == APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_PUBLISHING) {
        rp->max_attempts = PRODUCER_MAX_ATTEMPTS;
        Apache__Rocketmq__V2__ExponentialBackoff *eb = xmalloc(sizeof *eb);
        apache__rocketmq__v2__exponential_backoff__init(eb);
        eb->initial = duration_ms(PRODUCER_BACKOFF_INITIAL_MS);
        eb->max = duration_ms(PRODUCER_BACKOFF_MAX_MS);
        eb->multiplier = PRODUCER_BACKOFF_MULTIPLIER;
        rp->strategy_case = APACHE__ROCKETMQ__V2__RETRY_POLICY__STRATEGY_EXPONENTIAL_BACKOFF;
        rp->exponential_backoff = eb;
        s->publishing->max_body_size = cl->srv->b->cfg.maxMessageSize;
        s->publishing->validate_message_type = true;
    } else if (s->pub_sub_case == APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_SUBSCRIPTION) {
        subscription_group_config gc;
        bool known = cl->group && subgroup_table_get(cl->srv->b->groups, cl->group, &gc);
        rp->max_attempts = (known ? gc.retry_max_times : 16) + 1;
        Apache__Rocketmq__V2__CustomizedBackoff *cb = xmalloc(sizeof *cb);
        apache__rocketmq__v2__customized_backoff__init(cb);
        size_t nd = sizeof retry_delays_s / sizeof retry_delays_s[0];
        cb->n_next = nd;
        cb->next = xmalloc(nd * sizeof *cb->next);
        for (size_t i = 0; i < nd; i++) cb->next[i] = duration_ms(retry_delays_s[i] * 1000LL);
        rp->strategy_case = APACHE__ROCKETMQ__V2__RETRY_POLICY__STRATEGY_CUSTOMIZED_BACKOFF;
        rp->customized_backoff = cb;
        s->subscription->receive_batch_size = CONSUMER_BATCH_SIZE;
        if (s->subscription->long_polling_timeout)
            google__protobuf__duration__free_unpacked(s->subscription->long_polling_timeout, NULL);
        s->subscription->long_polling_timeout = duration_ms(CONSUMER_LONG_POLLING_MS);
        s->subscription->fifo = known && gc.consume_message_orderly;
    }
    free_backoff(s->backoff_policy);
    s->backoff_policy = rp;
    if (!s->metric) {
        s->metric = xmalloc(sizeof *s->metric);
        apache__rocketmq__v2__metric__init(s->metric);
    }
    s->metric->on = false;
    return s;
}

/* Keeps a copy of S; false when protobuf-c cannot read its own packing of it (unknown
 * fields numbered 0 come through an unpack but not a second one). */
static bool take_settings(gclient *cl, const Apache__Rocketmq__V2__Settings *s)
{
    Apache__Rocketmq__V2__Settings *copy = settings_copy(s);
    if (!copy) return false;
    if (cl->settings) apache__rocketmq__v2__settings__free_unpacked(cl->settings, NULL);
    cl->settings = copy;
    cl->client_type = copy->client_type;
    if (copy->pub_sub_case == APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_SUBSCRIPTION && copy->subscription->group) {
        free(cl->group);
        cl->group = xstrdup(resource_name(copy->subscription->group));
    }
    return true;
}

static void telemetry_settings(gcall *c, gclient *cl, const Apache__Rocketmq__V2__Settings *s)
{
    if (!take_settings(cl, s)) {
        Apache__Rocketmq__V2__TelemetryCommand bad = APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__INIT;
        bad.status = status_new(APACHE__ROCKETMQ__V2__CODE__BAD_REQUEST, "settings cannot be read");
        gcall_send(c, &bad.base);
        status_free(bad.status);
        return;
    }
    if (cl->telemetry != c) {
        if (cl->telemetry) gcall_release(cl->telemetry);
        gcall_hold(c);
        cl->telemetry = c;
    }
    if (!c->state) c->state = xstrdup(cl->id);
    gclient_heartbeat(cl);
    Apache__Rocketmq__V2__TelemetryCommand out = APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__INIT;
    Apache__Rocketmq__V2__Settings *ss = server_settings(cl);
    out.status = status_new(APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    if (ss) {
        out.command_case = APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND_SETTINGS;
        out.settings = ss;
    }
    gcall_send(c, &out.base);
    status_free(out.status);
    if (ss) apache__rocketmq__v2__settings__free_unpacked(ss, NULL);
}

void rpc_telemetry(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__TelemetryCommand *t =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__telemetry_command__descriptor, m, n);
    if (!t) return;
    gclient *cl = gclient_of(c);
    switch (t->command_case) {
    case APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND_SETTINGS:
        telemetry_settings(c, cl, t->settings);
        break;
    case APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND_THREAD_STACK_TRACE:
    case APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND_VERIFY_MESSAGE_RESULT:
        break;   /* answers to commands this server never sends */
    default:
        log_debug("grpc", "client %s: telemetry command %d ignored", cl->id, t->command_case);
        break;
    }
    apache__rocketmq__v2__telemetry_command__free_unpacked(t, NULL);
}

void rpc_telemetry_closed(gcall *c)
{
    char *id = c->state;
    c->state = NULL;
    if (!id) return;
    for (gclient *cl = c->srv->clients; cl; cl = cl->next)
        if (!strcmp(cl->id, id) && cl->telemetry == c) {
            cl->telemetry = NULL;
            gcall_release(c);
            break;
        }
    free(id);
}

void rpc_heartbeat(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__HeartbeatRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__heartbeat_request__descriptor, m, n);
    if (!r) return;
    gclient *cl = gclient_of(c);
    const ProtobufCMessageDescriptor *d = &apache__rocketmq__v2__heartbeat_response__descriptor;
    if (!cl->settings) {
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__UNRECOGNIZED_CLIENT_TYPE,
                            "cannot find client settings for this client");
    } else {
        if (r->group && *resource_name(r->group)) {
            free(cl->group);
            cl->group = xstrdup(resource_name(r->group));
        }
        gclient_heartbeat(cl);
        gcall_answer_status(c, d, APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    }
    apache__rocketmq__v2__heartbeat_request__free_unpacked(r, NULL);
}

void rpc_notify_termination(gcall *c, const uint8_t *m, size_t n)
{
    Apache__Rocketmq__V2__NotifyClientTerminationRequest *r =
        (void *)gcall_unpack(c, &apache__rocketmq__v2__notify_client_termination_request__descriptor, m, n);
    if (!r) return;
    gclient *cl = gclient_of(c);
    log_info("grpc", "client %s terminated", cl->id);
    gcall_answer_status(c, &apache__rocketmq__v2__notify_client_termination_response__descriptor,
                        APACHE__ROCKETMQ__V2__CODE__OK, NULL);
    /* Closing its connection unregisters it from the broker, as a closed channel does. */
    for (gclient **pp = &c->srv->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    gclient_destroy(cl);
    apache__rocketmq__v2__notify_client_termination_request__free_unpacked(r, NULL);
}
