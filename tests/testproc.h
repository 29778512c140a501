/*
 * Test helper: run one of our server programs on 127.0.0.1, by PID, and stop it.
 * Every wait has a deadline. Programs come from $RMQ_BUILDDIR (set by make check).
 */
#ifndef TEST_PROC_H
#define TEST_PROC_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "remoting/remoting.h"

typedef struct test_proc {
    pid_t pid;
    int port;
    char addr[32];
} test_proc;

/* A port free on 127.0.0.1 now (the kernel's choice). */
static inline int test_free_port(void)
{
    for (int tries = 0; tries < 100; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || getsockname(fd, (struct sockaddr *)&sa, &len))
            abort();
        close(fd);
        int p = ntohs(sa.sin_port);
        if (p > 1024 && p < 65000) return p;
    }
    abort();
}

static inline bool test_port_is_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* A port for a broker that also listens on p-2 (fast port) and p+1 (HA): all three free now. */
static inline int test_free_broker_port(void)
{
    for (int tries = 0; tries < 100; tries++) {
        int p = test_free_port();
        if (p > 1026 && test_port_is_free(p - 2) && test_port_is_free(p + 1)) return p;
    }
    abort();
}

/* $RMQ_BUILDDIR/PROG (caller frees). */
static inline char *test_program(const char *prog)
{
    const char *bd = getenv("RMQ_BUILDDIR");
    return str_printf("%s/%s", bd ? bd : ".", prog);
}

/* A fresh directory under /tmp (caller frees). */
static inline char *test_tmpdir(const char *name)
{
    char *d = str_printf("/tmp/%s.XXXXXX", name);
    if (!mkdtemp(d)) abort();
    return d;
}

static inline void test_rmdir(const char *dir)
{
    char *cmd = str_printf("rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
}

/*
 * Starts $RMQ_BUILDDIR/PROG with argv (NULL-terminated, argv[0] included) and the
 * "NAME=value" strings of ENV (NULL-terminated, may be NULL) added to this process's
 * environment, output to LOG, and waits up to 10 s until PORT accepts connections.
 * Returns 0 or -1.
 */
static inline int test_proc_start_env(test_proc *p, const char *prog, char *const argv[], char *const env[], int port,
                                      const char *log)
{
    char *path = test_program(prog);
    p->port = port;
    snprintf(p->addr, sizeof p->addr, "127.0.0.1:%d", port);
    p->pid = fork();
    if (p->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        /* Servers log to stderr (this log) unless a test's ENV says otherwise. */
        setenv("RMQ_LOG_STDERR", "1", 1);
        for (int i = 0; env && env[i]; i++) putenv(env[i]);
        execv(path, argv);
        _exit(127);
    }
    free(path);
    int64_t deadline = mono_ms() + 10000;
    char err[256];
    for (;;) {
        int fd = rmq_connect_blocking(p->addr, 500, err, sizeof err);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (mono_ms() > deadline || waitpid(p->pid, NULL, WNOHANG) == p->pid) return -1;
        usleep(20000);
    }
}

static inline int test_proc_start(test_proc *p, const char *prog, char *const argv[], int port, const char *log)
{
    return test_proc_start_env(p, prog, argv, NULL, port, log);
}

/*
 * Waits for PID to exit until DEADLINE (mono_ms), then kills it (SIGKILL) and reaps it.
 * Returns 0 with its wait status in *STATUS, or -1 if it had to be killed.
 */
static inline int test_wait_exit(pid_t pid, int64_t deadline, int *status)
{
    while (waitpid(pid, status, WNOHANG) != pid) {
        if (mono_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            return -1;
        }
        usleep(10000);
    }
    return 0;
}

/* Sends SIG and waits up to 10 s; returns the exit status, 128+signal, or -1 if it had to be killed. */
static inline int test_proc_stop(test_proc *p, int sig)
{
    kill(p->pid, sig);
    int status;
    if (test_wait_exit(p->pid, mono_ms() + 10000, &status)) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
