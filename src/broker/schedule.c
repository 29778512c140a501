/*
 * Delayed delivery: the delay levels of SCHEDULE_TOPIC_XXXX and the 5.x
 * arbitrary-delay timer (schedule.h says how each keeps its progress).
 */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta.h"
#include "schedule.h"
#include "sysqueue.h"

#define MAX_LEVELS MSG_MAX_DELAY_LEVELS
#define READ_BATCH 32            /* records per store read */
#define DELIVER_BATCH 2000       /* deliveries per loop pass before yielding */
#define RETRY_AFTER_ERROR_MS 10000  /* DELAY_FOR_A_PERIOD */

/* One delay level: queue level-1 of SCHEDULE_TOPIC_XXXX. */
typedef struct delay_level {
    schedule_service *svc;
    int32_t level;               /* 1-based */
    int64_t delay_ms;
    int64_t offset;              /* next queue offset to deliver */
    struct event *timer;
    int64_t due_ms;              /* what the timer is armed for; 0 = idle */
} delay_level;

typedef struct timer_entry {
    int64_t due;                 /* max(TIMER_OUT_MS, store time) */
    int64_t offset;              /* queue offset in rmq_sys_wheel_timer */
} timer_entry;

struct schedule_service {
    broker *b;
    delay_level levels[MAX_LEVELS];
    int n_levels;
    struct event *persist_ev;
    bool started;

    timer_entry *heap;
    size_t n_heap, cap_heap;
    struct event *timer_ev;
    int64_t timer_armed_due;     /* 0 = not armed */
    int64_t scanned_upto;        /* every timer offset below is in the heap or delivered */
    timer_entry delivered;       /* watermark: everything ordered at or before it is delivered */
    char *progress_path;
    char *progress_written;      /* what the file holds, to skip rewriting it unchanged */
};

/*
 * Puts a due message to REAL_TOPIC/REAL_QID. The properties string stays as it
 * was stored: Apache's messageTimeup clears DELAY/REAL_* only from the property
 * map after building the string it stores, so consumers see them (golden pulls).
 * RMQ_OK, RMQ_AGAIN when the store refused (retry later), RMQ_ERR when the
 * record can never be delivered (skipped).
 */
static int deliver_record(schedule_service *s, const msg_record *r, const char *what)
{
    char topic[MSG_MAX_TOPIC_LEN + 1];
    int32_t qid;
    if (!sysqueue_real_queue(r, topic, &qid)) {
        log_error("schedule", "%s message at offset %" PRId64 " has no REAL_TOPIC/REAL_QID, skipped", what,
                  r->queue_offset);
        return RMQ_ERR;
    }
    store_msg m;
    sysqueue_msg_from_record(&m, r, topic, qid);
    store_put_entry e;
    store_put_result res = {.entries = &e};
    if (store_put(s->b->store, &m, 1, &res) != STORE_PUT_OK) {
        log_warn("schedule", "%s message to %s-%d not stored: %s", what, topic, qid,
                 res.reason ? res.reason : "put failed");
        return RMQ_AGAIN;
    }
    return RMQ_OK;
}

/* ---- delay levels ---- */

static int parse_levels(schedule_service *s, const char *text, char *err, size_t errlen)
{
    int64_t delays[MSG_MAX_DELAY_LEVELS];
    const char *bad;
    int n = msg_delay_levels_parse(text, delays, &bad);
    if (n < 0) {
        snprintf(err, errlen, "bad messageDelayLevel near \"%s\"", bad);
        return RMQ_ERR;
    }
    for (int i = 0; i < n; i++) {
        delay_level *dl = &s->levels[i];
        dl->svc = s;
        dl->level = i + 1;
        dl->delay_ms = delays[i];
    }
    s->n_levels = n;
    return RMQ_OK;
}

/* Arms the level's timer for due_ms unless it is already armed earlier. */
static void level_arm(delay_level *dl, int64_t due_ms)
{
    if (dl->due_ms && dl->due_ms <= due_ms) return;
    int64_t wait = due_ms - now_ms();
    if (wait < 0) wait = 0;
    struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
    evtimer_add(dl->timer, &tv);
    dl->due_ms = due_ms;
}

static void level_set_offset(delay_level *dl, int64_t offset)
{
    dl->offset = offset;
    delay_offset_update(dl->svc->b->delay_offsets, dl->level, offset);
}

/* DeliverDelayedMessageTimerTask.executeOnTimeup: deliver what is due, then sleep until the next. */
static void level_run(evutil_socket_t fd, short what, void *arg)
{
    delay_level *dl = arg;
    schedule_service *s = dl->svc;
    dl->due_ms = 0;
    int delivered = 0;
    for (;;) {
        store_get_result res;
        if (store_get_messages(s->b->store, "", TOPIC_SCHEDULE, dl->level - 1, dl->offset, READ_BATCH, NULL, &res))
            return;  /* shutting down */
        if (res.count == 0) {
            int64_t next = res.next_begin_offset, max = res.max_offset;
            store_get_result_release(&res);
            if (next == dl->offset || next > max) return;  /* idle until an arrival */
            level_set_offset(dl, next);
            continue;
        }
        int64_t now = now_ms();
        for (int i = 0; i < res.count; i++) {
            msg_record r;
            const char *why;
            if (msg_record_decode(res.msgs[i].data, res.msgs[i].len, &r, &why)) {
                log_error("schedule", "level %d offset %" PRId64 ": %s, skipped", dl->level, dl->offset, why);
                level_set_offset(dl, dl->offset + 1);
                continue;
            }
            int64_t due = r.store_timestamp + dl->delay_ms;
            if (due > now + dl->delay_ms) due = now;  /* correctDeliverTimestamp: the clock went back */
            if (due > now) {
                level_arm(dl, due);
                store_get_result_release(&res);
                return;
            }
            if (deliver_record(s, &r, "delayed") == RMQ_AGAIN) {
                level_arm(dl, now + RETRY_AFTER_ERROR_MS);
                store_get_result_release(&res);
                return;
            }
            level_set_offset(dl, r.queue_offset + 1);
            delivered++;
        }
        store_get_result_release(&res);
        if (delivered >= DELIVER_BATCH) {
            level_arm(dl, now);  /* let the loop breathe, then go on */
            return;
        }
    }
}

/* ---- 5.x timer: a binary min-heap ordered by (due, offset) ---- */

static bool entry_before(const timer_entry *a, const timer_entry *b)
{
    return a->due < b->due || (a->due == b->due && a->offset < b->offset);
}

static void heap_push(schedule_service *s, timer_entry e)
{
    if (s->n_heap == s->cap_heap) {
        s->cap_heap = s->cap_heap ? s->cap_heap * 2 : 1024;
        s->heap = xrealloc(s->heap, s->cap_heap * sizeof *s->heap);
    }
    size_t i = s->n_heap++;
    while (i > 0 && entry_before(&e, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = e;
}

static void heap_pop(schedule_service *s)
{
    timer_entry last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && entry_before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!entry_before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
}

size_t schedule_timer_pending(const schedule_service *s) { return s->n_heap; }

static void timer_arm(schedule_service *s)
{
    if (!s->n_heap) return;
    int64_t due = s->heap[0].due;
    if (s->timer_armed_due && s->timer_armed_due <= due) return;
    int64_t wait = due - now_ms();
    if (wait < 0) wait = 0;
    struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
    evtimer_add(s->timer_ev, &tv);
    s->timer_armed_due = due;
}

/* The due time of a parked message: TIMER_OUT_MS, never before its store time. */
static int64_t timer_due(const char *props, uint32_t props_len, int64_t store_ts)
{
    const char *v;
    size_t n;
    char buf[24];
    int64_t out = 0;
    if (msg_props_find(props, props_len, "TIMER_OUT_MS", &v, &n) && n < sizeof buf) {
        memcpy(buf, v, n);
        buf[n] = 0;
        if (parse_int64(buf, &out) != RMQ_OK) out = 0;
    }
    return out > store_ts ? out : store_ts;
}

static void timer_add(schedule_service *s, int64_t offset, int64_t due)
{
    if (offset < s->scanned_upto) return;  /* already known */
    s->scanned_upto = offset + 1;
    timer_entry e = {due, offset};
    /* Keep the delivery order monotonic so the watermark stays exact (clock steps back). */
    if (entry_before(&e, &s->delivered)) e.due = s->delivered.due + 1;
    heap_push(s, e);
}

static void timer_run(evutil_socket_t fd, short what, void *arg)
{
    schedule_service *s = arg;
    s->timer_armed_due = 0;
    int64_t now = now_ms();
    for (int n = 0; s->n_heap && s->heap[0].due <= now; n++) {
        if (n == DELIVER_BATCH) {
            struct timeval now_tv = {0, 0};
            evtimer_add(s->timer_ev, &now_tv);
            s->timer_armed_due = now;
            return;
        }
        timer_entry e = s->heap[0];
        store_get_result res;
        if (store_get_messages(s->b->store, "", TOPIC_TIMER, 0, e.offset, 1, NULL, &res)) return;
        msg_record r;
        const char *why = "not in the store any more";
        int rc = RMQ_ERR;
        if (res.count == 1 && msg_record_decode(res.msgs[0].data, res.msgs[0].len, &r, &why) == RMQ_OK)
            rc = deliver_record(s, &r, "timer");
        else
            log_error("schedule", "timer message at offset %" PRId64 ": %s, skipped", e.offset, why);
        store_get_result_release(&res);
        if (rc == RMQ_AGAIN) {
            struct timeval tv = {RETRY_AFTER_ERROR_MS / 1000, 0};
            evtimer_add(s->timer_ev, &tv);
            s->timer_armed_due = now + RETRY_AFTER_ERROR_MS;
            return;
        }
        heap_pop(s);
        s->delivered = e;
    }
    timer_arm(s);
}

static bool timer_rebuild_visit(void *ctx, const msg_record *r)
{
    schedule_service *s = ctx;
    timer_entry e = {timer_due(r->props, r->props_len, r->store_timestamp), r->queue_offset};
    if (entry_before(&s->delivered, &e)) heap_push(s, e);
    return true;
}

/* Reads every parked message from `from` on into the heap (start-up). */
static void timer_rebuild(schedule_service *s, int64_t from)
{
    int64_t min = store_min_offset_in_queue(s->b->store, TOPIC_TIMER, 0);
    s->scanned_upto = from > min ? from : min;
    if (sysqueue_scan(s->b->store, "", TOPIC_TIMER, &s->scanned_upto, timer_rebuild_visit, s)) return;
    log_info("schedule", "timer: %zu messages pending, scanned up to offset %" PRId64, s->n_heap, s->scanned_upto);
}

/* The lowest offset still pending: where the next start-up must read from. */
static int64_t timer_scan_from(const schedule_service *s)
{
    int64_t low = s->scanned_upto;
    for (size_t i = 0; i < s->n_heap; i++)
        if (s->heap[i].offset < low) low = s->heap[i].offset;
    return low;
}

static void timer_progress_load(schedule_service *s, int64_t *scan_from)
{
    *scan_from = 0;
    size_t len;
    char *text = read_file_or_bak(s->progress_path, &len);
    if (!text) return;
    cJSON *root = cJSON_Parse(text);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "scanFrom");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "deliveredDue");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "deliveredOffset");
    if (cJSON_IsNumber(f) && cJSON_IsNumber(d) && cJSON_IsNumber(o)) {
        *scan_from = (int64_t)f->valuedouble;
        s->delivered = (timer_entry){(int64_t)d->valuedouble, (int64_t)o->valuedouble};
    } else {
        log_warn("schedule", "%s is malformed; timer messages are read from the start", s->progress_path);
    }
    cJSON_Delete(root);
    free(text);
}

static void persist(schedule_service *s)
{
    delay_offset_persist(s->b->delay_offsets);
    if (!s->started) return;
    char *text = str_printf("{\n\t\"scanFrom\":%" PRId64 ",\n\t\"deliveredDue\":%" PRId64
                            ",\n\t\"deliveredOffset\":%" PRId64 "\n}",
                            timer_scan_from(s), s->delivered.due, s->delivered.offset);
    if (s->progress_written && strcmp(text, s->progress_written) == 0) {
        free(text);
        return;
    }
    if (write_file_atomic(s->progress_path, text, strlen(text))) {
        log_error("schedule", "cannot write %s", s->progress_path);
        free(text);
        return;
    }
    free(s->progress_written);
    s->progress_written = text;
}

static void persist_cb(evutil_socket_t fd, short what, void *arg) { persist(arg); }

/* ---- service ---- */

schedule_service *schedule_new(broker *b, char *err, size_t errlen)
{
    schedule_service *s = xcalloc(1, sizeof *s);
    s->b = b;
    if (parse_levels(s, b->cfg.messageDelayLevel, err, errlen)) {
        free(s);
        return NULL;
    }
    s->delivered = (timer_entry){INT64_MIN, -1};
    s->progress_path = str_printf("%s/config/timerProgress.json", b->cfg.storePathRootDir);
    return s;
}

void schedule_start(schedule_service *s)
{
    store *st = s->b->store;
    for (int i = 0; i < s->n_levels; i++) {
        delay_level *dl = &s->levels[i];
        int64_t off = 0;
        if (!delay_offset_get(s->b->delay_offsets, dl->level, &off)) off = 0;
        int64_t min = store_min_offset_in_queue(st, TOPIC_SCHEDULE, dl->level - 1);
        dl->offset = off > min ? off : min;
        dl->timer = evtimer_new(s->b->base, level_run, dl);
        level_arm(dl, now_ms());
    }
    int64_t from;
    timer_progress_load(s, &from);
    timer_rebuild(s, from);
    s->timer_ev = evtimer_new(s->b->base, timer_run, s);
    timer_arm(s);
    s->persist_ev = event_new(s->b->base, -1, EV_PERSIST, persist_cb, s);
    struct timeval tv = {SCHEDULE_PERSIST_INTERVAL_MS / 1000, 0};
    event_add(s->persist_ev, &tv);
    s->started = true;
}

void schedule_free(schedule_service *s)
{
    if (!s) return;
    persist(s);
    for (int i = 0; i < s->n_levels; i++)
        if (s->levels[i].timer) event_free(s->levels[i].timer);
    if (s->timer_ev) event_free(s->timer_ev);
    if (s->persist_ev) event_free(s->persist_ev);
    free(s->heap);
    free(s->progress_path);
    free(s->progress_written);
    free(s);
}

void schedule_on_arrival(schedule_service *s, const char *topic, int32_t queue_id, int64_t qoffset,
                         int64_t tags_code, const char *props, uint32_t props_len, int64_t store_ts)
{
    if (!s->started) return;
    if (strcmp(topic, TOPIC_SCHEDULE) == 0) {
        /* The store put the level's deliver time in tagsCode. */
        if (queue_id >= 0 && queue_id < s->n_levels) level_arm(&s->levels[queue_id], tags_code);
    } else if (strcmp(topic, TOPIC_TIMER) == 0 && queue_id == 0) {
        timer_add(s, qoffset, timer_due(props, props_len, store_ts));
        timer_arm(s);
    }
}

/* ---- send path ---- */

const char *schedule_timer_redirect(msg_props *props, const char *topic, int32_t *queue_id, int64_t now,
                                    const char **why)
{
    const char *deliver = msg_props_get(props, "TIMER_DELIVER_MS");
    const char *sec = msg_props_get(props, "TIMER_DELAY_SEC");
    const char *ms = msg_props_get(props, "TIMER_DELAY_MS");
    if ((!deliver && !sec && !ms) || strcmp(topic, TOPIC_TIMER) == 0 || msg_props_get(props, "TIMER_OUT_MS"))
        return topic;
    int64_t v, due;
    if (parse_int64(sec ? sec : ms ? ms : deliver, &v) != RMQ_OK) {
        *why = "timer message illegal: the delivery time is not a number";
        return NULL;
    }
    due = sec ? now + v * 1000 : ms ? now + v : v;
    if (due <= now) return topic;  /* already due: an ordinary message */
    if (due - now > TIMER_MAX_DELAY_MS) {
        *why = "timer message illegal, the delay time should not be bigger than the max delay 259200000ms";
        return NULL;
    }
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, due);
    msg_props_set(props, "TIMER_OUT_MS", buf);
    msg_props_set(props, "REAL_TOPIC", topic);
    snprintf(buf, sizeof buf, "%d", *queue_id);
    msg_props_set(props, "REAL_QID", buf);
    *queue_id = 0;
    return TOPIC_TIMER;
}
