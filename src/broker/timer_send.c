/*
 * The 5.x timer on the send path (schedule.h): HookUtils.transformTimerMessage
 * and the recall handles of SendMessageProcessor.attachRecallHandle and
 * RecallMessageHandle.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "schedule.h"

enum timer_verdict schedule_timer_redirect(const broker *b, msg_props *props, const char **topic, int32_t *queue_id,
                                           int64_t now, bool internal, char *why, size_t whylen)
{
    const char *deliver = msg_props_get(props, "TIMER_DELIVER_MS");
    const char *sec = msg_props_get(props, "TIMER_DELAY_SEC");
    const char *ms = msg_props_get(props, "TIMER_DELAY_MS");
    if ((!deliver && !sec && !ms) || strcmp(*topic, TOPIC_TIMER) == 0 || msg_props_get(props, "TIMER_OUT_MS"))
        return TIMER_PLAIN;
    const broker_config *c = &b->cfg;
    if (!c->timerWheelEnable && !internal) {
        snprintf(why, whylen, "accurate timer message is not enabled, timerWheelEnable is false");
        return TIMER_NOT_ENABLED;
    }
    int64_t max_ms = (int64_t)c->timerMaxDelaySec * 1000, v, due;
    /* WHEEL_TIMER_MSG_ILLEGAL's remark (SendMessageProcessor.handlePutMessageResult). */
    snprintf(why, whylen,
             "timer message illegal, the delay time should not be bigger than the max delay %" PRId64
             "ms; or if set del msg, the delay time should be bigger than the current time",
             max_ms);
    if (parse_int64(sec ? sec : ms ? ms : deliver, &v) != RMQ_OK) return TIMER_ILLEGAL;
    const int64_t lim = INT64_MAX / 4000;  /* beyond any max delay, no overflow below */
    if (v > lim) return TIMER_ILLEGAL;
    if (v < -lim) v = -lim;
    due = sec ? now + v * 1000 : ms ? now + v : v;
    if (due <= now) {
        if (!msg_props_get(props, "TIMER_DEL_UNIQKEY")) return TIMER_PLAIN;  /* already due: an ordinary message */
        return TIMER_ILLEGAL;  /* a cancel mark for a time already past */
    }
    if (due - now > max_ms) return TIMER_ILLEGAL;
    /* Stored as Apache stores it: the start of the slot, one slot less for a time on a slot's edge. */
    int64_t p = schedule_precision(b);
    due = due % p == 0 ? due - p : due / p * p;
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, due);
    msg_props_set(props, "TIMER_OUT_MS", buf);
    msg_props_set(props, "REAL_TOPIC", *topic);
    snprintf(buf, sizeof buf, "%d", *queue_id);
    msg_props_set(props, "REAL_QID", buf);
    *queue_id = 0;
    *topic = TOPIC_TIMER;
    return TIMER_PARKED;
}

char *schedule_recall_handle(const broker *b, const msg_props *props)
{
    const char *out = msg_props_get(props, "TIMER_OUT_MS"), *real = msg_props_get(props, "REAL_TOPIC");
    int64_t ts;
    if (!out || !real || strncmp(real, "%RETRY%", 7) == 0 || parse_int64(out, &ts) != RMQ_OK) return NULL;
    const char *uniq = msg_props_get(props, "UNIQ_KEY");
    /* "+ 1": the handle names a time inside the slot, which a recall rounds back to it. */
    char *raw = str_printf("v1 %s %s %" PRId64 " %s", real, b->cfg.brokerName, ts + 1, uniq ? uniq : "null");
    size_t n = strlen(raw);
    char *enc = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)raw, (int)n);
    free(raw);
    for (char *c = enc; *c; c++) /* Base64.getUrlEncoder(): padded, '-' and '_' */
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
    return enc;
}

static int url_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Base64.getUrlDecoder().decode: padding optional but exact when there, nothing else allowed. */
static char *url_b64_decode(const char *in, size_t *out_len)
{
    size_t n = strlen(in), pad = 0;
    while (pad < 2 && n > pad && in[n - 1 - pad] == '=') pad++;
    if (pad && n % 4) return NULL;
    size_t body = n - pad;
    if (body % 4 == 1 || (pad && (body % 4) + pad != 4)) return NULL;
    char *out = xmalloc(body / 4 * 3 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < body; i++) {
        int v = url_b64_value(in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits & 0xFF);
        }
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

int schedule_recall_decode(const char *handle, recall_handle *h)
{
    memset(h, 0, sizeof *h);
    size_t len;
    char *raw = handle && *handle ? url_b64_decode(handle, &len) : NULL;
    if (!raw) return RMQ_ERR;
    if (strlen(raw) != len) {  /* a NUL inside: no field of a real handle has one */
        free(raw);
        return RMQ_ERR;
    }
    /* String.split(" "): empty fields between spaces count, trailing empty ones do not. */
    char *items[5] = {0};
    size_t end = len;
    while (end > 0 && raw[end - 1] == ' ') raw[--end] = 0;
    int n = 0;
    char *p = raw;
    while (n < 5) {
        items[n++] = p;
        char *sp = strchr(p, ' ');
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
    if (strcmp(items[0], "v1") != 0 || n < 5) {
        free(raw);
        return RMQ_ERR;
    }
    char *sp = strchr(items[4], ' ');  /* a sixth field and beyond are ignored */
    if (sp) *sp = 0;
    h->raw = raw;
    h->topic = items[1];
    h->broker_name = items[2];
    h->timestamp = items[3];
    h->message_id = items[4];
    return RMQ_OK;
}

void schedule_recall_free(recall_handle *h)
{
    free(h->raw);
    h->raw = NULL;
}
