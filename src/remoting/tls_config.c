/*
 * TLS settings under Apache's names (TlsSystemConfig) and from Apache's places: the
 * -Dtls.* system properties its start scripts take from JAVA_OPT, and the properties
 * file tls.config.file names (TlsHelper.extractTlsConfigFromFile).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "remoting.h"

/* TlsSystemConfig.tlsConfigFile's default. */
#define DEFAULT_TLS_CONFIG_FILE "/etc/rocketmq/tls.properties"

static const char *const mode_names[] = {
    [RMQ_TLS_DISABLED] = "disabled",
    [RMQ_TLS_PERMISSIVE] = "permissive",
    [RMQ_TLS_ENFORCING] = "enforcing",
};

enum rmq_tls_mode rmq_tls_mode_parse(const char *name)
{
    for (int m = RMQ_TLS_DISABLED; m <= RMQ_TLS_ENFORCING; m++)
        if (name && strcmp(name, mode_names[m]) == 0) return (enum rmq_tls_mode)m;
    return RMQ_TLS_PERMISSIVE;
}

const char *rmq_tls_mode_name(enum rmq_tls_mode mode) { return mode_names[mode]; }

void rmq_tls_config_defaults(rmq_tls_config *t)
{
    memset(t, 0, sizeof *t);
    t->mode = RMQ_TLS_PERMISSIVE;
    t->enable = -1;
    t->test_mode = true; /* tls.test.mode.enable defaults to "true" */
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = *v ? xstrdup(v) : NULL; /* TlsHelper.isNullOrEmpty: empty means unset */
}

int rmq_tls_config_set(rmq_tls_config *t, const char *key, const char *value)
{
    if (strcmp(key, "tls.server.mode") == 0) t->mode = rmq_tls_mode_parse(value);
    else if (strcmp(key, "tls.enable") == 0) t->enable = parse_java_bool(value);
    else if (strcmp(key, "tls.test.mode.enable") == 0) t->test_mode = parse_java_bool(value);
    else if (strcmp(key, "tls.config.file") == 0) set_str(&t->config_file, value);
    else if (strcmp(key, "tls.server.certPath") == 0) set_str(&t->cert_path, value);
    else if (strcmp(key, "tls.server.keyPath") == 0) set_str(&t->key_path, value);
    else if (strcmp(key, "tls.server.keyPassword") == 0) set_str(&t->key_password, value);
    else if (strcmp(key, "tls.server.need.client.auth") == 0) set_str(&t->need_client_auth, value);
    else if (strcmp(key, "tls.server.authClient") == 0) t->auth_client = parse_java_bool(value);
    else if (strcmp(key, "tls.server.trustCertPath") == 0) set_str(&t->trust_cert_path, value);
    else if (strcmp(key, "tls.client.certPath") == 0) set_str(&t->client_cert_path, value);
    else if (strcmp(key, "tls.client.keyPath") == 0) set_str(&t->client_key_path, value);
    else if (strcmp(key, "tls.client.keyPassword") == 0) set_str(&t->client_key_password, value);
    else if (strcmp(key, "tls.client.authServer") == 0) t->client_auth_server = parse_java_bool(value);
    else if (strcmp(key, "tls.client.trustCertPath") == 0) set_str(&t->client_trust_cert_path, value);
    else return RMQ_AGAIN;
    return RMQ_OK;
}

bool rmq_tls_client_enabled(const rmq_tls_config *t)
{
    return t->enable >= 0 ? t->enable == 1 : t->mode == RMQ_TLS_ENFORCING;
}

void rmq_tls_config_free(rmq_tls_config *t)
{
    char **strs[] = {&t->config_file, &t->cert_path, &t->key_path, &t->key_password,
                     &t->need_client_auth, &t->trust_cert_path, &t->client_cert_path,
                     &t->client_key_path, &t->client_key_password, &t->client_trust_cert_path};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) free(*strs[i]);
    rmq_tls_config_defaults(t);
}

/* -Dtls.x=v words of JAVA_OPT, split at blanks (Apache's scripts do not quote them either). */
static void apply_java_opt(rmq_tls_config *t, const char *java_opt)
{
    char *copy = xstrdup(java_opt), *save = NULL;
    for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
        if (strncmp(w, "-Dtls.", 6) != 0) continue;
        char *eq = strchr(w, '=');
        if (!eq) continue;
        *eq = '\0';
        if (rmq_tls_config_set(t, w + 2, eq + 1) == RMQ_OK) log_info("tls", "JAVA_OPT: %s", w + 2);
    }
    free(copy);
}

static int file_key(const char *key, const char *val, void *arg)
{
    rmq_tls_config *t = ((void **)arg)[0];
    const char *path = ((void **)arg)[1];
    if (!strcmp(key, "tls.server.mode") || !strcmp(key, "tls.enable") || !strcmp(key, "tls.config.file"))
        return 0;
    if (rmq_tls_config_set(t, key, val) == RMQ_OK) log_info("tls", "%s: %s", path, key);
    return 0;
}

/* The tls.config.file: java.util.Properties lines ('#'/'!' comments, '=' or ':'). A key it
 * does not name keeps the system property's value; mode and tls.enable it cannot set. */
static void apply_file(rmq_tls_config *t, const char *path)
{
    if (access(path, R_OK) != 0) {
        log_info("tls", "TLS config file %s doesn't exist, skip it", path);
        return;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        log_warn("tls", "cannot read TLS config file %s: %s", path, strerror(errno));
        return;
    }
    void *arg[] = {t, (void *)path};
    simple_props_each(text, file_key, arg);
    free(text);
}

void rmq_tls_config_load_system(rmq_tls_config *t, const char *java_opt)
{
    if (java_opt) apply_java_opt(t, java_opt);
    apply_file(t, t->config_file ? t->config_file : DEFAULT_TLS_CONFIG_FILE);
}
