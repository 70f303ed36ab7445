/* mpsc: an intrusive multi-producer single-consumer queue (Vyukov's algorithm).
 * Any thread may push; only the owning shard pops. Push is wait-free; pop may
 * briefly see the queue as empty while a push is half done (it returns NULL and
 * the pusher's uv_async_send wakes the consumer again). FIFO per producer, which is
 * what E-order needs (spec ORDER-1). No allocation: nodes live in the messages. */
#pragma once
#include <stdatomic.h>
#include <stddef.h>

typedef struct mpsc_node {
    _Atomic(struct mpsc_node *) next;
} mpsc_node;

typedef struct mpsc {
    _Atomic(mpsc_node *) head;   /* producers swap here */
    mpsc_node *tail;             /* consumer reads here */
    mpsc_node stub;
} mpsc;

void mpsc_init(mpsc *q);
void mpsc_push(mpsc *q, mpsc_node *n);
/* The oldest node, or NULL if empty (or a push is in progress). */
mpsc_node *mpsc_pop(mpsc *q);
