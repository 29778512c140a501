/*
 * HA replication (src/ha), both sides, through the real ha_service on one event
 * loop over loopback sockets.
 *
 * Input: [uint32 n][n bytes][rest]. The n bytes are what a master sends a
 * slave ([int64 phys offset][int32 size][size bytes of commit log]...): the
 * harness plays the master to our slave, which appends what it accepts to its
 * store (dispatching every record to consume queues and the index). Each input
 * gets a new, empty slave store, so what one input appends cannot spoil the
 * next and a finding replays from its input alone. The rest is what a slave
 * sends a master (8-byte offset reports): the harness plays the slave to our
 * master, whose store holds a few messages, and reads what it streams back.
 * Each side must end its connection (EOF from the harness) within 5 s.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../testproc.h"
#include "fuzz.h"
#include "ha/ha.h"
#include "store/store.h"

#define SEGMENT (64 << 10)
#define SIDE_TIMEOUT_MS 5000

static struct {
    struct event_base *base;
    char *dir;
    store *master_store, *slave_store;
    ha_service *master, *slave;
    int master_port, slave_port;
    int fake_master_fd;     /* our listener the slave connects to */
    char fake_master_addr[32];
} fx;

static store *open_store(const char *name, bool slave)
{
    store_config cfg;
    store_config_defaults(&cfg);
    snprintf(cfg.storePathRootDir, sizeof cfg.storePathRootDir, "%s/%s", fx.dir, name);
    cfg.mappedFileSizeCommitLog = SEGMENT;
    cfg.mappedFileSizeConsumeQueue = 6000;
    /* A small index file: the default one (5M slots, 20M entries, ~400 MB) was
     * faulted in page by page for every input's new store, most of the run's time.
     * A few slots also send more keys down the collision chains. */
    cfg.maxHashSlotNum = 64;
    cfg.maxIndexNum = 256;
    cfg.brokerRole = slave ? STORE_SLAVE : STORE_ASYNC_MASTER;
    char err[256];
    store *st = store_open(&cfg, err, sizeof err);
    if (!st) {
        fprintf(stderr, "fuzz_ha: store %s: %s\n", name, err);
        abort();
    }
    return st;
}

static ha_service *start_ha(store *st, int port)
{
    ha_config hc;
    ha_config_defaults(&hc);
    hc.listen_host = "127.0.0.1";
    hc.listen_port = port;
    hc.commitlog_segment_size = SEGMENT;
    char err[256];
    ha_service *ha = ha_new(fx.base, st, &hc, err, sizeof err);
    if (!ha) {
        fprintf(stderr, "fuzz_ha: %s\n", err);
        abort();
    }
    return ha;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void open_slave(void)
{
    fx.slave_store = open_store("slave", true);
    fx.slave = start_ha(fx.slave_store, fx.slave_port);
}

static void close_slave(void)
{
    ha_free(fx.slave);
    store_close(fx.slave_store);
    char *dir = str_printf("%s/slave", fx.dir);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static void put_messages(store *st, int n)
{
    for (int i = 0; i < n; i++) {
        char body[64], props[64];
        int blen = snprintf(body, sizeof body, "fuzz message %d", i);
        int plen = snprintf(props, sizeof props, "TAGS%cTagA%cKEYS%ck%d", 1, 2, 1, i);
        store_msg m = {.topic = "TopicTest", .queue_id = i % 4, .born_timestamp = 1700000000000 + i,
                       .body = (const uint8_t *)body, .body_len = (uint32_t)blen,
                       .props = props, .props_len = (uint32_t)plen};
        msg_host_parse(&m.born_host, "127.0.0.1:40000");
        store_put_entry e;
        store_put_result res = {.entries = &e};
        if (store_put(st, &m, 1, &res) != STORE_PUT_OK) abort();
    }
}

static void cleanup(void)
{
    ha_free(fx.master);
    store_close(fx.master_store);
    close(fx.fake_master_fd);
    event_base_free(fx.base);
    test_rmdir(fx.dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_quiet();
    signal(SIGPIPE, SIG_IGN);
    const char *tmp = getenv("TMPDIR");
    fx.dir = str_printf("%s/fuzz-ha.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir)) abort();
    fx.base = event_base_new();
    fx.master_store = open_store("master", false);
    put_messages(fx.master_store, 40);
    fx.master_port = test_free_port();
    fx.master = start_ha(fx.master_store, fx.master_port);
    fx.slave_port = test_free_port();
    fx.fake_master_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (bind(fx.fake_master_fd, (struct sockaddr *)&sa, sizeof sa) || listen(fx.fake_master_fd, 4) ||
        getsockname(fx.fake_master_fd, (struct sockaddr *)&sa, &sl))
        abort();
    snprintf(fx.fake_master_addr, sizeof fx.fake_master_addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    atexit(cleanup);
    return 0;
}

/* The harness's end of a connection: what arrives is dropped; EOF or an error ends it. */
static void on_peer_readable(evutil_socket_t fd, short what, void *arg)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) *(bool *)arg = true;
}

static void on_side_timeout(evutil_socket_t fd, short what, void *arg) { *(bool *)arg = true; }

/*
 * Runs the loop until the peer closes FD (its reads drained and dropped). The
 * harness's socket is one more event on the loop, so the loop sleeps only
 * until the next thing happens on either side (a poll with a fixed 10 ms
 * timeout between loop turns made most inputs wait it out at least once).
 * A side that never closes is a finding.
 */
static void pump_until_closed(int fd)
{
    bool closed = false, timed_out = false;
    evutil_make_socket_nonblocking(fd);
    struct event *ev = event_new(fx.base, fd, EV_READ | EV_PERSIST, on_peer_readable, &closed);
    struct event *timer = evtimer_new(fx.base, on_side_timeout, &timed_out);
    struct timeval tv = {SIDE_TIMEOUT_MS / 1000, SIDE_TIMEOUT_MS % 1000 * 1000};
    event_add(ev, NULL);
    evtimer_add(timer, &tv);
    while (!closed && !timed_out) event_base_loop(fx.base, EVLOOP_ONCE);
    event_free(ev);
    event_free(timer);
    if (!closed) {
        fprintf(stderr, "fuzz_ha: the peer kept its connection open for %d ms\n", SIDE_TIMEOUT_MS);
        abort();
    }
}

static void write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return;  /* the other side closed early: what it read is what counts */
        p += n;
        len -= (size_t)n;
    }
}

/* Plays the master to a new slave. */
static void feed_slave(const uint8_t *data, size_t len)
{
    open_slave();
    ha_set_master_address(fx.slave, fx.fake_master_addr);
    struct pollfd p = {fx.fake_master_fd, POLLIN, 0};
    FUZZ_ASSERT(poll(&p, 1, SIDE_TIMEOUT_MS) == 1);  /* the slave connects at once */
    int fd = accept(fx.fake_master_fd, NULL, NULL);
    FUZZ_ASSERT(fd >= 0);
    event_base_loop(fx.base, EVLOOP_NONBLOCK);  /* connected: the slave reports its offset */
    write_all(fd, data, len);
    shutdown(fd, SHUT_WR);
    pump_until_closed(fd);
    close(fd);
    close_slave();
}

/* Plays a slave to our master. */
static void feed_master(const uint8_t *data, size_t len)
{
    char addr[32], err[256];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", fx.master_port);
    int fd = rmq_connect_blocking(addr, SIDE_TIMEOUT_MS, err, sizeof err);
    FUZZ_ASSERT(fd >= 0);
    event_base_loop(fx.base, EVLOOP_NONBLOCK);  /* accepted */
    write_all(fd, data, len);
    shutdown(fd, SHUT_WR);
    pump_until_closed(fd);
    close(fd);
    event_base_loop(fx.base, EVLOOP_NONBLOCK);
    FUZZ_ASSERT(ha_connection_count(fx.master) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, data + size};
    uint32_t n = fuzz_u32(&in);
    if (n > fuzz_left(&in)) n = (uint32_t)fuzz_left(&in);
    feed_slave(in.p, n);
    feed_master(in.p + n, fuzz_left(&in) - n);
    return 0;
}
