/*
 * ha: master/slave commit-log replication — Apache RocketMQ 4.9.8's
 * HAService/HAConnection/HAClient, wire-compatible (docs/ha.md).
 *
 * Every broker listens on haListenPort for slaves (as Apache does). For each
 * slave connection the master reads 8-byte big-endian offset reports and
 * streams the commit log from the first one as frames
 * [int64 phys offset][int32 size][size bytes], with size-0 heartbeats when
 * idle. A slave (master_address set) connects to its master, reports its
 * commit-log max offset on connect, every heartbeat interval and after each
 * applied frame, appends frames with store_append_raw (which dispatches to
 * consume queues and the index), and reconnects with backoff on any error.
 *
 * Threads: everything runs on the given event loop; no function here may be
 * called from another thread. The loop is never blocked.
 */
#ifndef RMQ_HA_H
#define RMQ_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct store;

typedef struct ha_config {
    const char *listen_host;          /* bind address for haListenPort */
    int listen_port;                  /* haListenPort */
    const char *master_address;       /* "ip:port" of the master's HA port; NULL or "" = not a slave (yet) */
    int64_t commitlog_segment_size;   /* mappedFileSizeCommitLog, 1 GiB */
    uint32_t transfer_batch_size;     /* haTransferBatchSize, 32 KiB */
    int heartbeat_interval_ms;        /* haSendHeartbeatInterval, 5000 */
    int housekeeping_interval_ms;     /* haHousekeepingInterval, 20000: silent peer = dead */
    int64_t slave_fallbehind_max;     /* haSlaveFallbehindMax, 256 MiB */
    /* Controller mode: 5.x's auto-switch protocol (AutoSwitchHAService) instead of
     * the classic one, both ways. The epochs are the broker's (borrowed); the
     * slave sends local_broker_id in its handshake. */
    bool auto_switch;
    struct ha_epochs *epochs;
    int64_t local_broker_id;
} ha_config;

void ha_config_defaults(ha_config *c);

typedef struct ha_service ha_service;

/*
 * Listens on cfg->listen_host:listen_port and, with a master address, starts
 * the slave client. Strings in cfg are copied. NULL with a reason on failure
 * (the port is taken). Free with ha_free before closing the store.
 */
ha_service *ha_new(struct event_base *base, struct store *store, const ha_config *cfg, char *err, size_t errlen);
/* Closes every connection; pending ha_wait_slave callbacks run with acked=false first. */
void ha_free(ha_service *ha);

/* HAService.updateMasterAddress: (re)connects the slave client to addr ("ip:port"); NULL/"" stops it. */
void ha_set_master_address(ha_service *ha, const char *addr);

/* ---- master side: what SYNC_MASTER needs ---- */

/* push2SlaveMaxOffset: the highest commit-log offset any slave has acknowledged (0 if none). */
int64_t ha_slave_ack_offset(const ha_service *ha);
/* Slaves connected now. */
int ha_connection_count(const ha_service *ha);
/* HAService.isSlaveOK: a slave is connected and within slave_fallbehind_max of master_put_where. */
bool ha_slave_ok(const ha_service *ha, int64_t master_put_where);

/*
 * GroupTransferService: cb(arg, true) once a slave acknowledged end_offset,
 * cb(arg, false) when timeout_ms passed first. Runs on the loop, never from
 * inside this call. Also wakes the transfers so the data leaves at once.
 */
typedef void (*ha_wait_cb)(void *arg, bool acked);
void ha_wait_slave(ha_service *ha, int64_t end_offset, int timeout_ms, ha_wait_cb cb, void *arg);

/*
 * Auto-switch master: the slaves connected now, by the broker id their
 * handshake gave, with their last acknowledged offset and when they last were
 * caught up with the master (mono ms; 0 never). fn returns nothing; the
 * connections may not change during the walk.
 */
typedef void (*ha_slave_fn)(void *arg, int64_t broker_id, int64_t ack_offset, int64_t caught_up_ms);
void ha_foreach_slave(const ha_service *ha, ha_slave_fn fn, void *arg);
/* A slave's acknowledgement (auto-switch): fn(arg, broker_id, offset), for the SyncStateSet. */
void ha_on_slave_ack(ha_service *ha, void (*fn)(void *arg, int64_t broker_id, int64_t offset), void *arg);

/* ---- runtime status (GET_BROKER_HA_STATUS's HARuntimeInfo) ---- */

/* One slave connection as the master sees it (HAConnectionRuntimeInfo). */
typedef struct ha_conn_info {
    char addr[64];                /* the slave's ip:port */
    int64_t slave_id;             /* auto-switch handshake's broker id, -1 classic or before it */
    int64_t ack;                  /* slaveAckOffset, -1 before the first report */
    int64_t transfer_from;        /* nextTransferFromWhere, -1 before the first report */
    int64_t bytes_per_sec;        /* transferredByteInSecond */
} ha_conn_info;

/* The connections now, newest first; *out is malloc'd (free it), NULL when none. */
int ha_connections(const ha_service *ha, ha_conn_info **out);

/* The slave client (HAClientRuntimeInfo). */
typedef struct ha_client_info {
    const char *master;           /* the HA address followed, NULL none (valid until the next change) */
    int64_t last_read_ms, last_write_ms;   /* epoch ms, 0 never */
    int64_t bytes_per_sec;
} ha_client_info;

void ha_client_status(const ha_service *ha, ha_client_info *out);

/* ---- epochs (EpochFileCache, storePathRootDir/epochFileCheckpoint) ---- */

typedef struct ha_epoch {
    int32_t epoch;
    int64_t start;   /* first commit-log offset written under it */
} ha_epoch;

typedef struct ha_epochs {
    char *path;      /* NULL: kept in memory only (a peer's list) */
    ha_epoch *v;
    int n, cap;
} ha_epochs;

void ha_epochs_init(ha_epochs *e, const char *path);
void ha_epochs_free(ha_epochs *e);
/* Reads the file (or its .bak); a missing or unreadable one is an empty list. */
int ha_epochs_load(ha_epochs *e);
int32_t ha_epochs_last(const ha_epochs *e);            /* -1 when empty */
/* appendEntry: false (nothing written) unless both epoch and start grow. */
bool ha_epochs_append(ha_epochs *e, int32_t epoch, int64_t start);
/* truncateSuffixByOffset / truncateSuffixByEpoch (entries starting at or after). */
void ha_epochs_truncate_from(ha_epochs *e, int64_t offset);
void ha_epochs_truncate_from_epoch(ha_epochs *e, int32_t epoch);
/* The entries of a handshake answer (12 bytes each: int epoch, long start), replacing E's. */
void ha_epochs_decode(ha_epochs *e, const uint8_t *body, size_t len);
/* Entry i's end: the next start, or log_end for the last. */
int64_t ha_epochs_end(const ha_epochs *e, int i, int64_t log_end);
/* The entry holding offset, -1 when before the first. */
int ha_epochs_find(const ha_epochs *e, int64_t offset);
/* findConsistentPoint: where the two logs stop agreeing, -1 when nowhere. */
int64_t ha_epochs_consistent_point(const ha_epochs *local, int64_t local_end, const ha_epochs *remote,
                                   int64_t remote_end);

/*
 * The auto-switch handshake alone, blocking, before the broker serves: sends
 * the slave's handshake to MASTER ("ip:haPort") and reads the master's epoch
 * list and commit-log end into *master / *master_end. RMQ_ERR with a reason.
 */
int ha_autoswitch_probe(const char *master, int64_t broker_id, int timeout_ms, ha_epochs *master_epochs,
                        int64_t *master_end, char *err, size_t errlen);

/* ---- wire format (exposed for tests) ---- */

/* Auto-switch frames (AutoSwitchHAClient / AutoSwitchHAConnection), big-endian. */
enum { HA_STATE_READY, HA_STATE_HANDSHAKE, HA_STATE_TRANSFER, HA_STATE_SUSPEND, HA_STATE_SHUTDOWN };
#define HA_AS_SLAVE_HANDSHAKE_SIZE 16   /* state, short syncFromLastFile, short asyncLearner, long brokerId */
#define HA_AS_SLAVE_REPORT_SIZE 12      /* state, long offset */
#define HA_AS_HANDSHAKE_HEADER_SIZE 20  /* state, int bodySize, long maxOffset, int lastEpoch; body epochs */
#define HA_AS_TRANSFER_HEADER_SIZE 36   /* + long epochStartOffset, long confirmOffset */
#define HA_AS_EPOCH_ENTRY_SIZE 12       /* int epoch, long startOffset */

typedef struct ha_as_header {
    int32_t state, body_size, epoch;
    int64_t offset, epoch_start, confirm_offset;
} ha_as_header;
/* A master frame's header at buf: its size when complete (0: need more), RMQ_ERR when malformed. */
long ha_as_parse_header(const uint8_t *buf, size_t len, ha_as_header *out);
void ha_as_put_transfer_header(uint8_t out[HA_AS_TRANSFER_HEADER_SIZE], int64_t offset, int32_t size,
                               int32_t epoch, int64_t epoch_start, int64_t confirm_offset);

#define HA_HEADER_SIZE 12
/* A slave's read buffer in Apache (HAClient READ_MAX_BUFFER_SIZE): no frame is larger. */
#define HA_MAX_FRAME_BODY (4 * 1024 * 1024)

/* Master -> slave frame header: big-endian phys offset, then size. */
void ha_header_put(uint8_t out[HA_HEADER_SIZE], int64_t phys_offset, int32_t size);

typedef struct ha_transfer {
    int64_t phys_offset;
    int32_t size;
    const uint8_t *data;              /* into the parsed buffer */
} ha_transfer;

/*
 * One frame from the start of buf: its length (header + body) when complete,
 * 0 when more bytes are needed, RMQ_ERR for a size below 0 or above
 * HA_MAX_FRAME_BODY.
 */
long ha_parse_transfer(const uint8_t *buf, size_t len, ha_transfer *out);

/*
 * Slave -> master reports: like HAConnection.ReadSocketService, only the last
 * complete 8-byte group counts. Returns the bytes those groups take (a
 * multiple of 8, 0 when none is complete) and the last value in *last.
 */
size_t ha_parse_reports(const uint8_t *buf, size_t len, int64_t *last);

#endif
