/*
 * QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33) — Apache's
 * QueryMessageProcessor. Both answer raw stored records, zero copy: the
 * response body references the mapped commit log until it is written.
 */
#include <event2/buffer.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "common/util.h"
#include "processor.h"
#include "response_codes.h"
#include "store/store.h"

enum { QUERY_MESSAGE = 12, VIEW_MESSAGE_BY_ID = 33 };
#define DEFAULT_QUERY_MAX_NUM 32               /* MessageStoreConfig.defaultQueryMaxNum */
#define UNIQUE_MSG_QUERY_FLAG "_UNIQUE_KEY_QUERY"  /* MixAll */

typedef struct query_header {
    const char *topic, *key;
    int32_t maxNum;
    int64_t beginTimestamp, endTimestamp;
} query_header;

#define F(member, type) {#member, type, true, offsetof(query_header, member)}
static const hdr_field query_fields[] = {
    F(topic, HDR_STR), F(key, HDR_STR), F(maxNum, HDR_I32), F(beginTimestamp, HDR_I64), F(endTimestamp, HDR_I64),
};
#undef F

static void release_slice(const void *data, size_t len, void *arg)
{
    store_slice *sl = arg;
    store_slice_release(sl);
    free(sl);
}

/* Appends the record at phys_offset to the body by reference; false if it is gone. */
static bool add_record(broker *b, rmq_cmd *resp, int64_t phys_offset)
{
    store_slice *sl = xmalloc(sizeof *sl);
    if (store_get_record(b->store, phys_offset, sl)) {
        free(sl);
        return false;
    }
    evbuffer_add_reference(cmd_body_buf(resp), sl->data, sl->len, release_slice, sl);
    return true;
}

static int query_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    query_header h = {0};
    char err[512];
    if (cmd_decode_header(req, query_fields, sizeof query_fields / sizeof query_fields[0], &h, err, sizeof err)) {
        *out = cmd_new_response(req, RC_SYSTEM_ERROR, err);
        return RMQ_OK;
    }
    const char *unique = cmd_ext_get(req, UNIQUE_MSG_QUERY_FLAG);
    if (unique && strcmp(unique, "true") == 0) h.maxNum = DEFAULT_QUERY_MAX_NUM;
    store_query_result qr;
    store_query_by_key(b->store, h.topic, h.key, h.maxNum, h.beginTimestamp, h.endTimestamp, &qr);
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    int found = 0;
    for (int i = 0; i < qr.count; i++) found += add_record(b, resp, qr.offsets[i]);
    /* DefaultMessageStore.queryMessage reports the index position only when the index had hits. */
    cmd_ext_set_int(resp, "indexLastUpdatePhyoffset", qr.count ? qr.index_last_update_phy_offset : 0);
    cmd_ext_set_int(resp, "indexLastUpdateTimestamp", qr.count ? qr.index_last_update_timestamp : 0);
    if (!found) cmd_set_code(resp, RC_QUERY_NOT_FOUND, "can not find message, maybe time range not correct");
    *out = resp;
    return RMQ_OK;
}

static int view_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    int64_t offset = 0;
    char err[512];
    static const hdr_field view_fields[] = {{"offset", HDR_I64, true, 0}};
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    *out = resp;
    if (cmd_decode_header(req, view_fields, 1, &offset, err, sizeof err)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, err);
        return RMQ_OK;
    }
    if (!add_record(b, resp, offset)) {
        cmd_set_code(resp, RC_SYSTEM_ERROR, NULL);
        cmd_set_remark(resp, "can not find message by the offset, %lld", (long long)offset);
    }
    return RMQ_OK;
}

void processor_register_query(rmq_server *s, broker *b)
{
    rmq_server_register(s, QUERY_MESSAGE, query_processor, b);
    rmq_server_register(s, VIEW_MESSAGE_BY_ID, view_processor, b);
}
