#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* One log file: DIR/NAME.log, rotated to DIR/NAME.YYYY-MM-DD.N.log. */
typedef struct log_file {
    char *name;
    int fd;
    int64_t size;
    int day;                  /* yyyymmdd the current content belongs to */
    pthread_mutex_t lock;
} log_file;

static _Atomic int min_level = LOG_INFO;
static int64_t (*clock_s)(void);

/* Set up before threads start and torn down after they stop (log_setup, log_close). */
static char *log_dir;
static log_file *files;       /* [0] is the default file */
static size_t n_files;
typedef struct log_route {
    char *module;
    size_t file;              /* index in files */
} log_route;
static log_route *routes;
static size_t n_routes;
static int64_t max_size;
static int max_days;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int log_level_parse(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0) return i;
    return strcasecmp(name, "WARNING") == 0 ? LOG_WARN : -1;
}

const char *log_level_name(enum log_level lvl) { return level_names[lvl]; }
void log_set_level(enum log_level lvl) { atomic_store(&min_level, lvl); }
enum log_level log_get_level(void) { return atomic_load(&min_level); }
void log_set_clock(int64_t (*fn)(void)) { clock_s = fn; }

int log_foreground(void)
{
    const char *v = getenv("RMQ_LOG_STDERR");
    return v && strcmp(v, "1") == 0;
}

char *log_default_dir(void)
{
    const char *home = getenv("HOME");
    return str_printf("%s/logs/rocketmqlogs", home && *home ? home : ".");
}

static int64_t now_s(void) { return clock_s ? clock_s() : (int64_t)time(NULL); }

static int day_of(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static char *live_path(const log_file *f) { return str_printf("%s/%s.log", log_dir, f->name); }

/* Deletes rotated files of F whose day is more than max_days before today. */
static void prune(const log_file *f, int64_t now)
{
    if (max_days <= 0) return;
    int cutoff = day_of(now - (int64_t)max_days * 86400);
    DIR *d = opendir(log_dir);
    if (!d) return;
    size_t nl = strlen(f->name);
    for (struct dirent *e; (e = readdir(d));) {
        int y, m, dd, n, used = 0;
        if (strncmp(e->d_name, f->name, nl) || e->d_name[nl] != '.') continue;
        if (sscanf(e->d_name + nl, ".%4d-%2d-%2d.%d.log%n", &y, &m, &dd, &n, &used) != 4 ||
            e->d_name[nl + (size_t)used] != 0)
            continue;
        if (y * 10000 + m * 100 + dd < cutoff) {
            char *p = str_printf("%s/%s", log_dir, e->d_name);
            unlink(p);
            free(p);
        }
    }
    closedir(d);
}

/* Moves the live file aside under its day and the next free index, opens a new one. */
static void rotate(log_file *f, int64_t now)
{
    char *live = live_path(f), *old = NULL;
    int d = f->day;
    for (int n = 0;; n++) {
        free(old);
        old = str_printf("%s/%s.%04d-%02d-%02d.%d.log", log_dir, f->name, d / 10000, d / 100 % 100, d % 100, n);
        if (access(old, F_OK) != 0) break;
    }
    if (f->fd >= 0) close(f->fd);
    rename(live, old);
    f->fd = open(live, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    f->size = 0;
    f->day = day_of(now);
    free(live), free(old);
    prune(f, now);
}

static int open_file(log_file *f, const char *name, int64_t now)
{
    f->name = xstrdup(name);
    pthread_mutex_init(&f->lock, NULL);
    char *live = live_path(f);
    f->fd = open(live, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct stat st;
    if (f->fd < 0 || fstat(f->fd, &st)) {
        free(live);
        return RMQ_ERR;
    }
    free(live);
    f->size = st.st_size;
    /* A file left by an earlier day is that day's log. */
    f->day = st.st_size ? day_of((int64_t)st.st_mtime) : day_of(now);
    if (f->day != day_of(now)) rotate(f, now);
    return RMQ_OK;
}

static void free_state(void)
{
    for (size_t i = 0; i < n_files; i++) {
        if (files[i].fd >= 0) close(files[i].fd);
        pthread_mutex_destroy(&files[i].lock);
        free(files[i].name);
    }
    free(files);
    for (size_t i = 0; i < n_routes; i++) free(routes[i].module);
    free(routes);
    free(log_dir);
    files = NULL, routes = NULL, log_dir = NULL;
    n_files = n_routes = 0;
}

static size_t file_index(const char *name)
{
    for (size_t i = 0; i < n_files; i++)
        if (strcmp(files[i].name, name) == 0) return i;
    return n_files;
}

int log_setup(const log_config *cfg, char *err, size_t errlen)
{
    log_close();
    if (!cfg->dir) return RMQ_OK;
    if (mkdirs(cfg->dir)) {
        snprintf(err, errlen, "cannot create log directory %s: %s", cfg->dir, strerror(errno));
        return RMQ_ERR;
    }
    int64_t now = now_s();
    max_size = cfg->max_file_size;
    max_days = cfg->max_history_days;
    size_t nr = 0;
    while (cfg->routes && cfg->routes[nr * 2]) nr++;
    log_file *fs = xcalloc(nr + 1, sizeof *fs);
    log_route *rs = xcalloc(nr + 1, sizeof *rs);
    log_dir = xstrdup(cfg->dir);
    files = fs;
    routes = rs;
    const char *names[nr + 1];
    names[0] = cfg->default_file;
    for (size_t i = 0; i < nr; i++) names[i + 1] = cfg->routes[i * 2 + 1];
    for (size_t i = 0; i < nr + 1; i++) {
        if (file_index(names[i]) < n_files) continue;
        if (open_file(&files[n_files], names[i], now)) {
            snprintf(err, errlen, "cannot open %s/%s.log: %s", cfg->dir, names[i], strerror(errno));
            n_files++;
            free_state();
            return RMQ_ERR;
        }
        n_files++;
    }
    for (size_t i = 0; i < nr; i++) {
        routes[i].module = xstrdup(cfg->routes[i * 2]);
        routes[i].file = file_index(cfg->routes[i * 2 + 1]);
    }
    n_routes = nr;
    return RMQ_OK;
}

void log_close(void) { free_state(); }

static log_file *file_for(const char *module)
{
    for (size_t i = 0; i < n_routes; i++)
        if (strcmp(routes[i].module, module) == 0) return &files[routes[i].file];
    return &files[0];
}

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&min_level)) return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03d %-5s [%s] ",
                  (int)(tv.tv_usec / 1000), level_names[lvl], module);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    n = (m < 0) ? n : (n + m >= (int)sizeof line - 1 ? (int)sizeof line - 2 : n + m);
    line[n++] = '\n';
    if (!n_files) {
        ssize_t w = write(2, line, (size_t)n);
        (void)w;
        return;
    }
    log_file *f = file_for(module);
    pthread_mutex_lock(&f->lock);
    int64_t now = now_s();
    if (f->day != day_of(now) || (max_size > 0 && f->size > 0 && f->size + n > max_size)) rotate(f, now);
    if (f->fd >= 0 && write(f->fd, line, (size_t)n) == n) f->size += n;
    pthread_mutex_unlock(&f->lock);
}
