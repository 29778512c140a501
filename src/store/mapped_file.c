/*
 * mapped_file: segment files mapped whole (MappedFile) and the ordered
 * queue of them named by their start offset (MappedFileQueue).
 * Segments are reference counted so a reader's pointers stay valid after
 * retention unlinks the file; the mapping goes with the last reference.
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
#include "store/store_int.h"

/* A new file of exactly size bytes, made under a temporary name and renamed
 * so that a crash never leaves a short file under a segment name. */
static int create_sized(const char *path, int64_t size, bool preallocate)
{
    char *tmp = str_printf("%s.tmp", path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : 0;
    /* Allocating the blocks now means a full disk fails here, not as a
     * SIGBUS on a later write through the mapping. */
    if (rc == 0 && preallocate) {
        int e = posix_fallocate(fd, 0, size);
        if (e != 0 && e != EOPNOTSUPP && e != EINVAL) {
            errno = e;
            rc = -1;
        }
    }
    if (rc == 0 && (ftruncate(fd, size) != 0 || rename(tmp, path) != 0))
        rc = -1;
    if (rc == 0) {
        /* The new name must survive a power loss as well as the data. */
        char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    if (rc != 0 && fd >= 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        fd = -1;
    }
    free(tmp);
    return fd;
}

mapped_file *mapped_file_open(const char *path, int64_t from, int64_t size, bool create,
                              bool preallocate, char *err, size_t errlen)
{
    int fd = create ? create_sized(path, size, preallocate) : open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: %s", create ? "create" : "open", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto fail_errno;
    if (st.st_size != size) {
        snprintf(err, errlen, "%s has %lld bytes, expected %lld", path,
                 (long long)st.st_size, (long long)size);
        close(fd);
        return NULL;
    }
    void *base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        goto fail_errno;
    mapped_file *f = xcalloc(1, sizeof(*f));
    f->path = xstrdup(path);
    f->fd = fd;
    f->base = base;
    f->size = size;
    f->from = from;
    atomic_init(&f->wrote, 0);
    atomic_init(&f->flushed, 0);
    atomic_init(&f->last_store_ts, 0);
    atomic_init(&f->refs, 1);
    return f;
fail_errno:
    snprintf(err, errlen, "map %s: %s", path, strerror(errno));
    close(fd);
    return NULL;
}

void mapped_file_ref(mapped_file *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

int mapped_file_add_sync_slots(mapped_file *f, int n, char *err, size_t errlen)
{
    for (; f->sync_slots < n; f->sync_slots++) {
        /* Opened for writing although never written through: a MAP_SHARED mapping of a
         * read-only descriptor is not VM_SHARED, and msync then syncs nothing. */
        int fd = open(f->path, O_RDWR | O_CLOEXEC);
        void *base = fd < 0 ? MAP_FAILED : mmap(NULL, (size_t)f->size, PROT_READ, MAP_SHARED, fd, 0);
        if (base == MAP_FAILED) {
            snprintf(err, errlen, "sync slot of %s: %s", f->path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return RMQ_ERR;
        }
        f->sync_fd[f->sync_slots] = fd;
        f->sync_base[f->sync_slots] = base;
    }
    return RMQ_OK;
}

void mapped_file_unref(mapped_file *f)
{
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < f->sync_slots; i++) {
        munmap(f->sync_base[i], (size_t)f->size);
        close(f->sync_fd[i]);
    }
    munmap(f->base, (size_t)f->size);
    close(f->fd);
    free(f->saved);
    free(f->path);
    free(f);
}

int mapped_file_flush(mapped_file *f, int least_pages, int slot)
{
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
    int64_t flushed = atomic_load_explicit(&f->flushed, memory_order_relaxed);
    if (wrote <= flushed)
        return RMQ_OK;
    /* Only mapped_file_repair gets past a failure: a second msync would return 0. */
    if (atomic_load(&f->flush_failed)) {
        errno = EIO;
        return RMQ_ERR;
    }
    bool full = wrote == f->size;
    if (least_pages > 0 && !full && wrote / OS_PAGE_SIZE - flushed / OS_PAGE_SIZE < least_pages)
        return RMQ_OK;
    int64_t start = flushed / OS_PAGE_SIZE * OS_PAGE_SIZE;
    uint8_t *base = slot >= 0 && slot < f->sync_slots ? f->sync_base[slot] : f->base;
    if (msync(base + start, (size_t)(wrote - start), MS_SYNC) != 0) {
        int e = errno;
        if (!atomic_exchange(&f->flush_failed, true))
            log_error("store", "msync %s: %s; what is unflushed there is not acknowledged until it is "
                      "written again", f->path, strerror(e));
        errno = e;
        return RMQ_ERR;
    }
    /* SYNC_FLUSH's group-commit threads sync the same bytes through mappings of their
     * own, concurrently. A writeback error is reported to one file description's msync;
     * another that ran alongside may return 0 for the same pages, which are not on the
     * disk. Once any of them failed, only mapped_file_repair moves `flushed`. */
    if (atomic_load(&f->flush_failed)) {
        errno = EIO;
        return RMQ_ERR;
    }
    atomic_max(&f->flushed, wrote);
    return RMQ_OK;
}

/* Writes f->saved back at its place, bypassing the page cache, and syncs it. */
static int rewrite_direct(mapped_file *f)
{
    int fd = open(f->path, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t done = 0, len = (size_t)f->saved_len;
    while (done < len) {
        ssize_t n = pwrite(fd, f->saved + done, len - done, f->saved_start + (off_t)done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    /* fdatasync: the extent now written must be recorded as such, too. */
    int rc = done == len && fdatasync(fd) == 0 ? 0 : -1;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int mapped_file_repair(mapped_file *f)
{
    if (!atomic_load(&f->flush_failed))
        return RMQ_OK;
    /* Every open file description reports a writeback error once: let each see this
     * one now, so none reports it later for bytes that will be on the disk by then. */
    fdatasync(f->fd);
    for (int i = 0; i < f->sync_slots; i++)
        fdatasync(f->sync_fd[i]);
    int64_t wrote = atomic_load_explicit(&f->wrote, memory_order_acquire);
    int64_t start = atomic_load(&f->flushed) / OS_PAGE_SIZE * OS_PAGE_SIZE;
    int64_t end = (wrote + OS_PAGE_SIZE - 1) / OS_PAGE_SIZE * OS_PAGE_SIZE;
    if (end > f->size)
        end = f->size;
    /*
     * The failed pages are cached, clean and not on the disk: rewriting them through the
     * cache is no good, on ext4 at least (it wrote them into preallocated, "unwritten"
     * extents and, after the failure, no longer converts them, so they would read back
     * as zeros). A direct write converts them. It drops the cached pages first, so the
     * bytes are kept aside until it succeeds (and put back into the mapping when it
     * fails). Where O_DIRECT is refused (tmpfs), dirty the pages again and msync.
     */
    if (!f->saved && end > start) {
        if (posix_memalign((void **)&f->saved, OS_PAGE_SIZE, (size_t)(end - start)) != 0)
            return RMQ_ERR;
        memcpy(f->saved, f->base + start, (size_t)(end - start));
        f->saved_start = start;
        f->saved_len = end - start;
    }
    int rc = f->saved ? rewrite_direct(f) : 0;
    if (rc != 0 && errno == EINVAL) {
        for (int64_t off = start; off < wrote; off += OS_PAGE_SIZE) {
            volatile uint8_t *b = f->base + off;
            *b = *b;
        }
        rc = msync(f->base + start, (size_t)(wrote - start), MS_SYNC);
    } else if (rc != 0) {
        memcpy(f->base + f->saved_start, f->saved, (size_t)f->saved_len);
    }
    if (rc != 0)
        return RMQ_ERR;
    free(f->saved);
    f->saved = NULL;
    atomic_max(&f->flushed, wrote);
    atomic_store(&f->flush_failed, false);
    log_info("store", "%s: the bytes a sync had failed for are on the disk now", f->path);
    return RMQ_OK;
}

int64_t mapped_file_mtime(const mapped_file *f)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

void mapped_file_zero_range(mapped_file *f, int64_t pos, int64_t len)
{
    if (pos + len > f->size)
        len = f->size - pos;
    static const uint8_t zeros[OS_PAGE_SIZE];
    /* Compare first: writing zeros into untouched pages would allocate them. */
    for (int64_t off = pos; off < pos + len; off += OS_PAGE_SIZE) {
        int64_t n = pos + len - off < OS_PAGE_SIZE ? pos + len - off : OS_PAGE_SIZE;
        if (memcmp(f->base + off, zeros, (size_t)n) != 0)
            memset(f->base + off, 0, (size_t)n);
    }
}

/* ---- queue ---- */

void mapped_queue_init(mapped_queue *q, const char *dir, int64_t file_size, bool preallocate)
{
    memset(q, 0, sizeof(*q));
    q->dir = xstrdup(dir);
    q->file_size = file_size;
    q->preallocate = preallocate;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Appenders rolling a file must not starve behind a stream of readers. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&q->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    atomic_init(&q->flushed_where, 0);
}

static void queue_push(mapped_queue *q, mapped_file *f)
{
    if (q->count == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 8;
        q->files = xrealloc(q->files, (size_t)q->cap * sizeof(*q->files));
    }
    q->files[q->count++] = f;
}

static bool all_digits(const char *name, size_t digits)
{
    if (strlen(name) != digits)
        return false;
    for (size_t i = 0; i < digits; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    return true;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **store_list_files(const char *dir, size_t digits, int *count, char *err, size_t errlen)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return NULL;
        snprintf(err, errlen, "opendir %s: %s", dir, strerror(errno));
        *count = -1;
        return NULL;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!all_digits(de->d_name, digits))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = xrealloc(names, (size_t)cap * sizeof(*names));
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof(*names), name_cmp);
    *count = n;
    return names;
}

int mapped_queue_load(mapped_queue *q, char *err, size_t errlen)
{
    int n, rc = RMQ_OK;
    char **names = store_list_files(q->dir, 20, &n, err, errlen);
    if (n < 0)
        return RMQ_ERR;
    for (int i = 0; i < n; i++) {
        if (rc == RMQ_OK) {
            char *path = str_printf("%s/%s", q->dir, names[i]);
            int64_t from = 0;
            parse_int64(names[i], &from);
            mapped_file *f = mapped_file_open(path, from, q->file_size, false, false, err, errlen);
            free(path);
            if (f && mapped_file_add_sync_slots(f, q->sync_slots, err, errlen) != RMQ_OK) {
                mapped_file_unref(f);
                f = NULL;
            }
            if (!f) {
                rc = RMQ_ERR;
            } else {
                /* Until recovery says otherwise every loaded file counts as full. */
                atomic_store(&f->wrote, q->file_size);
                atomic_store(&f->flushed, q->file_size);
                queue_push(q, f);
            }
        }
        free(names[i]);
    }
    free(names);
    if (q->count)
        atomic_store(&q->flushed_where, mapped_queue_max_offset(q));
    return rc;
}

void mapped_queue_free(mapped_queue *q)
{
    for (int i = 0; i < q->count; i++)
        mapped_file_unref(q->files[i]);
    free(q->files);
    free(q->dir);
    pthread_rwlock_destroy(&q->lock);
}

mapped_file *mapped_queue_find(mapped_queue *q, int64_t offset)
{
    mapped_file *found = NULL;
    pthread_rwlock_rdlock(&q->lock);
    if (q->count > 0 && offset >= q->files[0]->from) {
        int64_t i = (offset - q->files[0]->from) / q->file_size;
        if (i < q->count && offset < q->files[i]->from + q->file_size) {
            found = q->files[i];
            mapped_file_ref(found);
        }
    }
    pthread_rwlock_unlock(&q->lock);
    return found;
}

static mapped_file *queue_at(mapped_queue *q, bool last)
{
    mapped_file *f = NULL;
    pthread_rwlock_rdlock(&q->lock);
    if (q->count > 0) {
        f = q->files[last ? q->count - 1 : 0];
        mapped_file_ref(f);
    }
    pthread_rwlock_unlock(&q->lock);
    return f;
}

mapped_file *mapped_queue_first(mapped_queue *q)
{
    return queue_at(q, false);
}

mapped_file *mapped_queue_last(mapped_queue *q)
{
    return queue_at(q, true);
}

mapped_file *mapped_queue_create(mapped_queue *q, int64_t from, char *err, size_t errlen)
{
    if (mkdirs(q->dir) != RMQ_OK) {
        snprintf(err, errlen, "mkdir %s: %s", q->dir, strerror(errno));
        return NULL;
    }
    char *path = str_printf("%s/%020" PRId64, q->dir, from);
    mapped_file *f = mapped_file_open(path, from, q->file_size, true, q->preallocate, err, errlen);
    free(path);
    if (f && mapped_file_add_sync_slots(f, q->sync_slots, err, errlen) != RMQ_OK) {
        mapped_file_unref(f);
        f = NULL;
    }
    if (!f)
        return NULL;
    pthread_rwlock_wrlock(&q->lock);
    queue_push(q, f);
    pthread_rwlock_unlock(&q->lock);
    return f;
}

int64_t mapped_queue_min_offset(mapped_queue *q)
{
    pthread_rwlock_rdlock(&q->lock);
    int64_t v = q->count ? q->files[0]->from : -1;
    pthread_rwlock_unlock(&q->lock);
    return v;
}

int64_t mapped_queue_max_offset(mapped_queue *q)
{
    pthread_rwlock_rdlock(&q->lock);
    int64_t v = 0;
    if (q->count) {
        mapped_file *f = q->files[q->count - 1];
        v = f->from + atomic_load_explicit(&f->wrote, memory_order_acquire);
    }
    pthread_rwlock_unlock(&q->lock);
    return v;
}

static void delete_file(mapped_file *f)
{
    if (unlink(f->path) != 0)
        log_warn("store", "unlink %s: %s", f->path, strerror(errno));
    mapped_file_unref(f);
}

void mapped_queue_truncate(mapped_queue *q, int64_t offset, int64_t stale_len)
{
    pthread_rwlock_wrlock(&q->lock);
    int keep = q->count;
    for (int i = 0; i < q->count; i++) {
        mapped_file *f = q->files[i];
        if (f->from + f->size <= offset)
            continue;
        if (offset >= f->from) {
            int64_t pos = offset - f->from;
            mapped_file_zero_range(f, pos, stale_len);
            atomic_store(&f->wrote, pos);
            atomic_store(&f->flushed, pos);
        } else {
            if (keep == q->count)
                keep = i;
            log_info("store", "recovery deletes %s beyond offset %" PRId64, f->path, offset);
            delete_file(f);
        }
    }
    q->count = keep;
    pthread_rwlock_unlock(&q->lock);
    atomic_store(&q->flushed_where, offset);
}

int64_t mapped_queue_flush(mapped_queue *q, int least_pages, int slot)
{
    int64_t where = atomic_load(&q->flushed_where);
    int err = 0;
    for (;;) {
        mapped_file *f = mapped_queue_find(q, where);
        if (!f) {
            /* flushed_where may sit below a deleted head: restart at the first file. */
            mapped_file *first = mapped_queue_first(q);
            if (!first)
                break;
            bool behind = where < first->from;
            if (behind)
                where = first->from;
            mapped_file_unref(first);
            if (!behind)
                break;
            continue;
        }
        if (mapped_file_flush(f, least_pages, slot) != RMQ_OK)
            err = errno ? errno : EIO;
        int64_t flushed = atomic_load_explicit(&f->flushed, memory_order_acquire);
        int64_t size = f->size, from = f->from;
        mapped_file_unref(f);
        if (err || from + flushed <= where)
            break;
        where = from + flushed;
        if (flushed < size)
            break;
    }
    /* Set after the file's flush_failed; cleared by whoever repairs the file. */
    if (err)
        atomic_store(&q->flush_errno, err);
    return atomic_max(&q->flushed_where, where);
}

void mapped_queue_delete_first(mapped_queue *q)
{
    pthread_rwlock_wrlock(&q->lock);
    if (q->count > 1) {
        mapped_file *f = q->files[0];
        memmove(q->files, q->files + 1, (size_t)(q->count - 1) * sizeof(*q->files));
        q->count--;
        log_info("store", "delete %s", f->path);
        delete_file(f);
    }
    pthread_rwlock_unlock(&q->lock);
}

void mapped_queue_destroy_all(mapped_queue *q)
{
    pthread_rwlock_wrlock(&q->lock);
    for (int i = 0; i < q->count; i++)
        delete_file(q->files[i]);
    q->count = 0;
    pthread_rwlock_unlock(&q->lock);
    rmdir(q->dir);
}
