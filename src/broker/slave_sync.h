/*
 * slave_sync: a slave broker's copy of its master's metadata, as Apache's
 * SlaveSynchronize keeps it. Internal to the broker module.
 *
 * Every SLAVE_SYNC_PERIOD_MS (the first SLAVE_SYNC_FIRST_DELAY_MS after the
 * start) the slave asks its master, one request after the other, for
 *   GET_ALL_TOPIC_CONFIG (21, over the master's VIP port listenPort-2),
 *   GET_ALL_CONSUMER_OFFSET (43), GET_ALL_DELAY_OFFSET (45) and
 *   GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201)
 * and applies each answer to its own table, then persists it:
 *  - topics and subscription groups: replaced by the master's table when the
 *    master's dataVersion is not the one last taken or our table changed
 *    since (Apache compares its own version, which it overwrites with the
 *    master's; our tables keep their own version, so the pair is remembered);
 *  - consumer offsets: every queue offset the master has is taken (putAll);
 *  - delay offsets: every level's offset is taken (Apache writes the
 *    master's text to delayOffset.json; a slave runs no delay service).
 * A failed request or a malformed answer skips that table for the round.
 *
 * The master's remoting address: with haMasterAddress set (host:haPort, the
 * master's HA port being its listenPort+1) it is that host with port-1,
 * fixed; otherwise it is REGISTER_BROKER's masterAddr answer from the name
 * server, followed as it changes (unknown = no sync).
 *
 * Ownership: broker_run creates the service for slaves only and frees it
 * after b->client, whose pending requests still call back into it.
 * Thread: the broker's event loop only.
 */
#ifndef RMQ_BROKER_SLAVE_SYNC_H
#define RMQ_BROKER_SLAVE_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "broker.h"
#include "meta/meta.h"

#define SLAVE_SYNC_FIRST_DELAY_MS 3000   /* BrokerController.handleSlaveSynchronize */
#define SLAVE_SYNC_PERIOD_MS 10000
#define SLAVE_SYNC_TIMEOUT_MS 3000       /* BrokerOuterAPI.getAll* */

typedef struct slave_sync slave_sync;

/* Reads haMasterAddress; nothing is asked before slave_sync_start. */
slave_sync *slave_sync_new(broker *b);
void slave_sync_start(slave_sync *s);
/* REGISTER_BROKER's masterAddr (NULL or "" = none); ignored with haMasterAddress. */
void slave_sync_set_master(slave_sync *s, const char *master_addr);
void slave_sync_free(slave_sync *s);

/* ---- applying the master's answers (exposed for tests) ---- */

/* What a versioned table last took: the master's dataVersion, and ours right after. */
typedef struct sync_mark {
    bool taken;
    data_version master, local;
} sync_mark;

/*
 * Each takes the body of the master's answer. RMQ_OK when it decoded (the
 * table changed or not: *changed, if given, says which), RMQ_ERR with a
 * reason when it did not; then the table is untouched. The table is
 * persisted after a change.
 */
int slave_sync_apply_topics(topic_table *t, sync_mark *mark, const char *body, size_t len, bool *changed,
                            char *err, size_t errlen);
int slave_sync_apply_groups(subgroup_table *t, sync_mark *mark, const char *body, size_t len, bool *changed,
                            char *err, size_t errlen);
int slave_sync_apply_consumer_offsets(consumer_offset_table *t, const char *body, size_t len, char *err,
                                      size_t errlen);
int slave_sync_apply_delay_offsets(delay_offset_table *t, const char *body, size_t len, char *err, size_t errlen);

#endif
