/*
 * log: one line per event, "2026-11-23 10:00:00.123 LEVEL [module] text",
 * to stderr or to a file opened with log_open(). Thread-safe (one write(2)
 * per line).
 */
#ifndef RMQ_LOG_H
#define RMQ_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

int log_open(const char *path);          /* NULL = stderr */
void log_set_level(enum log_level lvl);
void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) log_write(LOG_DEBUG, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_write(LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_write(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_write(LOG_ERROR, mod, __VA_ARGS__)

#endif
