/*
 * Subscription expressions (src/filter): the SQL92 selector parser and
 * evaluator, and TAG expressions. Input: one flag byte (bit 0: TAG instead of
 * SQL92), the expression up to a NUL byte, then a message's properties string
 * (k\1v\2k\1v) that the compiled filter is evaluated against.
 */
#include "common/message.h"
#include "filter/filter.h"
#include "fuzz.h"

static const char *lookup(const char *name, void *arg)
{
    return msg_props_get(arg, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    fuzz_in in = {data, data + size};
    uint8_t flags = fuzz_u8(&in);
    char *expr = fuzz_str(&in, 0, NULL);
    msg_props props;
    msg_props_init(&props);
    msg_props_parse(&props, (const char *)in.p, fuzz_left(&in));

    char err[256] = "";
    rmq_filter *f = filter_compile(flags & 1 ? "TAG" : "SQL92", expr, err, sizeof err);
    if (!f) {
        FUZZ_ASSERT(err[0] != 0);
    } else {
        enum filter_verdict v = filter_eval(f, lookup, &props);
        FUZZ_ASSERT(v == FILTER_TRUE || v == FILTER_FALSE || v == FILTER_UNKNOWN || v == FILTER_ERROR);
        FUZZ_ASSERT(filter_eval(f, lookup, &props) == v);  /* a compiled filter is immutable */
        FUZZ_ASSERT(filter_match_props(f, lookup, &props) == (v == FILTER_TRUE));
        const char *tags = msg_props_get(&props, MSG_PROP_TAGS);
        bool by_tag = filter_match_tag(f, tags);
        int64_t code = tags ? msg_tags_code(tags, strlen(tags)) : 0;
        bool by_code = filter_match_tags_code(f, code);
        /* A TAG filter that takes the tag string takes its hash code too. */
        if (filter_type(f) == FILTER_TAG && by_tag && tags) FUZZ_ASSERT(by_code);
        if (filter_type(f) == FILTER_SQL92) FUZZ_ASSERT(by_tag && by_code);
        filter_free(f);
    }
    msg_props_free(&props);
    free(expr);
    return 0;
}
