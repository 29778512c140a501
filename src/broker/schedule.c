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
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "meta/meta.h"
#include "schedule.h"
#include "schedule_int.h"
#include "sysqueue.h"
#include "timer_metrics.h"
#include "timer_store.h"

#define READ_BATCH 32            /* records per store read */
#define DELIVER_BATCH 2000       /* deliveries per loop pass before yielding */
#define RETRY_AFTER_ERROR_MS 10000  /* DELAY_FOR_A_PERIOD */
#define FILE_AFTER_MS 20         /* arrivals gather this long before they are filed in the timer log */
#define FILE_BATCH 1000          /* arrivals filed per loop pass before yielding */
#define HANDOVER_RETRY_MS 10     /* the delivery queue was full */


/*
 * Puts a due message to REAL_TOPIC/REAL_QID. The properties string stays as it
 * was stored: Apache's messageTimeup clears DELAY/REAL_* only from the property
 * map after building the string it stores, so consumers see them (golden pulls).
 * RMQ_OK, RMQ_AGAIN when the store refused (retry later), RMQ_ERR when the
 * record can never be delivered (skipped).
 */
int schedule_deliver_record(schedule_service *s, const msg_record *r, const char *what)
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
            if (schedule_deliver_record(s, &r, "delayed") == RMQ_AGAIN) {
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

bool timer_entry_before(const timer_entry *a, const timer_entry *b)
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
    while (i > 0 && timer_entry_before(&e, &s->heap[(i - 1) / 2])) {
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
        if (c + 1 < n && timer_entry_before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!timer_entry_before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
}

size_t schedule_timer_pending(const schedule_service *s)
{
    schedule_service *m = (schedule_service *)s;  /* the lock, not the state, changes */
    pthread_mutex_lock(&m->dq_mu);
    size_t n = s->n_heap + s->dq_len;  /* in the heap, or handed over and not delivered yet */
    pthread_mutex_unlock(&m->dq_mu);
    return n;
}

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

static bool prop_int64(const char *props, uint32_t props_len, const char *key, int64_t *out)
{
    const char *v;
    size_t n;
    char buf[24];
    if (!msg_props_find(props, props_len, key, &v, &n) || n >= sizeof buf) return false;
    memcpy(buf, v, n);
    buf[n] = 0;
    return parse_int64(buf, out) == RMQ_OK;
}

/*
 * The due time of a parked message, never before its store time. Apache's
 * send path rounds TIMER_OUT_MS down to its slot (a multiple of
 * timerPrecisionMs, one whole slot less when the time asked for was one) and
 * delivers a slot once it has passed, so the time asked for lies in
 * (TIMER_OUT_MS, TIMER_OUT_MS + precision]. Ours delivers at the time asked
 * for, read back from the property the sender set as transformTimerMessage
 * reads it (a delay counts from the store time); without one, or when it
 * does not fit (a message Apache rolled), at the end of the slot as Apache.
 * A TIMER_OUT_MS that is no multiple was written unrounded (ours before
 * 2026-12) and is the time itself.
 */
static int64_t timer_due(const schedule_service *s, const char *props, uint32_t props_len, int64_t store_ts)
{
    const int64_t p = s->precision, lim = INT64_MAX / 4000;
    int64_t out = 0, v, asked = INT64_MIN, due;
    if (!prop_int64(props, props_len, "TIMER_OUT_MS", &out) || out < 0) out = 0;
    if (out % p) {
        due = out;
    } else {
        if (prop_int64(props, props_len, "TIMER_DELAY_SEC", &v)) {
            if (v > -lim && v < lim) asked = store_ts + v * 1000;
        } else if (prop_int64(props, props_len, "TIMER_DELAY_MS", &v)) {
            if (v > -lim && v < lim) asked = store_ts + v;
        } else if (prop_int64(props, props_len, "TIMER_DELIVER_MS", &v)) {
            asked = v;
        }
        due = asked > out && asked <= out + p ? asked : out + p;
    }
    return due > store_ts ? due : store_ts;
}

/* The wheel slot a due time is filed under: the start of the slot it ends. */
static int64_t timer_slot(const schedule_service *s, int64_t due) { return (due - 1) / s->precision * s->precision; }

/* REAL_TOPIC of a parked message as a pointer into PROPS ("" when missing). */
const char *timer_real_topic(const char *props, uint32_t props_len, size_t *len)
{
    const char *v;
    if (msg_props_find(props, props_len, "REAL_TOPIC", &v, len)) return v;
    *len = 0;
    return "";
}

bool timer_is_cancel_mark(const char *props, uint32_t props_len)
{
    const char *v;
    size_t n;
    return msg_props_find(props, props_len, "TIMER_DEL_UNIQKEY", &v, &n);
}

/* One more pending timer of its topic, or one less for a mark (TimerMessageStore.doEnqueue's addMetric). */
static void metric_parked(schedule_service *s, const char *props, uint32_t props_len)
{
    size_t tl;
    const char *t = timer_real_topic(props, props_len, &tl);
    timer_metrics_add(s->metrics, t, tl, timer_is_cancel_mark(props, props_len) ? -1 : 1, now_ms());
}

static void timer_add(schedule_service *s, int64_t offset, int64_t due, const char *props, uint32_t props_len)
{
    if (offset < s->scanned_upto) return;  /* already known */
    metric_parked(s, props, props_len);
    s->scanned_upto = offset + 1;
    timer_entry e = {due, offset};
    /* Keep the delivery order monotonic so the watermark stays exact (clock steps back). */
    if (timer_entry_before(&e, &s->handed)) e.due = s->handed.due + 1;
    heap_push(s, e);
}

static void timer_run(evutil_socket_t fd, short what, void *arg)
{
    schedule_service *s = arg;
    s->timer_armed_due = 0;
    int64_t now = now_ms();
    if (s->b->cfg.timerStopDequeue) {  /* an operator's pause: look again in a second */
        struct timeval tv = {1, 0};
        evtimer_add(s->timer_ev, &tv);
        s->timer_armed_due = now + 1000;
        return;
    }
    /* The delivery thread reads and puts (timer_deliver.c); the loop only hands over. */
    while (s->n_heap && s->heap[0].due <= now) {
        if (!timer_deliver_push(s, s->heap[0])) {  /* a full queue (the store refusing): look again soon */
            struct timeval tv = {0, HANDOVER_RETRY_MS * 1000};
            evtimer_add(s->timer_ev, &tv);
            s->timer_armed_due = now + HANDOVER_RETRY_MS;
            return;
        }
        s->handed = s->heap[0];
        heap_pop(s);
    }
    timer_arm(s);
}

/* ---- 5.x timer: Apache's timer files (timer_store.h) ---- */

/* The parked message at a commit-log offset; RMQ_ERR when it is gone or not a timer message. */
static int timer_record_at(schedule_service *s, int64_t phys, store_slice *sl, msg_record *r)
{
    const char *why;
    if (store_get_record(s->b->store, phys, sl)) return RMQ_ERR;
    if (msg_record_decode(sl->data, sl->len, r, &why) == RMQ_OK && r->queue_id == 0 &&
        r->topic_len == strlen(TOPIC_TIMER) && memcmp(r->topic, TOPIC_TIMER, r->topic_len) == 0)
        return RMQ_OK;
    store_slice_release(sl);
    return RMQ_ERR;
}

static void refile_add(schedule_service *s, timer_entry e, int64_t slot)
{
    if (s->n_refiles == s->cap_refiles) {
        s->cap_refiles = s->cap_refiles ? 2 * s->cap_refiles : 16;
        s->refiles = xrealloc(s->refiles, s->cap_refiles * sizeof *s->refiles);
    }
    s->refiles[s->n_refiles++] = (refile_entry){e, slot};
}

/*
 * Files a parked record in the timer log under SLOT. A slot beyond the roll
 * window (timerRollWindowSlot slots from now) is filed as Apache's doEnqueue
 * files it: a roll unit under a nearer slot, at which Apache puts the message
 * back to the timer topic and ours files it again (refile list).
 */
static bool timer_file_record(schedule_service *s, const msg_record *r, int64_t slot)
{
    size_t tl;
    const char *topic = timer_real_topic(r->props, r->props_len, &tl);
    int32_t magic = TIMER_MAGIC_DEFAULT;
    if (timer_is_cancel_mark(r->props, r->props_len)) magic |= TIMER_MAGIC_DELETE;
    int64_t now = now_ms(), write_ms = now / s->precision * s->precision;
    int64_t window = s->b->cfg.timerRollWindowSlot;
    if (window < 2 || window > TIMER_SLOTS_TOTAL - 2) window = TIMER_SLOTS_TOTAL - 2;  /* TIMER_BLANK_SLOTS */
    if (slot - write_ms >= window * s->precision) {
        int64_t near = write_ms + (slot - write_ms - window * s->precision < window / 3 * s->precision ? window / 2
                                                                                                      : window) *
                                      s->precision;
        /* Apache's read time never passes the present; ours jumps to the earliest pending
         * timer, which can lie beyond the roll window: a roll unit below it is never read. */
        if (near < s->read_floor) near = s->read_floor;
        if (near < slot) {
            magic |= TIMER_MAGIC_ROLL;
            slot = near;
            refile_add(s, (timer_entry){timer_due(s, r->props, r->props_len, r->store_timestamp), r->queue_offset},
                       slot);
        }
    }
    if (timer_store_append(s->files, now, magic, slot, r->phys_offset, (int32_t)r->total_size,
                           java_string_hash(topic, tl)))
        return false;
    s->last_filed = r->queue_offset;
    return true;
}

static bool timer_file_visit(void *ctx, const msg_record *r)
{
    schedule_service *s = ctx;
    if (r->queue_offset >= s->scanned_upto || s->file_budget-- <= 0) return false;
    return timer_file_record(s, r, timer_slot(s, timer_due(s, r->props, r->props_len, r->store_timestamp)));
}

/* Files again the pending timers whose unit lies before READ_MS, which the checkpoint is about to pass. */
static void timer_refile(schedule_service *s, int64_t read_ms)
{
    size_t keep = 0, n_now = 0;
    refile_entry *now = NULL;
    timer_entry delivered = timer_delivered(s);
    for (size_t i = 0; i < s->n_refiles; i++) {
        refile_entry f = s->refiles[i];
        if (!timer_entry_before(&delivered, &f.e)) continue;  /* delivered: forget it */
        if (f.slot >= read_ms) {
            s->refiles[keep++] = f;
            continue;
        }
        now = xrealloc(now, (n_now + 1) * sizeof *now);
        now[n_now++] = f;
    }
    s->n_refiles = keep;
    for (size_t i = 0; i < n_now; i++) {
        store_get_result res;
        msg_record r;
        const char *why;
        if (store_get_messages(s->b->store, "", TOPIC_TIMER, 0, now[i].e.offset, 1, NULL, &res)) break;
        if (res.count == 1 && msg_record_decode(res.msgs[0].data, res.msgs[0].len, &r, &why) == RMQ_OK)
            timer_file_record(s, &r, timer_slot(s, now[i].e.due));
        store_get_result_release(&res);
    }
    free(now);
}

/*
 * Files what arrived since the last save, then makes the newest unit name the
 * newest parked message: Apache's recovery resumes reading the timer queue
 * after the message of the last unit, so anything past it would be put on
 * the wheel twice. When that message was delivered already, its unit goes
 * under a slot before READ_MS, which no one reads again.
 */
static void timer_file_arrivals(schedule_service *s, int64_t read_ms)
{
    s->read_floor = read_ms;
    timer_refile(s, read_ms);
    s->file_budget = INT64_MAX;
    int64_t cursor = s->filed_upto;
    sysqueue_scan(s->b->store, "", TOPIC_TIMER, &cursor, timer_file_visit, s);
    s->filed_upto = cursor;
    if (s->scanned_upto == 0 || s->last_filed == s->scanned_upto - 1) return;
    store_get_result res;
    msg_record r;
    const char *why;
    if (store_get_messages(s->b->store, "", TOPIC_TIMER, 0, s->scanned_upto - 1, 1, NULL, &res)) return;
    if (res.count == 1 && msg_record_decode(res.msgs[0].data, res.msgs[0].len, &r, &why) == RMQ_OK)
        timer_file_record(s, &r, read_ms - s->precision);
    store_get_result_release(&res);
}

/*
 * Files arrivals shortly after they come, FILE_BATCH per loop pass, as
 * Apache's enqueue thread does, rather than all of a persist interval's at
 * the save: 100,000 arrivals filed at once held the event loop (sends, pulls,
 * deliveries) for 200-560 ms. The save then files only the rest. Roll units
 * keep the last save's read time as their floor; timer_refile files them
 * again before a later checkpoint passes them.
 */
static void timer_file_cb(evutil_socket_t fd, short what, void *arg)
{
    schedule_service *s = arg;
    s->file_armed = false;
    s->file_budget = FILE_BATCH;
    int64_t cursor = s->filed_upto;
    sysqueue_scan(s->b->store, "", TOPIC_TIMER, &cursor, timer_file_visit, s);
    s->filed_upto = cursor;
    timer_store_flush(s->files);
    if (s->file_budget < 0 && cursor < s->scanned_upto) {  /* more waiting: after the loop's other work */
        struct timeval now_tv = {0, 0};
        evtimer_add(s->file_ev, &now_tv);
        s->file_armed = true;
    }
}

static void timer_file_soon(schedule_service *s)
{
    if (s->file_armed || !s->file_ev) return;
    struct timeval tv = {0, FILE_AFTER_MS * 1000};
    evtimer_add(s->file_ev, &tv);
    s->file_armed = true;
}

/* Every slot before it has been delivered: Apache's lastReadTimeMs. */
static int64_t timer_read_ms(schedule_service *s)
{
    timer_entry oldest, delivered;
    if (timer_deliver_oldest(s, &oldest)) return timer_slot(s, oldest.due);  /* handed over, not delivered */
    if (s->n_heap) return timer_slot(s, s->heap[0].due);
    if ((delivered = timer_delivered(s)).offset >= 0) return timer_slot(s, delivered.due) + s->precision;
    return now_ms() / s->precision * s->precision;
}

static void timer_save(schedule_service *s)
{
    int64_t read_ms = timer_read_ms(s);
    timer_file_arrivals(s, read_ms);
    timer_checkpoint cp = {.last_read_ms = read_ms, .queue_offset = s->scanned_upto,
                           .master_queue_offset = s->scanned_upto};
    timer_store_save(s->files, &cp);
    timer_store_clean(s->files, store_commitlog_min_offset(s->b->store));
}

/*
 * A clean stop must not leave a slot half delivered: the checkpoint can only
 * say "every slot before this one". The rest of the slot is due within one
 * precision; wait for it and deliver it.
 */
static void timer_finish_slot(schedule_service *s)
{
    timer_deliver_stop(s);  /* delivers what was handed over; from here on one thread */
    while (s->n_heap && s->delivered.offset >= 0 && timer_slot(s, s->heap[0].due) == timer_slot(s, s->delivered.due)) {
        int64_t wait = s->heap[0].due - now_ms();
        if (wait > 0) usleep((useconds_t)wait * 1000);
        if (timer_deliver_one(s, s->heap[0]) != RMQ_OK) return;
        s->delivered = s->heap[0];
        heap_pop(s);
    }
}

static bool timer_wheel_visit(void *ctx, const timer_unit *u)
{
    schedule_service *s = ctx;
    store_slice sl;
    msg_record r;
    if (timer_record_at(s, u->phys_offset, &sl, &r)) return true;  /* gone with its commit-log file */
    int64_t due = timer_due(s, r.props, r.props_len, r.store_timestamp);
    if (r.queue_offset < s->scanned_upto) {
        metric_parked(s, r.props, r.props_len);
        cancel_note(s, r.props, r.props_len, due);
        if (!(u->magic & TIMER_MAGIC_DELETE) || (u->magic & TIMER_MAGIC_ROLL)) {
            heap_push(s, (timer_entry){due, r.queue_offset});
            /* A roll unit (ours or Apache's) before the message's own slot: file it again before it is passed. */
            if (u->delayed_ms < timer_slot(s, due)) refile_add(s, (timer_entry){due, r.queue_offset}, u->delayed_ms);
        }
    }
    store_slice_release(&sl);
    return true;
}

static bool timer_rebuild_visit(void *ctx, const msg_record *r)
{
    schedule_service *s = ctx;
    int64_t due = timer_due(s, r->props, r->props_len, r->store_timestamp);
    metric_parked(s, r->props, r->props_len);
    cancel_note(ctx, r->props, r->props_len, due);
    heap_push(ctx, (timer_entry){due, r->queue_offset});
    return true;
}

static int cmp_offset(const void *a, const void *b)
{
    const timer_entry *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_order(const void *a, const void *b)
{
    return timer_entry_before(a, b) ? -1 : timer_entry_before(b, a);
}

/*
 * A message filed again (a roll unit refiled) and a crash before the
 * checkpoint passed its old unit: both units are read. Once in the heap is
 * enough. A sorted array is a heap.
 */
static void heap_dedupe(schedule_service *s)
{
    if (s->n_heap < 2) return;
    qsort(s->heap, s->n_heap, sizeof *s->heap, cmp_offset);
    size_t n = 1;
    for (size_t i = 1; i < s->n_heap; i++)
        if (s->heap[i].offset != s->heap[n - 1].offset) s->heap[n++] = s->heap[i];
    s->n_heap = n;
    qsort(s->heap, s->n_heap, sizeof *s->heap, cmp_order);
}

/*
 * Start-up, the way Apache's TimerMessageStore.recover reads its files:
 * pending are the units filed under slots from the checkpoint's read time on
 * whose message lies below its queue offset, and every parked message from
 * that offset on. Works on a store written by either broker.
 */
static void timer_rebuild(schedule_service *s)
{
    store *st = s->b->store;
    int64_t min = store_min_offset_in_queue(st, TOPIC_TIMER, 0), max = store_max_offset_in_queue(st, TOPIC_TIMER, 0);
    timer_checkpoint cp;
    int64_t from = min;
    timer_metrics_zero(s->metrics);  /* counted again from what is found pending */
    if (timer_store_checkpoint(s->files, &cp)) {
        from = cp.queue_offset < cp.master_queue_offset ? cp.queue_offset : cp.master_queue_offset;
        from = from < min ? min : from > max ? max : from;
        s->scanned_upto = from;
        timer_store_walk(s->files, cp.last_read_ms, timer_wheel_visit, s);
    }
    size_t walked = s->n_heap;
    /* Messages the log names already keep their units (a save cut short by a crash). */
    timer_unit last;
    store_slice sl;
    msg_record r;
    if (timer_store_last_unit(s->files, &last) && timer_record_at(s, last.phys_offset, &sl, &r) == RMQ_OK) {
        s->last_filed = r.queue_offset;
        store_slice_release(&sl);
    }
    s->scanned_upto = from;
    if (sysqueue_scan(st, "", TOPIC_TIMER, &s->scanned_upto, timer_rebuild_visit, s)) return;
    heap_dedupe(s);
    s->filed_upto = s->last_filed + 1 > from ? s->last_filed + 1 : from;
    log_info("schedule", "timer: %zu messages pending (%zu from the wheel), queue read from %" PRId64 " to %" PRId64,
             s->n_heap, walked, from, s->scanned_upto);
}

static void persist(schedule_service *s)
{
    delay_offset_persist(s->b->delay_offsets);
    if (!s->started) return;
    timer_save(s);
    cancel_expire(s, now_ms());
    timer_metrics_persist(s->metrics);
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
    s->delivered = s->handed = (timer_entry){INT64_MIN, -1};
    timer_deliver_init(s);
    s->last_filed = -1;
    /* Apache reads timerPrecisionMs once, for the wheel it opens; so do we. */
    s->precision = b->cfg.timerPrecisionMs > 0 ? b->cfg.timerPrecisionMs : 1000;
    if (!(s->files = timer_store_open(b->cfg.storePathRootDir, (int32_t)s->precision, err, errlen))) {
        timer_deliver_free(s);
        free(s);
        return NULL;
    }
    s->metrics = timer_metrics_open(b->cfg.storePathRootDir);
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
    timer_rebuild(s);
    s->timer_ev = evtimer_new(s->b->base, timer_run, s);
    s->file_ev = evtimer_new(s->b->base, timer_file_cb, s);
    timer_deliver_start(s);
    timer_arm(s);
    s->persist_ev = event_new(s->b->base, -1, EV_PERSIST, persist_cb, s);
    struct timeval tv = {SCHEDULE_PERSIST_INTERVAL_MS / 1000, 0};
    event_add(s->persist_ev, &tv);
    s->started = true;
}

void schedule_free(schedule_service *s)
{
    if (!s) return;
    if (s->started) timer_finish_slot(s);
    timer_deliver_stop(s);
    persist(s);
    for (int i = 0; i < s->n_levels; i++)
        if (s->levels[i].timer) event_free(s->levels[i].timer);
    if (s->timer_ev) event_free(s->timer_ev);
    if (s->file_ev) event_free(s->file_ev);
    if (s->persist_ev) event_free(s->persist_ev);
    free(s->heap);
    timer_deliver_free(s);
    free(s->refiles);
    timer_store_close(s->files);
    timer_metrics_close(s->metrics);
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
        int64_t due = timer_due(s, props, props_len, store_ts);
        if (qoffset >= s->scanned_upto) cancel_note(s, props, props_len, due);
        timer_add(s, qoffset, due, props, props_len);
        timer_arm(s);
        timer_file_soon(s);
    }
}

char *schedule_timer_metrics_json(const broker *b, size_t *len)
{
    return b->schedule ? timer_metrics_encode(b->schedule->metrics, len) : NULL;
}

bool schedule_timer_checkpoint_bytes(const broker *b, uint8_t out[56])
{
    if (!b->schedule) return false;
    timer_checkpoint cp = {.dv_timestamp = now_ms()};
    timer_store_checkpoint(b->schedule->files, &cp);
    const int64_t v[7] = {cp.last_read_ms, cp.timerlog_flush_pos, cp.queue_offset, cp.master_queue_offset,
                          cp.state_version, cp.dv_timestamp, cp.dv_counter};
    for (int i = 0; i < 7; i++) put_be64(out + 8 * i, (uint64_t)v[i]);
    return true;
}

int64_t schedule_precision(const broker *b)
{
    if (b->schedule) return b->schedule->precision;
    return b->cfg.timerPrecisionMs > 0 ? b->cfg.timerPrecisionMs : 1000;
}
