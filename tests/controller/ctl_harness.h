/*
 * Test helper: an mqnamesrv running the embedded controller
 * (enableControllerInNamesrv=true) on a free port of its own, in a fresh /tmp
 * directory; and the controller's GET_REPLICA_INFO answer.
 */
#ifndef TEST_CTL_HARNESS_H
#define TEST_CTL_HARNESS_H

#include "../testproc.h"
#include "controller/controller.h"

typedef struct ctl_namesrv {
    test_proc proc;
    char *dir;
    char ctl_addr[32];     /* the controller's ip:port */
} ctl_namesrv;

/* 0 once ADDR accepts connections, -1 after 10 s: the name server's own port opens
 * first, the controller's after it made its TLS test certificate (seconds on a busy
 * machine). */
static inline int ctl_wait_listening(const char *addr)
{
    char err[128];
    for (int64_t deadline = mono_ms() + 10000;;) {
        int fd = rmq_connect_blocking(addr, 500, err, sizeof err);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (mono_ms() > deadline) return -1;
        usleep(20000);
    }
}

/*
 * A controller of group1 listening on 127.0.0.1:CTL_PORT as SELF_ID of PEERS
 * (controllerDLegerPeers; NULL: this one alone as n0). EXTRA: more
 * namesrv.properties lines. Returns 0, or -1 when it did not come up.
 */
static inline int ctl_namesrv_start_peer(ctl_namesrv *n, const char *name, int ctl_port, const char *peers,
                                         const char *self_id, const char *extra)
{
    rmq_remoting_init();
    n->dir = test_tmpdir(name);
    int port;
    while ((port = test_free_port()) == ctl_port) {
    }
    snprintf(n->ctl_addr, sizeof n->ctl_addr, "127.0.0.1:%d", ctl_port);
    char *alone = str_printf("n0-%s", n->ctl_addr);
    char *conf = str_printf("%s/namesrv.properties", n->dir);
    char *text = str_printf("listenAddress=127.0.0.1\nlistenPort=%d\nkvConfigPath=%s/kvConfig.json\n"
                            "enableControllerInNamesrv=true\ncontrollerDLegerGroup=group1\n"
                            "controllerDLegerPeers=%s\ncontrollerDLegerSelfId=%s\n%s",
                            port, n->dir, peers ? peers : alone, self_id ? self_id : "n0", extra ? extra : "");
    char *out = str_printf("%s/stdout", n->dir), *home = str_printf("HOME=%s", n->dir);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    char *env[] = {home, NULL};
    int rc = write_file_atomic(conf, text, strlen(text)) ? -1
             : test_proc_start_env(&n->proc, "mqnamesrv", argv, env, port, out);
    int up = rc ? -1 : ctl_wait_listening(n->ctl_addr);
    free(alone), free(conf), free(text), free(out), free(home);
    return rc || up ? -1 : 0;
}

/* The controller alone (n0) on a free port of its own. */
static inline int ctl_namesrv_start(ctl_namesrv *n, const char *name, const char *extra)
{
    return ctl_namesrv_start_peer(n, name, test_free_port(), NULL, NULL, extra);
}

/* The same program on the same files and ports again (after it was stopped or killed). Returns 0 or -1. */
static inline int ctl_namesrv_start_again(ctl_namesrv *n)
{
    char *conf = str_printf("%s/namesrv.properties", n->dir);
    char *out = str_printf("%s/stdout", n->dir), *home = str_printf("HOME=%s", n->dir);
    char *argv[] = {"mqnamesrv", "-c", conf, NULL};
    char *env[] = {home, NULL};
    int rc = test_proc_start_env(&n->proc, "mqnamesrv", argv, env, n->proc.port, out);
    int up = rc ? -1 : ctl_wait_listening(n->ctl_addr);
    free(conf), free(out), free(home);
    return rc || up ? -1 : 0;
}

/* SIGTERM, then the same program on the same files and ports again. Returns 0 or -1. */
static inline int ctl_namesrv_restart(ctl_namesrv *n)
{
    if (test_proc_stop(&n->proc, SIGTERM)) return -1;
    return ctl_namesrv_start_again(n);
}

static inline int ctl_namesrv_stop(ctl_namesrv *n)
{
    int rc = test_proc_stop(&n->proc, SIGTERM);
    test_rmdir(n->dir);
    free(n->dir);
    return rc;
}

/* GET_REPLICA_INFO of BROKER_NAME: the master id (-1 none) and the SyncStateSet size; -2 on no answer. */
static inline int64_t ctl_master_of(const ctl_namesrv *n, const char *broker_name, int *set_size)
{
    rmq_cmd *req = cmd_new_request(CTL_CODE_GET_REPLICA_INFO);
    cmd_ext_set(req, "brokerName", broker_name);
    char err[128];
    rmq_cmd *resp = rmq_invoke_sync(n->ctl_addr, req, 3000, err, sizeof err);
    cmd_free(req);
    if (!resp) return -2;
    int64_t id = -1;
    cmd_ext_int64(resp, "masterBrokerId", &id);
    if (set_size) {
        int64_t set[CTL_MAX_REPLICAS];
        int32_t epoch;
        *set_size = 0;
        if (resp->body_len)
            ctl_parse_sync_state_set((const char *)resp->body, resp->body_len, set, set_size, &epoch);
    }
    cmd_free(resp);
    return id;
}

/* GET_METADATA_INFO's isLeader; false without an answer. */
static inline bool ctl_is_leader(const ctl_namesrv *n)
{
    rmq_cmd *req = cmd_new_request(CTL_CODE_GET_METADATA_INFO);
    char err[128];
    rmq_cmd *resp = rmq_invoke_sync(n->ctl_addr, req, 2000, err, sizeof err);
    cmd_free(req);
    bool leader = false;
    if (resp) cmd_ext_bool(resp, "isLeader", &leader);
    cmd_free(resp);
    return leader;
}

/* Which of N controllers leads, within TIMEOUT_MS (-1: none did). Nodes may be NULL (down). */
static inline int ctl_wait_leader(ctl_namesrv *const *nodes, int n, int64_t timeout_ms)
{
    for (int64_t end = mono_ms() + timeout_ms; mono_ms() < end; usleep(50 * 1000))
        for (int i = 0; i < n; i++)
            if (nodes[i] && ctl_is_leader(nodes[i])) return i;
    return -1;
}

#endif
