/*
 * mqadmin_auth.c: ACL 2.0's users and ACLs (Apache 5.3's tools/command/auth):
 * createUser, updateUser, deleteUser, getUser, listUser, createAcl, updateAcl,
 * deleteAcl, getAcl, listAcl — AUTH_CREATE_USER (3001) .. AUTH_LIST_ACL (3010)
 * with UserInfo and AclInfo bodies. With authentication on, the broker takes
 * them from a super user only: mqadmin signs with $ROCKETMQ_HOME/conf/tools.yml
 * (load_credentials), as Apache's tool does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tools/mqadmin_int.h"

enum {
    AUTH_CREATE_USER = 3001, AUTH_UPDATE_USER, AUTH_DELETE_USER, AUTH_GET_USER, AUTH_LIST_USER,
    AUTH_CREATE_ACL, AUTH_UPDATE_ACL, AUTH_DELETE_ACL, AUTH_GET_ACL, AUTH_LIST_ACL,
};

#define USER_FORMAT "%-16s  %-22s  %-22s  %-22s\n"
#define ACL_FORMAT "%-16s  %-10s  %-22s  %-20s  %-24s  %-10s\n"

/* -b, or -c's brokers: every one (changes: fetchMasterAndSlaveAddrByClusterName) or the
 * masters (reads), in the order of the HashSet Apache keeps them in. */
static const char **auth_targets(bool with_slaves, cluster_info *ci, int *n)
{
    ci->json = NULL;
    if (has('b')) {
        const char **one = xcalloc(2, sizeof *one);
        one[0] = val('b');
        *n = 1;
        return one;
    }
    get_cluster_info(ci);
    const char **addrs = cluster_addrs(ci, val('c'), with_slaves, n);
    if (!*n) die("%s command failed, there is no broker in cluster.", current_command);
    int *order = xcalloc((size_t)*n + 1, sizeof *order);
    java_hash_order(addrs, *n, order);
    const char **sorted = xcalloc((size_t)*n + 1, sizeof *sorted);
    for (int i = 0; i < *n; i++) sorted[i] = addrs[order[i]];
    free(order);
    free(addrs);
    return sorted;
}

/* One change to each target, "<verb> <what> to ADDR success." after each. */
static void change_on_targets(rmq_cmd *(*build)(void), const char *done)
{
    cluster_info ci;
    int n;
    const char **addrs = auth_targets(true, &ci, &n);
    for (int i = 0; i < n; i++) {
        cmd_free(call_ok(addrs[i], build(), TIMEOUT_MS));
        printf("%s to %s success.\n", done, addrs[i]);
    }
    free(addrs);
    cJSON_Delete(ci.json);
}

static rmq_cmd *with_json_body(rmq_cmd *req, fjson_writer *w)
{
    size_t len;
    char *body = fjson_writer_finish(w, &len);
    cmd_take_body(req, body, len);
    return req;
}

/* ---- users ---- */

/* UserInfo.of(username, password, userType[, userStatus]): fastjson leaves the nulls out. */
static rmq_cmd *user_request(int code)
{
    rmq_cmd *req = adm_request(code);
    cmd_ext_set(req, "username", val('u'));
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    if (has('p')) fjson_prop_string(&w, "password", val('p'));
    if (code == AUTH_UPDATE_USER && has('s')) fjson_prop_string(&w, "userStatus", val('s'));
    if (has('t')) fjson_prop_string(&w, "userType", val('t'));
    fjson_prop_string(&w, "username", val('u'));
    fjson_end_object(&w);
    return with_json_body(req, &w);
}

static rmq_cmd *create_user_request(void) { return user_request(AUTH_CREATE_USER); }
static rmq_cmd *update_user_request(void) { return user_request(AUTH_UPDATE_USER); }

static rmq_cmd *delete_user_request(void)
{
    rmq_cmd *req = adm_request(AUTH_DELETE_USER);
    cmd_ext_set(req, "username", val('u'));
    return req;
}

void cmd_create_user(void) { change_on_targets(create_user_request, "create user"); }
void cmd_update_user(void)
{
    /* A second OptionGroup of UpdateUserSubCommand. */
    if (!has('p') && !has('t') && !has('s')) usage_error("one of the options -p, -t or -s is required");
    change_on_targets(update_user_request, "update user");
}
void cmd_delete_user(void) { change_on_targets(delete_user_request, "delete user"); }

/* A String field as Java's %s shows it: "null" when absent. */
static const char *jstr(const cJSON *o, const char *name)
{
    const char *s = NULL;
    return fjson_field_string(o, name, &s) == FJSON_OK ? s : "null";
}

static void print_user(const cJSON *u)
{
    printf(USER_FORMAT, jstr(u, "username"), jstr(u, "password"), jstr(u, "userType"), jstr(u, "userStatus"));
}

/* The answer's body, NULL when there is none (a user or ACL that does not exist). */
static cJSON *auth_read(const char *addr, rmq_cmd *req)
{
    rmq_cmd *resp = call_ok(addr, req, TIMEOUT_MS);
    cJSON *j = resp->body_len ? body_json(resp) : NULL;
    cmd_free(resp);
    return j;
}

void cmd_get_user(void)
{
    cluster_info ci;
    int n;
    const char **addrs = auth_targets(false, &ci, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = adm_request(AUTH_GET_USER);
        if (has('u')) cmd_ext_set(req, "username", val('u'));
        cJSON *u = auth_read(addrs[i], req);
        if (u && cJSON_IsObject(u)) {
            printf(USER_FORMAT, "#UserName", "#Password", "#UserType", "#UserStatus");
            print_user(u);
            cJSON_Delete(u);
            break;
        }
        cJSON_Delete(u);
    }
    free(addrs);
    cJSON_Delete(ci.json);
}

void cmd_list_user(void)
{
    cluster_info ci;
    int n;
    const char **addrs = auth_targets(false, &ci, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = adm_request(AUTH_LIST_USER);
        if (has('f')) cmd_ext_set(req, "filter", val('f'));
        cJSON *list = auth_read(addrs[i], req), *u;
        if (cJSON_GetArraySize(list) > 0) {
            printf(USER_FORMAT, "#UserName", "#Password", "#UserType", "#UserStatus");
            cJSON_ArrayForEach(u, list) print_user(u);
            if (has('c')) printf("get user from %s success.\n", addrs[i]);
            cJSON_Delete(list);
            break;
        }
        cJSON_Delete(list);
    }
    free(addrs);
    cJSON_Delete(ci.json);
}

/* ---- ACLs ---- */

/* StringUtils.split(s, ','): the non-empty pieces, trimmed, as a JSON array. */
static void write_list(fjson_writer *w, const char *name, const char *csv)
{
    fjson_key(w, name);
    fjson_begin_array(w);
    char *copy = xstrdup(csv);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*trim(t)) fjson_string(w, trim(t));
    fjson_end_array(w);
    free(copy);
}

/* AclInfo.of(subject, resources, actions, sourceIps, decision): one policy, an entry per resource. */
static rmq_cmd *acl_request(int code)
{
    rmq_cmd *req = adm_request(code);
    cmd_ext_set(req, "subject", val('s'));
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, "policies");
    fjson_begin_array(&w);
    fjson_begin_object(&w);
    fjson_key(&w, "entries");
    fjson_begin_array(&w);
    char *resources = xstrdup(val('r'));
    for (char *save = NULL, *r = strtok_r(resources, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        if (!*trim(r)) continue;
        fjson_begin_object(&w);
        write_list(&w, "actions", val('a'));
        fjson_prop_string(&w, "decision", val('d'));
        fjson_prop_string(&w, "resource", trim(r));
        if (has('i')) write_list(&w, "sourceIps", val('i'));
        fjson_end_object(&w);
    }
    free(resources);
    fjson_end_array(&w);
    fjson_end_object(&w);
    fjson_end_array(&w);
    fjson_prop_string(&w, "subject", val('s'));
    fjson_end_object(&w);
    return with_json_body(req, &w);
}

static rmq_cmd *create_acl_request(void) { return acl_request(AUTH_CREATE_ACL); }
static rmq_cmd *update_acl_request(void) { return acl_request(AUTH_UPDATE_ACL); }

static rmq_cmd *delete_acl_request(void)
{
    rmq_cmd *req = adm_request(AUTH_DELETE_ACL);
    cmd_ext_set(req, "subject", val('s'));
    if (has('r')) cmd_ext_set(req, "resource", val('r'));
    return req;
}

void cmd_create_acl(void) { change_on_targets(create_acl_request, "create acl"); }
void cmd_update_acl(void) { change_on_targets(update_acl_request, "update acl"); }
void cmd_delete_acl(void) { change_on_targets(delete_acl_request, "delete acl"); }

/* A List<String> as Java's toString shows it: "[a, b]", "null" when absent. */
static void jlist(const cJSON *o, const char *name, char *buf, size_t cap)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *it;
    if (!cJSON_IsArray(a)) {
        snprintf(buf, cap, "null");
        return;
    }
    size_t used = (size_t)snprintf(buf, cap, "[");
    int i = 0;
    cJSON_ArrayForEach(it, a)
        if (used < cap) used += (size_t)snprintf(buf + used, cap - used, "%s%s", i++ ? ", " : "",
                                                 cJSON_IsString(it) ? it->valuestring : "null");
    if (used < cap) snprintf(buf + used, cap - used, "]");
}

static void print_acl_rows(const cJSON *acl)
{
    const cJSON *policies = cJSON_GetObjectItemCaseSensitive(acl, "policies"), *p;
    const char *subject = jstr(acl, "subject");
    if (cJSON_GetArraySize(policies) == 0) printf(ACL_FORMAT, subject, "", "", "", "", "");
    cJSON_ArrayForEach(p, policies) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "entries")) {
            char actions[256], ips[256];
            jlist(e, "actions", actions, sizeof actions);
            jlist(e, "sourceIps", ips, sizeof ips);
            printf(ACL_FORMAT, subject, jstr(p, "policyType"), jstr(e, "resource"), actions, ips, jstr(e, "decision"));
        }
    }
}

void cmd_get_acl(void)
{
    cluster_info ci;
    int n;
    const char **addrs = auth_targets(false, &ci, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = adm_request(AUTH_GET_ACL);
        if (has('s')) cmd_ext_set(req, "subject", val('s'));
        cJSON *acl = auth_read(addrs[i], req);
        if (acl && cJSON_IsObject(acl)) {
            printf(ACL_FORMAT, "#Subject", "#PolicyType", "#Resource", "#Actions", "#SourceIp", "#Decision");
            print_acl_rows(acl);
            cJSON_Delete(acl);
            break;
        }
        cJSON_Delete(acl);
    }
    free(addrs);
    cJSON_Delete(ci.json);
}

/* Unlike getAcl, every master's list is printed (ListAclSubCommand does not stop at the first). */
void cmd_list_acl(void)
{
    cluster_info ci;
    int n;
    const char **addrs = auth_targets(false, &ci, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = adm_request(AUTH_LIST_ACL);
        if (has('s')) cmd_ext_set(req, "subjectFilter", val('s'));
        if (has('r')) cmd_ext_set(req, "resourceFilter", val('r'));
        cJSON *list = auth_read(addrs[i], req), *acl;
        if (cJSON_GetArraySize(list) > 0) {
            printf(ACL_FORMAT, "#Subject", "#PolicyType", "#Resource", "#Actions", "#SourceIp", "#Decision");
            cJSON_ArrayForEach(acl, list) print_acl_rows(acl);
        }
        cJSON_Delete(list);
    }
    free(addrs);
    cJSON_Delete(ci.json);
}

/* ---- copyUser, copyAcl ---- */

/* Sends OBJ (a UserInfo or AclInfo as the source broker answered it) to the target. */
static void send_copy(int code, const char *field, const char *key, const cJSON *obj)
{
    rmq_cmd *req = adm_request(code);
    cmd_ext_set(req, field, key);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_item(&w, obj);
    cmd_free(call_ok(val('t'), with_json_body(req, &w), TIMEOUT_MS));
}

/* The source's objects: those -u / -s names (one get each; a name without one is skipped), or
 * the whole list. */
static cJSON *copy_sources(int get_code, int list_code, const char *get_field, char names_opt)
{
    cJSON *out;
    if (has(names_opt) && *val(names_opt)) {
        out = cJSON_CreateArray();
        char *names = xstrdup(val(names_opt));
        for (char *save = NULL, *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            rmq_cmd *req = adm_request(get_code);
            cmd_ext_set(req, get_field, t);
            cJSON *one = auth_read(val('f'), req);
            if (cJSON_IsObject(one)) cJSON_AddItemToArray(out, one);
            else cJSON_Delete(one);
        }
        free(names);
    } else {
        out = auth_read(val('f'), adm_request(list_code));
    }
    return out;
}

/* CopyUsersSubCommand / CopyAclsSubCommand: each of the source's objects created on -t, or
 * updated there when it has one already. For ACLs the target must know the subject's user
 * already: its getAcl of an unknown subject is an error (as Apache's broker answers it). */
static void copy_objects(int get, int list, int create, int update, const char *field, char names_opt,
                         const char *what)
{
    cJSON *objs = copy_sources(get, list, field, names_opt), *o;
    cJSON_ArrayForEach(o, objs) {
        const char *key = jstr(o, field);
        rmq_cmd *req = adm_request(get);
        cmd_ext_set(req, field, key);
        cJSON *there = auth_read(val('t'), req);
        send_copy(cJSON_IsObject(there) ? update : create, field, key, o);
        cJSON_Delete(there);
        printf("copy %s of %s from %s to %s success.\n", what, key, val('f'), val('t'));
    }
    cJSON_Delete(objs);
}

void cmd_copy_user(void)
{
    copy_objects(AUTH_GET_USER, AUTH_LIST_USER, AUTH_CREATE_USER, AUTH_UPDATE_USER, "username", 'u', "user");
}

void cmd_copy_acl(void)
{
    copy_objects(AUTH_GET_ACL, AUTH_LIST_ACL, AUTH_CREATE_ACL, AUTH_UPDATE_ACL, "subject", 's', "acl");
}

/* ---- ACL 1.0 (4.9.8's tools/command/acl): plain_acl.yml on the brokers ---- */

static rmq_cmd *acl1_update_request(void)
{
    rmq_cmd *req = adm_request(50);  /* UPDATE_AND_CREATE_ACL_CONFIG */
    cmd_ext_set(req, "accessKey", trim((char *)val('a')));
    cmd_ext_set(req, "secretKey", trim((char *)val('s')));
    /* PlainAccessConfig.admin is a boolean: Boolean.parseBoolean of -m, false without it. */
    cmd_ext_set(req, "admin", has('m') && !strcasecmp(trim((char *)val('m')), "true") ? "true" : "false");
    static const struct { char letter; const char *field; } opt[] = {
        {'w', "whiteRemoteAddress"}, {'i', "defaultTopicPerm"}, {'u', "defaultGroupPerm"},
        {'t', "topicPerms"}, {'g', "groupPerms"}};
    for (size_t i = 0; i < sizeof opt / sizeof *opt; i++)
        if (has(opt[i].letter)) cmd_ext_set(req, opt[i].field, trim((char *)val(opt[i].letter)));
    return req;
}

void cmd_update_acl_config(void)
{
    change_on_targets(acl1_update_request, "create or update plain access config");
    /* PlainAccessConfig has no toString in 4.9.8: Java prints Object.toString. */
    printf("org.apache.rocketmq.common.PlainAccessConfig@%x", (unsigned)(getpid() * 2654435761u));
}

static rmq_cmd *acl1_delete_request(void)
{
    rmq_cmd *req = adm_request(51);  /* DELETE_ACL_CONFIG */
    cmd_ext_set(req, "accessKey", trim((char *)val('a')));
    return req;
}

void cmd_delete_acl_config(void)
{
    cluster_info ci;
    int n;
    const char **addrs = auth_targets(true, &ci, &n);
    for (int i = 0; i < n; i++) {
        cmd_free(call_ok(addrs[i], acl1_delete_request(), TIMEOUT_MS));
        printf("delete plain access config account from %s success.\n", addrs[i]);
    }
    free(addrs);
    cJSON_Delete(ci.json);
    printf("account's accesskey is:%s", trim((char *)val('a')));
}

static rmq_cmd *acl1_white_request(void)
{
    rmq_cmd *req = adm_request(53);  /* UPDATE_GLOBAL_WHITE_ADDRS_CONFIG */
    cmd_ext_set(req, "globalWhiteAddrs", trim((char *)val('g')));
    /* Without -p the field is null and 4.9.8's broker refuses the header (@CFNotNull). */
    if (has('p')) cmd_ext_set(req, "aclFileFullPath", trim((char *)val('p')));
    return req;
}

void cmd_update_global_white_addr(void)
{
    change_on_targets(acl1_white_request, "update global white remote addresses");
}

#define ACL1_VERSION_FORMAT "%-16s  %-22s  %-22s  %-20s  %-22s  %-22s\n"

/* ClusterAclConfigVersionListSubCommand.printClusterBaseInfo: one row per ACL file. */
static void print_acl_version(const char *addr)
{
    rmq_cmd *r = call_ok(addr, adm_request(52), TIMEOUT_MS);  /* GET_BROKER_CLUSTER_ACL_INFO */
    const char *all = cmd_ext_get(r, "allAclFileVersion");
    cJSON *files = all ? cJSON_Parse(all) : NULL;
    const cJSON *f;
    cJSON_ArrayForEach(f, files) {
        const cJSON *counter = cJSON_GetObjectItem(f, "counter"), *ts = cJSON_GetObjectItem(f, "timestamp");
        char num[32], when[40];
        snprintf(num, sizeof num, "%lld", cJSON_IsNumber(counter) ? (long long)counter->valuedouble : 0LL);
        human_time(cJSON_IsNumber(ts) ? (int64_t)ts->valuedouble : 0, when, sizeof when);
        when[19] = '\0';  /* yyyy-MM-dd HH:mm:ss */
        printf(ACL1_VERSION_FORMAT, cmd_ext_get(r, "clusterName"), cmd_ext_get(r, "brokerName"),
               cmd_ext_get(r, "brokerAddr"), f->string, num, when);
    }
    cJSON_Delete(files);
    cmd_free(r);
}

void cmd_cluster_acl_config_version(void)
{
    if (has('b')) {
        print_acl_version(trim((char *)val('b')));
        printf("get broker's plain access config version success.\n");
        return;
    }
    cluster_info ci;
    int n;
    const char **addrs = auth_targets(false, &ci, &n);
    printf(ACL1_VERSION_FORMAT, "#Cluster Name", "#Broker Name", "#Broker Addr", "#AclFilePath",
           "#AclConfigVersionNum", "#AclLastUpdateTime");
    for (int i = 0; i < n; i++) print_acl_version(addrs[i]);
    printf("get cluster's plain access config version success.\n");
    free(addrs);
    cJSON_Delete(ci.json);
}
