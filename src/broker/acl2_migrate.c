/*
 * migrateAuthFromV1Enabled: ACL 1.0 accounts become ACL 2.0 users and ACLs at
 * start, as Apache 5.3's AuthMigrator does. Every *.yml / *.yaml under
 * $ROCKETMQ_HOME/conf/acl and conf/plain_acl.yml is read (with ACL 1.0's YAML
 * reader, acl_int.h); the first account of each accessKey counts. An account
 * whose user exists is left alone; otherwise its user is created (Super when
 * admin: true) with an ACL: topicPerms and groupPerms ("name=PERM") as Custom
 * entries, defaultTopicPerm / defaultGroupPerm as Topic:* / Group:* in the
 * Default policy. PUB, SUB, PUB|SUB are Allow of those actions, DENY is Deny
 * of All, anything else Allow of All. A failing account is logged and skipped.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "acl2_int.h"
#include "acl_int.h"
#include "common/log.h"
#include "common/util.h"

static const char *scalar(const ynode *map, const char *key)
{
    const ynode *n = acl_yaml_get(map, key);
    return n && n->type == Y_SCALAR ? n->str : NULL;
}

static char *trimmed(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return xstrndup(s, n);
}

/* AuthMigrator.parseActions / parseDecision for PERM (trimmed). */
static void entry_for(auth_entry *e, int type, const char *name, int pattern, const char *perm)
{
    memset(e, 0, sizeof *e);
    e->res = (auth_resource){type, pattern, name ? xstrdup(name) : NULL};
    e->actions = xmalloc(2);
    if (!strcmp(perm, "PUB")) e->actions[e->n_actions++] = ACT_PUB;
    else if (!strcmp(perm, "SUB")) e->actions[e->n_actions++] = ACT_SUB;
    else if (!strcmp(perm, "PUB|SUB") || !strcmp(perm, "SUB|PUB")) {
        e->actions[e->n_actions++] = ACT_PUB;
        e->actions[e->n_actions++] = ACT_SUB;
    } else {
        e->actions[e->n_actions++] = ACT_ALL;
    }
    e->ips = xmalloc(sizeof *e->ips);
    e->decision = strcmp(perm, "DENY") ? DECISION_ALLOW : DECISION_DENY;
}

static auth_entry *policy_add(auth_policy *p)
{
    p->entries = xrealloc(p->entries, (size_t)(p->n + 1) * sizeof *p->entries);
    return &p->entries[p->n++];
}

/* "name=PERM" items of LIST: StringUtils.split on '=' must give exactly two parts. */
static void custom_entries(auth_policy *p, const ynode *list, int type)
{
    for (int i = 0; list && list->type == Y_SEQ && i < list->n; i++) {
        const ynode *it = list->items[i];
        if (it->type != Y_SCALAR) continue;
        const char *part[3];
        size_t plen[3];
        int n = 0;
        for (const char *c = it->str; *c && n < 3;) {
            size_t len = strcspn(c, "=");
            if (len) part[n] = c, plen[n++] = len;
            c += len + (c[len] ? 1 : 0);
        }
        if (n != 2) continue;
        char *name = trimmed(part[0], plen[0]), *perm = trimmed(part[1], plen[1]);
        entry_for(policy_add(p), type, name, PAT_LITERAL, perm);
        free(name), free(perm);
    }
}

static void migrate_account(auth *a, const ynode *m)
{
    const char *ak = scalar(m, "accessKey"), *sk = scalar(m, "secretKey"), *admin = scalar(m, "admin");
    if (!ak || auth_user_get(a, ak)) return;
    char err[256];
    auth_user u = {(char *)ak, (char *)sk, admin && !strcasecmp(admin, "true") ? AUTH_SUPER : AUTH_NORMAL, 0};
    if (auth_user_create(a, &u, err, sizeof err)) {
        log_error("auth", "[ACL MIGRATE] AccessKey:%s: %s", ak, err);
        return;
    }
    auth_acl *acl2 = xcalloc(1, sizeof *acl2);
    acl2->subject = str_printf("User:%s", ak);
    acl2->policies = xcalloc(2, sizeof *acl2->policies);
    auth_policy custom = {POLICY_CUSTOM, NULL, 0}, fallback = {POLICY_DEFAULT, NULL, 0};
    custom_entries(&custom, acl_yaml_get(m, "topicPerms"), RES_TOPIC);
    custom_entries(&custom, acl_yaml_get(m, "groupPerms"), RES_GROUP);
    static const char *const defaults[] = {"defaultTopicPerm", "defaultGroupPerm"};
    for (int i = 0; i < 2; i++) {
        const char *perm = scalar(m, defaults[i]);
        if (!perm || !perm[strspn(perm, " \t")]) continue;
        char *p = trimmed(perm, strlen(perm));
        entry_for(policy_add(&fallback), i ? RES_GROUP : RES_TOPIC, NULL, PAT_ANY, p);
        free(p);
    }
    if (custom.n) acl2->policies[acl2->n++] = custom;
    if (fallback.n) acl2->policies[acl2->n++] = fallback;
    if (!acl2->n) {
        auth_acl_free(acl2);
        return;
    }
    if (auth_acl_put(a, acl2, err, sizeof err)) log_error("auth", "[ACL MIGRATE] AccessKey:%s: %s", ak, err);
}

static void migrate_file(auth *a, const char *path, char ***seen, int *n_seen)
{
    for (int i = 0; i < *n_seen; i++)
        if (!strcmp((*seen)[i], path)) return;
    *seen = xrealloc(*seen, (size_t)(*n_seen + 1) * sizeof **seen);
    (*seen)[(*n_seen)++] = xstrdup(path);
    size_t len;
    char *text = read_file(path, &len), err[256];
    ynode *root = text ? acl_yaml_parse(text, err, sizeof err) : NULL;
    if (text && !root) log_error("auth", "[ACL MIGRATE] %s: %s", path, err);
    free(text);
    const ynode *accounts = acl_yaml_get(root, "accounts");
    for (int i = 0; accounts && accounts->type == Y_SEQ && i < accounts->n; i++)
        if (accounts->items[i]->type == Y_MAP) migrate_account(a, accounts->items[i]);
    acl_yaml_free(root);
}

/* PlainPermissionManager.getAllAclFiles: the YAML files under DIR, recursively, without conf/tools.yml. */
static void migrate_dir(auth *a, const char *home, const char *dir, char ***seen, int *n_seen)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char *tools = str_printf("%s/conf/tools.yml", home);
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        char *path = str_printf("%s/%s", dir, de->d_name);
        size_t n = strlen(path);
        struct stat st;
        bool tools_file = !strcmp(path, tools);  /* the tools' own credentials */
        if (!tools_file && ((n > 4 && !strcmp(path + n - 4, ".yml")) || (n > 5 && !strcmp(path + n - 5, ".yaml")))) {
            migrate_file(a, path, seen, n_seen);
        } else if (!tools_file && !stat(path, &st) && S_ISDIR(st.st_mode)) {
            migrate_dir(a, home, path, seen, n_seen);
        }
        free(path);
    }
    free(tools);
    closedir(d);
}

void auth_migrate_v1(auth *a, const char *rocketmq_home)
{
    if (!rocketmq_home || !*rocketmq_home) return;
    char **seen = NULL;
    int n_seen = 0;
    char *dir = str_printf("%s/conf/acl", rocketmq_home), *file = str_printf("%s/" ACL_DEFAULT_FILE, rocketmq_home);
    migrate_dir(a, rocketmq_home, dir, &seen, &n_seen);
    migrate_file(a, file, &seen, &n_seen);
    for (int i = 0; i < n_seen; i++) free(seen[i]);
    free(seen);
    free(dir), free(file);
}
