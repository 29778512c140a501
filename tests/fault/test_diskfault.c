/*
 * A failing disk under the commit log (Apache #5235; issue 14). The broker's store is an
 * ext4 filesystem on a loop device whose backing file lives on a small tmpfs, all in a
 * mount namespace of this test's own (root needed; elsewhere the program is skipped, and
 * under CI=true it fails). Filling the tmpfs makes the loop device fail every write to a
 * block it has not stored yet: ext4 sees real I/O errors (as from a thin-provisioned
 * volume that ran out), so the broker's msync of new commit-log pages fails with ENOSPC
 * or EIO, while everything written before stays readable. Unlinking the filler heals it.
 *
 * SYNC_FLUSH, syncFlushTimeout 30 s:
 *  - the send whose sync fails gets FLUSH_DISK_TIMEOUT (10) well before the 30 s, never
 *    SEND_OK (Apache answers SEND_OK there: MappedFile.flush logs the exception and moves
 *    the flushed position anyway);
 *  - sends meanwhile get SERVICE_NOT_AVAILABLE (14) "... (commit log flush failed)";
 *  - no consumer can read the message whose sync failed (Apache #8239);
 *  - once the space is back, sends are acknowledged again and the message whose sync
 *    failed becomes readable (the client was told it may not be stored; it is, once);
 *  - after a clean stop, an unmount (the page cache of that filesystem is gone) and a
 *    fresh mount, every acknowledged message is read back byte for byte from the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fault_store.h"

#define TOPIC "DiskFaultTopic"
#define BODY_LEN 6000

static test_broker tb;
static char *backing_dir, *image, *store_dir, *filler;
static char loop_dev[32];

/* Attaches IMAGE to a free loop device; returns the device's descriptor. The kernel
 * detaches it at the last close, so the caller closes it once the device is mounted. */
static int attach_loop(void)
{
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    ck_assert_msg(ctl >= 0, "/dev/loop-control: %s", strerror(errno));
    for (int tries = 0; tries < 10; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE);
        ck_assert_msg(n >= 0, "LOOP_CTL_GET_FREE: %s", strerror(errno));
        snprintf(loop_dev, sizeof loop_dev, "/dev/loop%d", n);
        int dev = open(loop_dev, O_RDWR | O_CLOEXEC), img = open(image, O_RDWR | O_CLOEXEC);
        ck_assert_msg(dev >= 0 && img >= 0, "open %s / %s: %s", loop_dev, image, strerror(errno));
        if (ioctl(dev, LOOP_SET_FD, img) == 0) {
            struct loop_info64 info = {.lo_flags = LO_FLAGS_AUTOCLEAR};
            ck_assert_msg(ioctl(dev, LOOP_SET_STATUS64, &info) == 0, "LOOP_SET_STATUS64: %s", strerror(errno));
            close(img), close(ctl);
            return dev;
        }
        int e = errno;
        close(img), close(dev);
        ck_assert_msg(e == EBUSY, "LOOP_SET_FD %s: %s", loop_dev, strerror(e));  /* taken meanwhile: next */
    }
    ck_abort_msg("no free loop device");
    return -1;
}

/*
 * The loop driver completes a write the backing file took only part of as a success
 * (a short write is not an error to it), so a request spanning a page the tmpfs still
 * had and one it had not would lose the second silently. Requests of one 4 KiB block
 * (= one tmpfs page) are all or nothing: the device is honest. KB "" restores the old value.
 */
static char saved_max_kb[16];
static void set_max_request_kb(const char *kb)
{
    char *path = str_printf("/sys/block/%s/queue/max_sectors_kb", loop_dev + strlen("/dev/"));
    FILE *f = fopen(path, "r+");
    ck_assert_msg(f, "%s: %s", path, strerror(errno));
    if (*kb) {
        ck_assert_ptr_nonnull(fgets(saved_max_kb, sizeof saved_max_kb, f));
        rewind(f);
    }
    fputs(*kb ? kb : saved_max_kb, f);
    ck_assert_msg(fclose(f) == 0, "write %s: %s", path, strerror(errno));
    free(path);
}

/* Attaches the image and mounts it on the store directory, after a mkfs when asked. */
static void mount_store(bool mkfs)
{
    int dev = attach_loop();
    if (mkfs) {
        char *cmd = str_printf("mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 %s >&2", loop_dev);
        ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
        free(cmd);
    }
    set_max_request_kb("4");
    ck_assert_msg(mount(loop_dev, store_dir, "ext4", 0, "errors=continue") == 0, "mount %s: %s", loop_dev,
                  strerror(errno));
    close(dev);
}

/*
 * tmpfs (64 MiB) <- 256 MiB sparse image <- loop <- ext4 on <dir>/store. mkfs writes the
 * inode tables and the journal now (no lazy init), so that later only data blocks need
 * new room on the tmpfs.
 */
static void make_store(void)
{
    backing_dir = str_printf("%s/backing", tb.dir);
    store_dir = str_printf("%s/store", tb.dir);
    image = str_printf("%s/ext4.img", backing_dir);
    filler = str_printf("%s/filler", backing_dir);
    ck_assert_int_eq(mkdir(backing_dir, 0755), 0);
    ck_assert_int_eq(mkdir(store_dir, 0755), 0);
    ck_assert_msg(mount("tmpfs", backing_dir, "tmpfs", 0, "size=64m") == 0, "mount tmpfs: %s", strerror(errno));
    int fd = open(image, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 256 << 20), 0);
    close(fd);
    mount_store(true);
}

/* Fills the tmpfs under the image: from now on the device fails writes to new blocks. */
static void fill_backing(void)
{
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    static char chunk[1 << 16];
    memset(chunk, 'f', sizeof chunk);
    ssize_t n;
    while ((n = write(fd, chunk, sizeof chunk)) > 0) {
    }
    ck_assert_msg(n < 0 && errno == ENOSPC, "filler write: %s", strerror(errno));
    close(fd);
}

static rmq_cmd *send_seq(int seq)
{
    char *body = fault_body(seq, BODY_LEN);
    rmq_cmd *resp = tb_call(&tb, tb_send_req("PG_fault", TOPIC, 0, 0, NULL, body), 35000);
    free(body);
    return resp;
}

START_TEST(failed_commitlog_sync_is_never_send_ok)
{
    memset(&tb, 0, sizeof tb);
    rmq_remoting_init();
    tb.dir = test_tmpdir("diskfault");
    make_store();
    const char *const extra[] = {"--flushDiskType=SYNC_FLUSH", "--syncFlushTimeout=30000",
                                 "--mappedFileSizeCommitLog=4194304", "--mappedFileSizeConsumeQueue=6000",
                                 "--maxHashSlotNum=500", "--maxIndexNum=2000", NULL};
    for (int i = 0; extra[i]; i++) tb.extra[i] = extra[i];
    tb_start(&tb);
    tb_create_topic(&tb, TOPIC, 1);
    enum { BEFORE = 20 };
    for (int i = 0; i < BEFORE; i++) {
        rmq_cmd *r = send_seq(i);
        ck_assert_msg(r->code == 0, "send %d: %d %s", i, r->code, r->remark ? r->remark : "");
        cmd_free(r);
    }

    fill_backing();
    /* Blocks the device stored already still take writes (ext4 also zeroes up to 128 KiB
     * around a written extent), so some more sends succeed, and rightly: they are on it. */
    int acked = BEFORE;
    rmq_cmd *r;
    int64_t took;
    for (;;) {
        int64_t t0 = mono_ms();
        r = send_seq(acked);
        took = mono_ms() - t0;
        if (r->code != 0) break;
        cmd_free(r);
        ck_assert_msg(++acked < BEFORE + 400, "400 sends of %d bytes acknowledged on a failing device", BODY_LEN);
    }
    fprintf(stderr, "diskfault: %d sends acknowledged after the device filled; the next got code %d after %lld ms\n",
            acked - BEFORE, r->code, (long long)took);
    ck_assert_msg(r->code == 10, "the send whose sync failed got %d %s", r->code, r->remark ? r->remark : "");
    ck_assert_msg(took < 10000, "answered after %lld ms: the timeout, not the failure", (long long)took);
    cmd_free(r);

    r = send_seq(acked + 1);
    ck_assert_msg(r->code == 14 && r->remark && strstr(r->remark, "commit log flush failed"),
                  "a send while syncs fail got %d %s", r->code, r->remark ? r->remark : "");
    cmd_free(r);
    ck_assert_int_eq(tb_max_offset(&tb, TOPIC, 0), acked);  /* the unsynced message is not readable */
    r = tb_pull(&tb, "CG_fault", TOPIC, 0, acked, 0);
    ck_assert_int_ne(r->code, 0);
    cmd_free(r);

    ck_assert_int_eq(unlink(filler), 0);
    int64_t healed = mono_ms();
    int refused = 0;
    for (;; refused++) {
        r = send_seq(acked + 1);
        int code = r->code;
        cmd_free(r);
        if (code == 0) break;
        ck_assert_msg(code == 14, "send after the space returned: %d", code);
        ck_assert_msg(mono_ms() - healed < 10000, "sends still refused 10 s after the space returned");
        usleep(20000);
    }
    fprintf(stderr, "diskfault: acknowledged again %lld ms after the space returned (%d refused meanwhile)\n",
            (long long)(mono_ms() - healed), refused);
    /* acked (its client was told FLUSH_DISK_TIMEOUT) is stored once, then acked + 1. */
    fault_assert_all_readable(&tb, "CG_fault", TOPIC, acked + 2, BODY_LEN);

    /* From the device itself: stop, unmount (drops the cache), mount again, restart. */
    ck_assert_int_eq(test_proc_stop(&tb.proc, SIGTERM), 0);
    set_max_request_kb("");
    ck_assert_msg(umount2(store_dir, 0) == 0, "umount: %s", strerror(errno));
    mount_store(false);
    tb_start(&tb);
    fault_assert_all_readable(&tb, "CG_fault", TOPIC, acked + 2, BODY_LEN);
    ck_assert_int_eq(test_proc_stop(&tb.proc, SIGTERM), 0);
    set_max_request_kb("");
    umount2(store_dir, MNT_DETACH);
    umount2(backing_dir, MNT_DETACH);
    test_rmdir(tb.dir);
    free(tb.dir), free(backing_dir), free(store_dir), free(image), free(filler);
}
END_TEST

int main(void)
{
    const char *ci = getenv("CI");
    bool must = ci && strcmp(ci, "true") == 0;
    /* A private mount namespace: the mounts (and so the loop device) go with this process. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        fprintf(stderr, "diskfault: cannot make a mount namespace (%s); needs root\n", strerror(errno));
        return must ? EXIT_FAILURE : 77;
    }
    if (access("/dev/loop-control", R_OK | W_OK) != 0 || system("mkfs.ext4 -V >/dev/null 2>&1") != 0) {
        fprintf(stderr, "diskfault: needs /dev/loop-control and mkfs.ext4 (e2fsprogs)\n");
        return must ? EXIT_FAILURE : 77;
    }
    const TTest *tests[] = {failed_commitlog_sync_is_never_send_ok, NULL};
    return tb_run_tests("diskfault", 120, NULL, NULL, tests);
}
