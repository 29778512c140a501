/* The answer body of JSON responses, shared by every processor. */
#include "common/fjson.h"
#include "remoting/remoting.h"
#include "response_codes.h"

void processor_json_body(rmq_cmd *resp, fjson_writer *w)
{
    size_t len;
    char *json = fjson_writer_finish(w, &len);
    cmd_take_body(resp, json, len);
}
