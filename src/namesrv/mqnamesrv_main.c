/*
 * mqnamesrv: the name server program, with NamesrvStartup's command line:
 *   -c <file>  properties file (listenPort, kvConfigPath, ... and our
 *              listenAddress, scanNotActiveBrokerInterval, brokerChannelExpiredTime)
 *   -p         print every config item and exit
 *   -n <addr>  accepted like every RocketMQ server program (unused here)
 *   -h         help
 * SIGTERM or SIGINT stops it cleanly. Logs go to namesrv.log and remoting.log under
 * logDir (${HOME}/logs/rocketmqlogs) unless RMQ_LOG_STDERR=1; metrics as the broker's
 * (metricsExporterType=PROM, metricsPromExporterHost, metricsPromExporterPort).
 */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "metrics/metrics.h"
#include "namesrv/namesrv.h"
#include "remoting/remoting.h"

static void usage(FILE *out)
{
    /* commons-cli's help as ServerUtil.parseCmdLine prints it. */
    fprintf(out,
            "usage: mqnamesrv [-c <arg>] [-h] [-n <arg>] [-p]\n"
            " -c,--configFile <arg>       Name server config properties file\n"
            " -h,--help                   Print help\n"
            " -n,--namesrvAddr <arg>      Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'\n"
            " -p,--printConfigItem        Print all config items\n");
}

static const char *key(const namesrv_config *cfg, const char *name, const char *def)
{
    const char *v = props_get(&cfg->extra, name);
    return v && *v ? v : def;
}

static int setup_logs(const namesrv_config *cfg)
{
    int lvl = log_level_parse(key(cfg, "logLevel", "INFO"));
    if (lvl < 0) {
        fprintf(stderr, "mqnamesrv: bad logLevel '%s' (DEBUG, INFO, WARN or ERROR)\n", key(cfg, "logLevel", ""));
        return -1;
    }
    log_set_level((enum log_level)lvl);
    if (log_foreground()) return 0;
    static const char *const routes[] = {"client", "remoting", NULL};
    int64_t size = 128LL * 1024 * 1024, days = 15;
    parse_int64(key(cfg, "logMaxFileSize", "134217728"), &size);
    parse_int64(key(cfg, "logMaxHistory", "15"), &days);
    char *dir = *key(cfg, "logDir", "") ? xstrdup(key(cfg, "logDir", "")) : log_default_dir(), err[512];
    log_config lc = {.dir = dir, .default_file = "namesrv", .routes = routes, .max_file_size = size,
                     .max_history_days = (int)days};
    int rc = log_setup(&lc, err, sizeof err);
    if (rc) fprintf(stderr, "mqnamesrv: %s\n", err);
    free(dir);
    return rc;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    log_info("namesrv", "shutdown hook was invoked (signal %d)", (int)sig);
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"configFile", required_argument, NULL, 'c'},
        {"printConfigItem", no_argument, NULL, 'p'},
        {"namesrvAddr", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_file = NULL;
    bool print_config = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "c:pn:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config_file = optarg; break;
        case 'p': print_config = true; break;
        case 'n': break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }

    namesrv_config cfg;
    namesrv_config_init(&cfg);
    if (config_file) {
        char err[512];
        if (namesrv_config_load_file(&cfg, config_file, err, sizeof err) != RMQ_OK) {
            fprintf(stderr, "%s\n", err);
            namesrv_config_free(&cfg);
            return 255;
        }
        printf("load config properties file OK, %s\n", config_file);
    }
    /* Apache's system properties and tls.config.file, over the -c file's tls.* keys. */
    rmq_tls_config_load_system(&cfg.tls, getenv("JAVA_OPT"));
    if (print_config) {
        char *text = namesrv_config_format(&cfg);
        fputs(text, stdout);
        free(text);
        namesrv_config_free(&cfg);
        return 0;
    }

    if (setup_logs(&cfg)) {
        namesrv_config_free(&cfg);
        return 255;
    }
    signal(SIGPIPE, SIG_IGN);
    rmq_remoting_init();
    struct event_base *base = event_base_new();
    /* Metrics listen before the client port: whoever can reach the name server can scrape it. */
    metrics_server *metrics = NULL;
    char merr[256];
    /* A name server belongs to no cluster; it is known by its address. */
    char node[96];
    snprintf(node, sizeof node, "%s:%d", cfg.listen_address, cfg.listen_port);
    metrics_set_node("", "namesrv", node, key(&cfg, "metricsLabel", ""));
    int32_t mport = 5557;
    parse_int32(key(&cfg, "metricsPromExporterPort", "5557"), &mport);
    metrics_config mc = {.exporter_type = key(&cfg, "metricsExporterType", "DISABLE"),
                         .host = key(&cfg, "metricsPromExporterHost", ""), .fallback_host = cfg.listen_address,
                         .port = mport};
    if (metrics_server_start(base, &mc, NULL, NULL, &metrics, merr, sizeof merr)) {
        fprintf(stderr, "mqnamesrv: %s\n", merr);
        event_base_free(base);
        namesrv_config_free(&cfg);
        return 255;
    }
    const char *err = NULL;
    namesrv *ns = namesrv_new(base, &cfg, &err);
    if (!ns) {
        fprintf(stderr, "mqnamesrv: cannot start on %s:%d: %s\n", cfg.listen_address, cfg.listen_port, err);
        metrics_server_free(metrics);
        event_base_free(base);
        namesrv_config_free(&cfg);
        return 255;
    }
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);

    const char *tip = "The Name Server boot success. serializeType=JSON";
    log_info("namesrv", "%s", tip);
    printf("%s\n", tip);
    fflush(stdout);

    event_base_dispatch(base);

    event_free(sigterm);
    event_free(sigint);
    metrics_server_free(metrics);
    namesrv_free(ns);
    event_base_free(base);
    namesrv_config_free(&cfg);
    log_info("namesrv", "shutdown complete");
    log_close();
    return 0;
}
