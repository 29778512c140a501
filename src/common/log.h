/*
 * log: one line per event, "2026-11-23 10:00:00.123 LEVEL [module] text".
 *
 * Until log_setup() every line goes to stderr (tools, tests, start-up errors).
 * log_setup() with a directory sends each module's lines to a file there, as
 * Apache's logback configuration does under ${user.home}/logs/rocketmqlogs/
 * (broker.log, store.log, remoting.log, namesrv.log, ...): a route table maps
 * modules to file names, every other module goes to the default file. A file
 * is rotated when the day changes or it grows past max_file_size, to
 * NAME.YYYY-MM-DD.N.log; rotated files older than max_history_days are deleted.
 *
 * Thread-safe: the level is an atomic, each file has its own lock (held for one
 * write(2) and, rarely, a rotation).
 */
#ifndef RMQ_LOG_H
#define RMQ_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* "DEBUG"/"INFO"/"WARN"/"ERROR" (any case; "WARNING" too); -1 when unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level lvl);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

typedef struct log_config {
    const char *dir;               /* NULL: stay on stderr */
    const char *default_file;      /* file name without ".log", e.g. "broker" */
    /* NULL-terminated pairs: module, file name without ".log" */
    const char *const *routes;
    int64_t max_file_size;         /* bytes; 0 = rotate daily only */
    int max_history_days;          /* 0 = keep every rotated file */
} log_config;

/* Opens (creating dir) the files of CFG and routes lines there; RMQ_ERR + reason. */
int log_setup(const log_config *cfg, char *err, size_t errlen);
/* Back to stderr, files closed (end of main, tests). */
void log_close(void);

/*
 * The servers' choice: true when RMQ_LOG_STDERR=1 asks for today's foreground
 * behaviour (every line on stderr; the start script and the tests use it).
 */
int log_foreground(void);
/* ${HOME}/logs/rocketmqlogs (malloc'd), Apache's log directory. */
char *log_default_dir(void);

/* Clock for rotation tests: seconds since the epoch (NULL: time()). */
void log_set_clock(int64_t (*clock_s)(void));

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) log_write(LOG_DEBUG, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_write(LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_write(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_write(LOG_ERROR, mod, __VA_ARGS__)

#endif
