/*
 * acl_config: builds an ACL from plain_acl.yml (PlainPermissionManager.load):
 * global white list, accounts, their permissions.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl_int.h"
#include "common/log.h"
#include "common/util.h"

#define ACCESS_KEY_MIN_LENGTH 6  /* AclConstants: keys must be longer */

static void account_free(acl_account *ac)
{
    free(ac->access_key);
    free(ac->secret_key);
    acl_rule_free(&ac->white);
    for (int i = 0; i < ac->n_perms; i++) free(ac->perms[i].name);
    free(ac->perms);
}

void acl_free(acl *a)
{
    if (!a) return;
    for (int i = 0; i < a->n_global_white; i++) acl_rule_free(&a->global_white[i]);
    free(a->global_white);
    for (int i = 0; i < a->n_accounts; i++) account_free(&a->accounts[i]);
    free(a->accounts);
    free(a);
}

/* Permission.parsePermFromString: anything unknown (or absent) is DENY. */
static uint8_t parse_perm(const char *s)
{
    if (!s) return PERM_DENY;
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n == 3 && !strncmp(s, "PUB", 3)) return PERM_PUB;
    if (n == 3 && !strncmp(s, "SUB", 3)) return PERM_SUB;
    if (n == 7 && (!strncmp(s, "PUB|SUB", 7) || !strncmp(s, "SUB|PUB", 7))) return PERM_PUB | PERM_SUB;
    return PERM_DENY;
}

/* PlainAccessResource.addResourceAndPerm: a HashMap, so a later entry replaces. */
void acl_add_resource(acl_resource **list, int *n, const char *name, uint8_t perm)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp((*list)[i].name, name)) {
            (*list)[i].perm = perm;
            return;
        }
    *list = xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
    (*list)[(*n)++] = (acl_resource){xstrdup(name), perm};
}

static const char *scalar_or_null(const ynode *n) { return n && n->type == Y_SCALAR ? n->str : NULL; }

static bool is_scalar_or_absent(const ynode *n) { return !n || n->type == Y_SCALAR || n->type == Y_NULL; }

/* Permission.parseResourcePerms: "name=PERM" items. */
static int load_perms(acl_account *ac, const ynode *list, bool topics, char *err, size_t errlen)
{
    if (!list || list->type == Y_NULL) return RMQ_OK;
    if (list->type != Y_SEQ) {
        snprintf(err, errlen, "%s of %s must be a list", topics ? "topicPerms" : "groupPerms", ac->access_key);
        return RMQ_ERR;
    }
    for (int i = 0; i < list->n; i++) {
        const char *item = scalar_or_null(list->items[i]);
        /* StringUtils.split(item, "="): exactly two non-empty parts. */
        const char *eq = item ? strchr(item, '=') : NULL;
        const char *name_end = eq, *perm = eq;
        if (eq) {
            while (perm[1] == '=') perm++;
            perm++;
        }
        if (!eq || eq == item || strspn(item, "=") || !*perm || strchr(perm, '=')) {
            snprintf(err, errlen, "Parse resource permission failed for %s:%s", topics ? "topic" : "group",
                     item ? item : "null");
            return RMQ_ERR;
        }
        const char *b = item;
        while (isspace((unsigned char)*b)) b++;
        while (name_end > b && isspace((unsigned char)name_end[-1])) name_end--;
        char *name = topics ? str_printf("%.*s", (int)(name_end - b), b)
                            : str_printf("%s%.*s", RETRY_PREFIX, (int)(name_end - b), b);
        acl_add_resource(&ac->perms, &ac->n_perms, name, parse_perm(perm));
        free(name);
    }
    return RMQ_OK;
}

/* YAML 1.1 booleans as SnakeYAML reads them; "admin" absent is false. */
static int yaml_bool(const ynode *n, bool *out)
{
    const char *s = scalar_or_null(n);
    if (!n || n->type == Y_NULL) {
        *out = false;
        return RMQ_OK;
    }
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (int i = 0; s && i < 3; i++) {
        if (!strcasecmp(s, yes[i])) return *out = true, RMQ_OK;
        if (!strcasecmp(s, no[i])) return *out = false, RMQ_OK;
    }
    return RMQ_ERR;
}

static int load_account(acl *a, const ynode *m, int idx, char *err, size_t errlen)
{
    if (m->type != Y_MAP) {
        snprintf(err, errlen, "accounts[%d] must be a mapping", idx);
        return RMQ_ERR;
    }
    static const char *const scalars[] = {"accessKey", "secretKey", "whiteRemoteAddress", "admin",
                                          "defaultTopicPerm", "defaultGroupPerm"};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (!is_scalar_or_absent(acl_yaml_get(m, scalars[i]))) {
            snprintf(err, errlen, "accounts[%d].%s must be a single value", idx, scalars[i]);
            return RMQ_ERR;
        }
    const char *ak = scalar_or_null(acl_yaml_get(m, "accessKey"));
    const char *sk = scalar_or_null(acl_yaml_get(m, "secretKey"));
    if (!ak || !sk || strlen(ak) <= ACCESS_KEY_MIN_LENGTH || strlen(sk) <= ACCESS_KEY_MIN_LENGTH) {
        snprintf(err, errlen, "The accessKey=%s and secretKey=%s cannot be null and length should longer than 6",
                 ak ? ak : "null", sk ? sk : "null");
        return RMQ_ERR;
    }
    for (int i = 0; i < a->n_accounts; i++)
        if (!strcmp(a->accounts[i].access_key, ak)) {
            /* PlainPermissionManager.load keeps the first definition. */
            log_warn("acl", "The accessKey %s is repeated, the first definition wins", ak);
            return RMQ_OK;
        }
    acl_account ac = {.access_key = xstrdup(ak), .secret_key = xstrdup(sk)};
    ac.default_topic_perm = parse_perm(scalar_or_null(acl_yaml_get(m, "defaultTopicPerm")));
    ac.default_group_perm = parse_perm(scalar_or_null(acl_yaml_get(m, "defaultGroupPerm")));
    int rc = RMQ_ERR;
    if (yaml_bool(acl_yaml_get(m, "admin"), &ac.admin)) snprintf(err, errlen, "admin of %s must be true or false", ak);
    else if (!load_perms(&ac, acl_yaml_get(m, "groupPerms"), false, err, errlen) &&
             !load_perms(&ac, acl_yaml_get(m, "topicPerms"), true, err, errlen) &&
             !acl_rule_compile(&ac.white, scalar_or_null(acl_yaml_get(m, "whiteRemoteAddress")), err, errlen))
        rc = RMQ_OK;
    if (rc) {
        account_free(&ac);
        return rc;
    }
    a->accounts = xrealloc(a->accounts, (size_t)(a->n_accounts + 1) * sizeof *a->accounts);
    a->accounts[a->n_accounts++] = ac;
    return RMQ_OK;
}

static int load_config(acl *a, const ynode *root, char *err, size_t errlen)
{
    if (root->type == Y_NULL) return RMQ_OK;
    if (root->type != Y_MAP) {
        snprintf(err, errlen, "the file must hold a mapping");
        return RMQ_ERR;
    }
    const ynode *white = acl_yaml_get(root, "globalWhiteRemoteAddresses");
    if (white && white->type != Y_NULL) {
        if (white->type != Y_SEQ) {
            snprintf(err, errlen, "globalWhiteRemoteAddresses must be a list");
            return RMQ_ERR;
        }
        a->global_white = xcalloc((size_t)white->n ? (size_t)white->n : 1, sizeof *a->global_white);
        for (int i = 0; i < white->n; i++) {
            if (!is_scalar_or_absent(white->items[i])) {
                snprintf(err, errlen, "globalWhiteRemoteAddresses[%d] must be an address", i);
                return RMQ_ERR;
            }
            if (acl_rule_compile(&a->global_white[a->n_global_white], scalar_or_null(white->items[i]), err, errlen))
                return RMQ_ERR;
            a->n_global_white++;
        }
    }
    const ynode *accounts = acl_yaml_get(root, "accounts");
    if (!accounts || accounts->type == Y_NULL) return RMQ_OK;
    if (accounts->type != Y_SEQ) {
        snprintf(err, errlen, "accounts must be a list");
        return RMQ_ERR;
    }
    for (int i = 0; i < accounts->n; i++)
        if (load_account(a, accounts->items[i], i, err, errlen)) return RMQ_ERR;
    return RMQ_OK;
}

acl *acl_parse(const char *yaml, char *err, size_t errlen)
{
    ynode *root = acl_yaml_parse(yaml, err, errlen);
    if (!root) return NULL;
    acl *a = xcalloc(1, sizeof *a);
    int rc = load_config(a, root, err, errlen);
    acl_yaml_free(root);
    if (rc) {
        acl_free(a);
        return NULL;
    }
    return a;
}

acl *acl_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text && errno == ENOENT) return xcalloc(1, sizeof(acl));
    if (!text) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (strlen(text) != len) {
        free(text);
        snprintf(err, errlen, "%s: a NUL byte in the file", path);
        return NULL;
    }
    char why[400];
    acl *a = acl_parse(text, why, sizeof why);
    free(text);
    if (!a) snprintf(err, errlen, "%s: %s", path, why);
    return a;
}
