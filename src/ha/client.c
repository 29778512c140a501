/*
 * The slave side of HA (HAClient, AutoSwitchHAClient) on the broker's loop:
 * one connection to the master with a report tick and a backoff timer for
 * reconnects. Classic HA reports 8-byte offsets; in controller mode the
 * client hands its broker id over, compares epochs with the master's
 * (docs/ha.md, "Epochs and truncation") and records each new epoch.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ha_int.h"
#include "common/log.h"
#include "common/util.h"
#include "store/store.h"

#define SLAVE_TICK_MS 1000
#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 5000

/* ---- slave side: HAClient ---- */

static void client_connect(ha_service *ha);

static void client_report(ha_service *ha)
{
    uint8_t b[HA_AS_SLAVE_REPORT_SIZE];
    int64_t max = store_commitlog_max_offset(ha->store);
    if (ha->cfg.auto_switch) {
        put_be32(b, HA_STATE_TRANSFER);
        put_be64(b + 4, (uint64_t)max);
        bufferevent_write(ha->client, b, HA_AS_SLAVE_REPORT_SIZE);
    } else {
        put_be64(b, (uint64_t)max);
        bufferevent_write(ha->client, b, 8);
    }
    ha->reported = max;
    ha->last_report_ms = mono_ms();
    ha->last_write_wall = now_ms();
}

static void client_drop(ha_service *ha, const char *why)
{
    if (!ha->client) return;
    log_warn("ha", "connection to master %s closed: %s; retrying in %d ms", ha->master, why, ha->backoff_ms);
    bufferevent_free(ha->client);
    ha->client = NULL;
    ha->client_connected = false;
    ha_add_ms(ha->reconnect_ev, ha->backoff_ms);
    ha->backoff_ms = ha->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : ha->backoff_ms * 2;
}

/* Appends one frame's data at our end; false (dropped) on a mismatch or error. */
static bool client_append(ha_service *ha, int64_t offset, const uint8_t *data, int32_t size)
{
    char why[512];
    int64_t mine = store_commitlog_max_offset(ha->store);
    if (mine != 0 && mine != offset) {
        snprintf(why, sizeof why, "master offset %" PRId64 " is not our commit log end %" PRId64, offset, mine);
        client_drop(ha, why);
        return false;
    }
    char err[256];
    if (size > 0 && store_append_raw(ha->store, offset, data, (size_t)size, err, sizeof err)) {
        snprintf(why, sizeof why, "cannot append: %s", err);
        client_drop(ha, why);
        return false;
    }
    ha_flow_add(&ha->client_flow, size);
    return true;
}

/*
 * AutoSwitchHAClient.doTruncate: with the master's epochs, find where our log
 * stops agreeing with the master's and cut it back there (with our epoch
 * entries) before reporting our end. A starting broker did so already before
 * it served (ha_autoswitch_probe); this is the master demoted while it ran.
 */
static bool client_handshake(ha_service *ha, const ha_as_header *h, const uint8_t *body)
{
    ha_epochs *local = ha->cfg.epochs;
    int64_t mine = store_commitlog_max_offset(ha->store);
    if (local->n) {
        ha_epochs remote;
        ha_epochs_init(&remote, NULL);
        ha_epochs_decode(&remote, body, (size_t)h->body_size);
        int64_t cp = ha_epochs_consistent_point(local, mine, &remote, h->offset);
        ha_epochs_free(&remote);
        char why[512], err[256];
        if (cp < 0) {
            client_drop(ha, "no offset where our log and the master's agree");
            return false;
        }
        if (cp < mine) {
            if (store_truncate(ha->store, cp, err, sizeof err)) {
                snprintf(why, sizeof why, "cannot cut our log back to %" PRId64 ": %s", cp, err);
                client_drop(ha, why);
                return false;
            }
            ha_epochs_truncate_from(local, cp);
            log_warn("ha", "log cut back from %" PRId64 " to %" PRId64 ", where it agrees with master %s", mine, cp,
                     ha->master);
            mine = cp;
        }
    }
    ha->client_state = HA_STATE_TRANSFER;
    log_info("ha", "handshake with master %s done (its end %" PRId64 ", epoch %" PRId32 "); reporting %" PRId64,
             ha->master, h->offset, h->epoch, mine);
    client_report(ha);
    return true;
}

/* AutoSwitchHAClient.HAClientReader: a handshake answer, then transfers carrying their epoch. */
static void client_read_auto_switch(ha_service *ha, struct evbuffer *in)
{
    for (;;) {
        size_t len = evbuffer_get_length(in);
        ha_as_header h;
        size_t hl = len < HA_AS_TRANSFER_HEADER_SIZE ? len : HA_AS_TRANSFER_HEADER_SIZE;
        long n = ha_as_parse_header(evbuffer_pullup(in, (ssize_t)hl), hl, &h);
        if (n < 0) {
            client_drop(ha, "bad frame from the master");
            return;
        }
        if (n == 0 || len < (size_t)n) break;
        const uint8_t *p = evbuffer_pullup(in, n);
        size_t head = h.state == HA_STATE_TRANSFER ? HA_AS_TRANSFER_HEADER_SIZE : HA_AS_HANDSHAKE_HEADER_SIZE;
        if (h.state != ha->client_state) {
            evbuffer_drain(in, (size_t)n);   /* Apache skips a frame of the other state */
            continue;
        }
        if (h.state == HA_STATE_HANDSHAKE) {
            if (!client_handshake(ha, &h, p + head)) return;
        } else {
            if (!client_append(ha, h.offset, p + head, h.body_size)) return;
            if (h.epoch != ha->received_epoch) {
                ha->received_epoch = h.epoch;
                ha_epochs_append(ha->cfg.epochs, h.epoch, h.epoch_start);
            }
        }
        evbuffer_drain(in, (size_t)n);
    }
    if (ha->client_state == HA_STATE_TRANSFER && store_commitlog_max_offset(ha->store) > ha->reported)
        client_report(ha);
}

/* HAClient.dispatchReadRequest: append only at our own end, else start over. */
static void client_read(struct bufferevent *bev, void *arg)
{
    ha_service *ha = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char why[512];
    ha->last_read_wall = now_ms();
    if (ha->cfg.auto_switch) {
        client_read_auto_switch(ha, in);
        return;
    }
    for (;;) {
        size_t len = evbuffer_get_length(in);
        ha_transfer t;
        if (len < HA_HEADER_SIZE) break;
        long n = ha_parse_transfer(evbuffer_pullup(in, HA_HEADER_SIZE), HA_HEADER_SIZE, &t);
        if (n < 0) {
            snprintf(why, sizeof why, "bad frame size %" PRId32, t.size);
            client_drop(ha, why);
            return;
        }
        size_t need = HA_HEADER_SIZE + (size_t)t.size;
        if (len < need) break;
        ha_parse_transfer(evbuffer_pullup(in, (ssize_t)need), need, &t);
        if (!client_append(ha, t.phys_offset, t.data, t.size)) return;
        evbuffer_drain(in, need);
    }
    if (store_commitlog_max_offset(ha->store) > ha->reported) client_report(ha);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
    ha_service *ha = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ha->client_connected = true;
        ha->backoff_ms = RECONNECT_MIN_MS;
        ha->last_read_wall = ha->last_write_wall = now_ms();   /* HAClient.connectMaster */
        if (ha->cfg.auto_switch) {
            /* AutoSwitchHAClient.sendHandshakeHeader: no sync from the last file, no learner. */
            uint8_t hs[HA_AS_SLAVE_HANDSHAKE_SIZE] = {0};
            put_be32(hs, HA_STATE_HANDSHAKE);
            put_be64(hs + 8, (uint64_t)ha->cfg.local_broker_id);
            ha->client_state = HA_STATE_HANDSHAKE;
            ha->received_epoch = -1;
            bufferevent_write(bev, hs, sizeof hs);
            ha->last_report_ms = mono_ms();
            log_info("ha", "connected to master %s, handshake as broker %" PRId64, ha->master,
                     ha->cfg.local_broker_id);
            return;
        }
        log_info("ha", "connected to master %s, reporting offset %" PRId64, ha->master,
                 store_commitlog_max_offset(ha->store));
        client_report(ha);
        return;
    }
    client_drop(ha, what & BEV_EVENT_TIMEOUT ? "housekeeping: nothing read in time"
                    : what & BEV_EVENT_EOF  ? "closed by the master"
                                            : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void client_connect(ha_service *ha)
{
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    if (evutil_parse_sockaddr_port(ha->master, (struct sockaddr *)&ss, &sslen)) {
        log_error("ha", "haMasterAddress '%s' is not ip:port; not replicating", ha->master);
        return;
    }
    ha->client = bufferevent_socket_new(ha->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(ha->client, client_read, NULL, client_event, ha);
    ha_set_timeouts(ha->client, ha->cfg.housekeeping_interval_ms);
    bufferevent_enable(ha->client, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(ha->client, (struct sockaddr *)&ss, sslen))
        client_drop(ha, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
    ha_service *ha = arg;
    if (ha->master && !ha->client) client_connect(ha);
}

/* Report every heartbeat interval even when nothing arrives. */
static void client_tick(evutil_socket_t fd, short what, void *arg)
{
    ha_service *ha = arg;
    if (ha->client_connected && (!ha->cfg.auto_switch || ha->client_state == HA_STATE_TRANSFER) &&
        mono_ms() - ha->last_report_ms >= ha->cfg.heartbeat_interval_ms)
        client_report(ha);
}

void ha_set_master_address(ha_service *ha, const char *addr)
{
    if (addr && !*addr) addr = NULL;
    if ((!addr && !ha->master) || (addr && ha->master && strcmp(addr, ha->master) == 0)) return;
    log_info("ha", "master HA address: %s -> %s", ha->master ? ha->master : "(none)", addr ? addr : "(none)");
    if (ha->client) {
        bufferevent_free(ha->client);
        ha->client = NULL;
        ha->client_connected = false;
    }
    event_del(ha->reconnect_ev);
    free(ha->master);
    ha->master = addr ? xstrdup(addr) : NULL;
    ha->backoff_ms = RECONNECT_MIN_MS;
    if (ha->master) client_connect(ha);
}

void ha_client_init(ha_service *ha)
{
    ha->reconnect_ev = event_new(ha->base, -1, 0, reconnect_cb, ha);
    ha->client_tick = event_new(ha->base, -1, EV_PERSIST, client_tick, ha);
    ha_add_ms(ha->client_tick, SLAVE_TICK_MS);
}

void ha_client_free(ha_service *ha)
{
    event_free(ha->reconnect_ev);
    event_free(ha->client_tick);
}

void ha_client_status(const ha_service *ha, ha_client_info *out)
{
    out->master = ha->master;
    out->last_read_ms = ha->last_read_wall;
    out->last_write_ms = ha->last_write_wall;
    out->bytes_per_sec = ha_flow_rate(&ha->client_flow);
}
