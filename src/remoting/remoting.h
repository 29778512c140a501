/*
 * remoting: Apache RocketMQ's "remoting" protocol — frame codec, command model,
 * a libevent server, an async client, and a blocking client for tools.
 *
 * Frame: [int32 len = 4 + hdrLen + bodyLen][int32 (serializeType << 24) | hdrLen]
 *        [header: JSON or ROCKETMQ binary][body]        (all big-endian)
 *
 * Threads: a server/client lives on one event_base and must be used from that
 * base's thread only; other threads hand work to it with rmq_async_post().
 * The codec knows nothing of topics: processors interpret codes and fields.
 */
#ifndef RMQ_REMOTING_H
#define RMQ_REMOTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;

/* ---- command model ---------------------------------------------------- */

enum rmq_serialize { RMQ_SER_JSON = 0, RMQ_SER_ROCKETMQ = 1 };

#define RMQ_FLAG_RESPONSE 0x1 /* RemotingCommand RPC_TYPE bit */
#define RMQ_FLAG_ONEWAY   0x2 /* RPC_ONEWAY bit */

/* What we claim in every command we write: Java, MQVersion V4_9_8. */
#define RMQ_LANGUAGE_JAVA 0
#define RMQ_OUR_VERSION   409

#define RMQ_DEFAULT_MAX_FRAME (16 * 1024 * 1024)

typedef struct rmq_ext_field {
    char *key;
    char *val;
} rmq_ext_field;


/* One request or response. Every pointer inside is owned by the command. */
typedef struct rmq_cmd {
    int32_t code;
    int language;          /* LanguageCode byte; -1 when the sender's is unknown to us */
    int32_t version;
    int32_t opaque;
    int32_t flag;
    char *remark;          /* NULL = absent */
    rmq_ext_field *ext;    /* extFields in insertion order */
    int n_ext, cap_ext;
    uint64_t ext_letters;  /* bit (key[0] & 63) of every key added: a lookup of a key whose
                            * bit is clear (a new key while decoding) ends at once */
    /* Where the ext keys and values live: a few chunks freed with the command, so a
     * header costs one or two allocations instead of two per field. A value replaced
     * or removed stays there until cmd_free (pointers from cmd_ext_get stay valid). */
    struct str_chunk *strs;
    int serialize;         /* enum rmq_serialize: how it came, or how it will go */
    uint8_t *body;
    size_t body_len;
    /* A received command keeps its frame: the JSON header is unescaped in place there
     * (ext keys and values point into it) and the body is the frame's tail, so decoding
     * copies nothing (body_borrowed: body is not a malloc block of its own). */
    uint8_t *frame;
    bool body_borrowed;
    /* Zero-copy body (e.g. references into mapped commitlog segments); when set it is
     * sent after `body` and moved out by cmd_encode_into. */
    struct evbuffer *body_buf;
    /* For the rpc latency metric: a request's arrival (mono_ms), and in a response
     * built by cmd_new_response the request's code and arrival; 0 otherwise. */
    int32_t req_code;
    int64_t req_mono_ms;
    /* A request a processor holds to answer later: counted as waiting at its processor
     * (rocketmq_processor_watermark) until freed. */
    bool held;
} rmq_cmd;

rmq_cmd *cmd_new_request(int32_t code);
/* A response to `req`: same opaque and serialize type, response flag set. */
rmq_cmd *cmd_new_response(const rmq_cmd *req, int32_t code, const char *remark);
/* The same with a printf-formatted remark (error answers). */
rmq_cmd *cmd_new_responsef(const rmq_cmd *req, int32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cmd_free(rmq_cmd *c);

static inline bool cmd_is_response(const rmq_cmd *c) { return c->flag & RMQ_FLAG_RESPONSE; }
static inline bool cmd_is_oneway(const rmq_cmd *c) { return c->flag & RMQ_FLAG_ONEWAY; }

void cmd_set_remark(rmq_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_set_code(rmq_cmd *c, int32_t code, const char *remark);
/* Body setters: copy, or take a malloc'd buffer. */
void cmd_set_body(rmq_cmd *c, const void *data, size_t len);
void cmd_take_body(rmq_cmd *c, void *data, size_t len);
/* Append to the zero-copy body chain (created on demand). */
struct evbuffer *cmd_body_buf(rmq_cmd *c);
size_t cmd_total_body_len(const rmq_cmd *c);

const char *cmd_ext_get(const rmq_cmd *c, const char *key);
void cmd_ext_set(rmq_cmd *c, const char *key, const char *val);
void cmd_ext_set_int(rmq_cmd *c, const char *key, int64_t val);
void cmd_ext_set_bool(rmq_cmd *c, const char *key, bool val);
void cmd_ext_remove(rmq_cmd *c, const char *key);
/* cmd_ext_set without copies: key and val must live as long as the command (string
 * literals, the command's own frame or chunks). */
void cmd_ext_put(rmq_cmd *c, const char *key, const char *val);
/* Marks extFields present even when empty (Apache sends {} for header classes). */
void cmd_ext_declare(rmq_cmd *c);

/* Typed ext-field readers: missing and malformed are different answers. */
enum { EXT_OK = 0, EXT_MISSING = -1, EXT_MALFORMED = -2 };
int cmd_ext_int32(const rmq_cmd *c, const char *key, int32_t *out);
int cmd_ext_int64(const rmq_cmd *c, const char *key, int64_t *out);
int cmd_ext_bool(const rmq_cmd *c, const char *key, bool *out);

/*
 * Declarative header decoding, as Java's decodeCommandCustomHeader does for a
 * CommandCustomHeader class: one table per header, one function for all.
 * Strings are borrowed from the command. Absent optional fields keep the value
 * the caller put in `out` beforehand (and `present` bits say which came).
 */
enum hdr_type { HDR_STR, HDR_I32, HDR_I64, HDR_BOOL };
typedef struct hdr_field {
    const char *name;
    enum hdr_type type;
    bool required;     /* @CFNotNull */
    size_t offset;     /* offsetof(your struct, member) */
} hdr_field;
/*
 * Returns RMQ_OK, or RMQ_ERR with `err` holding the remark Apache would give
 * ("the custom field <x> is null" / "the custom field <x> is malformed: <v>").
 */
int cmd_decode_header(const rmq_cmd *c, const hdr_field *fields, size_t n_fields,
                      void *out, char *err, size_t errlen);
/* The same with the fields' values already found (vals[i] for fields[i], NULL if absent):
 * for a hot header whose keys its processor finds in one pass over the ext fields. */
int cmd_decode_header_values(const char *const *vals, const hdr_field *fields, size_t n_fields, void *out,
                             char *err, size_t errlen);

const char *language_name(int code);   /* "JAVA", ... or "OTHER" */
int language_from_name(const char *name);  /* -1 if unknown */

/* ---- codec -------------------------------------------------------------- */

/*
 * Decode one frame without its 4-byte length prefix (`len` = the prefix value).
 * Returns RMQ_OK and a new command, or RMQ_ERR with a reason; never reads past len.
 */
int cmd_decode(const uint8_t *frame, size_t len, rmq_cmd **out, const char **err);
/* The same on a malloc'd frame the command takes (freed here on error): parsed in place. */
int cmd_decode_owned(uint8_t *frame, size_t len, rmq_cmd **out, const char **err);
/* Append the whole frame (with length prefix) to `out`; moves c->body_buf out. */
void cmd_encode_into(rmq_cmd *c, struct evbuffer *out);
/* The encoded header alone (for tests and tools); caller frees. */
uint8_t *cmd_encode_header(const rmq_cmd *c, size_t *len);

/* ---- connections, server, client ---------------------------------------- */

typedef struct rmq_conn rmq_conn;
typedef struct rmq_server rmq_server;
typedef struct rmq_client rmq_client;

/*
 * A processor handles one request. Return RMQ_OK with *resp set (or NULL for
 * no answer; oneway requests never get one), or RMQ_AGAIN to answer later: the
 * processor then owns `req` and must eventually call rmq_conn_reply() (it may
 * rmq_conn_hold() the connection meanwhile). On RMQ_OK `req` stays owned by
 * the caller and is freed after the call.
 */
typedef int (*rmq_processor_fn)(rmq_conn *conn, rmq_cmd *req, rmq_cmd **resp, void *arg);

/* A response to our own request, or NULL with `err` on timeout / close. Callee owns resp. */
typedef void (*rmq_response_fn)(rmq_cmd *resp, const char *err, void *arg);

/*
 * TLS on the remoting port, as Apache's NettyRemotingServer does it: the first byte
 * of a new connection decides — 0x16 (a TLS handshake record) is wrapped in TLS,
 * anything else is plain remoting — and the mode says which of the two is refused.
 */
enum rmq_tls_mode {
    RMQ_TLS_DISABLED,     /* TLS handshakes are closed */
    RMQ_TLS_PERMISSIVE,   /* both (Apache's default) */
    RMQ_TLS_ENFORCING,    /* plain connections are closed */
};
/* TlsMode.parse: "disabled" / "permissive" / "enforcing" exactly; anything else permissive. */
enum rmq_tls_mode rmq_tls_mode_parse(const char *name);
const char *rmq_tls_mode_name(enum rmq_tls_mode mode);

/*
 * TlsSystemConfig, both sides. Apache reads these as JVM system properties (-D in
 * JAVA_OPT), then lets the file named by tls.config.file (default
 * /etc/rocketmq/tls.properties) override every one but tls.server.mode and tls.enable.
 * Ours: the -c file (an extension: Apache's broker.conf has no tls keys), then -Dtls.*
 * words of $JAVA_OPT, then that file (rmq_tls_config_load_system). Strings are owned.
 */
typedef struct rmq_tls_config {
    enum rmq_tls_mode mode;     /* tls.server.mode */
    int enable;                 /* tls.enable: -1 unset (outgoing TLS iff mode is enforcing) */
    bool test_mode;             /* tls.test.mode.enable, default true (see tls.c) */
    char *config_file;          /* tls.config.file */
    char *cert_path;            /* tls.server.certPath: PEM certificate chain */
    char *key_path;             /* tls.server.keyPath: PEM private key */
    char *key_password;         /* tls.server.keyPassword: NULL = key not encrypted */
    char *need_client_auth;     /* tls.server.need.client.auth: none / optional / require */
    bool auth_client;           /* tls.server.authClient: verify client certificates */
    char *trust_cert_path;      /* tls.server.trustCertPath: CAs for that (default: system's) */
    char *client_cert_path;     /* tls.client.certPath: what our outgoing connections present */
    char *client_key_path;      /* tls.client.keyPath */
    char *client_key_password;  /* tls.client.keyPassword */
    bool client_auth_server;    /* tls.client.authServer: verify the server's certificate */
    char *client_trust_cert_path; /* tls.client.trustCertPath: CAs for that */
} rmq_tls_config;

void rmq_tls_config_defaults(rmq_tls_config *t);
/* Sets one of Apache's dotted tls.* keys: RMQ_OK, or RMQ_AGAIN if `key` is not one. */
int rmq_tls_config_set(rmq_tls_config *t, const char *key, const char *value);
/* The system-property layer: -Dtls.*=value words of JAVA_OPT (may be NULL), then the
 * tls.config.file if it exists (every key but tls.server.mode / tls.enable, as
 * TlsHelper.extractTlsConfigFromFile). Logs what the file set. */
void rmq_tls_config_load_system(rmq_tls_config *t, const char *java_opt);
/* Whether outgoing remoting connections (registration, slave sync) use TLS: tls.enable,
 * else tls.server.mode == enforcing (BrokerStartup / NettyClientConfig). */
bool rmq_tls_client_enabled(const rmq_tls_config *t);
void rmq_tls_config_free(rmq_tls_config *t);

typedef struct rmq_server_config {
    const char *host;          /* listen address, default "0.0.0.0" */
    int port;
    size_t max_frame;          /* default 16 MiB */
    int idle_seconds;          /* close connections idle that long; default 120 */
    size_t write_high_water;   /* stop reading a connection whose output passes this */
    const char *name;          /* for log lines */
    /* Borrowed for rmq_server_new only. TLS is served when mode is not DISABLED and
     * cert_path and key_path are set; without them a TLS handshake is closed. */
    rmq_tls_config tls;
} rmq_server_config;

void rmq_server_config_defaults(rmq_server_config *cfg);
/* Binds and listens (and loads the TLS certificate and key); NULL with *err (static
 * text or errno string, details of a TLS failure in the log) on failure. */
rmq_server *rmq_server_new(struct event_base *base, const rmq_server_config *cfg, const char **err);
void rmq_server_free(rmq_server *s);       /* closes every connection */
int rmq_server_port(const rmq_server *s);  /* the bound port (useful with port 0) */
size_t rmq_server_connections(const rmq_server *s);  /* open connections now */
/* The requests read into the server's connections' input buffers and not yet dispatched
 * (a connection paused by backpressure keeps them there): FN gets each one's code. On the
 * loop thread. */
void rmq_server_buffered_requests(rmq_server *s, void (*fn)(int32_t code, void *arg), void *arg);
void rmq_server_register(rmq_server *s, int32_t code, rmq_processor_fn fn, void *arg);
/* Called when any connection of the server closes (before it is freed). */
void rmq_server_on_close(rmq_server *s, void (*fn)(rmq_conn *conn, void *arg), void *arg);
/* Runs before every processor; a non-NULL return is the answer instead (ACL). */
void rmq_server_set_hook(rmq_server *s, rmq_cmd *(*hook)(rmq_conn *, rmq_cmd *, void *), void *arg);

/* Connections are reference counted; a held, closed connection drops writes. */
void rmq_conn_hold(rmq_conn *c);
void rmq_conn_release(rmq_conn *c);
bool rmq_conn_closed(const rmq_conn *c);
uint64_t rmq_conn_id(const rmq_conn *c);
const char *rmq_conn_remote(const rmq_conn *c);  /* "ip:port" */
const char *rmq_conn_local(const rmq_conn *c);   /* "ip:port" */
void rmq_conn_close(rmq_conn *c);
/* Answer a deferred request (takes resp; a closed connection just frees it). */
void rmq_conn_reply(rmq_conn *c, rmq_cmd *resp);
/* rmq_conn_reply of an answer built apart from req (not by cmd_new_response): stamps
 * req's opaque, serialize type and the response flag first. Takes resp, not req. */
void rmq_conn_answer(rmq_conn *c, const rmq_cmd *req, rmq_cmd *resp);
/* Our own requests over this connection (broker -> client calls). Take req. */
void rmq_conn_request(rmq_conn *c, rmq_cmd *req, int timeout_ms, rmq_response_fn cb, void *arg);
void rmq_conn_oneway(rmq_conn *c, rmq_cmd *req);
size_t rmq_conn_output_len(const rmq_conn *c);

/*
 * Local invocation (local.c), for protocol front ends living in the server's process
 * (the gRPC endpoint), as Apache's proxy runs the broker's processors in local mode:
 * a connection of server S without a socket. rmq_local_invoke hands it a request as
 * if it had arrived (hook, processor, metrics); everything the server writes to the
 * connection — answers, at once or deferred (held pulls and POPs), and its own
 * requests to the client (CHECK_TRANSACTION_STATE) — goes to SINK, which owns the
 * command. rmq_conn_close ends it like a closed socket (the broker forgets the
 * clients registered over it); the server closes it when it is freed.
 */
typedef void (*rmq_local_sink_fn)(rmq_conn *conn, rmq_cmd *cmd, void *arg);
rmq_conn *rmq_local_conn_new(rmq_server *s, const char *remote, rmq_local_sink_fn sink, void *arg);
/*
 * Requests over local connection C skip the server's hook (the broker's ACL): its
 * front end checks access itself, per call and in its own protocol's terms, as
 * Apache's proxy does before it calls the broker's processors in local mode.
 */
void rmq_local_conn_trust(rmq_conn *c);
/* Takes req; the caller sets its opaque to match the answer. */
void rmq_local_invoke(rmq_conn *c, rmq_cmd *req);

/* Client: connections reused per "host:port"; requests time out; all async. */
rmq_client *rmq_client_new(struct event_base *base);
void rmq_client_free(rmq_client *cl);
/* New connections of CL speak TLS as TlsHelper.buildSslContext(forClient=true) builds it
 * from T (certificate, trust). RMQ_ERR with *err when T's files cannot be used. */
int rmq_client_use_tls(rmq_client *cl, const rmq_tls_config *t, const char **err);
/* Requests the peer sends us over client connections (e.g. NOTIFY_CONSUMER_IDS_CHANGED). */
void rmq_client_register(rmq_client *cl, int32_t code, rmq_processor_fn fn, void *arg);
void rmq_client_request(rmq_client *cl, const char *addr, rmq_cmd *req, int timeout_ms,
                        rmq_response_fn cb, void *arg);
void rmq_client_oneway(rmq_client *cl, const char *addr, rmq_cmd *req);
/* Drop a cached connection (e.g. after a timeout). */
void rmq_client_close_addr(rmq_client *cl, const char *addr);

/*
 * Blocking request over a fresh socket, for command-line tools and tests.
 * Returns the response (caller frees) or NULL with a reason in err.
 * The request is not consumed; its opaque is set here.
 */
rmq_cmd *rmq_invoke_sync(const char *addr, rmq_cmd *req, int timeout_ms, char *err, size_t errlen);
/* The same over TLS set up as TLS's client side (rmq_client_use_tls); plain when TLS is NULL. */
rmq_cmd *rmq_invoke_sync_tls(const char *addr, rmq_cmd *req, int timeout_ms, const rmq_tls_config *tls, char *err,
                             size_t errlen);
/* The same over an already connected socket fd (opaque matched, other frames skipped). */
rmq_cmd *rmq_invoke_fd(int fd, rmq_cmd *req, int timeout_ms, char *err, size_t errlen);
int rmq_connect_blocking(const char *addr, int timeout_ms, char *err, size_t errlen);
/* Read one frame from a blocking socket (for tools that wait for server pushes). */
rmq_cmd *rmq_read_frame_fd(int fd, int timeout_ms, char *err, size_t errlen);
int rmq_write_cmd_fd(int fd, rmq_cmd *c);

/* ---- cross-thread hand-off -------------------------------------------------- */

/* Run fn(arg) on base's thread, soon. Safe from any thread. */
typedef struct rmq_async rmq_async;
rmq_async *rmq_async_new(struct event_base *base);
void rmq_async_free(rmq_async *a);
void rmq_async_post(rmq_async *a, void (*fn)(void *), void *arg);

/* Must be called once before threads share event bases. */
void rmq_remoting_init(void);

#endif
