/*
 * Apache 5.x's auto-switch HA frames (AutoSwitchHAClient, AutoSwitchHAConnection;
 * docs/ha.md, "Auto-switch replication") and the handshake a starting broker
 * makes on its own, blocking, to learn where its log must be cut back to
 * before it serves.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "ha/ha.h"
#include "remoting/remoting.h"

long ha_as_parse_header(const uint8_t *buf, size_t len, ha_as_header *out)
{
    if (len < HA_AS_HANDSHAKE_HEADER_SIZE) return 0;
    memset(out, 0, sizeof *out);
    out->state = (int32_t)get_be32(buf);
    out->body_size = (int32_t)get_be32(buf + 4);
    out->offset = (int64_t)get_be64(buf + 8);
    out->epoch = (int32_t)get_be32(buf + 16);
    if (out->body_size < 0 || out->body_size > HA_MAX_FRAME_BODY) return RMQ_ERR;
    size_t head = HA_AS_HANDSHAKE_HEADER_SIZE;
    if (out->state == HA_STATE_TRANSFER) {
        if (len < HA_AS_TRANSFER_HEADER_SIZE) return 0;
        out->epoch_start = (int64_t)get_be64(buf + 20);
        out->confirm_offset = (int64_t)get_be64(buf + 28);
        head = HA_AS_TRANSFER_HEADER_SIZE;
    } else if (out->state != HA_STATE_HANDSHAKE) {
        return RMQ_ERR;
    }
    return (long)(head + (size_t)out->body_size);
}

void ha_as_put_transfer_header(uint8_t out[HA_AS_TRANSFER_HEADER_SIZE], int64_t offset, int32_t size,
                               int32_t epoch, int64_t epoch_start, int64_t confirm_offset)
{
    put_be32(out, HA_STATE_TRANSFER);
    put_be32(out + 4, (uint32_t)size);
    put_be64(out + 8, (uint64_t)offset);
    put_be32(out + 16, (uint32_t)epoch);
    put_be64(out + 20, (uint64_t)epoch_start);
    put_be64(out + 28, (uint64_t)confirm_offset);
}

/* Reads exactly len bytes before the deadline (mono ms). */
static int read_full(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
    size_t got = 0;
    while (got < len) {
        int64_t left = deadline - mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) return RMQ_ERR;
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0 && !(n < 0 && errno == EINTR)) return RMQ_ERR;
        if (n > 0) got += (size_t)n;
    }
    return RMQ_OK;
}

int ha_autoswitch_probe(const char *master, int64_t broker_id, int timeout_ms, ha_epochs *master_epochs,
                        int64_t *master_end, char *err, size_t errlen)
{
    int64_t deadline = mono_ms() + timeout_ms;
    int fd = rmq_connect_blocking(master, timeout_ms, err, errlen);
    if (fd < 0) return RMQ_ERR;
    uint8_t hs[HA_AS_SLAVE_HANDSHAKE_SIZE] = {0};
    put_be32(hs, HA_STATE_HANDSHAKE);
    put_be64(hs + 8, (uint64_t)broker_id);
    uint8_t head[HA_AS_HANDSHAKE_HEADER_SIZE];
    ha_as_header h;
    int rc = RMQ_ERR;
    if (write(fd, hs, sizeof hs) != (ssize_t)sizeof hs || read_full(fd, head, sizeof head, deadline)) {
        snprintf(err, errlen, "no handshake answer from %s", master);
        goto out;
    }
    if (ha_as_parse_header(head, sizeof head, &h) <= 0 || h.state != HA_STATE_HANDSHAKE ||
        h.body_size % HA_AS_EPOCH_ENTRY_SIZE) {
        snprintf(err, errlen, "%s answered the handshake with a malformed frame", master);
        goto out;
    }
    uint8_t *body = xmalloc((size_t)h.body_size + 1);
    if (read_full(fd, body, (size_t)h.body_size, deadline)) {
        snprintf(err, errlen, "%s: handshake answer cut short", master);
        free(body);
        goto out;
    }
    ha_epochs_decode(master_epochs, body, (size_t)h.body_size);
    free(body);
    *master_end = h.offset;
    rc = RMQ_OK;
out:
    close(fd);
    return rc;
}
