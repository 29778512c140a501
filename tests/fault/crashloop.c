/*
 * Crash loop: a producer sends numbered messages to our broker over one connection,
 * as a blocking client does; at a random point the broker is killed with SIGKILL
 * (right after a request went out, so the kill lands before, during or after its
 * write and flush), started again on the same store, and every message the client
 * saw SEND_OK for must be readable (pulled back from every queue). A message whose
 * answer the client never saw is sent again after the restart, as a client retries;
 * only those may be stored twice. Recovery is timed from the restart to the port
 * accepting and to the first SEND_OK.
 *
 *   crashloop KILLS SYNC_FLUSH|ASYNC_FLUSH
 *
 * Programs come from $RMQ_BUILDDIR. Prints one line per kill and a summary; exits 0
 * when nothing acknowledged was lost and nothing unretried was duplicated.
 */
#include <errno.h>

#include "../broker/broker_client.h"

#define TOPIC "CrashLoopTopic"
#define QUEUES 4
#define MAX_MSGS 400000

typedef struct loop {
    test_broker tb;
    int sent;                 /* messages numbered 0..sent-1 so far */
    uint8_t *acked;           /* [MAX_MSGS] SEND_OK seen */
    uint8_t *retried;         /* [MAX_MSGS] sent again after a kill */
    int *seen;                /* [MAX_MSGS] copies found by the last verification */
    int64_t *accept_ms, *first_ok_ms;
} loop;

static rmq_cmd *send_req(int seq)
{
    char body[64], props[96];
    snprintf(body, sizeof body, "crashloop-%d", seq);
    /* KEYS and UNIQ_KEY as a client sets them (separators \001 and \002). */
    snprintf(props, sizeof props, "KEYS\001k%d\002UNIQ_KEY\001CRASHLOOP%08d\002WAIT\001true\002", seq, seq);
    return tb_send_req("PG_crashloop", TOPIC, seq % QUEUES, 0, props, body);
}

/* Sends SEQ over *FD (reconnecting when *FD < 0); true on SEND_OK. */
static bool send_one(loop *l, int *fd, int seq, int timeout_ms)
{
    char err[256];
    if (*fd < 0 && (*fd = rmq_connect_blocking(l->tb.proc.addr, timeout_ms, err, sizeof err)) < 0) return false;
    rmq_cmd *req = send_req(seq);
    rmq_cmd *resp = rmq_invoke_fd(*fd, req, timeout_ms, err, sizeof err);
    cmd_free(req);
    bool ok = resp && resp->code == 0;
    if (!resp) {
        close(*fd);
        *fd = -1;
    }
    cmd_free(resp);
    return ok;
}

/* Pulls every queue from 0 and counts the copies of each message; -1 on a failed pull. */
static int verify(loop *l)
{
    memset(l->seen, 0, MAX_MSGS * sizeof *l->seen);
    char err[256];
    int fd = rmq_connect_blocking(l->tb.proc.addr, BC_TIMEOUT, err, sizeof err);
    if (fd < 0) return -1;
    for (int q = 0; q < QUEUES; q++) {
        for (int64_t off = 0;;) {
            rmq_cmd *req = tb_pull_req("CG_crashloop", TOPIC, q, off, 0);
            rmq_cmd *resp = rmq_invoke_fd(fd, req, BC_TIMEOUT, err, sizeof err);
            cmd_free(req);
            if (!resp) {
                fprintf(stderr, "pull queue %d at %lld: %s\n", q, (long long)off, err);
                close(fd);
                return -1;
            }
            if (resp->code != 0) { /* NO_NEW_MSG and friends: the queue is read */
                cmd_free(resp);
                break;
            }
            size_t pos = 0;
            while (pos < resp->body_len) {
                msg_record r;
                const char *why;
                if (msg_record_decode(resp->body + pos, resp->body_len - pos, &r, &why) != RMQ_OK) {
                    fprintf(stderr, "queue %d: undecodable record: %s\n", q, why);
                    cmd_free(resp);
                    close(fd);
                    return -1;
                }
                int seq;
                if (sscanf((const char *)r.body, "crashloop-%d", &seq) == 1 && seq >= 0 && seq < MAX_MSGS)
                    l->seen[seq]++;
                pos += r.total_size;
            }
            int64_t next;
            if (cmd_ext_int64(resp, "nextBeginOffset", &next) != EXT_OK || next <= off) {
                cmd_free(resp);
                break;
            }
            off = next;
            cmd_free(resp);
        }
    }
    close(fd);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t percentile(int64_t *v, int n, int pct)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return n ? v[(n - 1) * pct / 100] : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || atoi(argv[1]) <= 0 ||
        (strcmp(argv[2], "SYNC_FLUSH") != 0 && strcmp(argv[2], "ASYNC_FLUSH") != 0)) {
        fprintf(stderr, "usage: crashloop KILLS SYNC_FLUSH|ASYNC_FLUSH\n");
        return 2;
    }
    int kills = atoi(argv[1]);
    const char *flush = argv[2];
    unsigned seed = (unsigned)(getpid() ^ now_ms());
    srand(seed);
    setvbuf(stdout, NULL, _IOLBF, 0);

    static loop l;
    l.acked = xcalloc(MAX_MSGS, 1);
    l.retried = xcalloc(MAX_MSGS, 1);
    l.seen = xcalloc(MAX_MSGS, sizeof *l.seen);
    l.accept_ms = xcalloc((size_t)kills, sizeof *l.accept_ms);
    l.first_ok_ms = xcalloc((size_t)kills, sizeof *l.first_ok_ms);
    rmq_remoting_init();
    l.tb.dir = test_tmpdir("crashloop");
    char *flush_arg = str_printf("--flushDiskType=%s", flush);
    l.tb.extra[0] = flush_arg;
    /* Small files, so kills also land on file rolls. */
    l.tb.extra[1] = "--mappedFileSizeConsumeQueue=60000";
    tb_start(&l.tb);
    printf("crashloop: %d kills under %s, seed %u, store %s\n", kills, flush, seed, l.tb.dir);

    char err[256];
    rmq_cmd *create = tb_create_topic_req(TOPIC, QUEUES);
    rmq_cmd *resp = rmq_invoke_sync(l.tb.proc.addr, create, BC_TIMEOUT, err, sizeof err);
    cmd_free(create);
    if (!resp || resp->code != 0) {
        fprintf(stderr, "cannot create the topic: %s\n", resp ? "refused" : err);
        return 1;
    }
    cmd_free(resp);

    int failures = 0, pending = -1, dups_total = 0, retried_total = 0;
    int fd = -1, done = 0;
    for (int k = 0; k < kills && !failures; k++) {
        if (l.sent > MAX_MSGS - 100000) {
            fprintf(stderr, "stopping after %d kills: %d messages is as many as this loop tracks\n", k, l.sent);
            break;
        }
        /* Send until the kill point, a random 50..800 ms in. */
        int64_t kill_at = mono_ms() + 50 + rand() % 750;
        int round_acked = 0;
        while (mono_ms() < kill_at && l.sent < MAX_MSGS - 1) {
            int seq = l.sent++;
            if (!send_one(&l, &fd, seq, BC_TIMEOUT)) {
                fprintf(stderr, "kill %d: send %d failed before the kill\n", k, seq);
                failures++;
                break;
            }
            l.acked[seq] = 1;
            round_acked++;
        }
        /* The kill, with one more request on its way. */
        pending = l.sent++;
        rmq_cmd *req = send_req(pending);
        req->opaque = 1 << 30;
        if (fd < 0 || rmq_write_cmd_fd(fd, req) != 0) fprintf(stderr, "kill %d: last request not written\n", k);
        cmd_free(req);
        usleep((useconds_t)(rand() % 1500));
        if (test_proc_stop(&l.tb.proc, SIGKILL) != 128 + SIGKILL) {
            fprintf(stderr, "kill %d: the broker did not die by SIGKILL\n", k);
            failures++;
            break;
        }
        if (fd >= 0) close(fd);
        fd = -1;

        /* Restart on the same store and port; retry the unanswered message until SEND_OK. */
        int64_t t0 = mono_ms();
        tb_start(&l.tb);
        l.accept_ms[k] = mono_ms() - t0;
        l.retried[pending] = 1;
        retried_total++;
        while (!send_one(&l, &fd, pending, 1000)) {
            if (mono_ms() - t0 > 60000) {
                fprintf(stderr, "kill %d: no SEND_OK within 60 s of the restart\n", k);
                failures++;
                break;
            }
            usleep(10000);
        }
        l.first_ok_ms[k] = mono_ms() - t0;
        l.acked[pending] = 1;

        if (verify(&l) != 0) {
            failures++;
            break;
        }
        int acked = 0, lost = 0, dups = 0, bad_dups = 0;
        for (int i = 0; i < l.sent; i++) {
            acked += l.acked[i];
            if (l.acked[i] && l.seen[i] == 0) {
                if (lost++ < 5) fprintf(stderr, "kill %d: message %d acknowledged but not found\n", k, i);
            }
            if (l.seen[i] > 1) {
                dups++;
                if (!l.retried[i]) {
                    bad_dups++;
                    fprintf(stderr, "kill %d: message %d stored %d times, never retried\n", k, i, l.seen[i]);
                }
            }
        }
        dups_total = dups;
        if (lost || bad_dups) failures++;
        printf("kill %d: +%d acked before the kill, %d acked in all, lost %d, duplicates %d (retried %d), "
               "restart->accepting %lld ms, ->first SEND_OK %lld ms\n",
               k + 1, round_acked, acked, lost, dups, retried_total, (long long)l.accept_ms[k],
               (long long)l.first_ok_ms[k]);
        if (!failures) done++;
    }
    if (fd >= 0) close(fd);

    int acked = 0;
    for (int i = 0; i < l.sent; i++) acked += l.acked[i];
    int64_t acc_max = 0, ok_max = 0;
    for (int i = 0; i < done; i++) {
        if (l.accept_ms[i] > acc_max) acc_max = l.accept_ms[i];
        if (l.first_ok_ms[i] > ok_max) ok_max = l.first_ok_ms[i];
    }
    int64_t acc_p50 = percentile(l.accept_ms, done, 50), ok_p50 = percentile(l.first_ok_ms, done, 50);
    printf("crashloop %s: kills %d, acked %d, lost %s, duplicates %d (all retried; %d retries), "
           "restart->accepting p50 %lld ms max %lld ms, restart->first SEND_OK p50 %lld ms max %lld ms: %s\n",
           flush, done, acked, failures ? "SEE ABOVE" : "0", dups_total, retried_total, (long long)acc_p50,
           (long long)acc_max, (long long)ok_p50, (long long)ok_max, failures ? "FAIL" : "PASS");

    int rc = test_proc_stop(&l.tb.proc, SIGTERM);
    if (rc != 0) {
        fprintf(stderr, "the broker exited with %d at the end\n", rc);
        failures++;
    }
    if (!failures) test_rmdir(l.tb.dir);
    else fprintf(stderr, "store kept in %s\n", l.tb.dir);
    free(l.tb.dir);
    free(flush_arg);
    free(l.acked), free(l.retried), free(l.seen), free(l.accept_ms), free(l.first_ok_ms);
    return failures ? 1 : 0;
}
