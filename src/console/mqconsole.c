/*
 * mqconsole: the web console of a RocketMQ cluster, as rocketmq-dashboard is
 * for Apache's: it finds the brokers through the name servers (-n or
 * NAMESRV_ADDR) and serves its page on 127.0.0.1:8080 unless told otherwise.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "console/console.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mqconsole [-n namesrvAddr] [-a address] [-p port]\n"
               "  -n, --namesrv host:port[;host:port]  name servers (default: $NAMESRV_ADDR)\n"
               "  -a, --address ADDR                   listen address (127.0.0.1)\n"
               "  -p, --port PORT                      listen port (8080; 0 picks a free one)\n"
               "  -h, --help\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg) { event_base_loopbreak(arg); }

int main(int argc, char **argv)
{
    static const struct option longs[] = {{"namesrv", required_argument, NULL, 'n'},
                                          {"address", required_argument, NULL, 'a'},
                                          {"port", required_argument, NULL, 'p'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *namesrv = getenv("NAMESRV_ADDR"), *host = "127.0.0.1";
    int64_t port = 8080;
    int c;
    while ((c = getopt_long(argc, argv, "n:a:p:h", longs, NULL)) != -1) {
        switch (c) {
        case 'n': namesrv = optarg; break;
        case 'a': host = optarg; break;
        case 'p':
            if (parse_int64(optarg, &port) || port < 0 || port > 65535) {
                fprintf(stderr, "mqconsole: bad port %s\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || adm_set_namesrvs(namesrv)) {
        if (optind == argc) fprintf(stderr, "mqconsole: no name server address: set -n or NAMESRV_ADDR\n");
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    char err[256];
    console *con = base ? console_start(base, host, (int)port, err, sizeof err) : NULL;
    if (!con) {
        fprintf(stderr, "mqconsole: %s\n", base ? err : "cannot create an event loop");
        if (base) event_base_free(base);
        return 1;
    }
    struct event *term = evsignal_new(base, SIGTERM, on_signal, base), *intr = evsignal_new(base, SIGINT, on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    printf("mqconsole listening on http://%s:%d/ (name servers: %s)\n", host, console_port(con), namesrv);
    fflush(stdout);
    event_base_dispatch(base);
    event_free(term);
    event_free(intr);
    console_free(con);
    event_base_free(base);
    return 0;
}
