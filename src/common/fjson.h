/*
 * fjson: JSON the way Apache RocketMQ's fastjson 1.2.69 reads and writes it
 * (docs/remoting.md). cJSON is the tree; this adds what cJSON lacks:
 *
 *  - fjson_parse: a lenient reader that also takes unquoted keys
 *    ({0:"a"}, {name:1}), object keys ({{"brokerName":"b",...}:{...}}),
 *    single-quoted strings and trailing commas, and keeps every number's
 *    source token so 64-bit integers survive exactly (cJSON holds doubles).
 *  - fjson_writer: a string builder emitting fastjson's shapes: bare
 *    integer and object map keys, fastjson string escaping, Java-style
 *    doubles, optional PrettyFormat (what ConfigManager.persist writes) and
 *    the "standard" variant namesrv uses for new clients.
 *  - typed field getters telling "missing" apart from "wrong type".
 *
 * Key order is the caller's business: fastjson sorts bean properties by
 * name and writes maps in their iteration order; the writer just writes.
 */
#ifndef RMQ_FJSON_H
#define RMQ_FJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* ---- reading ---------------------------------------------------------- */

/*
 * Parse TEXT[0..len) into a cJSON tree (caller frees with cJSON_Delete).
 * Unquoted keys are stored as their text, object keys as the compact JSON
 * text of the key object (fjson_parse_key turns one back into a tree).
 * Every number item keeps its source token in valuestring (freed by
 * cJSON_Delete); read integers with fjson_get_int64, not valuedouble.
 * On bad input returns NULL and points *err (if err) at a static reason.
 */
cJSON *fjson_parse(const char *text, size_t len, const char **err);

/* Parse the object key of a map member ({{...}:v} form) back into a tree. */
cJSON *fjson_parse_key(const cJSON *member, const char **err);

/*
 * Integer value of ITEM as fastjson would convert it to a long: exact for
 * integer tokens, truncated for fractional ones, and numeric strings
 * ("123") accepted. False (and *out untouched) for anything else.
 */
bool fjson_get_int64(const cJSON *item, int64_t *out);

/*
 * Typed reads of OBJ's field NAME. JSON null counts as missing, as in
 * fastjson. Conversions fastjson makes are accepted: numeric strings for
 * integers, "true"/"false" strings and 0/1 for booleans, numbers and
 * booleans for strings (returned as their token text, owned by the tree).
 */
enum fjson_field { FJSON_OK = 0, FJSON_MISSING = 1, FJSON_WRONG_TYPE = -1 };
enum fjson_field fjson_field_string(const cJSON *obj, const char *name, const char **out);
enum fjson_field fjson_field_int32(const cJSON *obj, const char *name, int32_t *out);
enum fjson_field fjson_field_int64(const cJSON *obj, const char *name, int64_t *out);
enum fjson_field fjson_field_bool(const cJSON *obj, const char *name, bool *out);

/* ---- writing ---------------------------------------------------------- */

enum {
    /* SerializerFeature.PrettyFormat: one tab per level, "key":value with
     * no space, bare map keys stay on the line of the previous entry
     * (fastjson's MapSerializer only breaks lines before string keys).
     * Arrays stay compact. */
    FJSON_PRETTY = 1 << 0,
    /* BrowserCompatible + QuoteFieldNames (namesrv route data for clients
     * >= V4_9_4): bare keys quoted, non-ASCII and '/' escaped, longs
     * outside +-(2^53-1) written as strings. */
    FJSON_STANDARD = 1 << 1,
};

#define FJSON_MAX_DEPTH 64

/*
 * A growable output buffer plus the nesting state that places commas,
 * colons and (pretty) line breaks. Init on the stack, write, then take
 * the text with fjson_writer_finish (or drop it with fjson_writer_free).
 * Calls that do not fit the nesting (a value where a key is due, closing
 * the wrong bracket, deeper than FJSON_MAX_DEPTH) abort: they are bugs.
 */
typedef struct fjson_writer {
    char *buf;
    size_t len, cap;
    unsigned flags;
    int depth;
    struct fjson_level {
        char kind;          /* '{' or '[' */
        bool has_entries;
        bool want_value;    /* a key was written, its value is due */
    } level[FJSON_MAX_DEPTH];
} fjson_writer;

void fjson_writer_init(fjson_writer *w, unsigned flags);
/* The malloc'd NUL-terminated text (caller frees); *len if len. Resets W. */
char *fjson_writer_finish(fjson_writer *w, size_t *len);
void fjson_writer_free(fjson_writer *w);

void fjson_begin_object(fjson_writer *w);
void fjson_end_object(fjson_writer *w);
void fjson_begin_array(fjson_writer *w);
void fjson_end_array(fjson_writer *w);

/* Keys: a quoted property/String key; a bare integer key (Map<Integer,..>,
 * `0:`); an object key given as JSON text (Map<MessageQueue,..>). */
void fjson_key(fjson_writer *w, const char *name);
void fjson_key_int(fjson_writer *w, int64_t key);
void fjson_key_raw(fjson_writer *w, const char *json);

/* Values. fjson_string(w, NULL) writes null. */
void fjson_string(fjson_writer *w, const char *s);
void fjson_string_len(fjson_writer *w, const char *s, size_t len);
void fjson_int64(fjson_writer *w, int64_t v);
void fjson_double(fjson_writer *w, double v);   /* Java Double.toString; NaN/inf -> null */
void fjson_bool(fjson_writer *w, bool v);
void fjson_null(fjson_writer *w);
/* Pre-encoded JSON text as one value, copied verbatim. */
void fjson_raw(fjson_writer *w, const char *json, size_t len);
/* Any cJSON tree, numbers from their source token when they have one. */
void fjson_item(fjson_writer *w, const cJSON *item);

/* Bean properties: key + value. A NULL string writes nothing at all,
 * as fastjson omits null properties. */
void fjson_prop_string(fjson_writer *w, const char *name, const char *s);
void fjson_prop_int64(fjson_writer *w, const char *name, int64_t v);
void fjson_prop_double(fjson_writer *w, const char *name, double v);
void fjson_prop_bool(fjson_writer *w, const char *name, bool v);

/* Java Double.toString(v) into buf (>= 32 bytes); returns the length. */
int fjson_format_double(char *buf, size_t cap, double v);

#endif
