/*
 * The Raft core (raft.h): Ongaro & Ousterhout's algorithm without membership
 * changes or pre-vote. Terms and votes are on disk before a vote is granted
 * or a new term is acted on; entries are on disk before they are acknowledged
 * (or, on the leader, counted). A new leader appends an empty entry and takes
 * writes only once that is committed, so its state holds every committed entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "raft/raft.h"

#define LOG_MOD "raft"

struct raft {
    raft_config cfg;
    raft_callbacks cb;
    void *arg;
    raft_store *store;           /* NULL: memory only */
    int64_t term;
    int voted_for, role, leader;
    int64_t snap_index, snap_term;
    char *snap_data;
    size_t snap_len;
    raft_entry *log;             /* log[i] is index snap_index + 1 + i */
    int64_t n_log, cap_log;
    int64_t commit, applied;     /* applied: the last index the state machine holds */
    int64_t ready_index;         /* leader: its term's no-op */
    int64_t next[RAFT_MAX_NODES], match[RAFT_MAX_NODES];
    bool votes[RAFT_MAX_NODES];
    int64_t election_due, heartbeat_due;
    unsigned rng;
};

const char *raft_role_name(int role)
{
    return role == RAFT_LEADER ? "leader" : role == RAFT_CANDIDATE ? "candidate" : "follower";
}

static int64_t last_index(const raft *r) { return r->snap_index + r->n_log; }

static int64_t term_at(const raft *r, int64_t index)
{
    if (index == r->snap_index) return r->snap_term;
    if (index < r->snap_index || index > last_index(r)) return -1;
    return r->log[index - r->snap_index - 1].term;
}

static const raft_entry *entry_at(const raft *r, int64_t index) { return &r->log[index - r->snap_index - 1]; }

static void reset_election(raft *r, int64_t now)
{
    r->rng = r->rng * 1103515245u + 12345u;
    int64_t span = r->cfg.election_max_ms - r->cfg.election_min_ms;
    r->election_due = now + r->cfg.election_min_ms + (span > 0 ? (int64_t)((r->rng >> 8) % (unsigned)span) : 0);
}

static void save_meta(raft *r)
{
    /* A vote or term not on disk could be given twice after a crash: nothing is sent without it. */
    if (r->store && raft_store_meta(r->store, r->term, r->voted_for)) {
        log_error(LOG_MOD, "cannot write raft.meta; stopping rather than risk voting twice in a term");
        abort();
    }
}

static void notify_role(raft *r)
{
    if (r->cb.role_changed) r->cb.role_changed(r->arg, r->role, r->leader, r->term);
}

static void push_entries(raft *r, const raft_entry *e, int64_t n)
{
    if (r->n_log + n > r->cap_log) {
        r->cap_log = (r->n_log + n) * 2;
        r->log = xrealloc(r->log, (size_t)r->cap_log * sizeof *r->log);
    }
    for (int64_t i = 0; i < n; i++) {
        raft_entry *d = &r->log[r->n_log++];
        d->term = e[i].term;
        d->len = e[i].len;
        d->data = xmalloc(e[i].len + 1);
        if (e[i].len) memcpy(d->data, e[i].data, e[i].len);
        d->data[e[i].len] = '\0';
    }
}

static void drop_from(raft *r, int64_t index)
{
    for (int64_t i = index - r->snap_index - 1; i < r->n_log; i++) free(r->log[i].data);
    r->n_log = index - r->snap_index - 1;
}

/* The state machine back to the committed entries (a leader deposed with applied proposals). */
static void rebuild(raft *r)
{
    r->cb.restore(r->arg, r->snap_data, r->snap_len);
    for (int64_t i = r->snap_index + 1; i <= r->commit; i++) {
        const raft_entry *e = entry_at(r, i);
        if (e->len) r->cb.apply(r->arg, i, e->data, e->len);
    }
    r->applied = r->commit;
}

static void become_follower(raft *r, int64_t term, int leader, int64_t now)
{
    bool changed = r->role != RAFT_FOLLOWER || r->leader != leader || term != r->term;
    if (term > r->term) {
        r->term = term;
        r->voted_for = -1;
        save_meta(r);
    }
    if (r->role == RAFT_LEADER && r->applied > r->commit) rebuild(r);
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
    reset_election(r, now);
    if (changed) notify_role(r);
}

static void compact(raft *r)
{
    if (r->cfg.compact_after <= 0 || r->applied != r->commit || r->commit - r->snap_index < r->cfg.compact_after)
        return;
    size_t len;
    char *snap = r->cb.snapshot(r->arg, &len);
    int64_t index = r->commit, term = term_at(r, index);
    int64_t keep = last_index(r) - index;
    for (int64_t i = 0; i < index - r->snap_index; i++) free(r->log[i].data);
    memmove(r->log, r->log + (index - r->snap_index), (size_t)keep * sizeof *r->log);
    r->n_log = keep;
    r->snap_index = index;
    r->snap_term = term;
    free(r->snap_data);
    r->snap_data = snap;
    r->snap_len = len;
    if (r->store && raft_store_rewrite(r->store, index, term, snap, len, true, r->log, r->n_log))
        log_error(LOG_MOD, "cannot write the snapshot at %lld", (long long)index);
}

static void apply_committed(raft *r)
{
    while (r->applied < r->commit) {
        r->applied++;
        const raft_entry *e = entry_at(r, r->applied);
        if (e->len) r->cb.apply(r->arg, r->applied, e->data, e->len);
    }
    compact(r);
}

static void set_commit(raft *r, int64_t commit)
{
    if (commit <= r->commit) return;
    r->commit = commit;
    apply_committed(r);
    if (r->cb.committed) r->cb.committed(r->arg, commit);
}

static void send_append(raft *r, int to)
{
    raft_msg m = {.from = r->cfg.self, .to = to, .term = r->term, .commit = r->commit};
    if (r->next[to] <= r->snap_index) {
        m.type = RAFT_MSG_SNAPSHOT;
        m.index = r->snap_index;
        m.log_term = r->snap_term;
        m.data = r->snap_data ? r->snap_data : "";
        m.len = r->snap_len;
    } else {
        m.type = RAFT_MSG_APPEND;
        m.index = r->next[to] - 1;
        m.log_term = term_at(r, m.index);
        int64_t n = last_index(r) - m.index;
        if (n > r->cfg.max_batch) n = r->cfg.max_batch;
        m.n_entries = (int)n;
        m.entries = n ? entry_at(r, m.index + 1) : NULL;
    }
    r->cb.send(r->arg, &m);
}

static void broadcast(raft *r)
{
    for (int i = 0; i < r->cfg.n_nodes; i++)
        if (i != r->cfg.self) send_append(r, i);
}

/* The highest index a majority holds, counted only from this term (Raft's figure 8). */
static void advance_commit(raft *r)
{
    for (int64_t n = last_index(r); n > r->commit && term_at(r, n) == r->term; n--) {
        int count = 0;
        for (int i = 0; i < r->cfg.n_nodes; i++) count += r->match[i] >= n;
        if (count * 2 > r->cfg.n_nodes) {
            set_commit(r, n);
            return;
        }
    }
}

static void append_local(raft *r, const raft_entry *e)
{
    push_entries(r, e, 1);
    if (r->store && raft_store_append(r->store, last_index(r), e, 1))
        log_error(LOG_MOD, "cannot append to raft.log");
    r->match[r->cfg.self] = last_index(r);
}

static void become_leader(raft *r, int64_t now)
{
    r->role = RAFT_LEADER;
    r->leader = r->cfg.self;
    for (int i = 0; i < r->cfg.n_nodes; i++) {
        r->next[i] = last_index(r) + 1;
        r->match[i] = 0;
    }
    raft_entry noop = {.term = r->term, .data = "", .len = 0};
    append_local(r, &noop);
    r->ready_index = last_index(r);
    log_info(LOG_MOD, "node %d leads term %lld (log %lld, commit %lld)", r->cfg.self, (long long)r->term,
             (long long)last_index(r), (long long)r->commit);
    notify_role(r);
    advance_commit(r);   /* a group of one */
    broadcast(r);
    r->heartbeat_due = now + r->cfg.heartbeat_ms;
}

static void start_election(raft *r, int64_t now)
{
    r->role = RAFT_CANDIDATE;
    r->term++;
    r->voted_for = r->cfg.self;
    r->leader = -1;
    save_meta(r);
    memset(r->votes, 0, sizeof r->votes);
    r->votes[r->cfg.self] = true;
    reset_election(r, now);
    notify_role(r);
    if (r->cfg.n_nodes == 1) {
        become_leader(r, now);
        return;
    }
    for (int i = 0; i < r->cfg.n_nodes; i++) {
        if (i == r->cfg.self) continue;
        raft_msg m = {.type = RAFT_MSG_VOTE, .from = r->cfg.self, .to = i, .term = r->term,
                      .index = last_index(r), .log_term = term_at(r, last_index(r))};
        r->cb.send(r->arg, &m);
    }
}

void raft_tick(raft *r, int64_t now)
{
    if (r->role == RAFT_LEADER) {
        if (now >= r->heartbeat_due) {
            broadcast(r);
            r->heartbeat_due = now + r->cfg.heartbeat_ms;
        }
    } else if (now >= r->election_due) {
        start_election(r, now);
    }
}

static bool on_vote(raft *r, const raft_msg *m, int64_t now, raft_msg *reply)
{
    if (m->term > r->term) become_follower(r, m->term, -1, now);
    int64_t my_last = last_index(r), my_term = term_at(r, my_last);
    bool up_to_date = m->log_term > my_term || (m->log_term == my_term && m->index >= my_last);
    bool grant = m->term == r->term && (r->voted_for == -1 || r->voted_for == m->from) && up_to_date;
    if (grant) {
        r->voted_for = m->from;
        save_meta(r);
        reset_election(r, now);
    }
    *reply = (raft_msg){.type = RAFT_MSG_VOTE_RESP, .from = r->cfg.self, .to = m->from, .term = r->term, .ok = grant};
    return true;
}

static bool on_append(raft *r, const raft_msg *m, int64_t now, raft_msg *reply)
{
    *reply = (raft_msg){.type = RAFT_MSG_APPEND_RESP, .from = r->cfg.self, .to = m->from, .term = r->term};
    if (m->term < r->term) return true;
    if (m->term > r->term || r->role != RAFT_FOLLOWER || r->leader != m->from) become_follower(r, m->term, m->from, now);
    reset_election(r, now);
    reply->term = r->term;
    /* The committed prefix is the same on every node: a mismatch restarts from our commit. */
    if (m->index > last_index(r) || (m->index >= r->snap_index && term_at(r, m->index) != m->log_term)) {
        reply->match = r->commit < last_index(r) ? r->commit : last_index(r);
        return true;
    }
    int64_t appended_from = -1;
    for (int i = 0; i < m->n_entries; i++) {
        int64_t index = m->index + 1 + i;
        if (index <= r->snap_index) continue;
        if (index <= last_index(r)) {
            if (term_at(r, index) == m->entries[i].term) continue;
            drop_from(r, index);   /* a deposed leader's entries, never committed */
            if (r->store) raft_store_rewrite(r->store, r->snap_index, r->snap_term, NULL, 0, false, r->log, r->n_log);
        }
        if (appended_from < 0) appended_from = index;
        push_entries(r, &m->entries[i], 1);
    }
    if (appended_from >= 0 && r->store &&
        raft_store_append(r->store, appended_from, entry_at(r, appended_from), last_index(r) - appended_from + 1)) {
        log_error(LOG_MOD, "cannot append to raft.log");
        return true;   /* not acknowledged: the leader sends them again */
    }
    int64_t matched = m->index + m->n_entries;
    int64_t commit = m->commit < matched ? m->commit : matched;
    set_commit(r, commit);
    reply->ok = true;
    reply->match = matched;
    return true;
}

static bool on_snapshot(raft *r, const raft_msg *m, int64_t now, raft_msg *reply)
{
    *reply = (raft_msg){.type = RAFT_MSG_SNAPSHOT_RESP, .from = r->cfg.self, .to = m->from, .term = r->term};
    if (m->term < r->term) return true;
    if (m->term > r->term || r->role != RAFT_FOLLOWER || r->leader != m->from) become_follower(r, m->term, m->from, now);
    reset_election(r, now);
    reply->term = r->term;
    reply->ok = true;
    reply->match = m->index;
    if (m->index <= r->commit) return true;
    /* Keep what follows the snapshot when our log agrees with it there; else the snapshot replaces all. */
    if (term_at(r, m->index) == m->log_term) {
        int64_t drop = m->index - r->snap_index;
        for (int64_t i = 0; i < drop; i++) free(r->log[i].data);
        memmove(r->log, r->log + drop, (size_t)(r->n_log - drop) * sizeof *r->log);
        r->n_log -= drop;
    } else {
        drop_from(r, r->snap_index + 1);
    }
    r->snap_index = m->index;
    r->snap_term = m->log_term;
    free(r->snap_data);
    r->snap_data = xmalloc(m->len + 1);
    if (m->len) memcpy(r->snap_data, m->data, m->len);
    r->snap_data[m->len] = '\0';
    r->snap_len = m->len;
    if (r->store && raft_store_rewrite(r->store, r->snap_index, r->snap_term, r->snap_data, r->snap_len, true,
                                       r->log, r->n_log))
        log_error(LOG_MOD, "cannot write the received snapshot");
    r->cb.restore(r->arg, r->snap_data, r->snap_len);
    r->commit = r->applied = m->index;
    if (r->cb.committed) r->cb.committed(r->arg, r->commit);
    return true;
}

static void on_append_resp(raft *r, const raft_msg *m)
{
    if (r->role != RAFT_LEADER || m->term != r->term || m->from < 0 || m->from >= r->cfg.n_nodes) return;
    int p = m->from;
    if (m->ok) {
        if (m->match > r->match[p]) r->match[p] = m->match;
        r->next[p] = r->match[p] + 1;
        advance_commit(r);
        if (r->role == RAFT_LEADER && r->next[p] <= last_index(r)) send_append(r, p);   /* more to send: keep the pipe full */
    } else {
        int64_t next = m->match + 1;
        if (next < 1) next = 1;
        if (next < r->next[p]) r->next[p] = next;
        else if (r->next[p] > 1) r->next[p]--;
        send_append(r, p);
    }
}

bool raft_step(raft *r, const raft_msg *m, int64_t now, raft_msg *reply)
{
    if (m->from < 0 || m->from >= r->cfg.n_nodes || m->from == r->cfg.self) return false;
    switch (m->type) {
    case RAFT_MSG_VOTE: return on_vote(r, m, now, reply);
    case RAFT_MSG_APPEND: return on_append(r, m, now, reply);
    case RAFT_MSG_SNAPSHOT: return on_snapshot(r, m, now, reply);
    default: break;
    }
    if (m->term > r->term) {
        become_follower(r, m->term, -1, now);
        return false;
    }
    if (m->type == RAFT_MSG_VOTE_RESP) {
        if (r->role != RAFT_CANDIDATE || m->term != r->term || !m->ok) return false;
        r->votes[m->from] = true;
        int count = 0;
        for (int i = 0; i < r->cfg.n_nodes; i++) count += r->votes[i];
        if (count * 2 > r->cfg.n_nodes) become_leader(r, now);
    } else if (m->type == RAFT_MSG_APPEND_RESP || m->type == RAFT_MSG_SNAPSHOT_RESP) {
        on_append_resp(r, m);
    }
    return false;
}

int64_t raft_propose(raft *r, const char *data, size_t len)
{
    if (!raft_ready(r) || r->applied != last_index(r)) return -1;
    raft_entry e = {.term = r->term, .data = (char *)data, .len = len};
    append_local(r, &e);
    r->applied = last_index(r);   /* the caller has made the change */
    int64_t index = last_index(r);
    advance_commit(r);
    broadcast(r);
    return index;
}

bool raft_ready(const raft *r) { return r->role == RAFT_LEADER && r->commit >= r->ready_index; }
int raft_role(const raft *r) { return r->role; }
int raft_leader(const raft *r) { return r->leader; }
int64_t raft_term(const raft *r) { return r->term; }
int64_t raft_commit_index(const raft *r) { return r->commit; }
int64_t raft_last_index(const raft *r) { return last_index(r); }
int64_t raft_snapshot_index(const raft *r) { return r->snap_index; }

raft *raft_new(const raft_config *cfg, const raft_callbacks *cb, void *arg, int64_t now, char *err, size_t errlen)
{
    if (cfg->n_nodes < 1 || cfg->n_nodes > RAFT_MAX_NODES || cfg->self < 0 || cfg->self >= cfg->n_nodes) {
        snprintf(err, errlen, "a group of 1 to %d nodes, self among them", RAFT_MAX_NODES);
        return NULL;
    }
    raft *r = xcalloc(1, sizeof *r);
    r->cfg = *cfg;
    if (r->cfg.max_batch <= 0) r->cfg.max_batch = 64;
    r->cb = *cb;
    r->arg = arg;
    r->voted_for = -1;
    r->leader = -1;
    r->rng = cfg->seed ^ (unsigned)(cfg->self * 2654435761u);
    if (cfg->dir) {
        raft_disk d;
        if (!(r->store = raft_store_open(cfg->dir, &d, err, errlen))) {
            free(r);
            return NULL;
        }
        r->term = d.term;
        r->voted_for = d.voted_for;
        r->snap_index = d.snap_index;
        r->snap_term = d.snap_term;
        r->snap_data = d.snap_data;
        r->snap_len = d.snap_len;
        r->log = d.entries;
        r->n_log = r->cap_log = d.n_entries;
    }
    r->commit = r->applied = r->snap_index;
    if (r->snap_data && cb->restore(arg, r->snap_data, r->snap_len)) {
        snprintf(err, errlen, "the snapshot at %lld does not load", (long long)r->snap_index);
        raft_free(r);
        return NULL;
    }
    reset_election(r, now);
    /* Alone, nobody else can be waited for: lead at the first tick. */
    if (cfg->n_nodes == 1) r->election_due = now;
    return r;
}

void raft_free(raft *r)
{
    if (!r) return;
    drop_from(r, r->snap_index + 1);
    free(r->log);
    free(r->snap_data);
    raft_store_close(r->store);
    free(r);
}
