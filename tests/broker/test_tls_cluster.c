/*
 * A name server, a SYNC_MASTER and its slave, all with tls.server.mode=enforcing given as
 * Apache's brokers take it (-Dtls.server.mode in JAVA_OPT) and in test mode (certificates
 * made at start, no files). The brokers register with the TLS name server over TLS, the
 * slave takes the master's topics over TLS (slave sync) and its messages over the HA port,
 * which stays plain as in Apache (HAService / DefaultHAService / AutoSwitchHAClient open
 * plain SocketChannels): a SYNC_MASTER's SEND_OK proves the slave acknowledged. Plain
 * clients are refused everywhere; the brokers unregister over TLS when they stop.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_client.h"
#include "common/util.h"
#include "../check_run.h"

#define TOPIC "TlsClusterTopic"
#define DEADLINE_MS 20000 /* a guard against hanging, not a speed check */

static test_proc namesrv;
static char *namesrv_dir, *namesrv_arg;
static test_broker master, slave;
static rmq_tls_config client_tls; /* the Java client's TLS switch: test mode, trusts any server */

static void setup(void)
{
    /* A tls.config.file that does not exist keeps a host's /etc/rocketmq/tls.properties out. */
    setenv("JAVA_OPT", "-Xmx1g -Dtls.server.mode=enforcing -Dtls.config.file=/nonexistent/tls.properties", 1);
    rmq_tls_config_defaults(&client_tls);
    tb_namesrv_start(&namesrv, &namesrv_dir, "test_tls_cluster_ns");
    namesrv_arg = str_printf("--namesrvAddr=%s", namesrv.addr);
    tb_init(&master, "test_tls_cluster_master", namesrv_arg, "--brokerRole=SYNC_MASTER",
            "--registerNameServerPeriod=1000", NULL);
    tb_init(&slave, "test_tls_cluster_slave", namesrv_arg, "--brokerRole=SLAVE", "--brokerId=1",
            "--registerNameServerPeriod=1000", NULL);
}

static void teardown(void)
{
    tb_done(&slave);
    tb_done(&master);
    /* Both unregistered over TLS: the name server refused no plain connection but our probe's. */
    char *log = str_printf("%s/stdout", namesrv_dir);
    size_t len;
    char *text = read_file(log, &len);
    ck_assert_ptr_nonnull(text);
    int plain = 0;
    for (char *p = text; (p = strstr(p, "plain connection while TLS is enforced")); p++) plain++;
    ck_assert_msg(plain == 1, "the name server closed %d plain connections, want 1 (the test's)", plain);
    free(text), free(log);
    tb_namesrv_stop(&namesrv, namesrv_dir);
    free(namesrv_arg);
    unsetenv("JAVA_OPT");
}

static rmq_cmd *tls_call(const char *addr, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync_tls(addr, req, BC_TIMEOUT, &client_tls, err, sizeof err);
    ck_assert_msg(resp != NULL, "request %d to %s: %s", req->code, addr, err);
    cmd_free(req);
    return resp;
}

/* The name server's route of TOPIC (GET_ROUTEINFO_BY_TOPIC) names both brokers' addresses. */
static bool route_has_both(void)
{
    rmq_cmd *req = cmd_new_request(105);
    cmd_ext_set(req, "topic", TOPIC);
    rmq_cmd *r = tls_call(namesrv.addr, req);
    char *body = r->code == 0 ? xstrndup((const char *)r->body, r->body_len) : NULL;
    bool ok = body && strstr(body, master.proc.addr) && strstr(body, slave.proc.addr);
    free(body);
    cmd_free(r);
    return ok;
}

START_TEST(tls_everywhere_but_the_ha_port)
{
    /* Plain requests are closed by every enforcing server. */
    char err[256];
    rmq_cmd *req = cmd_new_request(105);
    cmd_ext_set(req, "topic", TOPIC);
    ck_assert_ptr_null(rmq_invoke_sync(namesrv.addr, req, 2000, err, sizeof err));
    cmd_free(req);
    req = tb_create_topic_req(TOPIC, 2);
    ck_assert_ptr_null(rmq_invoke_sync(master.proc.addr, req, 2000, err, sizeof err));
    cmd_free(req);

    rmq_cmd *r = tls_call(master.proc.addr, tb_create_topic_req(TOPIC, 2));
    ck_assert_int_eq(r->code, 0);
    cmd_free(r);
    /* Registration over TLS: the route of the master's topic lists both brokers. */
    int64_t deadline = mono_ms() + DEADLINE_MS;
    bool both = false;
    while (mono_ms() < deadline && !(both = route_has_both())) usleep(200000);
    ck_assert_msg(both, "the TLS name server never routed " TOPIC " to both brokers");

    /* SYNC_MASTER: SEND_OK only once the slave has the message (over the plain HA port). */
    int code = -1;
    while (mono_ms() < deadline && code != 0) {
        r = tls_call(master.proc.addr, tb_send_req("PG_tls_cluster", TOPIC, 0, 0, NULL, "over-tls"));
        code = r->code;
        cmd_free(r);
        if (code != 0) usleep(200000); /* SLAVE_NOT_AVAILABLE until the slave has connected */
    }
    ck_assert_int_eq(code, 0);
    /* The slave serves it once slave sync (over TLS) brought it the topic. */
    msg_record rec;
    for (r = NULL; mono_ms() < deadline; usleep(200000)) {
        r = tls_call(slave.proc.addr, tb_pull_req("CG_tls_cluster", TOPIC, 0, 0, 0));
        if (r->code == 0 && tb_records(r, &rec, 1) == 1) break;
        cmd_free(r);
        r = NULL;
    }
    ck_assert_msg(r, "the slave never served the message");
    ck_assert(rec.body_len == strlen("over-tls") && memcmp(rec.body, "over-tls", rec.body_len) == 0);
    cmd_free(r);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {tls_everywhere_but_the_ha_port, NULL};
    return tb_run_tests("tls_cluster", 60, setup, teardown, tests);
}
