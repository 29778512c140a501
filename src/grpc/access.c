/*
 * Access control of gRPC calls: the SDKs' credentials checked against the broker's ACL
 * 1.0 (aclEnable, plain_acl.yml) and ACL 2.0 (authenticationEnabled /
 * authorizationEnabled), before a request message reaches its handler. The remoting
 * requests a handler then runs over the client's local connection skip the broker's
 * ACL hook (rmq_local_conn_trust): this check stands for them, as Apache's proxy
 * checks a call in its own terms before it calls the broker.
 *
 * The SDKs sign every call (rocketmq-clients' Signature.sign):
 *   x-mq-date-time: 20261203T071500Z
 *   authorization:  MQv2-HMAC-SHA1 Credential=<accessKey>, SignedHeaders=x-mq-date-time,
 *                   Signature=<hex of HMAC-SHA1(secretKey, the x-mq-date-time value)>
 *
 * ACL 1.0 is answered as Apache 5.2's proxy (AuthenticationInterceptor over
 * PlainAccessValidator; 5.3 has no ACL 1.0 on gRPC): a refusal closes the call with
 * grpc-status PERMISSION_DENIED and no message; a call without the authorization or
 * x-mq-date-time header meets a NullPointerException there and is closed INTERNAL.
 * ACL 2.0 as Apache 5.3's (AuthenticationPipeline, then AuthorizationPipeline): the
 * RPC's response with Status UNAUTHORIZED and the exception's text, grpc-status OK
 * (a Telemetry stream gets one command with that status and ends).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/acl.h"
#include "broker/acl2.h"
#include "common/log.h"
#include "common/util.h"
#include "grpc_int.h"

/* ---- the authorization header ---- */

typedef struct credentials {
    char *access_key;  /* NULL when the header names none */
    char *signature;   /* Base64 of the hex Signature; NULL when none */
} credentials;

static void credentials_free(credentials *cr)
{
    free(cr->access_key);
    free(cr->signature);
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Hex.decodeHex then Base64.encodeBase64String; NULL when not hex (DecoderException). */
static char *hex_to_base64(const char *hex, size_t len)
{
    if (len % 2) return NULL;
    uint8_t *raw = xmalloc(len / 2 + 1);
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            free(raw);
            return NULL;
        }
        raw[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    char *out = xmalloc(4 * ((len / 2 + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, raw, (int)(len / 2));
    free(raw);
    return out;
}

static const char *trim(const char *s, size_t *len)
{
    while (*len && (unsigned char)*s <= ' ') s++, (*len)--;
    while (*len && (unsigned char)s[*len - 1] <= ' ') (*len)--;
    return s;
}

/*
 * AuthorizationHeader (ACL 1.0) and DefaultAuthenticationContextBuilder (ACL 2.0) read
 * the header alike: "<method> k=v, k=v, ..." with Java's String.split (trailing empty
 * items dropped). Their messages differ: V2 picks ACL 2.0's. RMQ_ERR with the text; the
 * caller frees CR either way.
 */
static int parse_authorization(const char *h, bool v2, credentials *cr, char *err, size_t errlen)
{
    memset(cr, 0, sizeof *cr);
    const char *sp = strchr(h, ' ');
    if (!sp) {
        snprintf(err, errlen, v2 ? "authentication header is incorrect." : "authorization header is incorrect");
        return RMQ_ERR;
    }
    const char *items = sp + 1, *end = items + strlen(items);
    bool blank = !*items;   /* "".split(",") is one empty item; ",,".split(",") none */
    while (end > items && end[-1] == ',') end--;
    for (const char *p = items; p < end || (blank && p == items);) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        if (!comma) comma = end;
        size_t n = (size_t)(comma - p);
        const char *kv = trim(p, &n);
        const char *eq = memchr(kv, '=', n);
        if (!eq) {
            snprintf(err, errlen,
                     v2 ? "authentication keyValues length is incorrect, actual length=1."
                        : "authorization keyValues length is incorrect, actual length=1");
            return RMQ_ERR;
        }
        size_t klen = (size_t)(eq - kv), vlen = n - klen - 1;
        const char *v = eq + 1;
        if (klen == 10 && !memcmp(kv, "Credential", 10)) {
            size_t ak = 0;
            while (ak < vlen && v[ak] != '/') ak++;
            /* "a/b".split("/")[0]; a value of slashes only splits into nothing. */
            bool only_slashes = vlen > 0;
            for (size_t i = 0; i < vlen; i++) only_slashes = only_slashes && v[i] == '/';
            if (only_slashes) {
                snprintf(err, errlen,
                         v2 ? "authentication credential length is incorrect, actual length=0."
                            : "authorization credential length is incorrect, actual length=0");
                    return RMQ_ERR;
            }
            free(cr->access_key);
            cr->access_key = xstrndup(v, ak);
        } else if (klen == 9 && !memcmp(kv, "Signature", 9)) {
            free(cr->signature);
            if (!(cr->signature = hex_to_base64(v, vlen))) {
                snprintf(err, errlen, v2 ? "create authentication context error." : "Illegal hexadecimal character");
                    return RMQ_ERR;
            }
        }
        if (comma >= end) break;
        p = comma + 1;
    }
    return RMQ_OK;
}

/* ---- what a call needs ---- */

enum { FOR_V1 = 1, FOR_V2 = 2, FOR_BOTH = 3 };

typedef struct need {
    bool group;
    const char *name;
    uint8_t perm;      /* ACL 1.0 */
    uint32_t actions;  /* ACL 2.0 */
    int for_acl;
} need;

typedef struct needs {
    need v[64];
    int n;
    /* The parse's refusal for each ACL: AclException (1.0), Authorization/AclException (2.0). */
    const char *v1_err, *v2_err;
    bool v2_internal;  /* v2_err is an AclException: the proxy answers INTERNAL_SERVER_ERROR */
} needs;

static void add(needs *ns, int for_acl, bool group, const Apache__Rocketmq__V2__Resource *r, uint8_t perm,
                uint32_t actions)
{
    const char *name = resource_name(r);
    /* ACL 2.0's builder refuses a blank topic or group. */
    if ((for_acl & FOR_V2) && !*name && !ns->v2_err) ns->v2_err = group ? "group is null." : "topic is null.";
    if (ns->n < (int)(sizeof ns->v / sizeof ns->v[0]))
        ns->v[ns->n++] = (need){.group = group, .name = name, .perm = perm, .actions = actions, .for_acl = for_acl};
}

#define PUB ACL_PERM_PUB, ACT(ACT_PUB)
#define SUB ACL_PERM_SUB, ACT(ACT_SUB)

static void sub_both(needs *ns, const Apache__Rocketmq__V2__Resource *group, const Apache__Rocketmq__V2__Resource *topic)
{
    add(ns, FOR_BOTH, true, group, SUB);
    add(ns, FOR_BOTH, false, topic, SUB);
}

static bool consumer_type(int t, bool with_pull)
{
    return t == APACHE__ROCKETMQ__V2__CLIENT_TYPE__PUSH_CONSUMER || t == APACHE__ROCKETMQ__V2__CLIENT_TYPE__SIMPLE_CONSUMER ||
           (with_pull && t == APACHE__ROCKETMQ__V2__CLIENT_TYPE__PULL_CONSUMER);
}

static void telemetry_needs(needs *ns, const Apache__Rocketmq__V2__TelemetryCommand *t)
{
    if (t->command_case != APACHE__ROCKETMQ__V2__TELEMETRY_COMMAND__COMMAND_SETTINGS) return;
    const Apache__Rocketmq__V2__Settings *s = t->settings;
    if (s->pub_sub_case == APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_PUBLISHING) {
        for (size_t i = 0; i < s->publishing->n_topics; i++) add(ns, FOR_BOTH, false, s->publishing->topics[i], PUB);
    } else if (s->pub_sub_case == APACHE__ROCKETMQ__V2__SETTINGS__PUB_SUB_SUBSCRIPTION) {
        add(ns, FOR_BOTH, true, s->subscription->group, SUB);
        for (size_t i = 0; i < s->subscription->n_subscriptions; i++)
            add(ns, FOR_BOTH, false, s->subscription->subscriptions[i]->topic, SUB);
    } else {
        ns->v1_err = "settings command doesn't have publishing or subscription";
        ns->v2_err = "settings command doesn't have publishing or subscription.";
        ns->v2_internal = true;
    }
}

/*
 * The resources of request M (PlainAccessResource.parse(GeneratedMessageV3) for 1.0,
 * DefaultAuthorizationContextBuilder.build(Metadata, GeneratedMessageV3) for 2.0).
 * Names point into M.
 */
static void needs_of(const ProtobufCMessage *m, needs *ns)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    memset(ns, 0, sizeof *ns);
    if (d == &apache__rocketmq__v2__send_message_request__descriptor) {
        const Apache__Rocketmq__V2__SendMessageRequest *r = (const void *)m;
        if (!r->n_messages) {
            ns->v1_err = "SendMessageRequest, messageCount is zero";
            ns->v2_err = "message is null.";
            return;
        }
        for (size_t i = 1; i < r->n_messages; i++)
            if (strcmp(resource_name(r->messages[i]->topic), resource_name(r->messages[0]->topic)) != 0)
                ns->v1_err = "SendMessageRequest, messages' topic is not consistent";
        add(ns, FOR_BOTH, false, r->messages[0]->topic, PUB);
    } else if (d == &apache__rocketmq__v2__recall_message_request__descriptor) {
        add(ns, FOR_V2, false, ((const Apache__Rocketmq__V2__RecallMessageRequest *)m)->topic, PUB);
    } else if (d == &apache__rocketmq__v2__end_transaction_request__descriptor) {
        add(ns, FOR_BOTH, false, ((const Apache__Rocketmq__V2__EndTransactionRequest *)m)->topic, PUB);
    } else if (d == &apache__rocketmq__v2__heartbeat_request__descriptor) {
        const Apache__Rocketmq__V2__HeartbeatRequest *r = (const void *)m;
        if (consumer_type(r->client_type, false)) {
            if (!r->group) ns->v1_err = "Consumer heartbeat doesn't have group";
            else add(ns, FOR_V1, true, r->group, SUB);
        }
        if (consumer_type(r->client_type, true)) add(ns, FOR_V2, true, r->group, SUB);
    } else if (d == &apache__rocketmq__v2__receive_message_request__descriptor) {
        const Apache__Rocketmq__V2__ReceiveMessageRequest *r = (const void *)m;
        if (!r->message_queue) ns->v2_err = "messageQueue is null.";
        sub_both(ns, r->group, r->message_queue ? r->message_queue->topic : NULL);
    } else if (d == &apache__rocketmq__v2__ack_message_request__descriptor) {
        const Apache__Rocketmq__V2__AckMessageRequest *r = (const void *)m;
        sub_both(ns, r->group, r->topic);
    } else if (d == &apache__rocketmq__v2__forward_message_to_dead_letter_queue_request__descriptor) {
        const Apache__Rocketmq__V2__ForwardMessageToDeadLetterQueueRequest *r = (const void *)m;
        sub_both(ns, r->group, r->topic);
    } else if (d == &apache__rocketmq__v2__query_assignment_request__descriptor) {
        const Apache__Rocketmq__V2__QueryAssignmentRequest *r = (const void *)m;
        sub_both(ns, r->group, r->topic);
    } else if (d == &apache__rocketmq__v2__notify_client_termination_request__descriptor) {
        const Apache__Rocketmq__V2__NotifyClientTerminationRequest *r = (const void *)m;
        add(ns, FOR_V1, true, r->group, SUB);
        if (*resource_name(r->group)) add(ns, FOR_V2, true, r->group, SUB);
    } else if (d == &apache__rocketmq__v2__change_invisible_duration_request__descriptor) {
        const Apache__Rocketmq__V2__ChangeInvisibleDurationRequest *r = (const void *)m;
        add(ns, FOR_BOTH, true, r->group, SUB);
        add(ns, FOR_V1, false, r->topic, SUB);
    } else if (d == &apache__rocketmq__v2__query_route_request__descriptor) {
        const Apache__Rocketmq__V2__QueryRouteRequest *r = (const void *)m;
        add(ns, FOR_V1, false, r->topic, ACL_PERM_ANY, 0);
        add(ns, FOR_V2, false, r->topic, 0, ACT(ACT_PUB) | ACT(ACT_SUB));
    } else if (d == &apache__rocketmq__v2__telemetry_command__descriptor) {
        telemetry_needs(ns, (const void *)m);
    }
}

/* ---- the checks ---- */

/* ACL 1.0; RMQ_OK, or RMQ_ERR having closed the call. */
static int check_v1(gcall *c, const acl *a, const needs *ns)
{
    char why[512] = "";
    int status = GRPC_PERMISSION_DENIED;
    credentials cr = {0};
    if (!c->authorization || !c->datetime) {
        /* new AuthorizationHeader(null) / getDatetime().getBytes(): NullPointerException */
        snprintf(why, sizeof why, "no %s header", c->authorization ? "x-mq-date-time" : "authorization");
        status = GRPC_INTERNAL;
    } else if (parse_authorization(c->authorization, false, &cr, why, sizeof why) == RMQ_OK) {
        if (ns->v1_err) {
            snprintf(why, sizeof why, "%s", ns->v1_err);
        } else {
            acl_need list[64];
            int n = 0;
            for (int i = 0; i < ns->n; i++)
                if (ns->v[i].for_acl & FOR_V1)
                    list[n++] = (acl_need){.name = ns->v[i].name, .group = ns->v[i].group, .perm = ns->v[i].perm};
            if (acl_check_signed(a, cr.access_key, cr.signature, c->datetime, strlen(c->datetime), c->peer, list, n,
                                 why, sizeof why) == RMQ_OK) {
                credentials_free(&cr);
                return RMQ_OK;
            }
        }
    }
    credentials_free(&cr);
    log_warn("grpc", "%s %s: refused by ACL 1.0: %s", c->peer, c->method->name, why);
    /* Apache's StatusRuntimeException(PERMISSION_DENIED) carries no description, nor its NPE one. */
    gcall_finish(c, status, NULL);
    return RMQ_ERR;
}

/* ACL 2.0; RMQ_OK, or RMQ_ERR having answered the call. */
static int check_v2(gcall *c, const auth *a, const needs *ns, const char *rpc)
{
    char why[512] = "";
    int code = APACHE__ROCKETMQ__V2__CODE__UNAUTHORIZED;
    credentials cr = {0};
    const char *user = NULL;
    if (auth_authentication_enabled(a)) {
        /* DefaultAuthenticationContextBuilder: no header, no user; then the evaluator. */
        if (c->authorization && *c->authorization) {
            if (!c->datetime || !*c->datetime) {
                snprintf(why, sizeof why, "datetime is null.");
                goto refused;
            }
            if (parse_authorization(c->authorization, true, &cr, why, sizeof why)) goto refused;
        }
        const char *date = c->datetime ? c->datetime : "";
        if (auth_authenticate_signed(a, rpc, cr.access_key, cr.signature, date, strlen(date), why, sizeof why))
            goto refused;
        /* The pipeline hands the user on to authorization (GrpcConstants.AUTHORIZATION_AK). */
        if (cr.access_key && *cr.access_key) user = cr.access_key;
    }
    if (auth_authorization_enabled(a)) {
        if (ns->v2_err) {
            snprintf(why, sizeof why, "%s", ns->v2_err);
            if (ns->v2_internal) code = APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR;
            goto refused;
        }
        auth_need list[64];
        int n = 0;
        for (int i = 0; i < ns->n; i++)
            if (ns->v[i].for_acl & FOR_V2)
                list[n++] = (auth_need){.type = ns->v[i].group ? RES_GROUP : RES_TOPIC, .name = ns->v[i].name,
                                        .actions = ns->v[i].actions};
        if (auth_authorize_needs(a, rpc, user, c->peer, list, n, why, sizeof why)) goto refused;
    }
    credentials_free(&cr);
    return RMQ_OK;
refused:
    credentials_free(&cr);
    log_info("grpc", "%s %s: refused by ACL 2.0: %s", c->peer, c->method->name, why);
    gcall_answer_status(c, c->method->resp, code, why);
    return RMQ_ERR;
}

bool grpc_access_allowed(gcall *c, const uint8_t *msg, size_t len)
{
    broker *b = c->srv->b;
    bool v2 = b->auth && auth_enforcing(b->auth);
    if ((!b->acl_v1 && !v2) || !c->method->req) return true;
    ProtobufCMessage *m = protobuf_c_message_unpack(c->method->req, NULL, len, msg);
    if (!m) return true;   /* the handler refuses what does not unpack */
    needs ns;
    needs_of(m, &ns);
    int rc = RMQ_OK;
    if (b->acl_v1) rc = check_v1(c, b->acl_v1, &ns);
    if (rc == RMQ_OK && v2) rc = check_v2(c, b->auth, &ns, c->method->req->name);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc == RMQ_OK;
}
