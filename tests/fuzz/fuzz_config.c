/*
 * Configuration files: the broker's broker.conf reader (broker_config_parse, what
 * broker_config_load runs over the file's text, given the input from memory) and
 * the name server's java.util.Properties parser (props_parse +
 * namesrv_config_apply). Everything the broker reads, printed back as -p prints
 * it, must read again unchanged.
 */
#include "broker/broker.h"
#include "fuzz.h"
#include "namesrv/namesrv.h"

/* Every "key=value" line of broker_config_properties applies to a fresh config. */
static char *reapply(const char *printed)
{
    broker_config c;
    broker_config_defaults(&c);
    char *text = xstrdup(printed), *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        FUZZ_ASSERT(eq != NULL);
        *eq = 0;
        char err[256];
        FUZZ_ASSERT(broker_config_set(&c, line, eq + 1, err, sizeof err) == RMQ_OK);
    }
    free(text);
    char *again = broker_config_properties(&c);
    broker_config_free(&c);
    return again;
}

static void broker_conf(const uint8_t *data, size_t size)
{
    broker_config c;
    broker_config_defaults(&c);
    char err[256] = "";
    if (broker_config_parse(&c, (const char *)data, size, "broker.conf", err, sizeof err) == RMQ_OK) {
        char *printed = broker_config_properties(&c);
        char *again = reapply(printed);
        FUZZ_ASSERT(strcmp(printed, again) == 0);
        free(again);
        free(printed);
    } else {
        FUZZ_ASSERT(err[0] != 0);
    }
    broker_config_free(&c);
}

static void namesrv_props(const uint8_t *data, size_t size)
{
    props p = {0};
    props_parse(&p, (const char *)data, size);
    for (size_t i = 0; i < p.n; i++) FUZZ_ASSERT(props_get(&p, p.keys[i]) != NULL);
    namesrv_config cfg;
    namesrv_config_init(&cfg);
    namesrv_config_apply(&cfg, &p);
    char *printed = namesrv_config_format(&cfg);
    FUZZ_ASSERT(printed != NULL);
    free(printed);
    namesrv_config_free(&cfg);
    props_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    broker_conf(data, size);
    namesrv_props(data, size);
    return 0;
}
