/*
 * The broker's life: open the store and the metadata, listen on the main and
 * fast ports, register with the name servers at start, 10 s later, then every
 * registerNameServerPeriod, and after changes, persist offsets periodically, and shut down cleanly on
 * SIGTERM/SIGINT (unregister, persist, close the store).
 */
#include <event2/event.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "acl2.h"
#include "broker.h"
#include "clients.h"
#include "pop.h"
#include "replicas.h"
#include "registration.h"
#include "schedule.h"
#include "slave_sync.h"
#include "transaction.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "grpc/grpc.h"
#include "ha/ha.h"
#include "meta/meta.h"
#include "metrics/metrics.h"
#include "processor/processor.h"
#include "store/store.h"

static int check_config(const broker_config *c, char *err, size_t errlen)
{
    if (strcmp(c->flushDiskType, "ASYNC_FLUSH") && strcmp(c->flushDiskType, "SYNC_FLUSH")) {
        snprintf(err, errlen, "flushDiskType must be ASYNC_FLUSH or SYNC_FLUSH, not '%s'", c->flushDiskType);
        return RMQ_ERR;
    }
    if (strcmp(c->brokerRole, "ASYNC_MASTER") && strcmp(c->brokerRole, "SYNC_MASTER") &&
        strcmp(c->brokerRole, "SLAVE")) {
        snprintf(err, errlen, "brokerRole must be ASYNC_MASTER, SYNC_MASTER or SLAVE, not '%s'", c->brokerRole);
        return RMQ_ERR;
    }
    if (c->listenPort <= 2 || c->listenPort > 65535) {
        snprintf(err, errlen, "listenPort %d out of range", c->listenPort);
        return RMQ_ERR;
    }
    if (strlen(c->storePathRootDir) >= STORE_PATH_MAX) {
        snprintf(err, errlen, "storePathRootDir too long");
        return RMQ_ERR;
    }
    return RMQ_OK;
}

static void store_config_from(const broker *b, store_config *sc)
{
    const broker_config *c = &b->cfg;
    store_config_defaults(sc);
    snprintf(sc->storePathRootDir, sizeof sc->storePathRootDir, "%s", c->storePathRootDir);
    if (c->storePathCommitLog)
        snprintf(sc->storePathCommitLog, sizeof sc->storePathCommitLog, "%s", c->storePathCommitLog);
    sc->mappedFileSizeCommitLog = c->mappedFileSizeCommitLog;
    sc->mappedFileSizeConsumeQueue = (int32_t)c->mappedFileSizeConsumeQueue;
    sc->flushDiskType = strcmp(c->flushDiskType, "SYNC_FLUSH") == 0 ? STORE_SYNC_FLUSH : STORE_ASYNC_FLUSH;
    sc->brokerRole = broker_is_slave(b) ? STORE_SLAVE
                     : strcmp(c->brokerRole, "SYNC_MASTER") == 0 ? STORE_SYNC_MASTER : STORE_ASYNC_MASTER;
    sc->flushIntervalCommitLog = c->flushIntervalCommitLog;
    sc->syncFlushTimeout = c->syncFlushTimeout;
    sc->fileReservedTime = c->fileReservedTime;
    snprintf(sc->deleteWhen, sizeof sc->deleteWhen, "%s", c->deleteWhen);
    sc->diskMaxUsedSpaceRatio = c->diskMaxUsedSpaceRatio;
    sc->diskSpaceWarningLevelRatio = c->diskSpaceWarningLevelRatio / 100.0;
    sc->diskSpaceCleanForciblyRatio = c->diskSpaceCleanForciblyRatio / 100.0;
    sc->cleanFileForciblyEnable = c->cleanFileForciblyEnable;
    sc->cleanResourceInterval = c->cleanResourceInterval;
    sc->maxHashSlotNum = c->maxHashSlotNum;
    sc->maxIndexNum = c->maxIndexNum;
    sc->messageIndexEnable = c->messageIndexEnable;
    sc->checkCRCOnRecover = c->checkCRCOnRecover;
    sc->maxMessageSize = c->maxMessageSize;
    sc->offsetCheckInSlave = c->offsetCheckInSlave;
    sc->accessMessageInMemoryMaxRatio = c->accessMessageInMemoryMaxRatio;
    snprintf(sc->messageDelayLevel, sizeof sc->messageDelayLevel, "%s", c->messageDelayLevel);
    msg_host_parse(&sc->storeHost, b->addr);
}

/* ---- name-server registration (registration.c) ---- */

/* The periodic registerBrokerAll: without forceRegister, only where the data version differs. */
static void register_all(broker *b)
{
    registration_register_all(b->registration, b->cfg.forceRegister);
}

/*
 * BrokerController.start: registerBrokerAll at once, then at a fixed rate with an
 * initial delay of 10 s and a period of registerNameServerPeriod capped at 60 s.
 * Waiting a whole period for the second registration would leave a slave started
 * before its master without the master's address (and a SYNC_MASTER without its
 * slave) for 30 s. A period under 10 s, which Apache raises to 10 s, is kept: tests
 * use it to see registrations quickly.
 */
#define REGISTER_FIRST_PERIODIC_MS 10000
#define REGISTER_PERIOD_MAX_MS 60000

static int register_period_ms(const broker *b)
{
    int p = b->cfg.registerNameServerPeriod;
    return p > REGISTER_PERIOD_MAX_MS ? REGISTER_PERIOD_MAX_MS : p;
}

static void register_periodic_cb(evutil_socket_t fd, short what, void *arg)
{
    broker *b = arg;
    register_all(b);
    int ms = register_period_ms(b);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(b->register_periodic_ev, &tv);
}

static void start_registering(broker *b)
{
    int ms = register_period_ms(b);
    if (ms > REGISTER_FIRST_PERIODIC_MS) ms = REGISTER_FIRST_PERIODIC_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    b->register_periodic_ev = event_new(b->base, -1, 0, register_periodic_cb, b);
    event_add(b->register_periodic_ev, &tv);
    register_all(b);
}

/* ---- periodic work ---- */

static void persist_offsets_cb(evutil_socket_t fd, short what, void *arg)
{
    broker *b = arg;
    consumer_offset_persist(b->offsets);
    delay_offset_persist(b->delay_offsets);
}

static void scan_clients_cb(evutil_socket_t fd, short what, void *arg)
{
    broker *b = arg;
    clients_scan_expired(b->clients, now_ms(), b->cfg.channelExpiredTimeout);
}

/* The store has one arrival hook: long polling and the scheduler both need it. */
static void arrived(broker *b, const char *topic, int32_t queue_id, int64_t qoffset, int64_t tags_code,
                    const char *props, uint32_t props_len, int64_t store_ts)
{
    pull_hold_on_arrival(b, topic, queue_id, qoffset, tags_code, props, props_len, store_ts);
    pop_hold_on_arrival(b, topic, queue_id);
    if (b->schedule)
        schedule_on_arrival(b->schedule, topic, queue_id, qoffset, tags_code, props, props_len, store_ts);
}

typedef struct pending_arrival {
    struct pending_arrival *next;
    int32_t queue_id;
    int64_t qoffset, tags_code, store_ts;
    uint32_t props_len;
    char *props;                           /* props_len bytes, then the topic */
} pending_arrival;

/* On the loop: the arrivals posted by store threads, oldest first. */
static void drain_arrivals(void *arg)
{
    broker *b = arg;
    pthread_mutex_lock(&b->arrivals_mu);
    pending_arrival *list = b->arrivals, *in_order = NULL;
    b->arrivals = NULL;
    pthread_mutex_unlock(&b->arrivals_mu);
    while (list) {
        pending_arrival *p = list;
        list = p->next;
        p->next = in_order;
        in_order = p;
    }
    while (in_order) {
        pending_arrival *p = in_order;
        in_order = p->next;
        if (!atomic_load(&b->closing))
            arrived(b, p->props + p->props_len, p->queue_id, p->qoffset, p->tags_code, p->props, p->props_len,
                    p->store_ts);
        free(p);
    }
}

/* The store calls this from its dispatcher thread (ASYNC_FLUSH) or a group-commit
 * thread (SYNC_FLUSH), or on the appending thread for HA appends, which may be the
 * loop inside a hook: the hooks (which live on the loop) always run from a posted
 * drain, never nested. One post wakes the loop for all arrivals queued until it runs. */
static void on_arrival(void *arg, const char *topic, int32_t queue_id, int64_t qoffset, int64_t tags_code,
                       const char *props, uint32_t props_len, int64_t store_ts)
{
    broker *b = arg;
    if (atomic_load(&b->closing))
        return;
    /* Pairs with the count a request takes before it reads the store (broker.h). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&b->arrival_watchers, memory_order_relaxed) == 0 &&
        !(b->schedule && (strcmp(topic, TOPIC_SCHEDULE) == 0 || strcmp(topic, TOPIC_TIMER) == 0)))
        return;
    size_t tlen = strlen(topic);
    /* One allocation: the node, then the properties and the topic. */
    pending_arrival *p = xmalloc(sizeof *p + props_len + tlen + 1);
    p->props = (char *)(p + 1);
    memcpy(p->props, props, props_len);
    memcpy(p->props + props_len, topic, tlen + 1);
    p->props_len = props_len;
    p->queue_id = queue_id;
    p->qoffset = qoffset;
    p->tags_code = tags_code;
    p->store_ts = store_ts;
    pthread_mutex_lock(&b->arrivals_mu);
    bool first = b->arrivals == NULL;
    p->next = b->arrivals;
    b->arrivals = p;
    pthread_mutex_unlock(&b->arrivals_mu);
    if (first)  /* one hop drains everything queued until it runs */
        rmq_async_post(b->async, drain_arrivals, b);
}

static void on_conn_closed(rmq_conn *c, void *arg)
{
    broker *b = arg;
    clients_on_conn_closed(b->clients, c);
}

/* HEART_BEAT saw a consumer group: find or create its config and its retry topic. */
static bool consumer_group_seen(const char *group, bool unit_mode, void *arg)
{
    broker *b = arg;
    subscription_group_config gc;
    bool created = false;
    if (!subgroup_table_find(b->groups, group, &gc, &created)) return true;
    if (created) broker_group_changed(b, group);
    char topic[META_NAME_MAX + 8];
    snprintf(topic, sizeof topic, "%s%s", TOPIC_RETRY_PREFIX, group);
    topic_config tc;
    bool tcreated = false;
    topic_table_create_in_send_back(b->topics, topic, gc.retry_queue_nums, PERM_WRITE | PERM_READ,
                                    unit_mode ? 1 : 0, &tc, &tcreated);
    if (tcreated) broker_topic_changed(b, topic);
    return gc.notify_consumer_ids_changed_enable;
}

static bool notify_enabled(const char *group, void *arg)
{
    broker *b = arg;
    subscription_group_config gc;
    return subgroup_table_get(b->groups, group, &gc) ? gc.notify_consumer_ids_changed_enable : true;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    broker *b = arg;
    log_info("broker", "signal %d: shutting down", (int)sig);
    b->shutting_down = true;
    event_base_loopexit(b->base, NULL);
}

static struct event *add_timer(broker *b, int ms, event_callback_fn fn)
{
    struct event *ev = event_new(b->base, -1, EV_PERSIST, fn, b);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(ev, &tv);
    return ev;
}

static rmq_server *listen_on(broker *b, int port, const char *name, char *err, size_t errlen)
{
    rmq_server_config sc;
    rmq_server_config_defaults(&sc);
    sc.host = b->cfg.listenAddress;
    sc.port = port;
    sc.idle_seconds = b->cfg.serverChannelMaxIdleTimeSeconds;
    sc.max_frame = (size_t)b->cfg.maxFrameLength;
    if (b->cfg.writeBufferHighWaterMark > 0) sc.write_high_water = (size_t)b->cfg.writeBufferHighWaterMark;
    sc.name = name;
    sc.tls = b->cfg.tls;
    const char *why;
    rmq_server *s = rmq_server_new(b->base, &sc, &why);
    if (!s) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", sc.host, port, why);
        return NULL;
    }
    processor_register_client(s, b);
    processor_register_send(s, b);
    processor_register_pull(s, b);
    processor_register_offset(s, b);
    processor_register_admin(s, b);
    processor_register_transaction(s, b);
    processor_register_query(s, b);
    processor_register_pop(s, b);
    processor_register_ack(s, b);
    processor_register_assignment(s, b);
    processor_register_auth(s, b);
    processor_register_recall(s, b);
    rmq_server_on_close(s, on_conn_closed, b);
    return s;
}

/*
 * aclEnable: Apache's PlainPermissionManager reads $ROCKETMQ_HOME/conf/plain_acl.yml;
 * without ROCKETMQ_HOME or the file it runs with no accounts (only white-listed
 * addresses get through). A file that does not parse stops the start.
 */
static int64_t mtime_ms(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static acl *load_acl(broker *b, char *err, size_t errlen)
{
    const char *home = getenv("ROCKETMQ_HOME");
    if (!home || !*home) {
        log_warn("broker", "aclEnable=true but ROCKETMQ_HOME is not set: no ACL accounts");
        return acl_parse("", err, errlen);
    }
    b->acl_path = str_printf("%s/" ACL_DEFAULT_FILE, home);
    b->acl_mtime = mtime_ms(b->acl_path);
    acl *a = acl_load(b->acl_path, err, errlen);
    if (a) log_info("broker", "plain ACL loaded from %s", b->acl_path);
    return a;
}

/*
 * Apache 4.9.7's AclFileWatchService: every 5 s (WATCH_INTERVAL), a plain_acl.yml whose
 * lastModified changed is loaded again (PlainPermissionManager.load). One that does not
 * load leaves the accounts in force (Apache's watcher logs the exception and goes on); a
 * deleted one leaves none (the file count changed: everything is loaded again, from no
 * file). Connections are untouched: the hook reads b->acl_v1 for each request.
 */
#define ACL_WATCH_MS 5000

static void acl_reload(broker *b, int64_t m)
{
    b->acl_mtime = m;
    char err[512];
    acl *a = m < 0 ? acl_parse("", err, sizeof err) : acl_load(b->acl_path, err, sizeof err);
    if (!a) {
        log_warn("broker", "plain ACL %s changed but does not load, the accounts loaded before stay: %s", b->acl_path,
                 err);
        return;
    }
    acl_free(b->acl_v1);
    b->acl_v1 = a;
    log_info("broker", "plain ACL reloaded from %s%s", b->acl_path, m < 0 ? " (deleted: no accounts)" : "");
}

static void acl_watch_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    broker *b = arg;
    int64_t m = mtime_ms(b->acl_path);
    if (m != b->acl_mtime) acl_reload(b, m);
}

void broker_acl_reload(broker *b)
{
    if (b->acl_v1 && b->acl_path) acl_reload(b, mtime_ms(b->acl_path));
}

/* Apache's classes whose behaviour acl2 has; blank means Apache's default. */
static bool known_auth_class(const char *name)
{
    static const char *const known[] = {
        "org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider",
        "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider",
        "org.apache.rocketmq.auth.authentication.strategy.StatelessAuthenticationStrategy",
        "org.apache.rocketmq.auth.authentication.strategy.StatefulAuthenticationStrategy",
        "org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider",
        "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider",
        "org.apache.rocketmq.auth.authorization.strategy.StatelessAuthorizationStrategy",
        "org.apache.rocketmq.auth.authorization.strategy.StatefulAuthorizationStrategy",
    };
    if (!name || !*name) return true;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i])) return true;
    return false;
}

/* ACL 2.0: users and ACLs under the store root, whether or not the switches are on. */
static int open_auth(broker *b, char *err, size_t errlen)
{
    const char *classes[] = {b->cfg.authenticationProvider, b->cfg.authenticationMetadataProvider,
                             b->cfg.authenticationStrategy, b->cfg.authorizationProvider,
                             b->cfg.authorizationMetadataProvider, b->cfg.authorizationStrategy};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (!known_auth_class(classes[i]))
            log_warn("broker", "ACL 2.0: %s is not one of Apache's own classes; the built-in users and ACLs "
                     "(config/auth.json) are used", classes[i]);
    auth_options opt = {
        .authentication_enabled = b->cfg.authenticationEnabled,
        .authorization_enabled = b->cfg.authorizationEnabled,
        .cluster_name = b->cfg.brokerClusterName,
        .authentication_whitelist = b->cfg.authenticationWhitelist,
        .authorization_whitelist = b->cfg.authorizationWhitelist,
        .init_user = b->cfg.initAuthenticationUser,
        .inner_credentials = b->cfg.innerClientAuthenticationCredentials,
    };
    char why[400];
    if (!(b->auth = auth_open(b->cfg.storePathRootDir, &opt, why, sizeof why))) {
        snprintf(err, errlen, "auth: %s", why);
        return RMQ_ERR;
    }
    if (b->cfg.migrateAuthFromV1Enabled) auth_migrate_v1(b->auth, getenv("ROCKETMQ_HOME"));
    return RMQ_OK;
}

/*
 * Before every processor: ACL 1.0 (aclEnable, as the RPC hook of Apache up to 5.3.2),
 * then ACL 2.0's authentication and authorization (Apache's request pipeline).
 */
static rmq_cmd *access_hook(rmq_conn *conn, rmq_cmd *req, void *arg)
{
    broker *b = arg;
    rmq_cmd *refusal = b->acl_v1 ? acl_server_hook(conn, req, b->acl_v1) : NULL;
    if (!refusal && auth_enforcing(b->auth)) refusal = auth_server_hook(conn, req, b->auth);
    return refusal;
}

static int start_ha(broker *b, char *err, size_t errlen)
{
    ha_config hc;
    ha_config_defaults(&hc);
    hc.listen_host = b->cfg.listenAddress;
    hc.listen_port = b->cfg.haListenPort;
    hc.commitlog_segment_size = b->cfg.mappedFileSizeCommitLog;
    if (broker_is_slave(b)) hc.master_address = b->cfg.haMasterAddress;
    if (b->replicas) replicas_ha_config(b->replicas, &hc);
    b->ha = ha_new(b->base, b->store, &hc, err, errlen);
    return b->ha ? RMQ_OK : RMQ_ERR;
}

/* A burst of topic or group changes is written once, this long after its first change. */
#define METADATA_PERSIST_DELAY_MS 200

static int open_metadata(broker *b, char *err, size_t errlen)
{
    topic_table_options opt;
    topic_table_options_default(&opt);
    opt.store_root = b->cfg.storePathRootDir;
    opt.broker_cluster_name = b->cfg.brokerClusterName;
    opt.broker_name = b->cfg.brokerName;
    opt.auto_create_topic_enable = b->cfg.autoCreateTopicEnable;
    opt.default_topic_queue_nums = b->cfg.defaultTopicQueueNums;
    opt.cluster_topic_enable = b->cfg.clusterTopicEnable;
    opt.broker_topic_enable = b->cfg.brokerTopicEnable;
    opt.trace_topic_enable = b->cfg.traceTopicEnable;
    char *why = NULL;
    if (!(b->topics = topic_table_open(&opt, &why)) ||
        !(b->groups = subgroup_table_open(b->cfg.storePathRootDir, b->cfg.autoCreateSubscriptionGroup, &why)) ||
        !(b->offsets = consumer_offset_open(b->cfg.storePathRootDir, &why)) ||
        !(b->delay_offsets = delay_offset_open(b->cfg.storePathRootDir, &why))) {
        snprintf(err, errlen, "%s", why ? why : "cannot load config/*.json");
        free(why);
        return RMQ_ERR;
    }
    if (!(b->persister = meta_persister_start(METADATA_PERSIST_DELAY_MS))) {
        snprintf(err, errlen, "cannot start the metadata writer thread");
        return RMQ_ERR;
    }
    return RMQ_OK;
}

static void close_all(broker *b)
{
    atomic_store(&b->closing, true);  /* the hooks arrivals feed are freed below */
    metrics_server_free(b->metrics);
    grpc_server_free(b->grpc);   /* before the remoting server its clients' connections belong to */
    b->grpc = NULL;
    ha_free(b->ha);
    b->ha = NULL;  /* late register answers must not reach it */
    rmq_server_free(b->server);
    rmq_server_free(b->fast_server);
    rmq_client_free(b->client);
    /* After the client: its pending controller requests call back into it (with no
     * answer); no timer of it runs between (nothing turns the loop here). */
    replicas_free(b->replicas);
    b->replicas = NULL;
    slave_sync_free(b->slave_sync);  /* after the client: its pending requests call back into it */
    registration_free(b->registration);
    schedule_free(b->schedule);
    transaction_free(b->transactions);
    if (b->pull_hold) pull_hold_free(b->pull_hold);
    if (b->pop_hold) pop_hold_free(b->pop_hold);
    pop_free(b->pop);
    if (b->clients) clients_free(b->clients);
    if (b->offsets) consumer_offset_persist(b->offsets);
    if (b->delay_offsets) delay_offset_persist(b->delay_offsets);
    meta_persister_stop(b->persister);   /* writes what changed since its last write */
    if (b->topics) topic_table_free(b->topics);
    if (b->groups) subgroup_table_free(b->groups);
    if (b->offsets) consumer_offset_free(b->offsets);
    if (b->delay_offsets) delay_offset_free(b->delay_offsets);
    if (b->store) store_close(b->store);
    if (b->register_periodic_ev) event_free(b->register_periodic_ev);
    rmq_async_free(b->async);  /* drains (and drops) arrivals still queued */
    pthread_mutex_destroy(&b->arrivals_mu);
}

int broker_run(const broker_config *cfg)
{
    char err[512];
    broker *b = xcalloc(1, sizeof *b);
    broker_config_copy(&b->cfg, cfg);
    if (check_config(&b->cfg, err, sizeof err)) {
        fprintf(stderr, "mqbroker: %s\n", err);
        broker_config_free_strings(&b->cfg);
        free(b);
        return 1;
    }
    if (!b->cfg.haListenPort) b->cfg.haListenPort = b->cfg.listenPort + 1;
    snprintf(b->addr, sizeof b->addr, "%s:%d", b->cfg.brokerIP1, b->cfg.listenPort);
    b->boot_ms = now_ms();
    b->loop_thread = pthread_self();
    pthread_mutex_init(&b->arrivals_mu, NULL);
    rmq_remoting_init();
    b->base = event_base_new();
    b->async = rmq_async_new(b->base);
    b->client = rmq_client_new(b->base);
    b->registration = registration_new(b);
    int rc = 1;
    /* Before anything listens: a stop request must never find default signal handling. */
    struct event *sigs[] = {evsignal_new(b->base, SIGTERM, signal_cb, b), evsignal_new(b->base, SIGINT, signal_cb, b)};
    for (int i = 0; i < 2; i++) event_add(sigs[i], NULL);
    /* BrokerStartup: the broker's own connections (registration, slave sync, controller)
     * use TLS when tls.enable says so, by default when tls.server.mode is enforcing. */
    const char *tls_err;
    if (rmq_tls_client_enabled(&b->cfg.tls) && rmq_client_use_tls(b->client, &b->cfg.tls, &tls_err)) {
        fprintf(stderr, "mqbroker: %s\n", tls_err);
        goto out;
    }
    store_config sc;
    store_config_from(b, &sc);
    if (mkdirs(b->cfg.storePathRootDir)) {
        fprintf(stderr, "mqbroker: cannot create %s\n", b->cfg.storePathRootDir);
        goto out;
    }
    if (!(b->store = store_open(&sc, err, sizeof err))) {
        fprintf(stderr, "mqbroker: store: %s\n", err);
        goto out;
    }
    if (open_metadata(b, err, sizeof err)) {
        fprintf(stderr, "mqbroker: %s\n", err);
        goto out;
    }
    if (b->cfg.aclEnable && !(b->acl_v1 = load_acl(b, err, sizeof err))) {
        fprintf(stderr, "mqbroker: acl: %s\n", err);
        goto out;
    }
    if (open_auth(b, err, sizeof err)) {
        fprintf(stderr, "mqbroker: %s\n", err);
        goto out;
    }
    /* Controller mode: the controller decides the role before the role's services exist. */
    if (b->cfg.enableControllerMode && !(b->replicas = replicas_bootstrap(b, err, sizeof err))) {
        fprintf(stderr, "mqbroker: controller: %s\n", err);
        goto out;
    }
    clients_hooks hooks = {.consumer_group_seen = consumer_group_seen, .notify_enabled = notify_enabled, .arg = b};
    b->clients = clients_new(&hooks);
    b->pull_hold = pull_hold_new(b);
    b->pop_hold = pop_hold_new();
    if (!(b->pop = pop_new(b, err, sizeof err))) {
        fprintf(stderr, "mqbroker: %s\n", err);
        goto out;
    }
    if (!broker_is_slave(b)) {
        if (!(b->schedule = schedule_new(b, err, sizeof err))) {
            fprintf(stderr, "mqbroker: %s\n", err);
            goto out;
        }
        b->transactions = transaction_new(b);
    } else {
        b->slave_sync = slave_sync_new(b);
    }
    store_set_arrival_cb(b->store, on_arrival, b);
    /* Before the client ports: whoever can reach the broker finds it whole (tests start it by port),
     * its metrics endpoint and HA port included. */
    if (broker_metrics_start(b, &b->metrics, err, sizeof err) || start_ha(b, err, sizeof err)) {
        fprintf(stderr, "mqbroker: %s\n", err);
        goto out;
    }
    /* The names head the listeners' log lines: connection events go to remoting.log. */
    if (!(b->server = listen_on(b, b->cfg.listenPort, "remoting", err, sizeof err)) ||
        !(b->fast_server = listen_on(b, b->cfg.listenPort - 2, "remoting-fast", err, sizeof err))) {
        fprintf(stderr, "mqbroker: %s\n", err);
        goto out;
    }
    if (b->cfg.grpcServerPort > 0 && !(b->grpc = grpc_server_new(b, b->cfg.grpcServerPort, err, sizeof err))) {
        /* Left at its default, a taken port (another broker on this host) costs only gRPC. */
        if (b->cfg.grpcServerPort != RMQ_GRPC_DEFAULT_PORT) {
            fprintf(stderr, "mqbroker: %s\n", err);
            goto out;
        }
        log_warn("broker", "%s; serving no gRPC (set grpcServerPort)", err);
    }
    if (b->acl_v1 || auth_enforcing(b->auth)) {
        /* Nothing is served before event_base_dispatch, so no request slips past. */
        rmq_server_set_hook(b->server, access_hook, b);
        rmq_server_set_hook(b->fast_server, access_hook, b);
    }
    if (b->replicas) replicas_start(b->replicas);
    store_start(b->store);
    if (b->schedule) schedule_start(b->schedule);
    if (b->pop && !broker_is_slave(b)) pop_start(b->pop);
    if (b->transactions) transaction_start(b->transactions);
    if (b->slave_sync) slave_sync_start(b->slave_sync);
    struct event *timers[] = {
        add_timer(b, b->cfg.flushConsumerOffsetInterval, persist_offsets_cb),
        add_timer(b, 10000, scan_clients_cb),
    };
    struct event *acl_watch = b->acl_v1 && b->acl_path ? add_timer(b, ACL_WATCH_MS, acl_watch_cb) : NULL;
    start_registering(b);
    log_info("broker", "The broker[%s, %s] boot success. serializeType=JSON and name server is %s",
             b->cfg.brokerName, b->addr, b->cfg.namesrvAddr ? b->cfg.namesrvAddr : "(none)");
    printf("The broker[%s, %s] boot success. serializeType=JSON and name server is %s\n", b->cfg.brokerName,
           b->addr, b->cfg.namesrvAddr ? b->cfg.namesrvAddr : "(none)");
    fflush(stdout);
    event_base_dispatch(b->base);
    registration_unregister_all(b->registration);
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) event_free(timers[i]);
    if (acl_watch) event_free(acl_watch);
    rc = 0;
out:
    for (int i = 0; i < 2; i++) event_free(sigs[i]);
    close_all(b);
    acl_free(b->acl_v1);
    free(b->acl_path);
    auth_free(b->auth);
    event_base_free(b->base);
    broker_config_free_strings(&b->cfg);
    free(b);
    log_info("broker", "broker stopped");
    return rc;
}
