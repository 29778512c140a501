/*
 * Local invocation (remoting.h): connections without a socket for front ends that
 * live in the server's process. They sit in the endpoint's connection list like any
 * other (so closing the server closes them and close callbacks run), but have no
 * bufferevent: send_cmd hands what the server writes to their sink.
 */
#include <stdio.h>

#include "common/util.h"
#include "conn.h"

rmq_conn *rmq_local_conn_new(rmq_server *s, const char *remote, rmq_local_sink_fn sink, void *arg)
{
    endpoint *ep = server_endpoint(s);
    rmq_conn *c = xcalloc(1, sizeof *c);
    c->id = ep->next_conn_id++;
    c->refs = 1; /* the endpoint's, dropped at close */
    c->state = CONN_OPEN;
    c->ep = ep;
    c->sink = sink;
    c->sink_arg = arg;
    snprintf(c->remote, sizeof c->remote, "%s", remote ? remote : "local");
    snprintf(c->local, sizeof c->local, "local");
    c->next = ep->conns;
    if (ep->conns) ep->conns->prev = c;
    ep->conns = c;
    return c;
}

void rmq_local_conn_trust(rmq_conn *c) { c->trusted = true; }

void rmq_local_invoke(rmq_conn *c, rmq_cmd *req)
{
    if (c->state == CONN_CLOSED || !c->sink) {
        cmd_free(req);
        return;
    }
    req->req_mono_ms = mono_ms();
    rmq_conn_hold(c);
    conn_dispatch_request(c, req);
    rmq_conn_release(c);
}
