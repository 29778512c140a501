/*
 * RECALL_MESSAGE (370, Apache 5.3's RecallMessageProcessor): a producer hands back
 * the recall handle its send answer carried for a timer message, and the broker
 * parks a cancel mark (TIMER_DEL_UNIQKEY = "<topic>+<unique key>", due when the
 * message is) that keeps the message from being delivered (schedule.h). Checks,
 * codes and remarks in Apache's order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/schedule.h"
#include "common/log.h"
#include "common/util.h"
#include "meta/meta.h"
#include "processor.h"
#include "response_codes.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

enum { RECALL_MESSAGE = 370, RC_ILLEGAL_OPERATION = 604 };

typedef struct recall_header {
    const char *producerGroup;
    const char *topic;
    const char *recallHandle;
} recall_header;

/*
 * All optional here although Apache marks topic and recallHandle @CFNotNull: 5.3's
 * decodeCommandCustomHeaderDirectly catches the "is null" exception per field and goes
 * on, so a missing field reaches the processor as null (docs/remoting.md).
 */
static const hdr_field recall_fields[] = {
    {"producerGroup", HDR_STR, false, offsetof(recall_header, producerGroup)},
    {"topic", HDR_STR, false, offsetof(recall_header, topic)},
    {"recallHandle", HDR_STR, false, offsetof(recall_header, recallHandle)},
};

/* RecallMessageProcessor.buildMessage, then the store's timer hook; RC_SUCCESS or why not. */
static int park_mark(broker *b, rmq_conn *conn, const recall_header *h, const recall_handle *rh)
{
    int64_t now = now_ms();
    char buf[32];
    msg_props props;
    msg_props_init(&props);
    msg_props_set(&props, MSG_PROP_TAGS, "_RECALL_TAG_");
    char *key = str_printf("%s+%s", rh->topic, rh->message_id);  /* TimerMessageStore.buildDeleteKey */
    msg_props_set(&props, "TIMER_DEL_UNIQKEY", key);
    free(key);
    msg_props_set(&props, MSG_PROP_UNIQ_KEY, rh->message_id);
    msg_props_set(&props, "TIMER_DELIVER_MS", rh->timestamp);
    snprintf(buf, sizeof buf, "%" PRId64, now);
    msg_props_set(&props, "BORN_TIMESTAMP", buf);
    msg_props_set(&props, "TRACE_CONTEXT", "");
    if (h->producerGroup) msg_props_set(&props, "PGROUP", h->producerGroup);
    const char *topic = rh->topic;
    int32_t qid = 0;
    char why[256];
    int rc = RC_SYSTEM_ERROR;
    if (schedule_timer_redirect(b, &props, &topic, &qid, now, false, why, sizeof why) == TIMER_PARKED) {
        size_t plen;
        char *ps = msg_props_encode(&props, &plen);
        msg_host born;
        if (msg_host_parse(&born, rmq_conn_remote(conn))) memset(&born, 0, sizeof born);
        store_msg m = {.topic = topic, .queue_id = qid, .born_timestamp = now, .born_host = born,
                       .body = (const uint8_t *)"0", .body_len = 1, .props = ps, .props_len = (uint32_t)plen};
        store_put_entry e;
        store_put_result res = {.entries = &e};
        if (store_put(b->store, &m, 1, &res) == STORE_PUT_OK) rc = RC_SUCCESS;
        else log_warn("recall", "cancel mark for %s not stored: %s", rh->topic, res.reason ? res.reason : "put failed");
        free(ps);
    } else {
        log_warn("recall", "cancel mark for %s refused: %s", rh->topic, why);
    }
    msg_props_free(&props);
    return rc;
}

static int recall_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    recall_header h = {0};
    char err[512];
    if (cmd_decode_header(req, recall_fields, NFIELDS(recall_fields), &h, err, sizeof err)) {
        *out = cmd_new_responsef(req, RC_SYSTEM_ERROR, "%s", err);
        return RMQ_OK;
    }
    /* createResponseCommand(Class) leaves this remark, and a success keeps it. */
    rmq_cmd *r = cmd_new_response(req, RC_SUCCESS, "not set any response code");
    *out = r;
    cmd_ext_set(r, "MSG_REGION", b->cfg.regionId);  /* on every answer, as Apache adds it first */
    if (!b->cfg.recallMessageEnable) {
        cmd_set_code(r, RC_NO_PERMISSION, "recall failed, operation is forbidden");
        return RMQ_OK;
    }
    if (broker_is_slave(b)) {
        cmd_set_code(r, RC_SLAVE_NOT_AVAILABLE, "recall failed, broker service not available");
        return RMQ_OK;
    }
    if ((!(b->cfg.brokerPermission & PERM_WRITE) && !b->cfg.allowRecallWhenBrokerNotWriteable) ||
        !broker_may_write(b)) {
        cmd_set_code(r, RC_SERVICE_NOT_AVAILABLE, "recall failed, broker service not available");
        return RMQ_OK;
    }
    topic_config tc;
    if (!h.topic) {  /* selectTopicConfig(null): ConcurrentHashMap.get throws */
        cmd_set_code(r, RC_SYSTEM_ERROR, "java.lang.NullPointerException: Cannot invoke \"Object.hashCode()\" "
                                         "because \"key\" is null");
        return RMQ_OK;
    }
    if (!topic_table_get(b->topics, h.topic, &tc)) {
        cmd_set_code(r, RC_TOPIC_NOT_EXIST, NULL);
        cmd_set_remark(r, "recall failed, the topic[%s] not exist", h.topic);
        return RMQ_OK;
    }
    recall_handle rh;
    if (schedule_recall_decode(h.recallHandle, &rh)) {
        cmd_set_code(r, RC_ILLEGAL_OPERATION, "recall handle is invalid");
        return RMQ_OK;
    }
    int64_t ts, now = now_ms();
    if (strcmp(h.topic, rh.topic) != 0) {
        cmd_set_code(r, RC_ILLEGAL_OPERATION, "recall failed, topic not match");
    } else if (strcmp(b->cfg.brokerName, rh.broker_name) != 0) {
        cmd_set_code(r, RC_ILLEGAL_OPERATION, "recall failed, broker service not available");
    } else if (parse_int64(rh.timestamp, &ts) != RMQ_OK || ts - now <= 0 ||
               ts - now >= (int64_t)b->cfg.timerMaxDelaySec * 1000) {
        cmd_set_code(r, RC_ILLEGAL_OPERATION, "recall failed, timestamp invalid");  /* NumberUtils.toLong: -1 */
    } else if (park_mark(b, conn, &h, &rh) != RC_SUCCESS) {
        cmd_set_code(r, RC_SYSTEM_ERROR, "recall failed, execute error");
    } else {
        cmd_ext_set(r, "msgId", rh.message_id);  /* RecallMessageResponseHeader: the unique key */
    }
    schedule_recall_free(&rh);
    return RMQ_OK;
}

void processor_register_recall(rmq_server *s, broker *b) { rmq_server_register(s, RECALL_MESSAGE, recall_processor, b); }
