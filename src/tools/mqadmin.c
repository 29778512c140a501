/*
 * mqadmin: Apache RocketMQ's administration tool (tools/.../MQAdminStartup,
 * 4.9.8) in C — the same sub-command names, option letters and output
 * layouts (printf formats copied from each *SubCommand), talking to the name
 * servers (-n or $NAMESRV_ADDR, ';'-separated) and brokers with blocking
 * requests.
 *
 *   mqadmin help | mqadmin help CMD | mqadmin CMD [options]
 *
 * Exit status: 0 on success, 1 with one line on stderr when the command
 * fails (unreachable server, unknown topic or group, an error answer), 2 for
 * a bad command line. Apache prints a stack trace and exits 0 instead.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/mqadmin_int.h"

/* ---- failing ---- */

const char *current_command = "mqadmin";

/* The command failed: one line on stderr, exit 1 (like git's die()). */
void die(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fflush(stdout);
    fprintf(stderr, "mqadmin: %s command failed: %s\n", current_command, buf);
    exit(1);
}

/* The command line is wrong: one line on stderr, exit 2. */
void usage_error(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "mqadmin: %s (see 'mqadmin help %s')\n", buf, current_command);
    exit(2);
}

/* ---- command line (commons-cli as MQAdminStartup uses it) ---- */

static const opt_spec common_opts[] = {
    {'h', "help", false, false, "Print help"},
    {'n', "namesrvAddr", true, false, "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'"},
    {0, NULL, false, false, NULL},
};

const char *opt_val[128];
bool opt_set[128];

bool has(char c) { return opt_set[(unsigned char)c]; }
const char *val(char c) { return opt_set[(unsigned char)c] ? opt_val[(unsigned char)c] : NULL; }

char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static const opt_spec *find_opt(const command *c, char letter, const char *name)
{
    for (int pass = 0; pass < 2; pass++) {
        for (const opt_spec *o = pass ? common_opts : c->opts; o->letter; o++)
            if (name ? strcmp(o->name, name) == 0 : o->letter == letter) return o;
    }
    return NULL;
}

static void parse_options(const command *c, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *inline_val = NULL;
        const opt_spec *o;
        if (a[0] != '-' || !a[1]) usage_error("Unrecognized argument: %s", a);
        if (a[1] == '-') {
            char name[64];
            const char *eq = strchr(a + 2, '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq ? eq - a - 2 : (long)strlen(a + 2)), a + 2);
            if (eq) inline_val = eq + 1;
            o = find_opt(c, 0, name);
        } else {
            o = find_opt(c, a[1], NULL);
            if (a[2]) inline_val = a + 2;
        }
        if (!o || (inline_val && !o->has_arg)) usage_error("Unrecognized option: %s", a);
        const char *v = "";
        if (o->has_arg) {
            if (inline_val) v = inline_val;
            else if (i + 1 < argc) v = argv[++i];
            else usage_error("Missing argument for option: %c", o->letter);
        }
        opt_set[(unsigned char)o->letter] = true;
        opt_val[(unsigned char)o->letter] = trim(xstrdup(v));   /* lives until exit */
    }
    char missing[128] = "";
    int n_missing = 0;
    for (const opt_spec *o = c->opts; o->letter; o++) {
        if (o->required && !has(o->letter)) {
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s%c", n_missing++ ? ", " : "", o->letter);
        }
    }
    if (n_missing) usage_error("Missing required option%s: %s", n_missing > 1 ? "s" : "", missing);
    if (c->one_of) {
        bool any = false;
        for (const char *l = c->one_of; *l; l++) any |= has(*l);
        if (!any) usage_error("one of the options -%c or -%c is required", c->one_of[0], c->one_of[1]);
    }
}

/* ---- values from the command line ---- */

int64_t long_opt(char c, int64_t dflt)
{
    const char *v = val(c);
    int64_t n;
    if (!v) return dflt;
    if (parse_int64(v, &n)) usage_error("option -%c: For input string: \"%s\"", c, v);
    return n;
}

bool bool_opt(char c, bool dflt)
{
    return val(c) ? parse_java_bool(val(c)) : dflt;
}

/*
 * A time as the tools take it: "now" (-1 when allowed), milliseconds, or
 * UtilAll.YYYY_MM_DD_HH_MM_SS_SSS "yyyy-MM-dd#HH:mm:ss:SSS" in local time.
 */
int64_t timestamp_opt(char c)
{
    const char *v = val(c);
    int64_t n;
    if (parse_int64(v, &n) == RMQ_OK) return n;
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(v, "%d-%d-%d#%d:%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &ms) != 7)
        usage_error("option -%c: bad timestamp '%s' (currentTimeMillis or yyyy-MM-dd#HH:mm:ss:SSS)", c, v);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000 + ms;
}

/* ---- the command table ---- */

#define END {0, NULL, false, false, NULL}
static const opt_spec o_update_topic[] = {
    {'b', "brokerAddr", true, false, "create topic to which broker"},
    {'c', "clusterName", true, false, "create topic to which cluster"},
    {'t', "topic", true, true, "topic name"},
    {'r', "readQueueNums", true, false, "set read queue nums"},
    {'w', "writeQueueNums", true, false, "set write queue nums"},
    {'p', "perm", true, false, "set topic's permission(2|4|6), intro[2:W 4:R; 6:RW]"},
    {'o', "order", true, false, "set topic's order(true|false)"},
    {'u', "unit", true, false, "is unit topic (true|false)"},
    {'s', "hasUnitSub", true, false, "has unit sub (true|false)"}, END};
static const opt_spec o_delete_topic[] = {
    {'t', "topic", true, true, "topic name"},
    {'c', "clusterName", true, true, "delete topic from which cluster"}, END};
static const opt_spec o_topic_list[] = {{'c', "clusterModel", false, false, "clusterModel"}, END};
static const opt_spec o_topic_route[] = {
    {'t', "topic", true, true, "topic name"},
    {'l', "list", false, false, "Use list format to print data"}, END};
static const opt_spec o_topic[] = {{'t', "topic", true, true, "topic name"}, END};
static const opt_spec o_cluster_list[] = {
    {'m', "moreStats", false, false, "Print more stats"},
    {'i', "interval", true, false, "specify intervals numbers, it is in seconds"}, END};
static const opt_spec o_broker_status[] = {
    {'b', "brokerAddr", true, false, "Broker address"},
    {'c', "clusterName", true, false, "which cluster"}, END};
static const opt_spec o_update_sub_group[] = {
    {'b', "brokerAddr", true, false, "create subscription group to which broker"},
    {'c', "clusterName", true, false, "create subscription group to which cluster"},
    {'g', "groupName", true, true, "consumer group name"},
    {'s', "consumeEnable", true, false, "consume enable"},
    {'m', "consumeFromMinEnable", true, false, "from min offset"},
    {'d', "consumeBroadcastEnable", true, false, "broadcast"},
    {'q', "retryQueueNums", true, false, "retry queue nums"},
    {'r', "retryMaxTimes", true, false, "retry max times"},
    {'i', "brokerId", true, false, "consumer from which broker id"},
    {'w', "whichBrokerWhenConsumeSlowly", true, false, "which broker id when consume slowly"},
    {'a', "notifyConsumerIdsChanged", true, false, "notify consumerId changed"}, END};
static const opt_spec o_delete_sub_group[] = {
    {'b', "brokerAddr", true, false, "delete subscription group from which broker"},
    {'c', "clusterName", true, false, "delete subscription group from which cluster"},
    {'g', "groupName", true, true, "subscription group name"},
    {'r', "removeOffset", true, false, "remove offset"}, END};
static const opt_spec o_consumer_progress[] = {
    {'g', "groupName", true, false, "consumer group name"},
    {'s', "showClientIP", true, false, "Show Client IP per Queue"}, END};
static const opt_spec o_consumer_connection[] = {
    {'g', "consumerGroup", true, true, "consumer group name"},
    {'b', "brokerAddr", true, false, "broker address"}, END};
static const opt_spec o_producer_connection[] = {
    {'g', "producerGroup", true, true, "producer group name"},
    {'t', "topic", true, true, "topic name"}, END};
static const opt_spec o_consumer_status[] = {
    {'g', "consumerGroup", true, true, "consumer group name"},
    {'i', "clientId", true, false, "The consumer's client id"},
    {'b', "brokerAddr", true, false, "broker address"},
    {'s', "jstack", false, false, "Run jstack command in the consumer progress"}, END};
static const opt_spec o_query_msg_by_id[] = {
    {'i', "msgId", true, true, "Message Id"},
    {'g', "consumerGroup", true, false, "consumer group name"},
    {'d', "clientId", true, false, "The consumer's client id"}, END};
static const opt_spec o_query_msg_by_key[] = {
    {'t', "topic", true, true, "topic name"},
    {'k', "msgKey", true, true, "Message Key"}, END};
static const opt_spec o_query_msg_by_unique_key[] = {
    {'i', "msgId", true, true, "Message Id"},
    {'g', "consumerGroup", true, false, "consumer group name"},
    {'d', "clientId", true, false, "The consumer's client id"},
    {'t', "topic", true, true, "The topic of msg"},
    {'a', "showAll", false, false, "Print all message, the limit is 32"}, END};
static const opt_spec o_query_msg_by_offset[] = {
    {'t', "topic", true, true, "topic name"},
    {'b', "brokerName", true, true, "Broker Name"},
    {'i', "queueId", true, true, "Queue Id"},
    {'o', "offset", true, true, "Queue Offset"}, END};
static const opt_spec o_print_msg[] = {
    {'t', "topic", true, true, "topic name"},
    {'c', "charsetName", true, false, "CharsetName(eg: UTF-8,GBK)"},
    {'s', "subExpression", true, false, "Subscribe Expression(eg: TagA || TagB)"},
    {'b', "beginTimestamp", true, false, "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'e', "endTimestamp", true, false, "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'d', "printBody", true, false, "print body"}, END};
static const opt_spec o_print_msg_by_queue[] = {
    {'t', "topic", true, true, "topic name"},
    {'a', "brokerName ", true, true, "broker name"},
    {'i', "queueId ", true, true, "queue id"},
    {'c', "charsetName ", true, false, "CharsetName(eg: UTF-8,GBK)"},
    {'s', "subExpression ", true, false, "Subscribe Expression(eg: TagA || TagB)"},
    {'b', "beginTimestamp ", true, false, "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'e', "endTimestamp ", true, false, "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'p', "print msg", true, false, "print msg. eg: true | false(default)"},
    {'d', "printBody ", true, false, "print body. eg: true | false(default)"},
    {'f', "calculate", true, false, "calculate by tag. eg: true | false(default)"}, END};
static const opt_spec o_send_message[] = {
    {'t', "topic", true, true, "Topic name"},
    {'p', "body", true, true, "UTF-8 string format of the message body"},
    {'k', "key", true, false, "Message keys"},
    {'c', "tags", true, false, "Message tags"},
    {'b', "broker", true, false, "Send message to target broker"},
    {'i', "qid", true, false, "Send message to target queue"},
    {'m', "msgTraceEnable", true, false, "Message Trace Enable, Default: false"}, END};
static const opt_spec o_consume_message[] = {
    {'t', "topic", true, true, "Topic name"},
    {'b', "brokerName", true, false, "Broker name"},
    {'i', "queueId", true, false, "Queue Id"},
    {'o', "offset", true, false, "Queue offset"},
    {'g', "consumerGroup", true, false, "Consumer group name"},
    {'s', "beginTimestamp", true, false, "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'e', "endTimestamp", true, false, "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'c', "MessageNumber", true, false, "Number of message to be consumed"}, END};
static const opt_spec o_reset_offset[] = {
    {'g', "group", true, true, "set the consumer group"},
    {'t', "topic", true, true, "set the topic"},
    {'s', "timestamp", true, true, "set the timestamp[now|currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]"},
    {'f', "force", true, false, "set the force rollback by timestamp switch[true|false]"},
    {'c', "cplus", false, false, "reset c++ client offset"},
    /* 5.3's one-queue form. */
    {'b', "broker", true, false, "broker addr"},
    {'q', "queue", true, false, "queue id"},
    {'o', "offset", true, false, "Expect queue offset, not support old version broker"}, END};
static const opt_spec o_update_broker_config[] = {
    {'b', "brokerAddr", true, false, "update which broker"},
    {'c', "clusterName", true, false, "update which cluster"},
    {'k', "key", true, true, "config key"},
    {'v', "value", true, true, "config value"}, END};
static const opt_spec o_get_broker_config[] = {
    {'b', "brokerAddr", true, false, "get which broker"},
    {'c', "clusterName", true, false, "get which cluster"}, END};
static const opt_spec o_update_kv[] = {
    {'s', "namespace", true, true, "set the namespace"},
    {'k', "key", true, true, "set the key name"},
    {'v', "value", true, true, "set the key value"}, END};
static const opt_spec o_delete_kv[] = {
    {'s', "namespace", true, true, "set the namespace"},
    {'k', "key", true, true, "set the key name"}, END};
static const opt_spec o_none[] = {END};
static const opt_spec o_update_namesrv_config[] = {
    {'k', "key", true, true, "config key"},
    {'v', "value", true, true, "config value"}, END};
static const opt_spec o_wipe_write_perm[] = {{'b', "brokerName", true, true, "broker name"}, END};
static const opt_spec o_clean_expired_cq[] = {
    {'b', "brokerAddr", true, false, "Broker address"},
    {'c', "cluster", true, false, "clustername"}, END};
static const opt_spec o_cluster_rt[] = {
    {'a', "amout", true, false, "message amout | default 100"},
    {'s', "size", true, true, "message size | default 128 Byte"},
    {'c', "cluster", true, false, "cluster name | default display all cluster"},
    {'p', "print log", true, false, "print as tlog | default false"},
    {'m', "machine room", true, false, "machine room name | default noname"},
    {'i', "interval", true, false, "print interval | default 10 seconds"}, END};
static const opt_spec o_stats_all[] = {
    {'a', "activeTopic", false, false, "print active topic only"},
    {'t', "topic", true, false, "print select topic only"}, END};
static const opt_spec o_clean_unused_topic[] = {
    {'b', "brokerAddr", true, false, "Broker address"},
    {'c', "cluster", true, false, "cluster name"}, END};
static const opt_spec o_update_topic_perm[] = {
    {'b', "brokerAddr", true, false, "create topic to which broker"},
    {'c', "clusterName", true, false, "create topic to which cluster"},
    {'t', "topic", true, true, "topic name"},
    {'p', "perm", true, true, "set topic's permission(2|4|6), intro[2:W; 4:R; 6:RW]"}, END};
static const opt_spec o_update_order_conf[] = {
    {'t', "topic", true, true, "topic name"},
    {'v', "orderConf", true, false, "set order conf [eg. brokerName1:num;brokerName2:num]"},
    {'m', "method", true, true, "option type [eg. put|get|delete"}, END};
static const opt_spec o_allocate_mq[] = {
    {'t', "topic", true, true, "topic name"},
    {'i', "ipList", true, true, "ipList"}, END};
static const opt_spec o_add_write_perm[] = {{'b', "brokerName", true, true, "broker name"}, END};
static const opt_spec o_clone_group_offset[] = {
    {'s', "srcGroup", true, true, "set source consumer group"},
    {'d', "destGroup", true, true, "set destination consumer group"},
    {'t', "topic", true, true, "set the topic"},
    {'o', "offline", true, false, "the group or the topic is offline"}, END};
static const opt_spec o_get_consumer_config[] = {{'g', "groupName", true, true, "subscription group name"}, END};
static const opt_spec o_set_consume_mode[] = {
    {'b', "brokerAddr", true, false, "create subscription group to which broker"},
    {'c', "clusterName", true, false, "create subscription group to which cluster"},
    {'t', "topicName", true, true, "topic name"},
    {'g', "groupName", true, true, "consumer group name"},
    {'m', "mode", true, true, "consume mode. PULL/POP"},
    {'q', "popShareQueueNum", true, false, "num of queue which share in pop mode"}, END};
static const opt_spec o_skip_accumulated[] = {
    {'g', "group", true, true, "set the consumer group"},
    {'t', "topic", true, true, "set the topic"},
    {'f', "force", true, false, "set the force rollback by timestamp switch[true|false]"},
    {'c', "cluster", true, false, "Cluster name or lmq parent topic, lmq is used to find the route."}, END};
static const opt_spec o_broker_consume_stats[] = {
    {'b', "brokerAddr", true, true, "Broker address"},
    {'t', "timeoutMillis", true, false, "request timeout Millis"},
    {'l', "level", true, false, "threshold of print diff"},
    {'o', "order", true, false, "order topic"}, END};
static const opt_spec o_send_msg_status[] = {
    {'b', "brokerName", true, true, "Broker Name e.g. clusterName_brokerName as DefaultCluster_broker-a"},
    {'s', "messageSize", true, false, "Message Size, Default: 128"},
    {'c', "count", true, false, "send message count, Default: 50"}, END};
static const opt_spec o_check_msg_send_rt[] = {
    {'t', "topic", true, true, "topic name"},
    {'a', "amount", true, false, "message amount | default 100"},
    {'s', "size", true, false, "message size | default 128 Byte"}, END};
static const opt_spec o_query_msg_trace[] = {
    {'i', "msgId", true, true, "Message Id"},
    {'t', "traceTopic", true, false, "The name value of message trace topic"},
    {'b', "beginTimestamp", true, false, "Begin timestamp(ms). default:0, eg:1676730526212"},
    {'e', "endTimestamp", true, false, "End timestamp(ms). default:Long.MAX_VALUE, eg:1676730526212"},
    {'c', "maxNum", true, false, "The maximum number of messages returned by the query, default:64"}, END};
static const opt_spec o_query_cq[] = {
    {'t', "topic", true, true, "topic name"},
    {'q', "queue", true, true, "queue num, ie. 1"},
    {'i', "index", true, true, "start queue index."},
    {'c', "count", true, false, "how many."},
    {'b', "broker", true, false, "broker addr."},
    {'g', "consumer", true, false, "consumer group."}, END};
static const opt_spec o_update_topic_list[] = {
    {'b', "brokerAddr", true, false, "create topic to which broker"},
    {'c', "clusterName", true, false, "create topic to which cluster"},
    {'f', "filename", true, true, "Path to a file with list of org.apache.rocketmq.common.TopicConfig in json format"},
    END};
static const opt_spec o_update_sub_group_list[] = {
    {'b', "brokerAddr", true, false, "create groups to which broker"},
    {'c', "clusterName", true, false, "create groups to which cluster"},
    {'f', "filename", true, true,
     "Path to a file with a list of org.apache.rocketmq.remoting.protocol.subscription.SubscriptionGroupConfig in json "
     "format"}, END};
static const opt_spec o_producer[] = {{'b', "broker", true, true, "broker address"}, END};
static const opt_spec o_copy_user[] = {
    {'f', "fromBroker", true, true, "the source broker that the users copy from"},
    {'t', "toBroker", true, true, "the target broker that the users copy to"},
    {'u', "usernames", true, false, "the username list of user to copy."}, END};
static const opt_spec o_copy_acl[] = {
    {'f', "fromBroker", true, true, "the source broker that the acls copy from"},
    {'t', "toBroker", true, true, "the target broker that the acls copy to"},
    {'s', "subjects", true, false, "the subject list of acl to copy."}, END};
#define BC(verb, what)                                                     \
    {'c', "clusterName", true, false, verb " " what " to which cluster"},  \
    {'b', "brokerAddr", true, false, verb " " what " to which broker"}
/* ACL 1.0 (4.9.8): -b or -c, an OptionGroup. */
static const opt_spec o_update_acl_config[] = {
    {'b', "brokerAddr", true, false, "update acl config file to which broker"},
    {'c', "clusterName", true, false, "update acl config file to which cluster"},
    {'a', "accessKey", true, true, "set accessKey in acl config file"},
    {'s', "secretKey", true, true, "set secretKey in acl config file"},
    {'w', "whiteRemoteAddress", true, false, "set white ip Address for account in acl config file"},
    {'i', "defaultTopicPerm", true, false, "set default topicPerm in acl config file"},
    {'u', "defaultGroupPerm", true, false, "set default GroupPerm in acl config file"},
    {'t', "topicPerms", true, false, "set topicPerms list,eg: topicA=DENY,topicD=SUB"},
    {'g', "groupPerms", true, false, "set groupPerms list,eg: groupD=DENY,groupD=SUB"},
    {'m', "admin", true, false, "set admin flag in acl config file"}, END};
static const opt_spec o_delete_acl_config[] = {
    {'b', "brokerAddr", true, false, "delete acl config account from which broker"},
    {'c', "clusterName", true, false, "delete acl config account from which cluster"},
    {'a', "accessKey", true, true, "set accessKey in acl config file for deleting which account"}, END};
static const opt_spec o_cluster_acl_config_version[] = {
    {'b', "brokerAddr", true, false, "query acl config version for which broker"},
    {'c', "clusterName", true, false, "query acl config version for specified cluster"}, END};
static const opt_spec o_update_global_white_addr[] = {
    {'b', "brokerAddr", true, false, "update global white address to which broker"},
    {'c', "clusterName", true, false, "update global white address to which cluster"},
    {'g', "globalWhiteRemoteAddresses", true, true, "set globalWhiteRemoteAddress list,eg: 10.10.103.*,192.168.0.*"},
    {'p', "aclFileFullPath", true, false, "update global white address of specified acl file,eg: /xxx/plain_test.yml"},
    END};
static const opt_spec o_create_user[] = {
    BC("create", "user"),
    {'u', "username", true, true, "the username of user to create."},
    {'p', "password", true, true, "the password of user to create"},
    {'t', "userType", true, false, "the userType of user to create"}, END};
static const opt_spec o_update_user[] = {
    BC("update", "user"),
    {'u', "username", true, true, "the username of user to update."},
    {'p', "password", true, false, "the password of user to update"},
    {'t', "userType", true, false, "the userType of user to update"},
    {'s', "userStatus", true, false, "the userStatus of user to update"}, END};
static const opt_spec o_delete_user[] = {
    {'c', "clusterName", true, false, "delete acl from which cluster"},   /* sic, as Apache's */
    {'b', "brokerAddr", true, false, "delete user from which broker"},
    {'u', "username", true, true, "the username of user to delete."}, END};
static const opt_spec o_get_user[] = {
    {'b', "brokerAddr", true, false, "get user for which broker"},
    {'c', "clusterName", true, false, "get user for specified cluster"},
    {'u', "username", true, false, "the username of user to get"}, END};
static const opt_spec o_list_user[] = {
    {'b', "brokerAddr", true, false, "list user for which broker"},
    {'c', "clusterName", true, false, "list user for specified cluster"},
    {'f', "filter", true, false, "the filter to list users"}, END};
static const opt_spec o_create_acl[] = {
    BC("create", "acl"),
    {'s', "subject", true, true, "the subject of acl to create."},
    {'r', "resources", true, true, "the resources of acl to create"},
    {'a', "actions", true, true, "the actions of acl to create"},
    {'i', "sourceIp", true, false, "the sourceIps of acl to create"},
    {'d', "decision", true, true, "the decision of acl to create"}, END};
static const opt_spec o_update_acl[] = {
    BC("update", "acl"),
    {'s', "subject", true, true, "the subject of acl to update."},
    {'r', "resources", true, true, "the resources of acl to update"},
    {'a', "actions", true, true, "the actions of acl to update"},
    {'d', "decision", true, true, "the decision of acl to update"},
    {'i', "sourceIp", true, false, "the sourceIps of acl to update"}, END};
static const opt_spec o_delete_acl[] = {
    {'c', "clusterName", true, false, "delete acl from which cluster"},
    {'b', "brokerAddr", true, false, "delete acl from which broker"},
    {'s', "subject", true, true, "the subject of acl to delete."},
    {'r', "resources", true, false, "the resources of acl to delete"}, END};
static const opt_spec o_get_acl[] = {
    {'b', "brokerAddr", true, false, "get acl for which broker"},
    {'c', "clusterName", true, false, "get acl for specified cluster"},
    {'s', "subject", true, true, "the subject of acl to get"}, END};
static const opt_spec o_list_acl[] = {
    {'b', "brokerAddr", true, false, "list acl for which broker."},
    {'c', "clusterName", true, false, "list acl for specified cluster."},
    {'s', "subject", true, false, "the subject of acl to filter."},
    {'r', "resource", true, false, "the resource of acl to filter."}, END};

static const command commands[] = {
    {"updateTopic", "Update or create topic", o_update_topic, cmd_update_topic, "bc"},
    {"deleteTopic", "Delete topic from broker and NameServer.", o_delete_topic, cmd_delete_topic, NULL},
    {"updateSubGroup", "Update or create subscription group", o_update_sub_group, cmd_update_sub_group, "bc"},
    {"deleteSubGroup", "Delete subscription group from broker.", o_delete_sub_group, cmd_delete_sub_group, "bc"},
    {"updateBrokerConfig", "Update broker's config", o_update_broker_config, cmd_update_broker_config, "bc"},
    {"topicRoute", "Examine topic route info", o_topic_route, cmd_topic_route, NULL},
    {"topicStatus", "Examine topic Status info", o_topic, cmd_topic_status, NULL},
    {"topicClusterList", "get cluster info for topic", o_topic, cmd_topic_cluster_list, NULL},
    {"brokerStatus", "Fetch broker runtime status data", o_broker_status, cmd_broker_status, "bc"},
    {"queryMsgById", "Query Message by Id", o_query_msg_by_id, cmd_query_msg_by_id, NULL},
    {"queryMsgByKey", "Query Message by Key", o_query_msg_by_key, cmd_query_msg_by_key, NULL},
    {"queryMsgByUniqueKey", "Query Message by Unique key", o_query_msg_by_unique_key, cmd_query_msg_by_unique_key, NULL},
    {"queryMsgByOffset", "Query Message by offset", o_query_msg_by_offset, cmd_query_msg_by_offset, NULL},
    {"printMsg", "Print Message Detail", o_print_msg, cmd_print_msg, NULL},
    {"printMsgByQueue", "Print Message Detail", o_print_msg_by_queue, cmd_print_msg_by_queue, NULL},
    {"sendMessage", "Send a message", o_send_message, cmd_send_message, NULL},
    {"consumeMessage", "Consume message", o_consume_message, cmd_consume_message, NULL},
    {"producerConnection", "Query producer's socket connection and client version", o_producer_connection,
     cmd_producer_connection, NULL},
    {"consumerConnection", "Query consumer's socket connection, client version and subscription",
     o_consumer_connection, cmd_consumer_connection, NULL},
    {"consumerProgress", "Query consumers's progress, speed", o_consumer_progress, cmd_consumer_progress, NULL},
    {"consumerStatus", "Query consumer's internal data structure", o_consumer_status, cmd_consumer_status, NULL},
    {"clusterList", "List all of clusters", o_cluster_list, cmd_cluster_list, NULL},
    {"topicList", "Fetch all topic list from name server", o_topic_list, cmd_topic_list, NULL},
    {"updateKvConfig", "Create or update KV config.", o_update_kv, cmd_update_kv_config, NULL},
    {"deleteKvConfig", "Delete KV config.", o_delete_kv, cmd_delete_kv_config, NULL},
    {"wipeWritePerm", "Wipe write perm of broker in all name server you defined in the -n param", o_wipe_write_perm,
     cmd_wipe_write_perm, NULL},
    {"resetOffsetByTime", "Reset consumer offset by timestamp(without client restart).", o_reset_offset,
     cmd_reset_offset_by_time, NULL},
    {"cleanExpiredCQ", "Clean expired ConsumeQueue on broker.", o_clean_expired_cq, cmd_clean_expired_cq, NULL},
    {"clusterRT", "List All clusters Message Send RT", o_cluster_rt, cmd_cluster_rt, NULL},
    {"statsAll", "Topic and Consumer tps stats", o_stats_all, cmd_stats_all, NULL},
    {"cleanUnusedTopic", "Clean unused topic on broker.", o_clean_unused_topic, cmd_clean_unused_topic, NULL},
    {"updateNamesrvConfig", "Update configs of name server.", o_update_namesrv_config, cmd_update_namesrv_config, NULL},
    {"getNamesrvConfig", "Get configs of name server.", o_none, cmd_get_namesrv_config, NULL},
    {"getBrokerConfig", "Get broker config by cluster or special broker!", o_get_broker_config, cmd_get_broker_config,
     "bc"},
    {"haStatus", "Fetch ha runtime status data.", mqadmin_ha_status_opts, cmd_ha_status, "bc"},
    {"getBrokerEpoch", "Fetch broker epoch entries.", mqadmin_broker_epoch_opts, cmd_get_broker_epoch, "bc"},
    /* Apache's other daily ones (5.3.3's MQAdminStartup; the same options in 4.9.8 where it has them). */
    {"updateTopicPerm", "Update topic perm.", o_update_topic_perm, cmd_update_topic_perm, "bc"},
    {"updateOrderConf", "Create or update or delete order conf.", o_update_order_conf, cmd_update_order_conf, NULL},
    {"allocateMQ", "Allocate MQ.", o_allocate_mq, cmd_allocate_mq, NULL},
    {"addWritePerm", "Add write perm of broker in all name server you defined in the -n param.", o_add_write_perm,
     cmd_add_write_perm, NULL},
    {"cloneGroupOffset", "Clone offset from other group.", o_clone_group_offset, cmd_clone_group_offset, NULL},
    {"getConsumerConfig", "Get consumer config by subscription group name.", o_get_consumer_config,
     cmd_get_consumer_config, NULL},
    {"setConsumeMode", "Set consume message mode. pull/pop etc.", o_set_consume_mode, cmd_set_consume_mode, "bc"},
    {"skipAccumulatedMessage", "Skip all messages that are accumulated (not consumed) currently.", o_skip_accumulated,
     cmd_skip_accumulated_message, NULL},
    {"brokerConsumeStats", "Fetch broker consume stats data.", o_broker_consume_stats, cmd_broker_consume_stats, NULL},
    {"sendMsgStatus", "Send msg to broker.", o_send_msg_status, cmd_send_msg_status, NULL},
    {"deleteExpiredCommitLog", "Delete expired CommitLog files.", o_clean_expired_cq, cmd_delete_expired_commit_log,
     NULL},
    {"checkMsgSendRT", "Check message send response time.", o_check_msg_send_rt, cmd_check_msg_send_rt, NULL},
    {"queryMsgTraceById", "Query a message trace.", o_query_msg_trace, cmd_query_msg_trace_by_id, NULL},
    {"queryCq", "Query cq command.", o_query_cq, cmd_query_cq, NULL},
    {"updateTopicList", "create or update topic in batch", o_update_topic_list, cmd_update_topic_list, "bc"},
    {"updateSubGroupList", "Update or create subscription group in batch", o_update_sub_group_list,
     cmd_update_sub_group_list, "bc"},
    {"producer", "Query producer's instances, connection, status, etc.", o_producer, cmd_producer, NULL},
    /* ACL 1.0 (4.9.8's acl sub-commands). */
    {"updateAclConfig", "Update acl config yaml file in broker", o_update_acl_config, cmd_update_acl_config, "bc"},
    {"deleteAclConfig", "Delete Acl Config Account in broker", o_delete_acl_config, cmd_delete_acl_config, "bc"},
    {"clusterAclConfigVersion", "List all of acl config version information in cluster",
     o_cluster_acl_config_version, cmd_cluster_acl_config_version, "bc"},
    {"updateGlobalWhiteAddr", "Update global white address for acl Config File in broker",
     o_update_global_white_addr, cmd_update_global_white_addr, "bc"},
    /* ACL 2.0 (5.3.3's auth sub-commands). */
    {"createUser", "Create user to cluster.", o_create_user, cmd_create_user, "bc"},
    {"updateUser", "Update user to cluster.", o_update_user, cmd_update_user, "bc"},
    {"deleteUser", "Delete user from cluster.", o_delete_user, cmd_delete_user, "bc"},
    {"getUser", "Get user from cluster.", o_get_user, cmd_get_user, "bc"},
    {"listUser", "List user from cluster.", o_list_user, cmd_list_user, "bc"},
    {"createAcl", "Create acl to cluster.", o_create_acl, cmd_create_acl, "bc"},
    {"updateAcl", "Update acl to cluster.", o_update_acl, cmd_update_acl, "bc"},
    {"deleteAcl", "Delete acl from cluster.", o_delete_acl, cmd_delete_acl, "bc"},
    {"getAcl", "Get acl from cluster.", o_get_acl, cmd_get_acl, "bc"},
    {"listAcl", "List acl from cluster.", o_list_acl, cmd_list_acl, "bc"},
    {"copyUser", "Copy user to cluster.", o_copy_user, cmd_copy_user, NULL},
    {"copyAcl", "Copy acl to cluster.", o_copy_acl, cmd_copy_acl, NULL},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
    /* commandAlias: 4.9.8's one alias beyond case (DeleteAccessConfigSubCommand). */
    if (strcasecmp(name, "deleteAccessConfig") == 0) name = "deleteAclConfig";
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcasecmp(commands[i].name, name) == 0) return &commands[i];   /* findSubCommand: toUpperCase */
    return NULL;
}

static void print_help(void)
{
    printf("The most commonly used mqadmin commands are:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) printf("   %-20s %s\n", commands[i].name, commands[i].desc);
    printf("\nSee 'mqadmin help <command>' for more information on a specific command.\n");
}

static int cmp_opt(const void *a, const void *b)
{
    return (*(const opt_spec *const *)a)->letter - (*(const opt_spec *const *)b)->letter;
}

/* commons-cli HelpFormatter.printHelp(app, options, true): usage line, then the options by name. */
static void print_command_help(const command *c)
{
    const opt_spec *all[64];
    int n = 0;
    for (const opt_spec *o = common_opts; o->letter; o++) all[n++] = o;
    for (const opt_spec *o = c->opts; o->letter; o++) all[n++] = o;
    qsort(all, (size_t)n, sizeof *all, cmp_opt);
    printf("usage: mqadmin %s", c->name);
    for (int i = 0; i < n; i++) {
        bool grouped = c->one_of && strchr(c->one_of, all[i]->letter);
        const char *arg = all[i]->has_arg ? " <arg>" : "";
        if (grouped) printf(" %s-%c%s", all[i]->letter == c->one_of[0] ? "" : "| ", all[i]->letter, arg);
        else if (all[i]->required) printf(" -%c%s", all[i]->letter, arg);
        else printf(" [-%c%s]", all[i]->letter, arg);
    }
    printf("\n");
    int width = 0;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(all[i]->name) + (all[i]->has_arg ? 6 : 0);
        if (w > width) width = w;
    }
    for (int i = 0; i < n; i++) {
        char left[128];
        snprintf(left, sizeof left, "%s%s", all[i]->name, all[i]->has_arg ? " <arg>" : "");
        printf(" -%c,--%-*s   %s\n", all[i]->letter, width, left, all[i]->desc);
    }
}

static const command *running;

void print_running_help(void) { print_command_help(running); }

int main(int argc, char **argv)
{
    srand((unsigned)now_ms());
    if (argc < 2) {
        print_help();
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            print_help();
            return 0;
        }
        const command *c = find_command(argv[2]);
        if (!c) {
            fprintf(stderr, "mqadmin: The sub command %s not exist.\n", argv[2]);
            return 2;
        }
        print_command_help(c);
        return 0;
    }
    const command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "mqadmin: The sub command %s not exist.\n", argv[1]);
        return 2;
    }
    current_command = c->name;
    running = c;
    parse_options(c, argc - 2, argv + 2);
    if (has('h')) {
        print_command_help(c);
        return 0;
    }
    load_namesrvs();
    load_credentials();
    c->run();
    fflush(stdout);
    return 0;
}
