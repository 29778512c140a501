/*
 * mqbroker: BrokerStartup's command line (-c, -n, -p, -m) plus --key=value overrides.
 * Logs go to files under logDir (${HOME}/logs/rocketmqlogs) unless RMQ_LOG_STDERR=1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "common/log.h"
#include "common/util.h"

/* The @ImportantField settings of BrokerConfig, NettyServerConfig and MessageStoreConfig,
 * in Apache's order, and the metrics and log settings operators look for. */
static const char *const important[] = {
    "namesrvAddr", "brokerIP1", "brokerName", "brokerClusterName", "brokerId", "autoCreateTopicEnable",
    "autoCreateSubscriptionGroup", "rejectTransactionMessage", "transactionTimeOut", "transactionCheckMax",
    "transactionCheckInterval", "listenPort", "storePathRootDir", "storePathCommitLog", "mappedFileSizeCommitLog",
    "flushIntervalCommitLog", "deleteWhen", "fileReservedTime", "brokerRole", "flushDiskType",
    "metricsExporterType", "metricsPromExporterHost", "metricsPromExporterPort", "logDir", "logLevel", NULL,
};

static void print_important(const broker_config *cfg)
{
    char *props = broker_config_properties(cfg);
    for (int i = 0; important[i]; i++) {
        size_t n = strlen(important[i]);
        for (const char *l = props; *l; l = strchr(l, '\n') + 1)
            if (strncmp(l, important[i], n) == 0 && l[n] == '=') {
                fwrite(l, 1, (size_t)(strchr(l, '\n') - l + 1), stdout);
                break;
            }
    }
    free(props);
}

/* Modules whose lines go to their own file, as Apache's loggers do; the rest (the broker,
 * processors, services) go to broker.log. Connection events of the two listeners and of
 * the connections to name servers ("client") go to remoting.log. */
static const char *const log_routes[] = {
    "store", "store", "ha", "store", "remoting", "remoting", "remoting-fast", "remoting", "client", "remoting",
    "transaction", "transaction", "pop", "pop", NULL,
};

static int setup_logs(const broker_config *cfg)
{
    enum log_level lvl = (enum log_level)log_level_parse(cfg->logLevel);
    log_set_level(lvl);
    if (log_foreground()) return 0;
    char *dir = *cfg->logDir ? xstrdup(cfg->logDir) : log_default_dir(), err[512];
    log_config lc = {.dir = dir, .default_file = "broker", .routes = log_routes,
                     .max_file_size = cfg->logMaxFileSize, .max_history_days = cfg->logMaxHistory};
    int rc = log_setup(&lc, err, sizeof err);
    if (rc) fprintf(stderr, "mqbroker: %s\n", err);
    else printf("logs in %s (broker.log, store.log, remoting.log, ...)\n", dir);
    fflush(stdout);
    free(dir);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mqbroker [-c configFile] [-n namesrvAddr] [-p] [-m] [-h] [--key=value ...]\n"
            " -c,--configFile <arg>   Broker config properties file\n"
            " -n,--namesrvAddr <arg>  Name server address list, eg: 192.168.0.1:9876;192.168.0.2:9876\n"
            " -p,--printConfigItem    Print all config items\n"
            " -m,--printImportantConfig  Print important config items\n"
            " -h,--help               Print help\n"
            " --<key>=<value>         any broker.conf key, e.g. --listenPort=10911\n");
}

int main(int argc, char **argv)
{
    broker_config cfg;
    broker_config_defaults(&cfg);
    const char *conf = NULL, *namesrv = NULL;
    bool print = false, print_m = false;
    char err[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-c") || !strcmp(a, "--configFile")) && i + 1 < argc) conf = argv[++i];
        else if ((!strcmp(a, "-n") || !strcmp(a, "--namesrvAddr")) && i + 1 < argc) namesrv = argv[++i];
        else if (!strcmp(a, "-p") || !strcmp(a, "--printConfigItem")) print = true;
        else if (!strcmp(a, "-m") || !strcmp(a, "--printImportantConfig")) print_m = true;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strncmp(a, "--", 2) && strchr(a, '=')) {
            continue; /* applied after the file, below */
        } else {
            fprintf(stderr, "mqbroker: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (conf && broker_config_load(&cfg, conf, err, sizeof err)) {
        fprintf(stderr, "mqbroker: %s\n", err);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) || !strchr(argv[i], '=')) continue;
        char *kv = xstrdup(argv[i] + 2), *eq = strchr(kv, '=');
        *eq = 0;
        int rc = broker_config_set_secret(&cfg, kv, eq + 1);
        if (rc == RMQ_AGAIN) rc = broker_config_set(&cfg, kv, eq + 1, err, sizeof err);
        if (rc == RMQ_ERR || rc == RMQ_AGAIN) {
            fprintf(stderr, "mqbroker: %s\n", rc == RMQ_ERR ? err : "unknown option");
            free(kv);
            return 1;
        }
        free(kv);
    }
    /* Apache's system properties and tls.config.file, over the -c file's tls.* keys. */
    rmq_tls_config_load_system(&cfg.tls, getenv("JAVA_OPT"));
    /* -n wins over the file, as in BrokerStartup. */
    if (namesrv && broker_config_set(&cfg, "namesrvAddr", namesrv, err, sizeof err)) return 1;
    if (print) {
        char *p = broker_config_properties(&cfg);
        fputs(p, stdout);
        free(p);
        broker_config_free(&cfg);
        return 0;
    }
    if (print_m) {
        print_important(&cfg);
        broker_config_free(&cfg);
        return 0;
    }
    if (setup_logs(&cfg)) {
        broker_config_free(&cfg);
        return 1;
    }
    int rc = broker_run(&cfg);
    broker_config_free(&cfg);
    log_close();
    return rc;
}
