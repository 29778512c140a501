/*
 * acl2_int: what the ACL 2.0 files share. Not for other modules (they use acl2.h).
 */
#ifndef RMQ_BROKER_ACL2_INT_H
#define RMQ_BROKER_ACL2_INT_H

#include "acl2.h"

struct auth {
    bool authentication_enabled, authorization_enabled;
    char *cluster_name;
    char **authn_whitelist, **authz_whitelist;  /* request codes as text */
    int n_authn_whitelist, n_authz_whitelist;
    char *inner_ak, *inner_sk;  /* innerClientAuthenticationCredentials: signs our own requests */
    char *path;          /* config/auth.json */
    auth_user *users;    /* sorted by username */
    int n_users;
    auth_acl **acls;     /* sorted by subject */
    int n_acls;
};

/* ---- acl2_store.c ---- */

/* The ACL of "User:<username>", or NULL. */
const auth_acl *auth_acl_of(const auth *a, const char *username);
/* IPAddressUtils.isValidIPOrCidr */
bool auth_ip_valid(const char *ip_or_cidr);
/* IPAddressUtils.isIPInRange: a plain address compares as text, a CIDR by value. */
bool auth_ip_in_range(const char *ip, const char *cidr);

/* ---- acl2_context.c: what a request needs (DefaultAuthorizationContextBuilder) ---- */

typedef struct auth_ctx {
    auth_resource res;  /* name owned */
    uint32_t actions;   /* ACT() bits */
} auth_ctx;

typedef struct auth_ctxs {
    auth_ctx *v;
    int n;
} auth_ctxs;

/* The resources REQ names with the actions each needs; RMQ_ERR when its header or body
 * does not decode (Apache: "parse authorization context error."). */
int auth_contexts(const rmq_cmd *req, const char *cluster_name, auth_ctxs *out);
void auth_ctxs_free(auth_ctxs *c);

#endif
