/*
 * util: small helpers shared by every module — clock, Java-compatible
 * hashes and checksums, files written atomically, host/port parsing.
 * Nothing here knows about topics or the network protocol.
 */
#ifndef RMQ_UTIL_H
#define RMQ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The one result vocabulary of the project: ok, error, again (not yet). */
enum { RMQ_OK = 0, RMQ_ERR = -1, RMQ_AGAIN = -2 };

int64_t now_ms(void);            /* wall clock, ms since the epoch */
int64_t mono_ms(void);           /* monotonic clock, ms */

/* Java String.hashCode() over the UTF-16 units of a UTF-8 string. */
int32_t java_string_hash(const char *utf8, size_t len);
/* RocketMQ UtilAll.crc32: java.util.zip.CRC32 masked with 0x7FFFFFFF. */
int32_t rmq_crc32(const void *data, size_t len);

/* Big-endian loads and stores. */
static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static inline void put_be64(uint8_t *p, uint64_t v) { put_be32(p, v >> 32); put_be32(p + 4, (uint32_t)v); }
static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get_be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint64_t get_be64(const uint8_t *p) { return (uint64_t)get_be32(p) << 32 | get_be32(p + 4); }

/* Strict decimal parsing of a whole string; RMQ_ERR on junk or overflow. */
int parse_int64(const char *s, int64_t *out);
int parse_int32(const char *s, int32_t *out);
/* Java Boolean.parseBoolean: "true" in any case is true, anything else false. */
bool parse_java_bool(const char *s);
/* The key=value lines of a simple java.util.Properties text (TEXT is cut up): '#' and '!'
 * comments, '=' or ':' separators, keys and values trimmed, no escapes or continuations.
 * FN gets each pair; a non-zero return stops the walk and is returned. */
int simple_props_each(char *text, int (*fn)(const char *key, const char *val, void *arg), void *arg);
/* v in decimal, NUL-terminated, into out (>= 21 bytes); returns the length (snprintf's
 * "%lld" without the format parsing, for headers written per message). */
size_t fmt_int64(char *out, int64_t v);

/* Create a directory and its parents (mode 0755). */
int mkdirs(const char *path);
/* Whole file into a malloc'd NUL-terminated buffer (caller frees); NULL + errno on failure. */
char *read_file(const char *path, size_t *len);
/*
 * Write like Apache's MixAll.string2File: content to PATH.tmp, fsync,
 * previous PATH renamed to PATH.bak, PATH.tmp renamed to PATH.
 */
int write_file_atomic(const char *path, const void *data, size_t len);
/* Read PATH, falling back to PATH.bak (as ConfigManager.load does). */
char *read_file_or_bak(const char *path, size_t *len);

/* "host:port" -> parts. host is written NUL-terminated into host[hostlen]. */
int split_host_port(const char *addr, char *host, size_t hostlen, int *port);

/* Upper-case hex of bytes (dst must hold 2*len+1). */
void hex_upper(char *dst, const uint8_t *src, size_t len);
/* Hex to bytes; returns byte count or -1. */
int hex_decode(uint8_t *dst, size_t cap, const char *hex);

/* printf into a malloc'd string (caller frees). */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);

/* Strings freed all at once (a request's header fields, a message's properties): one
 * allocation per ~1 KiB of them instead of one per string, on the per-message path.
 * *head starts NULL; strs_dup copies n bytes and a NUL; strs_free frees them all. */
struct str_chunk;
char *strs_dup(struct str_chunk **head, const char *s, size_t n);
void strs_free(struct str_chunk **head);

#endif
