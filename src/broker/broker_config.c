/* broker.conf: Apache's key names, one descriptor table serving load, set and print. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "common/log.h"
#include "common/util.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_LONG, CFG_BOOL };

typedef struct cfg_key {
    const char *name;
    enum cfg_type type;
    size_t offset;
} cfg_key;

#define K(name, type) {#name, type, offsetof(broker_config, name)}
/* Sorted by name (strcmp order): -p and GET_BROKER_CONFIG print in this order, and find_key
 * searches it in halves. */
static const cfg_key keys[] = {
    K(accessMessageInMemoryMaxRatio, CFG_INT),
    K(aclEnable, CFG_BOOL),
    K(allAckInSyncStateSet, CFG_BOOL),
    K(allowRecallWhenBrokerNotWriteable, CFG_BOOL),
    K(authenticationEnabled, CFG_BOOL),
    K(authenticationMetadataProvider, CFG_STR),
    K(authenticationProvider, CFG_STR),
    K(authenticationStrategy, CFG_STR),
    K(authenticationWhitelist, CFG_STR),
    K(authorizationEnabled, CFG_BOOL),
    K(authorizationMetadataProvider, CFG_STR),
    K(authorizationProvider, CFG_STR),
    K(authorizationStrategy, CFG_STR),
    K(authorizationWhitelist, CFG_STR),
    K(autoCreateSubscriptionGroup, CFG_BOOL),
    K(autoCreateTopicEnable, CFG_BOOL),
    K(brokerClusterName, CFG_STR),
    K(brokerElectionPriority, CFG_INT),
    K(brokerHeartbeatInterval, CFG_INT),
    K(brokerIP1, CFG_STR),
    K(brokerIP2, CFG_STR),
    K(brokerId, CFG_LONG),
    K(brokerName, CFG_STR),
    K(brokerPermission, CFG_INT),
    K(brokerRole, CFG_STR),
    K(brokerTopicEnable, CFG_BOOL),
    K(channelExpiredTimeout, CFG_INT),
    K(checkCRCOnRecover, CFG_BOOL),
    K(checkSyncStateSetPeriod, CFG_LONG),
    K(cleanFileForciblyEnable, CFG_BOOL),
    K(cleanResourceInterval, CFG_INT),
    K(clusterTopicEnable, CFG_BOOL),
    K(compressedRegister, CFG_BOOL),
    K(controllerAddr, CFG_STR),
    K(controllerHeartBeatTimeoutMills, CFG_LONG),
    K(defaultPopShareQueueNum, CFG_INT),
    K(defaultTopicQueueNums, CFG_INT),
    K(deleteWhen, CFG_STR),
    K(diskMaxUsedSpaceRatio, CFG_INT),
    K(diskSpaceCleanForciblyRatio, CFG_INT),
    K(diskSpaceWarningLevelRatio, CFG_INT),
    K(enableControllerMode, CFG_BOOL),
    K(enableNotifyAfterPopOrderLockRelease, CFG_BOOL),
    K(enableNotifyBeforePopCalculateLag, CFG_BOOL),
    K(enablePopBatchAck, CFG_BOOL),
    K(enablePopBufferMerge, CFG_BOOL),
    K(enablePopLog, CFG_BOOL),
    K(enablePopMessageThreshold, CFG_BOOL),
    K(enablePropertyFilter, CFG_BOOL),
    K(enableRetryTopicV2, CFG_BOOL),
    K(enableSplitRegistration, CFG_BOOL),
    K(fileReservedTime, CFG_INT),
    K(filterSupportRetry, CFG_BOOL),
    K(flushConsumerOffsetInterval, CFG_INT),
    K(flushDiskType, CFG_STR),
    K(flushIntervalCommitLog, CFG_INT),
    K(forceRegister, CFG_BOOL),
    K(grpcServerPort, CFG_INT),
    K(haListenPort, CFG_INT),
    K(haMasterAddress, CFG_STR),
    K(haMaxTimeSlaveNotCatchup, CFG_LONG),
    K(initPopOffsetByCheckMsgInMem, CFG_BOOL),
    K(listenAddress, CFG_STR),
    K(listenPort, CFG_INT),
    K(logDir, CFG_STR),
    K(logLevel, CFG_STR),
    K(logMaxFileSize, CFG_LONG),
    K(logMaxHistory, CFG_INT),
    K(longPollingEnable, CFG_BOOL),
    K(mappedFileSizeCommitLog, CFG_LONG),
    K(mappedFileSizeConsumeQueue, CFG_LONG),
    K(mappedFileSizeTimerLog, CFG_INT),
    K(maxFrameLength, CFG_INT),
    K(maxHashSlotNum, CFG_INT),
    K(maxIndexNum, CFG_INT),
    K(maxMessageSize, CFG_INT),
    K(maxPopPollingSize, CFG_LONG),
    K(messageDelayLevel, CFG_STR),
    K(messageIndexEnable, CFG_BOOL),
    K(metricsExporterType, CFG_STR),
    K(metricsLabel, CFG_STR),
    K(metricsPromExporterHost, CFG_STR),
    K(metricsPromExporterPort, CFG_INT),
    K(migrateAuthFromV1Enabled, CFG_BOOL),
    K(namesrvAddr, CFG_STR),
    K(offsetCheckInSlave, CFG_BOOL),
    K(popCkMaxBufferSize, CFG_INT),
    K(popCkOffsetMaxQueueSize, CFG_INT),
    K(popCkStayBufferTime, CFG_INT),
    K(popCkStayBufferTimeOut, CFG_INT),
    K(popConsumerFSServiceInit, CFG_BOOL),
    K(popConsumerKVServiceEnable, CFG_BOOL),
    K(popConsumerKVServiceInit, CFG_BOOL),
    K(popConsumerKVServiceLog, CFG_BOOL),
    K(popFromRetryProbability, CFG_INT),
    K(popInflightMessageThreshold, CFG_LONG),
    K(popLongPollingForceNotifyInterval, CFG_LONG),
    K(popPollingMapSize, CFG_INT),
    K(popPollingSize, CFG_INT),
    K(popResponseReturnActualRetryTopic, CFG_BOOL),
    K(popReviveMaxAttemptTimes, CFG_INT),
    K(popReviveMaxReturnSizePerRead, CFG_INT),
    K(recallMessageEnable, CFG_BOOL),
    K(regionId, CFG_STR),
    K(registerBrokerTimeoutMills, CFG_INT),
    K(registerNameServerPeriod, CFG_INT),
    K(rejectTransactionMessage, CFG_BOOL),
    K(retrieveMessageFromPopRetryTopicV1, CFG_BOOL),
    K(reviveAckWaitMs, CFG_LONG),
    K(reviveInterval, CFG_LONG),
    K(reviveMaxSlow, CFG_LONG),
    K(reviveQueueNum, CFG_INT),
    K(reviveScanTime, CFG_LONG),
    K(serverChannelMaxIdleTimeSeconds, CFG_INT),
    K(shortPollingTimeMills, CFG_LONG),
    K(slaveReadEnable, CFG_BOOL),
    K(splitRegistrationSize, CFG_INT),
    K(storePathCommitLog, CFG_STR),
    K(storePathRootDir, CFG_STR),
    K(syncBrokerMetadataPeriod, CFG_LONG),
    K(syncFlushTimeout, CFG_INT),
    K(timerCheckMetricsWhen, CFG_STR),
    K(timerCongestNumEachSlot, CFG_INT),
    K(timerEnableCheckMetrics, CFG_BOOL),
    K(timerEnableDisruptor, CFG_BOOL),
    K(timerEnableRetryUntilSuccess, CFG_BOOL),
    K(timerFlushIntervalMs, CFG_INT),
    K(timerGetMessageThreadNum, CFG_INT),
    K(timerInterceptDelayLevel, CFG_BOOL),
    K(timerMaxDelaySec, CFG_INT),
    K(timerMetricSmallThreshold, CFG_INT),
    K(timerPrecisionMs, CFG_INT),
    K(timerProgressLogIntervalMs, CFG_INT),
    K(timerPutMessageThreadNum, CFG_INT),
    K(timerRollWindowSlot, CFG_INT),
    K(timerSkipUnknownError, CFG_BOOL),
    K(timerStopDequeue, CFG_BOOL),
    K(timerStopEnqueue, CFG_BOOL),
    K(timerWarmEnable, CFG_BOOL),
    K(timerWheelEnable, CFG_BOOL),
    K(traceOn, CFG_BOOL),
    K(traceTopicEnable, CFG_BOOL),
    K(transactionCheckInterval, CFG_LONG),
    K(transactionCheckMax, CFG_INT),
    K(transactionTimeOut, CFG_INT),
    K(writeBufferHighWaterMark, CFG_INT),
};
#undef K
#define N_KEYS (sizeof keys / sizeof keys[0])

/* Strings kept out of the table (passwords): set by the -c file and --key=value only. */
static const struct {
    const char *name;
    size_t offset;
} secret_keys[] = {
    {"initAuthenticationUser", offsetof(broker_config, initAuthenticationUser)},
    {"innerClientAuthenticationCredentials", offsetof(broker_config, innerClientAuthenticationCredentials)},
};
#define N_SECRET_KEYS (sizeof secret_keys / sizeof secret_keys[0])

static int key_cmp(const void *name, const void *key)
{
    return strcmp(name, ((const cfg_key *)key)->name);
}

/*
 * A binary search of the sorted table: every loaded line, and every line of a
 * printed config applied again, looks its key up (a linear scan made the config
 * fuzz harness spend most of its time in strcmp). A key out of order would not
 * be found; the config fuzz replay in `make check` applies every printed key again.
 */
static const cfg_key *find_key(const char *name)
{
    return bsearch(name, keys, N_KEYS, sizeof keys[0], key_cmp);
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = xstrdup(v);
}

void broker_config_defaults(broker_config *c)
{
    memset(c, 0, sizeof *c);
    rmq_tls_config_defaults(&c->tls);
    const char *home = getenv("HOME");
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    set_str(&c->brokerClusterName, "DefaultCluster");
    set_str(&c->brokerName, host);
    set_str(&c->brokerIP1, "127.0.0.1");
    set_str(&c->listenAddress, "0.0.0.0");
    c->listenPort = 10911;
    char *root = str_printf("%s/store", home ? home : ".");
    c->storePathRootDir = root;
    set_str(&c->flushDiskType, "ASYNC_FLUSH");
    set_str(&c->brokerRole, "ASYNC_MASTER");
    c->autoCreateTopicEnable = true;
    c->autoCreateSubscriptionGroup = true;
    c->clusterTopicEnable = true; /* BrokerConfig: the cluster and broker-name topics exist by default */
    c->brokerTopicEnable = true;
    c->defaultTopicQueueNums = 8;
    c->brokerPermission = 6;
    c->fileReservedTime = 72;
    set_str(&c->deleteWhen, "04");
    c->diskMaxUsedSpaceRatio = 75;
    c->diskSpaceWarningLevelRatio = 90;
    c->diskSpaceCleanForciblyRatio = 85;
    c->cleanFileForciblyEnable = true;
    c->cleanResourceInterval = 10000;
    c->maxHashSlotNum = 5000000;
    c->maxIndexNum = 20000000;
    c->messageIndexEnable = true;
    c->maxMessageSize = 4 * 1024 * 1024;
    set_str(&c->messageDelayLevel, "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h");
    c->mappedFileSizeCommitLog = 1024LL * 1024 * 1024;
    c->mappedFileSizeConsumeQueue = 300000LL * 20;
    c->flushIntervalCommitLog = 500;
    c->syncFlushTimeout = 5000;
    c->longPollingEnable = true;
    c->retrieveMessageFromPopRetryTopicV1 = true;
    c->popFromRetryProbability = 20;
    c->timerWheelEnable = true;                 /* MessageStoreConfig's timer defaults */
    c->timerMaxDelaySec = 3 * 24 * 3600;
    c->timerPrecisionMs = 1000;
    c->timerRollWindowSlot = 2 * 24 * 3600;
    c->timerEnableCheckMetrics = true;
    c->timerFlushIntervalMs = 1000;
    c->timerGetMessageThreadNum = 3;
    c->timerPutMessageThreadNum = 3;
    c->timerCongestNumEachSlot = INT32_MAX;
    c->timerMetricSmallThreshold = 1000000;
    c->timerProgressLogIntervalMs = 10000;
    c->mappedFileSizeTimerLog = 100 * 1024 * 1024;
    set_str(&c->timerCheckMetricsWhen, "05");
    c->allowRecallWhenBrokerNotWriteable = true;
    c->reviveQueueNum = 8;                      /* BrokerConfig's POP defaults */
    c->reviveInterval = 1000;
    c->maxPopPollingSize = 100000;
    c->popPollingSize = 1024;
    c->popPollingMapSize = 100000;
    c->popCkStayBufferTime = 10000;
    c->popCkStayBufferTimeOut = 3000;
    c->popCkMaxBufferSize = 200000;
    c->popCkOffsetMaxQueueSize = 20000;
    c->popReviveMaxReturnSizePerRead = 16 * 1024;
    c->popReviveMaxAttemptTimes = 16;
    c->defaultPopShareQueueNum = -1;
    c->reviveMaxSlow = 3;
    c->reviveScanTime = 10000;
    c->reviveAckWaitMs = 3 * 60 * 1000;
    c->popLongPollingForceNotifyInterval = 800;
    c->popInflightMessageThreshold = 10000;
    c->enableNotifyBeforePopCalculateLag = true;
    c->enableNotifyAfterPopOrderLockRelease = true;
    c->initPopOffsetByCheckMsgInMem = true;
    c->popConsumerFSServiceInit = true;
    c->shortPollingTimeMills = 1000;
    c->accessMessageInMemoryMaxRatio = 40;
    set_str(&c->regionId, "DefaultRegion");
    c->traceOn = true;   /* sent as TRACE_ON; clients write no send trace when it is false */
    c->registerNameServerPeriod = 30000;
    set_str(&c->controllerAddr, "");
    c->syncBrokerMetadataPeriod = 5000;
    c->checkSyncStateSetPeriod = 5000;
    c->brokerHeartbeatInterval = 1000;
    c->controllerHeartBeatTimeoutMills = 10000;
    c->brokerElectionPriority = INT32_MAX;
    c->haMaxTimeSlaveNotCatchup = 15000;
    c->registerBrokerTimeoutMills = 6000;
    c->forceRegister = true;
    c->splitRegistrationSize = 800;   /* 5.x */
    c->channelExpiredTimeout = 120000;
    c->serverChannelMaxIdleTimeSeconds = 120;
    c->maxFrameLength = RMQ_DEFAULT_MAX_FRAME;
    c->checkCRCOnRecover = true;
    c->transactionTimeOut = 6000;
    c->transactionCheckMax = 15;
    c->transactionCheckInterval = 60000;
    c->flushConsumerOffsetInterval = 5000;
    set_str(&c->metricsExporterType, "DISABLE");
    set_str(&c->metricsPromExporterHost, "");
    c->metricsPromExporterPort = 5557;
    c->grpcServerPort = RMQ_GRPC_DEFAULT_PORT;
    set_str(&c->metricsLabel, "");
    set_str(&c->logDir, "");
    set_str(&c->logLevel, "INFO");
    c->logMaxFileSize = 128LL * 1024 * 1024;   /* Apache's logback: 128MB files */
    c->logMaxHistory = 15;
}

int broker_config_set(broker_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const cfg_key *k = find_key(key);
    if (!k) return RMQ_AGAIN;
    char *dst = (char *)c + k->offset;
    int64_t v;
    switch (k->type) {
    case CFG_STR:
        if (k->offset == offsetof(broker_config, logLevel) && log_level_parse(value) < 0) break;
        set_str((char **)dst, value);
        return RMQ_OK;
    case CFG_BOOL:
        if (strcasecmp(value, "true") && strcasecmp(value, "false")) break;
        *(bool *)dst = parse_java_bool(value);
        return RMQ_OK;
    case CFG_INT:
        if (parse_int64(value, &v) || v < INT32_MIN || v > INT32_MAX) break;
        *(int *)dst = (int)v;
        return RMQ_OK;
    case CFG_LONG:
        if (parse_int64(value, &v)) break;
        *(int64_t *)dst = v;
        return RMQ_OK;
    }
    snprintf(err, errlen, "bad value for %s: '%s'", key, value);
    return RMQ_ERR;
}

int broker_config_set_secret(broker_config *c, const char *key, const char *value)
{
    for (size_t i = 0; i < N_SECRET_KEYS; i++)
        if (!strcmp(secret_keys[i].name, key)) {
            set_str((char **)((char *)c + secret_keys[i].offset), value);
            return RMQ_OK;
        }
    return RMQ_AGAIN;
}

typedef struct load_ctx {
    broker_config *c;
    const char *path;
    char *err;
    size_t errlen;
} load_ctx;

static int load_one(const char *key, const char *val, void *arg)
{
    load_ctx *l = arg;
    int r = rmq_tls_config_set(&l->c->tls, key, val); /* dotted names, outside the table */
    if (r == RMQ_AGAIN) r = broker_config_set_secret(l->c, key, val);
    if (r == RMQ_AGAIN) r = broker_config_set(l->c, key, val, l->err, l->errlen);
    if (r == RMQ_AGAIN) log_warn("broker", "%s: unknown key '%s' ignored", l->path, key);
    return r == RMQ_ERR;
}

int broker_config_load(broker_config *c, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        snprintf(err, errlen, "cannot read %s", path);
        return RMQ_ERR;
    }
    int rc = broker_config_parse(c, text, len, path, err, errlen);
    free(text);
    return rc;
}

int broker_config_parse(broker_config *c, const char *data, size_t size, const char *name, char *err,
                        size_t errlen)
{
    char *text = xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    load_ctx l = {c, name, err, errlen};
    int rc = simple_props_each(text, load_one, &l) ? RMQ_ERR : RMQ_OK;
    free(text);
    return rc;
}

char *broker_config_properties(const broker_config *c)
{
    size_t cap = 4096, len = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *dst = (const char *)c + keys[i].offset;
        char val[64];
        const char *v = val;
        switch (keys[i].type) {
        case CFG_STR: v = *(char *const *)dst ? *(char *const *)dst : ""; break;
        case CFG_BOOL: v = *(const bool *)dst ? "true" : "false"; break;
        case CFG_INT: snprintf(val, sizeof val, "%d", *(const int *)dst); break;
        case CFG_LONG: snprintf(val, sizeof val, "%lld", (long long)*(const int64_t *)dst); break;
        }
        size_t need = strlen(keys[i].name) + strlen(v) + 3;
        if (len + need >= cap) out = xrealloc(out, cap = (cap + need) * 2);
        len += (size_t)sprintf(out + len, "%s=%s\n", keys[i].name, v);
    }
    return out;
}

void broker_config_free_strings(broker_config *c)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].type == CFG_STR) {
            char **p = (char **)((char *)c + keys[i].offset);
            free(*p);
            *p = NULL;
        }
    for (size_t i = 0; i < N_SECRET_KEYS; i++) {
        char **p = (char **)((char *)c + secret_keys[i].offset);
        free(*p);
        *p = NULL;
    }
}

void broker_config_free(broker_config *c)
{
    rmq_tls_config_free(&c->tls);
    broker_config_free_strings(c);
}

void broker_config_copy(broker_config *dst, const broker_config *src)
{
    *dst = *src;
    for (size_t i = 0; i < N_KEYS; i++)
        if (keys[i].type == CFG_STR) {
            char **p = (char **)((char *)dst + keys[i].offset);
            if (*p) *p = xstrdup(*p);
        }
    for (size_t i = 0; i < N_SECRET_KEYS; i++) {
        char **p = (char **)((char *)dst + secret_keys[i].offset);
        if (*p) *p = xstrdup(*p);
    }
}
