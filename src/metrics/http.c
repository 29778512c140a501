/*
 * The /metrics endpoint: evhttp on the server's own event loop, so collectors
 * read the server's state without locks. Apache's PrometheusHttpServer answers
 * every path; we answer "/" and "/metrics" and 404 the rest.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "metrics.h"

struct metrics_server {
    struct evhttp *http;
    int port;
    metrics_collect_fn collect;
    void *arg;
};

static void on_request(struct evhttp_request *req, void *arg)
{
    metrics_server *s = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path || (strcmp(path, "/metrics") && strcmp(path, "/"))) {
        evhttp_send_error(req, 404, "Not Found");
        return;
    }
    struct evbuffer *out = evbuffer_new();
    metrics_render_common(out);
    if (s->collect) s->collect(out, s->arg);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

int metrics_server_start(struct event_base *base, const metrics_config *cfg, metrics_collect_fn collect,
                         void *arg, metrics_server **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *type = cfg->exporter_type ? cfg->exporter_type : "DISABLE";
    if (strcasecmp(type, "DISABLE") == 0) return RMQ_OK;
    if (strcasecmp(type, "PROM") != 0) {
        /* OTLP_GRPC and LOG need an OpenTelemetry SDK we do not carry. */
        snprintf(err, errlen, "metricsExporterType %s is not supported (DISABLE or PROM)", type);
        return RMQ_ERR;
    }
    const char *host = cfg->host && *cfg->host ? cfg->host : cfg->fallback_host;
    if (!host || !*host) host = "0.0.0.0";
    metrics_server *s = xcalloc(1, sizeof *s);
    s->collect = collect;
    s->arg = arg;
    s->http = evhttp_new(base);
    struct evhttp_bound_socket *sock = s->http ? evhttp_bind_socket_with_handle(s->http, host, (uint16_t)cfg->port) : NULL;
    if (!sock) {
        snprintf(err, errlen, "metrics: cannot listen on %s:%d: %s", host, cfg->port, strerror(errno));
        if (s->http) evhttp_free(s->http);
        free(s);
        return RMQ_ERR;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &len);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(s->http, on_request, s);
    evhttp_set_timeout(s->http, 30);
    log_info("metrics", "Prometheus exporter listening on http://%s:%d/metrics", host, s->port);
    *out = s;
    return RMQ_OK;
}

int metrics_server_port(const metrics_server *s) { return s->port; }

void metrics_server_free(metrics_server *s)
{
    if (!s) return;
    evhttp_free(s->http);
    free(s);
}
