/*
 * Topic attributes (Apache 5.x TopicAttributes, AttributeParser, AttributeUtil,
 * TopicMessageType). A topic holds at most the four known attributes, so they
 * live in fixed slots of topic_config; the texts of the exceptions Apache throws
 * on a bad modification are reproduced because its broker answers them as the
 * remark.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/message.h"
#include "meta/meta_internal.h"

typedef struct attr_def {
    const char *name;
    bool changeable;
    const char *const *universe;   /* an EnumAttribute's values; NULL: a LongRangeAttribute */
    const char *universe_text;     /* the HashSet's toString, in its iteration order */
} attr_def;

static const char *const cleanup_policies[] = {"DELETE", "COMPACTION", NULL};
static const char *const message_types[] = {"UNSPECIFIED", "MIXED", "TRANSACTION", "FIFO", "DELAY", "NORMAL", NULL};
static const char *const queue_types[] = {"SimpleCQ", "BatchCQ", NULL};

static const attr_def defs[TOPIC_ATTR_COUNT] = {
    [TOPIC_ATTR_CLEANUP_POLICY] = {"cleanup.policy", false, cleanup_policies, "[DELETE, COMPACTION]"},
    [TOPIC_ATTR_MESSAGE_TYPE] = {"message.type", true, message_types,
                                 "[UNSPECIFIED, MIXED, TRANSACTION, FIFO, DELAY, NORMAL]"},
    [TOPIC_ATTR_QUEUE_TYPE] = {"queue.type", false, queue_types, "[SimpleCQ, BatchCQ]"},
    [TOPIC_ATTR_RESERVE_TIME] = {"reserve.time", true, NULL, NULL},
};

const char *topic_attr_name(enum topic_attr a) { return defs[a].name; }

static int attr_by_name(const char *name)
{
    for (int i = 0; i < TOPIC_ATTR_COUNT; i++)
        if (strcmp(defs[i].name, name) == 0) return i;
    return -1;
}

bool topic_config_has_attributes(const topic_config *tc)
{
    for (int i = 0; i < TOPIC_ATTR_COUNT; i++)
        if (tc->attributes[i][0]) return true;
    return false;
}

const char *topic_config_message_type(const topic_config *tc)
{
    const char *v = tc->attributes[TOPIC_ATTR_MESSAGE_TYPE];
    return v[0] ? v : "NORMAL";
}

/* ---- AttributeParser.parseToMap ---------------------------------------- */

#define MAX_ENTRIES 16

typedef struct entry {
    char *key, *value;
} entry;

typedef struct parsed {
    char *copy;
    entry e[MAX_ENTRIES];
    int n;
} parsed;

/* Java's String.split(sep) for one char: pieces, trailing empty ones dropped. */
static int split(char *s, char sep, char **out, int max)
{
    int n = 0;
    for (char *p = s;; p++) {
        if (n == max) return -1;
        out[n++] = p;
        char *q = strchr(p, sep);
        if (!q) break;
        *q = '\0';
        p = q;
    }
    while (n > 0 && !*out[n - 1]) n--;
    return n;
}

static const char *parse_to_map(const char *modification, parsed *pm, char *why, size_t cap)
{
    memset(pm, 0, sizeof *pm);
    if (!modification || !*modification) return NULL;
    pm->copy = strdup(modification);
    char *kvs[MAX_ENTRIES];
    int n = split(pm->copy, ',', kvs, MAX_ENTRIES);
    if (n < 0) return snprintf(why, cap, "too many attributes"), why;
    for (int i = 0; i < n; i++) {
        char *kv = kvs[i], *key, *value;
        if (strchr(kv, '=')) {
            char *parts[64];
            int np = split(kv, '=', parts, 64);
            if (np < 2) return snprintf(why, cap, "Index %d out of bounds for length %d", np, np), why;
            key = parts[0];
            value = parts[1];
            if (!strchr(key, '+')) return snprintf(why, cap, "add/alter attribute format is wrong: %s", key), why;
        } else {
            key = kv;
            value = "";
            if (!strchr(key, '-')) return snprintf(why, cap, "delete attribute format is wrong: %s", key), why;
        }
        for (int k = 0; k < pm->n; k++)
            if (strcmp(pm->e[k].key, key) == 0) return snprintf(why, cap, "key duplication: %s", key), why;
        pm->e[pm->n++] = (entry){key, value};
    }
    return NULL;
}

const char *topic_attributes_parse(const char *modification, bool *adds_mixed, char *why, size_t cap)
{
    parsed pm;
    const char *err = parse_to_map(modification, &pm, why, cap);
    *adds_mixed = false;
    for (int i = 0; !err && i < pm.n; i++)
        if (strcmp(pm.e[i].key, "+message.type") == 0 && strcmp(pm.e[i].value, "MIXED") == 0) *adds_mixed = true;
    free(pm.copy);
    return err;
}

/* ---- AttributeUtil.alterCurrentAttributes -------------------------------- */

/* Attribute.verify: NULL when VALUE fits, else the exception's message. */
static const char *verify(const attr_def *d, const char *value, char *why, size_t cap)
{
    if (d->universe) {
        for (const char *const *u = d->universe; *u; u++)
            if (strcmp(*u, value) == 0) return NULL;
        return snprintf(why, cap, "value is not in set: %s", d->universe_text), why;
    }
    /* Long.parseLong: optional sign, decimal digits, in range. */
    char *end;
    errno = 0;
    long long l = strtoll(value, &end, 10);
    if (!*value || *end || errno || value[0] == ' ' || (value[0] == '+' && !value[1]))
        return snprintf(why, cap, "For input string: \"%s\"", value), why;
    if (l < -1) return snprintf(why, cap, "value is not in range(-1, 9223372036854775807)"), why;
    return NULL;
}

typedef enum { OP_INIT, OP_ADD, OP_UPDATE, OP_DELETE } op_kind;

const char *topic_attributes_alter(topic_config *tc, const char *modification, bool create, char *why, size_t cap)
{
    parsed pm;
    const char *err = parse_to_map(modification, &pm, why, cap);
    op_kind ops[MAX_ENTRIES];
    int idx[MAX_ENTRIES];
    for (int i = 0; !err && i < pm.n; i++) {
        const char *key = pm.e[i].key, *real = key + 1;
        /* validate(realKey) and duplicationCheck */
        if (!*real || strchr(real, '+') || strchr(real, '-')) {
            err = (snprintf(why, cap, "kv string format wrong."), why);
            break;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(pm.e[k].key + 1, real) == 0) err = (snprintf(why, cap, "alter duplication key. key: %s", real), why);
        if (err) break;
        idx[i] = attr_by_name(real);
        bool present = idx[i] >= 0 && tc->attributes[idx[i]][0];
        if (create) {
            if (key[0] != '+')
                err = (snprintf(why, cap, "only add attribute is supported while creating topic. key: %s", real), why);
            ops[i] = OP_INIT;
        } else if (key[0] == '+') {
            ops[i] = present ? OP_UPDATE : OP_ADD;
        } else if (key[0] == '-') {
            if (!present) err = (snprintf(why, cap, "attempt to delete a nonexistent key: %s", real), why);
            ops[i] = OP_DELETE;
        } else {
            err = (snprintf(why, cap, "wrong format key: %s", real), why);
        }
    }
    /* validateAlter over init, add, update, then delete */
    for (op_kind op = OP_INIT; !err && op <= OP_DELETE; op++) {
        for (int i = 0; !err && i < pm.n; i++) {
            if (ops[i] != op) continue;
            if (idx[i] < 0) {
                err = (snprintf(why, cap, "unsupported key: %s", pm.e[i].key + 1), why);
                break;
            }
            const attr_def *d = &defs[idx[i]];
            if (op != OP_INIT && !d->changeable)
                err = (snprintf(why, cap, "attempt to update an unchangeable attribute. key: %s", d->name), why);
            else if (op != OP_DELETE)
                err = verify(d, pm.e[i].value, why, cap);
            if (!err && op != OP_DELETE && strlen(pm.e[i].value) >= TOPIC_ATTR_VALUE_MAX)
                err = (snprintf(why, cap, "value of %s is too long", d->name), why);
        }
    }
    for (int i = 0; !err && i < pm.n; i++) {
        if (ops[i] == OP_DELETE) tc->attributes[idx[i]][0] = '\0';
        else snprintf(tc->attributes[idx[i]], TOPIC_ATTR_VALUE_MAX, "%s", pm.e[i].value);
    }
    free(pm.copy);
    return err;
}

/* ---- TopicMessageType.parseFromMessageProperty ----------------------------- */

static bool has_prop(const char *props, size_t len, const char *key)
{
    const char *v;
    size_t vlen;
    return msg_props_find(props, len, key, &v, &vlen);
}

const char *topic_message_type_of(const char *props, size_t len)
{
    const char *v;
    size_t vlen;
    if (msg_props_find(props, len, "TRAN_MSG", &v, &vlen) && vlen == 4 && memcmp(v, "true", 4) == 0)
        return "TRANSACTION";
    if (has_prop(props, len, "DELAY") || has_prop(props, len, "TIMER_DELIVER_MS") ||
        has_prop(props, len, "TIMER_DELAY_SEC") || has_prop(props, len, "TIMER_DELAY_MS"))
        return "DELAY";
    if (has_prop(props, len, "__SHARDINGKEY")) return "FIFO";
    return "NORMAL";
}

/*
 * The 5.x proxy's send-side check (SendMessageActivity with DefaultTopicMessageTypeValidator,
 * enableTopicMessageTypeCheck): retry and DLQ topics and forwarded messages (TRANSFER_FLAG)
 * pass; otherwise the message's type must be the topic's, unless the topic is MIXED. Only a
 * topic that carries message.type is checked: one created without attributes (by a 4.9.8
 * tool or client) takes what a 4.9.8 broker takes.
 */
const char *topic_message_type_refusal(const topic_config *tc, const char *props, char *why, size_t cap)
{
    const char *expected = tc->attributes[TOPIC_ATTR_MESSAGE_TYPE];
    size_t len = props ? strlen(props) : 0;
    const char *v;
    size_t vlen;
    if (!expected[0] || strcmp(expected, "MIXED") == 0 ||
        strncmp(tc->topic_name, TOPIC_RETRY_PREFIX, strlen(TOPIC_RETRY_PREFIX)) == 0 ||
        strncmp(tc->topic_name, TOPIC_DLQ_PREFIX, strlen(TOPIC_DLQ_PREFIX)) == 0 ||
        (props && msg_props_find(props, len, "TRANSFER_FLAG", &v, &vlen)))
        return NULL;
    const char *actual = props ? topic_message_type_of(props, len) : "NORMAL";
    if (strcmp(actual, expected) == 0) return NULL;
    snprintf(why, cap, "TopicMessageType validate failed, the expected type is %s, but actual type is %s", expected,
             actual);
    return why;
}
