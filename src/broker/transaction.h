/*
 * transaction: transactional messages, internal to the broker module —
 * Apache's TransactionalMessageService and TransactionalMessageCheckService.
 *
 * Half messages sit in RMQ_SYS_TRANS_HALF_TOPIC queue 0 (the send path puts
 * them there). A decision (END_TRANSACTION) writes an op record to
 * RMQ_SYS_TRANS_OP_HALF_TOPIC queue 0: tags "d", body the decimal half queue
 * offset; a commit first puts the real message. Every
 * transactionCheckInterval the check walks the half queue from the offset of
 * group CID_RMQ_SYS_TRANS (consumerOffset.json, as Apache keeps it): a half
 * without a decision, older than transactionTimeOut (or its
 * CHECK_IMMUNITY_TIME_IN_SECONDS), is appended again with
 * TRANSACTION_CHECK_TIMES + 1 and CHECK_TRANSACTION_STATE goes to one live
 * producer of its PGROUP; after transactionCheckMax checks it is moved to
 * TRANS_CHECK_MAX_TIME_TOPIC.
 *
 * Unlike Apache, a transaction is decided once: the decisions of the op
 * records not yet behind the op queue's CID_RMQ_SYS_TRANS offset are kept in
 * memory by transaction id (UNIQ_KEY, shared by a half and its re-appended
 * copies), so a duplicate or late END_TRANSACTION — or one answering an older
 * copy — writes nothing. An op record stays in that window until its half is
 * behind the check offset and it is older than the longest a transaction can
 * be checked (transactionCheckMax * transactionCheckInterval +
 * transactionTimeOut); the window is rebuilt from the op queue at start.
 *
 * Everything runs on the broker's event-loop thread.
 */
#ifndef RMQ_BROKER_TRANSACTION_H
#define RMQ_BROKER_TRANSACTION_H

#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "store/store.h"

#define TRANS_SYS_GROUP "CID_RMQ_SYS_TRANS"   /* TransactionalMessageUtil.buildConsumerGroup */
#define TRANS_REMOVE_TAG "d"                  /* TransactionalMessageUtil.REMOVETAG */

typedef struct transaction_service transaction_service;

transaction_service *transaction_new(broker *b);
/* Reads the op window and starts the periodic check (masters only). */
void transaction_start(transaction_service *t);
void transaction_free(transaction_service *t);

/* EndTransactionRequestHeader, the fields the broker uses. */
typedef struct end_transaction {
    const char *producer_group;
    int64_t tran_state_table_offset;   /* half queue offset */
    int64_t commit_log_offset;         /* half physical offset */
    int32_t commit_or_rollback;        /* MSG_TRANS_COMMIT or MSG_TRANS_ROLLBACK */
} end_transaction;

typedef enum {
    TX_END_DONE,             /* committed or rolled back */
    TX_END_ALREADY_DECIDED,  /* nothing written */
    TX_END_NOT_FOUND,        /* "Find prepared transaction message failed" */
    TX_END_WRONG_GROUP,      /* "The producer group wrong" */
    TX_END_WRONG_QUEUE_OFFSET,   /* "The transaction state table offset wrong" */
    TX_END_WRONG_COMMITLOG_OFFSET,  /* "The commit log offset wrong" */
    TX_END_PUT_FAILED,       /* the real message was not stored: see *put_status */
} tx_end_result;

/* EndTransactionProcessor's commit/rollback with the checks of checkPrepareMessage. */
tx_end_result transaction_end(transaction_service *t, const end_transaction *req, store_put_status *put_status);

/* One pass of the check (the timer runs it; tests may call it). */
void transaction_check(transaction_service *t);

#endif
