/*
 * The 5.x timer's delivery: a thread of its own reads each due parked message,
 * drops it when a cancel mark names it, and puts it to its real topic, as
 * Apache's TimerDequeueGetService / TimerDequeuePutMessageService threads do.
 * The loop keeps the heap and hands due entries over in order (a ring of
 * DQ_CAP); the thread delivers them in that order and moves the watermark.
 * On the loop, deliveries queued behind network work (and network work behind
 * bursts of deliveries) made timers late whenever the loop's one core was
 * busy or starved: with the store's put being thread-safe, the two now run
 * side by side (schedule_int.h, bench/README.md "Timer").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "schedule_int.h"
#include "sysqueue.h"

#define DQ_CAP 16384                /* entries handed over and not delivered yet */
#define RETRY_AFTER_ERROR_MS 10000  /* DELAY_FOR_A_PERIOD */
#define CANCEL_KEEP_MS 60000        /* a cancel mark outlives its own due time by this much */

/* ---- cancel marks ---- */

/*
 * TIMER_DEL_UNIQKEY (a recall): the mark itself is never delivered, and the
 * parked message it names is dropped when its turn comes (Apache drops it
 * when both are filed in the same slot).
 */
void cancel_note(schedule_service *s, const char *props, uint32_t props_len, int64_t due)
{
    const char *v;
    size_t n;
    if (!msg_props_find(props, props_len, "TIMER_DEL_UNIQKEY", &v, &n)) return;
    pthread_mutex_lock(&s->cancel_mu);
    for (size_t i = 0; i < s->n_cancels; i++)
        if (strlen(s->cancels[i].key) == n && memcmp(s->cancels[i].key, v, n) == 0) {
            pthread_mutex_unlock(&s->cancel_mu);
            return;
        }
    if (s->n_cancels == s->cap_cancels) {
        s->cap_cancels = s->cap_cancels ? 2 * s->cap_cancels : 16;
        s->cancels = xrealloc(s->cancels, s->cap_cancels * sizeof *s->cancels);
    }
    s->cancels[s->n_cancels++] = (cancel_mark){xstrndup(v, n), due};
    pthread_mutex_unlock(&s->cancel_mu);
}

static void cancel_drop(schedule_service *s, size_t i)
{
    free(s->cancels[i].key);
    s->cancels[i] = s->cancels[--s->n_cancels];
}

/* True when R is a cancel mark or a message cancelled by one (which is then forgotten). */
static bool cancel_taken(schedule_service *s, const msg_record *r)
{
    char topic[MSG_MAX_TOPIC_LEN + 1], uniq[128];
    if (sysqueue_prop(r, "TIMER_DEL_UNIQKEY", uniq, sizeof uniq)) return true;
    pthread_mutex_lock(&s->cancel_mu);
    bool none = !s->n_cancels;
    pthread_mutex_unlock(&s->cancel_mu);
    if (none || !sysqueue_prop(r, "REAL_TOPIC", topic, sizeof topic) || !sysqueue_prop(r, "UNIQ_KEY", uniq, sizeof uniq))
        return false;
    size_t tl = strlen(topic);
    bool taken = false;
    pthread_mutex_lock(&s->cancel_mu);
    for (size_t i = 0; i < s->n_cancels && !taken; i++) {
        const char *k = s->cancels[i].key;
        if (strncmp(k, topic, tl) == 0 && k[tl] == '+' && strcmp(k + tl + 1, uniq) == 0) {
            cancel_drop(s, i);
            taken = true;
        }
    }
    pthread_mutex_unlock(&s->cancel_mu);
    if (taken) log_info("schedule", "timer message %s of %s cancelled", uniq, topic);
    return taken;
}

/* Marks whose message never came (delivered before the recall, or none) are forgotten after a minute. */
void cancel_expire(schedule_service *s, int64_t now)
{
    pthread_mutex_lock(&s->cancel_mu);
    for (size_t i = s->n_cancels; i-- > 0;)
        if (s->cancels[i].due + CANCEL_KEEP_MS < now) {
            /* Apache's avoidDeleteLose: a mark that dropped nothing is counted back. */
            const char *plus = strchr(s->cancels[i].key, '+');
            if (plus) timer_metrics_add(s->metrics, s->cancels[i].key, (size_t)(plus - s->cancels[i].key), 1, now);
            cancel_drop(s, i);
        }
    pthread_mutex_unlock(&s->cancel_mu);
}

/* ---- delivery ---- */

int timer_deliver_one(schedule_service *s, timer_entry e)
{
    store_get_result res;
    if (store_get_messages(s->b->store, "", TOPIC_TIMER, 0, e.offset, 1, NULL, &res)) return RMQ_ERR;
    msg_record r;
    const char *why = "not in the store any more";
    int rc = RMQ_OK;
    if (res.count == 1 && msg_record_decode(res.msgs[0].data, res.msgs[0].len, &r, &why) == RMQ_OK) {
        if (cancel_taken(s, &r)) {
            rc = RMQ_OK;  /* a mark, or the message one cancelled: counted off when the mark came */
        } else if ((rc = schedule_deliver_record(s, &r, "timer")) == RMQ_OK) {
            size_t tl;
            const char *t = timer_real_topic(r.props, r.props_len, &tl);
            timer_metrics_add(s->metrics, t, tl, -1, now_ms());
        }
    } else {
        log_error("schedule", "timer message at offset %" PRId64 ": %s, skipped", e.offset, why);
    }
    store_get_result_release(&res);
    return rc == RMQ_AGAIN ? RMQ_AGAIN : RMQ_OK;  /* RMQ_ERR from the put: skipped for good */
}

static void *deliver_main(void *arg)
{
    schedule_service *s = arg;
    pthread_mutex_lock(&s->dq_mu);
    for (;;) {
        if (!s->dq_len) {
            if (s->dq_stop) break;
            pthread_cond_wait(&s->dq_cond, &s->dq_mu);
            continue;
        }
        timer_entry e = s->dq[s->dq_head];
        pthread_mutex_unlock(&s->dq_mu);
        int rc = timer_deliver_one(s, e);
        pthread_mutex_lock(&s->dq_mu);
        if (rc == RMQ_ERR) break;  /* the store is closing: the rest is delivered after the next start */
        if (rc == RMQ_AGAIN) {     /* the store refused: try the same one again later, in order */
            if (s->dq_stop) break;
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += RETRY_AFTER_ERROR_MS / 1000;
            while (!s->dq_stop && pthread_cond_timedwait(&s->dq_cond, &s->dq_mu, &until) != ETIMEDOUT) {
            }
            continue;
        }
        s->dq_head = (s->dq_head + 1) % DQ_CAP;
        s->dq_len--;
        s->delivered = e;
    }
    pthread_mutex_unlock(&s->dq_mu);
    return NULL;
}

void timer_deliver_init(schedule_service *s)
{
    pthread_mutex_init(&s->cancel_mu, NULL);
    pthread_mutex_init(&s->dq_mu, NULL);
    pthread_cond_init(&s->dq_cond, NULL);
    s->dq = xmalloc(DQ_CAP * sizeof *s->dq);
}

void timer_deliver_start(schedule_service *s)
{
    s->dq_stop = false;
    if (pthread_create(&s->dq_thread, NULL, deliver_main, s) == 0) s->dq_running = true;
    else log_error("schedule", "cannot start the timer delivery thread: %s", strerror(errno));
}

void timer_deliver_stop(schedule_service *s)
{
    if (!s->dq_running) return;
    pthread_mutex_lock(&s->dq_mu);
    s->dq_stop = true;
    pthread_cond_signal(&s->dq_cond);
    pthread_mutex_unlock(&s->dq_mu);
    pthread_join(s->dq_thread, NULL);
    s->dq_running = false;
}

void timer_deliver_free(schedule_service *s)
{
    while (s->n_cancels) cancel_drop(s, 0);
    free(s->cancels);
    free(s->dq);
    pthread_cond_destroy(&s->dq_cond);
    pthread_mutex_destroy(&s->dq_mu);
    pthread_mutex_destroy(&s->cancel_mu);
}

bool timer_deliver_push(schedule_service *s, timer_entry e)
{
    if (!s->dq_running) return false;
    pthread_mutex_lock(&s->dq_mu);
    bool ok = s->dq_len < DQ_CAP;
    if (ok) {
        s->dq[(s->dq_head + s->dq_len++) % DQ_CAP] = e;
        if (s->dq_len == 1) pthread_cond_signal(&s->dq_cond);
    }
    pthread_mutex_unlock(&s->dq_mu);
    return ok;
}

bool timer_deliver_oldest(schedule_service *s, timer_entry *e)
{
    pthread_mutex_lock(&s->dq_mu);
    bool any = s->dq_len > 0;
    if (any) *e = s->dq[s->dq_head];
    pthread_mutex_unlock(&s->dq_mu);
    return any;
}

timer_entry timer_delivered(schedule_service *s)
{
    pthread_mutex_lock(&s->dq_mu);
    timer_entry e = s->delivered;
    pthread_mutex_unlock(&s->dq_mu);
    return e;
}
