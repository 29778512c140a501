/*
 * The broker's registration with the name servers (registration.h), internal:
 * what registration.c (requests, increments, life), registration_table.c (the
 * whole table, snapshot and encoded on a thread of its own) and
 * registration_body.c (the bodies' encodings) share.
 */
#ifndef RMQ_BROKER_REGISTRATION_INT_H
#define RMQ_BROKER_REGISTRATION_INT_H

#include <event2/event.h>
#include <pthread.h>

#include "registration.h"

enum { REGISTER_BROKER = 103, UNREGISTER_BROKER = 104, QUERY_DATA_VERSION = 322 };

/* Topics per registration body without enableSplitRegistration: a topic is at most
 * ~680 bytes of JSON (a 271-character %RETRY% name twice, ~130 bytes of fields), so a
 * body stays under 11 MiB, below the 16 MiB frame limit of Apache's and our name servers. */
#define REGISTER_TOPICS_MAX 16000

/*
 * What we know of one name server. A name server that missed a registration gets
 * the whole table next time. An incremental registration goes only to one that
 * has answered a whole table: Apache's name server runs requests on a thread pool,
 * so an increment sent right behind the first table can be applied before it, and
 * the table (same data version) is then taken for old news and dropped.
 */
typedef struct namesrv_state {
    char *addr;
    bool needs_full;
    bool table_answered;      /* a whole table was acknowledged */
    int tables_in_flight;     /* whole-table requests (batches) not answered yet, +1 while encoded */
    char **held;              /* topics changed while a table was in flight: an increment after it */
    size_t n_held, cap_held;
    int encoding;             /* tables for it not snapshot yet (what they carry unknown) */
    struct name_set **sets;   /* the topics of each table in flight to it */
    size_t n_sets;
} namesrv_state;

/* The sorted topic names of one table's snapshot, shared by the name servers it goes to. */
typedef struct name_set {
    int refs;
    char **names;
    size_t n;
} name_set;

/* Callbacks waiting for the name servers' answers to one flush's requests. */
typedef struct waiter {
    void (*fn)(void *arg);
    void *arg;
    struct waiter *next;
} waiter;

typedef struct round {
    int outstanding;          /* requests not answered yet, +1 while the flush sends */
    waiter *waiters;
} round;

/*
 * One whole-table registration: the table is snapshot and encoded by the
 * encoder thread (~19 MB of JSON at 100k topics, hundreds of ms the loop would
 * otherwise not serve requests), then sent from the loop.
 */
typedef struct table_job {
    char **addrs;
    size_t n_addrs;
    struct round *rd;         /* the flush waiting for it, if any */
    int32_t broker_perm;
    bool compressed;
    bool split;               /* enableSplitRegistration */
    size_t split_size;
    struct body *bodies;      /* set by the encoder */
    size_t n_bodies;
    name_set *names;          /* set by the encoder once it has the snapshot */
    int sending;              /* name servers its batches are still going to, +1 while started */
    struct table_job *snap_next;   /* in registration.snapshotted */
    struct table_job *next;
} table_job;

typedef struct job_queue {
    table_job *head, *tail;
} job_queue;

struct registration {
    broker *b;
    pthread_t encoder;
    pthread_mutex_t lock;     /* the queues, stopping; a snapshot against an increment's read */
    pthread_cond_t cond;
    job_queue to_encode, encoded;
    table_job *snapshotted;   /* jobs whose names the loop has not attached yet */
    int unnoticed_snapshots;  /* snapshots taken whose names the loop has not attached yet */
    bool stopping;
    struct event *encoded_ev; /* the loop sends what the encoder finished */
    struct event *flush_ev;   /* one pass of the loop's pending changes */
    waiter *waiting;          /* registration_then: for the next flush */
    round *sending;           /* the flush's round while it sends */
    char **pending;           /* topics changed since the last flush */
    size_t n_pending, cap_pending;
    bool full_pending;
    namesrv_state *ns;
    size_t n_ns;
};

typedef struct body {
    uint8_t *data;
    size_t len;
} body;

typedef struct call {
    registration *r;
    round *rd;                /* the flush it belongs to, if anyone waits for it */
    bool table;               /* a whole-table registration (or one batch of it) */
    struct table_job *job;    /* the table it is batch `batch` of (NULL: an increment) */
    size_t batch;
    char addr[];
} call;

/* registration.c */
void reg_free_list(char **v, size_t n);
int reg_cmp_name(const void *a, const void *b);
void reg_name_set_release(name_set *ns);
bool reg_name_set_has(const name_set *ns, const char *name);
rmq_cmd *reg_broker_request(const broker *b, int32_t code);
namesrv_state *reg_state_of(registration *r, const char *addr);
call *reg_new_call(registration *r, const char *addr);
void reg_round_done(round *rd);
/* BD to ADDR; JOB (and BATCH): a batch of that table, else an increment. */
void reg_send_body(registration *r, const char *addr, const body *bd, table_job *job, size_t batch);
/* The namesrvAddr list ("a:9876;b:9876"), malloc'd strings; it may change at run time. */
char **reg_namesrv_list(const broker *b, size_t *n);
void reg_send_increment(registration *r, char *const *addrs, size_t n_addrs, char *const *names, size_t n_names);
void reg_send_unless_carried(registration *r, const char *addr, char *const *names, size_t n);

/* registration_table.c */
void reg_table_done(registration *r, const char *addr, bool ok);
void reg_send_table(registration *r, char *const *addrs, size_t n_addrs);
table_job *reg_queue_take_all(job_queue *q);
void *reg_encoder_main(void *arg);
void reg_encoded_cb(evutil_socket_t fd, short what, void *arg);
void reg_job_free(table_job *j);
/* One name server is done with J's batches; the last frees it. */
void reg_job_release(table_job *j);

/* registration_body.c */
void reg_apply_broker_permission(const broker *b, topic_config *topics, size_t n);
body reg_encode_body(bool compressed, const topic_config *topics, size_t n, const data_version *dv);

#endif
