/*
 * console_int.h: what the console's server files share — an API request as
 * the handlers see it and the table of endpoints. Private to src/console.
 */
#ifndef RMQ_CONSOLE_CONSOLE_INT_H
#define RMQ_CONSOLE_CONSOLE_INT_H

#include <event2/keyvalq_struct.h>

#include "console/console.h"

typedef struct api_req {
    const struct evkeyvalq *query;   /* ?a=b of the URL */
    const cJSON *body;               /* a POST's JSON object, else NULL */
} api_req;

/* A handler answers JSON and an HTTP status: 200, 400 for a bad request, 502 when the cluster said no. */
typedef cJSON *(*api_fn)(const api_req *r, int *status);

typedef struct api_route {
    const char *method, *path;
    api_fn fn;
} api_route;

extern const api_route console_api[];

#endif
