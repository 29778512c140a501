/*
 * What the ha module's files share: the service, one slave connection
 * (master side, ha.c) and the slave client's state (client.c). Private to
 * src/ha; ha.h is the door.
 */
#ifndef RMQ_HA_INT_H
#define RMQ_HA_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "ha.h"

struct bufferevent;
struct evconnlistener;
struct event;

/* FlowMonitor: bytes moved in the last whole second (HARuntimeInfo's transferredByteInSecond). */
typedef struct ha_flow {
    int64_t window_ms;         /* mono ms the current second began */
    int64_t count;             /* bytes in it so far */
    int64_t last;              /* bytes in the previous second */
} ha_flow;

void ha_flow_add(ha_flow *f, int64_t bytes);
int64_t ha_flow_rate(const ha_flow *f);

typedef struct ha_conn {
    struct ha_service *ha;
    struct bufferevent *bev;
    struct event *tick;
    char peer[64];
    int64_t request_offset;    /* the slave's first report; -1 until it arrives */
    int64_t next_transfer;     /* -1 until the first report */
    int64_t last_write_ms;     /* 0: the first idle tick sends a heartbeat at once */
    int64_t slave_id;          /* auto-switch: from the handshake; -1 before */
    int64_t ack;               /* last acknowledged offset, -1 before */
    int64_t caught_up_ms;      /* auto-switch: last time the slave had all (mono ms) */
    ha_flow flow;              /* commit-log bytes sent */
    struct ha_conn *next;
} ha_conn;

typedef struct ha_waiter {
    struct ha_service *ha;
    int64_t end_offset;
    ha_wait_cb cb;
    void *arg;
    struct event *ev;
    struct ha_waiter *prev, *next;
} ha_waiter;

struct ha_service {
    struct event_base *base;
    struct store *store;
    ha_config cfg;             /* strings below are owned copies */
    char *listen_host;
    struct evconnlistener *listener;
    ha_conn *conns;
    int nconns;
    int64_t push2slave_max;
    ha_waiter *waiters;

    /* slave client (HAClient, client.c) */
    char *master;              /* NULL = not replicating */
    struct bufferevent *client;
    bool client_connected;
    struct event *client_tick;
    struct event *reconnect_ev;
    int backoff_ms;
    int64_t reported;          /* last offset sent to the master */
    int64_t last_report_ms;
    int client_state;          /* auto-switch: HA_STATE_HANDSHAKE until the master's epochs came */
    int32_t received_epoch;    /* auto-switch: epoch of the last frame, -1 at connect */
    int64_t last_read_wall, last_write_wall;   /* HAClient's lastRead/WriteTimestamp (epoch ms) */
    ha_flow client_flow;       /* commit-log bytes received */

    void (*ack_fn)(void *arg, int64_t broker_id, int64_t offset);
    void *ack_arg;
};

void ha_set_timeouts(struct bufferevent *bev, int housekeeping_ms);
void ha_add_ms(struct event *ev, int ms);

/* client.c: the slave side's timers (made by ha_new, freed by ha_free after the client stopped). */
void ha_client_init(ha_service *ha);
void ha_client_free(ha_service *ha);

#endif
