/*
 * acl_int: types shared by the ACL's own files. Not for other modules (they
 * use acl.h).
 */
#ifndef RMQ_BROKER_ACL_INT_H
#define RMQ_BROKER_ACL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "acl.h"

/* ---- acl_yaml.c: the plain_acl.yml reader ---- */

enum ytype { Y_NULL, Y_SCALAR, Y_MAP, Y_SEQ };

typedef struct ynode {
    enum ytype type;
    char *str;             /* Y_SCALAR */
    char **keys;           /* Y_MAP: keys[i] names items[i] */
    struct ynode **items;  /* Y_MAP, Y_SEQ */
    int n;
} ynode;

/* The document's root node (an empty file is null); NULL with err set on bad input. */
ynode *acl_yaml_parse(const char *text, char *err, size_t errlen);
void acl_yaml_free(ynode *n);
/* The item of a mapping under key; NULL when absent or map is not a mapping. */
const ynode *acl_yaml_get(const ynode *map, const char *key);

/* ---- acl.c: white-list address rules (RemoteAddressStrategyFactory) ---- */

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

/* Compiles TEXT (blank: matches nobody); RMQ_ERR with Apache's message in err. */
int acl_rule_compile(addr_rule *r, const char *text, char *err, size_t errlen);
void acl_rule_free(addr_rule *r);

/* ---- acl_config.c: accounts ---- */

/* Permission.java */
enum { PERM_DENY = 1, PERM_ANY = ACL_PERM_ANY, PERM_PUB = ACL_PERM_PUB, PERM_SUB = ACL_PERM_SUB };

#define RETRY_PREFIX "%RETRY%"

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

/* PlainAccessResource.addResourceAndPerm: a HashMap, so a later entry replaces. */
void acl_add_resource(acl_resource **list, int *n, const char *name, uint8_t perm);

#endif
