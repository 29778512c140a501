/* RequestCode and ResponseCode names for the request_code / response_code labels. */
#include <stdio.h>
#include <string.h>

#include "metrics_int.h"

typedef struct code_name {
    int32_t code;
    const char *name;
} code_name;

static const code_name requests[] = {
    {10, "send_message"}, {11, "pull_message"}, {12, "query_message"}, {13, "query_broker_offset"},
    {14, "query_consumer_offset"}, {15, "update_consumer_offset"}, {17, "update_and_create_topic"},
    {21, "get_all_topic_config"}, {22, "get_topic_config_list"}, {23, "get_topic_name_list"},
    {25, "update_broker_config"}, {26, "get_broker_config"}, {27, "trigger_delete_files"},
    {28, "get_broker_runtime_info"}, {29, "search_offset_by_timestamp"}, {30, "get_max_offset"},
    {31, "get_min_offset"}, {32, "get_earliest_msg_storetime"}, {33, "view_message_by_id"},
    {34, "heart_beat"}, {35, "unregister_client"}, {36, "consumer_send_msg_back"}, {37, "end_transaction"},
    {38, "get_consumer_list_by_group"}, {39, "check_transaction_state"}, {40, "notify_consumer_ids_changed"},
    {41, "lock_batch_mq"}, {42, "unlock_batch_mq"}, {43, "get_all_consumer_offset"},
    {45, "get_all_delay_offset"}, {46, "check_client_config"}, {50, "update_and_create_acl_config"},
    {51, "delete_acl_config"}, {52, "get_broker_cluster_acl_info"}, {53, "update_global_white_addrs_config"},
    {54, "get_broker_cluster_acl_config"}, {100, "put_kv_config"}, {101, "get_kv_config"},
    {102, "delete_kv_config"}, {103, "register_broker"}, {104, "unregister_broker"},
    {105, "get_routeinfo_by_topic"}, {106, "get_broker_cluster_info"},
    {200, "update_and_create_subscriptiongroup"}, {201, "get_all_subscriptiongroup_config"},
    {202, "get_topic_stats_info"}, {203, "get_consumer_connection_list"}, {204, "get_producer_connection_list"},
    {205, "wipe_write_perm_of_broker"}, {206, "get_all_topic_list_from_nameserver"},
    {207, "delete_subscriptiongroup"}, {208, "get_consume_stats"}, {209, "suspend_consumer"},
    {210, "resume_consumer"}, {211, "reset_consumer_offset_in_consumer"}, {212, "reset_consumer_offset_in_broker"},
    {213, "adjust_consumer_thread_pool"}, {214, "who_consume_the_message"}, {215, "delete_topic_in_broker"},
    {216, "delete_topic_in_namesrv"}, {219, "get_kvlist_by_namespace"}, {220, "reset_consumer_client_offset"},
    {221, "get_consumer_status_from_client"}, {222, "invoke_broker_to_reset_offset"},
    {223, "invoke_broker_to_get_consumer_status"}, {224, "get_topics_by_cluster"},
    {300, "query_topic_consume_by_who"}, {303, "query_consume_time_span"},
    {304, "get_system_topic_list_from_ns"}, {305, "get_system_topic_list_from_broker"},
    {306, "clean_expired_consumequeue"}, {307, "get_consumer_running_info"}, {308, "query_correction_offset"},
    {309, "consume_message_directly"}, {310, "send_message_v2"}, {311, "get_unit_topic_list"},
    {312, "get_has_unit_sub_topic_list"}, {313, "get_has_unit_sub_ununit_topic_list"},
    {314, "clone_group_offset"}, {315, "view_broker_stats_data"}, {316, "clean_unused_topic"},
    {317, "get_broker_consume_stats"}, {318, "update_namesrv_config"}, {319, "get_namesrv_config"},
    {320, "send_batch_message"}, {321, "query_consume_queue"}, {322, "query_data_version"},
    {323, "resume_check_half_message"}, {324, "send_reply_message"}, {325, "send_reply_message_v2"},
    {326, "push_reply_message_to_client"}, {327, "add_write_perm_of_broker"}, {343, "query_topics_by_consumer"},
    {400, "query_assignment"}, {401, "set_message_request_mode"},
    {200050, "pop_message"}, {200051, "ack_message"}, {200052, "peek_message"},
    {200053, "change_message_invisibletime"}, {200054, "notification"}, {200055, "polling_info"},
};

static const code_name responses[] = {
    {0, "success"}, {1, "system_error"}, {2, "system_busy"}, {3, "request_code_not_supported"},
    {4, "transaction_failed"}, {10, "flush_disk_timeout"}, {11, "slave_not_available"},
    {12, "flush_slave_timeout"}, {13, "message_illegal"}, {14, "service_not_available"},
    {15, "version_not_supported"}, {16, "no_permission"}, {17, "topic_not_exist"}, {18, "topic_exist_already"},
    {19, "pull_not_found"}, {20, "pull_retry_immediately"}, {21, "pull_offset_moved"}, {22, "query_not_found"},
    {23, "subscription_parse_failed"}, {24, "subscription_not_exist"}, {25, "subscription_not_latest"},
    {26, "subscription_group_not_exist"}, {27, "filter_data_not_exist"}, {28, "filter_data_not_latest"},
    {200, "transaction_should_commit"}, {201, "transaction_should_rollback"}, {202, "transaction_state_unknow"},
    {203, "transaction_state_group_wrong"}, {204, "no_buyer_id"}, {205, "not_in_current_unit"},
    {206, "consumer_not_online"}, {207, "consume_msg_timeout"}, {208, "no_message"}, {209, "polling_full"},
    {210, "polling_timeout"},
};

static void name_of(const code_name *t, size_t n, int32_t code, char *out, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code) {
            snprintf(out, cap, "%s", t[i].name);
            return;
        }
    snprintf(out, cap, "%d", code);
}

void metrics_request_code_name(int32_t code, char *out, size_t cap)
{
    name_of(requests, sizeof requests / sizeof requests[0], code, out, cap);
}

void metrics_response_code_name(int32_t code, char *out, size_t cap)
{
    name_of(responses, sizeof responses / sizeof responses[0], code, out, cap);
}

bool metrics_code_long_polling(int32_t code)
{
    return code == 11 || code == 200050 || code == 200054;
}
