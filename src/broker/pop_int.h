/* Private to the pop module (pop_revive.c, pop_mode.c). */
#ifndef RMQ_BROKER_POP_INT_H
#define RMQ_BROKER_POP_INT_H

#include <cjson/cJSON.h>

#include "common/message.h"
#include "pop.h"

typedef struct pop_mode_entry {
    char *topic, *group;
    pop_mode_setting setting;
    struct pop_mode_entry *next;
} pop_mode_entry;

struct pop_service {
    broker *b;
    char revive_topic[META_NAME_MAX];
    msg_host store_host;
    uint64_t ck_counter;                          /* ckMessageNumber */
    int revive_queue_num;                         /* reviveQueueNum, read at start */
    int64_t *revive_offset;                       /* per revive queue: last checkpoint revived; -1 = none yet */
    struct event *revive_ev;
    pop_mode_entry *modes;
    char *modes_path;
    struct order_info *orders;                    /* pop_order.c */
    bool orders_dirty;
    char *orders_path;                            /* config/consumerOrderInfo.json */
    struct event *persist_ev;
};

/* <storePathRootDir>/config/FILE (caller frees). */
char *pop_config_path(pop_service *p, const char *file);
/* Reads and parses a config file (or its .bak): RMQ_OK with *root NULL when there is none. */
int pop_config_read(const char *path, cJSON **root, char *err, size_t errlen);
/* Writes a config file atomically (creating config/); false (logged) on failure. */
bool pop_config_write(pop_service *p, const char *path, const char *text, size_t len);
/* Loads config/messageRequestMode.json (or its .bak); a missing file is an empty table. */
int pop_mode_load(pop_service *p, char *err, size_t errlen);
void pop_mode_free_all(pop_service *p);
/* Loads config/consumerOrderInfo.json (or its .bak); a missing file is an empty table. */
int pop_order_load(pop_service *p, char *err, size_t errlen);
/* autoClean, then writes the file when something changed. */
void pop_order_persist(pop_service *p);
void pop_order_free_all(pop_service *p);

#endif
