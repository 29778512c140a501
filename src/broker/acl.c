/*
 * Plain ACL 1.0: the plain_acl.yml reader, white-list address rules, request
 * signatures and the per-request permission check (see acl.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "acl.h"
#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"

/* ======================================================================
 * A reader for the YAML of plain_acl.yml: block mappings and sequences
 * (a sequence may sit at its key's indentation), "- key: v" items,
 * plain / 'single' / "double" quoted scalars, one-line [a, b] flow
 * sequences, comments, blank lines and a leading "---".
 * ====================================================================== */

enum ytype { Y_NULL, Y_SCALAR, Y_MAP, Y_SEQ };

typedef struct ynode {
    enum ytype type;
    char *str;             /* Y_SCALAR */
    char **keys;           /* Y_MAP: keys[i] names items[i] */
    struct ynode **items;  /* Y_MAP, Y_SEQ */
    int n;
} ynode;

typedef struct yline {
    int indent;
    int lineno;
    char *text;  /* comment and trailing blanks cut; points into the parser's copy */
} yline;

typedef struct yparser {
    yline *lines;
    int n, i;
    char *err;
    size_t errlen;
    bool failed;
} yparser;

static ynode *ynode_new(enum ytype t)
{
    ynode *n = xcalloc(1, sizeof *n);
    n->type = t;
    return n;
}

static void ynode_free(ynode *n)
{
    if (!n) return;
    for (int i = 0; i < n->n; i++) {
        if (n->keys) free(n->keys[i]);
        ynode_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->str);
    free(n);
}

static void ynode_add(ynode *parent, char *key, ynode *item)
{
    parent->items = xrealloc(parent->items, (size_t)(parent->n + 1) * sizeof *parent->items);
    if (parent->type == Y_MAP) {
        parent->keys = xrealloc(parent->keys, (size_t)(parent->n + 1) * sizeof *parent->keys);
        parent->keys[parent->n] = key;
    }
    parent->items[parent->n++] = item;
}

static const ynode *ymap_get(const ynode *map, const char *key)
{
    if (!map || map->type != Y_MAP) return NULL;
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0) return map->items[i];
    return NULL;
}

static ynode *yfail(yparser *p, int lineno, const char *what)
{
    if (!p->failed) snprintf(p->err, p->errlen, "line %d: %s", lineno, what);
    p->failed = true;
    return NULL;
}

/* End of the quoted scalar starting at s (its closing quote), or NULL. */
static const char *quote_end(const char *s)
{
    char q = *s;
    for (const char *c = s + 1; *c; c++) {
        if (q == '"' && *c == '\\' && c[1]) c++;
        else if (*c == q && q == '\'' && c[1] == '\'') c++;
        else if (*c == q) return c;
    }
    return NULL;
}

/* The ':' that makes TEXT a "key: value" line (followed by a blank or the end), or NULL. */
static const char *mapping_colon(const char *text)
{
    const char *c = text;
    if (*c == '"' || *c == '\'') {
        c = quote_end(c);
        if (!c) return NULL;
        c++;
        while (*c == ' ') c++;
        return *c == ':' && (!c[1] || c[1] == ' ') ? c : NULL;
    }
    for (; *c; c++)
        if (*c == ':' && (!c[1] || c[1] == ' ')) return c;
    return NULL;
}

static bool is_seq_item(const char *text)
{
    return text[0] == '-' && (!text[1] || text[1] == ' ');
}

/* A scalar's value: NULL for YAML null (empty, ~, null), else a malloc'd string. */
static bool scalar_value(const char *s, size_t len, char **out)
{
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    *out = NULL;
    if (!len || (len == 1 && *s == '~') || (len == 4 && (!strncmp(s, "null", 4) || !strncmp(s, "Null", 4) ||
                                                        !strncmp(s, "NULL", 4))))
        return true;
    if (*s != '"' && *s != '\'') {
        *out = xstrndup(s, len);
        return true;
    }
    char *tmp = xstrndup(s, len);
    const char *end = quote_end(tmp);
    if (!end || end[1]) {
        free(tmp);
        return false;
    }
    char *v = xmalloc(len), *w = v;
    for (const char *c = tmp + 1; c < end; c++) {
        if (*tmp == '\'' && *c == '\'') c++;  /* '' */
        else if (*tmp == '"' && *c == '\\') {
            c++;
            switch (*c) {
            case 'n': *w++ = '\n'; continue;
            case 't': *w++ = '\t'; continue;
            case 'r': *w++ = '\r'; continue;
            case '0': *w++ = '\0'; continue;
            default: break;  /* \" \\ \/ and the rest stand for themselves */
            }
        }
        *w++ = *c;
    }
    *w = 0;
    free(tmp);
    *out = v;
    return true;
}

/* A value written on the key's line: a scalar, [a, b] or {}. */
static ynode *parse_inline(yparser *p, const char *text, int lineno)
{
    size_t len = strlen(text);
    if (*text == '{') {
        if (strcmp(text, "{}")) return yfail(p, lineno, "flow mappings are not supported");
        return ynode_new(Y_MAP);
    }
    if (*text != '[') {
        char *v;
        if (!scalar_value(text, len, &v)) return yfail(p, lineno, "unterminated quoted scalar");
        ynode *n = ynode_new(v ? Y_SCALAR : Y_NULL);
        n->str = v;
        return n;
    }
    if (text[len - 1] != ']') return yfail(p, lineno, "a flow sequence must end on its line");
    ynode *seq = ynode_new(Y_SEQ);
    const char *c = text + 1, *end = text + len - 1;
    while (isspace((unsigned char)*c)) c++;
    while (c < end) {
        const char *item = c;
        while (c < end && *c != ',') {
            if (*c == '"' || *c == '\'') {
                const char *q = quote_end(c);
                c = q && q < end ? q : end;
            }
            c++;
        }
        char *v;
        if (!scalar_value(item, (size_t)(c - item), &v)) {
            ynode_free(seq);
            return yfail(p, lineno, "unterminated quoted scalar");
        }
        ynode *n = ynode_new(v ? Y_SCALAR : Y_NULL);
        n->str = v;
        ynode_add(seq, NULL, n);
        if (c < end) c++;  /* the comma */
    }
    return seq;
}

static ynode *parse_block(yparser *p, int indent);
static ynode *parse_map(yparser *p, int indent);
static ynode *parse_seq(yparser *p, int indent);

/* The value of a key or "-" with nothing after it: a deeper block, or null. */
static ynode *parse_below(yparser *p, int indent, bool seq_at_same_indent)
{
    if (p->i < p->n) {
        const yline *next = &p->lines[p->i];
        if (next->indent > indent) return parse_block(p, next->indent);
        if (seq_at_same_indent && next->indent == indent && is_seq_item(next->text)) return parse_seq(p, indent);
    }
    return ynode_new(Y_NULL);
}

static ynode *parse_block(yparser *p, int indent)
{
    return is_seq_item(p->lines[p->i].text) ? parse_seq(p, indent) : parse_map(p, indent);
}

static ynode *parse_map(yparser *p, int indent)
{
    ynode *map = ynode_new(Y_MAP);
    while (p->i < p->n && p->lines[p->i].indent == indent && !is_seq_item(p->lines[p->i].text)) {
        yline *l = &p->lines[p->i];
        const char *colon = mapping_colon(l->text);
        if (!colon) {
            ynode_free(map);
            return yfail(p, l->lineno, "expected 'key: value'");
        }
        char *key;
        if (!scalar_value(l->text, (size_t)(colon - l->text), &key) || !key) {
            ynode_free(map);
            return yfail(p, l->lineno, "bad mapping key");
        }
        const char *val = colon + 1;
        while (*val == ' ') val++;
        int lineno = l->lineno;
        p->i++;
        ynode *item = *val ? parse_inline(p, val, lineno) : parse_below(p, indent, true);
        if (!item) {
            free(key);
            ynode_free(map);
            return NULL;
        }
        ynode_add(map, key, item);
    }
    return map;
}

static ynode *parse_seq(yparser *p, int indent)
{
    ynode *seq = ynode_new(Y_SEQ);
    while (p->i < p->n && p->lines[p->i].indent == indent && is_seq_item(p->lines[p->i].text)) {
        yline *l = &p->lines[p->i];
        char *rest = l->text + 1;
        while (*rest == ' ') rest++;
        ynode *item;
        if (!*rest) {
            p->i++;
            item = parse_below(p, indent, false);
        } else if (is_seq_item(rest) || mapping_colon(rest)) {
            /* "- key: v" / "- - v": the rest of the line opens a block at its own column. */
            l->indent += (int)(rest - l->text);
            l->text = rest;
            item = parse_block(p, l->indent);
        } else {
            p->i++;
            item = parse_inline(p, rest, l->lineno);
        }
        if (!item) {
            ynode_free(seq);
            return NULL;
        }
        ynode_add(seq, NULL, item);
    }
    return seq;
}

/* Splits TEXT (modified) into significant lines. */
static bool split_lines(yparser *p, char *text)
{
    int lineno = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        int indent = 0;
        while (line[indent] == ' ') indent++;
        char *t = line + indent;
        /* A comment starts at a '#' that begins the text or follows a blank, outside quotes. */
        for (char *c = t; *c; c++) {
            if ((*c == '"' || *c == '\'') && (c == t || c[-1] == ' ' || c[-1] == '[' || c[-1] == ',')) {
                const char *q = quote_end(c);
                if (q) c = (char *)q;
            } else if (*c == '#' && (c == t || c[-1] == ' ' || c[-1] == '\t')) {
                *c = 0;
                break;
            }
        }
        size_t len = strlen(t);
        while (len && isspace((unsigned char)t[len - 1])) t[--len] = 0;
        if (!len || (indent == 0 && strcmp(t, "---") == 0)) continue;
        if (*t == '\t') {
            yfail(p, lineno, "tabs cannot indent YAML");
            return false;
        }
        p->lines = xrealloc(p->lines, (size_t)(p->n + 1) * sizeof *p->lines);
        p->lines[p->n++] = (yline){.indent = indent, .lineno = lineno, .text = t};
    }
    return true;
}

/* The document's root node (an empty file is null); NULL with err set on bad input. */
static ynode *yaml_parse(const char *text, char *err, size_t errlen)
{
    char *copy = xstrdup(text);
    yparser p = {.err = err, .errlen = errlen};
    ynode *root = NULL;
    if (split_lines(&p, copy)) {
        root = p.n ? parse_block(&p, p.lines[0].indent) : ynode_new(Y_NULL);
        if (root && p.i < p.n) {
            ynode_free(root);
            root = yfail(&p, p.lines[p.i].lineno, "bad indentation");
        }
    }
    free(p.lines);
    free(copy);
    return root;
}

/* ======================================================================
 * White-list address rules (RemoteAddressStrategyFactory), IPv4 and IPv6
 * addresses, lists and {a,b} sets; ranges (* and a-b) for IPv4.
 * ====================================================================== */

typedef struct ip_addr {
    int family;  /* AF_INET or AF_INET6 */
    uint8_t b[16];
} ip_addr;

enum rule_kind { RULE_BLANK, RULE_ANY, RULE_LIST, RULE_RANGE };

typedef struct addr_rule {
    enum rule_kind kind;
    ip_addr *addrs;  /* RULE_LIST */
    int n_addrs;
    /* RULE_RANGE: the first `index` octets equal head, octet `index` within [start, end]. */
    uint8_t head[3];
    int index, start, end;
} addr_rule;

/* An address as text; IPv4-mapped IPv6 addresses count as IPv4. */
static bool ip_parse(const char *s, ip_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->b) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, out->b) != 1) return false;
    out->family = AF_INET6;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out->b, mapped, sizeof mapped) == 0) {
        memmove(out->b, out->b + 12, 4);
        memset(out->b + 4, 0, 12);
        out->family = AF_INET;
    }
    return true;
}

static bool ip_equal(const ip_addr *a, const ip_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, sizeof a->b) == 0;
}

static bool octet(const char *s, size_t len, int *out)
{
    if (!len || len > 3) return false;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v <= 255;
}

static int rule_add_addr(addr_rule *r, const char *text, char *err, size_t errlen)
{
    ip_addr a;
    if (!ip_parse(text, &a)) {
        snprintf(err, errlen, "Netaddress examine Exception netaddress is %s", text);
        return RMQ_ERR;
    }
    r->addrs = xrealloc(r->addrs, (size_t)(r->n_addrs + 1) * sizeof *r->addrs);
    r->addrs[r->n_addrs++] = a;
    return RMQ_OK;
}

/* "a,b,c" (empty items skipped, as StringUtils.split does), each prefixed with PREFIX. */
static int rule_add_list(addr_rule *r, const char *prefix, const char *list, size_t len, char *err, size_t errlen)
{
    const char *c = list, *end = list + len;
    while (c < end) {
        const char *comma = memchr(c, ',', (size_t)(end - c));
        if (!comma) comma = end;
        if (comma > c) {
            char *one = str_printf("%s%.*s", prefix, (int)(comma - c), c);
            int rc = rule_add_addr(r, one, err, errlen);
            free(one);
            if (rc) return rc;
        }
        c = comma + 1;
    }
    r->kind = RULE_LIST;
    return r->n_addrs ? RMQ_OK : rule_add_addr(r, "", err, errlen);
}

/* IPv4 "a.b.c.*", "a.b.c.1-9", "a.b.*.*", "a.*.*.*": RangeRemoteAddressStrategy. */
static int rule_range(addr_rule *r, const char *text, char *err, size_t errlen)
{
    if (strchr(text, ':')) {
        snprintf(err, errlen, "IPv6 address ranges are not supported: %s", text);
        return RMQ_ERR;
    }
    const char *part[4];
    size_t plen[4];
    int n = 0;
    for (const char *c = text; n < 4; n++) {
        const char *dot = strchr(c, '.');
        part[n] = c;
        plen[n] = dot ? (size_t)(dot - c) : strlen(c);
        if (!dot) {
            n++;
            break;
        }
        c = dot + 1;
    }
    r->index = 0;
    for (int i = 1; n == 4 && i < 4 && !r->index; i++) {
        const char *dash = memchr(part[i], '-', plen[i]);
        if (plen[i] == 1 && part[i][0] == '*') {
            r->start = 0, r->end = 255;
        } else if (dash) {
            if (!octet(part[i], (size_t)(dash - part[i]), &r->start) ||
                !octet(dash + 1, plen[i] - (size_t)(dash + 1 - part[i]), &r->end) || r->start > r->end)
                break;
        } else {
            continue;
        }
        r->index = i;
    }
    for (int i = 0; i < r->index; i++) {
        int v;
        if (!octet(part[i], plen[i], &v)) r->index = 0;
        else r->head[i] = (uint8_t)v;
    }
    if (!r->index) {
        snprintf(err, errlen, "RangeRemoteAddressStrategy netaddress examine scope Exception netaddress is %s", text);
        return RMQ_ERR;
    }
    r->kind = RULE_RANGE;
    return RMQ_OK;
}

static int rule_compile(addr_rule *r, const char *text, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (!text || !*text || strspn(text, " \t") == strlen(text)) return RMQ_OK;  /* blank: matches nobody */
    if (!strcmp(text, "*") || !strcmp(text, "*.*.*.*") || !strcmp(text, "*:*:*:*:*:*:*:*")) {
        r->kind = RULE_ANY;
        return RMQ_OK;
    }
    size_t len = strlen(text);
    if (text[len - 1] == '}') {  /* 192.168.1.{1,2} */
        const char *brace = strrchr(text, '{');
        char sep = strchr(text, ':') ? ':' : '.';
        if (!brace || brace == text || brace[-1] != sep || memchr(brace, sep, len - (size_t)(brace - text))) {
            snprintf(err, errlen, "MultipleRemoteAddressStrategy netaddress examine scope Exception netaddress %s",
                     text);
            return RMQ_ERR;
        }
        char *prefix = xstrndup(text, (size_t)(brace - text));
        int rc = rule_add_list(r, prefix, brace + 1, len - (size_t)(brace - text) - 2, err, errlen);
        free(prefix);
        return rc;
    }
    if (strchr(text, ',')) return rule_add_list(r, "", text, len, err, errlen);
    if (strchr(text, '*') || strchr(text, '-')) return rule_range(r, text, err, errlen);
    r->kind = RULE_LIST;
    return rule_add_addr(r, text, err, errlen);
}

static bool rule_match(const addr_rule *r, const ip_addr *ip)
{
    switch (r->kind) {
    case RULE_BLANK: return false;
    case RULE_ANY: return true;
    case RULE_LIST:
        for (int i = 0; i < r->n_addrs; i++)
            if (ip_equal(&r->addrs[i], ip)) return true;
        return false;
    case RULE_RANGE:
        return ip->family == AF_INET && memcmp(ip->b, r->head, (size_t)r->index) == 0 &&
               ip->b[r->index] >= r->start && ip->b[r->index] <= r->end;
    }
    return false;
}

/* ======================================================================
 * Accounts and the check
 * ====================================================================== */

/* Permission.java */
enum { PERM_DENY = 1, PERM_ANY = 2, PERM_PUB = 4, PERM_SUB = 8 };

#define RETRY_PREFIX "%RETRY%"
#define TRACE_TOPIC "RMQ_SYS_TRACE_TOPIC"
#define ACCESS_KEY_MIN_LENGTH 6  /* AclConstants: keys must be longer */

typedef struct acl_resource {
    char *name;  /* a topic, or a group as its retry topic */
    uint8_t perm;
} acl_resource;

typedef struct acl_account {
    char *access_key;
    char *secret_key;
    addr_rule white;
    bool admin;
    uint8_t default_topic_perm;
    uint8_t default_group_perm;
    acl_resource *perms;
    int n_perms;
} acl_account;

struct acl {
    addr_rule *global_white;
    int n_global_white;
    acl_account *accounts;
    int n_accounts;
};

static void rule_free(addr_rule *r) { free(r->addrs); }

static void account_free(acl_account *ac)
{
    free(ac->access_key);
    free(ac->secret_key);
    rule_free(&ac->white);
    for (int i = 0; i < ac->n_perms; i++) free(ac->perms[i].name);
    free(ac->perms);
}

void acl_free(acl *a)
{
    if (!a) return;
    for (int i = 0; i < a->n_global_white; i++) rule_free(&a->global_white[i]);
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
static void add_resource(acl_resource **list, int *n, const char *name, uint8_t perm)
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
        add_resource(&ac->perms, &ac->n_perms, name, parse_perm(perm));
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
        if (!is_scalar_or_absent(ymap_get(m, scalars[i]))) {
            snprintf(err, errlen, "accounts[%d].%s must be a single value", idx, scalars[i]);
            return RMQ_ERR;
        }
    const char *ak = scalar_or_null(ymap_get(m, "accessKey"));
    const char *sk = scalar_or_null(ymap_get(m, "secretKey"));
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
    ac.default_topic_perm = parse_perm(scalar_or_null(ymap_get(m, "defaultTopicPerm")));
    ac.default_group_perm = parse_perm(scalar_or_null(ymap_get(m, "defaultGroupPerm")));
    int rc = RMQ_ERR;
    if (yaml_bool(ymap_get(m, "admin"), &ac.admin)) snprintf(err, errlen, "admin of %s must be true or false", ak);
    else if (!load_perms(&ac, ymap_get(m, "groupPerms"), false, err, errlen) &&
             !load_perms(&ac, ymap_get(m, "topicPerms"), true, err, errlen) &&
             !rule_compile(&ac.white, scalar_or_null(ymap_get(m, "whiteRemoteAddress")), err, errlen))
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
    const ynode *white = ymap_get(root, "globalWhiteRemoteAddresses");
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
            if (rule_compile(&a->global_white[a->n_global_white], scalar_or_null(white->items[i]), err, errlen))
                return RMQ_ERR;
            a->n_global_white++;
        }
    }
    const ynode *accounts = ymap_get(root, "accounts");
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
    ynode *root = yaml_parse(yaml, err, errlen);
    if (!root) return NULL;
    acl *a = xcalloc(1, sizeof *a);
    int rc = load_config(a, root, err, errlen);
    ynode_free(root);
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

void acl_sign(const char *secret, const void *data, size_t len, char out[ACL_SIGNATURE_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), data, len, md, &md_len) || md_len != 20) abort();
    EVP_EncodeBlock((unsigned char *)out, md, (int)md_len);
}

static int ext_cmp(const void *x, const void *y)
{
    return strcmp((*(const rmq_ext_field *const *)x)->key, (*(const rmq_ext_field *const *)y)->key);
}

/*
 * AclUtils.combineRequestContent: the values of the extFields sorted by key
 * (Java's TreeMap; byte order equals UTF-16 order below U+E000), without
 * Signature and, unless with_unique_key_query, _UNIQUE_KEY_QUERY, then the body.
 */
static bool signature_matches(const rmq_cmd *req, const char *secret, const char *signature, bool with_unique_key_query)
{
    const rmq_ext_field **fields = xmalloc((size_t)(req->n_ext ? req->n_ext : 1) * sizeof *fields);
    int n = 0;
    size_t len = req->body_len;
    for (int i = 0; i < req->n_ext; i++) {
        const char *k = req->ext[i].key;
        if (!strcmp(k, "Signature") || (!with_unique_key_query && !strcmp(k, "_UNIQUE_KEY_QUERY"))) continue;
        fields[n++] = &req->ext[i];
        len += strlen(req->ext[i].val);
    }
    qsort(fields, (size_t)n, sizeof *fields, ext_cmp);
    uint8_t *content = xmalloc(len ? len : 1), *w = content;
    for (int i = 0; i < n; i++) {
        size_t vl = strlen(fields[i]->val);
        memcpy(w, fields[i]->val, vl);
        w += vl;
    }
    if (req->body_len) memcpy(w, req->body, req->body_len);
    char expected[ACL_SIGNATURE_LEN + 1];
    acl_sign(secret, content, len, expected);
    free(content);
    free(fields);
    return strcmp(expected, signature) == 0;
}

/* RequestCode values the check looks at. */
enum {
    RC_SEND_MESSAGE = 10,
    RC_PULL_MESSAGE = 11,
    RC_QUERY_MESSAGE = 12,
    RC_UPDATE_CONSUMER_OFFSET = 15,
    RC_UPDATE_AND_CREATE_TOPIC = 17,
    RC_UPDATE_BROKER_CONFIG = 25,
    RC_HEART_BEAT = 34,
    RC_UNREGISTER_CLIENT = 35,
    RC_CONSUMER_SEND_MSG_BACK = 36,
    RC_GET_CONSUMER_LIST_BY_GROUP = 38,
    RC_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200,
    RC_DELETE_SUBSCRIPTIONGROUP = 207,
    RC_DELETE_TOPIC_IN_BROKER = 215,
    RC_SEND_MESSAGE_V2 = 310,
};

/* Permission.ADMIN_CODE */
static bool needs_admin(int32_t code)
{
    return code == RC_UPDATE_AND_CREATE_TOPIC || code == RC_UPDATE_BROKER_CONFIG ||
           code == RC_DELETE_TOPIC_IN_BROKER || code == RC_UPDATE_AND_CREATE_SUBSCRIPTIONGROUP ||
           code == RC_DELETE_SUBSCRIPTIONGROUP;
}

typedef struct needed {
    acl_resource *list;
    int n;
} needed;

static void need(needed *nd, const char *resource, uint8_t perm)
{
    if (resource) add_resource(&nd->list, &nd->n, resource, perm);
}

static void need_group(needed *nd, const char *group, uint8_t perm)
{
    if (!group) return;
    char *retry = str_printf("%s%s", RETRY_PREFIX, group);
    need(nd, retry, perm);
    free(retry);
}

static bool is_retry_topic(const char *topic) { return topic && !strncmp(topic, RETRY_PREFIX, strlen(RETRY_PREFIX)); }

/* Header fields Apache decodes (required ones refuse the request when absent). */
typedef struct group_topic_hdr {
    const char *group;
    const char *topic;
    const char *client_id;
    int32_t queue_id;
    int64_t commit_offset;
} group_topic_hdr;

#define GT(name, type, req, member) {name, type, req, offsetof(group_topic_hdr, member)}
static const hdr_field unregister_hdr[] = {
    GT("clientID", HDR_STR, true, client_id),
    GT("consumerGroup", HDR_STR, false, group),
};
static const hdr_field consumer_list_hdr[] = {GT("consumerGroup", HDR_STR, true, group)};
static const hdr_field update_offset_hdr[] = {
    GT("consumerGroup", HDR_STR, true, group),
    GT("topic", HDR_STR, true, topic),
    GT("queueId", HDR_I32, true, queue_id),
    GT("commitOffset", HDR_I64, true, commit_offset),
};
#undef GT

/* HEART_BEAT: each consumer's group (SUB) and subscribed topics (SUB). */
static int heartbeat_needs(const rmq_cmd *req, needed *nd, char *err, size_t errlen)
{
    const char *why = "empty body";
    cJSON *body = req->body_len ? fjson_parse((const char *)req->body, req->body_len, &why) : NULL;
    if (!body) {
        snprintf(err, errlen, "decode HeartbeatData failed: %s", why);
        return RMQ_ERR;
    }
    const cJSON *consumers = cJSON_GetObjectItemCaseSensitive(body, "consumerDataSet"), *cd;
    if (!cJSON_IsArray(consumers)) consumers = NULL;
    cJSON_ArrayForEach(cd, consumers)
    {
        const char *group = NULL;
        if (fjson_field_string(cd, "groupName", &group) == FJSON_OK) need_group(nd, group, PERM_SUB);
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(cd, "subscriptionDataSet"), *sd;
        if (!cJSON_IsArray(subs)) subs = NULL;
        cJSON_ArrayForEach(sd, subs)
        {
            const char *topic = NULL;
            if (fjson_field_string(sd, "topic", &topic) == FJSON_OK) need(nd, topic, PERM_SUB);
        }
    }
    cJSON_Delete(body);
    return RMQ_OK;
}

/* decodeCommandCustomHeader; Apache wraps its failure as AclException(e.getMessage()), the text without the class. */
static int decode_header(const rmq_cmd *req, const hdr_field *fields, size_t n, group_topic_hdr *h, char *err,
                         size_t errlen)
{
    if (cmd_decode_header(req, fields, n, h, err, errlen) == RMQ_OK) return RMQ_OK;
    const char *msg = strstr(err, "Exception: ");
    if (msg) memmove(err, msg + 11, strlen(msg + 11) + 1);
    return RMQ_ERR;
}

/* PlainAccessValidator.parse: the resources a request names, with the permission each needs. */
static int needed_resources(const rmq_cmd *req, needed *nd, char *err, size_t errlen)
{
    group_topic_hdr h = {0};
#define DECODE(fields) decode_header(req, fields, sizeof fields / sizeof fields[0], &h, err, errlen)
    switch (req->code) {
    case RC_SEND_MESSAGE:
    case RC_SEND_MESSAGE_V2: {
        bool v2 = req->code == RC_SEND_MESSAGE_V2;
        const char *topic = cmd_ext_get(req, v2 ? "b" : "topic");
        /* Apache reads "group" for SEND_MESSAGE, a key the header does not have
         * (it is producerGroup), so sends to a retry topic through V1 check nothing. */
        if (is_retry_topic(topic)) need_group(nd, cmd_ext_get(req, v2 ? "a" : "group"), PERM_SUB);
        else need(nd, topic, PERM_PUB);
        return RMQ_OK;
    }
    case RC_CONSUMER_SEND_MSG_BACK: need_group(nd, cmd_ext_get(req, "group"), PERM_SUB); return RMQ_OK;
    case RC_PULL_MESSAGE:
        need(nd, cmd_ext_get(req, "topic"), PERM_SUB);
        need_group(nd, cmd_ext_get(req, "consumerGroup"), PERM_SUB);
        return RMQ_OK;
    case RC_QUERY_MESSAGE: need(nd, cmd_ext_get(req, "topic"), PERM_SUB); return RMQ_OK;
    case RC_HEART_BEAT: return heartbeat_needs(req, nd, err, errlen);
    case RC_UNREGISTER_CLIENT:
        if (DECODE(unregister_hdr)) return RMQ_ERR;
        need_group(nd, h.group, PERM_SUB);
        return RMQ_OK;
    case RC_GET_CONSUMER_LIST_BY_GROUP:
        if (DECODE(consumer_list_hdr)) return RMQ_ERR;
        need_group(nd, h.group, PERM_SUB);
        return RMQ_OK;
    case RC_UPDATE_CONSUMER_OFFSET:
        if (DECODE(update_offset_hdr)) return RMQ_ERR;
        need_group(nd, h.group, PERM_SUB);
        need(nd, h.topic, PERM_SUB);
        return RMQ_OK;
    default: return RMQ_OK;
    }
#undef DECODE
}

/* Permission.checkPermission */
static bool perm_allows(uint8_t needed_perm, uint8_t owned)
{
    if (owned & PERM_DENY) return false;
    if (needed_perm & PERM_ANY) return (owned & (PERM_PUB | PERM_SUB)) != 0;
    return (needed_perm & owned) != 0;
}

/* PlainPermissionManager.checkPerm */
static int check_perms(const acl_account *ac, const rmq_cmd *req, const needed *nd, char *err, size_t errlen)
{
    if (needs_admin(req->code) && !ac->admin) {
        snprintf(err, errlen, "Need admin permission for request code=%d, but accessKey=%s is not", req->code,
                 ac->access_key);
        return RMQ_ERR;
    }
    if (!ac->n_perms && ac->admin) return RMQ_OK;
    for (int i = 0; i < nd->n; i++) {
        const char *res = nd->list[i].name;
        bool group = is_retry_topic(res);
        uint8_t owned = group ? ac->default_group_perm : ac->default_topic_perm;
        for (int j = 0; j < ac->n_perms; j++)
            if (!strcmp(ac->perms[j].name, res)) owned = ac->perms[j].perm;
        if (!perm_allows(nd->list[i].perm, owned)) {
            snprintf(err, errlen, "No default permission for %s:%s", group ? "group" : "topic",
                     group ? res + strlen(RETRY_PREFIX) : res);
            return RMQ_ERR;
        }
    }
    return RMQ_OK;
}

static const acl_account *find_account(const acl *a, const char *access_key)
{
    for (int i = 0; i < a->n_accounts; i++)
        if (!strcmp(a->accounts[i].access_key, access_key)) return &a->accounts[i];
    return NULL;
}

/* The client's IP from "ip:port" (RemotingHelper.parseChannelRemoteAddr, port cut). */
static bool remote_ip(const char *remote, ip_addr *out)
{
    const char *colon = remote ? strrchr(remote, ':') : NULL;
    if (!colon) return remote && ip_parse(remote, out);
    char host[64];
    size_t n = (size_t)(colon - remote);
    if (n && remote[0] == '[' && remote[n - 1] == ']') remote++, n -= 2;
    if (n >= sizeof host) return false;
    memcpy(host, remote, n);
    host[n] = 0;
    return ip_parse(host, out);
}

/* PlainPermissionManager.validate over PlainAccessValidator.parse. */
int acl_check(const acl *a, const rmq_cmd *req, const char *remote, char *err, size_t errlen)
{
    needed nd = {0};
    int rc = RMQ_ERR;
    const char *access_key = cmd_ext_get(req, "AccessKey");
    const char *signature = cmd_ext_get(req, "Signature");
    const acl_account *ac;
    ip_addr ip;
    bool have_ip = remote_ip(remote, &ip);
    /* parse() runs before validate(): a malformed header is refused even from a white-listed address. */
    if (req->n_ext && needed_resources(req, &nd, err, errlen)) goto out;
    for (int i = 0; have_ip && i < a->n_global_white; i++)
        if (rule_match(&a->global_white[i], &ip)) {
            rc = RMQ_OK;
            goto out;
        }
    if (!access_key) {
        snprintf(err, errlen, "No accessKey is configured");
        goto out;
    }
    if (!(ac = find_account(a, access_key))) {
        snprintf(err, errlen, "No acl config for %s", access_key);
        goto out;
    }
    if (have_ip && rule_match(&ac->white, &ip)) {
        rc = RMQ_OK;
        goto out;
    }
    if (!signature || !(signature_matches(req, ac->secret_key, signature, false) ||
                        (req->code == RC_QUERY_MESSAGE && cmd_ext_get(req, "_UNIQUE_KEY_QUERY") &&
                         signature_matches(req, ac->secret_key, signature, true)))) {
        snprintf(err, errlen, "Check signature failed for accessKey=%s", access_key);
        goto out;
    }
    /* Message traces may always be sent. */
    for (int i = 0; i < nd.n; i++)
        if (!strcmp(nd.list[i].name, TRACE_TOPIC) && nd.list[i].perm == PERM_PUB) {
            rc = RMQ_OK;
            goto out;
        }
    rc = check_perms(ac, req, &nd, err, errlen);
out:
    for (int i = 0; i < nd.n; i++) free(nd.list[i].name);
    free(nd.list);
    return rc;
}

rmq_cmd *acl_server_hook(rmq_conn *conn, rmq_cmd *req, void *arg)
{
    char why[512];
    if (acl_check(arg, req, rmq_conn_remote(conn), why, sizeof why) == RMQ_OK) return NULL;
    log_warn("acl", "%s: request code %d refused: %s", rmq_conn_remote(conn), req->code, why);
    return cmd_new_responsef(req, 1 /* SYSTEM_ERROR */, "org.apache.rocketmq.acl.common.AclException: %s", why);
}
