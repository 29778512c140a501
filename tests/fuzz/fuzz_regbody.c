/*
 * REGISTER_BROKER bodies (src/namesrv): a flag byte (bit 0: compressed as
 * RegisterBrokerBody.encode(true), bit 1: a bare TopicConfigSerializeWrapper
 * from a pre-V3_0_11 broker, bit 2: also register it as a slave), then the
 * body. What decodes is registered in a route table as REGISTER_BROKER does,
 * and every answer the name server builds from that table must be JSON that
 * reads back.
 */
#include "common/fjson.h"
#include "fuzz.h"
#include "namesrv/namesrv.h"

/* LEN is read here, after the call producing JSON has set it. */
static void must_read(char *json, const size_t *len)
{
    if (!json) return;
    const char *err = NULL;
    cJSON *j = fjson_parse(json, *len, &err);
    FUZZ_ASSERT(j != NULL);
    cJSON_Delete(j);
    free(json);
}

static void answers(const route_table *rt, const register_body *b)
{
    size_t len = 0;
    for (size_t i = 0; i < b->n_topics; i++) {
        must_read(route_topic_route_json(rt, b->topics[i].topic_name, NULL, false, &len), &len);
        must_read(route_topic_route_json(rt, b->topics[i].topic_name, "{\"k\":\"v\"}", true, &len), &len);
    }
    must_read(route_cluster_info_json(rt, &len), &len);
    must_read(route_all_topics_json(rt, &len), &len);
    must_read(route_topics_by_cluster_json(rt, "DefaultCluster", &len), &len);
    must_read(route_system_topics_json(rt, &len), &len);
    must_read(route_unit_topics_json(rt, UNIT_TOPICS, &len), &len);
    must_read(route_unit_topics_json(rt, HAS_UNIT_SUB_TOPICS, &len), &len);
    must_read(route_unit_topics_json(rt, HAS_UNIT_SUB_UNUNIT_TOPICS, &len), &len);
}

static void register_as(route_table *rt, const register_body *b, int64_t id, const char *addr, bool legacy)
{
    broker_registration reg = {
        .cluster_name = "DefaultCluster", .broker_addr = addr, .broker_name = "broker-a",
        .ha_server_addr = "127.0.0.1:10912", .broker_id = id, .data_version = b->data_version,
        .topics = b->topics, .n_topics = b->n_topics,
        .filter_servers = b->filter_servers, .n_filter_servers = b->n_filter_servers,
        .has_filter_servers = !legacy,
    };
    register_result res;
    route_register_broker(rt, &reg, 1700000000000, &res);
    free(res.ha_server_addr);
    free(res.master_addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0) return 0;
    uint8_t flags = data[0];
    bool compressed = flags & 1, legacy = flags & 2;
    register_body b;
    char err[256] = "";
    if (register_body_decode(data + 1, size - 1, compressed && !legacy, legacy, &b, err, sizeof err) != RMQ_OK) {
        FUZZ_ASSERT(err[0] != 0);
        return 0;
    }
    route_table *rt = route_table_new();
    register_as(rt, &b, 0, "127.0.0.1:10911", legacy);
    if (flags & 4) register_as(rt, &b, 1, "127.0.0.1:10921", legacy);
    answers(rt, &b);
    data_version dv;
    FUZZ_ASSERT(route_broker_data_version(rt, "127.0.0.1:10911", &dv));
    FUZZ_ASSERT(!route_data_version_changed(rt, "127.0.0.1:10911", &b.data_version));
    route_wipe_write_perm(rt, "broker-a");
    route_add_write_perm(rt, "broker-a");
    if (b.n_topics) route_delete_topic(rt, b.topics[0].topic_name, "DefaultCluster");
    answers(rt, &b);
    route_unregister_broker(rt, "DefaultCluster", "127.0.0.1:10911", "broker-a", 0);
    route_table_free(rt);
    register_body_free(&b);
    return 0;
}
