/*
 * console_http.c: the console's HTTP side on evhttp — the built-in page
 * files and the JSON endpoints of console_api.c. State changes are POSTs
 * with a JSON body: a browser sends those cross-site only after a preflight
 * we never grant, so another page cannot drive the console.
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
#include <sys/queue.h>

#include "common/log.h"
#include "console/console_int.h"

#define MAX_BODY (1 << 20)   /* a test message's body and its fields */

struct console {
    struct evhttp *http;
    int port;
};

static void common_headers(struct evhttp_request *req, const char *type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    default: return "Bad Gateway";
    }
}

static void reply_json(struct evhttp_request *req, int status, cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, text, strlen(text));
    common_headers(req, "application/json; charset=utf-8");
    evhttp_send_reply(req, status, reason(status), out);
    evbuffer_free(out);
    free(text);
    cJSON_Delete(j);
}

static void reply_error(struct evhttp_request *req, int status, const char *msg)
{
    adm_err e = {.code = -1};
    snprintf(e.msg, sizeof e.msg, "%s", msg);
    reply_json(req, status, render_error(&e));
}

/* A POST's JSON object; NULL and the reason otherwise. */
static cJSON *post_body(struct evhttp_request *req, const char **why)
{
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (!type || strncasecmp(type, "application/json", 16)) {
        *why = "a POST carries Content-Type: application/json";
        return NULL;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len > MAX_BODY) {
        *why = "request body too large";
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1), len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        *why = "the body is not a JSON object";
        return NULL;
    }
    return j;
}

static void on_api(struct evhttp_request *req, const char *path, const struct evhttp_uri *uri)
{
    bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
    const api_route *hit = NULL;
    bool path_known = false;
    for (const api_route *a = console_api; a->path; a++) {
        if (strcmp(a->path, path)) continue;
        path_known = true;
        if (strcmp(a->method, post ? "POST" : "GET") == 0) hit = a;
    }
    if (!hit) {
        reply_error(req, path_known ? 405 : 404, path_known ? "method not allowed" : "no such endpoint");
        return;
    }
    struct evkeyvalq query;
    TAILQ_INIT(&query);
    const char *qs = evhttp_uri_get_query(uri);
    if (qs && evhttp_parse_query_str(qs, &query)) {
        reply_error(req, 400, "bad query string");
        return;
    }
    cJSON *body = NULL;
    const char *why = NULL;
    if (post && !(body = post_body(req, &why))) {
        evhttp_clear_headers(&query);
        reply_error(req, 400, why);
        return;
    }
    api_req r = {&query, body};
    int status = 200;
    cJSON *answer = hit->fn(&r, &status);
    if (status != 200) log_warn("console", "%s %s: %s", post ? "POST" : "GET", path, str_field(answer, "error"));
    reply_json(req, status, answer);
    cJSON_Delete(body);
    evhttp_clear_headers(&query);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri);
    if (!path) path = "/";
    if (strncmp(path, "/api/", 5) == 0) {
        on_api(req, path, uri);
        return;
    }
    if (strcmp(path, "/") == 0) path = "/index.html";
    for (size_t i = 0; i < console_n_assets; i++) {
        if (strcmp(console_assets[i].path, path)) continue;
        struct evbuffer *out = evbuffer_new();
        evbuffer_add_reference(out, console_assets[i].data, console_assets[i].len, NULL, NULL);
        common_headers(req, console_assets[i].content_type);
        evhttp_send_reply(req, 200, "OK", out);
        evbuffer_free(out);
        return;
    }
    evhttp_send_error(req, 404, "Not Found");
}

console *console_start(struct event_base *base, const char *host, int port, char *err, size_t errlen)
{
    console *c = xcalloc(1, sizeof *c);
    c->http = evhttp_new(base);
    struct evhttp_bound_socket *sock = c->http ? evhttp_bind_socket_with_handle(c->http, host, (uint16_t)port) : NULL;
    if (!sock) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (c->http) evhttp_free(c->http);
        free(c);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &len);
    c->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_max_body_size(c->http, MAX_BODY);
    evhttp_set_gencb(c->http, on_request, c);
    evhttp_set_timeout(c->http, 60);
    return c;
}

int console_port(const console *c) { return c->port; }

void console_free(console *c)
{
    if (!c) return;
    evhttp_free(c->http);
    free(c);
}
