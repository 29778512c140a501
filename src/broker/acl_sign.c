/*
 * acl_sign: request signatures (AclSigner, AclUtils.combineRequestContent).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "acl_int.h"
#include "common/util.h"

void acl_sign(const char *secret, const void *data, size_t len, char out[ACL_SIGNATURE_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), data, len, md, &md_len) || md_len != 20) abort();
    EVP_EncodeBlock((unsigned char *)out, md, (int)md_len);
}

static int ext_cmp(const void *x, const void *y)
{
    return strcmp((*(const rmq_ext_field *const *)x)->key, (*(const rmq_ext_field *const *)y)->key);
}

/*
 * AclUtils.combineRequestContent: the values of the extFields sorted by key
 * (Java's TreeMap; byte order equals UTF-16 order below U+E000), without
 * Signature and, unless with_unique_key_query, _UNIQUE_KEY_QUERY, then the body.
 */
static uint8_t *request_content(const rmq_cmd *req, bool with_unique_key_query, size_t *len_out)
{
    const rmq_ext_field **fields = xmalloc((size_t)(req->n_ext ? req->n_ext : 1) * sizeof *fields);
    int n = 0;
    size_t len = req->body_len;
    for (int i = 0; i < req->n_ext; i++) {
        const char *k = req->ext[i].key;
        if (!strcmp(k, "Signature") || (!with_unique_key_query && !strcmp(k, "_UNIQUE_KEY_QUERY"))) continue;
        fields[n++] = &req->ext[i];
        len += strlen(req->ext[i].val);
    }
    qsort(fields, (size_t)n, sizeof *fields, ext_cmp);
    uint8_t *content = xmalloc(len ? len : 1), *w = content;
    for (int i = 0; i < n; i++) {
        size_t vl = strlen(fields[i]->val);
        memcpy(w, fields[i]->val, vl);
        w += vl;
    }
    if (req->body_len) memcpy(w, req->body, req->body_len);
    free(fields);
    *len_out = len;
    return content;
}

bool acl_signature_matches(const rmq_cmd *req, const char *secret, const char *signature, bool with_unique_key_query)
{
    size_t len;
    uint8_t *content = request_content(req, with_unique_key_query, &len);
    char expected[ACL_SIGNATURE_LEN + 1];
    acl_sign(secret, content, len, expected);
    free(content);
    return strcmp(expected, signature) == 0;
}

bool acl_content_signed(const char *secret, const void *arg)
{
    const acl_signed_content *sc = arg;
    char expected[ACL_SIGNATURE_LEN + 1];
    acl_sign(secret, sc->data, sc->len, expected);
    return sc->signature && strcmp(expected, sc->signature) == 0;
}

void acl_sign_request(rmq_cmd *req, const char *access_key, const char *secret_key)
{
    cmd_ext_set(req, "AccessKey", access_key);
    size_t len;
    uint8_t *content = request_content(req, true, &len);
    char signature[ACL_SIGNATURE_LEN + 1];
    acl_sign(secret_key, content, len, signature);
    free(content);
    cmd_ext_set(req, "Signature", signature);
}
