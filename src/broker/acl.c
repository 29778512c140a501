/*
 * Plain ACL 1.0: white-list address rules and the per-request check (see
 * acl.h). The plain_acl.yml reader is in acl_yaml.c and acl_config.c,
 * signatures in acl_sign.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_int.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"

#define TRACE_TOPIC "RMQ_SYS_TRACE_TOPIC"

/* ======================================================================
 * White-list address rules (RemoteAddressStrategyFactory), IPv4 and IPv6
 * addresses, lists and {a,b} sets; ranges (* and a-b) for IPv4.
 * ====================================================================== */

/* An address as text; IPv4-mapped IPv6 addresses count as IPv4. */
static bool ip_parse(const char *s, ip_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->b) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, out->b) != 1) return false;
    out->family = AF_INET6;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out->b, mapped, sizeof mapped) == 0) {
        memmove(out->b, out->b + 12, 4);
        memset(out->b + 4, 0, 12);
        out->family = AF_INET;
    }
    return true;
}

static bool ip_equal(const ip_addr *a, const ip_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, sizeof a->b) == 0;
}

static bool octet(const char *s, size_t len, int *out)
{
    if (!len || len > 3) return false;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v <= 255;
}

static int rule_add_addr(addr_rule *r, const char *text, char *err, size_t errlen)
{
    ip_addr a;
    if (!ip_parse(text, &a)) {
        snprintf(err, errlen, "Netaddress examine Exception netaddress is %s", text);
        return RMQ_ERR;
    }
    r->addrs = xrealloc(r->addrs, (size_t)(r->n_addrs + 1) * sizeof *r->addrs);
    r->addrs[r->n_addrs++] = a;
    return RMQ_OK;
}

/* "a,b,c" (empty items skipped, as StringUtils.split does), each prefixed with PREFIX. */
static int rule_add_list(addr_rule *r, const char *prefix, const char *list, size_t len, char *err, size_t errlen)
{
    const char *c = list, *end = list + len;
    while (c < end) {
        const char *comma = memchr(c, ',', (size_t)(end - c));
        if (!comma) comma = end;
        if (comma > c) {
            char *one = str_printf("%s%.*s", prefix, (int)(comma - c), c);
            int rc = rule_add_addr(r, one, err, errlen);
            free(one);
            if (rc) return rc;
        }
        c = comma + 1;
    }
    r->kind = RULE_LIST;
    return r->n_addrs ? RMQ_OK : rule_add_addr(r, "", err, errlen);
}

/* IPv4 "a.b.c.*", "a.b.c.1-9", "a.b.*.*", "a.*.*.*": RangeRemoteAddressStrategy. */
static int rule_range(addr_rule *r, const char *text, char *err, size_t errlen)
{
    if (strchr(text, ':')) {
        snprintf(err, errlen, "IPv6 address ranges are not supported: %s", text);
        return RMQ_ERR;
    }
    const char *part[4];
    size_t plen[4];
    int n = 0;
    for (const char *c = text; n < 4; n++) {
        const char *dot = strchr(c, '.');
        part[n] = c;
        plen[n] = dot ? (size_t)(dot - c) : strlen(c);
        if (!dot) {
            n++;
            break;
        }
        c = dot + 1;
    }
    r->index = 0;
    for (int i = 1; n == 4 && i < 4 && !r->index; i++) {
        const char *dash = memchr(part[i], '-', plen[i]);
        if (plen[i] == 1 && part[i][0] == '*') {
            r->start = 0, r->end = 255;
        } else if (dash) {
            if (!octet(part[i], (size_t)(dash - part[i]), &r->start) ||
                !octet(dash + 1, plen[i] - (size_t)(dash + 1 - part[i]), &r->end) || r->start > r->end)
                break;
        } else {
            continue;
        }
        r->index = i;
    }
    for (int i = 0; i < r->index; i++) {
        int v;
        if (!octet(part[i], plen[i], &v)) r->index = 0;
        else r->head[i] = (uint8_t)v;
    }
    if (!r->index) {
        snprintf(err, errlen, "RangeRemoteAddressStrategy netaddress examine scope Exception netaddress is %s", text);
        return RMQ_ERR;
    }
    r->kind = RULE_RANGE;
    return RMQ_OK;
}

static int rule_compile(addr_rule *r, const char *text, char *err, size_t errlen);

int acl_rule_compile(addr_rule *r, const char *text, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (rule_compile(r, text, err, errlen) == RMQ_OK) return RMQ_OK;
    /* "127.0.0.1,bad": the addresses before the bad one are the caller's to free only
     * when the rule compiled (a failed one is never counted). */
    acl_rule_free(r);
    memset(r, 0, sizeof *r);
    return RMQ_ERR;
}

static int rule_compile(addr_rule *r, const char *text, char *err, size_t errlen)
{
    if (!text || !*text || strspn(text, " \t") == strlen(text)) return RMQ_OK;  /* blank: matches nobody */
    if (!strcmp(text, "*") || !strcmp(text, "*.*.*.*") || !strcmp(text, "*:*:*:*:*:*:*:*")) {
        r->kind = RULE_ANY;
        return RMQ_OK;
    }
    size_t len = strlen(text);
    if (text[len - 1] == '}') {  /* 192.168.1.{1,2} */
        const char *brace = strrchr(text, '{');
        char sep = strchr(text, ':') ? ':' : '.';
        if (!brace || brace == text || brace[-1] != sep || memchr(brace, sep, len - (size_t)(brace - text))) {
            snprintf(err, errlen, "MultipleRemoteAddressStrategy netaddress examine scope Exception netaddress %s",
                     text);
            return RMQ_ERR;
        }
        char *prefix = xstrndup(text, (size_t)(brace - text));
        int rc = rule_add_list(r, prefix, brace + 1, len - (size_t)(brace - text) - 2, err, errlen);
        free(prefix);
        return rc;
    }
    if (strchr(text, ',')) return rule_add_list(r, "", text, len, err, errlen);
    if (strchr(text, '*') || strchr(text, '-')) return rule_range(r, text, err, errlen);
    r->kind = RULE_LIST;
    return rule_add_addr(r, text, err, errlen);
}

static bool rule_match(const addr_rule *r, const ip_addr *ip)
{
    switch (r->kind) {
    case RULE_BLANK: return false;
    case RULE_ANY: return true;
    case RULE_LIST:
        for (int i = 0; i < r->n_addrs; i++)
            if (ip_equal(&r->addrs[i], ip)) return true;
        return false;
    case RULE_RANGE:
        return ip->family == AF_INET && memcmp(ip->b, r->head, (size_t)r->index) == 0 &&
               ip->b[r->index] >= r->start && ip->b[r->index] <= r->end;
    }
    return false;
}

void acl_rule_free(addr_rule *r) { free(r->addrs); }

/* ======================================================================
 * The check
 * ====================================================================== */

/* RequestCode values the check looks at. */
enum {
    RC_SEND_MESSAGE = 10,
    RC_PULL_MESSAGE = 11,
    RC_QUERY_MESSAGE = 12,
    RC_UPDATE_CONSUMER_OFFSET = 15,
    RC_UPDATE_AND_CREATE_TOPIC = 17,
    RC_UPDATE_BROKER_CONFIG = 25,
    RC_HEART_BEAT = 34,
    RC_UNREGISTER_CLIENT = 35,
    RC_CONSUMER_SEND_MSG_BACK = 36,
    RC_GET_CONSUMER_LIST_BY_GROUP = 38,
    RC_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200,
    RC_DELETE_SUBSCRIPTIONGROUP = 207,
    RC_DELETE_TOPIC_IN_BROKER = 215,
    RC_SEND_MESSAGE_V2 = 310,
};

/* Permission.ADMIN_CODE */
static bool needs_admin(int32_t code)
{
    return code == RC_UPDATE_AND_CREATE_TOPIC || code == RC_UPDATE_BROKER_CONFIG ||
           code == RC_DELETE_TOPIC_IN_BROKER || code == RC_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP ||
           code == RC_DELETE_SUBSCRIPTIONGROUP;
}

typedef struct needed {
    acl_resource *list;
    int n;
} needed;

static void need(needed *nd, const char *resource, uint8_t perm)
{
    if (resource) acl_add_resource(&nd->list, &nd->n, resource, perm);
}

static void need_group(needed *nd, const char *group, uint8_t perm)
{
    if (!group) return;
    char *retry = str_printf("%s%s", RETRY_PREFIX, group);
    need(nd, retry, perm);
    free(retry);
}

static bool is_retry_topic(const char *topic) { return topic && !strncmp(topic, RETRY_PREFIX, strlen(RETRY_PREFIX)); }

/* Header fields Apache decodes (required ones refuse the request when absent). */
typedef struct group_topic_hdr {
    const char *group;
    const char *topic;
    const char *client_id;
    int32_t queue_id;
    int64_t commit_offset;
} group_topic_hdr;

#define GT(name, type, req, member) {name, type, req, offsetof(group_topic_hdr, member)}
static const hdr_field unregister_hdr[] = {
    GT("clientID", HDR_STR, true, client_id),
    GT("consumerGroup", HDR_STR, false, group),
};
static const hdr_field consumer_list_hdr[] = {GT("consumerGroup", HDR_STR, true, group)};
static const hdr_field update_offset_hdr[] = {
    GT("consumerGroup", HDR_STR, true, group),
    GT("topic", HDR_STR, true, topic),
    GT("queueId", HDR_I32, true, queue_id),
    GT("commitOffset", HDR_I64, true, commit_offset),
};
#undef GT

/* HEART_BEAT: each consumer's group (SUB) and subscribed topics (SUB). */
static int heartbeat_needs(const rmq_cmd *req, needed *nd, char *err, size_t errlen)
{
    const char *why = "empty body";
    cJSON *body = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &why) : NULL;
    if (!body) {
        snprintf(err, errlen, "decode HeartbeatData failed: %s", why);
        return RMQ_ERR;
    }
    const cJSON *consumers = cJSON_GetObjectItemCaseSensitive(body, "consumerDataSet"), *cd;
    if (!cJSON_IsArray(consumers)) consumers = NULL;
    cJSON_ArrayForEach(cd, consumers)
    {
        const char *group = NULL;
        if (fjson_field_string(cd, "groupName", &group) == FJSON_OK) need_group(nd, group, PERM_SUB);
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(cd, "subscriptionDataSet"), *sd;
        if (!cJSON_IsArray(subs)) subs = NULL;
        cJSON_ArrayForEach(sd, subs)
        {
            const char *topic = NULL;
            if (fjson_field_string(sd, "topic", &topic) == FJSON_OK) need(nd, topic, PERM_SUB);
        }
    }
    cJSON_Delete(body);
    return RMQ_OK;
}

/* decodeCommandCustomHeader; Apache wraps its failure as AclException(e.getMessage()), the text without the class. */
static int decode_header(const rmq_cmd *req, const hdr_field *fields, size_t n, group_topic_hdr *h, char *err,
                         size_t errlen)
{
    if (cmd_decode_header(req, fields, n, h, err, errlen) == RMQ_OK) return RMQ_OK;
    const char *msg = strstr(err, "Exception: ");
    if (msg) memmove(err, msg + 11, strlen(msg + 11) + 1);
    return RMQ_ERR;
}

/* PlainAccessValidator.parse: the resources a request names, with the permission each needs. */
static int needed_resources(const rmq_cmd *req, needed *nd, char *err, size_t errlen)
{
    group_topic_hdr h = {0};
#define DECODE(fields) decode_header(req, fields, sizeof fields / sizeof fields[0], &h, err, errlen)
    switch (req->code) {
    case RC_SEND_MESSAGE:
    case RC_SEND_MESSAGE_V2: {
        bool v2 = req->code == RC_SEND_MESSAGE_V2;
        const char *topic = cmd_ext_get(req, v2 ? "b" : "topic");
        /* Apache reads "group" for SEND_MESSAGE, a key the header does not have
         * (it is producerGroup), so sends to a retry topic through V1 check nothing. */
        if (is_retry_topic(topic)) need_group(nd, cmd_ext_get(req, v2 ? "a" : "group"), PERM_SUB);
        else need(nd, topic, PERM_PUB);
        return RMQ_OK;
    }
    case RC_CONSUMER_SEND_MSG_BACK: need_group(nd, cmd_ext_get(req, "group"), PERM_SUB); return RMQ_OK;
    case RC_PULL_MESSAGE:
        need(nd, cmd_ext_get(req, "topic"), PERM_SUB);
        need_group(nd, cmd_ext_get(req, "consumerGroup"), PERM_SUB);
        return RMQ_OK;
    case RC_QUERY_MESSAGE: need(nd, cmd_ext_get(req, "topic"), PERM_SUB); return RMQ_OK;
    case RC_HEART_BEAT: return heartbeat_needs(req, nd, err, errlen);
    case RC_UNREGISTER_CLIENT:
        if (DECODE(unregister_hdr)) return RMQ_ERR;
        need_group(nd, h.group, PERM_SUB);
        return RMQ_OK;
    case RC_GET_CONSUMER_LIST_BY_GROUP:
        if (DECODE(consumer_list_hdr)) return RMQ_ERR;
        need_group(nd, h.group, PERM_SUB);
        return RMQ_OK;
    case RC_UPDATE_CONSUMER_OFFSET:
        if (DECODE(update_offset_hdr)) return RMQ_ERR;
        need_group(nd, h.group, PERM_SUB);
        need(nd, h.topic, PERM_SUB);
        return RMQ_OK;
    default: return RMQ_OK;
    }
#undef DECODE
}

/* Permission.checkPermission */
static bool perm_allows(uint8_t needed_perm, uint8_t owned)
{
    if (owned & PERM_DENY) return false;
    if (needed_perm & PERM_ANY) return (owned & (PERM_PUB | PERM_SUB)) != 0;
    return (needed_perm & owned) != 0;
}

/*
 * Where Apache 4.9.7's rocketmq-acl throws each AclException: the broker's answer ends with
 * the first stack frame (RemotingHelper.exceptionSimpleDesc), so the remark names it.
 */
#define ACL_FRAME(method, line) "org.apache.rocketmq.acl.plain.PlainPermissionManager." method \
                                "(PlainPermissionManager.java:" #line ")"

static void set_frame(const char **frame, const char *f)
{
    if (frame) *frame = f;
}

/* The order Java's HashMap (PlainAccessResource.resourcePermMap) iterates the needed
 * resources in: by bucket of the spread String hash, insertion order within one; the
 * table doubles from 16 past 3/4 full. The first refused one names the refusal. */
static void hashmap_order(const needed *nd, int *order)
{
    uint32_t cap = 16;
    while ((uint32_t)nd->n > cap / 4 * 3) cap *= 2;
    uint32_t *bucket = xmalloc((size_t)(nd->n ? nd->n : 1) * sizeof *bucket);
    for (int i = 0; i < nd->n; i++) {
        uint32_t h = (uint32_t)java_string_hash(nd->list[i].name, strlen(nd->list[i].name));
        bucket[i] = (h ^ (h >> 16)) & (cap - 1);
        order[i] = i;
    }
    for (int i = 1; i < nd->n; i++)  /* insertion sort: stable, and n is a handful */
        for (int j = i; j > 0 && bucket[order[j - 1]] > bucket[order[j]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    free(bucket);
}

/* PlainPermissionManager.checkPerm */
static int check_perms(const acl_account *ac, int32_t code, const needed *nd, char *err, size_t errlen,
                       const char **frame)
{
    if (needs_admin(code) && !ac->admin) {
        snprintf(err, errlen, "Need admin permission for request code=%d, but accessKey=%s is not", code,
                 ac->access_key);
        set_frame(frame, ACL_FRAME("checkPerm", 580));
        return RMQ_ERR;
    }
    if (!ac->n_perms && ac->admin) return RMQ_OK;
    int *order = xmalloc((size_t)(nd->n ? nd->n : 1) * sizeof *order);
    hashmap_order(nd, order);
    int rc = RMQ_OK;
    for (int k = 0; k < nd->n && rc == RMQ_OK; k++) {
        int i = order[k];
        const char *res = nd->list[i].name;
        bool group = is_retry_topic(res), listed = false;
        uint8_t owned = group ? ac->default_group_perm : ac->default_topic_perm;
        for (int j = 0; j < ac->n_perms; j++)
            if (!strcmp(ac->perms[j].name, res)) owned = ac->perms[j].perm, listed = true;
        if (!perm_allows(nd->list[i].perm, owned)) {
            snprintf(err, errlen, "No default permission for %s:%s", group ? "group" : "topic",
                     group ? res + strlen(RETRY_PREFIX) : res);
            /* The same words from two places: the account's default, or its own entry. */
            set_frame(frame, listed ? ACL_FRAME("checkPerm", 610) : ACL_FRAME("checkPerm", 605));
            rc = RMQ_ERR;
        }
    }
    free(order);
    return rc;
}

static const acl_account *find_account(const acl *a, const char *access_key)
{
    for (int i = 0; i < a->n_accounts; i++)
        if (!strcmp(a->accounts[i].access_key, access_key)) return &a->accounts[i];
    return NULL;
}

/* The client's IP from "ip:port" (RemotingHelper.parseChannelRemoteAddr, port cut). */
static bool remote_ip(const char *remote, ip_addr *out)
{
    const char *colon = remote ? strrchr(remote, ':') : NULL;
    if (!colon) return remote && ip_parse(remote, out);
    char host[64];
    size_t n = (size_t)(colon - remote);
    if (n && remote[0] == '[' && remote[n - 1] == ']') remote++, n -= 2;
    if (n >= sizeof host) return false;
    memcpy(host, remote, n);
    host[n] = 0;
    return ip_parse(host, out);
}

/* How PlainPermissionManager.validate checks the signature with the account's secret key. */
typedef bool (*signed_fn)(const char *secret, const void *arg);

/* PlainPermissionManager.validate, once the resources are known (CODE: the request's, for
 * the admin check; -1 for none). */
static int validate(const acl *a, const char *access_key, const char *remote, signed_fn signed_ok, const void *arg,
                    int32_t code, const needed *nd, char *err, size_t errlen, const char **frame)
{
    const acl_account *ac;
    ip_addr ip;
    bool have_ip = remote_ip(remote, &ip);
    for (int i = 0; have_ip && i < a->n_global_white; i++)
        if (rule_match(&a->global_white[i], &ip)) return RMQ_OK;
    if (!access_key) {
        snprintf(err, errlen, "No accessKey is configured");
        set_frame(frame, ACL_FRAME("validate", 663));
        return RMQ_ERR;
    }
    if (!(ac = find_account(a, access_key))) {
        snprintf(err, errlen, "No acl config for %s", access_key);
        set_frame(frame, ACL_FRAME("validate", 667));
        return RMQ_ERR;
    }
    if (have_ip && rule_match(&ac->white, &ip)) return RMQ_OK;
    if (!signed_ok(ac->secret_key, arg)) {
        snprintf(err, errlen, "Check signature failed for accessKey=%s", access_key);
        set_frame(frame, ACL_FRAME("validate", 683));
        return RMQ_ERR;
    }
    /* Message traces may always be sent. */
    for (int i = 0; i < nd->n; i++)
        if (!strcmp(nd->list[i].name, TRACE_TOPIC) && nd->list[i].perm == PERM_PUB) return RMQ_OK;
    return check_perms(ac, code, nd, err, errlen, frame);
}

static bool request_signed(const char *secret, const void *arg)
{
    const rmq_cmd *req = arg;
    const char *signature = cmd_ext_get(req, "Signature");
    return signature && (acl_signature_matches(req, secret, signature, false) ||
                         (req->code == RC_QUERY_MESSAGE && cmd_ext_get(req, "_UNIQUE_KEY_QUERY") &&
                          acl_signature_matches(req, secret, signature, true)));
}

static void needed_free(needed *nd)
{
    for (int i = 0; i < nd->n; i++) free(nd->list[i].name);
    free(nd->list);
}

/* PlainPermissionManager.validate over PlainAccessValidator.parse; *frame: where Apache threw. */
static int check_request(const acl *a, const rmq_cmd *req, const char *remote, char *err, size_t errlen,
                         const char **frame)
{
    needed nd = {0};
    int rc = RMQ_ERR;
    /* parse() runs before validate(): a malformed header is refused even from a white-listed address. */
    if (!req->n_ext || !needed_resources(req, &nd, err, errlen))
        rc = validate(a, cmd_ext_get(req, "AccessKey"), remote, request_signed, req, req->code, &nd, err, errlen,
                      frame);
    needed_free(&nd);
    return rc;
}

int acl_check(const acl *a, const rmq_cmd *req, const char *remote, char *err, size_t errlen)
{
    return check_request(a, req, remote, err, errlen, NULL);
}

int acl_check_signed(const acl *a, const char *access_key, const char *signature, const void *content, size_t len,
                     const char *remote, const acl_need *needs, int n, char *err, size_t errlen)
{
    needed nd = {0};
    for (int i = 0; i < n; i++) {
        if (needs[i].group) need_group(&nd, needs[i].name, needs[i].perm);
        else need(&nd, needs[i].name, needs[i].perm);
    }
    acl_signed_content sc = {signature, content, len};
    int rc = validate(a, access_key, remote, acl_content_signed, &sc, -1, &nd, err, errlen, NULL);
    needed_free(&nd);
    return rc;
}

rmq_cmd *acl_server_hook(rmq_conn *conn, rmq_cmd *req, void *arg)
{
    char why[512];
    const char *frame = NULL;
    if (check_request(arg, req, rmq_conn_remote(conn), why, sizeof why, &frame) == RMQ_OK) return NULL;
    log_warn("acl", "%s: request code %d refused: %s", rmq_conn_remote(conn), req->code, why);
    /* NettyRemotingAbstract answers the hook's exception as SYSTEM_ERROR with
     * exceptionSimpleDesc: "class: message, first stack frame". */
    return cmd_new_responsef(req, 1 /* SYSTEM_ERROR */, "org.apache.rocketmq.acl.common.AclException: %s%s%s", why,
                             frame ? ", " : "", frame ? frame : "");
}
