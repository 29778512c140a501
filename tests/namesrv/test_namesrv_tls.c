/*
 * mqnamesrv enforcing TLS with client certificates required, configured where Apache's
 * NamesrvStartup takes it: -Dtls.server.mode and -Dtls.config.file in JAVA_OPT, the rest
 * (test mode off, certificate, need.client.auth=require, authClient, trustCertPath) in that
 * file. Bad clients are closed cleanly and the name server goes on serving: a plain
 * connection, a garbage handshake, no certificate, an expired certificate of the trusted
 * CA, a certificate of another CA. A client with a valid certificate of the CA is served,
 * before and after them, and the name server exits cleanly (0, no sanitizer report).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../broker/broker_client.h"
#include "../remoting/tls_certs.h"
#include "common/util.h"

#define GET_BROKER_CLUSTER_INFO 106

static test_proc ns;
static char *dir, *ns_dir; /* ours: the certificates; the name server's: its files and log */

static char *path_in(const char *name) { return str_printf("%s/%s", dir, name); }

/* NAME.pem / NAME.key in dir: a key and a certificate ISSUER signed, valid FROM_S..TO_S. */
static void write_pair(const char *name, X509 *issuer, EVP_PKEY *issuer_key, long from_s, long to_s)
{
    static long serial = 10;
    EVP_PKEY *k = tc_key();
    X509 *c = tc_cert(k, name, serial++, issuer, issuer_key, from_s, to_s, 0);
    char *cp = str_printf("%s/%s.pem", dir, name), *kp = str_printf("%s/%s.key", dir, name);
    tc_write_cert(cp, c);
    tc_write_key(kp, k);
    free(cp), free(kp);
    X509_free(c);
    EVP_PKEY_free(k);
}

static void setup(void)
{
    rmq_remoting_init();
    char *base = test_tmpdir("test_namesrv_tls_certs");
    dir = base;
    EVP_PKEY *ca_key = tc_key(), *other_key = tc_key();
    X509 *ca = tc_cert(ca_key, "test-ca", 1, NULL, NULL, -3600, 86400, 1);
    X509 *other = tc_cert(other_key, "other-ca", 2, NULL, NULL, -3600, 86400, 1);
    char *ca_path = path_in("ca.pem");
    tc_write_cert(ca_path, ca);
    write_pair("server", NULL, NULL, -3600, 86400);
    write_pair("good", ca, ca_key, -3600, 86400);
    write_pair("expired", ca, ca_key, -2 * 86400, -86400);
    write_pair("stranger", other, other_key, -3600, 86400);
    X509_free(ca), X509_free(other);
    EVP_PKEY_free(ca_key), EVP_PKEY_free(other_key);

    char *props = path_in("tls.properties");
    char *text = str_printf("tls.test.mode.enable=false\ntls.server.certPath=%s/server.pem\n"
                            "tls.server.keyPath=%s/server.key\ntls.server.need.client.auth=require\n"
                            "tls.server.authClient=true\ntls.server.trustCertPath=%s\n",
                            dir, dir, ca_path);
    ck_assert_int_eq(write_file_atomic(props, text, strlen(text)), 0);
    char *opt = str_printf("-Dtls.server.mode=enforcing -Dtls.config.file=%s", props);
    setenv("JAVA_OPT", opt, 1);
    tb_namesrv_start(&ns, &ns_dir, "test_namesrv_tls");
    unsetenv("JAVA_OPT");
    free(opt), free(text), free(props), free(ca_path);
}

static void teardown(void)
{
    tb_namesrv_stop(&ns, ns_dir); /* exit 0: no crash, no leak report */
    test_rmdir(dir);
    free(dir);
}

/* GET_BROKER_CLUSTER_INFO over TLS presenting WHO's certificate (NULL: none); the code or -1. */
static int call_as(const char *who)
{
    rmq_tls_config t;
    rmq_tls_config_defaults(&t);
    rmq_tls_config_set(&t, "tls.test.mode.enable", "false");
    if (who) {
        char *cp = str_printf("%s/%s.pem", dir, who), *kp = str_printf("%s/%s.key", dir, who);
        rmq_tls_config_set(&t, "tls.client.certPath", cp);
        rmq_tls_config_set(&t, "tls.client.keyPath", kp);
        free(cp), free(kp);
    }
    char err[256];
    rmq_cmd *req = cmd_new_request(GET_BROKER_CLUSTER_INFO);
    rmq_cmd *resp = rmq_invoke_sync_tls(ns.addr, req, 3000, &t, err, sizeof err);
    int code = resp ? resp->code : -1;
    cmd_free(req), cmd_free(resp);
    rmq_tls_config_free(&t);
    return code;
}

/* BYTES sent raw; the name server must close without answering. */
static void assert_closed_after(const char *bytes, size_t len)
{
    char err[256];
    int fd = rmq_connect_blocking(ns.addr, 2000, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    ck_assert_int_eq(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
    int64_t deadline = mono_ms() + 5000;
    char b[256];
    ssize_t n = -1;
    while (mono_ms() < deadline) {
        n = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) break;
        usleep(20000); /* a TLS alert may come first: keep reading until the close */
    }
    ck_assert_msg(n <= 0 && mono_ms() < deadline, "not closed");
    close(fd);
}

START_TEST(bad_clients_are_closed_and_good_ones_served)
{
    ck_assert_int_eq(call_as("good"), 0);
    /* Plain remoting, then a TLS record header followed by garbage. */
    uint8_t plain[] = {0, 0, 0, 8, 0, 0, 0, 2, '{', '}'};
    assert_closed_after((const char *)plain, sizeof plain);
    static const char garbage[] = "\x16\x03\x01\x00\x20this is not a ClientHello at all";
    assert_closed_after(garbage, sizeof garbage - 1);
    ck_assert_int_eq(call_as(NULL), -1);        /* no certificate */
    ck_assert_int_eq(call_as("expired"), -1);   /* the trusted CA's, but expired */
    ck_assert_int_eq(call_as("stranger"), -1);  /* another CA's */
    ck_assert_int_eq(call_as("good"), 0);       /* still serving */
    /* Refused for the reasons named, not for a client-side failure. */
    char *log = str_printf("%s/stdout", ns_dir);
    size_t len;
    char *text = read_file(log, &len);
    ck_assert_ptr_nonnull(text);
    int verify_failed = 0;
    for (char *p = text; (p = strstr(p, "TLS: certificate verify failed")); p++) verify_failed++;
    ck_assert_int_eq(verify_failed, 2); /* the expired one and the stranger */
    ck_assert_ptr_nonnull(strstr(text, "TLS: peer did not return a certificate"));
    ck_assert_ptr_nonnull(strstr(text, "plain connection while TLS is enforced"));
    free(text), free(log);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {bad_clients_are_closed_and_good_ones_served, NULL};
    return tb_run_tests("namesrv_tls", 60, setup, teardown, tests);
}
