/*
 * acl_edit: the plain_acl.yml rewrites of Apache 4.9.8's PlainPermissionManager
 * (updateAccessConfig, deleteAccessConfig, updateGlobalWhiteAddrsConfig) that the
 * admin codes 50, 51 and 53 ask for. The file is read into the YAML tree, changed
 * as Apache changes its map (an updated account keeps its other keys and moves to
 * the end of the list; admin is always written), given the next dataVersion
 * (counter + 1, timestamp now) and written to a temporary file renamed over it, so
 * the broker's watcher never sees half a file. The text is block YAML as
 * SnakeYAML's dumpAsMap writes it, which Apache's broker and ours both read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl_int.h"
#include "common/util.h"

/* ---- the tree ---- */

static ynode *scalar(const char *s)
{
    ynode *n = xcalloc(1, sizeof *n);
    n->type = s ? Y_SCALAR : Y_NULL;
    n->str = s ? xstrdup(s) : NULL;
    return n;
}

/* A sequence of the comma-separated items of LIST (Java's String.split: trailing empties dropped). */
static ynode *split_list(const char *list)
{
    ynode *seq = xcalloc(1, sizeof *seq);
    seq->type = Y_SEQ;
    char *copy = xstrdup(list);
    size_t len = strlen(copy);
    while (len && copy[len - 1] == ',') copy[--len] = '\0';
    char *p = copy;
    do {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        seq->items = xrealloc(seq->items, (size_t)(seq->n + 1) * sizeof *seq->items);
        seq->items[seq->n++] = scalar(p);
        p = comma ? comma + 1 : NULL;
    } while (p && len);
    free(copy);
    return seq;
}

/* LinkedHashMap.put: an existing key keeps its place. */
static void map_put(ynode *map, const char *key, ynode *item)
{
    for (int i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) {
            acl_yaml_free(map->items[i]);
            map->items[i] = item;
            return;
        }
    map->keys = xrealloc(map->keys, (size_t)(map->n + 1) * sizeof *map->keys);
    map->items = xrealloc(map->items, (size_t)(map->n + 1) * sizeof *map->items);
    map->keys[map->n] = xstrdup(key);
    map->items[map->n++] = item;
}

static ynode *new_node(enum ytype t)
{
    ynode *n = xcalloc(1, sizeof *n);
    n->type = t;
    return n;
}

static void seq_add(ynode *seq, ynode *item)
{
    seq->items = xrealloc(seq->items, (size_t)(seq->n + 1) * sizeof *seq->items);
    seq->items[seq->n++] = item;
}

/* ---- writing ---- */

static bool looks_typed(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcasecmp(s, words[i])) return true;
    const char *c = s;
    if (*c == '-' || *c == '+') c++;
    if (!*c) return false;
    for (; *c; c++)
        if (!isdigit((unsigned char)*c) && *c != '.' && *c != '_') return false;
    return true;
}

/* admin is a boolean and dataVersion's counter / timestamp numbers; every other value a string. */
static bool typed_key(const char *key)
{
    return key && (!strcmp(key, "admin") || !strcmp(key, "counter") || !strcmp(key, "timestamp"));
}

static void write_scalar(FILE *f, const char *key, const char *s)
{
    bool plain = *s && !looks_typed(s);
    for (const char *c = s; *c && plain; c++)
        if (!isalnum((unsigned char)*c) && !strchr("_.=|/%@-", *c)) plain = false;
    if (plain || (typed_key(key) && looks_typed(s))) {
        fputs(s, f);
        return;
    }
    if (strpbrk(s, "\n\r\t")) {  /* kept on one line: a double-quoted scalar with escapes */
        fputc('"', f);
        for (const char *c = s; *c; c++) {
            if (*c == '\n') fputs("\\n", f);
            else if (*c == '\r') fputs("\\r", f);
            else if (*c == '\t') fputs("\\t", f);
            else {
                if (*c == '"' || *c == '\\') fputc('\\', f);
                fputc(*c, f);
            }
        }
        fputc('"', f);
        return;
    }
    fputc('\'', f);
    for (const char *c = s; *c; c++) {
        if (*c == '\'') fputc('\'', f);
        fputc(*c, f);
    }
    fputc('\'', f);
}

static void write_node(FILE *f, const ynode *n, const char *key, int indent);

/* The items of a mapping, the first on the current line when FIRST_INLINE ("- k: v"). */
static void write_map_items(FILE *f, const ynode *m, int indent, bool first_inline)
{
    for (int i = 0; i < m->n; i++) {
        if (i || !first_inline) fprintf(f, "%*s", indent, "");
        fprintf(f, "%s:", m->keys[i]);
        write_node(f, m->items[i], m->keys[i], indent);
    }
}

/* The value after "key:" (or "-"): a scalar on the line, else a block below it. */
static void write_node(FILE *f, const ynode *n, const char *key, int indent)
{
    switch (n->type) {
    case Y_NULL: fputc('\n', f); return;
    case Y_SCALAR: fputc(' ', f); write_scalar(f, key, n->str); fputc('\n', f); return;
    case Y_MAP:
        if (!n->n) { fputs(" {}\n", f); return; }
        fputc('\n', f);
        write_map_items(f, n, indent + 2, false);
        return;
    case Y_SEQ:
        if (!n->n) { fputs(" []\n", f); return; }
        fputc('\n', f);
        for (int i = 0; i < n->n; i++) {
            const ynode *it = n->items[i];
            fprintf(f, "%*s-", indent, "");
            if (it->type == Y_MAP && it->n) {
                fputc(' ', f);
                write_map_items(f, it, indent + 2, true);
            } else {
                write_node(f, it, NULL, indent + 2);
            }
        }
        return;
    }
}

/* Next dataVersion (updateAclConfigFileVersion), then PATH.tmp renamed over PATH. */
static int write_file(const char *path, ynode *root, char *err, size_t errlen)
{
    int64_t counter = 0;
    const ynode *dv = acl_yaml_get(root, "dataVersion");
    if (dv && dv->type == Y_SEQ && dv->n > 0) {
        const ynode *c = acl_yaml_get(dv->items[0], "counter");
        if (c && c->type == Y_SCALAR) counter = strtoll(c->str, NULL, 10);
    }
    char num[32];
    ynode *v = new_node(Y_MAP), *list = new_node(Y_SEQ);
    snprintf(num, sizeof num, "%lld", (long long)counter + 1);
    map_put(v, "counter", scalar(num));
    snprintf(num, sizeof num, "%lld", (long long)now_ms());
    map_put(v, "timestamp", scalar(num));
    seq_add(list, v);
    map_put(root, "dataVersion", list);

    char *tmp = str_printf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = RMQ_ERR;
    if (f) {
        write_map_items(f, root, 0, false);
        if (fclose(f) == 0 && rename(tmp, path) == 0) rc = RMQ_OK;
    }
    if (rc) {
        snprintf(err, errlen, "%s (No such file or directory)", path);
        if (errno != ENOENT) snprintf(err, errlen, "%s (%s)", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* The file's mapping (an absent or empty file gives an empty one); NULL when it does not parse. */
static ynode *read_root(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_file(path, &len);
    ynode *root = text ? acl_yaml_parse(text, err, errlen) : new_node(Y_MAP);
    free(text);
    if (root && root->type == Y_NULL) {
        acl_yaml_free(root);
        root = new_node(Y_MAP);
    }
    if (root && root->type != Y_MAP) {
        acl_yaml_free(root);
        snprintf(err, errlen, "%s does not hold a mapping", path);
        return NULL;
    }
    return root;
}

/* ---- the three changes ---- */

static char *trim_ws(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* Permission.checkResourcePerms over a comma list ("Res=Perm" each). */
static int check_resource_perms(const char *list, char *err, size_t errlen)
{
    if (!list) return RMQ_OK;
    ynode *seq = split_list(list);
    int rc = RMQ_OK;
    for (int i = 0; i < seq->n && !rc; i++) {
        const char *res = seq->items[i]->str;
        /* StringUtils.split: separators collapse, empty tokens are dropped. */
        char *copy = xstrdup(res), *save = NULL, *items[3] = {0};
        int n = 0;
        for (char *t = strtok_r(copy, "=", &save); t && n < 3; t = strtok_r(NULL, "=", &save)) items[n++] = t;
        if (n != 2) {
            snprintf(err, errlen, "Parse Resource format error for %s.\nThe expected resource format is 'Res=Perm'. "
                     "For example: topicA=SUB", res);
            rc = RMQ_ERR;
        } else {
            char *p = trim_ws(items[1]);
            if (strcmp(p, "DENY") && strcmp(p, "PUB") && strcmp(p, "SUB") && strcmp(p, "PUB|SUB") &&
                strcmp(p, "SUB|PUB")) {
                snprintf(err, errlen, "Parse resource permission error for %s.\nThe expected permissions are 'SUB' "
                         "or 'PUB' or 'SUB|PUB' or 'PUB|SUB'.", res);
                rc = RMQ_ERR;
            }
        }
        free(copy);
    }
    acl_yaml_free(seq);
    return rc;
}

static ynode *accounts_of(ynode *root)
{
    ynode *acc = (ynode *)acl_yaml_get(root, "accounts");
    if (acc && acc->type == Y_SEQ) return acc;
    acc = new_node(Y_SEQ);
    map_put(root, "accounts", acc);
    return acc;
}

static int find_account(const ynode *accounts, const char *access_key)
{
    for (int i = 0; i < accounts->n; i++) {
        const ynode *ak = acl_yaml_get(accounts->items[i], "accessKey");
        if (ak && ak->type == Y_SCALAR && !strcmp(ak->str, access_key)) return i;
    }
    return -1;
}

/* A value the file cannot hold on one line (a control byte other than tab, CR, LF): refused
 * rather than written into a file no reader would load again. */
static int check_bytes(const char *s, char *err, size_t errlen)
{
    for (const unsigned char *c = (const unsigned char *)s; s && *c; c++)
        if (*c < 0x20 && *c != '\n' && *c != '\r' && *c != '\t') {
            snprintf(err, errlen, "The value [%s] holds a control character", s);
            return RMQ_ERR;
        }
    return RMQ_OK;
}

int acl_file_update_account(const char *path, const acl_account_edit *e, char *err, size_t errlen)
{
    const char *values[] = {e->access_key, e->secret_key, e->white_remote_address, e->default_topic_perm,
                            e->default_group_perm, e->topic_perms, e->group_perms};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        if (check_bytes(values[i], err, errlen)) return RMQ_ERR;
    if (!e->access_key || !e->secret_key || strlen(e->access_key) <= 6 || strlen(e->secret_key) <= 6) {
        snprintf(err, errlen, "The accessKey=%s and secretKey=%s cannot be null and length should longer than 6",
                 e->access_key ? e->access_key : "null", e->secret_key ? e->secret_key : "null");
        return RMQ_ERR;
    }
    if (check_resource_perms(e->topic_perms, err, errlen) || check_resource_perms(e->group_perms, err, errlen))
        return RMQ_ERR;
    ynode *root = read_root(path, err, errlen);
    if (!root) return RMQ_ERR;
    ynode *accounts = accounts_of(root), *m;
    int at = find_account(accounts, e->access_key);
    if (at >= 0) {  /* accounts.remove(account); ...; accounts.add(updated) */
        m = accounts->items[at];
        memmove(accounts->items + at, accounts->items + at + 1, (size_t)(accounts->n - at - 1) * sizeof *accounts->items);
        accounts->n--;
    } else {
        m = new_node(Y_MAP);
    }
    map_put(m, "accessKey", scalar(e->access_key));
    map_put(m, "secretKey", scalar(e->secret_key));
    if (e->white_remote_address) map_put(m, "whiteRemoteAddress", scalar(e->white_remote_address));
    map_put(m, "admin", scalar(e->admin ? "true" : "false"));
    if (e->default_topic_perm && *e->default_topic_perm) map_put(m, "defaultTopicPerm", scalar(e->default_topic_perm));
    if (e->default_group_perm && *e->default_group_perm) map_put(m, "defaultGroupPerm", scalar(e->default_group_perm));
    if (e->topic_perms) map_put(m, "topicPerms", split_list(e->topic_perms));
    if (e->group_perms) map_put(m, "groupPerms", split_list(e->group_perms));
    seq_add(accounts, m);
    int rc = write_file(path, root, err, errlen);
    acl_yaml_free(root);
    return rc;
}

int acl_file_delete_account(const char *path, const char *access_key, char *err, size_t errlen)
{
    ynode *root = read_root(path, err, errlen);
    if (!root) return RMQ_ERR;
    ynode *accounts = (ynode *)acl_yaml_get(root, "accounts");
    int at = accounts && accounts->type == Y_SEQ && access_key && *access_key ? find_account(accounts, access_key) : -1;
    int rc = RMQ_ERR;
    *err = '\0';  /* not there: Apache's "has been deleted failed" */
    if (at >= 0) {
        acl_yaml_free(accounts->items[at]);
        memmove(accounts->items + at, accounts->items + at + 1, (size_t)(accounts->n - at - 1) * sizeof *accounts->items);
        accounts->n--;
        rc = write_file(path, root, err, errlen);
    }
    acl_yaml_free(root);
    return rc;
}

int acl_file_set_global_white(const char *path, const char *list, char *err, size_t errlen)
{
    if (check_bytes(list, err, errlen)) return RMQ_ERR;
    ynode *root = read_root(path, err, errlen);
    if (!root) return RMQ_ERR;
    map_put(root, "globalWhiteRemoteAddresses", split_list(list));
    int rc = write_file(path, root, err, errlen);
    acl_yaml_free(root);
    return rc;
}

int acl_file_version(const char *path, int64_t *counter, int64_t *timestamp)
{
    char err[256];
    ynode *root = read_root(path, err, sizeof err);
    if (!root) return RMQ_ERR;
    const ynode *dv = acl_yaml_get(root, "dataVersion");
    if (dv && dv->type == Y_SEQ && dv->n > 0) {
        const ynode *c = acl_yaml_get(dv->items[0], "counter"), *t = acl_yaml_get(dv->items[0], "timestamp");
        if (c && c->type == Y_SCALAR) *counter = strtoll(c->str, NULL, 10);
        if (t && t->type == Y_SCALAR) *timestamp = strtoll(t->str, NULL, 10);
    }
    acl_yaml_free(root);
    return RMQ_OK;
}
