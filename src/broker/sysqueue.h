/*
 * sysqueue: what the broker's own services (schedule.c, transaction.c) do with
 * the system queues they park messages in (SCHEDULE_TOPIC_XXXX,
 * rmq_sys_wheel_timer, RMQ_SYS_TRANS_HALF_TOPIC, RMQ_SYS_TRANS_OP_HALF_TOPIC):
 * read one record by record, read a parked record's properties, and rebuild
 * the message to put it to its real topic again. Internal to the broker module.
 */
#ifndef RMQ_BROKER_SYSQUEUE_H
#define RMQ_BROKER_SYSQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/message.h"
#include "store/store.h"

/* A property of a record as a NUL-terminated copy in buf; false if absent or too long. */
bool sysqueue_prop(const msg_record *r, const char *key, char *buf, size_t cap);

/* REAL_TOPIC and REAL_QID of a parked record; false if either is absent or malformed. */
bool sysqueue_real_queue(const msg_record *r, char topic[MSG_MAX_TOPIC_LEN + 1], int32_t *queue_id);

/*
 * A stored record as a message to put again: body, flag, sysflag (host bits
 * dropped: the store sets them), born time and host, reconsume times and
 * the properties string unchanged; topic and queue are the caller's.
 * Pointers stay those of the record.
 */
void sysqueue_msg_from_record(store_msg *m, const msg_record *r, const char *topic, int32_t queue_id);

/* Sees one record; true to go on past it, false to stop before it. */
typedef bool (*sysqueue_visit_fn)(void *ctx, const msg_record *r);

/*
 * Reads queue 0 of TOPIC (as GROUP) from *cursor to its end, handing each
 * record to VISIT in order until it says stop. *cursor moves past every
 * record VISIT accepts, every record that does not decode and every gap the
 * store skips. RMQ_OK at the end or on a stop, RMQ_ERR when the store
 * refuses the read (shutting down).
 */
int sysqueue_scan(store *st, const char *group, const char *topic, int64_t *cursor, sysqueue_visit_fn visit,
                  void *ctx);

#endif
