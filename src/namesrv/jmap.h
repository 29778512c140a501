/*
 * jmap: a string-keyed hash map laid out exactly like java.util.HashMap —
 * same hash spreading, power-of-two tables grown at 0.75 load, entries
 * appended to their bucket and split in order on resize — so iterating it
 * yields the order Apache's name server iterates (and fastjson writes) its
 * HashMaps and HashSets in. Internal to the namesrv module.
 *
 * Not reproduced: Java's tree bins (a bucket of >= 8 colliding keys in a
 * table of >= 64), which only reorder such pathological buckets.
 */
#ifndef RMQ_NAMESRV_JMAP_H
#define RMQ_NAMESRV_JMAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct jmap_entry {
    struct jmap_entry *next;
    int32_t hash;           /* Java hashCode() of the key */
    char *key;              /* owned by the map */
    void *val;              /* owned by the caller's conventions */
} jmap_entry;

typedef struct jmap {
    jmap_entry **tab;
    uint32_t cap;           /* table length once allocated */
    uint32_t size;
    uint32_t threshold;     /* before allocation: the initial capacity */
    bool long_keys;         /* keys are decimal longs hashed as java.lang.Long */
} jmap;

/* new HashMap<>(initial_capacity); 0 means Java's default (16). */
void jmap_init(jmap *m, uint32_t initial_capacity);
/* The same for Map<Long, ...>: keys are decimal strings of the long. */
void jmap_init_long(jmap *m, uint32_t initial_capacity);
/* Frees every entry, calling free_val (if given) on each value; M stays usable. */
void jmap_clear(jmap *m, void (*free_val)(void *));

jmap_entry *jmap_find(const jmap *m, const char *key);
static inline void *jmap_get(const jmap *m, const char *key)
{
    jmap_entry *e = jmap_find(m, key);
    return e ? e->val : 0;
}
static inline bool jmap_has(const jmap *m, const char *key) { return jmap_find(m, key) != 0; }
/* Sets KEY to VAL (key copied); the previous value (or NULL) in *old if old. Returns true if new. */
bool jmap_put(jmap *m, const char *key, void *val, void **old);
/* Removes KEY; its value in *val if val. Returns false if absent. */
bool jmap_remove(jmap *m, const char *key, void **val);

/* Iteration in Java's order. Removing the current entry is allowed once
 * its successor has been taken. */
jmap_entry *jmap_first(const jmap *m);
jmap_entry *jmap_next(const jmap *m, const jmap_entry *e);

#define JMAP_FOREACH(m, e) for (jmap_entry *e = jmap_first(m); e; e = jmap_next((m), e))

#endif
