/*
 * gRPC's length-prefixed messages (PROTOCOL-HTTP2.md): a compressed-flag byte, a
 * big-endian uint32 length, the message; and grpc-message's percent-encoding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "grpc_int.h"

enum grpc_frame_rc grpc_frame_parse(const uint8_t *buf, size_t len, size_t max, bool *compressed, size_t *msg_len)
{
    if (len < GRPC_PREFIX) return GRPC_FRAME_MORE;
    uint32_t n = get_be32(buf + 1);
    if (n > max) return GRPC_FRAME_TOO_BIG;
    *compressed = buf[0] != 0;
    *msg_len = n;
    return len - GRPC_PREFIX < n ? GRPC_FRAME_MORE : GRPC_FRAME_OK;
}

void grpc_frame_prefix(uint8_t out[GRPC_PREFIX], uint32_t msg_len)
{
    out[0] = 0;
    put_be32(out + 1, msg_len);
}

char *grpc_percent_encode(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n * 3 + 1), *p = out;
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if (*q >= 0x20 && *q <= 0x7e && *q != '%') *p++ = (char)*q;
        else p += sprintf(p, "%%%02X", *q);
    }
    *p = 0;
    return out;
}

int64_t grpc_timeout_ms(const char *v, size_t len)
{
    if (len < 2 || len > 9) return -1;
    int64_t n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        n = n * 10 + (v[i] - '0');
    }
    switch (v[len - 1]) {
    case 'H': return n * 3600000;
    case 'M': return n * 60000;
    case 'S': return n * 1000;
    case 'm': return n;
    case 'u': return n / 1000;
    case 'n': return n / 1000000;
    default: return -1;
    }
}
