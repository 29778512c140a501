/*
 * The gRPC endpoint's decoders (src/grpc): the first byte picks a request type of
 * apache.rocketmq.v2.MessagingService; the rest is a request body as it arrives on a
 * stream, cut into length-prefixed messages as h2.c cuts it (limit 64 KiB here), each
 * unpacked with protobuf-c as the handlers unpack it. The first byte past the last
 * request type sends the rest through the stored-record -> Message conversion the
 * ReceiveMessage and check-back paths use, and grpc-message's percent-encoding.
 */
#include "common/message.h"
#include "fuzz.h"
#include "grpc/grpc_int.h"

static const ProtobufCMessageDescriptor *const requests[] = {
    &apache__rocketmq__v2__query_route_request__descriptor,
    &apache__rocketmq__v2__heartbeat_request__descriptor,
    &apache__rocketmq__v2__send_message_request__descriptor,
    &apache__rocketmq__v2__query_assignment_request__descriptor,
    &apache__rocketmq__v2__receive_message_request__descriptor,
    &apache__rocketmq__v2__ack_message_request__descriptor,
    &apache__rocketmq__v2__forward_message_to_dead_letter_queue_request__descriptor,
    &apache__rocketmq__v2__end_transaction_request__descriptor,
    &apache__rocketmq__v2__telemetry_command__descriptor,
    &apache__rocketmq__v2__notify_client_termination_request__descriptor,
    &apache__rocketmq__v2__change_invisible_duration_request__descriptor,
};
#define N_REQUESTS (sizeof requests / sizeof requests[0])
#define MAX_MESSAGE (64 * 1024)

/*
 * A decoded message packs to bytes that decode again to the same packing. protobuf-c keeps
 * unknown fields as they came, field number 0 included, and refuses that number when it
 * reads its own packing again (regressions/grpc/: a Telemetry command so built); the server
 * copies only Settings that way and drops a copy that does not decode, so here such a
 * packing only has to be refused cleanly.
 */
static void round_trip(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
    if (!m) return;
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = xmalloc(len + 1);
    FUZZ_ASSERT(protobuf_c_message_pack(m, buf) == len);
    ProtobufCMessage *again = protobuf_c_message_unpack(d, NULL, len, buf);
    if (again) {
        FUZZ_ASSERT(protobuf_c_message_get_packed_size(again) == len);
        protobuf_c_message_free_unpacked(again, NULL);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    free(buf);
}

static void stream(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len)
{
    for (;;) {
        bool compressed;
        size_t n = 0;
        enum grpc_frame_rc rc = grpc_frame_parse(p, len, MAX_MESSAGE, &compressed, &n);
        if (rc == GRPC_FRAME_TOO_BIG) {
            FUZZ_ASSERT(len >= GRPC_PREFIX && get_be32(p + 1) > MAX_MESSAGE);
            return;
        }
        if (rc == GRPC_FRAME_MORE) return;
        FUZZ_ASSERT(n <= len - GRPC_PREFIX);
        if (!compressed) round_trip(d, p + GRPC_PREFIX, n);
        p += GRPC_PREFIX + n;
        len -= GRPC_PREFIX + n;
    }
}

static void records(const uint8_t *p, size_t len)
{
    while (len > 0) {
        msg_record r;
        const char *why;
        if (msg_record_decode(p, len, &r, &why) != RMQ_OK) return;
        Apache__Rocketmq__V2__Message *m = grpc_message_from_record(&r, NULL);
        size_t n = apache__rocketmq__v2__message__get_packed_size(m);
        uint8_t *buf = xmalloc(n + 1);
        apache__rocketmq__v2__message__pack(m, buf);
        Apache__Rocketmq__V2__Message *back = apache__rocketmq__v2__message__unpack(NULL, n, buf);
        FUZZ_ASSERT(back != NULL);
        apache__rocketmq__v2__message__free_unpacked(back, NULL);
        apache__rocketmq__v2__message__free_unpacked(m, NULL);
        free(buf);
        p += r.total_size;
        len -= r.total_size;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t which = data[0] % (N_REQUESTS + 1);
    if (which < N_REQUESTS) {
        stream(requests[which], data + 1, size - 1);
        return 0;
    }
    records(data + 1, size - 1);
    char *text = xstrndup((const char *)data + 1, size - 1);
    char *enc = grpc_percent_encode(text);
    for (const char *q = enc; *q; q++) FUZZ_ASSERT(*q >= 0x20 && *q <= 0x7e);
    free(enc);
    free(text);
    return 0;
}
