/* mqadmin_harness.h: servers, requests and mqadmin runs for test_mqadmin (see mqadmin_harness.c). */
#ifndef RMQ_TESTS_MQADMIN_HARNESS_H
#define RMQ_TESTS_MQADMIN_HARNESS_H

#include <check.h>
#include <stdint.h>

#include "../testproc.h"
#include "common/util.h"
#include "remoting/remoting.h"

#define TIMEOUT_MS 5000
#define RUN_TIMEOUT_MS 20000

typedef struct run {
    pid_t pid;
    int out_fd, err_fd;
} run;

extern char *dir;   /* the servers' directory, where mqadmin runs */
extern test_proc ns, broker;
/* Set before start_servers: the broker's commit log file size and lines added to its broker.conf. */
extern int64_t commitlog_file_size;
extern const char *broker_conf_extra;
extern char *out_text, *err_text;   /* of the last finished run */

void start_servers(void);
void stop_servers(void);
rmq_cmd *call(const char *addr, rmq_cmd *req);
rmq_cmd *req_ext(int code, ...);
char *body_of(const rmq_cmd *r);
int64_t queue_offset(int code, const char *topic, int queue);
int64_t consumer_offset(const char *group, const char *topic, int queue);
void commit_offset(const char *group, const char *topic, int queue, int64_t offset);
void run_start(run *r, const char *namesrv, const char *const *args);
int run_finish(run *r);
int mqadmin(const char *first, ...);
void mqadmin_until(const char *want, const char *const *args);
void expect_failure(int want_status, const char *why);
/* One test case, the tests in order sharing the servers (started and stopped around them);
 * the process's exit status. */
int run_e2e(const char *suite, const TTest *const *tests, size_t n);
int sim_connect(const char *group, const char *topic);
rmq_cmd *sim_receive(int fd, int code);

#define OUT_HAS(s) ck_assert_msg(strstr(out_text, s), "stdout lacks [%s]:\n%s\nstderr: %s", s, out_text, err_text)
#define OUT_LACKS(s) ck_assert_msg(!strstr(out_text, s), "stdout has [%s]:\n%s", s, out_text)
#define OK(...) ck_assert_msg(mqadmin(__VA_ARGS__, NULL) == 0, "failed: %s%s", err_text, out_text)

#define FAILS(status, why, ...)                                                              \
    do {                                                                                     \
        int rc_ = mqadmin(__VA_ARGS__, NULL);                                                \
        ck_assert_msg(rc_ == (status), "status %d, want %d; stderr: %s", rc_, status, err_text); \
        expect_failure(status, why);                                                         \
    } while (0)

#define SIM_CLIENT "127.0.0.1@ADMINTEST_SIM"

#endif
