/*
 * ACL 2.0 enforcement (see acl2.h): Apache 5.3's request pipeline on the
 * remoting protocol, authentication first (AuthenticationPipeline), then
 * authorization (AuthorizationPipeline), each refusing with NO_PERMISSION
 * and the text of its exception.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "acl2_int.h"
#include "common/log.h"
#include "common/util.h"

/* MQVersion.Version.V4_9_3: clients up to it did not sign _UNIQUE_KEY_QUERY. */
#define V4_9_3 399

static bool listed(char *const *list, int n, int32_t code)
{
    char text[16];
    snprintf(text, sizeof text, "%d", code);
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], text)) return true;
    return false;
}

static bool listed_name(char *const *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], name)) return true;
    return false;
}

/* How DefaultAuthenticationHandler checks the signature with the user's password. */
typedef bool (*signed_fn)(const char *password, const void *arg);

/* DefaultAuthenticationHandler.getUser + doAuthenticate */
static int authenticate(const auth *a, const char *username, signed_fn signed_ok, const void *arg, char *err,
                        size_t errlen)
{
    if (!username || !*username) {
        snprintf(err, errlen, "username cannot be null.");
        return RMQ_ERR;
    }
    const auth_user *u = auth_user_get(a, username);
    if (!u) {
        snprintf(err, errlen, "User:%s is not found.", username);
        return RMQ_ERR;
    }
    if (u->status == AUTH_DISABLE) {
        snprintf(err, errlen, "User:%s is disabled.", username);
        return RMQ_ERR;
    }
    if (!signed_ok(u->password, arg)) {
        snprintf(err, errlen, "check signature failed.");
        return RMQ_ERR;
    }
    return RMQ_OK;
}

/* DefaultAuthenticationContextBuilder.build(RemotingCommand): the extFields and body signed. */
static bool request_signed(const char *password, const void *arg)
{
    const rmq_cmd *req = arg;
    const char *signature = cmd_ext_get(req, "Signature");
    return signature && acl_signature_matches(req, password, signature, req->version > V4_9_3);
}

/* PolicyEntry.isMatchResource */
static bool resource_matches(const auth_resource *entry, const auth_resource *r)
{
    if (entry->type == RES_ANY) return true;
    if (entry->type != r->type) return false;
    switch (entry->pattern) {
    case PAT_ANY: return true;
    case PAT_LITERAL: return entry->name && r->name && !strcmp(entry->name, r->name);
    case PAT_PREFIXED: return entry->name && r->name && !strncmp(r->name, entry->name, strlen(entry->name));
    }
    return false;
}

/* PolicyEntry.isMatchAction: a request action the entry lists, or the entry has All. */
static bool actions_match(const auth_entry *e, uint32_t wanted)
{
    uint32_t have = 0;
    for (int i = 0; i < e->n_actions; i++) have |= ACT(e->actions[i]);
    if (!have) return false;
    if (wanted & ACT(ACT_ANY)) return true;
    return (have & ACT(ACT_ALL)) ? wanted != 0 : (have & wanted) != 0;
}

static bool source_matches(const auth_entry *e, const char *ip)
{
    if (!e->n_ips) return true;
    for (int i = 0; i < e->n_ips; i++)
        if (auth_ip_in_range(ip, e->ips[i])) return true;
    return false;
}

/*
 * The order in which matching entries count: the most specific resource first
 * (a literal name, then the longest prefix, then a whole type, "*" last), and a
 * Deny before an Allow of the same rank. This is the comparator as Apache fixed it
 * after 5.3.3 (apache/rocketmq#9540); 5.3.3's own let the order in which entries
 * were added decide between a literal and a prefixed entry.
 */
static int rank(const auth_entry *e)
{
    if (e->res.type == RES_ANY) return 3;
    return e->res.pattern == PAT_LITERAL ? 0 : e->res.pattern == PAT_PREFIXED ? 1 : 2;
}

static bool before(const auth_entry *x, const auth_entry *y)
{
    int rx = rank(x), ry = rank(y);
    if (rx != ry) return rx < ry;
    if (rx == 1) {
        size_t lx = strlen(x->res.name), ly = strlen(y->res.name);
        if (lx != ly) return lx > ly;
    }
    return x->decision == DECISION_DENY && y->decision != DECISION_DENY;
}

/* AclAuthorizationHandler.matchPolicyEntries: the winning entry of the Custom policy, else of the Default one. */
static const auth_entry *best_entry(const auth_acl *rules, const auth_ctx *ctx, const char *ip)
{
    static const int order[] = {POLICY_CUSTOM, POLICY_DEFAULT};
    for (int o = 0; o < 2; o++) {
        const auth_entry *best = NULL;
        for (int p = 0; p < rules->n; p++) {
            if (rules->policies[p].type != order[o]) continue;
            for (int i = 0; i < rules->policies[p].n; i++) {
                const auth_entry *e = &rules->policies[p].entries[i];
                if (resource_matches(&e->res, &ctx->res) && actions_match(e, ctx->actions) && source_matches(e, ip) &&
                    (!best || before(e, best)))
                    best = e;
            }
        }
        if (best) return best;
    }
    return NULL;
}

/* UserAuthorizationHandler + AclAuthorizationHandler for one context. */
static int authorize_one(const auth *a, const char *username, const auth_ctx *ctx, const char *ip, char *err,
                         size_t errlen)
{
    const auth_user *u = auth_user_get(a, username);
    if (!u) {
        snprintf(err, errlen, "User:%s not found.", username);
        return RMQ_ERR;
    }
    if (u->type == AUTH_SUPER) return RMQ_OK;
    const auth_acl *rules = auth_acl_of(a, username);
    const auth_entry *e = rules ? best_entry(rules, ctx, ip) : NULL;
    if (e && e->decision != DECISION_DENY) return RMQ_OK;
    char *key = auth_resource_key(&ctx->res);
    snprintf(err, errlen, "User:%s has no permission to access %s from %s, %s", username, key, ip,
             e ? "the decision is deny." : "no matched policies.");
    free(key);
    return RMQ_ERR;
}

/* The source IP: the remote address without its port. */
static char *source_ip(const char *remote)
{
    const char *colon = remote ? strrchr(remote, ':') : NULL;
    return colon ? xstrndup(remote, (size_t)(colon - remote)) : xstrdup(remote ? remote : "");
}

/* AuthorizationEvaluator over the contexts of one request, for USERNAME (NULL: no subject). */
static int authorize_all(const auth *a, const char *username, const auth_ctx *ctxs, int n, const char *remote,
                         char *err, size_t errlen)
{
    char *ip = source_ip(remote);
    int rc = RMQ_OK;
    for (int i = 0; i < n && rc == RMQ_OK; i++) {
        if (!username) {
            /* No subject: Apache's handler chain fails on it and wraps the failure. */
            snprintf(err, errlen, "Authorization failed. Please verify your access rights and try again.");
            rc = RMQ_ERR;
        } else {
            rc = authorize_one(a, username, &ctxs[i], ip, err, errlen);
        }
    }
    free(ip);
    return rc;
}

static int authorize(const auth *a, const rmq_cmd *req, const char *remote, char *err, size_t errlen)
{
    auth_ctxs ctxs;
    if (auth_contexts(req, a->cluster_name, &ctxs)) {
        snprintf(err, errlen, "parse authorization context error.");
        return RMQ_ERR;
    }
    int rc = authorize_all(a, cmd_ext_get(req, "AccessKey"), ctxs.v, ctxs.n, remote, err, errlen);
    auth_ctxs_free(&ctxs);
    return rc;
}

int auth_check(const auth *a, const rmq_cmd *req, const char *remote, char *err, size_t errlen)
{
    if (a->authentication_enabled && !listed(a->authn_whitelist, a->n_authn_whitelist, req->code) &&
        authenticate(a, cmd_ext_get(req, "AccessKey"), request_signed, req, err, errlen))
        return RMQ_ERR;
    if (a->authorization_enabled && !listed(a->authz_whitelist, a->n_authz_whitelist, req->code) &&
        authorize(a, req, remote, err, errlen))
        return RMQ_ERR;
    return RMQ_OK;
}

bool auth_authentication_enabled(const auth *a) { return a && a->authentication_enabled; }
bool auth_authorization_enabled(const auth *a) { return a && a->authorization_enabled; }

int auth_authenticate_signed(const auth *a, const char *rpc, const char *username, const char *signature,
                             const void *content, size_t len, char *err, size_t errlen)
{
    if (!a->authentication_enabled || listed_name(a->authn_whitelist, a->n_authn_whitelist, rpc)) return RMQ_OK;
    acl_signed_content sc = {signature, content, len};
    return authenticate(a, username, acl_content_signed, &sc, err, errlen);
}

int auth_authorize_needs(const auth *a, const char *rpc, const char *username, const char *remote,
                         const auth_need *needs, int n, char *err, size_t errlen)
{
    if (!a->authorization_enabled || listed_name(a->authz_whitelist, a->n_authz_whitelist, rpc)) return RMQ_OK;
    auth_ctx *ctxs = xcalloc((size_t)(n ? n : 1), sizeof *ctxs);
    for (int i = 0; i < n; i++) {
        ctxs[i].res.type = needs[i].type;
        ctxs[i].res.pattern = PAT_LITERAL;
        ctxs[i].res.name = (char *)needs[i].name;
        ctxs[i].actions = needs[i].actions;
    }
    int rc = authorize_all(a, username, ctxs, n, remote, err, errlen);
    free(ctxs);
    return rc;
}

void auth_sign_inner(const auth *a, rmq_cmd *req)
{
    if (a && a->inner_ak) acl_sign_request(req, a->inner_ak, a->inner_sk);
}

rmq_cmd *auth_server_hook(rmq_conn *conn, rmq_cmd *req, void *arg)
{
    char why[512];
    if (auth_check(arg, req, rmq_conn_remote(conn), why, sizeof why) == RMQ_OK) return NULL;
    log_info("auth", "%s: request code %d refused: %s", rmq_conn_remote(conn), req->code, why);
    return cmd_new_response(req, 16 /* NO_PERMISSION */, why);
}
