/*
 * The controller's state machine against Apache 5.3's ReplicasInfoManager
 * and DefaultElectPolicy: broker ids, registration answers, first election,
 * re-election from the SyncStateSet by (epoch, max offset, priority),
 * AlterSyncStateSet fencing, heartbeat expiry and channel close, and the
 * JSON bodies brokers decode (SyncStateSet, ElectMasterResponseBody).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "controller/controller.h"
#include "../check_run.h"

#define BN "broker-a"
#define CL "DefaultCluster"
#define A1 "127.0.0.1:30911"
#define A2 "127.0.0.1:31911"
#define A3 "127.0.0.1:32911"

static void beat(ctl_state *s, int64_t id, const char *addr, int32_t epoch, int64_t max_offset, int64_t now,
                 rmq_conn *conn)
{
    ctl_heartbeat hb = {.cluster = CL, .broker_name = BN, .broker_addr = addr, .broker_id = id, .epoch = epoch,
                        .max_offset = max_offset, .confirm_offset = -1, .timeout_ms = 3000,
                        .election_priority = INT32_MAX, .conn = conn};
    ctl_on_heartbeat(s, &hb, now);
}

static int64_t expired[4];
static int n_expired;
static void on_gone(void *arg, const char *c, const char *name, int64_t id)
{
    if (n_expired < 4) expired[n_expired++] = id;
}

static void count_set(void *arg, const char *name) { (*(int *)arg)++; }

/* GetNextBrokerId, ApplyBrokerId and RegisterBrokerToController for id ID at ADDR. */
static void join(ctl_state *s, int64_t id, const char *addr, int64_t now, ctl_master_info *m)
{
    ctl_reply r;
    ck_assert_int_eq(ctl_next_broker_id(s, BN), id);
    char code[64];
    snprintf(code, sizeof code, "%s;%lld", addr, (long long)now);
    ck_assert_int_eq(ctl_apply_broker_id(s, CL, BN, id, code, &r), 0);
    ck_assert_int_eq(ctl_register_broker(s, CL, BN, id, addr, now, m, &r), 0);
}

/* Brokers 1 and 2 joined and beating at time 0 (timeout 3 s), broker 1 elected first master. */
static ctl_state *two_brokers(bool unclean)
{
    ctl_state *s = ctl_state_new(unclean);
    ctl_reply r;
    ctl_master_info m;
    join(s, 1, A1, 0, &m);
    join(s, 2, A2, 0, &m);
    beat(s, 1, A1, 0, 0, 0, NULL);
    beat(s, 2, A2, 0, 0, 0, NULL);
    ck_assert_int_eq(ctl_elect_master(s, BN, 1, false, 0, &m, &r), 0);
    return s;
}

START_TEST(test_ids_and_registration)
{
    ctl_state *s = ctl_state_new(false);
    ctl_reply r;
    ctl_master_info m;
    /* An unknown set accepts only id 1. */
    ck_assert_int_eq(ctl_apply_broker_id(s, CL, BN, 2, A2 ";1", &r), CTL_BROKER_ID_INVALID);
    ck_assert_int_eq(ctl_register_broker(s, CL, BN, 1, A1, 0, &m, &r), CTL_BROKER_NEED_TO_BE_REGISTERED);
    join(s, 1, A1, 1000, &m);
    ck_assert_int_eq(m.master_id, CTL_NO_ID);
    ck_assert_int_eq(m.master_epoch, 0);
    /* Id 1 is taken by another check code; the same one may apply again (a restart). */
    ck_assert_int_eq(ctl_apply_broker_id(s, CL, BN, 1, A2 ";5", &r), CTL_BROKER_ID_INVALID);
    ck_assert_int_eq(ctl_apply_broker_id(s, CL, BN, 1, A1 ";1000", &r), 0);
    join(s, 2, A2, 1000, &m);
    ck_assert_int_eq(ctl_next_broker_id(s, BN), 3);
    ck_assert_int_eq(ctl_register_broker(s, CL, BN, 7, A3, 0, &m, &r), CTL_BROKER_NEED_TO_BE_REGISTERED);
    ck_assert_int_eq(ctl_replica_info(s, "nope", &m, &r), CTL_BROKER_METADATA_NOT_EXIST);
    ctl_state_free(s);
}
END_TEST

START_TEST(test_first_election_and_failover)
{
    ctl_state *s = ctl_state_new(false);
    ctl_reply r;
    ctl_master_info m;
    join(s, 1, A1, 1000, &m);
    join(s, 2, A2, 1000, &m);
    beat(s, 1, A1, 0, 0, 1000, NULL);
    beat(s, 2, A2, 0, 0, 1000, NULL);
    /* The first election takes the asking broker (isFirstTimeForElect). */
    ck_assert_int_eq(ctl_elect_master(s, BN, 1, false, 1000, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 1);
    ck_assert_str_eq(m.master_addr, A1);
    ck_assert_int_eq(m.master_epoch, 1);
    ck_assert_int_eq(m.sync_state_set_epoch, 1);
    ck_assert_int_eq(m.n_sync_state_set, 1);
    /* Broker 2 asks too: the master is alive. */
    ck_assert_int_eq(ctl_elect_master(s, BN, 2, false, 1000, &m, &r), CTL_MASTER_STILL_EXIST);
    ck_assert_int_eq(m.master_id, 1);
    /* Registering now tells the master. */
    ck_assert_int_eq(ctl_register_broker(s, CL, BN, 2, A2, 1000, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 1);
    /* The master adds broker 2 to the SyncStateSet; a stale epoch is fenced. */
    int64_t set[] = {1, 2};
    int32_t ne = 0;
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 1, 0, set, 2, 1, 1000, &ne, &r), CTL_FENCED_MASTER_EPOCH);
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 1, 1, set, 2, 0, 1000, &ne, &r), CTL_FENCED_SYNC_STATE_SET_EPOCH);
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 2, 1, set, 2, 1, 1000, &ne, &r), CTL_INVALID_MASTER);
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 1, 1, set, 2, 1, 1000, &ne, &r), 0);
    ck_assert_int_eq(ne, 2);
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 1, 1, set, 2, 2, 1000, &ne, &r), CTL_ALTER_SYNC_STATE_SET_FAILED);
    /* The master's heartbeats stop: after its timeout it is dropped and broker 2 is elected. */
    beat(s, 2, A2, 1, 500, 3500, NULL);
    n_expired = 0;
    ctl_expire(s, 4001, NULL, on_gone, NULL);
    ck_assert_int_eq(n_expired, 1);
    ck_assert_int_eq(expired[0], 1);
    ck_assert(!ctl_broker_alive(s, CL, BN, 1, 4001));
    int need = 0;
    ctl_sets_needing_election(s, 4001, count_set, &need);
    ck_assert_int_eq(need, 1);
    ck_assert_int_eq(ctl_elect_master(s, BN, CTL_NO_ID, false, 4001, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 2);
    ck_assert_str_eq(m.master_addr, A2);
    ck_assert_int_eq(m.master_epoch, 2);
    ck_assert_int_eq(m.sync_state_set_epoch, 3);
    ck_assert_int_eq(m.n_sync_state_set, 1);
    ck_assert_int_eq(m.sync_state_set[0], 2);
    /* The old master comes back: it is told broker 2 leads. */
    beat(s, 1, A1, 1, 900, 5000, NULL);
    ck_assert_int_eq(ctl_register_broker(s, CL, BN, 1, A1, 5000, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 2);
    ck_assert_int_eq(m.master_epoch, 2);
    ctl_state_free(s);
}
END_TEST

START_TEST(test_only_in_sync_replicas_are_elected)
{
    ctl_state *s = two_brokers(false);
    ctl_reply r;
    ctl_master_info m;
    /* Broker 2 never joined the SyncStateSet: without unclean election nobody leads. */
    ctl_expire(s, 0, NULL, NULL, NULL);
    beat(s, 2, A2, 1, 10, 5000, NULL);
    ctl_expire(s, 5000, NULL, NULL, NULL);
    ck_assert_int_eq(ctl_elect_master(s, BN, CTL_NO_ID, false, 5000, &m, &r), CTL_MASTER_NOT_AVAILABLE);
    ck_assert_int_eq(ctl_replica_info(s, BN, &m, &r), 0);
    ck_assert_int_eq(m.master_id, CTL_NO_ID);
    ck_assert_int_eq(m.master_epoch, 2);
    ctl_state_free(s);
    /* With enableElectUncleanMaster it may lead. */
    s = two_brokers(true);
    beat(s, 2, A2, 1, 10, 5000, NULL);
    ctl_expire(s, 5000, NULL, NULL, NULL);
    ck_assert_int_eq(ctl_elect_master(s, BN, CTL_NO_ID, false, 5000, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 2);
    ctl_state_free(s);
}
END_TEST

START_TEST(test_policy_order_and_channel_close)
{
    ctl_state *s = ctl_state_new(false);
    ctl_reply r;
    ctl_master_info m;
    join(s, 1, A1, 0, &m);
    join(s, 2, A2, 0, &m);
    join(s, 3, A3, 0, &m);
    rmq_conn *c1 = (rmq_conn *)(uintptr_t)0x1, *c2 = (rmq_conn *)(uintptr_t)0x2, *c3 = (rmq_conn *)(uintptr_t)0x3;
    beat(s, 1, A1, 1, 100, 0, c1);
    beat(s, 2, A2, 1, 80, 0, c2);
    beat(s, 3, A3, 1, 90, 0, c3);
    ck_assert_int_eq(ctl_elect_master(s, BN, 1, false, 0, &m, &r), 0);
    int64_t all[] = {1, 2, 3};
    int32_t ne;
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 1, 1, all, 3, 1, 0, &ne, &r), 0);
    /* The master's channel closes: it is inactive at once, and the replica with
     * the larger max offset (same epoch) wins. */
    ctl_expire(s, 10, c1, NULL, NULL);
    ck_assert(!ctl_broker_alive(s, CL, BN, 1, 10));
    ck_assert(ctl_broker_alive(s, CL, BN, 2, 10));
    ck_assert_int_eq(ctl_elect_master(s, BN, CTL_NO_ID, false, 10, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 3);
    /* Admin-designated election picks broker 2 if it is in the set (it is not any more). */
    ck_assert_int_eq(ctl_elect_master(s, BN, 2, true, 10, &m, &r), CTL_ELECT_MASTER_FAILED);
    ctl_state_free(s);
}
END_TEST

START_TEST(test_bodies)
{
    ctl_state *s = two_brokers(false);
    ctl_reply r;
    ctl_master_info m;
    ck_assert_int_eq(ctl_replica_info(s, BN, &m, &r), 0);
    size_t len;
    char *j = ctl_sync_state_set_json(&m, &len);
    ck_assert_str_eq(j, "{\"syncStateSet\":[1],\"syncStateSetEpoch\":1}");
    int64_t set[CTL_MAX_REPLICAS];
    int n;
    int32_t e;
    ck_assert_int_eq(ctl_parse_sync_state_set(j, len, set, &n, &e), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(set[0], 1);
    ck_assert_int_eq(e, 1);
    free(j);
    j = ctl_elect_body_json(s, BN, &m, &len);
    ck_assert_ptr_nonnull(strstr(j, "\"brokerMemberGroup\":{\"brokerAddrs\":{"));
    ck_assert_ptr_nonnull(strstr(j, "1:\"" A1 "\""));
    ck_assert_ptr_nonnull(strstr(j, "\"brokerName\":\"" BN "\",\"cluster\":\"" CL "\"}"));
    ck_assert_ptr_nonnull(strstr(j, "\"syncStateSet\":[1]}"));
    free(j);
    const char *names[] = {BN};
    j = ctl_sync_state_data_json(s, names, 1, 0, &len);
    ck_assert_ptr_nonnull(strstr(j, "\"inSyncReplicas\":[{\"alive\":true,\"brokerAddress\":\"" A1 "\",\"brokerId\":1"));
    ck_assert_ptr_nonnull(strstr(j, "\"notInSyncReplicas\":[{\"alive\":true,\"brokerAddress\":\"" A2 "\",\"brokerId\":2"));
    free(j);
    ck_assert_int_eq(ctl_parse_sync_state_set("{\"syncStateSet\":\"x\"}", 20, set, &n, &e), -1);
    /* CleanBrokerData refuses a set with a master unless ids are named, and a live id. */
    ck_assert_int_eq(ctl_clean_broker_data(s, BN, NULL, 0, false, 0, &r), CTL_INVALID_CLEAN_BROKER_METADATA);
    int64_t two[] = {2};
    ck_assert_int_eq(ctl_clean_broker_data(s, BN, two, 1, false, 0, &r), CTL_INVALID_CLEAN_BROKER_METADATA);
    ck_assert_int_eq(ctl_clean_broker_data(s, BN, two, 1, false, 5000, &r), 0);
    ck_assert_int_eq(ctl_next_broker_id(s, BN), 2);
    ctl_state_free(s);
}
END_TEST

START_TEST(test_snapshot_round_trip)
{
    ctl_state *s = two_brokers(false);
    ctl_reply r;
    int64_t set[] = {1, 2};
    int32_t ne;
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 1, 1, set, 2, 1, 0, &ne, &r), 0);
    size_t len;
    char *a = ctl_state_dump(s, &len);
    ctl_state *t = ctl_state_new(false);
    char err[128];
    ck_assert_int_eq(ctl_state_load(t, a, len, err, sizeof err), 0);
    char *b = ctl_state_dump(t, &len);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strstr(a, "\"registerCheckCode\":\"" A1 ";0\""));
    ctl_master_info m;
    ck_assert_int_eq(ctl_replica_info(t, BN, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 1);
    ck_assert_int_eq(m.sync_state_set_epoch, 2);
    ck_assert_int_eq(m.n_sync_state_set, 2);
    /* The same check code may apply again after the restart; another may not. */
    ck_assert_int_eq(ctl_apply_broker_id(t, CL, BN, 2, A2 ";0", &r), 0);
    ck_assert_int_eq(ctl_apply_broker_id(t, CL, BN, 2, A3 ";0", &r), CTL_BROKER_ID_INVALID);
    ck_assert_int_ne(ctl_state_load(t, "{\"brokerSets\":[{\"brokerName\":1}]}", 34, err, sizeof err), 0);
    free(a);
    free(b);
    ctl_state_free(s);
    ctl_state_free(t);
}
END_TEST

/* The leader's changes as events, one log entry's list, for the follower to apply. */
static char events[8192];
static void collect(void *arg, const char *json, size_t len)
{
    size_t n = strlen(events);
    ck_assert_uint_lt(n + len + 3, sizeof events);
    snprintf(events + n, sizeof events - n, "%s%.*s", n > 1 ? "," : "", (int)len, json);
}

static void replay(ctl_state *follower)
{
    strcat(events, "]");
    char err[256];
    ck_assert_msg(ctl_state_apply_events(follower, events, strlen(events), err, sizeof err) == 0, "%s", err);
    strcpy(events, "[");
}

static void assert_same(const ctl_state *a, const ctl_state *b)
{
    size_t la, lb;
    char *x = ctl_state_dump(a, &la), *y = ctl_state_dump(b, &lb);
    ck_assert_str_eq(x, y);
    free(x);
    free(y);
}

/* Every change (ids, address, elections, SyncStateSet, clean) replayed from its events gives the same state. */
START_TEST(test_events_replay_to_the_same_state)
{
    ctl_state *s = ctl_state_new(false), *f = ctl_state_new(false);
    ctl_state_on_change(s, collect, NULL);
    strcpy(events, "[");
    ctl_reply r;
    ctl_master_info m;
    int64_t now = 1000;
    ck_assert_int_eq(ctl_apply_broker_id(s, CL, BN, 1, A1 ";1", &r), 0);
    ck_assert_int_eq(ctl_apply_broker_id(s, CL, BN, 2, A2 ";2", &r), 0);
    ck_assert_int_eq(ctl_apply_broker_id(s, CL, BN, 3, A3 ";3", &r), 0);
    replay(f);
    assert_same(s, f);
    beat(s, 1, A1, 0, 0, now, NULL);
    beat(s, 2, A2, 0, 0, now, NULL);
    ck_assert_int_eq(ctl_register_broker(s, CL, BN, 1, "127.0.0.1:40911", now, &m, &r), 0);   /* a new address */
    ck_assert_int_eq(ctl_elect_master(s, BN, 1, false, now, &m, &r), 0);
    int64_t set[] = {1, 2};
    int32_t epoch;
    ck_assert_int_eq(ctl_alter_sync_state_set(s, BN, 1, 1, set, 2, 1, now, &epoch, &r), 0);
    replay(f);
    assert_same(s, f);
    /* Only broker 2 beats on: the controller elects it; then 3 is cleaned away. */
    beat(s, 2, A2, 1, 100, now + 5000, NULL);
    ck_assert_int_eq(ctl_elect_master(s, BN, CTL_NO_ID, false, now + 5000, &m, &r), 0);
    ck_assert_int_eq(m.master_id, 2);
    int64_t gone[] = {3};
    ck_assert_int_eq(ctl_clean_broker_data(s, BN, gone, 1, false, now + 5000, &r), 0);
    replay(f);
    assert_same(s, f);
    /* Applying is no change to pass on, and a bad entry is refused with a reason. */
    char err[256];
    const char *bad = "[{\"type\":\"NoSuchEvent\",\"brokerName\":\"" BN "\"}]";
    ck_assert_int_ne(ctl_state_apply_events(f, bad, strlen(bad), err, sizeof err), 0);
    ck_assert_str_eq(err, "an unknown or malformed event NoSuchEvent");
    ck_assert_int_ne(ctl_state_apply_events(f, "{}", 2, err, sizeof err), 0);
    ctl_state_free(s);
    ctl_state_free(f);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("controller_state");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ids_and_registration);
    tcase_add_test(tc, test_first_election_and_failover);
    tcase_add_test(tc, test_only_in_sync_replicas_are_elected);
    tcase_add_test(tc, test_policy_order_and_channel_close);
    tcase_add_test(tc, test_bodies);
    tcase_add_test(tc, test_snapshot_round_trip);
    tcase_add_test(tc, test_events_replay_to_the_same_state);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
