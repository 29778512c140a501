/*
 * The brokers' registrations (REGISTER_BROKER, UNREGISTER_BROKER), applied to the
 * route table in the order each broker sent them, with large bodies decoded on a
 * worker thread (registrar.c). Internal to the name server: namesrv.c registers
 * these as the two codes' processors.
 */
#ifndef RMQ_NAMESRV_REGISTRAR_INT_H
#define RMQ_NAMESRV_REGISTRAR_INT_H

#include "namesrv/namesrv.h"
#include "remoting/remoting.h"

/* A body this long or longer is decoded off the loop: at 64 KiB (~300 topics of JSON)
 * the decoding takes well under a millisecond, a thread hop would cost as much. */
#define REGISTRAR_ASYNC_MIN_BODY (64 * 1024)

typedef struct registrar registrar;

registrar *registrar_new(struct event_base *base, route_table *rt, kv_config *kv);
/* Joins the worker; registrations not applied yet are dropped unanswered (the server
 * closes their connections next). Before the route table and the server go. */
void registrar_free(registrar *g);

/* The processors (rmq_processor_fn, arg = the registrar). */
int registrar_register_broker(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg);
int registrar_unregister_broker(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg);

/* Tests: FN(ARG) runs on the worker before each body it decodes. */
void registrar_on_decode(registrar *g, void (*fn)(void *arg), void *arg);

#endif
