/* Small services on the broker state that processors call. */
#include <string.h>

#include "broker.h"
#include "registration.h"
#include "replicas.h"
#include "common/log.h"
#include "meta/meta.h"

bool broker_is_slave(const broker *b)
{
    return strcmp(b->cfg.brokerRole, "SLAVE") == 0;
}

bool broker_may_write(const broker *b)
{
    return !broker_is_slave(b) && (!b->replicas || replicas_lease_ok(b->replicas));
}

void broker_request_register(broker *b)
{
    if (b->registration) registration_request_full(b->registration);
}

void broker_after_registration(broker *b, void (*fn)(void *arg), void *arg)
{
    registration_then(b->registration, fn, arg);
}

static int persist_topics(void *t) { return topic_table_persist(t); }
static int persist_groups(void *t) { return subgroup_table_persist(t); }

/* Journalled now (durable before the answer), the whole file written later, coalesced. */
static void topic_recorded(broker *b, const char *topic)
{
    if (topic_table_journal(b->topics, topic)) log_error("broker", "cannot journal topic %s", topic);
    meta_persister_mark(b->persister, persist_topics, b->topics);
}

void broker_topic_changed(broker *b, const char *topic)
{
    topic_recorded(b, topic);
    if (b->registration) registration_topic_changed(b->registration, topic);
}

void broker_topic_deleted(broker *b, const char *topic)
{
    topic_recorded(b, topic);
}

void broker_topics_changed(broker *b)
{
    if (topic_table_persist(b->topics)) log_error("broker", "cannot persist topics.json");
    broker_request_register(b);
}

void broker_group_changed(broker *b, const char *group)
{
    if (subgroup_table_journal(b->groups, group)) log_error("broker", "cannot journal group %s", group);
    meta_persister_mark(b->persister, persist_groups, b->groups);
}
