/*
 * filter: which messages a subscription wants. A subscription's expression is
 * compiled once (filter_compile) and then asked about each message:
 *
 *   TAG   ("TAG", "" or NULL type): "*" or "" takes everything, otherwise
 *         "tagA || tagB" — split on "||", trimmed, empties dropped, each tag kept
 *         with its Java String.hashCode (FilterAPI.buildSubscriptionData). The
 *         broker matches a consume-queue tagsCode against those hashes; a client
 *         re-checks the tag string.
 *   SQL92 ("SQL92"): Apache's JMS-selector subset (filter/SelectorParser.jj of
 *         4.9.8) evaluated over the message's properties with Apache's
 *         three-valued logic; only a TRUE result takes the message.
 *
 * A compiled filter is immutable: any number of threads may match against it.
 */
#ifndef RMQ_FILTER_H
#define RMQ_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest SQL92 expression accepted, and deepest nesting of its parts. Apache has
 * neither limit; these only refuse inputs no real subscription comes near. */
#define FILTER_MAX_EXPRESSION_LEN (64 * 1024)
#define FILTER_MAX_DEPTH 128

enum filter_type { FILTER_TAG, FILTER_SQL92 };

/* An SQL92 result: JMS's TRUE / FALSE / UNKNOWN (a NULL somewhere), or ERROR when
 * Apache's evaluator throws (e.g. 'abc' compared with a number). */
enum filter_verdict { FILTER_FALSE, FILTER_TRUE, FILTER_UNKNOWN, FILTER_ERROR };

typedef struct rmq_filter rmq_filter;

/*
 * A message property by name, NUL-terminated, or NULL when the message has none.
 * The string must stay valid until the filter call that asked for it returns.
 */
typedef const char *(*filter_prop_fn)(const char *name, void *arg);

/*
 * Compiles `expression` of `expression_type` (the pull/heartbeat fields
 * expressionType and subscription). Returns a filter (free with filter_free) or
 * NULL with a reason in err — the broker answers SUBSCRIPTION_PARSE_FAILED.
 */
rmq_filter *filter_compile(const char *expression_type, const char *expression,
                           char *err, size_t errlen);
void filter_free(rmq_filter *f);

enum filter_type filter_type(const rmq_filter *f);

/*
 * Consume-queue stage (ExpressionMessageFilter.isMatchedByConsumeQueue): a TAG
 * filter takes everything or tests (int32)tags_code against its hashes; an SQL92
 * filter always says yes here (no bloom-filter bitmap is kept).
 */
bool filter_match_tags_code(const rmq_filter *f, int64_t tags_code);

/* Client-side re-check by tag string; a message without tags (NULL) only passes "*".
 * An SQL92 filter says yes. */
bool filter_match_tag(const rmq_filter *f, const char *tag);

/*
 * Commit-log stage (isMatchedByCommitLog): an SQL92 filter's verdict over the
 * message's properties (user and system ones such as TAGS). A TAG filter
 * answers FILTER_TRUE.
 */
enum filter_verdict filter_eval(const rmq_filter *f, filter_prop_fn get, void *arg);
/* filter_eval(...) == FILTER_TRUE: the only verdict that delivers the message. */
bool filter_match_props(const rmq_filter *f, filter_prop_fn get, void *arg);

#endif
