/* tail: live request events for `wrangler tail` (api/tails.c), handed from the
 * shards that finish requests to the API thread that owns the tail WebSockets.
 *
 * The shards ask tail_wanted(worker) for every request: one relaxed atomic load
 * while no tail is open anywhere (the usual case), a mutex and a short list walk
 * while one is. Only then do they build an event and tail_publish it; the API
 * thread is woken through the function it registered and takes the events. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TAIL_WORKER_NAME_MAX 255
#define TAIL_QUEUE_MAX 4096   /* events waiting for the API thread; more are dropped */

typedef struct tail_event {
    struct tail_event *next;
    char worker[TAIL_WORKER_NAME_MAX + 1];
    char client_ip[64];        /* the request's peer address ("" unknown): client_ip filters */
    size_t len;
    char json[];               /* len bytes + NUL */
} tail_event;

bool tail_wanted(const char *worker);
/* Copies json (len bytes) into a queued event for worker's tails; client_ip (or
 * NULL) is the address the request came from. */
void tail_publish(const char *worker, const char *client_ip, const char *json, size_t len);

/* ---- the consumer (the API thread) ---- */
/* wake(ud) is called (from any thread, under the queue's lock) after a publish;
 * NULL unregisters. */
void tail_set_consumer(void (*wake)(void *ud), void *ud);
/* A tail for worker opened (+1) or closed (-1). */
void tail_watch(const char *worker, int delta);
/* Every queued event, oldest first; free each with free(). */
tail_event *tail_take_all(void);
