/* tail.c: the queue between request-finishing shards and the tail WebSockets
 * (see tail.h). */
#include "base/tail.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct watch {
    struct watch *next;
    char worker[TAIL_WORKER_NAME_MAX + 1];
    int count;
} watch;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int watching;          /* tails open, summed over workers */
static watch *watches;
static tail_event *head, **tailp = &head;
static size_t queued;
static void (*wake_fn)(void *);
static void *wake_ud;

bool tail_wanted(const char *worker)
{
    if (atomic_load_explicit(&watching, memory_order_relaxed) == 0)
        return false;
    bool any = false;
    pthread_mutex_lock(&mu);
    for (watch *w = watches; w && !any; w = w->next)
        any = w->count > 0 && strcmp(w->worker, worker) == 0;
    pthread_mutex_unlock(&mu);
    return any;
}

void tail_publish(const char *worker, const char *client_ip, const char *json, size_t len)
{
    tail_event *ev = malloc(sizeof *ev + len + 1);
    if (!ev)
        return;
    ev->next = NULL;
    snprintf(ev->worker, sizeof ev->worker, "%s", worker);
    snprintf(ev->client_ip, sizeof ev->client_ip, "%s", client_ip ? client_ip : "");
    ev->len = len;
    memcpy(ev->json, json, len);
    ev->json[len] = '\0';
    pthread_mutex_lock(&mu);
    if (queued >= TAIL_QUEUE_MAX || !wake_fn) {
        pthread_mutex_unlock(&mu);
        free(ev);
        return;
    }
    *tailp = ev;
    tailp = &ev->next;
    queued++;
    wake_fn(wake_ud);
    pthread_mutex_unlock(&mu);
}

void tail_set_consumer(void (*wake)(void *ud), void *ud)
{
    pthread_mutex_lock(&mu);
    wake_fn = wake;
    wake_ud = ud;
    pthread_mutex_unlock(&mu);
}

void tail_watch(const char *worker, int delta)
{
    pthread_mutex_lock(&mu);
    watch *w = watches;
    while (w && strcmp(w->worker, worker) != 0)
        w = w->next;
    if (!w && delta > 0 && (w = calloc(1, sizeof *w))) {
        snprintf(w->worker, sizeof w->worker, "%s", worker);
        w->next = watches;
        watches = w;
    }
    if (w) {
        w->count += delta;
        atomic_fetch_add_explicit(&watching, delta, memory_order_relaxed);
    }
    pthread_mutex_unlock(&mu);
}

tail_event *tail_take_all(void)
{
    pthread_mutex_lock(&mu);
    tail_event *all = head;
    head = NULL;
    tailp = &head;
    queued = 0;
    pthread_mutex_unlock(&mu);
    return all;
}
