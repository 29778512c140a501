/*
 * checkpoint: StoreCheckpoint — a 4 KiB mapped file holding the store time
 * of the last durable commit-log record (@0), consume-queue state (@8) and
 * index state (@16); abnormal recovery replays from before the oldest.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "common/log.h"

#include "common/util.h"
#include "store/store_int.h"

int checkpoint_open(checkpoint *c, const char *path, char *err, size_t errlen)
{
    struct stat st;
    /* A checkpoint torn by a crash while being created counts as absent. */
    bool usable = stat(path, &st) == 0 && st.st_size == OS_PAGE_SIZE;
    c->f = mapped_file_open(path, 0, OS_PAGE_SIZE, !usable, false, err, errlen);
    return c->f ? RMQ_OK : RMQ_ERR;
}

void checkpoint_close(checkpoint *c)
{
    if (c->f)
        mapped_file_unref(c->f);
    c->f = NULL;
}

int64_t checkpoint_get(const checkpoint *c, int field)
{
    return (int64_t)get_be64(c->f->base + field);
}

void checkpoint_set(checkpoint *c, int field, int64_t ts)
{
    put_be64(c->f->base + field, (uint64_t)ts);
}

void checkpoint_flush(checkpoint *c)
{
    if (msync(c->f->base, OS_PAGE_SIZE, MS_SYNC) != 0)
        log_error("store", "msync %s: %s", c->f->path, strerror(errno));
}

int64_t checkpoint_min_timestamp(const checkpoint *c)
{
    int64_t physic = checkpoint_get(c, CKPT_PHYSIC), logics = checkpoint_get(c, CKPT_LOGICS);
    int64_t m = (physic < logics ? physic : logics) - 3000;
    if (m < 0)
        m = 0;
    int64_t index = checkpoint_get(c, CKPT_INDEX);
    return index < m ? index : m;
}
