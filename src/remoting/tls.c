/*
 * OpenSSL contexts built from the TLS settings as TlsHelper.buildSslContext builds
 * Netty's: forClient=false for our servers, forClient=true for our outgoing connections.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "conn.h"

/* Also installed without a password: OpenSSL's default would prompt on the terminal. */
static int key_password_cb(char *buf, int size, int rwflag, void *userdata)
{
    const char *pw = userdata;
    if (!pw) return -1;
    int n = (int)strlen(pw);
    if (n > size) return -1;
    memcpy(buf, pw, (size_t)n);
    return n;
}

/* InsecureTrustManagerFactory: a client certificate, if any, is taken as it is. */
static int trust_any_cb(int preverify_ok, X509_STORE_CTX *ctx) { return 1; }

/* TlsHelper.parseClientAuthMode: NONE / OPTIONAL / REQUIRE, case-insensitive, else NONE. */
static int client_verify_mode(const char *need_client_auth)
{
    if (!need_client_auth) return SSL_VERIFY_NONE;
    if (strcasecmp(need_client_auth, "optional") == 0) return SSL_VERIFY_PEER;
    if (strcasecmp(need_client_auth, "require") == 0)
        return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    return SSL_VERIFY_NONE;
}

static void log_ssl_errors(const char *name, const char *what, const char *path)
{
    char buf[256] = "no detail";
    unsigned long e = ERR_get_error(); /* the first error is the cause; the rest is the trace */
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    log_error(name, "%s %s: %s", what, path ? path : "", buf);
}

/* Test mode's server certificate (Netty's SelfSignedCertificate): made at start, for
 * CN=localhost, valid a year. */
static int use_self_signed(SSL_CTX *ctx)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *c = X509_new();
    int ok = k && c;
    if (ok) {
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), (long)(now_ms() & 0x7fffffff));
        X509_gmtime_adj(X509_getm_notBefore(c), -3600);
        X509_gmtime_adj(X509_getm_notAfter(c), 365L * 24 * 3600);
        X509_set_pubkey(c, k);
        X509_NAME *name = X509_get_subject_name(c);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
        X509_set_issuer_name(c, name);
        ok = X509_sign(c, k, EVP_sha256()) > 0 && SSL_CTX_use_certificate(ctx, c) == 1 &&
             SSL_CTX_use_PrivateKey(ctx, k) == 1;
    }
    X509_free(c);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

static SSL_CTX *ctx_new(const SSL_METHOD *method, const char *name)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx) {
        log_ssl_errors(name, "SSL_CTX_new", NULL);
        return NULL;
    }
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* OpenSSL 3 reports a peer closing without close_notify as an error; for framed
     * remoting it is an ordinary close (libevent's dirty shutdown covers OpenSSL 1.1). */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    return ctx;
}

/* Certificate chain and key (an encrypted key with PASSWORD); 0, or -1 logged. */
static int use_files(SSL_CTX *ctx, const char *name, const char *cert, const char *key, const char *password,
                     const char *cert_key_name, const char **err)
{
    SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)password);
    int rc = -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        log_ssl_errors(name, "cannot load the certificate", cert);
        *err = cert_key_name;
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl_errors(name, "cannot load the key (or it does not match the certificate)", key);
        *err = cert_key_name;
    } else {
        rc = 0;
    }
    /* The password is borrowed from the caller: forget it once the key is read. */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    return rc;
}

/* Verify the peer against TRUST_PATH's CAs, or the system's when it is NULL. */
static int trust(SSL_CTX *ctx, const char *name, const char *trust_path)
{
    int ok = trust_path ? SSL_CTX_load_verify_locations(ctx, trust_path, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) log_ssl_errors(name, "cannot load the trusted certificates", trust_path);
    return ok == 1 ? 0 : -1;
}

int tls_server_ctx_new(const rmq_tls_config *t, const char *name, SSL_CTX **out, const char **err)
{
    *out = NULL;
    if (t->mode == RMQ_TLS_DISABLED) return RMQ_OK;
    bool have_files = t->cert_path && t->key_path;
    if (!have_files && !t->test_mode) {
        if (t->mode == RMQ_TLS_ENFORCING) {
            *err = "tls.server.mode=enforcing needs tls.server.certPath and tls.server.keyPath";
            return RMQ_ERR;
        }
        log_info(name, "no tls.server.certPath/keyPath: TLS connections will be refused");
        return RMQ_OK;
    }
    SSL_CTX *ctx = ctx_new(TLS_server_method(), name);
    if (!ctx) {
        *err = "cannot create the TLS context (see log)";
        return RMQ_ERR;
    }
    /* Test mode (tls.test.mode.enable, default true): Apache serves a certificate it makes
     * at start, asks for a client certificate (OPTIONAL) and checks one sent against the
     * JDK's default CAs, whatever the other tls.server.* keys say. We serve the files when
     * they are given (Apache would ignore them) and make a certificate only without them. */
    if (have_files) {
        if (use_files(ctx, name, t->cert_path, t->key_path, t->key_password,
                      "cannot load tls.server.certPath / tls.server.keyPath (see log)", err))
            goto fail;
    } else if (use_self_signed(ctx)) {
        log_ssl_errors(name, "cannot make the test-mode certificate", NULL);
        *err = "cannot make the test-mode TLS certificate (see log)";
        goto fail;
    }
    int verify = t->test_mode ? SSL_VERIFY_PEER : client_verify_mode(t->need_client_auth);
    if (verify != SSL_VERIFY_NONE) {
        if (!t->test_mode && !t->auth_client) {
            SSL_CTX_set_verify(ctx, verify, trust_any_cb);
        } else {
            if (trust(ctx, name, t->test_mode ? NULL : t->trust_cert_path)) {
                *err = "cannot load tls.server.trustCertPath (see log)";
                goto fail;
            }
            SSL_CTX_set_verify(ctx, verify, NULL);
        }
    }
    log_info(name, "TLS %s mode%s, certificate %s, client certificates %s", rmq_tls_mode_name(t->mode),
             t->test_mode ? " (test mode)" : "", have_files ? t->cert_path : "made at start",
             verify == SSL_VERIFY_NONE ? "not asked for" : (verify & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) ? "required" : "optional");
    *out = ctx;
    return RMQ_OK;
fail:
    SSL_CTX_free(ctx);
    return RMQ_ERR;
}

int tls_client_ctx_new(const rmq_tls_config *t, const char *name, SSL_CTX **out, const char **err)
{
    *out = NULL;
    SSL_CTX *ctx = ctx_new(TLS_client_method(), name);
    if (!ctx) {
        *err = "cannot create the TLS context (see log)";
        return RMQ_ERR;
    }
    /* Test mode: trust any server, present no certificate (InsecureTrustManagerFactory). */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (!t->test_mode) {
        if (t->client_auth_server) {
            if (trust(ctx, name, t->client_trust_cert_path)) {
                *err = "cannot load tls.client.trustCertPath (see log)";
                goto fail;
            }
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        }
        if (t->client_cert_path && t->client_key_path &&
            use_files(ctx, name, t->client_cert_path, t->client_key_path, t->client_key_password,
                      "cannot load tls.client.certPath / tls.client.keyPath (see log)", err))
            goto fail;
    }
    *out = ctx;
    return RMQ_OK;
fail:
    SSL_CTX_free(ctx);
    return RMQ_ERR;
}
