/* Private to src/metrics: code names, process figures. */
#ifndef RMQ_METRICS_INT_H
#define RMQ_METRICS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* RequestCode / ResponseCode field names in lower case, as RemotingMetricsConstant
 * maps them; the number itself for a code Apache does not name. */
void metrics_request_code_name(int32_t code, char *out, size_t cap);
void metrics_response_code_name(int32_t code, char *out, size_t cap);
/* Requests that a processor holds for long polling (PULL_MESSAGE, POP_MESSAGE, ...). */
bool metrics_code_long_polling(int32_t code);

/* process_resident_memory_bytes, process_open_fds, CPU and start time (Linux /proc). */
void metrics_render_process(struct evbuffer *out);

#endif
