/* Small services on the broker state that processors call. */
#include <event2/event.h>
#include <string.h>

#include "broker.h"
#include "common/log.h"
#include "meta/meta.h"

bool broker_is_slave(const broker *b)
{
    return strcmp(b->cfg.brokerRole, "SLAVE") == 0;
}

void broker_request_register(broker *b)
{
    /* Activation coalesces: many changes in one loop pass cost one registration. */
    if (b->register_ev) event_active(b->register_ev, EV_READ, 0);
}

void broker_topics_changed(broker *b)
{
    if (topic_table_persist(b->topics)) log_error("broker", "cannot persist topics.json");
    broker_request_register(b);
}
