/*
 * ACL 2.0 (src/broker/acl2): an AclInfo body through the store's checks, then
 * one request through authentication and authorization. Input: a flag byte,
 * the AclInfo JSON, the client's "ip:port" and the user's password, each ended
 * by a NUL byte, then one remoting frame (without its length prefix). The
 * store starts empty with the user "u" (a super user with flag bit 1); the ACL
 * is put for "User:u" when the body names no subject; with flag bit 0 the
 * harness signs the request as "u" as AclClientRPCHook does, so the policy
 * matching behind the signature check is reached. Bit 2 turns authentication
 * off, leaving authorization alone.
 */
#include <unistd.h>

#include "../testproc.h"
#include "broker/acl.h"
#include "broker/acl2.h"
#include "common/fjson.h"
#include "fuzz.h"

static char *dir, *file;

static void cleanup(void)
{
    test_rmdir(dir);
    free(dir);
    free(file);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet();
    const char *tmp = getenv("TMPDIR");
    dir = str_printf("%s/fuzz-acl2.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) abort();
    file = str_printf("%s/" AUTH_FILE, dir);
    atexit(cleanup);
    return 0;
}

static char *acl_text(const auth_acl *stored)
{
    cJSON *j = auth_acl_to_json(stored);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    fuzz_in in = {data, data + size};
    uint8_t flags = fuzz_u8(&in);
    size_t json_len;
    char *json = fuzz_str(&in, 0, &json_len);
    char *remote = fuzz_str(&in, 0, NULL);
    char *password = fuzz_str(&in, 0, NULL);
    unlink(file);  /* every input starts from an empty store */
    auth_options opt = {.authentication_enabled = !(flags & 4), .authorization_enabled = true, .cluster_name = "C"};
    char err[512] = "";
    auth *a = auth_open(dir, &opt, err, sizeof err);
    FUZZ_ASSERT(a != NULL);
    auth_user u = {(char *)"u", password, flags & 2 ? AUTH_SUPER : AUTH_NORMAL, 0};
    bool user = auth_user_create(a, &u, err, sizeof err) == AUTH_OK;
    FUZZ_ASSERT(user || err[0]);  /* a blank password is refused with a reason */

    cJSON *body = fjson_parse(json, json_len, NULL);
    auth_acl *given = cJSON_IsObject(body) ? auth_acl_from_json(body) : NULL;
    cJSON_Delete(body);
    if (given) {
        if (!given->subject) given->subject = xstrdup("User:u");
        err[0] = 0;
        if (auth_acl_put(a, given, err, sizeof err) != AUTH_OK) FUZZ_ASSERT(err[0] != 0);
    }
    /* What is stored reads back the same, from its JSON and from the file. */
    const auth_acl *stored = NULL;
    if (user && auth_acl_get(a, "u", &stored, err, sizeof err) == AUTH_OK && stored) {
        char *text = acl_text(stored);
        cJSON *again = cJSON_Parse(text);
        auth_acl *copy = auth_acl_from_json(again);
        cJSON_Delete(again);
        FUZZ_ASSERT(copy != NULL);
        char *text2 = acl_text(copy);
        FUZZ_ASSERT(!strcmp(text, text2));
        auth_acl_free(copy);
        free(text2);
        auth *reopened = auth_open(dir, &opt, err, sizeof err);
        FUZZ_ASSERT(reopened != NULL);
        const auth_acl *loaded = NULL;
        FUZZ_ASSERT(auth_acl_get(reopened, "u", &loaded, err, sizeof err) == AUTH_OK && loaded);
        char *text3 = acl_text(loaded);
        FUZZ_ASSERT(!strcmp(text, text3));
        free(text3);
        auth_free(reopened);
        free(text);
    }

    rmq_cmd *req;
    const char *why;
    if (cmd_decode(in.p, fuzz_left(&in), &req, &why) == RMQ_OK) {
        if (flags & 1) acl_sign_request(req, "u", password);
        err[0] = 0;
        if (auth_check(a, req, remote, err, sizeof err) != RMQ_OK) FUZZ_ASSERT(err[0] != 0);
        cmd_free(req);
    }
    auth_free(a);
    free(json);
    free(remote);
    free(password);
    return 0;
}
