/*
 * The name server's settings: NamesrvConfig and NettyServerConfig as one
 * table of Java property names, read from and written as
 * java.util.Properties text (the -c file, UPDATE/GET_NAMESRV_CONFIG).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "namesrv/namesrv.h"

#define LOG_MOD "namesrv"

/* ---- java.util.Properties ---- */

const char *props_get(const props *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0) return p->vals[i];
    return NULL;
}

void props_set(props *p, const char *key, const char *val)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->keys[i], key) == 0) {
            free(p->vals[i]);
            p->vals[i] = xstrdup(val);
            return;
        }
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->keys = xrealloc(p->keys, p->cap * sizeof *p->keys);
        p->vals = xrealloc(p->vals, p->cap * sizeof *p->vals);
    }
    p->keys[p->n] = xstrdup(key);
    p->vals[p->n] = xstrdup(val);
    p->n++;
}

void props_free(props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->keys[i]);
        free(p->vals[i]);
    }
    free(p->keys);
    free(p->vals);
    memset(p, 0, sizeof *p);
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }
static bool is_eol(char c) { return c == '\n' || c == '\r'; }

/* Append the UTF-8 encoding of code point CP. */
static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/*
 * Properties.load: logical lines (a line ending in an odd number of
 * backslashes continues on the next, whose leading blanks are dropped),
 * comments starting with # or !, key up to the first unescaped = : or
 * blank, escapes \t \n \r \f \uXXXX and \x = x.
 */
void props_parse(props *p, const char *text, size_t len)
{
    const char *s = text, *end = text + len;
    /* Unescaped text is never longer than its source (\uXXXX is 6 bytes for <= 3). */
    char *key = xmalloc(len + 1), *val = xmalloc(len + 1);
    while (s < end) {
        while (s < end && (is_blank(*s) || is_eol(*s))) s++;
        if (s == end) break;
        if (*s == '#' || *s == '!') {
            while (s < end && !is_eol(*s)) s++;
            continue;
        }
        char *out = key;
        size_t klen = 0;
        bool in_key = true, saw_sep = false;
        while (s < end && !is_eol(*s)) {
            char c = *s++;
            if (in_key && (c == '=' || c == ':' || is_blank(c))) {
                /* Blanks, then at most one = or :, then blanks. */
                saw_sep = c == '=' || c == ':';
                while (s < end && is_blank(*s)) s++;
                if (!saw_sep && s < end && (*s == '=' || *s == ':')) {
                    s++;
                    while (s < end && is_blank(*s)) s++;
                }
                klen = (size_t)(out - key);
                out = val;
                in_key = false;
                continue;
            }
            if (c != '\\') {
                *out++ = c;
                continue;
            }
            if (s == end) break;
            c = *s++;
            if (is_eol(c)) {   /* continuation */
                if (c == '\r' && s < end && *s == '\n') s++;
                while (s < end && is_blank(*s)) s++;
                continue;
            }
            switch (c) {
            case 't': *out++ = '\t'; break;
            case 'n': *out++ = '\n'; break;
            case 'r': *out++ = '\r'; break;
            case 'f': *out++ = '\f'; break;
            case 'u': {
                unsigned cp = 0;
                int i = 0;
                for (; i < 4 && s < end; i++, s++) {
                    char h = *s;
                    unsigned d = h >= '0' && h <= '9' ? (unsigned)(h - '0')
                               : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                               : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10) : 16u;
                    if (d == 16) break;
                    cp = cp << 4 | d;
                }
                out += put_utf8(out, cp);
                break;
            }
            default: *out++ = c; break;
            }
        }
        if (in_key) {
            klen = (size_t)(out - key);
            out = val;
        }
        key[klen] = '\0';
        *out = '\0';
        props_set(p, key, val);
    }
    free(key);
    free(val);
}

/* ---- the config table ---- */

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL };

typedef struct cfg_item {
    const char *name;
    enum cfg_type type;
    size_t offset;
} cfg_item;

#define ITEM(name, type, member) {name, type, offsetof(namesrv_config, member)}

/* Declaration order of NamesrvConfig, then NettyServerConfig (object2Properties order). */
static const cfg_item items[] = {
    ITEM("rocketmqHome", CFG_STR, rocketmq_home),
    ITEM("kvConfigPath", CFG_STR, kv_config_path),
    ITEM("configStorePath", CFG_STR, config_store_path),
    ITEM("productEnvName", CFG_STR, product_env_name),
    ITEM("clusterTest", CFG_BOOL, cluster_test),
    ITEM("orderMessageEnable", CFG_BOOL, order_message_enable),
    ITEM("configBlackList", CFG_STR, config_black_list),
    ITEM("listenPort", CFG_INT, listen_port),
    ITEM("serverWorkerThreads", CFG_INT, server_worker_threads),
    ITEM("serverCallbackExecutorThreads", CFG_INT, server_callback_executor_threads),
    ITEM("serverSelectorThreads", CFG_INT, server_selector_threads),
    ITEM("serverOnewaySemaphoreValue", CFG_INT, server_oneway_semaphore_value),
    ITEM("serverAsyncSemaphoreValue", CFG_INT, server_async_semaphore_value),
    ITEM("serverChannelMaxIdleTimeSeconds", CFG_INT, server_channel_max_idle_time_seconds),
    ITEM("serverSocketSndBufSize", CFG_INT, server_socket_snd_buf_size),
    ITEM("serverSocketRcvBufSize", CFG_INT, server_socket_rcv_buf_size),
    ITEM("writeBufferHighWaterMark", CFG_INT, write_buffer_high_water_mark),
    ITEM("writeBufferLowWaterMark", CFG_INT, write_buffer_low_water_mark),
    ITEM("serverSocketBacklog", CFG_INT, server_socket_backlog),
    ITEM("serverPooledByteBufAllocatorEnable", CFG_BOOL, server_pooled_byte_buf_allocator_enable),
    ITEM("useEpollNativeSelector", CFG_BOOL, use_epoll_native_selector),
};
#define N_ITEMS (sizeof items / sizeof items[0])

/* Keys that are ours, not Apache's; read from the -c file's extra keys. */
#define KEY_LISTEN_ADDRESS "listenAddress"
#define KEY_SCAN_INTERVAL "scanNotActiveBrokerInterval"
#define KEY_BROKER_EXPIRED "brokerChannelExpiredTime"
#define KEY_LOG_LEVEL "logLevel"
#define DEFAULT_SCAN_INTERVAL_MS 10000      /* NamesrvController: every 10 s */
#define DEFAULT_BROKER_EXPIRED_MS 120000    /* RouteInfoManager.BROKER_CHANNEL_EXPIRED_TIME */

static const cfg_item *find_item(const char *name)
{
    for (size_t i = 0; i < N_ITEMS; i++)
        if (strcmp(items[i].name, name) == 0) return &items[i];
    return NULL;
}

void namesrv_config_init(namesrv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    const char *home = getenv("HOME");
    if (!home) home = ".";
    const char *rocketmq_home = getenv("ROCKETMQ_HOME");
    cfg->rocketmq_home = rocketmq_home ? xstrdup(rocketmq_home) : NULL;
    cfg->kv_config_path = str_printf("%s/namesrv/kvConfig.json", home);
    cfg->config_store_path = str_printf("%s/namesrv/namesrv.properties", home);
    cfg->product_env_name = xstrdup("center");
    cfg->config_black_list = xstrdup("configBlackList;configStorePath;kvConfigPath");
    cfg->listen_port = 9876;
    cfg->server_worker_threads = 8;
    cfg->server_selector_threads = 3;
    cfg->server_oneway_semaphore_value = 256;
    cfg->server_async_semaphore_value = 64;
    cfg->server_channel_max_idle_time_seconds = 120;
    cfg->server_socket_backlog = 1024;
    cfg->server_pooled_byte_buf_allocator_enable = true;
    cfg->listen_address = "0.0.0.0";
    cfg->scan_interval_ms = DEFAULT_SCAN_INTERVAL_MS;
    cfg->broker_expired_ms = DEFAULT_BROKER_EXPIRED_MS;
    rmq_tls_config_defaults(&cfg->tls);
}

void namesrv_config_free(namesrv_config *cfg)
{
    for (size_t i = 0; i < N_ITEMS; i++)
        if (items[i].type == CFG_STR) free(*(char **)((char *)cfg + items[i].offset));
    props_free(&cfg->extra);
    rmq_tls_config_free(&cfg->tls);
    memset(cfg, 0, sizeof *cfg);
}

/* One setter of properties2Object; a value Java could not parse changes nothing. */
static void set_item(namesrv_config *cfg, const cfg_item *it, const char *value)
{
    void *field = (char *)cfg + it->offset;
    switch (it->type) {
    case CFG_STR:
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        break;
    case CFG_INT: {
        int32_t v;
        if (parse_int32(value, &v) == RMQ_OK) *(int32_t *)field = v;
        else log_warn(LOG_MOD, "ignoring %s=%s: not an int", it->name, value);
        break;
    }
    case CFG_BOOL:
        *(bool *)field = parse_java_bool(value);
        break;
    }
}

static void read_our_keys(namesrv_config *cfg)
{
    const char *v = props_get(&cfg->extra, KEY_LISTEN_ADDRESS);
    if (v) cfg->listen_address = v;
    int64_t ms;
    v = props_get(&cfg->extra, KEY_SCAN_INTERVAL);
    if (v && parse_int64(v, &ms) == RMQ_OK && ms > 0) cfg->scan_interval_ms = ms;
    v = props_get(&cfg->extra, KEY_BROKER_EXPIRED);
    if (v && parse_int64(v, &ms) == RMQ_OK && ms > 0) cfg->broker_expired_ms = ms;
    /* logLevel takes effect at once: UPDATE_NAMESRV_CONFIG changes it at run time. */
    v = props_get(&cfg->extra, KEY_LOG_LEVEL);
    if (v && log_level_parse(v) >= 0) log_set_level((enum log_level)log_level_parse(v));
}

void namesrv_config_apply(namesrv_config *cfg, const props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const cfg_item *it = find_item(p->keys[i]);
        if (it) set_item(cfg, it, p->vals[i]);
    }
}

int namesrv_config_load_file(namesrv_config *cfg, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RMQ_ERR;
    }
    props p = {0};
    props_parse(&p, text, len);
    free(text);
    namesrv_config_apply(cfg, &p);
    for (size_t i = 0; i < p.n; i++) {
        if (find_item(p.keys[i])) continue;
        if (rmq_tls_config_set(&cfg->tls, p.keys[i], p.vals[i]) == RMQ_OK) continue;
        props_set(&cfg->extra, p.keys[i], p.vals[i]);
    }
    props_free(&p);
    free(cfg->config_store_path);
    cfg->config_store_path = xstrdup(path);
    read_our_keys(cfg);
    return RMQ_OK;
}

char *namesrv_config_format(const namesrv_config *cfg)
{
    size_t cap = 1024, len = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < N_ITEMS + cfg->extra.n; i++) {
        const char *key;
        char num[16];
        const char *val;
        if (i < N_ITEMS) {
            const cfg_item *it = &items[i];
            const void *field = (const char *)cfg + it->offset;
            key = it->name;
            switch (it->type) {
            case CFG_STR: val = *(char *const *)field; break;
            case CFG_INT: snprintf(num, sizeof num, "%d", *(const int32_t *)field); val = num; break;
            default: val = *(const bool *)field ? "true" : "false"; break;
            }
            if (!val) continue;   /* object2Properties skips nulls */
        } else {
            key = cfg->extra.keys[i - N_ITEMS];
            val = cfg->extra.vals[i - N_ITEMS];
        }
        size_t need = strlen(key) + strlen(val) + 2;
        while (len + need + 1 > cap) out = xrealloc(out, cap *= 2);
        len += (size_t)sprintf(out + len, "%s=%s\n", key, val);
    }
    return out;
}

/* DefaultRequestProcessor's black list: fixed names plus configBlackList's. */
static bool black_listed(const namesrv_config *cfg, const char *key)
{
    static const char *const fixed[] = {"configBlackList", "configStorePath", "kvConfigPath", "rocketmqHome"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(key, fixed[i]) == 0) return true;
    const char *list = cfg->config_black_list ? cfg->config_black_list : "";
    size_t klen = strlen(key);
    for (const char *s = list;; ) {
        const char *semi = strchr(s, ';');
        size_t n = semi ? (size_t)(semi - s) : strlen(s);
        if (n == klen && strncmp(s, key, n) == 0) return true;
        if (!semi) return false;
        s = semi + 1;
    }
}

int namesrv_config_update(namesrv_config *cfg, const props *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (black_listed(cfg, p->keys[i])) return RMQ_ERR;
    for (size_t i = 0; i < p->n; i++) {
        const cfg_item *it = find_item(p->keys[i]);
        if (it) set_item(cfg, it, p->vals[i]);
        else if (props_get(&cfg->extra, p->keys[i]) || strcmp(p->keys[i], KEY_LOG_LEVEL) == 0)
            props_set(&cfg->extra, p->keys[i], p->vals[i]);
    }
    read_our_keys(cfg);
    char *text = namesrv_config_format(cfg);
    if (write_file_atomic(cfg->config_store_path, text, strlen(text)) != RMQ_OK)
        log_error(LOG_MOD, "persist string2File error, %s: %s", cfg->config_store_path, strerror(errno));
    free(text);
    return RMQ_OK;
}
