/*
 * Test certificates made with OpenSSL: P-256 keys, certificates for CN=localhost signed
 * by themselves or by a CA, valid over a chosen window, written as PEM files.
 */
#ifndef TEST_TLS_CERTS_H
#define TEST_TLS_CERTS_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>

/* Outside a test Check cannot report; a broken setup just aborts. */
#define TC_REQUIRE(cond) ((cond) ? (void)0 : (fprintf(stderr, "setup failed: %s\n", #cond), abort()))

/*
 * A certificate for K named CN, valid from FROM_S to TO_S seconds from now, signed by
 * ISSUER/ISSUER_KEY (self-signed when ISSUER is NULL); IS_CA marks a CA.
 */
static inline X509 *tc_cert(EVP_PKEY *k, const char *cn, long serial, X509 *issuer, EVP_PKEY *issuer_key,
                            long from_s, long to_s, int is_ca)
{
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
    X509_gmtime_adj(X509_getm_notBefore(c), from_s);
    X509_gmtime_adj(X509_getm_notAfter(c), to_s);
    X509_set_pubkey(c, k);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    if (is_ca) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : c, c, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        TC_REQUIRE(ext && X509_add_ext(c, ext, -1));
        X509_EXTENSION_free(ext);
    }
    TC_REQUIRE(X509_sign(c, issuer ? issuer_key : k, EVP_sha256()) > 0);
    return c;
}

static inline EVP_PKEY *tc_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    TC_REQUIRE(k);
    return k;
}

static inline void tc_write_cert(const char *path, X509 *c)
{
    FILE *f = fopen(path, "w");
    TC_REQUIRE(f && PEM_write_X509(f, c));
    fclose(f);
}

static inline void tc_write_key(const char *path, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    TC_REQUIRE(f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
    fclose(f);
}

#endif
