/*
 * acl2: ACL 2.0 of Apache RocketMQ 5.3 (its auth/ module) on the remoting
 * protocol. Users (username, password, Super/Normal, enable/disable) and ACLs
 * (a subject "User:<name>" with policies of entries: resource pattern, actions,
 * source IPs, Allow/Deny) are kept per broker, managed with AUTH_CREATE_USER ..
 * AUTH_LIST_ACL (src/processor/auth_processor.c), and enforced before every
 * processor when the broker runs with authenticationEnabled /
 * authorizationEnabled:
 *
 *   authentication (DefaultAuthenticationHandler): the request's AccessKey names
 *     an enabled user whose password is the HMAC-SHA1 key of its Signature
 *     (the same signature as ACL 1.0, see acl.h);
 *   authorization (DefaultAuthorizationContextBuilder): the request names
 *     resources with the actions it needs (a send: Topic PUB; a pull or POP:
 *     Group SUB and Topic SUB; an admin request: the resources of its header,
 *     or Cluster:<brokerClusterName>); a super user may do anything, a normal
 *     user what the most specific matching policy entry allows.
 *
 * Refusals are NO_PERMISSION (16) with the text of Apache's exception.
 *
 * Apache keeps users and ACLs in RocksDB (config/users, config/acls under the
 * store root), which we do not read or write; ours are in config/auth.json
 * (UserInfo and AclInfo, the shapes of the admin bodies). Everything runs on
 * the broker's loop thread.
 */
#ifndef RMQ_BROKER_ACL2_H
#define RMQ_BROKER_ACL2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "remoting/remoting.h"

/* Where the users and ACLs are kept, under the store root. */
#define AUTH_FILE "config/auth.json"

/* ---- the model (Apache's enums, by code) ---- */

enum auth_user_type { AUTH_SUPER = 1, AUTH_NORMAL = 2 };
enum auth_user_status { AUTH_ENABLE = 1, AUTH_DISABLE = 2 };
enum auth_res_type { RES_UNKNOWN, RES_ANY, RES_CLUSTER, RES_NAMESPACE, RES_TOPIC, RES_GROUP };
enum auth_pattern { PAT_ANY = 1, PAT_LITERAL, PAT_PREFIXED };
enum auth_action { ACT_UNKNOWN, ACT_ALL, ACT_ANY, ACT_PUB, ACT_SUB, ACT_CREATE, ACT_UPDATE, ACT_DELETE, ACT_GET,
                   ACT_LIST };
#define ACT(a) (1u << (a))
enum auth_decision { DECISION_ALLOW = 1, DECISION_DENY = 2 };
enum auth_policy_type { POLICY_CUSTOM = 1, POLICY_DEFAULT = 2 };

typedef struct auth_user {
    char *username, *password;
    int type, status;  /* 0: not given (on the wire) */
} auth_user;

typedef struct auth_resource {
    int type, pattern;
    char *name;  /* NULL for the ANY pattern */
} auth_resource;

typedef struct auth_entry {
    auth_resource res;
    uint8_t *actions;  /* enum auth_action, in the order given */
    int n_actions;
    char **ips;        /* sourceIps: addresses or CIDRs; none = any source */
    int n_ips;
    int decision;      /* 0: not given or unknown */
} auth_entry;

typedef struct auth_policy {
    int type;  /* 0: not given (Custom then) */
    auth_entry *entries;
    int n;
} auth_policy;

typedef struct auth_acl {
    char *subject;  /* "User:<name>" */
    auth_policy *policies;
    int n;
} auth_acl;

/* Resource.of: "*", "Topic:*", "Topic:abc*", "Group:g"; false when blank or of no known type. */
bool auth_resource_parse(const char *key, auth_resource *out);
/* Resource.getResourceKey (malloc'd). */
char *auth_resource_key(const auth_resource *r);
/* Subject.of: "User:<name>" (type case-insensitive) -> the user name (malloc'd), NULL otherwise. */
char *auth_subject_user(const char *subject_key);
void auth_acl_free(auth_acl *acl);

/* ---- JSON: UserInfo and AclInfo, as the admin bodies and our file carry them ---- */

/* UserConverter.convertUser(UserInfo): unknown userType/userStatus names give 0. */
void auth_user_from_json(const cJSON *o, auth_user *u);
cJSON *auth_user_to_json(const auth_user *u);
/* AclConverter.convertAcl(AclInfo); NULL when a policy entry has no action list (Apache
 * meets a NullPointerException there). */
auth_acl *auth_acl_from_json(const cJSON *o);
cJSON *auth_acl_to_json(const auth_acl *acl);

/* ---- the store: users and ACLs (AuthenticationMetadataManager, AuthorizationMetadataManager) ---- */

typedef struct auth auth;

typedef struct auth_options {
    bool authentication_enabled;
    bool authorization_enabled;
    const char *cluster_name;              /* the Cluster resource of cluster-wide requests */
    const char *authentication_whitelist;  /* request codes never authenticated, "a,b" */
    const char *authorization_whitelist;   /* request codes never authorized */
    const char *init_user;                 /* initAuthenticationUser: {"username":..,"password":..} */
    const char *inner_credentials;         /* innerClientAuthenticationCredentials: {"accessKey":..,"secretKey":..} */
} auth_options;

/*
 * Loads STORE_ROOT/config/auth.json (absent: empty) and creates the super users
 * named by init_user and inner_credentials when missing, as Apache does at start.
 * NULL with the reason in err.
 */
auth *auth_open(const char *store_root, const auth_options *opt, char *err, size_t errlen);
void auth_free(auth *a);
/* Whether either check is on (then the broker installs auth_server_hook). */
bool auth_enforcing(const auth *a);
/*
 * Signs a request the broker sends to another broker (a slave's sync with its
 * master) as innerClientAuthenticationCredentials say, as Apache's BrokerOuterAPI
 * does with its AclClientRPCHook; without them (or without A) REQ is left alone.
 */
void auth_sign_inner(const auth *a, rmq_cmd *req);

/*
 * migrateAuthFromV1Enabled (AuthMigrator): the accounts of ROCKETMQ_HOME's
 * conf/plain_acl.yml and the YAML files under conf/acl/ become users and ACLs, unless their user
 * exists (see acl2_migrate.c). Problems are logged, as Apache logs them.
 */
void auth_migrate_v1(auth *a, const char *rocketmq_home);

/* Outcome of a management call: AUTH_DENIED is Apache's Authentication/AuthorizationException
 * (answered NO_PERMISSION with the text), AUTH_FAILED anything else (SYSTEM_ERROR). */
enum { AUTH_OK = 0, AUTH_DENIED = 1, AUTH_FAILED = 2 };

/* The user, or NULL. */
const auth_user *auth_user_get(const auth *a, const char *username);
/* Users sorted by name (RocksDB key order) containing FILTER (NULL/blank: all); *n set. */
const auth_user **auth_user_list(const auth *a, const char *filter, int *n);
int auth_user_create(auth *a, const auth_user *u, char *err, size_t errlen);
int auth_user_update(auth *a, const auth_user *u, char *err, size_t errlen);
/* Deletes the user and its ACL. */
int auth_user_delete(auth *a, const char *username, char *err, size_t errlen);
bool auth_is_super(const auth *a, const char *username);

/* createAcl and updateAcl (the same in Apache): ACL is merged into the subject's; taken. */
int auth_acl_put(auth *a, auth_acl *acl, char *err, size_t errlen);
/* deleteAcl(subject, policyType, resource): RES NULL deletes the whole ACL. */
int auth_acl_delete(auth *a, const char *username, int policy_type, const auth_resource *res, char *err,
                    size_t errlen);
/* The subject's ACL (NULL: none); AUTH_DENIED when the user does not exist. */
int auth_acl_get(const auth *a, const char *username, const auth_acl **out, char *err, size_t errlen);
/* listAcl(subjectFilter, resourceFilter): new ACLs (copies with the entries kept), sorted by subject. */
auth_acl **auth_acl_list(const auth *a, const char *subject_filter, const char *resource_filter, int *n);

/* ---- enforcement ---- */

/*
 * Authenticates and authorizes REQ from REMOTE ("ip:port") as the switches say.
 * RMQ_OK, or RMQ_ERR with the NO_PERMISSION remark in err.
 */
int auth_check(const auth *a, const rmq_cmd *req, const char *remote, char *err, size_t errlen);
/* A resource a request that is not a remoting command names (auth_check_signed). */
typedef struct auth_need {
    int type;          /* RES_TOPIC or RES_GROUP */
    const char *name;
    uint32_t actions;  /* ACT() bits: any of them is enough */
} auth_need;

/*
 * Apache 5.3's gRPC proxy pipeline, in two steps (its AuthenticationPipeline, then
 * AuthorizationPipeline), each a no-op when its switch is off or RPC (the request
 * message's full name, as the whitelists name gRPC calls) is whitelisted.
 * Authentication: USERNAME's SIGNATURE (Base64 of the HMAC-SHA1; either NULL when
 * absent) of CONTENT (the x-mq-date-time header). Authorization: NEEDS from REMOTE for
 * USERNAME (NULL: no subject, as when authentication is off). RMQ_OK, or RMQ_ERR with
 * the exception's text in err.
 */
bool auth_authentication_enabled(const auth *a);
bool auth_authorization_enabled(const auth *a);
int auth_authenticate_signed(const auth *a, const char *rpc, const char *username, const char *signature,
                             const void *content, size_t len, char *err, size_t errlen);
int auth_authorize_needs(const auth *a, const char *rpc, const char *username, const char *remote,
                         const auth_need *needs, int n, char *err, size_t errlen);
/* rmq_server_set_hook form of auth_check: NULL to go on, or the NO_PERMISSION answer. */
rmq_cmd *auth_server_hook(rmq_conn *conn, rmq_cmd *req, void *auth);

#endif
