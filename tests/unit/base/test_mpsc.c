/* Unit tests for base/mpsc.c: the intrusive multi-producer single-consumer queue
 * between shards. FIFO on one thread, the stub node's round trips when the queue
 * drains, and a stress test where several producers push while the consumer pops:
 * every node arrives exactly once and each producer's nodes arrive in the order
 * they were pushed (what E-order needs, spec ORDER-1). tests/run also builds this
 * file alone with ThreadSanitizer (build/tsan) so a missing barrier shows up as
 * a data race. Uses nothing but mpsc.c, so it compiles without the rest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/mpsc.h"

typedef struct item {
    mpsc_node node;            /* first: a node pointer is an item pointer */
    int producer;
    int seq;
} item;

static void test_empty(void **state)
{
    (void)state;
    mpsc q;
    mpsc_init(&q);
    assert_null(mpsc_pop(&q));
    assert_null(mpsc_pop(&q));
}

static void test_fifo_one_thread(void **state)
{
    (void)state;
    mpsc q;
    mpsc_init(&q);
    item it[100];
    for (int i = 0; i < 100; i++) {
        it[i].seq = i;
        mpsc_push(&q, &it[i].node);
    }
    for (int i = 0; i < 100; i++) {
        item *got = (item *)mpsc_pop(&q);
        assert_non_null(got);
        assert_int_equal(got->seq, i);
    }
    assert_null(mpsc_pop(&q));
}

/* Push one, pop one, many times: the queue goes empty after every pop, which
 * sends the stub node around (mpsc_pop re-pushes it); nothing may get lost or
 * come back twice on the way. Also interleaves pushes with a partly drained
 * queue. */
static void test_drain_and_refill(void **state)
{
    (void)state;
    mpsc q;
    mpsc_init(&q);
    item it[64];
    for (int round = 0; round < 1000; round++) {
        int n = 1 + round % 64;
        for (int i = 0; i < n; i++) {
            it[i].seq = round * 100 + i;
            mpsc_push(&q, &it[i].node);
            if (i % 3 == 2) {   /* pop one in the middle */
                item *got = (item *)mpsc_pop(&q);
                assert_non_null(got);
                assert_int_equal(got->seq, round * 100 + i / 3);
            }
        }
        for (int i = n / 3; i < n; i++) {
            item *got = (item *)mpsc_pop(&q);
            assert_non_null(got);
            assert_int_equal(got->seq, round * 100 + i);
        }
        assert_null(mpsc_pop(&q));
    }
}

enum { PRODUCERS = 4, PER_PRODUCER = 20000 };

typedef struct stress {
    mpsc q;
    item *items;               /* PRODUCERS * PER_PRODUCER */
    atomic_int go;
} stress;

typedef struct producer_arg {
    stress *s;
    int index;
} producer_arg;

static void *producer(void *arg)
{
    producer_arg *p = arg;
    while (!atomic_load_explicit(&p->s->go, memory_order_acquire))
        sched_yield();
    for (int i = 0; i < PER_PRODUCER; i++) {
        item *it = &p->s->items[p->index * PER_PRODUCER + i];
        it->producer = p->index;   /* written before the push publishes it */
        it->seq = i;
        mpsc_push(&p->s->q, &it->node);
        if (i % 1024 == 0)
            sched_yield();         /* let the consumer catch up and drain */
    }
    return NULL;
}

static void test_many_producers(void **state)
{
    (void)state;
    stress s;
    mpsc_init(&s.q);
    atomic_init(&s.go, 0);
    s.items = calloc(PRODUCERS * PER_PRODUCER, sizeof *s.items);
    assert_non_null(s.items);
    pthread_t t[PRODUCERS];
    producer_arg args[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        args[i] = (producer_arg){&s, i};
        assert_int_equal(pthread_create(&t[i], NULL, producer, &args[i]), 0);
    }
    atomic_store_explicit(&s.go, 1, memory_order_release);
    int next[PRODUCERS] = {0};
    long got = 0, empty_polls = 0;
    while (got < (long)PRODUCERS * PER_PRODUCER) {
        item *it = (item *)mpsc_pop(&s.q);
        if (!it) {
            /* Empty, or a push half done: a real shard would sleep until the
             * pusher's uv_async_send. Bounded, so a lost node fails, not hangs. */
            if (++empty_polls > 200000000L)
                fail_msg("%ld of %d nodes arrived; the rest never came", got,
                         PRODUCERS * PER_PRODUCER);
            sched_yield();
            continue;
        }
        assert_in_range(it->producer, 0, PRODUCERS - 1);
        /* FIFO per producer: exactly the next one of that producer. */
        if (it->seq != next[it->producer])
            fail_msg("producer %d: got #%d, expected #%d", it->producer, it->seq,
                     next[it->producer]);
        next[it->producer]++;
        got++;
    }
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_null(mpsc_pop(&s.q));
    for (int i = 0; i < PRODUCERS; i++)
        assert_int_equal(next[i], PER_PRODUCER);
    free(s.items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_fifo_one_thread),
        cmocka_unit_test(test_drain_and_refill),
        cmocka_unit_test(test_many_producers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
