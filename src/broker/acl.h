/*
 * acl: Apache's plain ACL 1.0 on the broker (acl/plain/PlainPermissionManager,
 * PlainAccessValidator; docs/remoting.md). An ACL is read from a plain_acl.yml
 * (block-style YAML: globalWhiteRemoteAddresses and accounts, parsed here by
 * a small reader for exactly that shape) and checks each request:
 *
 *   client IP in globalWhiteRemoteAddresses        -> allowed, nothing else checked
 *   no AccessKey / unknown AccessKey               -> refused
 *   client IP in the account's whiteRemoteAddress -> allowed
 *   Signature != Base64(HMAC-SHA1(secretKey, values of the extFields sorted by
 *                key except Signature, then the body)) -> refused
 *   admin-only request code and admin: false       -> refused
 *   a topic or group (as %RETRY%group) the request names lacks the permission
 *                (topicPerms / groupPerms, else defaultTopicPerm / defaultGroupPerm)
 *                                                  -> refused
 *
 * Refusals carry the text of Apache's AclException, which the broker answers as
 * SYSTEM_ERROR (NettyRemotingAbstract turns the exception into the remark).
 * An ACL is immutable once built; it is only read on the broker's loop thread.
 */
#ifndef RMQ_BROKER_ACL_H
#define RMQ_BROKER_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remoting/remoting.h"

typedef struct acl acl;

/* Apache's default place: $ROCKETMQ_HOME/conf/plain_acl.yml. */
#define ACL_DEFAULT_FILE "conf/plain_acl.yml"

/* Builds an ACL from the text of a plain_acl.yml; NULL with the reason (and line) in err. */
acl *acl_parse(const char *yaml, char *err, size_t errlen);
/*
 * Reads PATH. A file that does not exist gives an empty ACL, as Apache runs
 * with one (it then refuses every request not from a white-listed address).
 */
acl *acl_load(const char *path, char *err, size_t errlen);
void acl_free(acl *a);

/*
 * Checks REQ, which came from REMOTE ("ip:port", as rmq_conn_remote gives it).
 * RMQ_OK, or RMQ_ERR with Apache's AclException message in err.
 * QUERY_MESSAGE is accepted signed either with or without its
 * _UNIQUE_KEY_QUERY field (Apache's broker leaves it out, its client signs it).
 */
int acl_check(const acl *a, const rmq_cmd *req, const char *remote, char *err, size_t errlen);

/* Permission.java: what a resource is needed for (acl_check_signed). */
enum { ACL_PERM_ANY = 2, ACL_PERM_PUB = 4, ACL_PERM_SUB = 8 };

/* A resource a request that is not a remoting command names: a topic, or a group. */
typedef struct acl_need {
    const char *name;
    bool group;
    uint8_t perm;  /* ACL_PERM_* */
} acl_need;

/*
 * PlainPermissionManager.validate for a request whose signature covers CONTENT
 * only (Apache 5.2's gRPC proxy: PlainAccessResource.parse(GeneratedMessageV3),
 * the content is the x-mq-date-time header): SIGNATURE (Base64 of the HMAC-SHA1,
 * NULL when absent) by ACCESS_KEY (NULL when absent), from REMOTE, needing NEEDS.
 * RMQ_OK, or RMQ_ERR with the AclException message in err.
 */
int acl_check_signed(const acl *a, const char *access_key, const char *signature, const void *content, size_t len,
                     const char *remote, const acl_need *needs, int n, char *err, size_t errlen);

/* AclSigner.calSignature: Base64(HMAC-SHA1(secret, data)), NUL-terminated. */
#define ACL_SIGNATURE_LEN 28
void acl_sign(const char *secret, const void *data, size_t len, char out[ACL_SIGNATURE_LEN + 1]);
/*
 * Whether SIGNATURE signs REQ with SECRET (AclUtils.combineRequestContent: the
 * extFields' values by key, then the body; see acl_sign.c). ACL 2.0 checks the
 * same signature with the user's password (acl2.h).
 */
bool acl_signature_matches(const rmq_cmd *req, const char *secret, const char *signature,
                           bool with_unique_key_query);
/* A signature over bytes other than a remoting command's (a gRPC call's x-mq-date-time). */
typedef struct acl_signed_content {
    const char *signature;  /* Base64; NULL when the request carries none */
    const void *data;
    size_t len;
} acl_signed_content;
/* Whether SC (an acl_signed_content) is signed with SECRET; the form both ACLs' checks take. */
bool acl_content_signed(const char *secret, const void *sc);
/* AclClientRPCHook.doBeforeRequest: adds AccessKey, then the Signature of every field and the body. */
void acl_sign_request(rmq_cmd *req, const char *access_key, const char *secret_key);

/*
 * A hook for rmq_server_set_hook with the ACL as its argument: NULL to go on,
 * or the SYSTEM_ERROR answer whose remark is
 * "org.apache.rocketmq.acl.common.AclException: <reason>".
 */
rmq_cmd *acl_server_hook(rmq_conn *conn, rmq_cmd *req, void *acl);

/*
 * plain_acl.yml rewritten as Apache 4.9.8's PlainPermissionManager rewrites it
 * (acl_edit.c); each bumps the file's dataVersion. RMQ_ERR with the
 * AclException's text in err (empty when Apache's answer has its own remark).
 */
typedef struct acl_account_edit {
    const char *access_key, *secret_key, *white_remote_address;
    const char *default_topic_perm, *default_group_perm;
    const char *topic_perms, *group_perms;  /* comma lists, NULL when not given */
    bool admin;
} acl_account_edit;
int acl_file_update_account(const char *path, const acl_account_edit *e, char *err, size_t errlen);
/* RMQ_ERR with an empty err when the account is not in the file. */
int acl_file_delete_account(const char *path, const char *access_key, char *err, size_t errlen);
int acl_file_set_global_white(const char *path, const char *list, char *err, size_t errlen);
/* The file's dataVersion; counter and timestamp are left alone when it has none. */
int acl_file_version(const char *path, int64_t *counter, int64_t *timestamp);

#endif
