/*
 * The gRPC ports of the other brokers of a route. A route names each master by its
 * remoting address; the SDKs need its gRPC endpoint. Apache's proxy answers with its own
 * address and forwards; our brokers each serve their own queues, so a route must point
 * at every broker's own gRPC port. We learn it from the broker itself: its
 * GET_BROKER_CONFIG answer carries grpcServerPort (ours always prints it). Answers are
 * kept for PEER_TTL_MS; a broker that does not say (not one of ours, or unreachable) is
 * given this broker's port, as before this existed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/acl2.h"
#include "common/log.h"
#include "common/util.h"
#include "grpc_int.h"

enum { GET_BROKER_CONFIG = 26 };
#define PEER_TTL_MS 30000
#define PEER_TIMEOUT_MS 2000

struct grpc_peer {
    char *addr;          /* remoting "host:port" */
    int port;            /* its gRPC port; 0: it said none, -1: no answer */
    int64_t learned_ms;
    struct grpc_peer *next;
};

static grpc_peer *find(grpc_server *g, const char *addr)
{
    for (grpc_peer *p = g->peers; p; p = p->next)
        if (!strcmp(p->addr, addr)) return p;
    return NULL;
}

int grpc_peer_port(grpc_server *g, const char *addr)
{
    if (!strcmp(addr, g->b->addr)) return g->port;
    grpc_peer *p = find(g, addr);
    return p && p->port > 0 ? p->port : g->port;
}

/* One route's questions; on the server's list until its last answer. */
struct grpc_learning {
    grpc_server *g;      /* NULL once the server is gone */
    int left;
    void (*done)(void *);
    void *arg;
    struct grpc_learning *next;
};
typedef struct grpc_learning learning;

/* The last answer (or the server's end): DONE once, then off the list. */
static void finish(learning *l)
{
    if (l->done) l->done(l->arg);
    l->done = NULL;
    if (l->g)
        for (learning **pp = &l->g->learnings; *pp; pp = &(*pp)->next)
            if (*pp == l) {
                *pp = l->next;
                break;
            }
    l->g = NULL;
}

typedef struct asked {
    learning *l;
    char *addr;
} asked;

/* "grpcServerPort=N" in a properties text (MixAll.properties2String), or -1. */
static int port_in(const char *props, size_t len)
{
    static const char key[] = "grpcServerPort=";
    for (const char *line = props, *end = props + len; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (n > sizeof key - 1 && !memcmp(line, key, sizeof key - 1)) {
            char digits[16];
            size_t dn = n - (sizeof key - 1);
            if (dn >= sizeof digits) return -1;
            memcpy(digits, line + sizeof key - 1, dn);
            digits[dn] = 0;
            int32_t v;
            return parse_int32(digits, &v) == RMQ_OK && v >= 0 && v < 65536 ? v : -1;
        }
        line += n + 1;
    }
    return -1;
}

static void config_reply(rmq_cmd *resp, const char *err, void *arg)
{
    asked *a = arg;
    learning *l = a->l;
    grpc_server *g = l->g;
    int port = resp && resp->code == 0 && resp->body ? port_in((const char *)resp->body, resp->body_len) : -1;
    if (port < 0)
        log_info("grpc", "broker %s did not tell its gRPC port (%s): routes give it ours", a->addr,
                 resp ? (resp->code ? (resp->remark ? resp->remark : "refused") : "no grpcServerPort")
                      : (err ? err : "no answer"));
    if (g) {
        grpc_peer *p = find(g, a->addr);
        if (!p) {
            p = xcalloc(1, sizeof *p);
            p->addr = xstrdup(a->addr);
            p->next = g->peers;
            g->peers = p;
        }
        p->port = port;
        p->learned_ms = mono_ms();
    }
    cmd_free(resp);
    free(a->addr);
    free(a);
    if (--l->left == 0) {
        finish(l);
        free(l);
    }
}

void grpc_peers_learn(grpc_server *g, const char *const *addrs, int n, void (*done)(void *), void *arg)
{
    learning *l = xcalloc(1, sizeof *l);
    l->g = g;
    l->left = 1;   /* ours until every request is out */
    l->done = done;
    l->arg = arg;
    int64_t now = mono_ms();
    for (int i = 0; i < n; i++) {
        if (!strcmp(addrs[i], g->b->addr)) continue;
        grpc_peer *p = find(g, addrs[i]);
        if (p && now - p->learned_ms < PEER_TTL_MS) continue;
        bool again = false;   /* the same address twice in one route */
        for (int k = 0; k < i; k++) again = again || !strcmp(addrs[k], addrs[i]);
        if (again) continue;
        asked *a = xcalloc(1, sizeof *a);
        a->l = l;
        a->addr = xstrdup(addrs[i]);
        l->left++;
        rmq_cmd *req = cmd_new_request(GET_BROKER_CONFIG);
        auth_sign_inner(g->b->auth, req);   /* an ACL 2.0 broker asks for its inner credentials */
        rmq_client_request(g->b->client, addrs[i], req, PEER_TIMEOUT_MS, config_reply, a);
    }
    if (--l->left == 0) {
        if (done) done(arg);
        free(l);
        return;
    }
    l->next = g->learnings;
    g->learnings = l;
}

void grpc_peers_free(grpc_server *g)
{
    /* Routes still asking are answered now, while the server is there; their answers to
     * come (the client's end calls them back) find no server. */
    while (g->learnings) finish(g->learnings);
    while (g->peers) {
        grpc_peer *p = g->peers;
        g->peers = p->next;
        free(p->addr);
        free(p);
    }
}
