/*
 * ACL 2.0 users and ACLs: the model's text forms (Resource.of, Subject.of,
 * UserInfo, AclInfo), the management calls with the checks and messages of
 * Apache's AuthenticationMetadataManagerImpl / AuthorizationMetadataManagerImpl,
 * and config/auth.json, rewritten whole (atomically) after every change.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "acl2_int.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"

static const char *const res_type_names[] = {"Unknown", "Any", "Cluster", "Namespace", "Topic", "Group"};
static const char *const action_names[] = {"Unknown", "All", "Any", "Pub", "Sub", "Create", "Update", "Delete", "Get",
                                           "List"};
#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

/* Enum.getByName: case-insensitive; 0 when absent or unknown (1-based enums). */
static int by_name(const char *const *names, int n, const char *name, int first)
{
    for (int i = first; name && i < n; i++)
        if (!strcasecmp(names[i], name)) return i;
    return -1;
}

static bool blank(const char *s) { return !s || strspn(s, " \t\r\n") == strlen(s); }

/* ======================================================================
 * Text forms
 * ====================================================================== */

bool auth_resource_parse(const char *key, auth_resource *out)
{
    memset(out, 0, sizeof *out);
    if (blank(key)) return false;
    if (!strcmp(key, "*")) {
        out->type = RES_ANY, out->pattern = PAT_ANY;
        return true;
    }
    const char *colon = strchr(key, ':');
    char *type = colon ? xstrndup(key, (size_t)(colon - key)) : xstrdup(key);
    int t = by_name(res_type_names, N(res_type_names), type, 0);
    free(type);
    if (t < 0) return false;
    const char *name = colon ? colon + 1 : "";
    out->type = t;
    if (!strcmp(name, "*")) {
        out->pattern = PAT_ANY;
    } else if (*name && name[strlen(name) - 1] == '*') {
        out->pattern = PAT_PREFIXED;
        out->name = xstrndup(name, strcspn(name, "*"));
    } else {
        out->pattern = PAT_LITERAL;
        out->name = xstrdup(name);
    }
    return true;
}

char *auth_resource_key(const auth_resource *r)
{
    if (r->type == RES_ANY) return xstrdup("*");
    const char *type = res_type_names[r->type];
    const char *name = r->name ? r->name : "null";
    switch (r->pattern) {
    case PAT_ANY: return str_printf("%s:*", type);
    case PAT_PREFIXED: return str_printf("%s:%s*", type, name);
    default: return str_printf("%s:%s", type, name);
    }
}

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static bool resource_equal(const auth_resource *a, const auth_resource *b)
{
    return a->type == b->type && a->pattern == b->pattern && str_eq(a->name, b->name);
}

char *auth_subject_user(const char *key)
{
    if (!key) return NULL;
    const char *colon = strchr(key, ':');
    size_t tl = colon ? (size_t)(colon - key) : strlen(key);
    if (tl != 4 || strncasecmp(key, "User", 4)) return NULL;
    return xstrdup(colon ? colon + 1 : "");
}

static void entry_free(auth_entry *e)
{
    free(e->res.name);
    free(e->actions);
    for (int i = 0; i < e->n_ips; i++) free(e->ips[i]);
    free(e->ips);
}

void auth_acl_free(auth_acl *acl)
{
    if (!acl) return;
    for (int i = 0; i < acl->n; i++) {
        for (int j = 0; j < acl->policies[i].n; j++) entry_free(&acl->policies[i].entries[j]);
        free(acl->policies[i].entries);
    }
    free(acl->policies);
    free(acl->subject);
    free(acl);
}

static void entry_copy(auth_entry *dst, const auth_entry *src)
{
    *dst = *src;
    dst->res.name = src->res.name ? xstrdup(src->res.name) : NULL;
    dst->actions = xmalloc((size_t)(src->n_actions ? src->n_actions : 1));
    memcpy(dst->actions, src->actions, (size_t)src->n_actions);
    dst->ips = xmalloc((size_t)(src->n_ips ? src->n_ips : 1) * sizeof *dst->ips);
    for (int i = 0; i < src->n_ips; i++) dst->ips[i] = xstrdup(src->ips[i]);
}

/* ======================================================================
 * JSON (UserInfo, AclInfo)
 * ====================================================================== */

static const char *json_str(const cJSON *o, const char *name)
{
    const char *s = NULL;
    return fjson_field_string(o, name, &s) == FJSON_OK ? s : NULL;
}

void auth_user_from_json(const cJSON *o, auth_user *u)
{
    static const char *const types[] = {"", "Super", "Normal"}, *const statuses[] = {"", "enable", "disable"};
    const char *name = json_str(o, "username"), *pw = json_str(o, "password");
    u->username = name ? xstrdup(name) : NULL;
    u->password = pw ? xstrdup(pw) : NULL;
    int t = by_name(types, 3, json_str(o, "userType"), 1), s = by_name(statuses, 3, json_str(o, "userStatus"), 1);
    u->type = t < 0 ? 0 : t;
    u->status = s < 0 ? 0 : s;
}

cJSON *auth_user_to_json(const auth_user *u)
{
    cJSON *o = cJSON_CreateObject();
    if (u->password) cJSON_AddStringToObject(o, "password", u->password);
    if (u->status) cJSON_AddStringToObject(o, "userStatus", u->status == AUTH_ENABLE ? "enable" : "disable");
    if (u->type) cJSON_AddStringToObject(o, "userType", u->type == AUTH_SUPER ? "Super" : "Normal");
    if (u->username) cJSON_AddStringToObject(o, "username", u->username);
    return o;
}

/* PolicyEntryInfo -> PolicyEntry; false when "actions" is missing. */
static bool entry_from_json(const cJSON *o, auth_entry *e)
{
    static const char *const decisions[] = {"", "Allow", "Deny"};
    memset(e, 0, sizeof *e);
    const cJSON *acts = cJSON_GetObjectItemCaseSensitive(o, "actions"), *it;
    if (!cJSON_IsArray(acts)) return false;
    auth_resource_parse(json_str(o, "resource"), &e->res);
    e->actions = xmalloc((size_t)cJSON_GetArraySize(acts) + 1);
    cJSON_ArrayForEach(it, acts)
    {
        int a = cJSON_IsString(it) ? by_name(action_names, N(action_names), it->valuestring, 0) : -1;
        if (a >= 0) e->actions[e->n_actions++] = (uint8_t)a;
    }
    const cJSON *ips = cJSON_GetObjectItemCaseSensitive(o, "sourceIps");
    e->ips = xmalloc((size_t)(cJSON_IsArray(ips) ? cJSON_GetArraySize(ips) : 0) * sizeof *e->ips + 1);
    if (cJSON_IsArray(ips))
        cJSON_ArrayForEach(it, ips) e->ips[e->n_ips++] = xstrdup(cJSON_IsString(it) ? it->valuestring : "");
    int d = by_name(decisions, 3, json_str(o, "decision"), 1);
    e->decision = d < 0 ? 0 : d;
    return true;
}

auth_acl *auth_acl_from_json(const cJSON *o)
{
    static const char *const ptypes[] = {"", "Custom", "Default"};
    auth_acl *acl = xcalloc(1, sizeof *acl);
    char *user = auth_subject_user(json_str(o, "subject"));
    if (user) acl->subject = str_printf("User:%s", user);
    free(user);
    const cJSON *pols = cJSON_GetObjectItemCaseSensitive(o, "policies"), *p;
    acl->policies = xcalloc((size_t)(cJSON_IsArray(pols) ? cJSON_GetArraySize(pols) : 0) + 1, sizeof *acl->policies);
    if (cJSON_IsArray(pols))
        cJSON_ArrayForEach(p, pols)
        {
            const cJSON *ents = cJSON_GetObjectItemCaseSensitive(p, "entries"), *e;
            if (!cJSON_IsArray(ents) || !cJSON_GetArraySize(ents)) continue;  /* Apache skips such a policy */
            auth_policy *pol = &acl->policies[acl->n++];
            int t = by_name(ptypes, 3, json_str(p, "policyType"), 1);
            pol->type = t < 0 ? 0 : t;
            pol->entries = xcalloc((size_t)cJSON_GetArraySize(ents), sizeof *pol->entries);
            cJSON_ArrayForEach(e, ents)
            {
                if (!entry_from_json(e, &pol->entries[pol->n])) {
                    entry_free(&pol->entries[pol->n]);
                    auth_acl_free(acl);
                    return NULL;
                }
                pol->n++;
            }
        }
    return acl;
}

cJSON *auth_acl_to_json(const auth_acl *acl)
{
    cJSON *o = cJSON_CreateObject(), *pols = cJSON_AddArrayToObject(o, "policies");
    for (int i = 0; i < acl->n; i++) {
        const auth_policy *p = &acl->policies[i];
        cJSON *po = cJSON_CreateObject(), *ents = cJSON_AddArrayToObject(po, "entries");
        for (int j = 0; j < p->n; j++) {
            const auth_entry *e = &p->entries[j];
            cJSON *eo = cJSON_CreateObject();
            if (e->n_actions) {
                cJSON *acts = cJSON_AddArrayToObject(eo, "actions");
                for (int k = 0; k < e->n_actions; k++)
                    cJSON_AddItemToArray(acts, cJSON_CreateString(action_names[e->actions[k]]));
            }
            if (e->decision) cJSON_AddStringToObject(eo, "decision", e->decision == DECISION_ALLOW ? "Allow" : "Deny");
            char *key = auth_resource_key(&e->res);
            cJSON_AddStringToObject(eo, "resource", key);
            free(key);
            if (e->n_ips) {
                cJSON *ips = cJSON_AddArrayToObject(eo, "sourceIps");
                for (int k = 0; k < e->n_ips; k++) cJSON_AddItemToArray(ips, cJSON_CreateString(e->ips[k]));
            }
            cJSON_AddItemToArray(ents, eo);
        }
        if (p->type) cJSON_AddStringToObject(po, "policyType", p->type == POLICY_CUSTOM ? "Custom" : "Default");
        cJSON_AddItemToArray(pols, po);
    }
    cJSON_AddStringToObject(o, "subject", acl->subject);
    return o;
}

/* ======================================================================
 * Source addresses (IPAddressUtils)
 * ====================================================================== */

/* An address into 16 bytes, IPv4 right-aligned (BigInteger of the address bytes); *bits = 32 or 128. */
static bool addr_value(const char *s, uint8_t v[16], int *bits)
{
    memset(v, 0, 16);
    if (inet_pton(AF_INET, s, v + 12) == 1) {
        *bits = 32;
        return true;
    }
    *bits = 128;
    return inet_pton(AF_INET6, s, v) == 1;
}

/* "addr/prefix" with prefix within the address's width. */
static bool cidr_parse(const char *cidr, uint8_t net[16], int *bits, int *prefix)
{
    const char *slash = strchr(cidr, '/');
    if (!slash || strchr(slash + 1, '/') || slash == cidr) return false;
    char *addr = xstrndup(cidr, (size_t)(slash - cidr));
    bool ok = addr_value(addr, net, bits);
    free(addr);
    int32_t p;
    if (!ok || parse_int32(slash + 1, &p) || p < 0 || p > *bits) return false;
    *prefix = p;
    return true;
}

bool auth_ip_valid(const char *s)
{
    uint8_t v[16];
    int bits, prefix;
    return addr_value(s, v, &bits) || cidr_parse(s, v, &bits, &prefix);
}

bool auth_ip_in_range(const char *ip, const char *cidr)
{
    if (!strchr(cidr, '/')) return !strcmp(ip, cidr);
    uint8_t net[16], v[16];
    int bits, prefix, ip_bits;
    if (!cidr_parse(cidr, net, &bits, &prefix) || !addr_value(ip, v, &ip_bits)) return false;
    /* Within [net & mask, (net & mask) | ~mask] where the mask covers the CIDR's width. */
    int host_bits = bits - prefix;
    for (int i = 0; i < 16; i++) {
        int bit_from_right = (15 - i) * 8;  /* bits of this byte: [bit_from_right, +8) */
        uint8_t host_mask = 0;
        for (int b = 0; b < 8; b++)
            if (bit_from_right + b < host_bits) host_mask |= (uint8_t)(1u << b);
        if ((v[i] & (uint8_t)~host_mask) != (net[i] & (uint8_t)~host_mask)) return false;
    }
    return true;
}

/* ======================================================================
 * The store
 * ====================================================================== */

static int user_index(const auth *a, const char *name, bool *found)
{
    int lo = 0, hi = a->n_users;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = strcmp(a->users[mid].username, name);
        if (!c) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

static int acl_index(const auth *a, const char *subject, bool *found)
{
    int lo = 0, hi = a->n_acls;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = strcmp(a->acls[mid]->subject, subject);
        if (!c) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

const auth_user *auth_user_get(const auth *a, const char *username)
{
    bool found;
    if (!username) return NULL;
    int i = user_index(a, username, &found);
    return found ? &a->users[i] : NULL;
}

bool auth_is_super(const auth *a, const char *username)
{
    const auth_user *u = auth_user_get(a, username);
    return u && u->type == AUTH_SUPER;
}

const auth_acl *auth_acl_of(const auth *a, const char *username)
{
    char *subject = str_printf("User:%s", username);
    bool found;
    int i = acl_index(a, subject, &found);
    free(subject);
    return found ? a->acls[i] : NULL;
}

/*
 * Writes config/auth.json, readable by the broker's user only (it holds passwords). On a
 * failure the call answers SYSTEM_ERROR and the change lives in memory until the next write.
 */
static int persist(const auth *a, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject(), *users = cJSON_AddArrayToObject(root, "users"),
          *acls = cJSON_AddArrayToObject(root, "acls");
    for (int i = 0; i < a->n_users; i++) cJSON_AddItemToArray(users, auth_user_to_json(&a->users[i]));
    for (int i = 0; i < a->n_acls; i++) cJSON_AddItemToArray(acls, auth_acl_to_json(a->acls[i]));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    /* config/ may not exist yet: the first users come before the first topics.json. */
    char *config_dir = xstrndup(a->path, strlen(a->path) - strlen("/auth.json"));
    int rc = mkdirs(config_dir) || write_file_atomic(a->path, text, strlen(text)) || chmod(a->path, 0600);
    free(config_dir);
    free(text);
    if (rc) {
        log_error("auth", "cannot write %s", a->path);
        snprintf(err, errlen, "An system error occurred, please try again later.");
        return AUTH_FAILED;
    }
    return AUTH_OK;
}

static int denied(char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg);
    return AUTH_DENIED;
}

static void user_insert(auth *a, const auth_user *u)
{
    bool found;
    int i = user_index(a, u->username, &found);
    a->users = xrealloc(a->users, (size_t)(a->n_users + 1) * sizeof *a->users);
    memmove(&a->users[i + 1], &a->users[i], (size_t)(a->n_users - i) * sizeof *a->users);
    a->users[i] = (auth_user){xstrdup(u->username), xstrdup(u->password), u->type ? u->type : AUTH_NORMAL,
                              u->status ? u->status : AUTH_ENABLE};
    a->n_users++;
}

int auth_user_create(auth *a, const auth_user *u, char *err, size_t errlen)
{
    if (blank(u->username)) return denied(err, errlen, "%s", "username can not be blank");
    if (blank(u->password)) return denied(err, errlen, "%s", "password can not be blank");
    if (auth_user_get(a, u->username)) return denied(err, errlen, "%s", "The user is existed");
    user_insert(a, u);
    return persist(a, err, errlen);
}

int auth_user_update(auth *a, const auth_user *u, char *err, size_t errlen)
{
    if (blank(u->username)) return denied(err, errlen, "%s", "username can not be blank");
    auth_user *old = (auth_user *)auth_user_get(a, u->username);
    if (!old) return denied(err, errlen, "%s", "The user is not exist");
    if (!blank(u->password)) {
        free(old->password);
        old->password = xstrdup(u->password);
    }
    if (u->type) old->type = u->type;
    if (u->status) old->status = u->status;
    return persist(a, err, errlen);
}

static void acl_remove_at(auth *a, int i)
{
    auth_acl_free(a->acls[i]);
    memmove(&a->acls[i], &a->acls[i + 1], (size_t)(a->n_acls - i - 1) * sizeof *a->acls);
    a->n_acls--;
}

int auth_user_delete(auth *a, const char *username, char *err, size_t errlen)
{
    if (blank(username)) return denied(err, errlen, "%s", "username can not be blank");
    bool found;
    int i = user_index(a, username, &found);
    if (found) {
        free(a->users[i].username);
        free(a->users[i].password);
        memmove(&a->users[i], &a->users[i + 1], (size_t)(a->n_users - i - 1) * sizeof *a->users);
        a->n_users--;
    }
    char *subject = str_printf("User:%s", username);
    int j = acl_index(a, subject, &found);
    free(subject);
    if (found) acl_remove_at(a, j);
    return persist(a, err, errlen);
}

const auth_user **auth_user_list(const auth *a, const char *filter, int *n)
{
    const auth_user **out = xmalloc((size_t)(a->n_users + 1) * sizeof *out);
    *n = 0;
    for (int i = 0; i < a->n_users; i++)
        if (blank(filter) || strstr(a->users[i].username, filter)) out[(*n)++] = &a->users[i];
    return out;
}

/* AuthorizationMetadataManagerImpl.validate(PolicyEntry) */
static int validate_entry(const auth_entry *e, char *err, size_t errlen)
{
    if (!e->res.type && !e->res.pattern) return denied(err, errlen, "%s", "The resource is null.");
    if (!e->n_actions) return denied(err, errlen, "%s", "The actions is empty.");
    for (int i = 0; i < e->n_actions; i++)
        if (e->actions[i] == ACT_ANY) return denied(err, errlen, "%s", "The actions can not be Any.");
    for (int i = 0; i < e->n_ips; i++) {
        if (blank(e->ips[i])) return denied(err, errlen, "%s", "The source ip is empty.");
        if (!auth_ip_valid(e->ips[i])) return denied(err, errlen, "%s", "The source ip is invalid.");
    }
    if (!e->decision) return denied(err, errlen, "%s", "The decision is null or illegal.");
    return AUTH_OK;
}

/* Policy.updateEntry: an entry of the same resource is replaced in place, others appended. */
static void policy_merge(auth_policy *old, const auth_policy *p)
{
    for (int i = 0; i < p->n; i++) {
        auth_entry *same = NULL;
        for (int j = 0; j < old->n && !same; j++)
            if (resource_equal(&old->entries[j].res, &p->entries[i].res)) same = &old->entries[j];
        if (!same) {
            old->entries = xrealloc(old->entries, (size_t)(old->n + 1) * sizeof *old->entries);
            same = &old->entries[old->n++];
        } else {
            entry_free(same);
        }
        entry_copy(same, &p->entries[i]);
    }
}

int auth_acl_put(auth *a, auth_acl *acl, char *err, size_t errlen)
{
    int rc = AUTH_DENIED;
    if (!acl->subject) {
        /* Subject.of gave null: Apache's validate() meets a NullPointerException. */
        snprintf(err, errlen, "An system error occurred, please try again later.");
        rc = AUTH_FAILED;
        goto out;
    }
    if (!acl->n) {
        snprintf(err, errlen, "The policies is empty.");
        goto out;
    }
    for (int i = 0; i < acl->n; i++)
        for (int j = 0; j < acl->policies[i].n; j++)
            if (validate_entry(&acl->policies[i].entries[j], err, errlen)) goto out;
    for (int i = 0; i < acl->n; i++)
        if (!acl->policies[i].type) acl->policies[i].type = POLICY_CUSTOM;
    if (!auth_user_get(a, acl->subject + 5)) {
        snprintf(err, errlen, "The subject of %s is not exist.", acl->subject);
        goto out;
    }
    bool found;
    int i = acl_index(a, acl->subject, &found);
    if (!found) {
        a->acls = xrealloc(a->acls, (size_t)(a->n_acls + 1) * sizeof *a->acls);
        memmove(&a->acls[i + 1], &a->acls[i], (size_t)(a->n_acls - i) * sizeof *a->acls);
        a->acls[i] = acl;
        a->n_acls++;
        return persist(a, err, errlen);
    }
    /* Acl.updatePolicy: merged into the policy of the same type, or added. */
    auth_acl *old = a->acls[i];
    for (int p = 0; p < acl->n; p++) {
        auth_policy *same = NULL;
        for (int q = 0; q < old->n && !same; q++)
            if (old->policies[q].type == acl->policies[p].type) same = &old->policies[q];
        if (!same) {
            old->policies = xrealloc(old->policies, (size_t)(old->n + 1) * sizeof *old->policies);
            same = &old->policies[old->n++];
            *same = (auth_policy){acl->policies[p].type, NULL, 0};
        }
        policy_merge(same, &acl->policies[p]);
    }
    rc = persist(a, err, errlen);
out:
    auth_acl_free(acl);
    return rc;
}

int auth_acl_delete(auth *a, const char *username, int policy_type, const auth_resource *res, char *err,
                    size_t errlen)
{
    if (!auth_user_get(a, username)) return denied(err, errlen, "%s", "The subject is not exist.");
    char *subject = str_printf("User:%s", username);
    bool found;
    int i = acl_index(a, subject, &found);
    free(subject);
    if (!found) return denied(err, errlen, "%s", "The acl is not exist.");
    auth_acl *acl = a->acls[i];
    if (res) {
        /* Acl.deletePolicy: the entry goes, and the policy with its last entry. */
        for (int p = 0; p < acl->n; p++) {
            auth_policy *pol = &acl->policies[p];
            if (pol->type != (policy_type ? policy_type : POLICY_CUSTOM)) continue;
            for (int e = 0; e < pol->n; e++)
                if (resource_equal(&pol->entries[e].res, res)) {
                    entry_free(&pol->entries[e]);
                    memmove(&pol->entries[e], &pol->entries[e + 1], (size_t)(pol->n - e - 1) * sizeof *pol->entries);
                    pol->n--;
                    break;
                }
            if (!pol->n) {
                free(pol->entries);
                memmove(pol, pol + 1, (size_t)(acl->n - p - 1) * sizeof *pol);
                acl->n--;
            }
            break;
        }
    }
    if (!res || !acl->n) acl_remove_at(a, i);
    return persist(a, err, errlen);
}

int auth_acl_get(const auth *a, const char *username, const auth_acl **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!auth_user_get(a, username)) return denied(err, errlen, "%s", "The subject is not exist.");
    *out = auth_acl_of(a, username);
    return AUTH_OK;
}

auth_acl **auth_acl_list(const auth *a, const char *subject_filter, const char *resource_filter, int *n)
{
    auth_acl **out = xmalloc((size_t)(a->n_acls + 1) * sizeof *out);
    *n = 0;
    for (int i = 0; i < a->n_acls; i++) {
        const auth_acl *acl = a->acls[i];
        if (!blank(subject_filter) && !strstr(acl->subject, subject_filter)) continue;
        /* A resource filter the subject key itself contains keeps every entry (as Apache). */
        bool by_resource = !blank(resource_filter) && !strstr(acl->subject, resource_filter);
        auth_acl *copy = xcalloc(1, sizeof *copy);
        copy->subject = xstrdup(acl->subject);
        copy->policies = xcalloc((size_t)acl->n + 1, sizeof *copy->policies);
        for (int p = 0; p < acl->n; p++) {
            const auth_policy *pol = &acl->policies[p];
            auth_policy *cp = &copy->policies[copy->n];
            cp->type = pol->type;
            cp->entries = xcalloc((size_t)pol->n + 1, sizeof *cp->entries);
            for (int e = 0; e < pol->n; e++) {
                char *key = auth_resource_key(&pol->entries[e].res);
                bool keep = !by_resource || strstr(key, resource_filter);
                free(key);
                if (keep) entry_copy(&cp->entries[cp->n++], &pol->entries[e]);
            }
            if (cp->n) copy->n++;
            else free(cp->entries);
        }
        if (copy->n) out[(*n)++] = copy;
        else auth_acl_free(copy);
    }
    return out;
}

/* ======================================================================
 * Opening: config/auth.json and the start-up users
 * ====================================================================== */

static char **split_codes(const char *list, int *n)
{
    char **out = NULL;
    *n = 0;
    for (const char *c = list; c && *c;) {
        size_t len = strcspn(c, ",");
        char *one = xstrndup(c, len);
        char *s = one + strspn(one, " \t"), *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (*s) {
            out = xrealloc(out, (size_t)(*n + 1) * sizeof *out);
            out[(*n)++] = xstrdup(s);
        }
        free(one);
        c += len + (c[len] ? 1 : 0);
    }
    return out;
}

static int load_file(auth *a, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(a->path, &len);
    if (!text) return RMQ_OK;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "%s is not a JSON object", a->path);
        return RMQ_ERR;
    }
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(root, "users"), *it;
    cJSON_ArrayForEach(it, users)
    {
        auth_user u;
        auth_user_from_json(it, &u);
        if (u.username && u.password && !auth_user_get(a, u.username)) user_insert(a, &u);
        free(u.username);
        free(u.password);
    }
    const cJSON *acls = cJSON_GetObjectItemCaseSensitive(root, "acls");
    cJSON_ArrayForEach(it, acls)
    {
        auth_acl *acl = auth_acl_from_json(it);
        bool found = false;
        int i = acl && acl->subject ? acl_index(a, acl->subject, &found) : 0;
        if (!acl || !acl->subject || found) {
            auth_acl_free(acl);
            continue;
        }
        a->acls = xrealloc(a->acls, (size_t)(a->n_acls + 1) * sizeof *a->acls);
        memmove(&a->acls[i + 1], &a->acls[i], (size_t)(a->n_acls - i) * sizeof *a->acls);
        a->acls[i] = acl;
        a->n_acls++;
    }
    cJSON_Delete(root);
    return RMQ_OK;
}

/* initUser: a super user from JSON (KEY_USER/KEY_PW name its fields) unless one of that name exists. */
static int init_user(auth *a, const char *json, const char *key_user, const char *key_pw, const char *what,
                     char *err, size_t errlen)
{
    if (blank(json)) return RMQ_OK;
    const char *why = NULL;
    cJSON *o = fjson_parse(json, strlen(json), &why);
    const char *name = o ? json_str(o, key_user) : NULL, *pw = o ? json_str(o, key_pw) : NULL;
    int rc = RMQ_OK;
    if (!strcmp(key_user, "accessKey") && !blank(name) && !blank(pw)) {
        a->inner_ak = xstrdup(name);
        a->inner_sk = xstrdup(pw);
    }
    if (name && auth_user_get(a, name)) goto out;
    char why2[256];
    auth_user u = {(char *)name, (char *)pw, AUTH_SUPER, AUTH_ENABLE};
    if (!o || auth_user_create(a, &u, why2, sizeof why2)) {
        snprintf(err, errlen, "%s: %s", what, o ? why2 : why);
        rc = RMQ_ERR;
    }
out:
    cJSON_Delete(o);
    return rc;
}

auth *auth_open(const char *store_root, const auth_options *opt, char *err, size_t errlen)
{
    auth *a = xcalloc(1, sizeof *a);
    a->authentication_enabled = opt->authentication_enabled;
    a->authorization_enabled = opt->authorization_enabled;
    a->cluster_name = xstrdup(opt->cluster_name ? opt->cluster_name : "");
    a->authn_whitelist = split_codes(opt->authentication_whitelist, &a->n_authn_whitelist);
    a->authz_whitelist = split_codes(opt->authorization_whitelist, &a->n_authz_whitelist);
    a->path = str_printf("%s/" AUTH_FILE, store_root);
    if (load_file(a, err, errlen) ||
        init_user(a, opt->init_user, "username", "password", "Init authentication user error", err, errlen) ||
        init_user(a, opt->inner_credentials, "accessKey", "secretKey",
                  "Init inner client authentication credentials error", err, errlen)) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(auth *a)
{
    if (!a) return;
    for (int i = 0; i < a->n_users; i++) {
        free(a->users[i].username);
        free(a->users[i].password);
    }
    free(a->users);
    for (int i = 0; i < a->n_acls; i++) auth_acl_free(a->acls[i]);
    free(a->acls);
    for (int i = 0; i < a->n_authn_whitelist; i++) free(a->authn_whitelist[i]);
    for (int i = 0; i < a->n_authz_whitelist; i++) free(a->authz_whitelist[i]);
    free(a->authn_whitelist);
    free(a->authz_whitelist);
    free(a->cluster_name);
    free(a->inner_ak);
    free(a->inner_sk);
    free(a->path);
    free(a);
}

bool auth_enforcing(const auth *a) { return a->authentication_enabled || a->authorization_enabled; }
