/*
 * Private to src/meta: the containers and the ConfigManager-style file
 * handling the four tables share. Not for use outside the module.
 */
#ifndef RMQ_META_INTERNAL_H
#define RMQ_META_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "meta/meta.h"

#define META_LOG "meta"

/* ---- strmap: string keys -> caller-owned values, insertion order ------- */

typedef struct strmap_node {
    char *key;                          /* owned by the map */
    void *value;
    uint64_t hash;
    struct strmap_node *bucket_next;
    struct strmap_node *prev, *next;    /* insertion order */
} strmap_node;

typedef struct strmap {
    strmap_node **buckets;
    size_t nbuckets, count;
    strmap_node *head, *tail;
} strmap;

void strmap_init(strmap *m);
/* Drop every entry, handing each value to free_value (if not NULL). */
void strmap_clear(strmap *m, void (*free_value)(void *));
void *strmap_get(const strmap *m, const char *key);
/* Insert, or replace in place (keeping the position); returns the old value. */
void *strmap_put(strmap *m, const char *key, void *value);
/* Remove; returns the value, NULL if absent. */
void *strmap_remove(strmap *m, const char *key);
/* Remove the node N (safe while iterating if the next node was saved). */
void *strmap_remove_node(strmap *m, strmap_node *n);

#define strmap_foreach(m, n) for (strmap_node *n = (m)->head; n; n = n->next)

/* ---- offset_map: int32 -> int64 kept sorted by key ---------------------- */

typedef struct offset_map {
    queue_offset *items;
    size_t count, cap;
} offset_map;

void offset_map_set(offset_map *m, int32_t key, int64_t value);
bool offset_map_get(const offset_map *m, int32_t key, int64_t *value);
offset_map *offset_map_clone(const offset_map *m);
void offset_map_free(offset_map *m);   /* frees M itself too */
/* {0:12,1:5}: fastjson's Map<Integer,Long> with bare keys. */
void offset_map_write(const offset_map *m, fjson_writer *w);
/* Parse such an object (bare or quoted integer keys); NULL + *err. */
offset_map *offset_map_decode(const cJSON *obj, const char *what, char **err);

/* ---- config files (ConfigManager) ------------------------------------- */

/* <store_root>/config/<file>, malloc'd. */
char *meta_config_path(const char *store_root, const char *file);

/* Turns a parsed document into table state, all or nothing. */
typedef int (*meta_decode_fn)(void *table, const cJSON *root, char **err);

/*
 * ConfigManager.load: decode PATH, or PATH.bak when PATH is missing, empty
 * or malformed. A missing pair is an empty table (RMQ_OK). Unlike Apache,
 * a malformed PATH without a usable .bak is an error rather than a
 * silently empty table.
 */
int meta_config_load(const char *path, meta_decode_fn decode, void *table, char **err);
/* Write TEXT to PATH atomically, creating the config directory. */
int meta_config_save(const char *path, const char *text, size_t len);

void data_version_init(data_version *v);
void data_version_next(data_version *v);
/* A {"counter":..,"timestamp":..} object; absent fields keep their value. */
int data_version_decode(const cJSON *obj, data_version *v, char **err);

/*
 * The manager documents of topics.json and subscriptionGroup.json:
 * {"dataVersion":{..},"<table_field>":{"<name>":{..},..}}, names at most
 * META_NAME_MAX-1 bytes, each value a malloc'd struct of one type.
 */
typedef void (*meta_value_write_fn)(const void *value, fjson_writer *w);
/* Decodes OBJ, the entry named KEY, into VALUE (value_size bytes, uninitialised). */
typedef int (*meta_value_decode_fn)(const char *key, const cJSON *obj, void *value, char **err);

/* Writes the document of MAP (name -> value) and VERSION. */
void meta_named_table_write(fjson_writer *w, const data_version *version, const char *table_field, const strmap *map,
                            meta_value_write_fn write_value);
/*
 * ConfigManager.decode of such a document: every entry decoded first (all or
 * nothing), then put over what MAP holds, and the version taken. Entries with
 * too long a name are skipped with a warning naming WHAT ("topic", "group").
 */
int meta_named_table_decode(const cJSON *root, const char *table_field, const char *what, size_t value_size,
                            meta_value_decode_fn decode_value, strmap *map, data_version *version, char **err);

/* ---- change journal (journal.c) ------------------------------------------ */

typedef struct meta_journal meta_journal;

meta_journal *meta_journal_open(const char *table_path);   /* <table_path>.journal */
void meta_journal_close(meta_journal *j);
/* The entry recording that NAME is now VALUE (NULL: deleted) at version V; malloc'd. */
char *meta_journal_entry(const data_version *v, const char *name, const void *value, meta_value_write_fn write_value,
                         size_t *len);
/* Appends ENTRY as one line (not fsync'd: a crash of the process keeps it). */
int meta_journal_append(meta_journal *j, const char *entry, size_t len);
/* The table's file now holds everything up to UPTO_COUNTER: drop those entries. */
int meta_journal_prune(meta_journal *j, int64_t upto_counter);
/* Applies the entries newer than VERSION to MAP (values decoded as by
 * meta_named_table_decode); VERSION becomes the last one applied. */
int meta_journal_replay(meta_journal *j, strmap *map, size_t value_size, meta_value_decode_fn decode,
                        data_version *version);

/* *_persist of such a table (values of VALUE_SIZE bytes): a copy taken under
 * LOCK written out, then the journal entries it covers dropped. */
int meta_named_table_persist(const char *path, pthread_mutex_t *lock, const data_version *version,
                             const char *table_field, const strmap *map, size_t value_size,
                             meta_value_write_fn write_value, meta_journal *journal);
/* *_journal of such a table: NAME's value (or its absence) at VERSION appended. */
int meta_named_table_journal(pthread_mutex_t *lock, const data_version *version, const strmap *map,
                             const char *name, meta_value_write_fn write_value, meta_journal *journal);

/* Copy NAME into a META_NAME_MAX buffer; false if it does not fit. */
bool meta_copy_name(char *dst, const char *name);

#endif
