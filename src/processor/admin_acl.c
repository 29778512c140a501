/*
 * ACL 1.0's admin codes as Apache 4.9.8's AdminBrokerProcessor answers them
 * (docs/mqadmin.md, "ACL 1.0 sub-commands"): UPDATE_AND_CREATE_ACL_CONFIG,
 * DELETE_ACL_CONFIG and UPDATE_GLOBAL_WHITE_ADDRS_CONFIG rewrite plain_acl.yml
 * (acl_edit.c) and the broker loads it again at once; GET_BROKER_CLUSTER_ACL_INFO
 * gives the file's dataVersion. Without aclEnable Apache has no PlainAccessValidator
 * and its handlers fail on the null: the three writes answer their *_FAILED code
 * with no remark, the version request gets no answer at all. Code 54
 * (GET_BROKER_CLUSTER_ACL_CONFIG) is not served by 4.9.8 either.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "admin_int.h"
#include "broker/acl.h"
#include "common/fjson.h"
#include "common/util.h"
#include "response_codes.h"

enum {
    UPDATE_AND_CREATE_ACL_CONFIG = 50,
    DELETE_ACL_CONFIG = 51,
    GET_BROKER_CLUSTER_ACL_INFO = 52,
    UPDATE_GLOBAL_WHITE_ADDRS_CONFIG = 53,
    /* ResponseCode (4.9.8) */
    UPDATE_AND_CREATE_ACL_CONFIG_FAILED = 209,
    DELETE_ACL_CONFIG_FAILED = 210,
    UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED = 211,
};

/* The file the accounts live in; NULL (answered FAIL_CODE, no remark: Apache's NPE) without aclEnable. */
static const char *acl_file(const admin *a, rmq_cmd *resp, int fail_code)
{
    if (!a->b->cfg.aclEnable) {
        cmd_set_code(resp, fail_code, NULL);
        return NULL;
    }
    if (!a->b->acl_path) {
        cmd_set_code(resp, fail_code, "ROCKETMQ_HOME is not set: the broker has no plain_acl.yml");
        return NULL;
    }
    return a->b->acl_path;
}

typedef struct create_hdr {
    const char *access_key, *secret_key, *white, *admin, *default_topic, *default_group, *topics, *groups;
} create_hdr;

static const hdr_field create_fields[] = {
    {"accessKey", HDR_STR, true, offsetof(create_hdr, access_key)},
    {"secretKey", HDR_STR, false, offsetof(create_hdr, secret_key)},
    {"whiteRemoteAddress", HDR_STR, false, offsetof(create_hdr, white)},
    {"admin", HDR_STR, false, offsetof(create_hdr, admin)},
    {"defaultTopicPerm", HDR_STR, false, offsetof(create_hdr, default_topic)},
    {"defaultGroupPerm", HDR_STR, false, offsetof(create_hdr, default_group)},
    {"topicPerms", HDR_STR, false, offsetof(create_hdr, topics)},
    {"groupPerms", HDR_STR, false, offsetof(create_hdr, groups)},
};

static void update_acl_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    (void)conn;
    create_hdr h = {0};
    if (admin_decode(req, resp, create_fields, N(create_fields), &h)) return;
    const char *path = acl_file(a, resp, UPDATE_AND_CREATE_ACL_CONFIG_FAILED);
    if (!path) return;
    acl_account_edit e = {
        .access_key = h.access_key, .secret_key = h.secret_key, .white_remote_address = h.white,
        .default_topic_perm = h.default_topic, .default_group_perm = h.default_group,
        .topic_perms = h.topics, .group_perms = h.groups,
        .admin = h.admin && !strcasecmp(h.admin, "true"),  /* Boolean.parseBoolean */
    };
    char err[512];
    if (acl_file_update_account(path, &e, err, sizeof err)) {
        cmd_set_code(resp, UPDATE_AND_CREATE_ACL_CONFIG_FAILED, err);
        return;
    }
    broker_acl_reload(a->b);
}

static const hdr_field delete_fields[] = {{"accessKey", HDR_STR, true, 0}};

static void delete_acl_config(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    (void)conn;
    const char *ak = NULL;
    if (admin_decode(req, resp, delete_fields, N(delete_fields), &ak)) return;
    const char *path = acl_file(a, resp, DELETE_ACL_CONFIG_FAILED);
    if (!path) return;
    char err[512];
    if (acl_file_delete_account(path, ak, err, sizeof err)) {
        if (!*err) snprintf(err, sizeof err, "The accesskey[%s] corresponding to accessConfig has been deleted failed.", ak);
        cmd_set_code(resp, DELETE_ACL_CONFIG_FAILED, err);
        return;
    }
    broker_acl_reload(a->b);
}

typedef struct white_hdr {
    const char *addrs, *file;
} white_hdr;

/* aclFileFullPath is @CFNotNull: 4.9.8's mqadmin without -p is refused by the decoding. */
static const hdr_field white_fields[] = {
    {"globalWhiteAddrs", HDR_STR, true, offsetof(white_hdr, addrs)},
    {"aclFileFullPath", HDR_STR, true, offsetof(white_hdr, file)},
};

static void update_global_white(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    (void)conn;
    white_hdr h = {0};
    if (admin_decode(req, resp, white_fields, N(white_fields), &h)) return;
    const char *path = acl_file(a, resp, UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED);
    if (!path) return;
    /* PlainPermissionManager.updateGlobalWhiteAddrsConfig: a blank name means the default file;
     * another must exist under ROCKETMQ_HOME and not end in .yaml (sic: its check is inverted). */
    const char *file = *h.file ? h.file : path;
    const char *home = getenv("ROCKETMQ_HOME");
    size_t fl = strlen(file);
    struct stat st;
    bool ok = stat(file, &st) == 0 && !S_ISDIR(st.st_mode) && home && !strncmp(file, home, strlen(home)) &&
              !(fl >= 5 && !strcmp(file + fl - 5, ".yaml"));
    char err[512];
    if (!ok || acl_file_set_global_white(file, h.addrs, err, sizeof err)) {
        if (ok) cmd_set_code(resp, UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED, err);
        else
            admin_fail(resp, UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED,
                       "The globalWhiteAddresses[%s] has been updated failed.", h.addrs);
        return;
    }
    if (!strcmp(file, path)) broker_acl_reload(a->b);
}

/* GetBrokerAclConfigResponseHeader: version is DataVersion.toJson of the default file,
 * allAclFileVersion fastjson's {path: DataVersion}. A file without a dataVersion counts 0
 * from when the broker loaded it (its mtime here). */
static int get_acl_info(admin *a, rmq_conn *conn, rmq_cmd *req, rmq_cmd *resp)
{
    (void)conn;
    broker *b = a->b;
    if (!b->cfg.aclEnable) {  /* Apache logs the NPE and answers nothing */
        cmd_free(req);
        return RMQ_AGAIN;
    }
    int64_t counter = 0, ts = b->acl_mtime > 0 ? b->acl_mtime : now_ms();
    const char *path = b->acl_path ? b->acl_path : "null/" ACL_DEFAULT_FILE;
    if (b->acl_path) acl_file_version(b->acl_path, &counter, &ts);
    char *version = str_printf("{\"counter\":%lld,\"timestamp\":%lld}", (long long)counter, (long long)ts);
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_key(&w, path);
    fjson_raw(&w, version, strlen(version));
    fjson_end_object(&w);
    size_t len;
    char *all = fjson_writer_finish(&w, &len);
    cmd_ext_set(resp, "version", version);
    cmd_ext_set(resp, "allAclFileVersion", all);
    cmd_ext_set(resp, "brokerName", b->cfg.brokerName);
    cmd_ext_set(resp, "brokerAddr", b->addr);
    cmd_ext_set(resp, "clusterName", b->cfg.brokerClusterName);
    free(all);
    free(version);
    return RMQ_OK;
}

const admin_handler admin_acl_handlers[] = {
    {UPDATE_AND_CREATE_ACL_CONFIG, update_acl_config, NULL},
    {DELETE_ACL_CONFIG, delete_acl_config, NULL},
    {GET_BROKER_CLUSTER_ACL_INFO, NULL, get_acl_info},
    {UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, update_global_white, NULL},
    {0},
};
