/*
 * The change journal beside a table's file (<file>.journal): one JSON line
 * per acknowledged change since the file was last written,
 *   {"counter":C,"timestamp":T,"name":"N","put":{...}}   or   {...,"name":"N","delete":true}
 * appended before the change is answered. Writing the whole file is then left
 * to the coalescing persister, and a crash of the process between two writes
 * loses nothing: loading replays the entries newer than the file's data
 * version. Appends are not fsync'd (Apache does not sync its config files at
 * all): a power loss can lose what changed since the last full write, which
 * is synced. C is the table's data-version counter when the entry was made, so
 * an entry the file already covers (C <= the file's counter) is skipped and
 * dropped when the file is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta_internal.h"

struct meta_journal {
    pthread_mutex_t lock;
    char *path;
    int fd;   /* append descriptor, opened on first use */
};

meta_journal *meta_journal_open(const char *table_path)
{
    meta_journal *j = xcalloc(1, sizeof *j);
    pthread_mutex_init(&j->lock, NULL);
    j->path = str_printf("%s.journal", table_path);
    j->fd = -1;
    return j;
}

void meta_journal_close(meta_journal *j)
{
    if (!j) return;
    if (j->fd >= 0) close(j->fd);
    pthread_mutex_destroy(&j->lock);
    free(j->path);
    free(j);
}

/* Caller holds the lock. */
static int open_for_append(meta_journal *j)
{
    if (j->fd >= 0) return RMQ_OK;
    j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (j->fd < 0 && errno == ENOENT) {   /* no config directory yet */
        char *dir = xstrdup(j->path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        if (slash && mkdirs(dir) == RMQ_OK) j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        free(dir);
    }
    return j->fd < 0 ? RMQ_ERR : RMQ_OK;
}

char *meta_journal_entry(const data_version *v, const char *name, const void *value, meta_value_write_fn write_value,
                         size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, 0);
    fjson_begin_object(&w);
    fjson_prop_int64(&w, "counter", v->counter);
    fjson_prop_int64(&w, "timestamp", v->timestamp);
    fjson_prop_string(&w, "name", name);
    if (value) {
        fjson_key(&w, "put");
        write_value(value, &w);
    } else {
        fjson_prop_bool(&w, "delete", true);
    }
    fjson_end_object(&w);
    return fjson_writer_finish(&w, len);
}

int meta_journal_append(meta_journal *j, const char *entry, size_t len)
{
    pthread_mutex_lock(&j->lock);
    int rc = open_for_append(j);
    if (rc == RMQ_OK) {
        char *line = xmalloc(len + 1);
        memcpy(line, entry, len);
        line[len] = '\n';
        rc = write(j->fd, line, len + 1) == (ssize_t)(len + 1) ? RMQ_OK : RMQ_ERR;
        free(line);
    }
    if (rc != RMQ_OK) log_error(META_LOG, "cannot append to %s: %s", j->path, strerror(errno));
    pthread_mutex_unlock(&j->lock);
    return rc;
}

/* Calls fn on each complete, parsable line (its offset in TEXT too); a torn
 * last line (a crash mid-append) is ignored. fn returns false to stop. */
static void each_entry(const char *text, size_t len, bool (*fn)(const cJSON *e, size_t off, void *arg), void *arg)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        const char *perr = NULL;
        cJSON *e = fjson_parse(p, (size_t)(nl - p), &perr);
        bool go_on = true;
        if (e) go_on = fn(e, (size_t)(p - text), arg);
        else log_warn(META_LOG, "skipping an unreadable journal line: %s", perr ? perr : "?");
        cJSON_Delete(e);
        if (!go_on) break;
        p = nl + 1;
    }
}

static int64_t entry_counter(const cJSON *e)
{
    int64_t c = -1;
    fjson_field_int64(e, "counter", &c);
    return c;
}

typedef struct prune_state {
    int64_t upto;
    size_t keep_from;   /* entries are appended in counter order: what stays is a tail */
} prune_state;

static bool find_first_newer(const cJSON *e, size_t off, void *arg)
{
    prune_state *ps = arg;
    if (entry_counter(e) <= ps->upto) return true;
    ps->keep_from = off;
    return false;
}

/* PATH's content becomes DATA (through PATH.tmp and a rename; no .bak wanted here). */
static int replace_file(const char *path, const char *data, size_t len)
{
    char *tmp = str_printf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    ok = ok && rename(tmp, path) == 0;
    if (!ok) unlink(tmp);
    free(tmp);
    return ok ? RMQ_OK : RMQ_ERR;
}

int meta_journal_prune(meta_journal *j, int64_t upto_counter)
{
    pthread_mutex_lock(&j->lock);
    size_t len = 0;
    char *text = read_file(j->path, &len);
    int rc = RMQ_OK;
    if (text) {
        prune_state ps = {.upto = upto_counter, .keep_from = len};
        each_entry(text, len, find_first_newer, &ps);
        if (j->fd >= 0) close(j->fd);
        j->fd = -1;
        if (ps.keep_from >= len) rc = unlink(j->path) == 0 || errno == ENOENT ? RMQ_OK : RMQ_ERR;
        else if (ps.keep_from > 0) rc = replace_file(j->path, text + ps.keep_from, len - ps.keep_from);
        free(text);
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

typedef struct replay_state {
    strmap *map;
    size_t value_size;
    meta_value_decode_fn decode;
    data_version *version;
    int64_t after;
    size_t applied;
} replay_state;

static bool apply_entry(const cJSON *e, size_t off, void *arg)
{
    replay_state *rs = arg;
    int64_t counter = entry_counter(e), ts = 0;
    const char *name = NULL;
    if (counter <= rs->after || fjson_field_string(e, "name", &name) != FJSON_OK || strlen(name) >= META_NAME_MAX)
        return true;
    const cJSON *put = cJSON_GetObjectItemCaseSensitive(e, "put");
    if (put) {
        void *value = xmalloc(rs->value_size);
        char *err = NULL;
        if (rs->decode(name, put, value, &err) != RMQ_OK) {
            log_warn(META_LOG, "skipping a journal entry for %s: %s", name, err ? err : "?");
            free(err);
            free(value);
            return true;
        }
        free(strmap_put(rs->map, name, value));
    } else {
        free(strmap_remove(rs->map, name));
    }
    fjson_field_int64(e, "timestamp", &ts);
    rs->version->counter = counter;
    rs->version->timestamp = ts;
    rs->applied++;
    return true;
}

int meta_journal_replay(meta_journal *j, strmap *map, size_t value_size, meta_value_decode_fn decode,
                        data_version *version)
{
    size_t len = 0;
    char *text = read_file(j->path, &len);
    if (!text) return errno == ENOENT ? RMQ_OK : RMQ_ERR;
    replay_state rs = {.map = map, .value_size = value_size, .decode = decode, .version = version,
                       .after = version->counter};
    each_entry(text, len, apply_entry, &rs);
    free(text);
    if (rs.applied) log_info(META_LOG, "%zu changes replayed from %s", rs.applied, j->path);
    return RMQ_OK;
}
