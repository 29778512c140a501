/*
 * The fastjson-compatible reader (src/common/fjson): any text either fails
 * with a reason or gives a tree; the tree written back (compact, pretty and
 * standard) must read again, and compact writing must be stable after one
 * pass. Typed field getters, object-map keys and integer reads run over
 * every member, as the meta tables and the name server use them.
 */
#include "common/fjson.h"
#include "fuzz.h"

static char *write_tree(const cJSON *root, unsigned flags, size_t *len)
{
    fjson_writer w;
    fjson_writer_init(&w, flags);
    fjson_item(&w, root);
    return fjson_writer_finish(&w, len);
}

static void read_members(const cJSON *obj, int depth)
{
    static const char *const names[] = {"topicConfigTable", "dataVersion", "offsetTable", "brokerName",
                                        "readQueueNums", "perm", "order", "timestamp", "counter"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *s;
        int32_t i32;
        int64_t i64;
        bool b;
        enum fjson_field r64 = fjson_field_int64(obj, names[i], &i64);
        enum fjson_field r32 = fjson_field_int32(obj, names[i], &i32);
        if (r32 == FJSON_OK) FUZZ_ASSERT(r64 == FJSON_OK && i64 == i32);
        (void)fjson_field_string(obj, names[i], &s);
        (void)fjson_field_bool(obj, names[i], &b);
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, obj) {
        int64_t v;
        (void)fjson_get_int64(m, &v);
        if (m->string && m->string[0] == '{') {
            const char *err = NULL;
            cJSON *key = fjson_parse_key(m, &err);
            FUZZ_ASSERT(key || err);
            cJSON_Delete(key);
        }
        if (depth < 8 && (cJSON_IsObject(m) || cJSON_IsArray(m))) read_members(m, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    const char *err = NULL;
    cJSON *root = fjson_parse((const char *)data, size, &err);
    if (!root) {
        FUZZ_ASSERT(err != NULL);
        return 0;
    }
    read_members(root, 0);

    size_t len1, len2;
    char *once = write_tree(root, 0, &len1);
    cJSON *again = fjson_parse(once, len1, &err);
    FUZZ_ASSERT(again != NULL);
    char *twice = write_tree(again, 0, &len2);
    FUZZ_ASSERT(len1 == len2 && memcmp(once, twice, len1) == 0);
    free(once);
    free(twice);
    cJSON_Delete(again);

    static const unsigned other_flags[] = {FJSON_PRETTY, FJSON_STANDARD, FJSON_PRETTY | FJSON_STANDARD};
    for (size_t i = 0; i < sizeof other_flags / sizeof other_flags[0]; i++) {
        char *text = write_tree(root, other_flags[i], &len1);
        cJSON *back = fjson_parse(text, len1, &err);
        FUZZ_ASSERT(back != NULL);
        cJSON_Delete(back);
        free(text);
    }
    cJSON_Delete(root);
    return 0;
}
