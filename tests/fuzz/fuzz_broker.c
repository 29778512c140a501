/*
 * Stateful: sequences of client requests against one broker that lives for
 * the whole run, so processors (send, pull, offsets, heartbeats, locks,
 * transactions, queries, admin codes), the store and the metadata tables are
 * fuzzed with the state earlier inputs left behind.
 *
 * Under libFuzzer the broker is broker_run() itself (scripts/fuzz.sh links
 * mqbroker's sources but its main) on its own thread, so its code is covered
 * and its crashes are the fuzzer's; its store is in a fresh directory under
 * $TMPDIR and it has no name server. Built with FUZZ_BROKER_PROCESS (the
 * `make check` replay) the same requests go to the mqbroker program of the
 * build, which must then stop cleanly (exit 0: no sanitizer report).
 *
 * The harness is the broker's client over one loopback connection, as
 * processors only see requests through a server connection. Input: remoting
 * frames back to back ([len][frame]..., the corpus holds request runs of real
 * client connections). Every frame that decodes is sent re-encoded, so a
 * mutated field reaches a processor instead of closing the connection; then a
 * request with an unknown code, whose answer says every request before it was
 * dispatched. An answer that does not decode, or no answer within 8 s, is a
 * finding.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#include "../testproc.h"
#include "broker/broker.h"
#include "fuzz.h"

#define MAX_REQUESTS 32
#define SENTINEL_CODE 30999  /* no processor: REQUEST_CODE_NOT_SUPPORTED comes straight back */
#define ANSWER_TIMEOUT_MS 8000

static struct {
    char *dir;
    char addr[32];
    int fd;
    int32_t sentinel;
#ifdef FUZZ_BROKER_PROCESS
    test_proc proc;
#else
    pthread_t thread;
    broker_config cfg;
#endif
} fx = {.fd = -1};

/* broker.conf of the run (besides storePathRootDir and listenPort). */
static const char *const settings[][2] = {
    {"listenAddress", "127.0.0.1"},
    {"brokerIP1", "127.0.0.1"},
    {"brokerName", "broker-fuzz"},
    /* Small files: a run appends a few hundred MiB at most. */
    {"mappedFileSizeCommitLog", "4194304"},
    {"mappedFileSizeConsumeQueue", "60000"},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static void show_broker_log(void);

static void connect_broker(void)
{
    char err[256];
    for (int tries = 0; tries < 100 && fx.fd < 0; tries++) {
        fx.fd = rmq_connect_blocking(fx.addr, 1000, err, sizeof err);
        if (fx.fd < 0) usleep(100000);
    }
    if (fx.fd < 0) {
        fprintf(stderr, "fuzz_broker: cannot reach the broker at %s: %s\n", fx.addr, err);
        show_broker_log();
        abort();
    }
}

#ifdef FUZZ_BROKER_PROCESS
#define MIN_LIFE_MS 2500
static int64_t started_ms;

/* A finding aborts the harness: the broker it started goes with it. */
static void kill_broker_on_abort(int sig)
{
    kill(fx.proc.pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void start_broker(const char *root, int port)
{
    char *argv[N_SETTINGS + 4], *log = str_printf("%s/broker.log", fx.dir);
    int n = 0;
    argv[n++] = "mqbroker";
    argv[n++] = str_printf("--storePathRootDir=%s", root);
    argv[n++] = str_printf("--listenPort=%d", port);
    for (size_t i = 0; i < N_SETTINGS; i++) argv[n++] = str_printf("--%s=%s", settings[i][0], settings[i][1]);
    argv[n] = NULL;
    started_ms = mono_ms();
    if (test_proc_start(&fx.proc, "mqbroker", argv, port, log)) {
        fprintf(stderr, "fuzz_broker: mqbroker did not start (log %s)\n", log);
        abort();
    }
    signal(SIGABRT, kill_broker_on_abort);
    for (int i = 1; i < n; i++) free(argv[i]);
    free(log);
}

/*
 * SIGTERM: mqbroker must exit 0, which a sanitizer report in it would prevent.
 * It lives for at least MIN_LIFE_MS (2.5 s), so its periodic work (revive, schedule,
 * transaction checks: every second) has run over the state the inputs left.
 */
static void stop_broker(void)
{
    if (fx.fd >= 0) close(fx.fd);
    int64_t left = started_ms + MIN_LIFE_MS - mono_ms();
    if (left > 0) usleep((useconds_t)left * 1000);
    int rc = test_proc_stop(&fx.proc, SIGTERM);
    if (rc != 0) {
        fprintf(stderr, "fuzz_broker: mqbroker exited with %d\n", rc);
        show_broker_log();
        _exit(1);
    }
    test_rmdir(fx.dir);
}

/* Where a sanitizer report of the broker process lands. */
static void show_broker_log(void)
{
    fprintf(stderr, "fuzz_broker: the end of mqbroker's log:\n");
    char *cmd = str_printf("tail -40 '%s/broker.log' >&2", fx.dir);
    if (system(cmd) != 0) fprintf(stderr, "(no log)\n");
    free(cmd);
}
#else
static void *run_broker(void *arg)
{
    broker_run(&fx.cfg);
    return NULL;
}

static void set(const char *key, const char *value)
{
    char err[256];
    if (broker_config_set(&fx.cfg, key, value, err, sizeof err) != RMQ_OK) {
        fprintf(stderr, "fuzz_broker: %s=%s: %s\n", key, value, err);
        abort();
    }
}

static void start_broker(const char *root, int port)
{
    char text[32];
    broker_config_defaults(&fx.cfg);
    set("storePathRootDir", root);
    snprintf(text, sizeof text, "%d", port);
    set("listenPort", text);
    for (size_t i = 0; i < N_SETTINGS; i++) set(settings[i][0], settings[i][1]);
    if (pthread_create(&fx.thread, NULL, run_broker, NULL)) abort();
}

/* A crash of the in-process broker is the fuzzer's own report. */
static void show_broker_log(void) {}

/* SIGTERM stops broker_run's loop: it closes the store, and the directory can go. */
static void stop_broker(void)
{
    if (fx.fd >= 0) close(fx.fd);
    kill(getpid(), SIGTERM);
    pthread_join(fx.thread, NULL);
    test_rmdir(fx.dir);
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    signal(SIGPIPE, SIG_IGN);
    rmq_remoting_init();
    const char *tmp = getenv("TMPDIR");
    fx.dir = str_printf("%s/fuzz-broker.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir)) abort();
    char *root = str_printf("%s/store", fx.dir);
    int port = test_free_broker_port();
    snprintf(fx.addr, sizeof fx.addr, "127.0.0.1:%d", port);
    start_broker(root, port);
    free(root);
    connect_broker();
    atexit(stop_broker);
    return 0;
}

/*
 * UPDATE_BROKER_CONFIG could point the broker at other paths, addresses or ports:
 * files outside the run's directory, connections off this machine. Those keys
 * are not fuzzed; every other one is.
 */
static bool config_update_stays_inside(const rmq_cmd *c)
{
    static const char *const words[] = {"path", "dir", "addr", "ip", "port", "listen", "namesrv", "master", "tls"};
    if (c->code != 25 || !c->body_len) return true;
    char *body = xstrndup((const char *)c->body, c->body_len);
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof words / sizeof words[0]; i++) ok = !strcasestr(body, words[i]);
    free(body);
    return ok;
}

static void reconnect(void)
{
    close(fx.fd);
    fx.fd = -1;
    connect_broker();
}

/* Reads answers until the sentinel's; false if the broker closed the connection. */
static bool await_sentinel(void)
{
    int64_t deadline = mono_ms() + ANSWER_TIMEOUT_MS;
    for (;;) {
        struct pollfd p = {fx.fd, POLLIN, 0};
        int left = (int)(deadline - mono_ms());
        if (left <= 0 || poll(&p, 1, left) == 0) {
            fprintf(stderr, "fuzz_broker: no answer within %d ms\n", ANSWER_TIMEOUT_MS);
            abort();
        }
        char err[256];
        rmq_cmd *c = rmq_read_frame_fd(fx.fd, ANSWER_TIMEOUT_MS, err, sizeof err);
        if (!c) {
            /* A frame the broker wrote that does not decode is a finding; a close is not. */
            FUZZ_ASSERT(strncmp(err, "undecodable", 11) != 0 && strncmp(err, "bad frame", 9) != 0);
            return false;
        }
        bool done = cmd_is_response(c) && c->opaque == fx.sentinel;
        if (done) FUZZ_ASSERT(c->code == 3);
        cmd_free(c);
        if (done) return true;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    int sent = 0;
    while (size - pos >= 4 && sent < MAX_REQUESTS) {
        uint32_t len = get_be32(data + pos);
        if (len < 4 || len > size - pos - 4) break;
        rmq_cmd *c;
        const char *err;
        int rc = cmd_decode(data + pos + 4, len, &c, &err);
        pos += 4 + (size_t)len;
        if (rc != RMQ_OK) continue;
        if (config_update_stays_inside(c)) {
            c->opaque = sent++;
            if (rmq_write_cmd_fd(fx.fd, c)) reconnect();
        }
        cmd_free(c);
    }
    rmq_cmd *s = cmd_new_request(SENTINEL_CODE);
    static uint32_t seq;
    s->opaque = fx.sentinel = (int32_t)(0x40000000u | (++seq & 0x3FFFFFFFu));  /* never a request's */
    if (rmq_write_cmd_fd(fx.fd, s) || !await_sentinel()) reconnect();
    cmd_free(s);
    return 0;
}
