/*
 * message: the byte encodings of a RocketMQ message shared by the store,
 * the broker and the tools — the properties string, the stored record
 * (one commit-log entry, also the element of pull/query/view bodies), the
 * offset msgId, the SEND_BATCH_MESSAGE body and the tag hash code.
 * Layouts: docs/message.md (Apache MessageDecoder,
 * CommitLog.MessageExtEncoder). Decoders return views pointing INTO the
 * caller's buffer; nothing here allocates except msg_props and
 * msg_batch_decode's item array.
 */
#ifndef RMQ_MESSAGE_H
#define RMQ_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MAGICCODE of a message record and of the blank record ending a segment. */
#define MSG_MAGIC_CODE       0xDAA320A7u
#define MSG_BLANK_MAGIC_CODE 0xCBD43194u

/* SYSFLAG bits (MessageSysFlag). */
#define MSG_SYSFLAG_COMPRESSED     0x1
#define MSG_SYSFLAG_MULTI_TAGS     0x2
#define MSG_SYSFLAG_TRANS_MASK     0xC
#define MSG_TRANS_NOT_TYPE         0x0
#define MSG_TRANS_PREPARED         0x4
#define MSG_TRANS_COMMIT           0x8
#define MSG_TRANS_ROLLBACK         0xC
#define MSG_SYSFLAG_BORNHOST_V6    0x10
#define MSG_SYSFLAG_STOREHOST_V6   0x20
#define MSG_TRANSACTION_TYPE(sysflag) ((sysflag) & MSG_SYSFLAG_TRANS_MASK)

/* Field positions used by readers that do not decode the whole record. */
#define MSG_QUEUE_OFFSET_POS 20
#define MSG_PHYS_OFFSET_POS  28
#define MSG_SYSFLAG_POS      36
#define MSG_BORN_HOST_POS    48

#define MSG_MAX_TOPIC_LEN 127          /* TOPICLENGTH is a signed byte */
#define MSG_MAX_PROPS_LEN 32767        /* PROPERTIESLENGTH is a signed short */

/* Property names the store and broker look at (MessageConst). */
#define MSG_PROP_TAGS     "TAGS"
#define MSG_PROP_KEYS     "KEYS"
#define MSG_PROP_UNIQ_KEY "UNIQ_KEY"
#define MSG_PROP_WAIT     "WAIT"
#define MSG_KEY_SEPARATOR ' '
#define MSG_NAME_VALUE_SEPARATOR '\001'
#define MSG_PROPERTY_SEPARATOR   '\002'

/* A host as stored in BORNHOST/STOREHOST: 4 or 16 address bytes + port. */
typedef struct msg_host {
    bool v6;
    uint8_t ip[16];                    /* first 4 bytes used when !v6 */
    int32_t port;
} msg_host;

/* "1.2.3.4:10911" or "[::1]:10911" / "::1:10911" (last colon = port). */
int msg_host_parse(msg_host *h, const char *host_port);
/* "1.2.3.4:10911" (IPv6 without brackets, as Java's toString drops them). */
void msg_host_format(const msg_host *h, char *buf, size_t cap);

/* ---- properties string: k\1v\2k\1v ---- */

/* One parsed property; views into the string being walked. */
typedef struct msg_prop_view {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} msg_prop_view;

/*
 * Walk a properties string like string2messageProperties: segments split on
 * \2, shorter than 3 bytes skipped, split at the first \1, empty keys and
 * segments without \1 skipped. *cursor starts at the string; returns false
 * at the end.
 */
bool msg_props_next(const char **cursor, const char *end, msg_prop_view *out);
/* Value of KEY in a properties string without allocating; false if absent. */
bool msg_props_find(const char *props, size_t len, const char *key,
                    const char **value, size_t *value_len);

/* An ordered, owned list of properties. Strings are malloc'd copies. */
typedef struct msg_props {
    /* key_len and value_len: strlen of each, kept so lookups and the encoding do not
     * measure every key again (read-only outside message.c, like the strings) */
    struct msg_prop { char *key; char *value; uint32_t key_len, value_len; } *items;
    int count;
    int cap;
    /* the keys and values (util.h strs_dup); a replaced or removed one stays until
     * msg_props_free, so pointers from msg_props_get stay valid until then */
    struct str_chunk *strs;
} msg_props;

void msg_props_init(msg_props *p);
/* Adds the properties of a string (a repeated key keeps the last value). */
void msg_props_parse(msg_props *p, const char *s, size_t len);
const char *msg_props_get(const msg_props *p, const char *key);
void msg_props_set(msg_props *p, const char *key, const char *value);
bool msg_props_remove(msg_props *p, const char *key);
/* Encoded string without trailing separator, malloc'd and NUL-terminated. */
char *msg_props_encode(const msg_props *p, size_t *len);
void msg_props_free(msg_props *p);

/* ---- stored record ---- */

/*
 * A stored record. For encoding the caller fills every field except
 * total_size (computed); body_crc must be rmq_crc32(body). For decoding the
 * pointers point into the decoded buffer. sysflag's host bits decide the
 * host widths and must agree with born_host.v6 / store_host.v6 (encode sets
 * them from the hosts).
 */
typedef struct msg_record {
    uint32_t total_size;
    int32_t body_crc;
    int32_t queue_id;
    int32_t flag;
    int64_t queue_offset;
    int64_t phys_offset;
    int32_t sysflag;
    int64_t born_timestamp;
    msg_host born_host;
    int64_t store_timestamp;
    msg_host store_host;
    int32_t reconsume_times;
    int64_t prepared_tx_offset;
    const uint8_t *body;
    uint32_t body_len;
    const char *topic;
    uint32_t topic_len;
    const char *props;
    uint32_t props_len;
} msg_record;

/*
 * The reconsumeTimes of a message's next delivery. Java's `reconsumeTimes + 1` on an int:
 * a stored INT_MAX (any client can send one) wraps to INT_MIN, where C's would be undefined.
 */
static inline int32_t msg_next_reconsume_times(int32_t times)
{
    return (int32_t)((uint32_t)times + 1u);
}

/* Record length for these sizes and host families. */
uint32_t msg_record_size(uint32_t body_len, uint32_t topic_len, uint32_t props_len,
                         bool born_v6, bool store_v6);
/* Writes the record into dst (msg_record_size bytes); returns that size. */
uint32_t msg_record_encode(uint8_t *dst, const msg_record *r);
/*
 * Decodes the record at buf (len bytes available). Checks MAGICCODE,
 * TOTALSIZE within len and equal to the sum of the fields, lengths non
 * negative. RMQ_OK, or RMQ_ERR with a static reason.
 */
int msg_record_decode(const uint8_t *buf, size_t len, msg_record *out, const char **reason);
/* STORETIMESTAMP of an encoded record whose first 60 bytes (or 72, IPv6) are valid. */
int64_t msg_record_store_timestamp(const uint8_t *record);

/* ---- offset msgId (MessageDecoder.createMessageId) ---- */

#define MSG_ID_MAX_LEN 56              /* 16+4+8 bytes as hex (IPv6) */
/* Writes 32 (IPv4) or 56 (IPv6) upper-case hex chars + NUL; returns the length. */
int msg_offset_id_create(char out[MSG_ID_MAX_LEN + 1], const msg_host *store_host, int64_t offset);
/* Decodes an offset msgId (32 chars = IPv4, 56 = IPv6); RMQ_ERR otherwise. */
int msg_offset_id_decode(const char *id, msg_host *store_host, int64_t *offset);

/* ---- SEND_BATCH_MESSAGE body ---- */

typedef struct msg_batch_item {
    int32_t flag;
    const uint8_t *body;
    uint32_t body_len;
    const char *props;
    uint32_t props_len;
} msg_batch_item;

/*
 * Splits a batch body into items (views into buf). *items is malloc'd
 * (caller frees). Like MessageDecoder.decodeMessages the per-item TOTALSIZE,
 * MAGICCODE and BODYCRC are not trusted, but every length must stay in
 * bounds. RMQ_ERR + reason on a malformed or empty body.
 */
int msg_batch_decode(const uint8_t *buf, size_t len, msg_batch_item **items, int *count,
                     const char **reason);

/* ---- delay levels ---- */

#define MSG_MAX_DELAY_LEVELS 64
/*
 * ScheduleMessageService.parseDelayLevel: "1s 5s 10m 2h 1d" -> delays in ms,
 * level i+1 at delays_ms[i]. Returns the number of levels, or -1 with *bad
 * pointing at the token that is not <number><s|m|h|d>.
 */
int msg_delay_levels_parse(const char *spec, int64_t delays_ms[MSG_MAX_DELAY_LEVELS], const char **bad);

/* Consume-queue tagsCode of a TAGS value: String.hashCode sign-extended; 0 when empty. */
int64_t msg_tags_code(const char *tags, size_t len);

#endif
