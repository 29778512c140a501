/*
 * Apache 5.x's timer files (timer_store.h; layouts in docs/store.md).
 *
 * The wheel is mapped shared and written in place; the log is written with
 * pwrite into preallocated 100 MiB segments named by their first offset, as
 * Apache's MappedFileQueue lays them out (it refuses a segment of another
 * size). Units are gathered in a buffer and written together (one pwrite per
 * WBUF_UNITS units rather than per unit: filing 10,000 arrivals a second cost
 * the event loop a system call each); every read, save and close writes the
 * buffer out first, so no reader sees the log without them. The checkpoint is
 * rewritten whole.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "timer_store.h"

#define WHEEL_SLOTS (2 * TIMER_SLOTS_TOTAL)
#define WHEEL_BYTES ((size_t)WHEEL_SLOTS * TIMER_SLOT_SIZE)
#define CHECKPOINT_BYTES 4096                  /* OS_PAGE_SIZE, as Apache maps it */
#define BLANK_MAGIC ((int32_t)(0xBBCCDDEEu ^ (1880681586u + 8)))  /* TimerLog.BLANK_MAGIC_CODE */
#define MIN_BLANK_LEN 16                       /* size + prev pos + magic */
#define WBUF_UNITS 1024                        /* units gathered per pwrite (52 KiB) */

typedef struct log_file {
    int64_t from;
    int fd;
} log_file;

struct timer_store {
    int32_t precision;
    uint8_t *wheel;
    int wheel_fd;
    char *log_dir;
    log_file *files;
    size_t n_files;
    int64_t end;                   /* next unit's offset in the log */
    int64_t last_unit;             /* offset of the newest unit, -1 = none */
    uint8_t *wbuf;                 /* units not written yet, from log offset wpos on (one file) */
    size_t wlen;
    int64_t wpos;
    char *check_path;
    timer_checkpoint cp;
    bool has_cp;
};

/* ---- wheel ---- */

static uint8_t *slot_at(timer_store *t, int64_t time_ms)
{
    return t->wheel + (size_t)((time_ms / t->precision) % WHEEL_SLOTS) * TIMER_SLOT_SIZE;
}

/* Slot layout: time / precision (8), first pos (8), last pos (8), num (4), magic (4). */
static bool slot_get(timer_store *t, int64_t time_ms, int64_t *first, int64_t *last, int32_t *num)
{
    const uint8_t *p = slot_at(t, time_ms);
    if ((int64_t)get_be64(p) != time_ms / t->precision) return false;
    *first = (int64_t)get_be64(p + 8);
    *last = (int64_t)get_be64(p + 16);
    *num = (int32_t)get_be32(p + 24);
    return true;
}

static void slot_put(timer_store *t, int64_t time_ms, int64_t first, int64_t last, int32_t num)
{
    uint8_t *p = slot_at(t, time_ms);
    put_be64(p, (uint64_t)(time_ms / t->precision));
    put_be64(p + 8, (uint64_t)first);
    put_be64(p + 16, (uint64_t)last);
    put_be32(p + 24, (uint32_t)num);
    put_be32(p + 28, 0);
}

static int wheel_open(timer_store *t, const char *root, char *err, size_t errlen)
{
    char *path = str_printf("%s/timerwheel", root);
    t->wheel_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct stat st;
    int rc = RMQ_ERR;
    if (t->wheel_fd < 0 || fstat(t->wheel_fd, &st)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    } else if (st.st_size != 0 && (size_t)st.st_size != WHEEL_BYTES) {
        snprintf(err, errlen, "Timer wheel length:%lld != expected:%zu (%s)", (long long)st.st_size, WHEEL_BYTES,
                 path);
    } else if (ftruncate(t->wheel_fd, (off_t)WHEEL_BYTES) ||
               (t->wheel = mmap(NULL, WHEEL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, t->wheel_fd, 0)) ==
                   MAP_FAILED) {
        t->wheel = NULL;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    } else {
        rc = RMQ_OK;
    }
    free(path);
    return rc;
}

/* ---- log ---- */

static int cmp_file(const void *a, const void *b)
{
    const log_file *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

static int log_add_file(timer_store *t, int64_t from, bool create, char *err, size_t errlen)
{
    char *path = str_printf("%s/%020" PRId64, t->log_dir, from);
    int fd = open(path, O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC, 0644);
    struct stat st;
    int rc = RMQ_ERR;
    if (fd < 0 || fstat(fd, &st)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    } else if (create ? ftruncate(fd, TIMERLOG_FILE_SIZE) != 0 : st.st_size != TIMERLOG_FILE_SIZE) {
        snprintf(err, errlen, "%s: %s", path,
                 create ? strerror(errno) : "length does not match mappedFileSizeTimerLog (104857600)");
    } else {
        t->files = xrealloc(t->files, (t->n_files + 1) * sizeof *t->files);
        t->files[t->n_files++] = (log_file){from, fd};
        fd = -1;
        rc = RMQ_OK;
    }
    if (fd >= 0) close(fd);
    free(path);
    return rc;
}

static int log_list(timer_store *t, char *err, size_t errlen)
{
    if (mkdirs(t->log_dir)) {
        snprintf(err, errlen, "%s: %s", t->log_dir, strerror(errno));
        return RMQ_ERR;
    }
    DIR *d = opendir(t->log_dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", t->log_dir, strerror(errno));
        return RMQ_ERR;
    }
    struct dirent *de;
    int rc = RMQ_OK;
    while (rc == RMQ_OK && (de = readdir(d))) {
        int64_t from;
        if (strlen(de->d_name) != 20 || parse_int64(de->d_name, &from) != RMQ_OK) continue;
        rc = log_add_file(t, from, false, err, errlen);
    }
    closedir(d);
    if (t->n_files) qsort(t->files, t->n_files, sizeof *t->files, cmp_file);
    return rc;
}

static log_file *log_file_of(timer_store *t, int64_t pos)
{
    for (size_t i = t->n_files; i-- > 0;)
        if (pos >= t->files[i].from && pos < t->files[i].from + TIMERLOG_FILE_SIZE) return &t->files[i];
    return NULL;
}

/*
 * Writes the gathered units. A failed write (a full disk) leaves slots naming
 * units that are not there: a walk stops at such a unit with a warning, as it
 * does at a torn write after a crash.
 */
static int log_flush(timer_store *t)
{
    if (!t->wlen) return RMQ_OK;
    log_file *f = log_file_of(t, t->wpos);
    size_t len = t->wlen;
    t->wlen = 0;
    if (!f || pwrite(f->fd, t->wbuf, len, t->wpos - f->from) != (ssize_t)len) {
        log_error("timer", "timer log units at %" PRId64 ": %s", t->wpos, f ? strerror(errno) : "no file");
        return RMQ_ERR;
    }
    return RMQ_OK;
}

int timer_store_flush(timer_store *t) { return log_flush(t); }

static bool log_read(timer_store *t, int64_t pos, uint8_t *buf, size_t len)
{
    if (t->wlen) log_flush(t);
    log_file *f = log_file_of(t, pos);
    return f && pread(f->fd, buf, len, pos - f->from) == (ssize_t)len;
}

static bool magic_ok(int32_t magic) { return (magic | 0xF) == 0xF; }

/*
 * TimerMessageStore.recoverAndRevise: from the checkpoint's flush position,
 * walk the units to the first that is not one (zeros, or a torn write),
 * pointing each one's slot at it; that is where the next unit goes.
 */
static void log_recover(timer_store *t, int64_t from)
{
    t->end = 0;
    t->last_unit = -1;
    if (!t->n_files) return;
    if (from < t->files[0].from || !log_file_of(t, from)) from = t->files[t->n_files - 1].from;
    log_file *f = log_file_of(t, from);
    int64_t pos = f->from + (from - f->from) / TIMER_UNIT_SIZE * TIMER_UNIT_SIZE;
    uint8_t u[TIMER_UNIT_SIZE];
    for (;;) {
        f = log_file_of(t, pos);
        if (!f) break;
        int64_t in_file = pos - f->from;
        bool whole = in_file + TIMER_UNIT_SIZE <= TIMERLOG_FILE_SIZE && log_read(t, pos, u, sizeof u);
        int32_t size = whole ? (int32_t)get_be32(u) : 0, magic = whole ? (int32_t)get_be32(u + 12) : 0;
        if (whole && magic == BLANK_MAGIC) {  /* the rest of this file is a blank: next file */
            int64_t next = f->from + TIMERLOG_FILE_SIZE;
            if (!log_file_of(t, next)) {
                pos = next;
                break;
            }
            pos = next;
            continue;
        }
        if (!whole || size != TIMER_UNIT_SIZE || !magic_ok(magic)) break;
        int64_t delayed = (int64_t)get_be64(u + 16) + (int32_t)get_be32(u + 24);
        int64_t first, last;
        int32_t num;
        if (slot_get(t, delayed, &first, &last, &num)) {
            if (last < pos) slot_put(t, delayed, first, pos, num);
        } else {
            slot_put(t, delayed, pos, pos, 0);
        }
        t->last_unit = pos;
        pos += TIMER_UNIT_SIZE;
    }
    t->end = pos;
    /* Without a checkpoint the scan started in the last file: find the newest unit before it. */
    if (t->last_unit < 0 && pos > t->files[0].from) {
        int64_t p = pos - TIMER_UNIT_SIZE;
        if (p >= 0 && log_read(t, p, u, sizeof u) && (int32_t)get_be32(u) == TIMER_UNIT_SIZE) t->last_unit = p;
    }
}

/* ---- checkpoint ---- */

static void checkpoint_read(timer_store *t)
{
    uint8_t b[56];
    int fd = open(t->check_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = pread(fd, b, sizeof b, 0);
    close(fd);
    if (n < 32) return;
    timer_checkpoint *cp = &t->cp;
    cp->last_read_ms = (int64_t)get_be64(b);
    cp->timerlog_flush_pos = (int64_t)get_be64(b + 8);
    cp->queue_offset = (int64_t)get_be64(b + 16);
    cp->master_queue_offset = (int64_t)get_be64(b + 24);
    if (n == (ssize_t)sizeof b) {
        cp->state_version = (int64_t)get_be64(b + 32);
        cp->dv_timestamp = (int64_t)get_be64(b + 40);
        cp->dv_counter = (int64_t)get_be64(b + 48);
    }
    t->has_cp = true;
}

timer_store *timer_store_open(const char *root, int32_t precision_ms, char *err, size_t errlen)
{
    timer_store *t = xcalloc(1, sizeof *t);
    t->precision = precision_ms > 0 ? precision_ms : 1000;
    t->wheel_fd = -1;
    t->log_dir = str_printf("%s/timerlog", root);
    t->check_path = str_printf("%s/config/timercheck", root);
    t->cp.dv_timestamp = now_ms();
    if (wheel_open(t, root, err, errlen) || log_list(t, err, errlen)) {
        timer_store_close(t);
        return NULL;
    }
    checkpoint_read(t);
    log_recover(t, t->has_cp ? t->cp.timerlog_flush_pos : 0);
    return t;
}

void timer_store_close(timer_store *t)
{
    if (!t) return;
    log_flush(t);
    free(t->wbuf);
    if (t->wheel) munmap(t->wheel, WHEEL_BYTES);
    if (t->wheel_fd >= 0) close(t->wheel_fd);
    for (size_t i = 0; i < t->n_files; i++) close(t->files[i].fd);
    free(t->files);
    free(t->log_dir);
    free(t->check_path);
    free(t);
}

bool timer_store_checkpoint(const timer_store *t, timer_checkpoint *cp)
{
    if (t->has_cp) *cp = t->cp;
    return t->has_cp;
}

static bool unit_decode(const uint8_t *u, timer_unit *out, int64_t *prev)
{
    if ((int32_t)get_be32(u) != TIMER_UNIT_SIZE) return false;
    *prev = (int64_t)get_be64(u + 4);
    out->magic = (int32_t)get_be32(u + 12);
    out->delayed_ms = (int64_t)get_be64(u + 16) + (int32_t)get_be32(u + 24);
    out->phys_offset = (int64_t)get_be64(u + 28);
    out->size = (int32_t)get_be32(u + 36);
    return magic_ok(out->magic);
}

bool timer_store_last_unit(const timer_store *t, timer_unit *u)
{
    uint8_t b[TIMER_UNIT_SIZE];
    int64_t prev;
    return t->last_unit >= 0 && log_read((timer_store *)t, t->last_unit, b, sizeof b) && unit_decode(b, u, &prev);
}

int timer_store_append(timer_store *t, int64_t now, int32_t magic, int64_t delayed_ms, int64_t phys_offset,
                       int32_t size, int32_t topic_hash)
{
    char err[256];
    log_file *f = t->n_files ? log_file_of(t, t->end) : NULL;
    if (f && TIMER_UNIT_SIZE + MIN_BLANK_LEN > f->from + TIMERLOG_FILE_SIZE - t->end) {
        if (log_flush(t)) return RMQ_ERR;
        uint8_t blank[MIN_BLANK_LEN] = {0};  /* TimerLog.append: close the file with a blank */
        put_be32(blank, (uint32_t)(f->from + TIMERLOG_FILE_SIZE - t->end));
        put_be32(blank + 12, (uint32_t)BLANK_MAGIC);
        if (pwrite(f->fd, blank, sizeof blank, t->end - f->from) != (ssize_t)sizeof blank) {
            log_error("timer", "timer log blank at %" PRId64 ": %s", t->end, strerror(errno));
            return RMQ_ERR;
        }
        t->end = f->from + TIMERLOG_FILE_SIZE;
        f = NULL;
    }
    if (!f) {
        if (log_add_file(t, t->end, true, err, sizeof err)) {
            log_error("timer", "timer log: %s", err);
            return RMQ_ERR;
        }
        f = &t->files[t->n_files - 1];
    }
    int64_t write_ms = now / t->precision * t->precision;
    int64_t first = -1, last = -1;
    int32_t num = 0;
    if (!slot_get(t, delayed_ms, &first, &last, &num)) first = last = -1, num = 0;
    uint8_t u[TIMER_UNIT_SIZE] = {0};
    put_be32(u, TIMER_UNIT_SIZE);
    put_be64(u + 4, (uint64_t)last);                         /* previous unit of the slot */
    put_be32(u + 12, (uint32_t)magic);
    put_be64(u + 16, (uint64_t)write_ms);
    put_be32(u + 24, (uint32_t)(int32_t)(delayed_ms - write_ms));
    put_be64(u + 28, (uint64_t)phys_offset);
    put_be32(u + 36, (uint32_t)size);
    put_be32(u + 40, (uint32_t)topic_hash);                  /* then 8 reserved bytes */
    if (t->wlen && (t->wpos + (int64_t)t->wlen != t->end || t->wlen + sizeof u > WBUF_UNITS * TIMER_UNIT_SIZE) &&
        log_flush(t))
        return RMQ_ERR;
    if (!t->wbuf) t->wbuf = xmalloc(WBUF_UNITS * TIMER_UNIT_SIZE);
    if (!t->wlen) t->wpos = t->end;
    memcpy(t->wbuf + t->wlen, u, sizeof u);
    t->wlen += sizeof u;
    slot_put(t, delayed_ms, first == -1 ? t->end : first, t->end, num + 1);
    t->last_unit = t->end;
    t->end += TIMER_UNIT_SIZE;
    return RMQ_OK;
}

void timer_store_walk(timer_store *t, int64_t from_ms, timer_unit_fn visit, void *ctx)
{
    int64_t start = from_ms / t->precision * t->precision;
    for (int64_t i = 0; i < WHEEL_SLOTS; i++) {
        int64_t first, pos;
        int32_t num;
        if (!slot_get(t, start + i * t->precision, &first, &pos, &num)) continue;
        /* Follow the chain back; a slot never holds more units than the log. */
        for (int64_t n = 0; pos >= 0 && pos < t->end && n <= t->end / TIMER_UNIT_SIZE; n++) {
            uint8_t b[TIMER_UNIT_SIZE];
            timer_unit u;
            int64_t prev;
            if (!log_read(t, pos, b, sizeof b) || !unit_decode(b, &u, &prev)) {
                log_warn("timer", "timer log unit at %" PRId64 " is unreadable; rest of its slot skipped", pos);
                break;
            }
            if (!visit(ctx, &u)) return;
            if (pos == first) break;
            pos = prev;
        }
    }
}

int timer_store_save(timer_store *t, const timer_checkpoint *in)
{
    log_flush(t);
    if (msync(t->wheel, WHEEL_BYTES, MS_SYNC)) log_warn("timer", "timerwheel msync: %s", strerror(errno));
    log_file *f = t->n_files ? &t->files[t->n_files - 1] : NULL;
    if (f && fdatasync(f->fd)) log_warn("timer", "timer log sync: %s", strerror(errno));
    t->cp.last_read_ms = in->last_read_ms;
    t->cp.timerlog_flush_pos = t->end;
    t->cp.queue_offset = in->queue_offset;
    t->cp.master_queue_offset = in->master_queue_offset;
    uint8_t b[CHECKPOINT_BYTES] = {0};
    const int64_t v[7] = {t->cp.last_read_ms, t->cp.timerlog_flush_pos, t->cp.queue_offset,
                          t->cp.master_queue_offset, t->cp.state_version, t->cp.dv_timestamp, t->cp.dv_counter};
    for (int i = 0; i < 7; i++) put_be64(b + 8 * i, (uint64_t)v[i]);
    int fd = open(t->check_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    int rc = fd >= 0 && pwrite(fd, b, sizeof b, 0) == (ssize_t)sizeof b && fdatasync(fd) == 0 ? RMQ_OK : RMQ_ERR;
    if (rc) log_error("timer", "cannot write %s: %s", t->check_path, strerror(errno));
    if (fd >= 0) close(fd);
    t->has_cp = rc == RMQ_OK;
    return rc;
}

void timer_store_clean(timer_store *t, int64_t min_phys)
{
    /* The last whole unit of a full file (TimerLog.getOffsetForLastUnit). */
    const int64_t last_unit = TIMERLOG_FILE_SIZE - (TIMERLOG_FILE_SIZE - MIN_BLANK_LEN) % TIMER_UNIT_SIZE -
                              MIN_BLANK_LEN - TIMER_UNIT_SIZE;
    while (t->n_files > 1) {
        uint8_t b[TIMER_UNIT_SIZE];
        timer_unit u;
        int64_t prev;
        if (!log_read(t, t->files[0].from + last_unit, b, sizeof b) || !unit_decode(b, &u, &prev) ||
            u.phys_offset >= min_phys)
            return;
        char *path = str_printf("%s/%020" PRId64, t->log_dir, t->files[0].from);
        if (unlink(path)) log_warn("timer", "cannot delete %s: %s", path, strerror(errno));
        else log_info("timer", "deleted %s: every message it names is gone", path);
        free(path);
        close(t->files[0].fd);
        memmove(t->files, t->files + 1, --t->n_files * sizeof *t->files);
    }
}
