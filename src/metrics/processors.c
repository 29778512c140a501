/*
 * rocketmq_processor_watermark: Apache 5.x reports the queue of each request
 * executor (BrokerController.registerProcessor's pools). Our broker has no
 * pools: the event loop reads a request and runs its processor at once. What
 * waits here is what has been read and not yet answered: requests a processor
 * took to answer later (RMQ_AGAIN: a send waiting for its flush or replicas, a
 * call relayed to a client), counted here over the request's lifetime, and
 * whole frames still in a connection's input buffer (the remoting layer counts
 * those at scrape time). Long polling pulls and pops are left out: Apache holds
 * them in PullRequestHoldService / PopLongPollingService, outside its pools.
 */
#include <stdatomic.h>
#include <stddef.h>

#include "metrics.h"
#include "metrics_int.h"

static const char *const names[METRICS_N_PROCESSORS] = {
    "send", "async_put", "pull", "ack", "query_message", "client_manager", "heartbeat", "lite_pull",
    "transaction", "consumer_manager", "admin", "reply",
};

enum { SEND, ASYNC_PUT, PULL, ACK, QUERY, CLIENT_MANAGER, HEARTBEAT, LITE_PULL, TRANSACTION, CONSUMER_MANAGER,
       ADMIN, REPLY };

static _Atomic int64_t held[METRICS_N_PROCESSORS];

int metrics_processor_of(int32_t code)
{
    switch (code) {
    case 10: case 310: case 320: case 36: case 370: return SEND;   /* sends, send-back, recall */
    case 11: case 200050: case 200052: case 200054: case 200055: return PULL;   /* pull, pop, peek, polling */
    case 361: return LITE_PULL;
    case 200051: case 200151: case 200053: return ACK;   /* ack, batch ack, invisible time */
    case 12: case 33: return QUERY;
    case 34: return HEARTBEAT;
    case 35: case 46: return CLIENT_MANAGER;
    case 14: case 15: case 38: return CONSUMER_MANAGER;
    case 37: return TRANSACTION;
    case 324: case 325: return REPLY;
    case 400: case 401: return -1;   /* loadBalanceExecutor: not reported by Apache */
    default: return ADMIN;           /* the default processor */
    }
}

const char *metrics_processor_name(int p) { return p >= 0 && p < METRICS_N_PROCESSORS ? names[p] : NULL; }

bool metrics_request_counts_held(int32_t code)
{
    return metrics_processor_of(code) >= 0 && !metrics_code_long_polling(code);
}

void metrics_request_held(int32_t code, int delta)
{
    int p = metrics_processor_of(code);
    if (p >= 0) atomic_fetch_add_explicit(&held[p], delta, memory_order_relaxed);
}

int64_t metrics_requests_held(int p)
{
    return p >= 0 && p < METRICS_N_PROCESSORS ? atomic_load_explicit(&held[p], memory_order_relaxed) : 0;
}
