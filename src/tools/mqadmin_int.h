/*
 * mqadmin_int.h: what the mqadmin sub-command files share — the parsed
 * command line, blocking requests to name servers and brokers, routes,
 * decoded messages, pulls and Java-style formatting. Private to src/tools.
 */
#ifndef RMQ_TOOLS_MQADMIN_INT_H
#define RMQ_TOOLS_MQADMIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/admin_client.h"

#define ORDER_TOPIC_CONFIG "ORDER_TOPIC_CONFIG"
#define BODY_DIR "/tmp/rocketmq/msgbodys"

typedef struct opt_spec {
    char letter;
    const char *name;
    bool has_arg;
    bool required;
    const char *desc;
} opt_spec;

typedef struct command {
    const char *name, *desc;
    const opt_spec *opts;
    void (*run)(void);
    const char *one_of;   /* an OptionGroup: one of these letters is required */
} command;

/* ---- command line (mqadmin.c) ---- */

extern const char *current_command;
extern const char *opt_val[128];
extern bool opt_set[128];

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A wrong command line: exit 2 (where Apache prints the command's help). */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The running command's help, as Apache prints it after some successes. */
void print_running_help(void);
bool has(char c);
const char *val(char c);
char *trim(char *s);
int64_t long_opt(char c, int64_t dflt);
bool bool_opt(char c, bool dflt);
int64_t timestamp_opt(char c);

/* ---- the admin library's calls, dying on failure (mqadmin_client.c) ---- */

void load_namesrvs(void);
void load_credentials(void);
void die_err(const adm_err *e) __attribute__((noreturn));
rmq_cmd *call(const char *addr, rmq_cmd *req, int timeout);
void die_answer(const rmq_cmd *r) __attribute__((noreturn));
rmq_cmd *call_ok(const char *addr, rmq_cmd *req, int timeout);
rmq_cmd *namesrv_call(rmq_cmd *req);
cJSON *body_json(const rmq_cmd *r);
bool get_route(const char *topic, route *r, bool must);
void get_cluster_info(cluster_info *ci);
const char **cluster_addrs(const cluster_info *ci, const char *cluster, bool with_slaves, int *n);
const char **target_brokers(cluster_info *ci, int *n);
void body_to_brokers(int code, fjson_writer *w, const char *done, bool go_on);
void human_time(int64_t ms, char *buf, size_t cap);
const char *front(const char *s, int len, char *buf, size_t cap);
message *decode_messages(const uint8_t *body, size_t len, int *n);
void print_message_detail(const message *m, int index, bool with_offset_id);
void print_message_line(const message *m, bool print_body);
int64_t queue_offset_call(int code, const mq *q, int64_t timestamp);
void pull(const mq *q, const char *group, const char *sub, int64_t offset, int max, pull_result *out);
const char *pull_status(int code);
void mq_string(const mq *q, char *buf, size_t cap);

/* A send's SendResult fields, or why it failed. */
typedef struct send_result {
    char status[24], msg_id[33], offset_msg_id[48], broker_name[128];
    int32_t queue_id;
    int64_t queue_offset;
    char error[600];
} send_result;

mq *publish_queues(const route *r, const char *topic, int *n);
int publish_one(const mq *q, const route *r, const char *body, send_result *out);

/* ---- topics (mqadmin_topic.c) ---- */

void put_kv_config(const char *ns, const char *key, const char *value);
void delete_topic(const char *cluster, const char *topic);
cJSON *topic_list(void);
cJSON *consume_by_who(const route *r, const char *topic);

void cmd_update_topic(void);
void cmd_update_topic_perm(void);
void cmd_update_order_conf(void);
void cmd_allocate_mq(void);
void cmd_update_topic_list(void);
/* A JSON array file of -f for the *List commands (NULL: printed that it does not exist). */
cJSON *read_config_list(void);
/* The list commands' one request per -b / -c master, then Apache's help after -c. */
void submit_config_list(int code, const char *field, cJSON *items, const char *done_b, const char *done_c);
void cmd_delete_topic(void);
void cmd_topic_list(void);
void cmd_topic_route(void);
void cmd_topic_status(void);
void cmd_topic_cluster_list(void);
void cmd_stats_all(void);

/* ---- clusters and brokers (mqadmin_broker.c) ---- */

void print_properties(const uint8_t *body, size_t len);
rmq_cmd *properties_request(int code, const char *key, const char *value);

void cmd_cluster_list(void);
void cmd_broker_status(void);
void cmd_get_broker_config(void);
void cmd_update_broker_config(void);
void cmd_clean_expired_cq(void);
void cmd_clean_unused_topic(void);
void cmd_cluster_rt(void);
void cmd_delete_expired_commit_log(void);
void cmd_broker_consume_stats(void);
void cmd_send_msg_status(void);

/* ---- name servers (mqadmin_namesrv.c) ---- */

void cmd_update_kv_config(void);
void cmd_delete_kv_config(void);
void cmd_get_namesrv_config(void);
void cmd_update_namesrv_config(void);
void cmd_wipe_write_perm(void);
void cmd_add_write_perm(void);
void delete_kv_config(const char *ns, const char *key);

/* ---- groups and consumers (mqadmin_group.c) ---- */

cJSON **consume_stats(const char *group, int *n_bodies, mq_entry **entries, int *n, double *tps, bool must);
cJSON *consumer_connection(const char *group, const char *broker_addr, int *code, bool must);

void cmd_update_sub_group(void);
void cmd_delete_sub_group(void);
void cmd_consumer_progress(void);
void cmd_consumer_connection(void);
void cmd_producer_connection(void);
void cmd_consumer_status(void);
void cmd_reset_offset_by_time(void);
void cmd_skip_accumulated_message(void);
void cmd_clone_group_offset(void);
void cmd_get_consumer_config(void);
void cmd_set_consume_mode(void);
void cmd_update_sub_group_list(void);
void cmd_producer(void);

/* ---- messages (mqadmin_message.c) ---- */

void print_track(const message *m);

void cmd_query_msg_by_id(void);
void cmd_query_msg_by_key(void);
void cmd_query_msg_by_unique_key(void);
void cmd_query_msg_by_offset(void);
void cmd_print_msg(void);
void cmd_print_msg_by_queue(void);
void cmd_consume_message(void);
void cmd_send_message(void);
void cmd_check_msg_send_rt(void);
void cmd_query_msg_trace_by_id(void);
void cmd_query_cq(void);

/* ---- replication (mqadmin_ha.c) ---- */

extern const opt_spec mqadmin_ha_status_opts[];
extern const opt_spec mqadmin_broker_epoch_opts[];

void cmd_ha_status(void);
void cmd_get_broker_epoch(void);

/* ---- ACL 2.0 users and ACLs (mqadmin_auth.c) ---- */

void cmd_create_user(void);
void cmd_update_user(void);
void cmd_delete_user(void);
void cmd_get_user(void);
void cmd_list_user(void);
void cmd_create_acl(void);
void cmd_update_acl(void);
void cmd_delete_acl(void);
void cmd_get_acl(void);
void cmd_list_acl(void);
void cmd_copy_user(void);
void cmd_copy_acl(void);
void cmd_update_acl_config(void);
void cmd_delete_acl_config(void);
void cmd_cluster_acl_config_version(void);
void cmd_update_global_white_addr(void);

#endif
