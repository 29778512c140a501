/* Private to processors: ResponseCode values (Apache ResponseCode / RemotingSysResponseCode),
 * the one helper that turns a JSON writer into an answer body, and the store filter of a
 * subscription (PULL and POP). */
#ifndef RMQ_RESPONSE_CODES_H
#define RMQ_RESPONSE_CODES_H

#include <stdbool.h>

#include "store/store.h"

enum response_code {
    RC_SUCCESS = 0,
    RC_SYSTEM_ERROR = 1,
    RC_SYSTEM_BUSY = 2,
    RC_REQUEST_CODE_NOT_SUPPORTED = 3,
    RC_FLUSH_DISK_TIMEOUT = 10,
    RC_SLAVE_NOT_AVAILABLE = 11,
    RC_FLUSH_SLAVE_TIMEOUT = 12,
    RC_MESSAGE_ILLEGAL = 13,
    RC_SERVICE_NOT_AVAILABLE = 14,
    RC_NO_PERMISSION = 16,
    RC_TOPIC_NOT_EXIST = 17,
    RC_PULL_NOT_FOUND = 19,
    RC_PULL_RETRY_IMMEDIATELY = 20,
    RC_PULL_OFFSET_MOVED = 21,
    RC_QUERY_NOT_FOUND = 22,
    RC_SUBSCRIPTION_PARSE_FAILED = 23,
    RC_SUBSCRIPTION_NOT_EXIST = 24,
    RC_SUBSCRIPTION_NOT_LATEST = 25,
    RC_SUBSCRIPTION_GROUP_NOT_EXIST = 26,
    RC_CONSUMER_NOT_ONLINE = 206,
    RC_INVALID_PARAMETER = 29,
    RC_NO_MESSAGE = 208,
    RC_POLLING_FULL = 209,
    RC_POLLING_TIMEOUT = 210,
};

struct rmq_cmd;
struct fjson_writer;
/* Finishes W and makes its text the body of RESP (every JSON answer goes through here). */
void processor_json_body(struct rmq_cmd *resp, struct fjson_writer *w);

struct rmq_filter;
/* ExpressionMessageFilter: tags codes in the consume queue; SQL92 also on each record's
 * properties when SQL_ON_RECORDS (not on retry topics unless filterSupportRetry). */
store_filter processor_store_filter(const struct rmq_filter *filter, bool sql_on_records);

#define FAQ_URL "\nSee http://rocketmq.apache.org/docs/faq/ for further details."

#endif
