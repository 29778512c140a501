/*
 * TLS settings under Apache's names (TlsSystemConfig, TlsMode) and the server's
 * OpenSSL context built from them (TlsHelper.buildSslContext(forClient=false)).
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "conn.h"

static const char *const mode_names[] = {
    [RMQ_TLS_DISABLED] = "disabled",
    [RMQ_TLS_PERMISSIVE] = "permissive",
    [RMQ_TLS_ENFORCING] = "enforcing",
};

enum rmq_tls_mode rmq_tls_mode_parse(const char *name)
{
    for (int m = RMQ_TLS_DISABLED; m <= RMQ_TLS_ENFORCING; m++)
        if (name && strcmp(name, mode_names[m]) == 0) return (enum rmq_tls_mode)m;
    return RMQ_TLS_PERMISSIVE;
}

const char *rmq_tls_mode_name(enum rmq_tls_mode mode) { return mode_names[mode]; }

void rmq_tls_config_defaults(rmq_tls_config *t)
{
    memset(t, 0, sizeof *t);
    t->mode = RMQ_TLS_PERMISSIVE;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = *v ? xstrdup(v) : NULL; /* TlsHelper.isNullOrEmpty: empty means unset */
}

int rmq_tls_config_set(rmq_tls_config *t, const char *key, const char *value)
{
    if (strcmp(key, "tls.server.mode") == 0) t->mode = rmq_tls_mode_parse(value);
    else if (strcmp(key, "tls.server.certPath") == 0) set_str(&t->cert_path, value);
    else if (strcmp(key, "tls.server.keyPath") == 0) set_str(&t->key_path, value);
    else if (strcmp(key, "tls.server.keyPassword") == 0) set_str(&t->key_password, value);
    else if (strcmp(key, "tls.server.need.client.auth") == 0) set_str(&t->need_client_auth, value);
    else if (strcmp(key, "tls.server.authClient") == 0) t->auth_client = parse_java_bool(value);
    else if (strcmp(key, "tls.server.trustCertPath") == 0) set_str(&t->trust_cert_path, value);
    else return RMQ_AGAIN;
    return RMQ_OK;
}

void rmq_tls_config_free(rmq_tls_config *t)
{
    free(t->cert_path);
    free(t->key_path);
    free(t->key_password);
    free(t->need_client_auth);
    free(t->trust_cert_path);
    rmq_tls_config_defaults(t);
}

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

int tls_server_ctx_new(const rmq_tls_config *t, const char *name, SSL_CTX **out, const char **err)
{
    *out = NULL;
    if (t->mode == RMQ_TLS_DISABLED) return RMQ_OK;
    if (!t->cert_path || !t->key_path) {
        if (t->mode == RMQ_TLS_ENFORCING) {
            *err = "tls.server.mode=enforcing needs tls.server.certPath and tls.server.keyPath";
            return RMQ_ERR;
        }
        log_info(name, "no tls.server.certPath/keyPath: TLS connections will be refused");
        return RMQ_OK;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        log_ssl_errors(name, "SSL_CTX_new", NULL);
        *err = "cannot create the TLS context (see log)";
        return RMQ_ERR;
    }
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* OpenSSL 3 reports a peer closing without close_notify as an error; for framed
     * remoting it is an ordinary close (libevent's dirty shutdown covers OpenSSL 1.1). */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, t->key_password);
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_path) != 1) {
        log_ssl_errors(name, "cannot load tls.server.certPath", t->cert_path);
        *err = "cannot load tls.server.certPath (see log)";
        goto fail;
    }
    int key_ok = SSL_CTX_use_PrivateKey_file(ctx, t->key_path, SSL_FILETYPE_PEM) == 1;
    /* The password is borrowed from the caller: forget it once the key is read. */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (!key_ok || SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl_errors(name, "cannot load tls.server.keyPath (or it does not match the certificate)",
                       t->key_path);
        *err = "cannot load tls.server.keyPath (see log)";
        goto fail;
    }
    int verify = client_verify_mode(t->need_client_auth);
    if (verify != SSL_VERIFY_NONE) {
        if (!t->auth_client) {
            SSL_CTX_set_verify(ctx, verify, trust_any_cb);
        } else {
            int ok = t->trust_cert_path ? SSL_CTX_load_verify_locations(ctx, t->trust_cert_path, NULL)
                                        : SSL_CTX_set_default_verify_paths(ctx);
            if (ok != 1) {
                log_ssl_errors(name, "cannot load tls.server.trustCertPath", t->trust_cert_path);
                *err = "cannot load tls.server.trustCertPath (see log)";
                goto fail;
            }
            SSL_CTX_set_verify(ctx, verify, NULL);
        }
    }
    log_info(name, "TLS %s mode, certificate %s", rmq_tls_mode_name(t->mode), t->cert_path);
    *out = ctx;
    return RMQ_OK;
fail:
    SSL_CTX_free(ctx);
    return RMQ_ERR;
}
