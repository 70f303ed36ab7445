/* mpsc.c: intrusive MPSC queue (see mpsc.h). */
#include "base/mpsc.h"

void mpsc_init(mpsc *q)
{
    atomic_store_explicit(&q->stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&q->head, &q->stub, memory_order_relaxed);
    q->tail = &q->stub;
}

void mpsc_push(mpsc *q, mpsc_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    mpsc_node *prev = atomic_exchange_explicit(&q->head, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

mpsc_node *mpsc_pop(mpsc *q)
{
    mpsc_node *tail = q->tail;
    mpsc_node *next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == &q->stub) {
        if (!next)
            return NULL;
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        q->tail = next;
        return tail;
    }
    mpsc_node *head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail != head)
        return NULL;   /* a push is half done; its async wake-up will call us again */
    mpsc_push(q, &q->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next) {
        q->tail = next;
        return tail;
    }
    return NULL;
}
