/*
 * END_TRANSACTION (37) — Apache's EndTransactionProcessor. Java producers send
 * it oneway; Go and C++ clients send a request and get the answer. The work
 * is done by the broker's transaction service (src/broker/transaction.h).
 */
#include <stddef.h>
#include <stdio.h>

#include "broker/broker.h"
#include "broker/transaction.h"
#include "common/log.h"
#include "common/message.h"
#include "common/util.h"
#include "processor.h"
#include "response_codes.h"

enum { END_TRANSACTION = 37 };

typedef struct end_tx_header {
    const char *producerGroup, *msgId, *transactionId;
    int64_t tranStateTableOffset, commitLogOffset;
    int32_t commitOrRollback;
    bool fromTransactionCheck;
} end_tx_header;

#define F(member, type, req) {#member, type, req, offsetof(end_tx_header, member)}
static const hdr_field end_tx_fields[] = {
    F(producerGroup, HDR_STR, true), F(tranStateTableOffset, HDR_I64, true), F(commitLogOffset, HDR_I64, true),
    F(commitOrRollback, HDR_I32, true), F(fromTransactionCheck, HDR_BOOL, false), F(msgId, HDR_STR, true),
    F(transactionId, HDR_STR, false),
};
#undef F

static const char *result_remark(tx_end_result r)
{
    switch (r) {
    case TX_END_NOT_FOUND: return "Find prepared transaction message failed";
    case TX_END_WRONG_GROUP: return "The producer group wrong";
    case TX_END_WRONG_QUEUE_OFFSET: return "The transaction state table offset wrong";
    case TX_END_WRONG_COMMITLOG_OFFSET: return "The commit log offset wrong";
    default: return NULL;
    }
}

/* EndTransactionProcessor.sendFinalMessage's codes for a failed put. */
static void put_failure(rmq_cmd *resp, store_put_status st)
{
    switch (st) {
    case STORE_PUT_CREATE_MAPPED_FILE_FAILED: cmd_set_code(resp, RC_SYSTEM_ERROR, "Create mapped file failed."); break;
    case STORE_PUT_MESSAGE_ILLEGAL:
    case STORE_PUT_PROPERTIES_SIZE_EXCEEDED:
        cmd_set_code(resp, RC_MESSAGE_ILLEGAL,
                     "The message is illegal, maybe msg body or properties length not matched. msg body length "
                     "limit 128k, msg properties length limit 32k.");
        break;
    case STORE_PUT_SERVICE_NOT_AVAILABLE: cmd_set_code(resp, RC_SERVICE_NOT_AVAILABLE, "Service not available now."); break;
    default: cmd_set_code(resp, RC_SYSTEM_ERROR, "UNKNOWN_ERROR"); break;
    }
}

static int end_transaction_processor(rmq_conn *conn, rmq_cmd *req, rmq_cmd **out, void *arg)
{
    broker *b = arg;
    end_tx_header h = {0};
    char err[512];
    *out = NULL;
    if (cmd_decode_header(req, end_tx_fields, sizeof end_tx_fields / sizeof end_tx_fields[0], &h, err, sizeof err)) {
        *out = cmd_new_response(req, RC_SYSTEM_ERROR, err);
        return RMQ_OK;
    }
    if (broker_is_slave(b) || !b->transactions) {
        log_warn("transaction", "Message store is slave mode, so end transaction is forbidden. ");
        *out = cmd_new_response(req, RC_SLAVE_NOT_AVAILABLE, NULL);
        return RMQ_OK;
    }
    const char *state = h.commitOrRollback == MSG_TRANS_COMMIT     ? "commit"
                        : h.commitOrRollback == MSG_TRANS_ROLLBACK ? "rollback"
                                                                   : NULL;
    if (h.fromTransactionCheck || h.commitOrRollback != MSG_TRANS_COMMIT)
        log_info("transaction", "producer %s (%s) %s transaction %s%s", rmq_conn_remote(conn), h.producerGroup,
                 state ? state : "left pending", h.msgId, h.fromTransactionCheck ? " after a check" : "");
    if (!state) return RMQ_OK;  /* unknown state: Apache answers nothing, the check will ask again */

    end_transaction et = {
        .producer_group = h.producerGroup, .tran_state_table_offset = h.tranStateTableOffset,
        .commit_log_offset = h.commitLogOffset, .commit_or_rollback = h.commitOrRollback,
    };
    store_put_status st = STORE_PUT_OK;
    tx_end_result r = transaction_end(b->transactions, &et, &st);
    rmq_cmd *resp = cmd_new_response(req, RC_SUCCESS, NULL);
    if (r == TX_END_PUT_FAILED) put_failure(resp, st);
    else if (result_remark(r)) cmd_set_code(resp, RC_SYSTEM_ERROR, result_remark(r));
    *out = resp;
    return RMQ_OK;
}

void processor_register_transaction(rmq_server *s, broker *b)
{
    rmq_server_register(s, END_TRANSACTION, end_transaction_processor, b);
}
