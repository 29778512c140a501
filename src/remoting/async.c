/* Cross-thread hand-off into an event loop: a locked queue and one activated event. */
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "common/util.h"
#include "remoting.h"

typedef struct async_item {
    void (*fn)(void *);
    void *arg;
    struct async_item *next;
} async_item;

struct rmq_async {
    pthread_mutex_t lock;
    async_item *head, *tail;
    struct event *ev;
};

void rmq_remoting_init(void)
{
    static int done;
    if (done) return;
    done = 1;
    evthread_use_pthreads();
    signal(SIGPIPE, SIG_IGN);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    rmq_async *a = arg;
    pthread_mutex_lock(&a->lock);
    async_item *it = a->head;
    a->head = a->tail = NULL;
    pthread_mutex_unlock(&a->lock);
    while (it) {
        async_item *nx = it->next;
        it->fn(it->arg);
        free(it);
        it = nx;
    }
}

rmq_async *rmq_async_new(struct event_base *base)
{
    rmq_async *a = xcalloc(1, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    a->ev = event_new(base, -1, 0, drain_cb, a);
    return a;
}

void rmq_async_free(rmq_async *a)
{
    if (!a) return;
    drain_cb(-1, 0, a); /* run what is left so nothing posted leaks */
    event_free(a->ev);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

void rmq_async_post(rmq_async *a, void (*fn)(void *), void *arg)
{
    async_item *it = xmalloc(sizeof *it);
    it->fn = fn;
    it->arg = arg;
    it->next = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->tail) a->tail->next = it;
    else a->head = it;
    a->tail = it;
    pthread_mutex_unlock(&a->lock);
    event_active(a->ev, EV_READ, 0);
}
