/*
 * End to end: transactional messages through the real mqbroker, with this
 * test as the producer — it heart-beats its producer group, keeps its socket
 * open, sends half messages and answers CHECK_TRANSACTION_STATE with
 * END_TRANSACTION (fromTransactionCheck), as DefaultMQProducerImpl does.
 * Checks run every 300 ms for halves older than 1 s.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker_client.h"

#define CHECK_MAX 15

static test_broker tb;

static void setup(void)
{
    tb_init(&tb, "test_transaction", "--transactionCheckInterval=300", "--transactionTimeOut=1000",
            "--transactionCheckMax=15", NULL);
    tb_create_topic(&tb, "TxT", 1);
}
static void teardown(void) { tb_done(&tb); }

typedef struct producer {
    int fd;
    const char *group;
} producer;

typedef struct half {
    int64_t queue_offset;    /* tranStateTableOffset */
    int64_t phys_offset;     /* commitLogOffset */
    char uniq[64];
} half;

static rmq_cmd *invoke(const producer *p, rmq_cmd *req)
{
    char err[256];
    rmq_cmd *resp = rmq_invoke_fd(p->fd, req, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(resp != NULL, "request %d: %s", req->code, err);
    cmd_free(req);
    return resp;
}

/* Connects and registers the producer group with HEART_BEAT (producerDataSet). */
static void producer_connect(producer *p, const char *group)
{
    char err[256];
    p->group = group;
    p->fd = rmq_connect_blocking(tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    ck_assert_msg(p->fd >= 0, "connect: %s", err);
    rmq_cmd *hb = cmd_new_request(34);
    char *body = str_printf("{\"clientID\":\"127.0.0.1@tx-test\",\"consumerDataSet\":[],"
                            "\"producerDataSet\":[{\"groupName\":\"%s\"}]}", group);
    cmd_take_body(hb, body, strlen(body));
    rmq_cmd *resp = invoke(p, hb);
    ck_assert_int_eq(resp->code, 0);
    cmd_free(resp);
}

static half send_half(const producer *p, const char *body, int n)
{
    half h;
    snprintf(h.uniq, sizeof h.uniq, "7F00000100002A9F00000000000000%02X", n);
    char *props = str_printf("TRAN_MSG\001true\002PGROUP\001%s\002UNIQ_KEY\001%s\002TAGS\001X", p->group, h.uniq);
    rmq_cmd *resp = invoke(p, tb_send_req(p->group, "TxT", 0, MSG_TRANS_PREPARED, props, body));
    ck_assert_int_eq(resp->code, 0);
    msg_host host;
    ck_assert_int_eq(msg_offset_id_decode(cmd_ext_get(resp, "msgId"), &host, &h.phys_offset), RMQ_OK);
    h.queue_offset = tb_ext_i64(resp, "queueOffset");
    free(props);
    cmd_free(resp);
    return h;
}

/* END_TRANSACTION; oneway as the Java client sends it, else a request (Go, C++) and its answer's code. */
static int end_tx(const producer *p, const half *h, int state, bool from_check, bool oneway)
{
    rmq_cmd *req = cmd_new_request(37);
    cmd_ext_set(req, "producerGroup", p->group);
    cmd_ext_set_int(req, "tranStateTableOffset", h->queue_offset);
    cmd_ext_set_int(req, "commitLogOffset", h->phys_offset);
    cmd_ext_set_int(req, "commitOrRollback", state);
    cmd_ext_set_bool(req, "fromTransactionCheck", from_check);
    cmd_ext_set(req, "msgId", h->uniq);
    cmd_ext_set(req, "transactionId", h->uniq);
    if (oneway) {
        req->flag |= RMQ_FLAG_ONEWAY;
        ck_assert_int_eq(rmq_write_cmd_fd(p->fd, req), RMQ_OK);
        cmd_free(req);
        return 0;
    }
    rmq_cmd *resp = invoke(p, req);
    int code = resp->code;
    if (code) fprintf(stderr, "END_TRANSACTION answered %d %s\n", code, resp->remark ? resp->remark : "");
    cmd_free(resp);
    return code;
}

/* The next CHECK_TRANSACTION_STATE within ms, or NULL. */
static rmq_cmd *next_check(const producer *p, int ms)
{
    int64_t deadline = mono_ms() + ms;
    for (;;) {
        int left = (int)(deadline - mono_ms());
        if (left <= 0) return NULL;
        char err[256];
        rmq_cmd *c = rmq_read_frame_fd(p->fd, left, err, sizeof err);
        if (!c) return NULL;
        if (c->code == 39 && !cmd_is_response(c)) return c;
        cmd_free(c);
    }
}

/* Asserts the check is about h's transaction; returns the copy it names. */
static half check_target(const rmq_cmd *c, const half *h, int times)
{
    ck_assert(cmd_is_oneway(c));
    ck_assert_str_eq(cmd_ext_get(c, "msgId"), h->uniq);
    ck_assert_str_eq(cmd_ext_get(c, "transactionId"), h->uniq);
    half copy = *h;
    copy.queue_offset = tb_ext_i64(c, "tranStateTableOffset");
    copy.phys_offset = tb_ext_i64(c, "commitLogOffset");
    ck_assert_int_gt(copy.queue_offset, h->queue_offset);
    /* The body: the message as the producer sent it, with the copy's offsets. */
    msg_record r;
    const char *why;
    ck_assert_msg(msg_record_decode(c->body, c->body_len, &r, &why) == RMQ_OK, "%s", why);
    ck_assert_uint_eq(r.total_size, c->body_len);
    ck_assert(r.topic_len == 3 && memcmp(r.topic, "TxT", 3) == 0);
    ck_assert_int_eq(r.queue_id, 0);
    ck_assert_int_eq(r.queue_offset, copy.queue_offset);
    ck_assert_int_eq(r.phys_offset, copy.phys_offset);
    char id[MSG_ID_MAX_LEN + 1];
    msg_offset_id_create(id, &r.store_host, copy.phys_offset);
    ck_assert_str_eq(cmd_ext_get(c, "offsetMsgId"), id);
    char want[16];
    snprintf(want, sizeof want, "%d", times);
    tb_assert_prop(&r, "TRANSACTION_CHECK_TIMES", want);
    tb_assert_prop(&r, "REAL_TOPIC", "TxT");
    tb_assert_prop(&r, "PGROUP", "PG_tx");
    return copy;
}

static int delivered(const char *body)
{
    rmq_cmd *p = tb_pull(&tb, "CG_tx", "TxT", 0, 0, 0);
    msg_record rec[8];
    int n = p->code == 0 ? tb_records(p, rec, 8) : 0, same = 0;
    for (int i = 0; i < n; i++) same += rec[i].body_len == strlen(body) && memcmp(rec[i].body, body, rec[i].body_len) == 0;
    ck_assert_int_eq(same, n);
    cmd_free(p);
    return n;
}

START_TEST(test_unknown_is_checked_back_then_commit_is_delivered_once)
{
    producer p;
    producer_connect(&p, "PG_tx");
    half h = send_half(&p, "tx-unknown", 1);
    ck_assert_int_eq(tb_max_offset(&tb, "TxT", 0), 0);  /* invisible while half */
    end_tx(&p, &h, MSG_TRANS_NOT_TYPE, false, true);
    rmq_cmd *c = next_check(&p, 5000);
    ck_assert_msg(c != NULL, "no CHECK_TRANSACTION_STATE");
    half copy = check_target(c, &h, 1);
    ck_assert_int_eq(end_tx(&p, &copy, MSG_TRANS_COMMIT, true, false), 0);
    ck_assert_int_eq(delivered("tx-unknown"), 1);
    rmq_cmd *pull = tb_pull(&tb, "CG_tx", "TxT", 0, 0, 0);
    msg_record r;
    tb_records(pull, &r, 1);
    ck_assert_int_eq(MSG_TRANSACTION_TYPE(r.sysflag), MSG_TRANS_COMMIT);
    ck_assert_int_eq(r.prepared_tx_offset, copy.phys_offset);
    tb_assert_prop(&r, "UNIQ_KEY", h.uniq);
    tb_assert_prop(&r, "TRAN_MSG", "true");  /* Apache stores the half's properties string as it is */
    /* Duplicate and late decisions, on the copy and on the original: nothing more. */
    ck_assert_int_eq(end_tx(&p, &copy, MSG_TRANS_COMMIT, true, false), 0);
    ck_assert_int_eq(end_tx(&p, &h, MSG_TRANS_COMMIT, false, false), 0);
    end_tx(&p, &h, MSG_TRANS_ROLLBACK, false, true);
    rmq_cmd *again = next_check(&p, 2000);
    ck_assert_msg(again == NULL, "checked again after the commit");
    ck_assert_int_eq(delivered("tx-unknown"), 1);
    cmd_free(pull), cmd_free(c);
    close(p.fd);
}
END_TEST

/*
 * A committed message reaches consumers with exactly the producer's properties plus what
 * Apache's broker adds: CLUSTER (SendMessageProcessor) and REAL_TOPIC/REAL_QID
 * (parseHalfMessageInner, kept in the stored string by endMessageTransaction). The
 * producer's WAIT=true is not overwritten with WAIT=false.
 */
START_TEST(test_committed_message_keeps_the_producers_properties)
{
    producer p;
    producer_connect(&p, "PG_tx");
    const char *uniq = "7F00000100002A9F0000000000000077";
    char *props = str_printf("TRAN_MSG\001true\002PGROUP\001PG_tx\002UNIQ_KEY\001%s\002WAIT\001true\002"
                             "TAGS\001X\002own\001v1", uniq);
    rmq_cmd *resp = invoke(&p, tb_send_req("PG_tx", "TxT", 0, MSG_TRANS_PREPARED, props, "tx-props"));
    ck_assert_int_eq(resp->code, 0);
    half h;
    msg_host host;
    snprintf(h.uniq, sizeof h.uniq, "%s", uniq);
    ck_assert_int_eq(msg_offset_id_decode(cmd_ext_get(resp, "msgId"), &host, &h.phys_offset), RMQ_OK);
    h.queue_offset = tb_ext_i64(resp, "queueOffset");
    cmd_free(resp);
    free(props);
    ck_assert_int_eq(end_tx(&p, &h, MSG_TRANS_COMMIT, false, false), 0);
    rmq_cmd *pull = tb_pull(&tb, "CG_tx", "TxT", 0, 0, 0);
    msg_record r;
    ck_assert_int_eq(tb_records(pull, &r, 1), 1);
    static const char *const want[][2] = {
        {"TRAN_MSG", "true"}, {"PGROUP", "PG_tx"}, {"UNIQ_KEY", "7F00000100002A9F0000000000000077"},
        {"WAIT", "true"}, {"TAGS", "X"}, {"own", "v1"}, {"REAL_TOPIC", "TxT"}, {"REAL_QID", "0"},
        {"CLUSTER", "DefaultCluster"},
    };
    int n = 0;
    const char *cur = (const char *)r.props, *end = cur + r.props_len;
    msg_prop_view v;
    while (msg_props_next(&cur, end, &v)) {
        bool known = false;
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
            if (strlen(want[i][0]) == v.key_len && memcmp(want[i][0], v.key, v.key_len) == 0) {
                ck_assert_msg(strlen(want[i][1]) == v.value_len && memcmp(want[i][1], v.value, v.value_len) == 0,
                              "%s=%.*s", want[i][0], (int)v.value_len, v.value);
                known = true;
            }
        ck_assert_msg(known, "unexpected property %.*s", (int)v.key_len, v.key);
        n++;
    }
    ck_assert_int_eq(n, (int)(sizeof want / sizeof *want));
    cmd_free(pull);
    close(p.fd);
}
END_TEST

START_TEST(test_rollback_is_never_delivered)
{
    producer p;
    producer_connect(&p, "PG_tx");
    half h = send_half(&p, "tx-rollback", 2);
    ck_assert_int_eq(end_tx(&p, &h, MSG_TRANS_ROLLBACK, false, false), 0);
    ck_assert_int_eq(end_tx(&p, &h, MSG_TRANS_COMMIT, false, false), 0);  /* late commit: ignored */
    rmq_cmd *c = next_check(&p, 2000);
    ck_assert_msg(c == NULL, "a rolled-back transaction was checked");
    ck_assert_int_eq(delivered("tx-rollback"), 0);
    /* The op record: RMQ_SYS_TRANS_OP_HALF_TOPIC, tags "d", body the half queue offset. */
    rmq_cmd *op = tb_pull(&tb, "CG_tx", "RMQ_SYS_TRANS_OP_HALF_TOPIC", 0, 0, 0);
    ck_assert_int_eq(op->code, 0);
    msg_record r[4];
    ck_assert_int_eq(tb_records(op, r, 4), 1);
    ck_assert(r[0].body_len == 1 && r[0].body[0] == '0');
    tb_assert_prop(&r[0], "TAGS", "d");
    cmd_free(op);
    close(p.fd);
}
END_TEST

START_TEST(test_end_transaction_checks_group_and_offsets)
{
    producer p;
    producer_connect(&p, "PG_tx");
    half h = send_half(&p, "tx-checked", 3);
    producer other = {p.fd, "PG_other"};
    rmq_cmd *req = cmd_new_request(37);
    cmd_ext_set(req, "producerGroup", "PG_other");
    cmd_ext_set_int(req, "tranStateTableOffset", h.queue_offset);
    cmd_ext_set_int(req, "commitLogOffset", h.phys_offset);
    cmd_ext_set(req, "commitOrRollback", "8");
    cmd_ext_set(req, "fromTransactionCheck", "false");
    cmd_ext_set(req, "msgId", h.uniq);
    rmq_cmd *resp = invoke(&other, req);
    ck_assert_int_eq(resp->code, 1);
    ck_assert_str_eq(resp->remark, "The producer group wrong");
    cmd_free(resp);
    half bad = h;
    bad.queue_offset++;
    ck_assert_int_eq(end_tx(&p, &bad, MSG_TRANS_COMMIT, false, false), 1);
    bad = h;
    bad.phys_offset += 1000000;
    ck_assert_int_eq(end_tx(&p, &bad, MSG_TRANS_COMMIT, false, false), 1);
    ck_assert_int_eq(delivered("tx-checked"), 0);
    ck_assert_int_eq(end_tx(&p, &h, MSG_TRANS_COMMIT, false, false), 0);
    ck_assert_int_eq(delivered("tx-checked"), 1);
    close(p.fd);
}
END_TEST

START_TEST(test_producer_that_never_answers_is_dropped_after_max_checks)
{
    producer p;
    producer_connect(&p, "PG_tx");
    half h = send_half(&p, "tx-silent", 4);
    int checks = 0;
    for (rmq_cmd *c; (c = next_check(&p, 2500)); cmd_free(c)) check_target(c, &h, ++checks);
    ck_assert_int_eq(checks, CHECK_MAX);
    ck_assert_int_eq(tb_max_offset(&tb, "TRANS_CHECK_MAX_TIME_TOPIC", 0), 1);
    ck_assert_int_eq(delivered("tx-silent"), 0);
    close(p.fd);
}
END_TEST

START_TEST(test_kill9_between_prepare_and_commit_delivers_once_after_the_check)
{
    producer p;
    producer_connect(&p, "PG_tx");
    half h = send_half(&p, "tx-crash", 5);
    close(p.fd);
    tb_restart(&tb, SIGKILL);
    producer_connect(&p, "PG_tx");
    rmq_cmd *c = next_check(&p, 5000);
    ck_assert_msg(c != NULL, "no check after the restart");
    half copy = check_target(c, &h, 1);
    ck_assert_int_eq(end_tx(&p, &copy, MSG_TRANS_COMMIT, true, false), 0);
    ck_assert_int_eq(delivered("tx-crash"), 1);
    cmd_free(c);
    /* And after another crash the decision holds: no check, no second delivery. */
    close(p.fd);
    tb_restart(&tb, SIGKILL);
    producer_connect(&p, "PG_tx");
    c = next_check(&p, 2000);
    ck_assert_msg(c == NULL, "checked again after the commit and a restart");
    ck_assert_int_eq(delivered("tx-crash"), 1);
    close(p.fd);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_unknown_is_checked_back_then_commit_is_delivered_once,
        test_committed_message_keeps_the_producers_properties,
        test_rollback_is_never_delivered,
        test_end_transaction_checks_group_and_offsets,
        test_producer_that_never_answers_is_dropped_after_max_checks,
        test_kill9_between_prepare_and_commit_delivers_once_after_the_check,
        NULL,
    };
    return tb_run_tests("transaction", 60, setup, teardown, tests);
}
