/*
 * registration: the broker's registrations with the name servers, as Apache's
 * BrokerController.registerBrokerAll / registerIncrementBrokerData and
 * BrokerOuterAPI do them.
 *
 *  - A topic created or updated reaches the name servers in an incremental
 *    REGISTER_BROKER that carries only the changed topics and the table's new
 *    data version, so its cost does not grow with the table; the changes of
 *    one event-loop pass share one request.
 *  - The periodic registration carries the whole table: fastjson text, or with
 *    compressedRegister the deflated binary form of RegisterBrokerBody.encode(true);
 *    with enableSplitRegistration in requests of splitRegistrationSize topics, and
 *    without it in requests of 16,000 when there are more (one body could pass the
 *    16 MiB frame limit; a name server closes the connection then, which
 *    unregisters the broker).
 *    Without forceRegister each name server is asked first (QUERY_DATA_VERSION)
 *    and gets the table only if its data version differs or a registration to
 *    it failed since.
 *
 *  - The whole table is snapshot and encoded on a thread of its own (at 100k
 *    topics ~19 MB of JSON, hundreds of ms), then sent from the loop; a topic
 *    changed while a table carrying it is on its way to a name server follows
 *    as an increment once that table is answered, one the table does not
 *    carry goes at once. A table's batches go one at a time (each after the
 *    previous one's answer), so an increment is never behind a whole table on
 *    the connection.
 *
 * Runs on the broker's event-loop thread, but for that encoding.
 */
#ifndef RMQ_BROKER_REGISTRATION_H
#define RMQ_BROKER_REGISTRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "meta/meta.h"

typedef struct registration registration;

registration *registration_new(broker *b);
/* After the remoting client is freed (its pending answers call back). */
void registration_free(registration *r);

/* registerBrokerAll: FORCE sends the table to every name server, otherwise
 * only to those whose data version differs. */
void registration_register_all(registration *r, bool force);
/* TOPIC was created or updated: an incremental registration follows soon. */
void registration_topic_changed(registration *r, const char *topic);
/* A forced full registration soon (e.g. brokerPermission changed). */
void registration_request_full(registration *r);
/*
 * FN(ARG) once every name server has answered (or failed, or timed out on)
 * the registration that carries the changes recorded so far — what Apache's
 * synchronous registerBrokerAll gives the code after it. Runs in the next loop
 * pass if there is nothing to send, and at registration_free (the broker is
 * stopping: check b->shutting_down) for what was never sent.
 */
void registration_then(registration *r, void (*fn)(void *arg), void *arg);
/* UNREGISTER_BROKER to every name server, blocking (the loop has stopped). */
void registration_unregister_all(registration *r);

/* RegisterBrokerBody of TOPICS at version DV: fastjson text (malloc'd). */
char *registration_json_body(const topic_config *topics, size_t n, const data_version *dv, size_t *len);
/*
 * RegisterBrokerBody.encode(true): a zlib stream of
 *   [int32 len][DataVersion JSON] [int32 n] n x [int32 len]["name read write perm filterType"]
 *   [int32 len][filter server JSON array] [int32 0 (5.x: no static-topic mappings)]
 * all big-endian. topicSysFlag and order are not carried (as in Apache).
 */
uint8_t *registration_compressed_body(const topic_config *topics, size_t n, const data_version *dv, size_t *len);

#endif
