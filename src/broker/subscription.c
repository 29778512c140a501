/*
 * Subscriptions as consumers send them in heartbeats (SubscriptionData, see
 * clients.h): tags and tag hash codes parsed from the expression, the
 * compiled filter, the JSON Apache writes; and the names of the heartbeat's
 * consume type, message model and consume-from enums.
 */
#include "broker/clients.h"

#include <stdlib.h>
#include <string.h>

#include "common/fjson.h"
#include "common/log.h"
#include "common/util.h"
#include "filter/filter.h"

/* ---- enum names ------------------------------------------------------- */

static const char *const consume_type_names[] = {"CONSUME_ACTIVELY", "CONSUME_PASSIVELY"};
static const char *const message_model_names[] = {"BROADCASTING", "CLUSTERING"};
static const char *const consume_from_where_names[] = {
    "CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
    "CONSUME_FROM_MIN_OFFSET",  "CONSUME_FROM_MAX_OFFSET",
    "CONSUME_FROM_FIRST_OFFSET", "CONSUME_FROM_TIMESTAMP",
};
#define NAMES(a) a, sizeof a / sizeof a[0]

static const char *enum_name(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static int enum_from_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) return (int)i;
    return -1;
}

const char *consume_type_name(int v) { return enum_name(NAMES(consume_type_names), v); }
const char *message_model_name(int v) { return enum_name(NAMES(message_model_names), v); }
const char *consume_from_where_name(int v) { return enum_name(NAMES(consume_from_where_names), v); }
int consume_type_from_name(const char *s) { return enum_from_name(NAMES(consume_type_names), s); }
int message_model_from_name(const char *s) { return enum_from_name(NAMES(message_model_names), s); }
int consume_from_where_from_name(const char *s)
{
    return enum_from_name(NAMES(consume_from_where_names), s);
}

/* ---- subscriptions ---------------------------------------------------- */

bool expression_type_is_tag(const char *t)
{
    return !t || !*t || strcmp(t, "TAG") == 0;
}

static bool has_tag(char *const *tags, size_t n, const char *tag, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(tags[i]) == len && memcmp(tags[i], tag, len) == 0) return true;
    return false;
}

static void add_tag(subscription_data *sd, const char *tag, size_t len)
{
    if (has_tag(sd->tags, sd->n_tags, tag, len)) return;
    sd->tags = xrealloc(sd->tags, (sd->n_tags + 1) * sizeof *sd->tags);
    sd->tags[sd->n_tags++] = xstrndup(tag, len);
}

/* FilterAPI.buildSubscriptionData: "a || b" -> trimmed non-empty tags; "*" or "" -> none. */
static void tags_from_expression(subscription_data *sd, const char *expr)
{
    if (!expr || !*expr || strcmp(expr, "*") == 0) return;
    const char *p = expr;
    for (;;) {
        const char *sep = strstr(p, "||");
        const char *end = sep ? sep : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (unsigned char)*a <= ' ') a++;   /* String.trim */
        while (b > a && (unsigned char)b[-1] <= ' ') b--;
        if (b > a) add_tag(sd, a, (size_t)(b - a));
        if (!sep) break;
        p = sep + 2;
    }
}

subscription_data *subscription_new(const char *topic, const char *sub_string,
                                    const char *expression_type, const char *const *tags,
                                    size_t n_tags, int64_t sub_version, bool class_filter_mode)
{
    subscription_data *sd = xcalloc(1, sizeof *sd);
    sd->topic = xstrdup(topic ? topic : "");
    sd->sub_string = sub_string ? xstrdup(sub_string) : NULL;
    sd->expression_type = xstrdup(expression_type ? expression_type : "TAG");
    sd->sub_version = sub_version;
    sd->class_filter_mode = class_filter_mode;
    for (size_t i = 0; i < n_tags; i++) add_tag(sd, tags[i], strlen(tags[i]));
    if (expression_type_is_tag(expression_type)) {
        if (!sd->n_tags) tags_from_expression(sd, sub_string);
        sd->codes = xmalloc((sd->n_tags ? sd->n_tags : 1) * sizeof *sd->codes);
        for (size_t i = 0; i < sd->n_tags; i++) {
            int32_t h = java_string_hash(sd->tags[i], strlen(sd->tags[i]));
            bool dup = false;   /* codeSet is a Set: two tags may share a hash */
            for (size_t j = 0; j < sd->n_codes; j++) dup |= sd->codes[j] == h;
            if (!dup) sd->codes[sd->n_codes++] = h;
        }
    }
    char err[256];
    sd->filter = filter_compile(sd->expression_type, sub_string ? sub_string : "", err, sizeof err);
    if (!sd->filter)
        log_warn("clients", "subscription to %s does not compile (%s): %s", sd->topic,
                 sd->expression_type, err);
    return sd;
}

void subscription_free(subscription_data *sd)
{
    if (!sd) return;
    for (size_t i = 0; i < sd->n_tags; i++) free(sd->tags[i]);
    free(sd->tags);
    free(sd->codes);
    filter_free(sd->filter);
    free(sd->topic);
    free(sd->sub_string);
    free(sd->expression_type);
    free(sd);
}

void subscription_write_json(fjson_writer *w, const subscription_data *sd)
{
    fjson_begin_object(w);
    fjson_prop_bool(w, "classFilterMode", sd->class_filter_mode);
    fjson_key(w, "codeSet");
    fjson_begin_array(w);
    for (size_t i = 0; i < sd->n_codes; i++) fjson_int64(w, sd->codes[i]);
    fjson_end_array(w);
    fjson_prop_string(w, "expressionType", sd->expression_type);
    fjson_prop_string(w, "subString", sd->sub_string);
    fjson_prop_int64(w, "subVersion", sd->sub_version);
    fjson_key(w, "tagsSet");
    fjson_begin_array(w);
    for (size_t i = 0; i < sd->n_tags; i++) fjson_string(w, sd->tags[i]);
    fjson_end_array(w);
    fjson_prop_string(w, "topic", sd->topic);
    fjson_end_object(w);
}
