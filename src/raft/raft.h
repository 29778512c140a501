/*
 * raft: the consensus core under the controller group (docs/ha.md,
 * "Several controllers"). Apache replicates its controller's events through
 * DLedger (or JRaft); ours through this: leader election with terms and
 * randomized timeouts, log replication committed by a majority, entries
 * applied in log order, term/vote/log/snapshot kept on disk so a restarted
 * node rejoins.
 *
 * The core is pure: no sockets, no clock, no event loop. The owner passes the
 * time to raft_tick() and raft_step(), sends what the `send` callback gives
 * it (a request to another node) and feeds back what comes in (requests and
 * their replies). The controller carries the messages over remoting
 * (src/controller/peers.c); tests deliver them in-process, dropping and
 * partitioning at will.
 *
 * The state machine above it applies committed entries (`apply`), writes and
 * reads snapshots (`snapshot`, `restore`). The leader may apply its own
 * proposals at once (raft_propose with the change already made): when it
 * loses leadership before they commit, the core rebuilds the state from the
 * snapshot and the committed entries (`restore` + `apply`).
 */
#ifndef RMQ_RAFT_H
#define RMQ_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_MAX_NODES 9

enum raft_role { RAFT_FOLLOWER, RAFT_CANDIDATE, RAFT_LEADER };

enum raft_msg_type {
    RAFT_MSG_VOTE = 1,        /* RequestVote: index/log_term = the candidate's last entry */
    RAFT_MSG_VOTE_RESP,       /* ok = granted */
    RAFT_MSG_APPEND,          /* AppendEntries: index/log_term = the entry before `entries`, commit */
    RAFT_MSG_APPEND_RESP,     /* ok = matched; match = last index known equal (on failure: a hint) */
    RAFT_MSG_SNAPSHOT,        /* InstallSnapshot: index/log_term = last included; data */
    RAFT_MSG_SNAPSHOT_RESP,   /* match = the snapshot's index */
};

typedef struct raft_entry {
    int64_t term;
    char *data;     /* empty (len 0): the no-op a new leader appends */
    size_t len;
} raft_entry;

typedef struct raft_msg {
    int type, from, to;
    int64_t term;
    int64_t index, log_term;
    int64_t commit;
    const raft_entry *entries;
    int n_entries;
    const char *data;
    size_t len;
    bool ok;
    int64_t match;
} raft_msg;

typedef struct raft_callbacks {
    /* A request to m->to; the core keeps nothing of it after the call. */
    void (*send)(void *arg, const raft_msg *m);
    /* A committed entry, once, in log order (not the leader's own, already applied, proposals). */
    void (*apply)(void *arg, int64_t index, const char *data, size_t len);
    /* The state as of the last applied entry (malloc'd), for compaction. */
    char *(*snapshot)(void *arg, size_t *len);
    /* Replace the state by a snapshot's (NULL, 0: the empty state). 0 or -1. */
    int (*restore)(void *arg, const char *data, size_t len);
    /* The commit index advanced (the leader answers its waiting requests). May be NULL. */
    void (*committed)(void *arg, int64_t commit);
    /* Role or leader changed (leader -1: unknown). May be NULL. */
    void (*role_changed)(void *arg, int role, int leader, int64_t term);
} raft_callbacks;

typedef struct raft_config {
    int self, n_nodes;               /* this node's index among n_nodes (<= RAFT_MAX_NODES) */
    const char *dir;                 /* raft.meta, raft.log, raft.snapshot; NULL: memory only */
    int64_t election_min_ms, election_max_ms;   /* randomized election timeout */
    int64_t heartbeat_ms;            /* the leader's AppendEntries period */
    int64_t compact_after;           /* committed entries kept before a snapshot replaces them */
    int max_batch;                   /* entries per AppendEntries */
    unsigned seed;                   /* the timeouts' randomness */
} raft_config;

typedef struct raft raft;

/* Reads the node's files (and restores the snapshot through the callbacks). NULL with a reason. */
raft *raft_new(const raft_config *cfg, const raft_callbacks *cb, void *arg, int64_t now_ms, char *err,
               size_t errlen);
void raft_free(raft *r);

/* Timers: elections, heartbeats. Call often (every ~50 ms). */
void raft_tick(raft *r, int64_t now_ms);
/* A message from another node; a request's reply into *reply (returns true), to go back to m->from. */
bool raft_step(raft *r, const raft_msg *m, int64_t now_ms, raft_msg *reply);

/*
 * The leader appends DATA (the state machine has already applied it): its
 * index, or -1 when this node is not a leader ready to take writes (the
 * no-op of its term not yet committed).
 */
int64_t raft_propose(raft *r, const char *data, size_t len);
/* A leader whose term's first entry is committed: its state includes every committed entry. */
bool raft_ready(const raft *r);

int raft_role(const raft *r);
int raft_leader(const raft *r);            /* -1 unknown */
int64_t raft_term(const raft *r);
int64_t raft_commit_index(const raft *r);
int64_t raft_last_index(const raft *r);
int64_t raft_snapshot_index(const raft *r);
const char *raft_role_name(int role);

/* ---- storage (raft_store.c), used by the core ---- */

typedef struct raft_store raft_store;
typedef struct raft_disk {
    int64_t term;
    int voted_for;
    int64_t snap_index, snap_term;
    char *snap_data;
    size_t snap_len;
    raft_entry *entries;    /* snap_index + 1 ... */
    int64_t n_entries;
} raft_disk;

raft_store *raft_store_open(const char *dir, raft_disk *out, char *err, size_t errlen);
void raft_store_close(raft_store *s);
int raft_store_meta(raft_store *s, int64_t term, int voted_for);
/* Appends entries first_index.. (the file's tail must end at first_index - 1). */
int raft_store_append(raft_store *s, int64_t first_index, const raft_entry *e, int64_t n);
/* The log is exactly entries (snap_index + 1 ...) after a snapshot or a truncation. */
int raft_store_rewrite(raft_store *s, int64_t snap_index, int64_t snap_term, const char *snap, size_t snap_len,
                       bool new_snapshot, const raft_entry *e, int64_t n);

#endif
