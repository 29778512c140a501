/*
 * broker: the state of one running broker and the services around it —
 * configuration (broker.conf, Apache's key names), producer/consumer
 * registries fed by heartbeats, ordered-consumption locks, long-polling pull
 * holds, and registration with the name servers. Processors (src/processor/)
 * receive a `broker *` as their argument and work on it and on the store.
 *
 * Threads: everything here runs on the broker's event-loop thread unless a
 * function says otherwise.
 */
#ifndef RMQ_BROKER_H
#define RMQ_BROKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "remoting/remoting.h"

struct event_base;
struct event;
struct store;
struct topic_table;
struct subgroup_table;
struct consumer_offset_table;
struct delay_offset_table;
struct pull_hold;

/* ---- configuration (BrokerConfig + MessageStoreConfig + NettyServerConfig keys) ---- */

typedef struct broker_config {
    char *brokerClusterName;
    char *brokerName;
    int64_t brokerId;
    char *brokerIP1;
    char *brokerIP2;
    int listenPort;
    int haListenPort;
    int grpcServerPort;        /* the gRPC endpoint for 5.x SDKs (src/grpc); 0 = not served */
#define RMQ_GRPC_DEFAULT_PORT 8081   /* Apache's proxy's; when taken, the broker runs without gRPC */
    char *haMasterAddress;     /* slave: the master's HA "ip:port"; unset = learnt from REGISTER_BROKER */
    /* Controller mode (5.x automatic failover, src/broker/replicas.h): Apache's keys. */
    bool enableControllerMode;
    char *controllerAddr;              /* ';'-separated */
    int64_t syncBrokerMetadataPeriod;  /* GET_REPLICA_INFO, ms */
    int64_t checkSyncStateSetPeriod;   /* SyncStateSet shrink check, ms */
    int brokerHeartbeatInterval;       /* BROKER_HEARTBEAT to the controller, ms */
    int64_t controllerHeartBeatTimeoutMills;
    int brokerElectionPriority;
    bool allAckInSyncStateSet;         /* sends wait for every SyncStateSet member */
    int64_t haMaxTimeSlaveNotCatchup;  /* a member this long behind leaves the SyncStateSet */
    char *listenAddress;       /* ours: bind address (default 0.0.0.0) */
    char *namesrvAddr;         /* ';'-separated */
    char *storePathRootDir;
    char *storePathCommitLog;
    char *flushDiskType;       /* ASYNC_FLUSH / SYNC_FLUSH */
    char *brokerRole;          /* ASYNC_MASTER / SYNC_MASTER / SLAVE */
    bool autoCreateTopicEnable;
    bool autoCreateSubscriptionGroup;
    int defaultTopicQueueNums;
    int brokerPermission;
    int fileReservedTime;
    char *deleteWhen;
    int diskMaxUsedSpaceRatio;
    int diskSpaceWarningLevelRatio;   /* percent (5.x MessageStoreConfig; 4.9 read a JVM property) */
    int diskSpaceCleanForciblyRatio;  /* percent */
    bool cleanFileForciblyEnable;
    int cleanResourceInterval;        /* ms between disk-space checks and file cleanups */
    int maxHashSlotNum;
    int maxIndexNum;
    bool messageIndexEnable;
    int maxMessageSize;
    char *messageDelayLevel;
    int64_t mappedFileSizeCommitLog;
    int64_t mappedFileSizeConsumeQueue;
    int flushIntervalCommitLog;
    int syncFlushTimeout;
    bool longPollingEnable;
    int64_t shortPollingTimeMills;
    bool enablePropertyFilter;
    bool filterSupportRetry;
    char *regionId;
    bool traceOn;
    int registerNameServerPeriod;
    int registerBrokerTimeoutMills;
    bool forceRegister;                /* periodic registration without QUERY_DATA_VERSION first */
    bool compressedRegister;           /* REGISTER_BROKER bodies deflated (RegisterBrokerBody.encode(true)) */
    bool enableSplitRegistration;      /* full table in requests of splitRegistrationSize topics */
    int splitRegistrationSize;
    int channelExpiredTimeout;         /* ms; Apache: 120000 */
    int serverChannelMaxIdleTimeSeconds;
    int maxFrameLength;
    int writeBufferHighWaterMark;      /* bytes of unsent output at which a connection stops being read; 0: 64 MiB */
    bool checkCRCOnRecover;
    bool clusterTopicEnable;
    bool brokerTopicEnable;
    bool traceTopicEnable;
    bool rejectTransactionMessage;
    int transactionTimeOut;
    int transactionCheckMax;
    int64_t transactionCheckInterval;
    bool aclEnable;
    /* ACL 2.0 (Apache 5.3's AuthConfig keys, src/broker/acl2.h) */
    bool authenticationEnabled;
    bool authorizationEnabled;
    char *authenticationWhitelist;     /* request codes never authenticated, "a,b" */
    char *authorizationWhitelist;
    bool migrateAuthFromV1Enabled;     /* plain_acl.yml accounts become users and ACLs at start */
    /* Apache's plug-in class names: we have the behaviour of its defaults only (a start-up
     * warning names any other class). */
    char *authenticationProvider, *authenticationMetadataProvider, *authenticationStrategy;
    char *authorizationProvider, *authorizationMetadataProvider, *authorizationStrategy;
    /* JSON naming a super user created at start ({"username","password"} and
     * {"accessKey","secretKey"}); they hold passwords, so they are outside the key
     * table: never printed, nor changed by UPDATE_BROKER_CONFIG. */
    char *initAuthenticationUser;
    char *innerClientAuthenticationCredentials;
    bool slaveReadEnable;
    bool enableRetryTopicV2;                  /* POP retry topics %RETRY%group+topic instead of _topic */
    bool retrieveMessageFromPopRetryTopicV1;  /* with v2: POPs still read the v1 retry topics */
    int popFromRetryProbability;              /* percent of POPs that read the retry topic first */
    /* POP keys of 5.3's BrokerConfig. Honoured: reviveQueueNum (revive topic queues, read
     * at start), reviveInterval (ms between revive passes, at start), maxPopPollingSize
     * (held POPs in all), popPollingSize (held POPs per topic, group and queue),
     * popResponseReturnActualRetryTopic (retry messages popped under their retry topic).
     * The others tune Apache's buffering and threads: accepted and printed, no effect. */
    int reviveQueueNum;
    int64_t reviveInterval;
    int64_t maxPopPollingSize;
    int popPollingSize;
    bool popResponseReturnActualRetryTopic;
    int popPollingMapSize, popCkStayBufferTime, popCkStayBufferTimeOut, popCkMaxBufferSize;
    int popCkOffsetMaxQueueSize, popReviveMaxReturnSizePerRead, popReviveMaxAttemptTimes, defaultPopShareQueueNum;
    int64_t reviveMaxSlow, reviveScanTime, reviveAckWaitMs, popLongPollingForceNotifyInterval;
    int64_t popInflightMessageThreshold;
    bool enablePopMessageThreshold, enablePopBufferMerge, enablePopBatchAck, enablePopLog;
    bool enableNotifyBeforePopCalculateLag, enableNotifyAfterPopOrderLockRelease, initPopOffsetByCheckMsgInMem;
    bool popConsumerFSServiceInit, popConsumerKVServiceLog, popConsumerKVServiceInit, popConsumerKVServiceEnable;
    /* 5.x timer (MessageStoreConfig). Honoured: timerWheelEnable (a timer send is refused
     * when false), timerMaxDelaySec (the farthest due time a send or recall may ask for),
     * timerPrecisionMs (the wheel's slot, read at start: TIMER_OUT_MS is rounded down to
     * it as Apache's send path does), timerRollWindowSlot (a timer due beyond it is filed
     * as a roll unit), timerStopDequeue (nothing is delivered while true). The others are
     * knobs of Apache's thread pipeline: accepted and printed, no effect here. */
    bool timerWheelEnable;
    int timerMaxDelaySec;
    int timerPrecisionMs;
    int timerRollWindowSlot;
    bool timerStopDequeue;
    bool timerStopEnqueue, timerEnableDisruptor, timerEnableCheckMetrics, timerInterceptDelayLevel;
    bool timerSkipUnknownError, timerWarmEnable, timerEnableRetryUntilSuccess;
    int timerFlushIntervalMs, timerGetMessageThreadNum, timerPutMessageThreadNum, timerCongestNumEachSlot;
    int timerMetricSmallThreshold, timerProgressLogIntervalMs, mappedFileSizeTimerLog;
    char *timerCheckMetricsWhen;
    /* RECALL_MESSAGE (5.3): off by default, as Apache's; allowed on a broker that is not
     * writeable unless the second is false. */
    bool recallMessageEnable;
    bool allowRecallWhenBrokerNotWriteable;
    int accessMessageInMemoryMaxRatio;  /* % of RAM a pull may lag before the slave is suggested */
    bool offsetCheckInSlave;
    int flushConsumerOffsetInterval;
    /* Metrics (Apache's BrokerConfig names): DISABLE or PROM, the exporter's address,
     * "k:v,k:v" labels added to every sample. */
    char *metricsExporterType;
    char *metricsPromExporterHost;     /* blank: brokerIP1 */
    int metricsPromExporterPort;
    char *metricsLabel;
    /* Log files (ours): directory (blank: ${HOME}/logs/rocketmqlogs), level (changeable
     * at run time with UPDATE_BROKER_CONFIG), rotation size and retention in days. */
    char *logDir;
    char *logLevel;
    int64_t logMaxFileSize;
    int logMaxHistory;
    /* tls.server.* (Apache: system properties / tls.properties); read from the -c file
     * only, never set or printed through the key table (keyPassword stays local). */
    rmq_tls_config tls;
} broker_config;

void broker_config_defaults(broker_config *c);
/* Applies one "key=value"; RMQ_ERR with a reason for a bad value, RMQ_AGAIN for an unknown key. */
int broker_config_set(broker_config *c, const char *key, const char *value, char *err, size_t errlen);
/* initAuthenticationUser / innerClientAuthenticationCredentials: RMQ_OK, or RMQ_AGAIN for another key. */
int broker_config_set_secret(broker_config *c, const char *key, const char *value);
/* Reads a java.util.Properties file (comments, '=' or ':' separators, trims). */
int broker_config_load(broker_config *c, const char *path, char *err, size_t errlen);
/* The same from SIZE bytes in memory (a NUL byte ends the text, as it ends a file's);
 * NAME stands for the file in warnings. */
int broker_config_parse(broker_config *c, const char *text, size_t size, const char *name, char *err,
                        size_t errlen);
/* "key=value\n" lines of every setting, sorted by key (GET_BROKER_CONFIG body, -p). */
char *broker_config_properties(const broker_config *c);
void broker_config_free(broker_config *c);
/* DST = SRC with its own copies of the key-table strings, which UPDATE_BROKER_CONFIG
 * replaces on the running broker's copy; the TLS settings stay SRC's. */
void broker_config_copy(broker_config *dst, const broker_config *src);
/* Frees what broker_config_copy allocated (the key-table strings). */
void broker_config_free_strings(broker_config *c);

/* ---- the running broker ---- */

struct client_registry;  /* src/broker/clients.h */

typedef struct broker {
    broker_config cfg;
    struct event_base *base;
    rmq_server *server;        /* listenPort */
    rmq_server *fast_server;   /* listenPort - 2, the clients' "VIP channel" */
    rmq_client *client;        /* to name servers */
    rmq_async *async;          /* other threads -> the loop */
    struct store *store;
    struct topic_table *topics;            /* config/topics.json */
    struct subgroup_table *groups;         /* config/subscriptionGroup.json */
    struct consumer_offset_table *offsets; /* config/consumerOffset.json */
    struct delay_offset_table *delay_offsets;
    struct client_registry *clients;
    struct pull_hold *pull_hold;           /* suspended long-polling pulls */
    struct schedule_service *schedule;     /* delay levels and timer (schedule.h) */
    struct transaction_service *transactions;  /* END_TRANSACTION and checks (transaction.h) */
    struct acl *acl_v1;                    /* plain_acl.yml with aclEnable (acl.h) */
    char *acl_path;                        /* $ROCKETMQ_HOME/conf/plain_acl.yml, watched */
    int64_t acl_mtime;                     /* its mtime (ms) when last loaded, -1 when absent */
    struct auth *auth;                     /* ACL 2.0 users and ACLs (acl2.h) */
    struct registration *registration;     /* with the name servers (registration.h) */
    struct meta_persister *persister;      /* coalesced writes of topics.json, subscriptionGroup.json */
    struct event *register_periodic_ev;    /* 10 s after start, then every registerNameServerPeriod */
    struct ha_service *ha;                 /* replication (src/ha/ha.h) */
    struct slave_sync *slave_sync;         /* slaves: the master's metadata (slave_sync.h) */
    struct replicas *replicas;             /* enableControllerMode (replicas.h) */
    struct pop_service *pop;               /* POP bookkeeping and request modes (pop.h) */
    struct pop_hold *pop_hold;             /* suspended long-polling POPs */
    char addr[64];             /* brokerIP1:listenPort, as registered and in msgIds */
    int64_t boot_ms;
    struct metrics_server *metrics;        /* /metrics when metricsExporterType=PROM */
    struct grpc_server *grpc;              /* grpcServerPort (src/grpc/grpc.h) */
    bool shutting_down;
    /* Arrivals the store dispatched on one of its threads (SYNC_FLUSH dispatches after
     * the sync), waiting for the loop: see on_arrival in broker.c. */
    pthread_t loop_thread;
    /*
     * Pull and POP requests that may be waiting for an arrival: counted from before
     * their store read until they are answered (held ones until freed). The store's
     * thread skips posting an arrival to the loop while it is 0 (unless the
     * scheduler needs it): it wrote the queue entry before it read 0, so a request
     * that counted itself afterwards reads the entry and is not held for it.
     */
    _Atomic long arrival_watchers;
    pthread_mutex_t arrivals_mu;
    struct pending_arrival *arrivals;      /* newest first */
    _Atomic bool closing;                  /* arrivals are dropped from here on */
} broker;

/* A full registration with every name server soon (e.g. the broker's permission changed). */
void broker_request_register(broker *b);
/* TOPIC was created or updated: journalled at once, topics.json written soon
 * (coalesced), the name servers told in an incremental registration
 * (registerIncrementBrokerData). */
void broker_topic_changed(broker *b, const char *topic);
/* TOPIC was deleted: journalled, topics.json soon (the admin tool tells the name servers). */
void broker_topic_deleted(broker *b, const char *topic);
/* Topics changed without saying which: topics.json now and a full registration soon. */
void broker_topics_changed(broker *b);
/* GROUP was created, updated or deleted: journalled, subscriptionGroup.json soon. */
void broker_group_changed(broker *b, const char *group);
/* FN(ARG) once the name servers answered the registration of what changed so far
 * (registration_then; b->registration must exist). */
void broker_after_registration(broker *b, void (*fn)(void *arg), void *arg);
/* plain_acl.yml loaded again now (an admin request rewrote it), as the 5 s watch would. */
void broker_acl_reload(broker *b);
/* Is this broker a slave (brokerRole=SLAVE)? */
bool broker_is_slave(const broker *b);
/* May it store sends: a master, and in controller mode within its lease (replicas.h). */
bool broker_may_write(const broker *b);

/*
 * Runs a broker until SIGTERM/SIGINT: opens the store, loads metadata, listens,
 * registers with the name servers, serves. Takes over nothing from cfg (copied).
 * Returns the process exit status.
 */
int broker_run(const broker_config *cfg);

#endif
