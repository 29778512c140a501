/* java.util.HashMap's table discipline (JDK 8+), for its iteration order. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "namesrv/jmap.h"

#define JMAP_DEFAULT_CAPACITY 16u
#define JMAP_MAX_CAPACITY (1u << 30)

/* HashMap.tableSizeFor: the least power of two >= n. */
static uint32_t table_size_for(uint32_t n)
{
    uint32_t c = 1;
    while (c < n && c < JMAP_MAX_CAPACITY) c <<= 1;
    return c;
}

void jmap_init(jmap *m, uint32_t initial_capacity)
{
    memset(m, 0, sizeof *m);
    m->threshold = initial_capacity ? table_size_for(initial_capacity) : 0;
}

void jmap_init_long(jmap *m, uint32_t initial_capacity)
{
    jmap_init(m, initial_capacity);
    m->long_keys = true;
}

static int32_t key_hash(const jmap *m, const char *key)
{
    if (m->long_keys) {
        int64_t v = 0;
        parse_int64(key, &v);
        uint64_t u = (uint64_t)v;
        return (int32_t)(uint32_t)(u ^ (u >> 32));   /* Long.hashCode */
    }
    return java_string_hash(key, strlen(key));
}

/* HashMap.hash(): the high half folded into the low half. */
static uint32_t spread(int32_t h)
{
    uint32_t u = (uint32_t)h;
    return u ^ (u >> 16);
}

static uint32_t bucket_of(const jmap *m, int32_t hash) { return spread(hash) & (m->cap - 1); }

/* HashMap.resize(): first allocation, or doubling with each bucket split
 * into a low and a high list that keep their relative order. */
static void resize(jmap *m)
{
    uint32_t old_cap = m->cap;
    uint32_t new_cap;
    if (old_cap == 0) {
        new_cap = m->threshold ? m->threshold : JMAP_DEFAULT_CAPACITY;
    } else {
        if (old_cap >= JMAP_MAX_CAPACITY) {
            m->threshold = UINT32_MAX;
            return;
        }
        new_cap = old_cap << 1;
    }
    jmap_entry **tab = xcalloc(new_cap, sizeof *tab);
    for (uint32_t j = 0; j < old_cap; j++) {
        jmap_entry *lo_head = NULL, *lo_tail = NULL, *hi_head = NULL, *hi_tail = NULL;
        for (jmap_entry *e = m->tab[j], *nx; e; e = nx) {
            nx = e->next;
            e->next = NULL;
            if ((spread(e->hash) & old_cap) == 0) {
                if (lo_tail) lo_tail->next = e;
                else lo_head = e;
                lo_tail = e;
            } else {
                if (hi_tail) hi_tail->next = e;
                else hi_head = e;
                hi_tail = e;
            }
        }
        tab[j] = lo_head;
        tab[j + old_cap] = hi_head;
    }
    free(m->tab);
    m->tab = tab;
    m->cap = new_cap;
    m->threshold = (uint32_t)((uint64_t)new_cap * 3 / 4);
}

jmap_entry *jmap_find(const jmap *m, const char *key)
{
    if (!m->cap) return NULL;
    int32_t h = key_hash(m, key);
    for (jmap_entry *e = m->tab[bucket_of(m, h)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0) return e;
    return NULL;
}

bool jmap_put(jmap *m, const char *key, void *val, void **old)
{
    jmap_entry *e = jmap_find(m, key);
    if (e) {
        if (old) *old = e->val;
        e->val = val;
        return false;
    }
    if (old) *old = NULL;
    if (!m->cap) resize(m);
    e = xcalloc(1, sizeof *e);
    e->hash = key_hash(m, key);
    e->key = xstrdup(key);
    e->val = val;
    jmap_entry **pp = &m->tab[bucket_of(m, e->hash)];
    while (*pp) pp = &(*pp)->next;
    *pp = e;
    if (++m->size > m->threshold) resize(m);
    return true;
}

bool jmap_remove(jmap *m, const char *key, void **val)
{
    if (!m->cap) return false;
    int32_t h = key_hash(m, key);
    for (jmap_entry **pp = &m->tab[bucket_of(m, h)]; *pp; pp = &(*pp)->next) {
        jmap_entry *e = *pp;
        if (e->hash == h && strcmp(e->key, key) == 0) {
            *pp = e->next;
            if (val) *val = e->val;
            free(e->key);
            free(e);
            m->size--;
            return true;
        }
    }
    return false;
}

static jmap_entry *first_from(const jmap *m, uint32_t bucket)
{
    for (uint32_t i = bucket; i < m->cap; i++)
        if (m->tab[i]) return m->tab[i];
    return NULL;
}

jmap_entry *jmap_first(const jmap *m) { return first_from(m, 0); }

jmap_entry *jmap_next(const jmap *m, const jmap_entry *e)
{
    return e->next ? e->next : first_from(m, bucket_of(m, e->hash) + 1);
}

void jmap_clear(jmap *m, void (*free_val)(void *))
{
    for (uint32_t i = 0; i < m->cap; i++) {
        for (jmap_entry *e = m->tab[i], *nx; e; e = nx) {
            nx = e->next;
            if (free_val) free_val(e->val);
            free(e->key);
            free(e);
        }
    }
    free(m->tab);
    bool long_keys = m->long_keys;
    jmap_init(m, 0);
    m->long_keys = long_keys;
}
