/*
 * Status helpers: apache.rocketmq.v2.Status values and the remoting-code mapping of
 * Apache's proxy (ResponseBuilder).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "grpc_int.h"
#include "processor/response_codes.h"

Apache__Rocketmq__V2__Status *status_new(int code, const char *message)
{
    Apache__Rocketmq__V2__Status *s = xmalloc(sizeof *s);
    apache__rocketmq__v2__status__init(s);
    s->code = code;
    s->message = xstrdup(message ? message : status_code_name(code));
    return s;
}

void status_free(Apache__Rocketmq__V2__Status *s)
{
    if (!s) return;
    free(s->message);
    free(s);
}

Apache__Rocketmq__V2__Status *status_overall(const Apache__Rocketmq__V2__Status *const *each, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (each[i]->code != each[0]->code) return status_new(APACHE__ROCKETMQ__V2__CODE__MULTIPLE_RESULTS, NULL);
    return status_new(n ? (int)each[0]->code : APACHE__ROCKETMQ__V2__CODE__OK, NULL);
}

int status_code_of_remoting(int rc)
{
    switch (rc) {
    case RC_SUCCESS: return APACHE__ROCKETMQ__V2__CODE__OK;
    case RC_SYSTEM_BUSY: return APACHE__ROCKETMQ__V2__CODE__TOO_MANY_REQUESTS;
    case RC_REQUEST_CODE_NOT_SUPPORTED: return APACHE__ROCKETMQ__V2__CODE__NOT_IMPLEMENTED;
    case RC_SUBSCRIPTION_GROUP_NOT_EXIST: return APACHE__ROCKETMQ__V2__CODE__CONSUMER_GROUP_NOT_FOUND;
    case RC_NO_PERMISSION: return APACHE__ROCKETMQ__V2__CODE__FORBIDDEN;
    /* The proxy finds a missing topic in its route lookup before any send. */
    case RC_TOPIC_NOT_EXIST: return APACHE__ROCKETMQ__V2__CODE__TOPIC_NOT_FOUND;
    default: return APACHE__ROCKETMQ__V2__CODE__INTERNAL_SERVER_ERROR;
    }
}

const char *status_code_name(int code)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&apache__rocketmq__v2__code__descriptor, code);
    return v ? v->name : "CODE_UNSPECIFIED";
}

void gcall_answer_status(gcall *c, const ProtobufCMessageDescriptor *d, int code, const char *message)
{
    /* Every *Response of the service has `Status status = 1`, a pointer field. */
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, 1);
    ProtobufCMessage *m = xcalloc(1, d->sizeof_message);
    protobuf_c_message_init(d, m);
    Apache__Rocketmq__V2__Status *s = status_new(code, message);
    *(Apache__Rocketmq__V2__Status **)((char *)m + f->offset) = s;
    /* ReceiveMessageResponse has it in a oneof: protobuf-c packs it when the case says so. */
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) *(uint32_t *)((char *)m + f->quantifier_offset) = f->id;
    gcall_answer(c, m);
    status_free(s);
    free(m);
}

const char *resource_name(const Apache__Rocketmq__V2__Resource *r)
{
    return r && r->name ? r->name : "";
}
