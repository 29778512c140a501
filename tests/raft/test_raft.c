/*
 * The Raft core (src/raft/raft.h) with in-process nodes on a simulated
 * network that drops messages at random and partitions nodes on demand, on
 * simulated time:
 *  - election safety: at most one leader per term, through loss and shifting partitions;
 *  - state machine safety: what nodes applied is a prefix of one sequence;
 *  - a committed entry survives the loss of its leader;
 *  - a leader cut off in a minority cannot commit, and its entry is discarded at healing;
 *  - a node restarted from its files rejoins; one far behind a compacted log gets a snapshot.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "raft/raft.h"
#include "../check_run.h"
#include "../testproc.h"

#define MAXN 5
#define MAXAPPLIED 512

typedef struct node {
    raft *r;
    char *applied[MAXAPPLIED];    /* the state machine: the entries' texts in order */
    int n_applied;
    char *dir;
} node;

typedef struct qmsg {
    raft_msg m;
    raft_entry *entries;
    char *data;
} qmsg;

static struct sim {
    node nodes[MAXN];
    int n;
    bool cut[MAXN][MAXN];
    int loss_pct;
    unsigned rng;
    int64_t now;
    qmsg *q;
    int nq, capq;
    int64_t leader_of_term[4096];
    int64_t compact_after;
} S;

static unsigned rnd(void)
{
    S.rng = S.rng * 1103515245u + 12345u;
    return S.rng >> 8;
}

static void clear_state(node *nd)
{
    for (int i = 0; i < nd->n_applied; i++) free(nd->applied[i]);
    nd->n_applied = 0;
}

static void push_applied(node *nd, const char *data, size_t len)
{
    ck_assert_int_lt(nd->n_applied, MAXAPPLIED);
    nd->applied[nd->n_applied++] = xstrndup(data, len);
}

static void cb_send(void *arg, const raft_msg *m)
{
    if (S.nq == S.capq) {
        S.capq = S.capq ? S.capq * 2 : 64;
        S.q = xrealloc(S.q, (size_t)S.capq * sizeof *S.q);
    }
    qmsg *q = &S.q[S.nq++];
    q->m = *m;
    q->entries = NULL;
    q->data = NULL;
    if (m->n_entries) {
        q->entries = xcalloc((size_t)m->n_entries, sizeof *q->entries);
        for (int i = 0; i < m->n_entries; i++) {
            q->entries[i].term = m->entries[i].term;
            q->entries[i].len = m->entries[i].len;
            q->entries[i].data = xstrndup(m->entries[i].data, m->entries[i].len);
        }
        q->m.entries = q->entries;
    }
    if (m->type == RAFT_MSG_SNAPSHOT) {
        q->data = xmalloc(m->len + 1);
        memcpy(q->data, m->data, m->len);
        q->m.data = q->data;
    }
}

static void cb_apply(void *arg, int64_t index, const char *data, size_t len) { push_applied(arg, data, len); }

/* The snapshot: the applied texts, one a line. */
static char *cb_snapshot(void *arg, size_t *len)
{
    node *nd = arg;
    char *out = xstrdup("");
    for (int i = 0; i < nd->n_applied; i++) {
        char *next = str_printf("%s%s\n", out, nd->applied[i]);
        free(out);
        out = next;
    }
    *len = strlen(out);
    return out;
}

static int cb_restore(void *arg, const char *data, size_t len)
{
    node *nd = arg;
    clear_state(nd);
    for (const char *p = data; p < data + len;) {
        const char *nl = memchr(p, '\n', (size_t)(data + len - p));
        if (!nl) return -1;
        push_applied(nd, p, (size_t)(nl - p));
        p = nl + 1;
    }
    return 0;
}

static void start_node(int i)
{
    raft_config cfg = {.self = i, .n_nodes = S.n, .dir = S.nodes[i].dir, .election_min_ms = 150,
                       .election_max_ms = 300, .heartbeat_ms = 50, .compact_after = S.compact_after,
                       .max_batch = 8, .seed = 7};
    raft_callbacks cb = {cb_send, cb_apply, cb_snapshot, cb_restore, NULL, NULL};
    char err[256];
    clear_state(&S.nodes[i]);
    S.nodes[i].r = raft_new(&cfg, &cb, &S.nodes[i], S.now, err, sizeof err);
    ck_assert_msg(S.nodes[i].r, "%s", err);
}

static void sim_start(int n, bool on_disk, int64_t compact_after)
{
    memset(&S, 0, sizeof S);
    S.n = n;
    S.rng = 12345;
    S.compact_after = compact_after;
    for (int i = 0; i < n; i++) {
        if (on_disk) S.nodes[i].dir = test_tmpdir("test_raft");
        start_node(i);
    }
}

static void free_q(qmsg *q)
{
    if (q->entries)
        for (int i = 0; i < q->m.n_entries; i++) free(q->entries[i].data);
    free(q->entries);
    free(q->data);
}

static void sim_stop(void)
{
    for (int i = 0; i < S.nq; i++) free_q(&S.q[i]);
    free(S.q);
    for (int i = 0; i < S.n; i++) {
        raft_free(S.nodes[i].r);
        clear_state(&S.nodes[i]);
        if (S.nodes[i].dir) {
            test_rmdir(S.nodes[i].dir);
            free(S.nodes[i].dir);
        }
    }
}

static bool blocked(int from, int to)
{
    if (!S.nodes[from].r || !S.nodes[to].r || S.cut[from][to] || S.cut[to][from]) return true;
    return S.loss_pct && (int)(rnd() % 100) < S.loss_pct;
}

/* Every live node's role against the one-leader-per-term rule. */
static void check_election_safety(void)
{
    for (int i = 0; i < S.n; i++) {
        if (!S.nodes[i].r || raft_role(S.nodes[i].r) != RAFT_LEADER) continue;
        int64_t t = raft_term(S.nodes[i].r);
        ck_assert_int_lt(t, 4096);
        if (S.leader_of_term[t]) ck_assert_msg(S.leader_of_term[t] == i + 1, "two leaders in term %lld", (long long)t);
        S.leader_of_term[t] = i + 1;
    }
}

/* Deliver what is queued (and the replies) now; then advance the clock. */
static void sim_run(int64_t ms)
{
    for (int64_t end = S.now + ms; S.now < end; S.now += 10) {
        for (int i = 0; i < S.n; i++)
            if (S.nodes[i].r) raft_tick(S.nodes[i].r, S.now);
        for (int k = 0; k < S.nq; k++) {
            qmsg q = S.q[k];
            if (!blocked(q.m.from, q.m.to)) {
                raft_msg reply;
                if (raft_step(S.nodes[q.m.to].r, &q.m, S.now, &reply) && !blocked(reply.from, reply.to))
                    raft_step(S.nodes[reply.to].r, &reply, S.now, &(raft_msg){0});
            }
            free_q(&S.q[k]);   /* S.q may have grown: free through the array */
            check_election_safety();
        }
        S.nq = 0;
    }
}

static int leader(void)
{
    int found = -1;
    for (int i = 0; i < S.n; i++)
        if (S.nodes[i].r && raft_ready(S.nodes[i].r) && (found < 0 || raft_term(S.nodes[i].r) > raft_term(S.nodes[found].r)))
            found = i;
    return found;
}

static int wait_leader(void)
{
    for (int i = 0; i < 200 && leader() < 0; i++) sim_run(50);
    int l = leader();
    ck_assert_int_ge(l, 0);
    return l;
}

/* The leader applies, then proposes (as the controller does). */
static int64_t propose(int l, const char *text)
{
    node *nd = &S.nodes[l];
    push_applied(nd, text, strlen(text));
    int64_t index = raft_propose(nd->r, text, strlen(text));
    if (index < 0) free(nd->applied[--nd->n_applied]);
    return index;
}

static bool has(int i, const char *text)
{
    for (int k = 0; k < S.nodes[i].n_applied; k++)
        if (strcmp(S.nodes[i].applied[k], text) == 0) return true;
    return false;
}

/* State machine safety: every node's applied sequence is a prefix of the longest. */
static void check_prefixes(void)
{
    int longest = 0;
    for (int i = 1; i < S.n; i++)
        if (S.nodes[i].n_applied > S.nodes[longest].n_applied) longest = i;
    for (int i = 0; i < S.n; i++)
        for (int k = 0; k < S.nodes[i].n_applied; k++)
            ck_assert_str_eq(S.nodes[i].applied[k], S.nodes[longest].applied[k]);
}

static void isolate(int i, bool on)
{
    for (int j = 0; j < S.n; j++) S.cut[i][j] = S.cut[j][i] = on;
}

START_TEST(test_election_safety_under_loss_and_partitions)
{
    sim_start(5, false, 0);
    S.loss_pct = 20;
    int proposed = 0;
    for (int round = 0; round < 120; round++) {
        /* A new random partition every 500 ms, healed every third round. */
        memset(S.cut, 0, sizeof S.cut);
        if (round % 3)
            for (int i = 0; i < S.n; i++)
                if (rnd() % 3 == 0) isolate(i, true);
        int l = leader();
        if (l >= 0) {
            char text[32];
            snprintf(text, sizeof text, "e%d", proposed);
            if (propose(l, text) > 0) proposed++;
        }
        sim_run(500);
    }
    memset(S.cut, 0, sizeof S.cut);
    S.loss_pct = 0;
    sim_run(3000);
    ck_assert_int_gt(proposed, 10);
    check_prefixes();
    int terms = 0;
    for (int t = 0; t < 4096; t++) terms += S.leader_of_term[t] != 0;
    ck_assert_int_gt(terms, 3);   /* the partitions did force new elections */
    sim_stop();
}
END_TEST

START_TEST(test_committed_entry_survives_leader_loss)
{
    sim_start(3, false, 0);
    int l = wait_leader();
    ck_assert_int_gt(propose(l, "a"), 0);
    ck_assert_int_gt(propose(l, "b"), 0);
    int64_t commit_index = raft_last_index(S.nodes[l].r);
    sim_run(200);
    ck_assert_int_ge(raft_commit_index(S.nodes[l].r), commit_index);
    /* The leader is gone (cut off from both); the others elect one of them. */
    isolate(l, true);
    int64_t t0 = S.now;
    int nl = -1;
    for (int i = 0; i < 100 && (nl < 0 || nl == l); i++) {
        sim_run(50);
        nl = -1;
        for (int k = 0; k < S.n; k++)
            if (k != l && raft_ready(S.nodes[k].r)) nl = k;
    }
    ck_assert_int_ge(nl, 0);
    ck_assert_int_lt(S.now - t0, 2000);
    ck_assert(has(nl, "a") && has(nl, "b"));
    ck_assert_int_gt(propose(nl, "c"), 0);
    sim_run(300);
    for (int k = 0; k < S.n; k++)
        if (k != l) ck_assert(has(k, "c"));
    /* Healed: the old leader follows and gets c. */
    isolate(l, false);
    sim_run(1000);
    ck_assert_int_ne(raft_role(S.nodes[l].r), RAFT_LEADER);
    ck_assert(has(l, "c"));
    check_prefixes();
    sim_stop();
}
END_TEST

START_TEST(test_minority_leader_cannot_commit)
{
    sim_start(5, false, 0);
    int l = wait_leader();
    ck_assert_int_gt(propose(l, "before"), 0);
    sim_run(300);
    int buddy = (l + 1) % S.n;
    /* {l, buddy} against the other three. */
    for (int i = 0; i < S.n; i++)
        for (int j = 0; j < S.n; j++) {
            bool li = i == l || i == buddy, lj = j == l || j == buddy;
            S.cut[i][j] = li != lj;
        }
    int64_t commit = raft_commit_index(S.nodes[l].r);
    ck_assert_int_gt(propose(l, "lost"), 0);
    sim_run(3000);
    ck_assert_int_eq(raft_commit_index(S.nodes[l].r), commit);
    ck_assert(!has(buddy, "lost"));
    int nl = -1;
    for (int k = 0; k < S.n; k++)
        if (k != l && k != buddy && raft_ready(S.nodes[k].r)) nl = k;
    ck_assert_int_ge(nl, 0);
    ck_assert_int_gt(propose(nl, "kept"), 0);
    sim_run(500);
    memset(S.cut, 0, sizeof S.cut);
    sim_run(2000);
    for (int k = 0; k < S.n; k++) {
        ck_assert_msg(has(k, "kept"), "node %d lacks kept", k);
        ck_assert_msg(!has(k, "lost"), "node %d applied an uncommitted entry", k);
    }
    check_prefixes();
    sim_stop();
}
END_TEST

START_TEST(test_restart_and_snapshot_catch_up)
{
    sim_start(3, true, 5);
    int l = wait_leader();
    int down = (l + 1) % S.n;
    raft_free(S.nodes[down].r);
    S.nodes[down].r = NULL;
    char text[16];
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "x%d", i);
        ck_assert_int_gt(propose(l, text), 0);
        sim_run(30);
    }
    sim_run(300);
    ck_assert_int_gt(raft_snapshot_index(S.nodes[l].r), 10);   /* compacted: the entries are gone */
    start_node(down);   /* from its files, far behind: it gets the snapshot */
    sim_run(1500);
    ck_assert(has(down, "x0") && has(down, "x19"));
    /* Every node restarted from disk keeps term and log and agrees again. */
    int64_t term = raft_term(S.nodes[l].r);
    for (int i = 0; i < S.n; i++) {
        raft_free(S.nodes[i].r);
        S.nodes[i].r = NULL;
    }
    for (int i = 0; i < S.n; i++) {
        start_node(i);
        ck_assert_int_ge(raft_term(S.nodes[i].r), term);
    }
    l = wait_leader();
    ck_assert_int_gt(propose(l, "after"), 0);
    sim_run(500);
    for (int i = 0; i < S.n; i++)
        ck_assert_msg(has(i, "x19") && has(i, "after"), "node %d (leader %d): %d applied, commit %lld, snapshot %lld", i,
                      l, S.nodes[i].n_applied, (long long)raft_commit_index(S.nodes[i].r),
                      (long long)raft_snapshot_index(S.nodes[i].r));
    check_prefixes();
    sim_stop();
}
END_TEST

int main(void)
{
    Suite *su = suite_create("raft");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_election_safety_under_loss_and_partitions);
    tcase_add_test(tc, test_committed_entry_survives_leader_loss);
    tcase_add_test(tc, test_minority_leader_cannot_commit);
    tcase_add_test(tc, test_restart_and_snapshot_catch_up);
    suite_add_tcase(su, tc);
    return test_run_suite(su);
}
