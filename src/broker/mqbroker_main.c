/* mqbroker: BrokerStartup's command line (-c, -n, -p) plus --key=value overrides. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "common/log.h"
#include "common/util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mqbroker [-c configFile] [-n namesrvAddr] [-p] [-h] [--key=value ...]\n"
            " -c,--configFile <arg>   Broker config properties file\n"
            " -n,--namesrvAddr <arg>  Name server address list, eg: 192.168.0.1:9876;192.168.0.2:9876\n"
            " -p,--printConfigItem    Print all config items\n"
            " -h,--help               Print help\n"
            " --<key>=<value>         any broker.conf key, e.g. --listenPort=10911\n");
}

int main(int argc, char **argv)
{
    broker_config cfg;
    broker_config_defaults(&cfg);
    const char *conf = NULL, *namesrv = NULL;
    bool print = false;
    char err[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-c") || !strcmp(a, "--configFile")) && i + 1 < argc) conf = argv[++i];
        else if ((!strcmp(a, "-n") || !strcmp(a, "--namesrvAddr")) && i + 1 < argc) namesrv = argv[++i];
        else if (!strcmp(a, "-p") || !strcmp(a, "--printConfigItem")) print = true;
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
        int rc = broker_config_set(&cfg, kv, eq + 1, err, sizeof err);
        if (rc == RMQ_ERR || rc == RMQ_AGAIN) {
            fprintf(stderr, "mqbroker: %s\n", rc == RMQ_ERR ? err : "unknown option");
            free(kv);
            return 1;
        }
        free(kv);
    }
    /* -n wins over the file, as in BrokerStartup. */
    if (namesrv && broker_config_set(&cfg, "namesrvAddr", namesrv, err, sizeof err)) return 1;
    if (print) {
        char *p = broker_config_properties(&cfg);
        fputs(p, stdout);
        free(p);
        broker_config_free(&cfg);
        return 0;
    }
    int rc = broker_run(&cfg);
    broker_config_free(&cfg);
    return rc;
}
