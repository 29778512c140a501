/*
 * Test helper: run one of our server programs on 127.0.0.1, by PID, and stop it.
 * Every wait has a deadline. Programs come from $RMQ_BUILDDIR (set by make check).
 */
#ifndef TEST_PROC_H
#define TEST_PROC_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "remoting/remoting.h"

typedef struct test_proc {
    pid_t pid;
    int port;
    char addr[32];
} test_proc;

static inline bool test_port_is_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/*
 * Test ports come from [TEST_PORT_LOW, TEST_PORT_HIGH), below the kernel's ephemeral
 * range (32768 and up by default), so no client connection's local port can take one,
 * and each is claimed for the life of this process by an flock on a file named after it,
 * so a parallel test never picks it. Both matter to tests that stop a server and start it
 * again on the port it had: between the two, the port is not listening and a kernel-chosen
 * port would be anybody's. The lock's descriptor stays open until the process exits.
 */
#define TEST_PORT_LOW 12000
#define TEST_PORT_HIGH 30000
#define TEST_PORT_LOCK_DIR "/tmp/rmqc-test-ports"

/* The lock's descriptor if PORT is now ours and free on 127.0.0.1, else -1. */
static inline int test_claim_port(int port)
{
    if (mkdir(TEST_PORT_LOCK_DIR, 0777) != 0 && errno != EEXIST) abort();
    char path[64];
    snprintf(path, sizeof path, TEST_PORT_LOCK_DIR "/%d", port);
    int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || !test_port_is_free(port)) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int test_random_port(void)
{
    static unsigned seed;
    if (!seed) seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    return TEST_PORT_LOW + (int)(rand_r(&seed) % (TEST_PORT_HIGH - TEST_PORT_LOW));
}

/* A port free on 127.0.0.1 and claimed by this process (see above). */
static inline int test_free_port(void)
{
    for (int tries = 0; tries < 10000; tries++) {
        int p = test_random_port();
        if (test_claim_port(p) >= 0) return p;
    }
    abort();
}

/* A port for a broker that also listens on p-2 (fast port) and p+1 (HA): all three claimed. */
static inline int test_free_broker_port(void)
{
    for (int tries = 0; tries < 10000; tries++) {
        int p = test_random_port(), fast, ha;
        if (p - 2 < TEST_PORT_LOW || p + 1 >= TEST_PORT_HIGH) continue;
        int fd = test_claim_port(p);
        if (fd < 0) continue;
        if ((fast = test_claim_port(p - 2)) < 0) {
            close(fd);
            continue;
        }
        if ((ha = test_claim_port(p + 1)) < 0) {
            close(fd);
            close(fast);
            continue;
        }
        return p;
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
