/*
 * strmap: chained hash table with an insertion-ordered list through the
 * nodes, so tables encode in a stable order (as Apache's maps do not, but
 * stable output makes files diffable and tests exact).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "meta/meta_internal.h"

static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

void strmap_init(strmap *m)
{
    memset(m, 0, sizeof *m);
}

void strmap_clear(strmap *m, void (*free_value)(void *))
{
    for (strmap_node *n = m->head, *next; n; n = next) {
        next = n->next;
        if (free_value) free_value(n->value);
        free(n->key);
        free(n);
    }
    free(m->buckets);
    strmap_init(m);
}

static strmap_node *find(const strmap *m, const char *key, uint64_t h)
{
    if (!m->nbuckets) return NULL;
    for (strmap_node *n = m->buckets[h % m->nbuckets]; n; n = n->bucket_next)
        if (n->hash == h && strcmp(n->key, key) == 0) return n;
    return NULL;
}

void *strmap_get(const strmap *m, const char *key)
{
    strmap_node *n = find(m, key, hash_key(key));
    return n ? n->value : NULL;
}

static void grow(strmap *m)
{
    size_t nb = m->nbuckets ? m->nbuckets * 2 : 16;
    strmap_node **b = xcalloc(nb, sizeof *b);
    for (strmap_node *n = m->head; n; n = n->next) {
        n->bucket_next = b[n->hash % nb];
        b[n->hash % nb] = n;
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

void *strmap_put(strmap *m, const char *key, void *value)
{
    uint64_t h = hash_key(key);
    strmap_node *n = find(m, key, h);
    if (n) {
        void *old = n->value;
        n->value = value;
        return old;
    }
    if (m->count + 1 > m->nbuckets) grow(m);
    n = xcalloc(1, sizeof *n);
    n->key = xstrdup(key);
    n->value = value;
    n->hash = h;
    n->bucket_next = m->buckets[h % m->nbuckets];
    m->buckets[h % m->nbuckets] = n;
    n->prev = m->tail;
    if (m->tail) m->tail->next = n;
    else m->head = n;
    m->tail = n;
    m->count++;
    return NULL;
}

void *strmap_remove_node(strmap *m, strmap_node *n)
{
    strmap_node **pp = &m->buckets[n->hash % m->nbuckets];
    while (*pp != n) pp = &(*pp)->bucket_next;
    *pp = n->bucket_next;
    if (n->prev) n->prev->next = n->next;
    else m->head = n->next;
    if (n->next) n->next->prev = n->prev;
    else m->tail = n->prev;
    m->count--;
    void *value = n->value;
    free(n->key);
    free(n);
    return value;
}

void *strmap_remove(strmap *m, const char *key)
{
    strmap_node *n = find(m, key, hash_key(key));
    return n ? strmap_remove_node(m, n) : NULL;
}
