/*
 * Raft messages between our controllers, over the remoting protocol on the
 * controllers' own ports (docs/ha.md, "Controller group protocol"). Our own
 * codes and fields, not DLedger's: a group mixes no Apache controller.
 *
 *   request   40901 VOTE / 40902 APPEND / 40903 SNAPSHOT
 *             ext: group, from (controllerDLegerSelfId), term, index, logTerm, commit
 *             body: APPEND: entries, each [term i64][len u32][data], big-endian;
 *                   SNAPSHOT: the state's dump (controller.json's format)
 *   response  code 0, ext: term, ok ("true"/"false"), match; anything else is dropped
 *             (a wrong group or sender: code 2005 with a remark)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "controller/ctl_server.h"

#define LOG_MOD CTL_LOG_MOD
#define PEER_TIMEOUT_MS 1000
#define MAX_ENTRIES 1024

typedef struct sent {
    controller *c;
    int to, type;
} sent;

static int code_of(int type)
{
    return type == RAFT_MSG_VOTE ? CTL_CODE_RAFT_VOTE
           : type == RAFT_MSG_APPEND ? CTL_CODE_RAFT_APPEND : CTL_CODE_RAFT_SNAPSHOT;
}

static int node_of(const controller *c, const char *id)
{
    for (int i = 0; id && i < c->n_nodes; i++)
        if (strcmp(c->node_ids[i], id) == 0) return i;
    return -1;
}

static void on_reply(rmq_cmd *resp, const char *err, void *arg)
{
    sent *s = arg;
    controller *c = s->c;
    int64_t term = 0, match = 0;
    bool ok = false;
    if (resp && !c->closing && resp->code == 0 && cmd_ext_int64(resp, "term", &term) == RMQ_OK &&
        cmd_ext_int64(resp, "match", &match) == RMQ_OK && cmd_ext_bool(resp, "ok", &ok) == RMQ_OK) {
        raft_msg m = {.type = s->type + 1, .from = s->to, .to = c->self, .term = term, .ok = ok, .match = match};
        raft_msg none;
        raft_step(c->raft, &m, now_ms(), &none);
    }
    cmd_free(resp);
    free(s);
}

static void put64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8)) p[i] = (uint8_t)v;
}

static int64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return (int64_t)v;
}

void ctl_peers_send(void *arg, const raft_msg *m)
{
    controller *c = arg;
    if (c->closing || !c->client) return;
    rmq_cmd *req = cmd_new_request(code_of(m->type));
    cmd_ext_set(req, "group", c->group);
    cmd_ext_set(req, "from", c->self_id);
    cmd_ext_set_int(req, "term", m->term);
    cmd_ext_set_int(req, "index", m->index);
    cmd_ext_set_int(req, "logTerm", m->log_term);
    cmd_ext_set_int(req, "commit", m->commit);
    if (m->type == RAFT_MSG_APPEND && m->n_entries) {
        size_t len = 0;
        for (int i = 0; i < m->n_entries; i++) len += 12 + m->entries[i].len;
        uint8_t *body = xmalloc(len), *p = body;
        for (int i = 0; i < m->n_entries; i++) {
            put64(p, m->entries[i].term);
            uint32_t n = (uint32_t)m->entries[i].len;
            p[8] = (uint8_t)(n >> 24), p[9] = (uint8_t)(n >> 16), p[10] = (uint8_t)(n >> 8), p[11] = (uint8_t)n;
            memcpy(p + 12, m->entries[i].data, n);
            p += 12 + n;
        }
        cmd_take_body(req, body, len);
    } else if (m->type == RAFT_MSG_SNAPSHOT) {
        cmd_set_body(req, m->data, m->len);
    }
    sent *s = xcalloc(1, sizeof *s);
    s->c = c;
    s->to = m->to;
    s->type = m->type;
    rmq_client_request(c->client, c->node_addrs[m->to], req, PEER_TIMEOUT_MS, on_reply, s);
}

/* APPEND's body into entries borrowing from it; -1 when it does not parse. */
static int decode_entries(const rmq_cmd *req, raft_entry **out)
{
    const uint8_t *p = req->body, *end = req->body + req->body_len;
    int n = 0, cap = 0;
    *out = NULL;
    while (p < end) {
        if (end - p < 12 || n == MAX_ENTRIES) goto bad;
        uint32_t len = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
        if ((size_t)(end - p - 12) < len) goto bad;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = xrealloc(*out, (size_t)cap * sizeof **out);
        }
        (*out)[n++] = (raft_entry){.term = get64(p), .data = (char *)p + 12, .len = len};
        p += 12 + len;
    }
    return n;
bad:
    free(*out);
    *out = NULL;
    return -1;
}

static int on_request(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    controller *c = arg;
    const char *group = cmd_ext_get(req, "group");
    int from = node_of(c, cmd_ext_get(req, "from"));
    raft_msg m = {.type = req->code == CTL_CODE_RAFT_VOTE ? RAFT_MSG_VOTE
                          : req->code == CTL_CODE_RAFT_APPEND ? RAFT_MSG_APPEND : RAFT_MSG_SNAPSHOT,
                  .from = from, .to = c->self};
    if (!group || strcmp(group, c->group) != 0 || from < 0 || from == c->self) {
        *resp = cmd_new_responsef(req, CTL_INVALID_REQUEST, "not a peer of controller group %s", c->group);
        return RMQ_OK;
    }
    if (cmd_ext_int64(req, "term", &m.term) || cmd_ext_int64(req, "index", &m.index) ||
        cmd_ext_int64(req, "logTerm", &m.log_term) || cmd_ext_int64(req, "commit", &m.commit)) {
        *resp = cmd_new_response(req, CTL_INVALID_REQUEST, "term, index, logTerm and commit are required");
        return RMQ_OK;
    }
    raft_entry *entries = NULL;
    if (m.type == RAFT_MSG_APPEND) {
        m.n_entries = decode_entries(req, &entries);
        if (m.n_entries < 0) {
            *resp = cmd_new_response(req, CTL_INVALID_REQUEST, "malformed entries");
            return RMQ_OK;
        }
        m.entries = entries;
    } else if (m.type == RAFT_MSG_SNAPSHOT) {
        m.data = (const char *)req->body;
        m.len = req->body_len;
    }
    raft_msg reply;
    bool answered = raft_step(c->raft, &m, now_ms(), &reply);
    free(entries);
    *resp = cmd_new_response(req, 0, NULL);
    cmd_ext_set_int(*resp, "term", answered ? reply.term : raft_term(c->raft));
    cmd_ext_set_bool(*resp, "ok", answered && reply.ok);
    cmd_ext_set_int(*resp, "match", answered ? reply.match : 0);
    return RMQ_OK;
}

void ctl_peers_register(controller *c)
{
    rmq_server_register(c->server, CTL_CODE_RAFT_VOTE, on_request, c);
    rmq_server_register(c->server, CTL_CODE_RAFT_APPEND, on_request, c);
    rmq_server_register(c->server, CTL_CODE_RAFT_SNAPSHOT, on_request, c);
}
