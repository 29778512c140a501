/*
 * mqadmin_client.c: what every sub-command builds on — the admin library
 * (admin_client.h) with its errors turned into mqadmin's one-line deaths,
 * cluster address lists, and Java-style formatting of times and messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/acl.h"
#include "tools/mqadmin_int.h"

/* ---- name servers and requests ---- */

void load_namesrvs(void)
{
    const char *list = val('n');
    if (!list || !*list) list = getenv("NAMESRV_ADDR");
    if (adm_set_namesrvs(list)) die("no name server address: set -n or NAMESRV_ADDR");
}

/* ---- credentials (AclUtils.getAclRPCHook of $ROCKETMQ_HOME/conf/tools.yml) ---- */

static char *access_key, *secret_key;

static void sign(rmq_cmd *req) { acl_sign_request(req, access_key, secret_key); }

/* "accessKey: X" / "secretKey: Y" lines; either missing or blank: requests go unsigned, as
 * Apache's tool sends them without the file. */
void load_credentials(void)
{
    const char *home = getenv("ROCKETMQ_HOME");
    if (!home || !*home) return;
    char *path = str_printf("%s/conf/tools.yml", home);
    size_t len;
    char *text = read_file(path, &len);
    free(path);
    if (!text) return;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon || line[0] == '#') continue;
        *colon = '\0';
        char *key = trim(line), *value = trim(colon + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
            value[vl - 1] = '\0';
            value++;
        }
        if (!strcmp(key, "accessKey")) access_key = xstrdup(value);
        else if (!strcmp(key, "secretKey")) secret_key = xstrdup(value);
    }
    free(text);
    if (access_key && *access_key && secret_key && *secret_key) adm_request_hook = sign;
}

void die_err(const adm_err *e) { die("%s", e->msg); }

rmq_cmd *call(const char *addr, rmq_cmd *req, int timeout)
{
    adm_err e;
    rmq_cmd *resp = adm_call(addr, req, timeout, &e);
    if (!resp) die_err(&e);
    return resp;
}

void die_answer(const rmq_cmd *r)
{
    adm_err e;
    adm_answer_err(&e, r);
    die_err(&e);
}

/* A request that must succeed. */
rmq_cmd *call_ok(const char *addr, rmq_cmd *req, int timeout)
{
    adm_err e;
    rmq_cmd *r = adm_call_ok(addr, req, timeout, &e);
    if (!r) die_err(&e);
    return r;
}

rmq_cmd *namesrv_call(rmq_cmd *req)
{
    adm_err e;
    rmq_cmd *resp = adm_namesrv_call(req, &e);
    if (!resp) die_err(&e);
    return resp;
}

cJSON *body_json(const rmq_cmd *r)
{
    adm_err e;
    cJSON *j = adm_body_json(r, &e);
    if (!j) die_err(&e);
    return j;
}

/* ---- routes and clusters ---- */

/* False (when allowed) or death if the topic has no route. */
bool get_route(const char *topic, route *r, bool must)
{
    adm_err e;
    if (!adm_route(topic, r, &e)) return true;
    if (!must && e.code == RC_TOPIC_NOT_EXIST) return false;
    die_err(&e);
}

void get_cluster_info(cluster_info *ci)
{
    adm_err e;
    if (adm_cluster_info(ci, &e)) die_err(&e);
}

/* CommandUtil.fetchMasterAddrByClusterName (with_slaves: fetchMasterAndSlaveAddrByClusterName). */
const char **cluster_addrs(const cluster_info *ci, const char *cluster, bool with_slaves, int *n)
{
    int nb;
    const char **names = cluster_brokers(ci, cluster, &nb);
    if (!names)
        die("Make sure the specified clusterName exists or the name server connected to is correct. cluster: %s",
            cluster);
    const char **out = xcalloc((size_t)nb * MAX_ADDRS + 1, sizeof *out);
    *n = 0;
    for (int i = 0; i < nb; i++) {
        broker_data bd;
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(ci->brokers, names[i]);
        if (!o) continue;
        parse_broker_data(o, &bd);
        for (int k = 0; k < bd.n_addrs; k++)
            if (with_slaves || bd.ids[k] == MASTER_ID) out[(*n)++] = bd.addrs[k];
    }
    free(names);
    return out;
}

/* The brokers -b or -c name: one address, or the masters of a cluster. */
const char **target_brokers(cluster_info *ci, int *n)
{
    if (has('b')) {
        const char **one = xcalloc(2, sizeof *one);
        one[0] = val('b');
        *n = 1;
        ci->json = NULL;
        return one;
    }
    get_cluster_info(ci);
    return cluster_addrs(ci, val('c'), false, n);
}

/* The JSON body of `w` in a request of CODE to each broker -b or -c names, DONE (a format
 * taking the address) printed after each. With -c a broker that refuses is reported on stderr and the others still get it
 * when `go_on` (Apache prints the stack trace and goes on); otherwise the refusal is fatal. */
void body_to_brokers(int code, fjson_writer *w, const char *done, bool go_on)
{
    size_t len;
    char *body = fjson_writer_finish(w, &len);
    cluster_info ci = {0};
    int n;
    const char **addrs = target_brokers(&ci, &n);
    for (int i = 0; i < n; i++) {
        rmq_cmd *req = adm_request(code);
        cmd_set_body(req, body, len);
        adm_err e;
        rmq_cmd *resp = adm_call_ok(addrs[i], req, TIMEOUT_MS, &e);
        if (!resp && (!go_on || has('b'))) die_err(&e);
        if (resp) printf(done, addrs[i]);
        else fprintf(stderr, "mqadmin: %s: %s\n", current_command, e.msg);
        cmd_free(resp);
    }
    free(body);
    free(addrs);
    cJSON_Delete(ci.json);
}

/* ---- Java formatting ---- */

/* UtilAll.timeMillisToHumanString2: "yyyy-MM-dd HH:mm:ss,SSS", local time. */
void human_time(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d,%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* UtilAll.frontStringAtLeast: at most `len` characters. */
const char *front(const char *s, int len, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", len, s);
    return buf;
}

/* ---- messages ---- */

message *decode_messages(const uint8_t *body, size_t len, int *n)
{
    adm_err e;
    message *m;
    if (adm_decode_messages(body, len, &m, n, &e)) die_err(&e);
    return m;
}

static const char *prop_or_null(const message *m, const char *key)
{
    const char *v = msg_props_get(&m->props, key);
    return v ? v : "null";
}

/* AbstractMap.toString of the properties HashMap: {K=V, K=V}. */
static void print_props(FILE *f, const msg_props *p)
{
    const char **keys = xcalloc((size_t)p->count + 1, sizeof *keys);
    int *order = xcalloc((size_t)p->count + 1, sizeof *order);
    for (int i = 0; i < p->count; i++) keys[i] = p->items[i].key;
    java_hash_order(keys, p->count, order);
    fputc('{', f);
    for (int i = 0; i < p->count; i++)
        fprintf(f, "%s%s=%s", i ? ", " : "", p->items[order[i]].key, p->items[order[i]].value);
    fputc('}', f);
    free(keys);
    free(order);
}

static void host_string(const msg_host *h, char *buf, size_t cap) { msg_host_format(h, buf, cap); }

/* QueryMsgByIdSubCommand.createBodyFile. */
static void body_file(const message *m, int index, char *path, size_t cap)
{
    mkdirs(BODY_DIR);
    if (index > 0) snprintf(path, cap, "%s/%s_%d", BODY_DIR, msg_id(m), index);
    else snprintf(path, cap, "%s/%s", BODY_DIR, msg_id(m));
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot write %s: %s", path, strerror(errno));
    fwrite(m->rec.body, 1, m->rec.body_len, f);
    fclose(f);
}

/* QueryMsgByIdSubCommand.printMsg / QueryMsgByUniqueKeySubCommand.showMessage. */
void print_message_detail(const message *m, int index, bool with_offset_id)
{
    char path[512], born[64], stored[64], bh[80], sh[80];
    body_file(m, index, path, sizeof path);
    human_time(m->rec.born_timestamp, born, sizeof born);
    human_time(m->rec.store_timestamp, stored, sizeof stored);
    host_string(&m->rec.born_host, bh, sizeof bh);
    host_string(&m->rec.store_host, sh, sizeof sh);
    char topic[256];
    snprintf(topic, sizeof topic, "%.*s", (int)m->rec.topic_len, m->rec.topic);
    if (with_offset_id) printf("%-20s %s\n", "OffsetID:", m->offset_id);
    printf("%-20s %s\n", "Topic:", topic);
    printf("%-20s [%s]\n", "Tags:", prop_or_null(m, "TAGS"));
    printf("%-20s [%s]\n", "Keys:", prop_or_null(m, "KEYS"));
    printf("%-20s %d\n", "Queue ID:", m->rec.queue_id);
    printf("%-20s %lld\n", "Queue Offset:", (long long)m->rec.queue_offset);
    printf("%-20s %lld\n", "CommitLog Offset:", (long long)m->rec.phys_offset);
    printf("%-20s %d\n", "Reconsume Times:", m->rec.reconsume_times);
    printf("%-20s %s\n", "Born Timestamp:", born);
    printf("%-20s %s\n", "Store Timestamp:", stored);
    printf("%-20s %s\n", "Born Host:", bh);
    printf("%-20s %s\n", "Store Host:", sh);
    printf("%-20s %d\n", "System Flag:", m->rec.sysflag);
    printf("%-20s ", "Properties:");
    print_props(stdout, &m->props);
    printf("\n%-20s %s\n", "Message Body Path:", path);
    print_track(m);
}

/* MessageExt.toString as printMsg / consumeMessage print it. */
void print_message_line(const message *m, bool print_body)
{
    char bh[80], sh[80];
    host_string(&m->rec.born_host, bh, sizeof bh);
    host_string(&m->rec.store_host, sh, sizeof sh);
    printf("MSGID: %s MessageExt [brokerName=%s, queueId=%d, storeSize=%u, queueOffset=%lld, sysFlag=%d, "
           "bornTimestamp=%lld, bornHost=/%s, storeTimestamp=%lld, storeHost=/%s, msgId=%s, commitLogOffset=%lld, "
           "bodyCRC=%d, reconsumeTimes=%d, preparedTransactionOffset=%lld, toString()=Message{topic='%.*s', "
           "flag=%d, properties=",
           msg_id(m), m->broker_name, m->rec.queue_id, m->rec.total_size, (long long)m->rec.queue_offset,
           m->rec.sysflag, (long long)m->rec.born_timestamp, bh, (long long)m->rec.store_timestamp, sh, m->offset_id,
           (long long)m->rec.phys_offset, m->rec.body_crc, m->rec.reconsume_times,
           (long long)m->rec.prepared_tx_offset, (int)m->rec.topic_len, m->rec.topic, m->rec.flag);
    print_props(stdout, &m->props);
    printf(", body=[");
    for (uint32_t i = 0; i < m->rec.body_len; i++) printf("%s%d", i ? ", " : "", (int8_t)m->rec.body[i]);
    printf("], transactionId='null'}] BODY: ");
    if (print_body) fwrite(m->rec.body, 1, m->rec.body_len, stdout);
    else printf("NOT PRINT BODY");
    printf("\n");
}

/* ---- pull (DefaultMQPullConsumer as the tools use it) ---- */

int64_t queue_offset_call(int code, const mq *q, int64_t timestamp)
{
    adm_err e;
    int64_t off;
    if (adm_queue_offset(code, q, timestamp, &off, &e)) die_err(&e);
    return off;
}

void pull(const mq *q, const char *group, const char *sub, int64_t offset, int max, pull_result *out)
{
    adm_err e;
    if (adm_pull(q, group, sub, offset, max, out, &e)) die_err(&e);
}

const char *pull_status(int code)
{
    switch (code) {
    case RC_SUCCESS: return "FOUND";
    case RC_PULL_NOT_FOUND: return "NO_NEW_MSG";
    case RC_PULL_RETRY_IMMEDIATELY: return "NO_MATCHED_MSG";
    default: return "OFFSET_ILLEGAL";
    }
}

void mq_string(const mq *q, char *buf, size_t cap)
{
    snprintf(buf, cap, "MessageQueue [topic=%s, brokerName=%s, queueId=%d]", q->topic, q->broker_name, q->queue_id);
}

/* ---- sends as DefaultMQProducer makes them ---- */

static int cmp_queue_data(const void *a, const void *b)
{
    return strcmp(str_field(*(const cJSON *const *)a, "brokerName"), str_field(*(const cJSON *const *)b, "brokerName"));
}

/* topicRouteData2TopicPublishInfo: queue datas by broker name, the writable queues of brokers
 * with a master. */
mq *publish_queues(const route *r, const char *topic, int *n)
{
    int nq = cJSON_GetArraySize(r->queues), i = 0;
    const cJSON **qds = xcalloc((size_t)nq + 1, sizeof *qds), *q;
    cJSON_ArrayForEach(q, r->queues) qds[i++] = q;
    qsort(qds, (size_t)nq, sizeof *qds, cmp_queue_data);
    mq *out = NULL;
    *n = 0;
    for (i = 0; i < nq; i++) {
        const broker_data *bd = route_broker(r, str_field(qds[i], "brokerName"));
        if (!(int_field(qds[i], "perm") & 2) || !bd) continue;
        const char *master = NULL;
        for (int k = 0; k < bd->n_addrs; k++)
            if (bd->ids[k] == MASTER_ID) master = bd->addrs[k];
        if (!master) continue;
        for (int64_t k = 0; k < int_field(qds[i], "writeQueueNums"); k++) {
            out = xrealloc(out, (size_t)(*n + 1) * sizeof *out);
            out[(*n)++] = (mq){topic, bd->name, master, (int32_t)k};
        }
    }
    free(qds);
    return out;
}

/* One message with `body` and no properties to the queue; 0 with the SendResult's fields, -1 with
 * the failure in out->error (an answer other than SEND_OK or a flush/slave status, as Apache throws). */
int publish_one(const mq *q, const route *r, const char *body, send_result *out)
{
    memset(out, 0, sizeof *out);
    const broker_data *bd = route_broker(r, q->broker_name);
    msg_props props;
    msg_props_init(&props);
    adm_err e;
    rmq_cmd *resp = adm_send_one(bd, q->addr, q->topic, q->queue_id, &props, body, out->msg_id, &e);
    msg_props_free(&props);
    if (!resp) {
        snprintf(out->error, sizeof out->error, "%s", e.msg);
        return -1;
    }
    int rc = 0;
    if (resp->code == RC_SUCCESS || resp->code == RC_FLUSH_DISK_TIMEOUT || resp->code == RC_FLUSH_SLAVE_TIMEOUT ||
        resp->code == RC_SLAVE_NOT_AVAILABLE) {
        const char *off_id = cmd_ext_get(resp, "msgId");
        int64_t qid = q->queue_id, qoff = 0;
        cmd_ext_int64(resp, "queueId", &qid);
        cmd_ext_int64(resp, "queueOffset", &qoff);
        snprintf(out->status, sizeof out->status, "%s", send_status(resp->code));
        snprintf(out->offset_msg_id, sizeof out->offset_msg_id, "%s", off_id ? off_id : "null");
        snprintf(out->broker_name, sizeof out->broker_name, "%s", q->broker_name);
        out->queue_id = (int32_t)qid;
        out->queue_offset = qoff;
    } else {
        adm_answer_err(&e, resp);
        snprintf(out->error, sizeof out->error, "%s", e.msg);
        rc = -1;
    }
    cmd_free(resp);
    return rc;
}
