/*
 * Plain ACL (src/broker/acl): the plain_acl.yml reader and the check of one
 * request against it. Input: a flag byte, the YAML text, the client's
 * "ip:port" and a secret key, each ended by a NUL byte, then one remoting
 * frame (without its length prefix) as the request. With flag bit 0 the
 * harness signs the request with that secret as AclClientRPCHook does, so the
 * permission rules behind the signature check are reached too.
 */
#include "broker/acl.h"
#include "fuzz.h"

static int by_key(const void *a, const void *b)
{
    return strcmp((*(const rmq_ext_field *const *)a)->key, (*(const rmq_ext_field *const *)b)->key);
}

/* AclUtils.combineRequestContent: the ext values sorted by key (Signature left out), then the body. */
static void sign(rmq_cmd *req, const char *secret)
{
    cmd_ext_remove(req, "Signature");
    const rmq_ext_field **sorted = xmalloc(((size_t)req->n_ext + 1) * sizeof *sorted);
    for (int i = 0; i < req->n_ext; i++) sorted[i] = &req->ext[i];
    qsort(sorted, (size_t)req->n_ext, sizeof *sorted, by_key);
    size_t len = req->body_len;
    for (int i = 0; i < req->n_ext; i++) len += strlen(sorted[i]->val);
    char *content = xmalloc(len + 1), *p = content;
    for (int i = 0; i < req->n_ext; i++) p = stpcpy(p, sorted[i]->val);
    if (req->body_len) memcpy(p, req->body, req->body_len);
    char sig[ACL_SIGNATURE_LEN + 1];
    acl_sign(secret, content, len, sig);
    cmd_ext_set(req, "Signature", sig);
    free(content);
    free(sorted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    fuzz_in in = {data, data + size};
    uint8_t flags = fuzz_u8(&in);
    char *yaml = fuzz_str(&in, 0, NULL);
    char *remote = fuzz_str(&in, 0, NULL);
    char *secret = fuzz_str(&in, 0, NULL);
    char err[512] = "";
    acl *a = acl_parse(yaml, err, sizeof err);
    if (!a) {
        FUZZ_ASSERT(err[0] != 0);
    } else {
        rmq_cmd *req;
        const char *why;
        if (cmd_decode(in.p, fuzz_left(&in), &req, &why) == RMQ_OK) {
            if (flags & 1) sign(req, secret);
            err[0] = 0;
            if (acl_check(a, req, remote, err, sizeof err) != RMQ_OK) FUZZ_ASSERT(err[0] != 0);
            cmd_free(req);
        }
        acl_free(a);
    }
    free(yaml);
    free(remote);
    free(secret);
    return 0;
}
