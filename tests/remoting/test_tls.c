/*
 * TLS on the remoting port (NettyRemotingServer.HandshakeHandler): one port serves
 * TLS and plain clients in permissive mode, enforcing refuses plain, disabled refuses
 * TLS, a silent socket blocks nobody; certificate, key password and client-auth
 * settings under Apache's tls.server.* names. The certificate is made here with
 * OpenSSL; the TLS client is OpenSSL's SSL_connect with hand-built frames.
 */
#include <check.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/util.h"
#include "remoting/remoting.h"
#include "tls_certs.h"

enum { CODE_ECHO = 1000 };
#define KEY_PASSWORD "s3cret"

/* The certificate and keys, made once per test process. */
static char dir[64];
static char cert_path[128], key_path[128], enc_key_path[128];
static char garbage_path[128], other_key_path[128];
static X509 *cert, *other_cert;  /* other: a second self-signed certificate no one trusts */
static EVP_PKEY *key, *other_key;

typedef struct server_fixture {
    struct event_base *base;
    rmq_server *srv;
    pthread_t thread;
    char addr[32];
    struct event *stop;
    atomic_int closes;
} server_fixture;

static server_fixture fx;

#define REQUIRE TC_REQUIRE

/* A self-signed certificate for CN=localhost, valid from an hour ago for a day. */
static X509 *self_signed(EVP_PKEY *k, long serial) { return tc_cert(k, "localhost", serial, NULL, NULL, -3600, 24 * 3600, 0); }

static void make_certificate(void)
{
    snprintf(dir, sizeof dir, "/tmp/rmq_tls_XXXXXX");
    REQUIRE(mkdtemp(dir));
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(enc_key_path, sizeof enc_key_path, "%s/key-enc.pem", dir);
    snprintf(garbage_path, sizeof garbage_path, "%s/garbage.pem", dir);
    snprintf(other_key_path, sizeof other_key_path, "%s/other-key.pem", dir);
    key = tc_key();
    cert = self_signed(key, 1);
    other_key = tc_key();
    other_cert = self_signed(other_key, 2);

    tc_write_cert(cert_path, cert);
    tc_write_key(key_path, key);
    tc_write_key(other_key_path, other_key);
    FILE *f = fopen(garbage_path, "w");
    REQUIRE(f && fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f) >= 0);
    fclose(f);
    f = fopen(enc_key_path, "w");
    REQUIRE(f && PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), (unsigned char *)KEY_PASSWORD,
                                        (int)strlen(KEY_PASSWORD), NULL, NULL));
    fclose(f);
}

static void remove_certificate(void)
{
    unlink(cert_path);
    unlink(key_path);
    unlink(enc_key_path);
    unlink(garbage_path);
    unlink(other_key_path);
    rmdir(dir);
    X509_free(cert);
    EVP_PKEY_free(key);
    X509_free(other_cert);
    EVP_PKEY_free(other_key);
}

static int echo_proc(rmq_conn *c, rmq_cmd *req, rmq_cmd **resp, void *arg)
{
    *resp = cmd_new_response(req, 0, NULL);
    const char *v = cmd_ext_get(req, "v");
    if (v) cmd_ext_set(*resp, "v", v);
    return RMQ_OK;
}

static void on_close(rmq_conn *c, void *arg) { fx.closes++; }

static void stop_cb(evutil_socket_t fd, short what, void *arg) { event_base_loopbreak(fx.base); }

static void *loop_main(void *arg)
{
    event_base_loop(fx.base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* tls.server.* as a production tls.properties gives them (test mode off, so that Apache
 * too would serve these files and honour the client-auth keys); NULL values are left unset. */
static void tls_settings(rmq_tls_config *t, const char *mode, const char *cert_file, const char *key_file,
                         const char *password)
{
    rmq_tls_config_defaults(t);
    ck_assert_int_eq(rmq_tls_config_set(t, "tls.test.mode.enable", "false"), RMQ_OK);
    if (mode) ck_assert_int_eq(rmq_tls_config_set(t, "tls.server.mode", mode), RMQ_OK);
    if (cert_file) ck_assert_int_eq(rmq_tls_config_set(t, "tls.server.certPath", cert_file), RMQ_OK);
    if (key_file) ck_assert_int_eq(rmq_tls_config_set(t, "tls.server.keyPath", key_file), RMQ_OK);
    if (password) ck_assert_int_eq(rmq_tls_config_set(t, "tls.server.keyPassword", password), RMQ_OK);
}

/* Starts the server on 127.0.0.1:0 in its own thread; takes (frees) the settings. */
static void start_server(rmq_tls_config *t)
{
    memset(&fx, 0, sizeof fx);
    fx.base = event_base_new();
    rmq_server_config cfg;
    rmq_server_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.idle_seconds = 1;
    cfg.tls = *t;
    const char *err = NULL;
    fx.srv = rmq_server_new(fx.base, &cfg, &err);
    rmq_tls_config_free(t);
    ck_assert_msg(fx.srv != NULL, "%s", err);
    rmq_server_register(fx.srv, CODE_ECHO, echo_proc, NULL);
    rmq_server_on_close(fx.srv, on_close, NULL);
    snprintf(fx.addr, sizeof fx.addr, "127.0.0.1:%d", rmq_server_port(fx.srv));
    fx.stop = event_new(fx.base, -1, 0, stop_cb, NULL);
    pthread_create(&fx.thread, NULL, loop_main, NULL);
}

/*
 * Stops the server once it has closed `connections` connections (every one the test
 * made that got past the first byte): libevent 2.1 never finalizes a TLS bufferevent
 * freed after its loop has stopped, so none may be left open for rmq_server_free.
 */
static void stop_server(int connections)
{
    for (int i = 0; i < 500 && fx.closes < connections; i++) usleep(10000);
    ck_assert_int_eq(fx.closes, connections);
    event_active(fx.stop, EV_READ, 0);
    pthread_join(fx.thread, NULL);
    event_free(fx.stop);
    rmq_server_free(fx.srv);
    event_base_free(fx.base);
}

static void start_with(const char *mode, const char *cert_file, const char *key_file, const char *password)
{
    rmq_tls_config t;
    tls_settings(&t, mode, cert_file, key_file, password);
    start_server(&t);
}

/* A blocking socket with a 5 s guard on every read and write. */
static int connect_blocking(void)
{
    char err[256];
    int fd = rmq_connect_blocking(fx.addr, 2000, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* An ECHO request written out by hand: [len][0x00 | hdrLen][JSON header]. */
static size_t echo_frame(uint8_t *out, size_t cap, int opaque, const char *v)
{
    char hdr[256];
    int h = snprintf(hdr, sizeof hdr,
                     "{\"code\":%d,\"extFields\":{\"v\":\"%s\"},\"flag\":0,\"language\":\"JAVA\","
                     "\"opaque\":%d,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}",
                     CODE_ECHO, v, opaque);
    ck_assert_uint_le((size_t)h + 8, cap);
    put_be32(out, (uint32_t)(4 + h));
    put_be32(out + 4, (uint32_t)h); /* serialize type JSON (0) in the top byte */
    memcpy(out + 8, hdr, (size_t)h);
    return (size_t)h + 8;
}

static bool ssl_read_full(SSL *ssl, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        int n = SSL_read(ssl, buf + got, (int)(len - got));
        if (n <= 0) return false;
        got += (size_t)n;
    }
    return true;
}

/* Send ECHO over the TLS session and check the answer; false if the session fails. */
static bool tls_echo(SSL *ssl, int opaque, const char *v)
{
    uint8_t frame[512];
    size_t n = echo_frame(frame, sizeof frame, opaque, v);
    if (SSL_write(ssl, frame, (int)n) != (int)n) return false;
    uint8_t pre[4];
    if (!ssl_read_full(ssl, pre, 4)) return false;
    uint32_t len = get_be32(pre);
    ck_assert_uint_ge(len, 4);
    ck_assert_uint_le(len, 1 << 20);
    uint8_t *body = malloc(len);
    bool ok = ssl_read_full(ssl, body, len);
    if (ok) {
        rmq_cmd *resp;
        const char *err;
        ck_assert_int_eq(cmd_decode(body, len, &resp, &err), RMQ_OK);
        ck_assert(cmd_is_response(resp));
        ck_assert_int_eq(resp->opaque, opaque);
        ck_assert_int_eq(resp->code, 0);
        ck_assert_str_eq(cmd_ext_get(resp, "v"), v);
        cmd_free(resp);
    }
    free(body);
    return ok;
}

typedef struct tls_client {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
} tls_client;

/* SSL_connect to the fixture presenting CLIENT_CERT (with CLIENT_KEY), or none when NULL. */
static bool tls_connect_as(tls_client *tc, X509 *client_cert, EVP_PKEY *client_key)
{
    tc->ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_ptr_nonnull(tc->ctx);
    SSL_CTX_set_verify(tc->ctx, SSL_VERIFY_NONE, NULL); /* Apache's test-mode client */
    if (client_cert) {
        ck_assert_int_eq(SSL_CTX_use_certificate(tc->ctx, client_cert), 1);
        ck_assert_int_eq(SSL_CTX_use_PrivateKey(tc->ctx, client_key), 1);
    }
    tc->fd = connect_blocking();
    tc->ssl = SSL_new(tc->ctx);
    SSL_set_fd(tc->ssl, tc->fd);
    bool ok = SSL_connect(tc->ssl) == 1;
    ERR_clear_error();
    return ok;
}

/* SSL_connect to the fixture; with_cert presents our certificate as the client's. */
static bool tls_connect(tls_client *tc, bool with_cert)
{
    return tls_connect_as(tc, with_cert ? cert : NULL, with_cert ? key : NULL);
}

static void tls_close(tls_client *tc)
{
    SSL_free(tc->ssl);
    SSL_CTX_free(tc->ctx);
    close(tc->fd);
}

/* Full round trip over TLS, and the server showed the configured certificate. */
static void assert_tls_works(int opaque)
{
    tls_client tc;
    ck_assert_msg(tls_connect(&tc, false), "TLS handshake failed");
    X509 *peer = SSL_get1_peer_certificate(tc.ssl);
    ck_assert_ptr_nonnull(peer);
    ck_assert_int_eq(X509_cmp(peer, cert), 0);
    X509_free(peer);
    ck_assert(tls_echo(tc.ssl, opaque, "over-tls"));
    ck_assert(tls_echo(tc.ssl, opaque + 1, "again"));
    tls_close(&tc);
}

/* The handshake, or the first exchange after it, fails. */
static void assert_tls_refused(bool with_cert)
{
    tls_client tc;
    bool ok = tls_connect(&tc, with_cert) && tls_echo(tc.ssl, 5, "x");
    ck_assert_msg(!ok, "TLS session worked but should have been refused");
    tls_close(&tc);
}

static void plain_echo(int fd, int opaque)
{
    uint8_t frame[512];
    size_t n = echo_frame(frame, sizeof frame, opaque, "plain");
    ck_assert_int_eq(send(fd, frame, n, MSG_NOSIGNAL), (ssize_t)n);
    char err[256];
    rmq_cmd *resp = rmq_read_frame_fd(fd, 5000, err, sizeof err);
    ck_assert_msg(resp != NULL, "%s", err);
    ck_assert_int_eq(resp->opaque, opaque);
    ck_assert_str_eq(cmd_ext_get(resp, "v"), "plain");
    cmd_free(resp);
}

static void assert_plain_works(void)
{
    int fd = connect_blocking();
    plain_echo(fd, 11);
    plain_echo(fd, 12);
    close(fd);
}

static void assert_plain_refused(void)
{
    int fd = connect_blocking();
    uint8_t frame[512];
    size_t n = echo_frame(frame, sizeof frame, 13, "plain");
    send(fd, frame, n, MSG_NOSIGNAL);
    uint8_t b;
    ck_assert_int_le(recv(fd, &b, 1, 0), 0); /* EOF or reset, never an answer */
    close(fd);
}

START_TEST(test_permissive_serves_tls_and_plain_on_one_port)
{
    start_with(NULL, cert_path, key_path, NULL); /* permissive is the default */
    assert_tls_works(1);
    assert_plain_works();
    assert_tls_works(3);
    stop_server(3);
}
END_TEST

START_TEST(test_enforcing_refuses_plain)
{
    start_with("enforcing", cert_path, key_path, NULL);
    assert_plain_refused();
    assert_tls_works(1);
    stop_server(1);
}
END_TEST

START_TEST(test_disabled_refuses_tls)
{
    start_with("disabled", cert_path, key_path, NULL);
    assert_tls_refused(false);
    assert_plain_works();
    stop_server(1);
}
END_TEST

START_TEST(test_permissive_without_certificate_refuses_tls_only)
{
    start_with("permissive", NULL, NULL, NULL);
    assert_tls_refused(false);
    assert_plain_works();
    stop_server(1);
}
END_TEST

START_TEST(test_silent_client_blocks_nobody)
{
    start_with(NULL, cert_path, key_path, NULL);
    int silent = connect_blocking();
    int silent_tls = connect_blocking();
    ck_assert_int_eq(send(silent_tls, "\x16", 1, MSG_NOSIGNAL), 1); /* a handshake that stalls */
    assert_tls_works(1);
    assert_plain_works();
    /* Then dropped like an idle connection (idle_seconds = 1). */
    uint8_t b;
    ck_assert_int_le(recv(silent, &b, 1, 0), 0);
    ck_assert_int_le(recv(silent_tls, &b, 1, 0), 0);
    close(silent);
    close(silent_tls);
    stop_server(3);
}
END_TEST

START_TEST(test_encrypted_key_with_password)
{
    start_with(NULL, cert_path, enc_key_path, KEY_PASSWORD);
    assert_tls_works(1);
    stop_server(1);
}
END_TEST

START_TEST(test_bad_settings_fail_at_start)
{
    const struct {
        const char *mode, *cert, *key, *password;
    } cases[] = {
        {"permissive", cert_path, enc_key_path, "wrong"},
        {"permissive", cert_path, enc_key_path, NULL},
        {"permissive", "/nonexistent/cert.pem", key_path, NULL},
        {"permissive", garbage_path, key_path, NULL},       /* a certificate that does not parse */
        {"permissive", cert_path, other_key_path, NULL},    /* a key that is not the certificate's */
        {"enforcing", NULL, NULL, NULL},
    };
    struct event_base *base = event_base_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rmq_server_config cfg;
        rmq_server_config_defaults(&cfg);
        cfg.host = "127.0.0.1";
        tls_settings(&cfg.tls, cases[i].mode, cases[i].cert, cases[i].key, cases[i].password);
        const char *err = NULL;
        rmq_server *s = rmq_server_new(base, &cfg, &err);
        ck_assert_msg(s == NULL, "case %zu started", i);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "tls.server."));
        rmq_tls_config_free(&cfg.tls);
    }
    event_base_free(base);
}
END_TEST

START_TEST(test_client_auth_required)
{
    rmq_tls_config t;
    tls_settings(&t, NULL, cert_path, key_path, NULL);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.need.client.auth", "require"), RMQ_OK);
    start_server(&t);
    assert_tls_refused(false);
    /* authClient=false (default): any client certificate is accepted. */
    tls_client tc;
    ck_assert(tls_connect(&tc, true));
    ck_assert(tls_echo(tc.ssl, 1, "with-cert"));
    tls_close(&tc);
    stop_server(2);
}
END_TEST

START_TEST(test_client_auth_verified_against_trust_path)
{
    rmq_tls_config t;
    tls_settings(&t, NULL, cert_path, key_path, NULL);
    rmq_tls_config_set(&t, "tls.server.need.client.auth", "REQUIRE"); /* case-insensitive */
    rmq_tls_config_set(&t, "tls.server.authClient", "true");
    rmq_tls_config_set(&t, "tls.server.trustCertPath", cert_path);
    start_server(&t);
    tls_client tc;
    ck_assert(tls_connect(&tc, true)); /* our self-signed certificate is the trusted one */
    ck_assert(tls_echo(tc.ssl, 1, "trusted"));
    tls_close(&tc);
    stop_server(1);
}
END_TEST

/*
 * need.client.auth=require with authClient=true: a client certificate the trust path does
 * not vouch for fails the handshake (or the session right after it), none is answered, and
 * the server goes on serving: a client with the trusted certificate gets through.
 */
START_TEST(test_untrusted_client_certificate_refused)
{
    rmq_tls_config t;
    tls_settings(&t, "enforcing", cert_path, key_path, NULL);
    rmq_tls_config_set(&t, "tls.server.need.client.auth", "require");
    rmq_tls_config_set(&t, "tls.server.authClient", "true");
    rmq_tls_config_set(&t, "tls.server.trustCertPath", cert_path);
    start_server(&t);
    tls_client tc;
    bool ok = tls_connect_as(&tc, other_cert, other_key) && tls_echo(tc.ssl, 7, "untrusted");
    ck_assert_msg(!ok, "an untrusted client certificate was served");
    tls_close(&tc);
    assert_tls_refused(false);  /* and none at all */
    ck_assert(tls_connect(&tc, true));
    ck_assert(tls_echo(tc.ssl, 8, "trusted"));
    tls_close(&tc);
    stop_server(3);
}
END_TEST

START_TEST(test_apache_key_names)
{
    /* TlsMode.parse: exact lower-case names; anything else is permissive. */
    ck_assert_int_eq(rmq_tls_mode_parse("disabled"), RMQ_TLS_DISABLED);
    ck_assert_int_eq(rmq_tls_mode_parse("enforcing"), RMQ_TLS_ENFORCING);
    ck_assert_int_eq(rmq_tls_mode_parse("permissive"), RMQ_TLS_PERMISSIVE);
    ck_assert_int_eq(rmq_tls_mode_parse("ENFORCING"), RMQ_TLS_PERMISSIVE);
    ck_assert_int_eq(rmq_tls_mode_parse(NULL), RMQ_TLS_PERMISSIVE);
    ck_assert_str_eq(rmq_tls_mode_name(RMQ_TLS_ENFORCING), "enforcing");

    rmq_tls_config t;
    rmq_tls_config_defaults(&t);
    ck_assert_int_eq(t.mode, RMQ_TLS_PERMISSIVE);
    ck_assert(t.test_mode);               /* tls.test.mode.enable defaults to true */
    ck_assert(!rmq_tls_client_enabled(&t)); /* tls.enable unset: only when enforcing */
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.mode", "enforcing"), RMQ_OK);
    ck_assert(rmq_tls_client_enabled(&t));
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.enable", "false"), RMQ_OK);
    ck_assert(!rmq_tls_client_enabled(&t));
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.mode", "disabled"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.certPath", "/c.pem"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.keyPath", "/k.pem"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.keyPassword", "pw"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.need.client.auth", "optional"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.authClient", "true"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.trustCertPath", "/ca.pem"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.client.keyPath", "/x"), RMQ_OK);
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.keypath", "/x"), RMQ_AGAIN); /* case matters */
    ck_assert_int_eq(rmq_tls_config_set(&t, "listenPort", "1"), RMQ_AGAIN);
    ck_assert_int_eq(t.mode, RMQ_TLS_DISABLED);
    ck_assert_str_eq(t.cert_path, "/c.pem");
    ck_assert_str_eq(t.key_path, "/k.pem");
    ck_assert_str_eq(t.key_password, "pw");
    ck_assert_str_eq(t.need_client_auth, "optional");
    ck_assert(t.auth_client);
    ck_assert_str_eq(t.trust_cert_path, "/ca.pem");
    /* TlsHelper.isNullOrEmpty: an empty value unsets. */
    ck_assert_int_eq(rmq_tls_config_set(&t, "tls.server.keyPassword", ""), RMQ_OK);
    ck_assert_ptr_null(t.key_password);
    rmq_tls_config_free(&t);
    ck_assert_ptr_null(t.cert_path);
    ck_assert_int_eq(t.mode, RMQ_TLS_PERMISSIVE);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    rmq_remoting_init();
    make_certificate();
    Suite *s = suite_create("remoting_tls");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_permissive_serves_tls_and_plain_on_one_port);
    tcase_add_test(tc, test_untrusted_client_certificate_refused);
    tcase_add_test(tc, test_enforcing_refuses_plain);
    tcase_add_test(tc, test_disabled_refuses_tls);
    tcase_add_test(tc, test_permissive_without_certificate_refuses_tls_only);
    tcase_add_test(tc, test_silent_client_blocks_nobody);
    tcase_add_test(tc, test_encrypted_key_with_password);
    tcase_add_test(tc, test_bad_settings_fail_at_start);
    tcase_add_test(tc, test_client_auth_required);
    tcase_add_test(tc, test_client_auth_verified_against_trust_path);
    tcase_add_test(tc, test_apache_key_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_certificate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
