/*
 * ACL 2.0 management, as Apache 5.3's AdminBrokerProcessor answers it:
 * AUTH_CREATE_USER (3001) .. AUTH_LIST_USER (3005) with UserInfo bodies,
 * AUTH_CREATE_ACL (3006) .. AUTH_LIST_ACL (3010) with AclInfo bodies. The
 * users and ACLs live in the broker's auth store (src/broker/acl2.h), which
 * answers whether the switches are on or not, so they can be set up before
 * authentication is turned on. A refusal of the store is NO_PERMISSION with
 * its text; only a super user may create or change a super user (a request
 * without AccessKey counts as one: the broker then does not authenticate).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/acl2.h"
#include "common/fjson.h"
#include "common/util.h"
#include "processor.h"
#include "response_codes.h"

enum {
    AUTH_CREATE_USER = 3001,
    AUTH_UPDATE_USER,
    AUTH_DELETE_USER,
    AUTH_GET_USER,
    AUTH_LIST_USER,
    AUTH_CREATE_ACL,
    AUTH_UPDATE_ACL,
    AUTH_DELETE_ACL,
    AUTH_GET_ACL,
    AUTH_LIST_ACL,
};

/*
 * Success keeps the remark of Apache's createResponseCommand(null). Exceptions
 * thrown outside the managers' futures reach NettyRemotingAbstract, which answers
 * SYSTEM_ERROR with exceptionSimpleDesc: the exception (as Java 17 words a
 * NullPointerException) and its first stack frame in 5.3.3.
 */
#define SUCCESS_REMARK "not set any response code"
#define NPE_USER_INFO                                                                                  \
    "java.lang.NullPointerException: Cannot invoke \"org.apache.rocketmq.remoting.protocol.body.UserInfo." \
    "setUsername(String)\" because \"userInfo\" is null, org.apache.rocketmq.broker.processor.AdminBrokerProcessor."
#define NO_ACL_BODY                                                                                       \
    "org.apache.rocketmq.auth.authorization.exception.AuthorizationException: The body of acl is null, "   \
    "org.apache.rocketmq.broker.processor.AdminBrokerProcessor."
#define NPE_NO_ACTIONS                                                                                     \
    "java.lang.NullPointerException: Cannot invoke \"java.util.List.iterator()\" because the return value of " \
    "\"org.apache.rocketmq.remoting.protocol.body.AclInfo$PolicyEntryInfo.getActions()\" is null, "          \
    "org.apache.rocketmq.broker.auth.converter.AclConverter.convertAcl(AclConverter.java:54)"
#define NPE_NO_SUBJECT                                                                                      \
    "java.lang.NullPointerException: Cannot invoke \"org.apache.rocketmq.auth.authentication.model.Subject." \
    "isSubject(org.apache.rocketmq.auth.authentication.enums.SubjectType)\" because \"subject\" is null, "    \
    "org.apache.rocketmq.auth.authorization.manager.AuthorizationMetadataManagerImpl.getAcl("                \
    "AuthorizationMetadataManagerImpl.java:180)"

/* What Apache's handleAuthException answers for the store's outcome. */
static void store_answer(rmq_cmd *resp, int rc, const char *err)
{
    if (rc == AUTH_OK) cmd_set_code(resp, RC_SUCCESS, SUCCESS_REMARK);
    else if (rc == AUTH_DENIED) cmd_set_code(resp, RC_NO_PERMISSION, err);
    else cmd_set_code(resp, RC_SYSTEM_ERROR, "An system error occurred, please try again later.");
}

static void set_json_body(rmq_cmd *resp, cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    cmd_take_body(resp, text, strlen(text));
}

/*
 * The body as a JSON object; NULL (and *absent when there is no body) with resp set to
 * fastjson's failure when it is not one (RemotingSerializable.decode: fastjson 1.2.83's
 * JSONException; its exact text and frame only for the array case).
 */
static cJSON *body_object(const rmq_cmd *req, rmq_cmd *resp, bool *absent)
{
    *absent = !req->body_len;
    if (*absent) return NULL;
    const char *why = "not an object";
    cJSON *o = fjson_parse((const char *)req->body, req->body_len, &why);
    if (cJSON_IsObject(o)) return o;
    cJSON_Delete(o);
    resp->code = RC_SYSTEM_ERROR;
    if (req->body[0] == '[')
        cmd_set_remark(resp, "com.alibaba.fastjson.JSONException: syntax error, expect {, actual [, pos 0, "
                             "fastjson-version 1.2.83, com.alibaba.fastjson.parser.deserializer."
                             "JavaBeanDeserializer.deserialze(JavaBeanDeserializer.java:506)");
    else
        cmd_set_remark(resp, "com.alibaba.fastjson.JSONException: %s", why);
    return NULL;
}

/* isNotSuperUserLogin: signed by a user who is not a super user. */
static bool not_super_login(const auth *a, const rmq_cmd *req)
{
    const char *ak = cmd_ext_get(req, "AccessKey");
    return ak && *ak && !auth_is_super(a, ak);
}

static bool username_missing(const rmq_cmd *req, rmq_cmd *resp, bool or_blank)
{
    const char *name = cmd_ext_get(req, "username");
    if (name && *name && (!or_blank || strspn(name, " \t\r\n") < strlen(name))) return false;
    cmd_set_code(resp, RC_INVALID_PARAMETER, "The username is blank");
    return true;
}

static void create_or_update_user(auth *a, const rmq_cmd *req, rmq_cmd *resp, bool create)
{
    if (username_missing(req, resp, false)) return;
    bool absent;
    cJSON *body = body_object(req, resp, &absent);
    if (absent)
        cmd_set_code(resp, RC_SYSTEM_ERROR,
                     create ? NPE_USER_INFO "createUser(AdminBrokerProcessor.java:3014)"
                            : NPE_USER_INFO "updateUser(AdminBrokerProcessor.java:3046)");
    if (!body) return;
    auth_user u;
    auth_user_from_json(body, &u);
    cJSON_Delete(body);
    free(u.username);
    u.username = xstrdup(cmd_ext_get(req, "username"));
    char err[512];
    const auth_user *old = create ? NULL : auth_user_get(a, u.username);
    if (u.type == AUTH_SUPER && not_super_login(a, req)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, create ? "The super user can only be create by super user"
                                                   : "The super user can only be update by super user");
    } else if (create) {
        store_answer(resp, auth_user_create(a, &u, err, sizeof err), err);
    } else if (!old) {
        cmd_set_code(resp, RC_NO_PERMISSION, "The user is not exist");
    } else if (old->type == AUTH_SUPER && not_super_login(a, req)) {
        cmd_set_code(resp, RC_NO_PERMISSION, "The super user can only be update by super user");
    } else {
        store_answer(resp, auth_user_update(a, &u, err, sizeof err), err);
    }
    free(u.username);
    free(u.password);
}

static void delete_user(auth *a, const rmq_cmd *req, rmq_cmd *resp)
{
    const char *name = cmd_ext_get(req, "username");
    char err[512];
    if (!name || strspn(name, " \t\r\n") == strlen(name)) {
        cmd_set_code(resp, RC_NO_PERMISSION, "username can not be blank");
        return;
    }
    const auth_user *u = auth_user_get(a, name);
    if (!u) {
        cmd_set_code(resp, RC_SUCCESS, SUCCESS_REMARK);
    } else if (u->type == AUTH_SUPER && not_super_login(a, req)) {
        cmd_set_code(resp, RC_NO_PERMISSION, "The super user can only be update by super user");
    } else {
        store_answer(resp, auth_user_delete(a, name, err, sizeof err), err);
    }
}

static void get_user(auth *a, const rmq_cmd *req, rmq_cmd *resp)
{
    if (username_missing(req, resp, true)) return;
    const auth_user *u = auth_user_get(a, cmd_ext_get(req, "username"));
    cmd_set_code(resp, RC_SUCCESS, SUCCESS_REMARK);
    if (u) set_json_body(resp, auth_user_to_json(u));
}

static void list_users(auth *a, const rmq_cmd *req, rmq_cmd *resp)
{
    int n;
    const auth_user **users = auth_user_list(a, cmd_ext_get(req, "filter"), &n);
    cmd_set_code(resp, RC_SUCCESS, SUCCESS_REMARK);
    if (n) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, auth_user_to_json(users[i]));
        set_json_body(resp, arr);
    }
    free(users);
}

/* createAcl / updateAcl: the same in Apache's manager. */
static void put_acl(auth *a, const rmq_cmd *req, rmq_cmd *resp, bool create)
{
    bool absent;
    cJSON *body = body_object(req, resp, &absent);
    if (!body && !absent) return;
    const cJSON *pols = cJSON_GetObjectItemCaseSensitive(body, "policies");
    bool has_policies = cJSON_GetArraySize(pols) > 0;
    auth_acl *acl = has_policies ? auth_acl_from_json(body) : NULL;
    cJSON_Delete(body);
    if (!has_policies) {
        cmd_set_code(resp, RC_SYSTEM_ERROR,
                     create ? NO_ACL_BODY "createAcl(AdminBrokerProcessor.java:3158)"
                            : NO_ACL_BODY "updateAcl(AdminBrokerProcessor.java:3185)");
        return;
    }
    if (!acl) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, NPE_NO_ACTIONS);
        return;
    }
    if (!acl->subject) {
        char *user = auth_subject_user(cmd_ext_get(req, "subject"));
        if (user) acl->subject = str_printf("User:%s", user);
        free(user);
    }
    char err[512];
    store_answer(resp, auth_acl_put(a, acl, err, sizeof err), err);
}

static void delete_acl(auth *a, const rmq_cmd *req, rmq_cmd *resp)
{
    char *user = auth_subject_user(cmd_ext_get(req, "subject"));
    if (!user) {
        cmd_set_code(resp, RC_NO_PERMISSION, "The subject is null.");
        return;
    }
    const char *ptype = cmd_ext_get(req, "policyType");
    int policy_type = ptype && !strcasecmp(ptype, "Default") ? POLICY_DEFAULT : POLICY_CUSTOM;
    auth_resource res;
    bool has_res = auth_resource_parse(cmd_ext_get(req, "resource"), &res);
    char err[512];
    store_answer(resp, auth_acl_delete(a, user, policy_type, has_res ? &res : NULL, err, sizeof err), err);
    free(res.name);
    free(user);
}

static void get_acl(auth *a, const rmq_cmd *req, rmq_cmd *resp)
{
    char *user = auth_subject_user(cmd_ext_get(req, "subject"));
    if (!user) {
        /* Apache's manager dereferences the null subject outside its future. */
        cmd_set_code(resp, RC_SYSTEM_ERROR, NPE_NO_SUBJECT);
        return;
    }
    const auth_acl *acl;
    char err[512];
    int rc = auth_acl_get(a, user, &acl, err, sizeof err);
    store_answer(resp, rc, err);
    if (rc == AUTH_OK && acl) set_json_body(resp, auth_acl_to_json(acl));
    free(user);
}

static void list_acls(auth *a, const rmq_cmd *req, rmq_cmd *resp)
{
    int n;
    auth_acl **acls = auth_acl_list(a, cmd_ext_get(req, "subjectFilter"), cmd_ext_get(req, "resourceFilter"), &n);
    cmd_set_code(resp, RC_SUCCESS, SUCCESS_REMARK);
    if (n) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, auth_acl_to_json(acls[i]));
        set_json_body(resp, arr);
    }
    for (int i = 0; i < n; i++) auth_acl_free(acls[i]);
    free(acls);
}

static int auth_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    (void)conn;
    broker *b = arg;
    auth *a = b->auth;
    rmq_cmd *resp = cmd_new_response(req, RC_SYSTEM_ERROR, NULL);
    switch (req->code) {
    case AUTH_CREATE_USER: create_or_update_user(a, req, resp, true); break;
    case AUTH_UPDATE_USER: create_or_update_user(a, req, resp, false); break;
    case AUTH_DELETE_USER: delete_user(a, req, resp); break;
    case AUTH_GET_USER: get_user(a, req, resp); break;
    case AUTH_LIST_USER: list_users(a, req, resp); break;
    case AUTH_CREATE_ACL: put_acl(a, req, resp, true); break;
    case AUTH_UPDATE_ACL: put_acl(a, req, resp, false); break;
    case AUTH_DELETE_ACL: delete_acl(a, req, resp); break;
    case AUTH_GET_ACL: get_acl(a, req, resp); break;
    case AUTH_LIST_ACL: list_acls(a, req, resp); break;
    }
    *out = resp;
    return RMQ_OK;
}

void processor_register_auth(rmq_server *s, broker *b)
{
    for (int32_t code = AUTH_CREATE_USER; code <= AUTH_LIST_ACL; code++)
        rmq_server_register(s, code, auth_processor, b);
}
