/* mqadmin_namesrv.c: name-server sub-commands (KV config, name-server config, wipeWritePerm). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/mqadmin_int.h"

/* ---- name-server commands ---- */

void cmd_update_kv_config(void)
{
    put_kv_config(val('s'), val('k'), val('v'));
    printf("create or update kv config to namespace success.\n");
}

void delete_kv_config(const char *ns, const char *key)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = adm_request(DELETE_KV_CONFIG);
        cmd_ext_set(req, "namespace", ns);
        cmd_ext_set(req, "key", key);
        cmd_free(call_ok(namesrvs[i], req, TIMEOUT_MS));
    }
}

void cmd_delete_kv_config(void)
{
    delete_kv_config(val('s'), val('k'));
    printf("delete kv config from namespace success.\n");
}

void cmd_get_namesrv_config(void)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *resp = call_ok(namesrvs[i], adm_request(GET_NAMESRV_CONFIG), TIMEOUT_MS);
        printf("============%s============\n", namesrvs[i]);
        print_properties(resp->body, resp->body_len);
        cmd_free(resp);
    }
}

void cmd_update_namesrv_config(void)
{
    for (int i = 0; i < n_namesrvs; i++)
        cmd_free(call_ok(namesrvs[i], properties_request(UPDATE_NAMESRV_CONFIG, val('k'), val('v')), TIMEOUT_MS));
    /* Java prints the List given with -n: "[a, b]". */
    printf("update name server config success!");
    if (has('n')) {
        printf("[");
        for (int i = 0; i < n_namesrvs; i++) printf("%s%s", i ? ", " : "", namesrvs[i]);
        printf("]");
    }
    printf("\n%s : %s\n", val('k'), val('v'));
}

/* WipeWritePermSubCommand / AddWritePermSubCommand: the same call to every name server,
 * the count of topics touched in the answer's header. */
static void write_perm_on_namesrvs(int code, const char *verb, const char *count_field)
{
    for (int i = 0; i < n_namesrvs; i++) {
        rmq_cmd *req = adm_request(code);
        cmd_ext_set(req, "brokerName", val('b'));
        adm_err e;
        rmq_cmd *resp = adm_call(namesrvs[i], req, TIMEOUT_MS, &e);
        int64_t count = 0;
        if (resp && resp->code == RC_SUCCESS && cmd_ext_int64(resp, count_field, &count) == EXT_OK) {
            printf("%s write perm of broker[%s] in name server[%s] OK, %lld\n", verb, val('b'), namesrvs[i],
                   (long long)count);
        } else {
            printf("%s write perm of broker[%s] in name server[%s] Failed\n", verb, val('b'), namesrvs[i]);
            if (resp) die_answer(resp);
            die_err(&e);
        }
        cmd_free(resp);
    }
}

void cmd_wipe_write_perm(void) { write_perm_on_namesrvs(WIPE_WRITE_PERM_OF_BROKER, "wipe", "wipeTopicCount"); }

void cmd_add_write_perm(void) { write_perm_on_namesrvs(ADD_WRITE_PERM_OF_BROKER, "add", "addTopicCount"); }
