/*
 * Disk full (issue 14): the broker's store on a small tmpfs this test mounts in a
 * mount namespace of its own (root needed; elsewhere the program is skipped, and
 * under CI=true it fails). A ballast file fills part of the filesystem so that
 * "space returns" is one unlink away.
 *
 *  - Above diskSpaceWarningLevelRatio the store is marked full and sends are
 *    refused with Apache's SERVICE_NOT_AVAILABLE (14) "… the broker's disk is
 *    full …"; every message acknowledged before stays readable byte for byte;
 *    when the ballast goes, sends are accepted again; after a restart every
 *    acknowledged message is still there.
 *  - When the space runs out between two disk checks, the next commitlog
 *    segment cannot be reserved: the send gets Apache's SYSTEM_ERROR "create
 *    mapped file failed, …", never SEND_OK, and the broker keeps serving.
 */
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fault_store.h"

#define TOPIC "DiskFullTopic"
#define BODY_LEN 8000
#define SEGMENT "--mappedFileSizeCommitLog=1048576"

static test_broker tb;

/* A body that names its sequence number, so a read-back can tell which one it is. */
/* Mounts a tmpfs of `mib` MiB on the broker's store directory, with a ballast file of `ballast_mib`. */
static char *mount_small_store(const char *dir, int mib, int ballast_mib)
{
    char *store = str_printf("%s/store", dir);
    ck_assert_int_eq(mkdir(store, 0755), 0);
    char opts[32];
    snprintf(opts, sizeof opts, "size=%dm", mib);
    ck_assert_msg(mount("tmpfs", store, "tmpfs", 0, opts) == 0, "mount tmpfs: %s", strerror(errno));
    char *ballast = str_printf("%s/ballast", store);
    FILE *f = fopen(ballast, "w");
    ck_assert_ptr_nonnull(f);
    static char mib_buf[1 << 20];
    memset(mib_buf, 'x', sizeof mib_buf);
    for (int i = 0; i < ballast_mib; i++) ck_assert_uint_eq(fwrite(mib_buf, 1, sizeof mib_buf, f), sizeof mib_buf);
    ck_assert_int_eq(fclose(f), 0);
    free(store);
    return ballast;
}

/* Starts the broker on a fresh directory whose store is a small tmpfs; returns the ballast path. */
static char *start_on_small_store(int mib, int ballast_mib, const char *const extra[])
{
    memset(&tb, 0, sizeof tb);
    rmq_remoting_init();
    tb.dir = test_tmpdir("diskfull");
    char *ballast = mount_small_store(tb.dir, mib, ballast_mib);
    for (int i = 0; extra[i]; i++) tb.extra[i] = extra[i];
    tb_start(&tb);
    tb_create_topic(&tb, TOPIC, 1);
    return ballast;
}

static void stop_and_unmount(char *ballast)
{
    char *store = str_printf("%s/store", tb.dir);
    int rc = test_proc_stop(&tb.proc, SIGTERM);
    ck_assert_msg(rc == 0, "mqbroker exited with %d", rc);
    umount2(store, MNT_DETACH);
    test_rmdir(tb.dir);
    free(store), free(tb.dir), free(ballast);
}

/* Sends until the broker refuses one; returns how many it acknowledged, *refusal is the refusing answer. */
static int send_until_refused(int first_seq, int max, rmq_cmd **refusal)
{
    for (int i = 0; i < max; i++) {
        char *body = fault_body(first_seq + i, BODY_LEN);
        rmq_cmd *resp = tb_call(&tb, tb_send_req("PG_full", TOPIC, 0, 0, NULL, body), BC_TIMEOUT);
        free(body);
        if (resp->code != 0) {
            *refusal = resp;
            return i;
        }
        ck_assert_int_eq(tb_ext_i64(resp, "queueOffset"), first_seq + i);
        cmd_free(resp);
    }
    ck_abort_msg("the broker accepted %d messages of %d bytes on a small disk", max, BODY_LEN);
    return -1;
}

/* Sends until one is accepted again, for up to 10 s; returns how many were refused meanwhile. */
static int send_until_accepted(int seq)
{
    int64_t deadline = mono_ms() + 10000;
    for (int refused = 0;; refused++) {
        char *body = fault_body(seq, BODY_LEN);
        rmq_cmd *resp = tb_call(&tb, tb_send_req("PG_full", TOPIC, 0, 0, NULL, body), BC_TIMEOUT);
        free(body);
        int code = resp->code;
        cmd_free(resp);
        if (code == 0) return refused;
        ck_assert_msg(mono_ms() < deadline, "sends still refused (%d) 10 s after space returned", code);
        usleep(100000);
    }
}

START_TEST(full_disk_refuses_sends_and_keeps_what_it_stored)
{
    /*
     * Checked every 100 ms; nothing is deleted to make room. The second 1 MiB segment takes
     * the disk past 90 % with six more segments of room, far more than a client sends
     * between two checks, so the refusal is the ratio's, not the exhausted disk's.
     */
    const char *const extra[] = {SEGMENT, "--mappedFileSizeConsumeQueue=6000", "--maxHashSlotNum=500",
                                 "--maxIndexNum=2000", "--cleanResourceInterval=100",
                                 "--cleanFileForciblyEnable=false", "--flushDiskType=SYNC_FLUSH", NULL};
    char *ballast = start_on_small_store(64, 56, extra);
    rmq_cmd *refusal = NULL;
    int acked = send_until_refused(0, 2000, &refusal);
    ck_assert_int_gt(acked, 0);
    ck_assert_msg(refusal->code == 14 && refusal->remark && strstr(refusal->remark, "the broker's disk is full"),
                  "refusal: %d %s", refusal->code, refusal->remark ? refusal->remark : "");
    cmd_free(refusal);
    fprintf(stderr, "diskfull: %d messages of %d bytes acknowledged on a 64 MiB store (56 MiB ballast)\n", acked,
            BODY_LEN);
    fault_assert_all_readable(&tb, "CG_full", TOPIC, acked, BODY_LEN);

    ck_assert_int_eq(unlink(ballast), 0);
    int refused = send_until_accepted(acked);
    fprintf(stderr, "diskfull: sends accepted again after %d more refusals once the ballast was removed\n", refused);
    fault_assert_all_readable(&tb, "CG_full", TOPIC, acked + 1, BODY_LEN);

    tb_restart(&tb, SIGTERM);
    fault_assert_all_readable(&tb, "CG_full", TOPIC, acked + 1, BODY_LEN);
    stop_and_unmount(ballast);
}
END_TEST

START_TEST(no_room_for_a_segment_is_an_error_never_send_ok)
{
    /* The disk check is too rare to see it coming: the segment reservation itself must fail cleanly. */
    const char *const extra[] = {SEGMENT, "--mappedFileSizeConsumeQueue=6000", "--maxHashSlotNum=500",
                                 "--maxIndexNum=2000", "--cleanResourceInterval=3600000",
                                 "--diskSpaceWarningLevelRatio=100", "--cleanFileForciblyEnable=false", NULL};
    char *ballast = start_on_small_store(8, 5, extra);
    rmq_cmd *refusal = NULL;
    int acked = send_until_refused(0, 2000, &refusal);
    ck_assert_int_gt(acked, 0);
    ck_assert_msg(refusal->code == 1 && refusal->remark && strstr(refusal->remark, "create mapped file failed"),
                  "refusal: %d %s", refusal->code, refusal->remark ? refusal->remark : "");
    cmd_free(refusal);
    fault_assert_all_readable(&tb, "CG_full", TOPIC, acked, BODY_LEN);
    ck_assert_int_eq(unlink(ballast), 0);
    ck_assert_int_eq(send_until_accepted(acked), 0);
    fault_assert_all_readable(&tb, "CG_full", TOPIC, acked + 1, BODY_LEN);
    stop_and_unmount(ballast);
}
END_TEST

int main(void)
{
    /* A private mount namespace: the tmpfs mounts vanish with this process, whatever happens. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        const char *ci = getenv("CI");
        fprintf(stderr, "diskfull: cannot make a mount namespace (%s); needs root\n", strerror(errno));
        return ci && strcmp(ci, "true") == 0 ? EXIT_FAILURE : 77;
    }
    const TTest *tests[] = {full_disk_refuses_sends_and_keeps_what_it_stored,
                            no_room_for_a_segment_is_an_error_never_send_ok, NULL};
    return tb_run_tests("diskfull", 90, NULL, NULL, tests);
}
