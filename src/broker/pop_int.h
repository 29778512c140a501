/* Private to the pop module (pop_revive.c, pop_mode.c). */
#ifndef RMQ_BROKER_POP_INT_H
#define RMQ_BROKER_POP_INT_H

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
    int64_t revive_offset[POP_REVIVE_QUEUE_NUM];  /* last checkpoint revived; -1 = none yet */
    struct event *revive_ev;
    pop_mode_entry *modes;
    char *modes_path;
    struct order_info *orders;                    /* pop_order.c */
};

/* Loads config/messageRequestMode.json (or its .bak); a missing file is an empty table. */
int pop_mode_load(pop_service *p, char *err, size_t errlen);
void pop_mode_free_all(pop_service *p);
void pop_order_free_all(pop_service *p);

#endif
