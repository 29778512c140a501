/*
 * What the disk fault tests (test_diskfull, test_diskfault) share: numbered message bodies
 * a reader can recompute, and the check that a queue still holds exactly the messages
 * sent, intact, after the fault.
 */
#ifndef RMQ_TESTS_FAULT_STORE_H
#define RMQ_TESTS_FAULT_STORE_H

#include "../broker/broker_client.h"

/* Body number SEQ of LEN bytes (caller frees): its number first, then letters from it. */
static inline char *fault_body(int seq, size_t len)
{
    char *b = xmalloc(len + 1);
    int n = snprintf(b, len + 1, "message-%06d:", seq);
    for (size_t i = (size_t)n; i < len; i++) b[i] = (char)('a' + ((size_t)seq + i) % 26);
    b[len] = 0;
    return b;
}

/* Pulls queue 0 of TOPIC from the start: exactly bodies 0..n-1 of BODY_LEN bytes, intact. */
static inline void fault_assert_all_readable(test_broker *tb, const char *group, const char *topic, int n,
                                             size_t body_len)
{
    int64_t offset = 0;
    msg_record recs[32];
    while (offset < n) {
        rmq_cmd *resp = tb_pull(tb, group, topic, 0, offset, 0);
        ck_assert_msg(resp->code == 0, "pull at %lld: %d %s", (long long)offset, resp->code,
                      resp->remark ? resp->remark : "");
        int got = tb_records(resp, recs, 32);
        ck_assert_int_gt(got, 0);
        for (int i = 0; i < got; i++) {
            char *want = fault_body((int)recs[i].queue_offset, body_len);
            ck_assert_int_eq(recs[i].queue_offset, offset + i);
            ck_assert_uint_eq(recs[i].body_len, body_len);
            ck_assert_msg(memcmp(recs[i].body, want, body_len) == 0, "body of message %lld differs",
                          (long long)recs[i].queue_offset);
            free(want);
        }
        offset += got;
        cmd_free(resp);
    }
    ck_assert_int_eq(tb_max_offset(tb, topic, 0), n);
}

#endif
