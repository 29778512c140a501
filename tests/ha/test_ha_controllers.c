/*
 * Several controller addresses (controllerAddr "a;b;c"), as Apache's broker
 * uses a DLedger controller group: the broker asks each for
 * CONTROLLER_GET_METADATA_INFO until one names the leader, beats to every
 * reachable one and sends everything else to the leader.
 *
 * Two of our controllers with the same controllerDLegerPeers elect a leader
 * (Raft); the other is a follower that names it and answers anything else
 * CONTROLLER_NOT_LEADER. The brokers list an address where nothing listens
 * and the follower, not the leader: they find the leader through the
 * follower, get their ids, are elected and fail over as with one address.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ha_harness.h"

static ctl_namesrv follower;
static const char *leader_id;   /* the elected one, kept in env.ns */
static hh_env env;   /* the leader's name server and the two brokers' configurations */
static test_broker a, b;

static rmq_cmd *ask(const char *addr, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_sync(addr, req, BC_TIMEOUT, err, sizeof err);
    cmd_free(req);
    ck_assert_msg(resp, "no answer from %s: %s", addr, err);
    return resp;
}

START_TEST(test_brokers_find_the_leader_through_a_follower)
{
    /* The follower's metadata names the leader, in DLedgerController's format. */
    rmq_cmd *r = ask(follower.ctl_addr, cmd_new_request(CTL_CODE_GET_METADATA_INFO));
    ck_assert_int_eq(r->code, 0);
    ck_assert_str_eq(cmd_ext_get(r, "controllerLeaderId"), leader_id);
    ck_assert_str_eq(cmd_ext_get(r, "controllerLeaderAddress"), env.ns.ctl_addr);
    ck_assert_str_eq(cmd_ext_get(r, "isLeader"), "false");
    char *peers = leader_id[1] == '0' ? str_printf("n0:%s;n1:%s;", env.ns.ctl_addr, follower.ctl_addr)
                                      : str_printf("n0:%s;n1:%s;", follower.ctl_addr, env.ns.ctl_addr);
    ck_assert_str_eq(cmd_ext_get(r, "peers"), peers);
    free(peers);
    cmd_free(r);
    r = ask(env.ns.ctl_addr, cmd_new_request(CTL_CODE_GET_METADATA_INFO));
    ck_assert_str_eq(cmd_ext_get(r, "isLeader"), "true");
    cmd_free(r);
    rmq_cmd *req = cmd_new_request(CTL_CODE_GET_REPLICA_INFO);
    cmd_ext_set(req, "brokerName", HH_TOPIC);
    r = ask(follower.ctl_addr, req);
    ck_assert_int_eq(r->code, CTL_NOT_LEADER);
    ck_assert_str_eq(r->remark, "The controller is not in leader state");
    cmd_free(r);

    /* The brokers: master, slave in sync, then the master's death elects the slave. */
    char *sent[64];
    int acked = 0;
    hh_start_pair(&env, &a, &b, "test_ha_controllers", "m", 10, sent, &acked);
    hh_kill9(&a);
    hh_wait_controller(&env.ns, 2, 1);
    hh_send_until_ok(&b, "after", sent, &acked);
    char *on_b[64];
    int nb = hh_queue_bodies(&b, on_b, 64);
    ck_assert_int_eq(nb, acked);
    for (int i = 0; i < nb; i++) ck_assert_str_eq(on_b[i], sent[i]);
    hh_free_all(on_b, nb);
    hh_free_all(sent, acked);
    tb_done(&b);
    test_rmdir(a.dir);
    free(a.dir);
}
END_TEST

static void setup(void)
{
    int lport = test_free_port(), fport;
    while ((fport = test_free_port()) == lport) {
    }
    char *peers = str_printf("n0-127.0.0.1:%d;n1-127.0.0.1:%d", lport, fport);
    ck_assert_int_eq(ctl_namesrv_start_peer(&env.ns, "test_ha_controllers_n0", lport, peers, "n0",
                                            "scanNotActiveBrokerInterval=500\n"), 0);
    ck_assert_int_eq(ctl_namesrv_start_peer(&follower, "test_ha_controllers_n1", fport, peers, "n1",
                                            "scanNotActiveBrokerInterval=500\n"), 0);
    free(peers);
    ctl_namesrv *nodes[] = {&env.ns, &follower};
    int leader = ctl_wait_leader(nodes, 2, 15000);
    ck_assert_int_ge(leader, 0);
    leader_id = leader ? "n1" : "n0";
    if (leader) {   /* env.ns is the leader's, which the harness asks */
        ctl_namesrv t = env.ns;
        env.ns = follower;
        follower = t;
    }
    snprintf(env.ns_addr, sizeof env.ns_addr, "%s", env.ns.proc.addr);
    /* Nothing listens on the first address; the leader is not listed at all. */
    char *list = str_printf("127.0.0.1:%d;%s", test_free_port(), follower.ctl_addr);
    env.conf_a = hh_write_conf("test_ha_controllers_conf_a", list, env.ns_addr);
    env.conf_b = hh_write_conf("test_ha_controllers_conf_b", list, env.ns_addr);
    free(list);
}

static void teardown(void)
{
    ck_assert_int_eq(ctl_namesrv_stop(&follower), 0);
    hh_env_stop(&env);
}

int main(void)
{
    const TTest *tests[] = {test_brokers_find_the_leader_through_a_follower, NULL};
    return tb_run_tests("ha_controllers", 120, setup, teardown, tests);
}
