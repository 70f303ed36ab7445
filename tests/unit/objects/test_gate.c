/* Unit tests for the output gate and commit state machine (src/objects/gate.c;
 * spec GATE-6..10, KV-24/25): held outputs, coalescing, failed commits,
 * allowUnconfirmed, transactions, and the invariants that abort the process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "objects/gate.h"
#include "objects/internal.h"

/* What the fake shard posted, in order. */
typedef struct posted {
    int to[64];
    obj_msg *m[64];
    int n;
} posted;

static void on_post(void *ud, int to, obj_msg *m)
{
    posted *p = ud;
    assert_true(p->n < 64);
    p->to[p->n] = to;
    p->m[p->n] = m;
    p->n++;
}

static void posted_clear(posted *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->m[i]);
    p->n = 0;
}

/* A reply to call `id` with `status` and a one-byte payload `b`. */
static obj_msg *reply(double id, int status, uint8_t b)
{
    obj_msg *m = calloc(1, sizeof *m + 1);
    assert_non_null(m);
    m->kind = MSG_REPLY;
    m->status = (uint8_t)status;
    m->call_id = id;
    m->from_shard = 3;
    m->len = 1;
    m->data[0] = b;
    return m;
}

typedef struct fx {
    posted p;
    obj_gates *gs;
    obj_gate *g;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->gs = obj_gates_new(on_post, &f->p);
    assert_non_null(f->gs);
    f->g = obj_gate_new(f->gs, f);
    assert_non_null(f->g);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    obj_gate_free(f->g);
    obj_gates_free(f->gs);
    posted_clear(&f->p);
    free(f);
    return 0;
}

/* Commits the next dirty gate (which must be g) successfully. */
static void commit(fx *f)
{
    assert_ptr_equal(obj_gates_next(f->gs), f->g);
    obj_gate_commit_begin(f->g);
    assert_int_equal(obj_gate_get_state(f->g), OBJ_GATE_COMMITTING);
    obj_gate_commit_done(f->g);
}

static void test_clean_gate_posts_at_once(void **state)
{
    fx *f = *state;
    assert_int_equal(obj_gate_get_state(f->g), OBJ_GATE_CLEAN);
    assert_false(obj_gate_pending(f->g));
    obj_gate_output(f->g, 1, reply(1, 0, 'a'));
    assert_int_equal(f->p.n, 1);
    assert_int_equal(f->p.to[0], 1);
    assert_null(obj_gates_next(f->gs));
    assert_ptr_equal(obj_gate_owner(f->g), f);
}

static void test_outputs_held_until_their_commit(void **state)
{
    fx *f = *state;
    assert_int_equal(obj_gate_wrote(f->g, false), 0);
    assert_true(obj_gate_pending(f->g));
    assert_int_equal(obj_gates_dirty_count(f->gs), 1);
    obj_gate_output(f->g, 1, reply(1, 0, 'a'));
    obj_gate_output(f->g, 2, reply(2, 1, 'b'));   /* an error reply waits too */
    assert_int_equal(f->p.n, 0);
    assert_int_equal(obj_gate_held_count(f->g), 2);
    commit(f);
    assert_int_equal(obj_gate_get_state(f->g), OBJ_GATE_CLEAN);
    assert_int_equal(f->p.n, 2);   /* released in the order they were made */
    assert_true(f->p.m[0]->call_id == 1 && f->p.to[0] == 1);
    assert_true(f->p.m[1]->call_id == 2 && f->p.to[1] == 2);
    assert_int_equal(obj_gate_held_count(f->g), 0);
    assert_int_equal(obj_gates_dirty_count(f->gs), 0);
    obj_gate_output(f->g, 1, reply(3, 0, 'c'));   /* clean again: at once */
    assert_int_equal(f->p.n, 3);
}

static void test_writes_in_flight_coalesce_into_the_next_commit(void **state)
{
    fx *f = *state;
    obj_gate_wrote(f->g, false);
    obj_gate_wrote(f->g, false);     /* no await between: the same commit (GATE-10) */
    obj_gate_output(f->g, 1, reply(1, 0, 'a'));
    assert_ptr_equal(obj_gates_next(f->gs), f->g);
    obj_gate_commit_begin(f->g);
    assert_null(obj_gates_next(f->gs));   /* one commit at a time per object */
    /* While the commit is in flight: more writes, and an output after them. */
    obj_gate_wrote(f->g, false);
    obj_gate_wrote(f->g, true);
    obj_gate_output(f->g, 1, reply(2, 0, 'b'));
    assert_int_equal(obj_gates_dirty_count(f->gs), 1);
    assert_null(obj_gates_next(f->gs));   /* still committing */
    obj_gate_commit_done(f->g);
    /* The first output was covered; the second waits for the next commit. */
    assert_int_equal(f->p.n, 1);
    assert_true(f->p.m[0]->call_id == 1);
    assert_int_equal(obj_gate_get_state(f->g), OBJ_GATE_DIRTY);
    assert_int_equal(obj_gate_held_count(f->g), 1);
    commit(f);
    assert_int_equal(f->p.n, 2);
    assert_true(f->p.m[1]->call_id == 2);
    assert_int_equal(obj_gate_get_state(f->g), OBJ_GATE_CLEAN);
}

static void test_failed_commit_turns_held_outputs_into_errors(void **state)
{
    fx *f = *state;
    obj_gate_wrote(f->g, false);
    obj_gate_output(f->g, 1, reply(1, 0, 'a'));
    obj_gate_output(f->g, 2, reply(2, 1, 'b'));   /* an error may tell of the lost write */
    obj_msg *other = calloc(1, sizeof *other);    /* a non-reply output: dropped */
    other->kind = MSG_RPC;
    obj_gate_output(f->g, 0, other);
    obj_gate_commit_begin(f->g);
    const uint8_t ebytes[3] = {'e', 'r', 'r'};
    obj_gate_break(f->g, ebytes, sizeof ebytes);
    assert_int_equal(obj_gate_get_state(f->g), OBJ_GATE_BROKEN);
    assert_false(obj_gate_pending(f->g));
    assert_int_equal(obj_gates_dirty_count(f->gs), 0);
    assert_int_equal(obj_gate_held_count(f->g), 0);
    assert_int_equal(f->p.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_true(f->p.m[i]->call_id == i + 1);
        assert_int_equal(f->p.to[i], i + 1);
        assert_int_equal(f->p.m[i]->kind, MSG_REPLY);
        assert_int_equal(f->p.m[i]->status, 2);   /* durableObjectReset */
        assert_int_equal(f->p.m[i]->from_shard, 3);
        assert_int_equal(f->p.m[i]->len, 3);
        assert_memory_equal(f->p.m[i]->data, "err", 3);
    }
    /* After the reset: results become the error, errors go as they are, no writes. */
    obj_gate_output(f->g, 1, reply(3, 0, 'c'));
    obj_gate_output(f->g, 1, reply(4, 2, 'd'));
    assert_int_equal(f->p.n, 4);
    assert_int_equal(f->p.m[2]->status, 2);
    assert_memory_equal(f->p.m[2]->data, "err", 3);
    assert_int_equal(f->p.m[3]->data[0], 'd');
    assert_int_equal(obj_gate_wrote(f->g, false), DUR_ECLOSED);
    assert_null(obj_gates_next(f->gs));
    obj_gate_break(f->g, ebytes, sizeof ebytes);   /* idempotent */
    assert_int_equal(f->p.n, 4);
}

/* Outbound calls (GATE-6): tickets wait among the outputs, are told to go by the
 * commit that covers the writes before them, in order, and never go after a break. */
typedef struct tlog {
    posted *p;
    int seen_posts[8];     /* how many posts had happened when each ticket was told */
    uint64_t t[8];
    bool go[8];
    int n;
} tlog;

static void on_ticket(void *ud, uint64_t t, bool go)
{
    tlog *l = ud;
    assert_true(l->n < 8);
    l->seen_posts[l->n] = l->p->n;
    l->t[l->n] = t;
    l->go[l->n] = go;
    l->n++;
}

static void test_outbound_calls_wait_for_the_commit(void **state)
{
    fx *f = *state;
    tlog l = {.p = &f->p};
    obj_gates_on_ticket(f->gs, on_ticket, &l);
    assert_false(obj_gate_holding(f->g));
    assert_int_equal(obj_gate_hold_call(f->g), 0);   /* nothing uncommitted: go now */
    obj_gate_wrote(f->g, true);
    assert_int_equal(obj_gate_hold_call(f->g), 0);   /* allowUnconfirmed does not hold */
    obj_gate_wrote(f->g, false);
    assert_true(obj_gate_holding(f->g));
    uint64_t t1 = obj_gate_hold_call(f->g);
    assert_true(t1 > 0 && t1 != OBJ_GATE_NO_TICKET);
    obj_gate_output(f->g, 1, reply(1, 0, 'a'));
    uint64_t t2 = obj_gate_hold_call(f->g);
    assert_true(t2 > t1 && t2 != OBJ_GATE_NO_TICKET);
    assert_int_equal(obj_gate_held_count(f->g), 3);
    assert_int_equal(l.n, 0);
    assert_int_equal(f->p.n, 0);
    obj_gate_commit_begin(f->g);
    obj_gate_wrote(f->g, false);                     /* during the commit */
    uint64_t t3 = obj_gate_hold_call(f->g);          /* waits for the next one */
    obj_gate_commit_done(f->g);
    /* In the order made: t1, the reply, t2; t3 not yet. */
    assert_int_equal(l.n, 2);
    assert_true(l.t[0] == t1 && l.go[0] && l.seen_posts[0] == 0);
    assert_true(l.t[1] == t2 && l.go[1] && l.seen_posts[1] == 1);
    assert_int_equal(f->p.n, 1);
    assert_int_equal(obj_gate_held_count(f->g), 1);
    commit(f);
    assert_int_equal(l.n, 3);
    assert_true(l.t[2] == t3 && l.go[2]);
    assert_false(obj_gate_holding(f->g));
    obj_gates_on_ticket(f->gs, NULL, NULL);
}

static void test_outbound_calls_never_go_after_a_failed_commit(void **state)
{
    fx *f = *state;
    tlog l = {.p = &f->p};
    obj_gates_on_ticket(f->gs, on_ticket, &l);
    obj_gate_wrote(f->g, false);
    uint64_t t1 = obj_gate_hold_call(f->g);
    obj_gate_output(f->g, 1, reply(1, 0, 'a'));
    obj_gate_commit_begin(f->g);
    const uint8_t ebytes[1] = {'e'};
    obj_gate_break(f->g, ebytes, sizeof ebytes);
    assert_int_equal(l.n, 1);
    assert_true(l.t[0] == t1 && !l.go[0]);
    assert_int_equal(f->p.n, 1);                     /* the reply became the error */
    assert_int_equal(f->p.m[0]->status, 2);
    assert_false(obj_gate_holding(f->g));
    assert_true(obj_gate_hold_call(f->g) == OBJ_GATE_NO_TICKET);   /* broken: never */
    assert_int_equal(l.n, 1);
    obj_gates_on_ticket(f->gs, NULL, NULL);
}

static void test_allow_unconfirmed(void **state)
{
    fx *f = *state;
    obj_gate_wrote(f->g, true);   /* GATE-9: outputs do not wait for this write */
    assert_true(obj_gate_pending(f->g));
    obj_gate_output(f->g, 1, reply(1, 0, 'a'));
    assert_int_equal(f->p.n, 1);
    obj_gate_wrote(f->g, false);  /* a confirmed one does */
    obj_gate_wrote(f->g, true);
    obj_gate_output(f->g, 1, reply(2, 0, 'b'));
    assert_int_equal(f->p.n, 1);
    commit(f);
    assert_int_equal(f->p.n, 2);
    /* Once something is held, later outputs queue behind it even after an
     * unconfirmed-only write: the order of outputs is kept. */
    obj_gate_wrote(f->g, false);
    obj_gate_output(f->g, 1, reply(3, 0, 'c'));
    obj_gate_output(f->g, 1, reply(4, 0, 'd'));
    assert_int_equal(f->p.n, 2);
    commit(f);
    assert_int_equal(f->p.n, 4);
    assert_true(f->p.m[2]->call_id == 3 && f->p.m[3]->call_id == 4);
}

static void test_no_commit_inside_a_transaction(void **state)
{
    fx *f = *state;
    obj_gate_txn_enter(f->g);
    obj_gate_txn_enter(f->g);
    assert_int_equal(obj_gate_txn_depth(f->g), 2);
    obj_gate_wrote(f->g, false);
    assert_null(obj_gates_next(f->gs));
    obj_gate_txn_exit(f->g);
    assert_null(obj_gates_next(f->gs));
    obj_gate_txn_exit(f->g);
    commit(f);
    assert_int_equal(obj_gate_get_state(f->g), OBJ_GATE_CLEAN);
}

static void test_dirty_gates_commit_in_order(void **state)
{
    fx *f = *state;
    obj_gate *a = obj_gate_new(f->gs, NULL), *b = obj_gate_new(f->gs, NULL);
    obj_gate_wrote(b, false);
    obj_gate_wrote(f->g, false);
    obj_gate_wrote(a, false);
    obj_gate_wrote(b, false);
    assert_int_equal(obj_gates_dirty_count(f->gs), 3);
    obj_gate *order[3];
    for (int i = 0; i < 3; i++) {
        order[i] = obj_gates_next(f->gs);
        obj_gate_commit_begin(order[i]);
        obj_gate_commit_done(order[i]);
    }
    assert_ptr_equal(order[0], b);
    assert_ptr_equal(order[1], f->g);
    assert_ptr_equal(order[2], a);
    assert_null(obj_gates_next(f->gs));
    /* A gate freed while dirty and holding leaves the list and drops its outputs. */
    obj_gate_wrote(a, false);
    obj_gate_output(a, 1, reply(9, 0, 'z'));
    obj_gate_free(a);
    obj_gate_free(b);
    assert_int_equal(obj_gates_dirty_count(f->gs), 0);
    assert_int_equal(f->p.n, 0);
}

/* The shard may go before the gates (JS wrappers collected late): they then post
 * nothing and free what they hold. */
static void test_gates_outlive_their_shard(void **state)
{
    (void)state;
    posted p = {0};
    obj_gates *gs = obj_gates_new(on_post, &p);
    obj_gate *g = obj_gate_new(gs, NULL);
    obj_gate_wrote(g, false);
    obj_gate_output(g, 1, reply(1, 0, 'a'));
    obj_gates_free(gs);
    obj_gate_commit_begin(g);
    obj_gate_commit_done(g);
    assert_int_equal(p.n, 0);
    obj_gate_free(g);
}

/* ---- invariants: a violation aborts the process (checked in a child) ---- */

typedef void (*violation_fn)(obj_gate *g);

static void expect_abort(violation_fn fn)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child's log line would read like a failure in the test output. */
        int null_fd = open("/dev/null", O_WRONLY);
        if (null_fd >= 0)
            dup2(null_fd, 2);
        posted p = {0};
        obj_gates *gs = obj_gates_new(on_post, &p);
        obj_gate *g = obj_gate_new(gs, NULL);
        fn(g);
        _exit(0);   /* not reached if the invariant check fired */
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void done_without_begin(obj_gate *g) { obj_gate_commit_done(g); }
static void begin_on_clean(obj_gate *g) { obj_gate_commit_begin(g); }
static void begin_inside_txn(obj_gate *g)
{
    obj_gate_wrote(g, false);
    obj_gate_txn_enter(g);
    obj_gate_commit_begin(g);
}
static void exit_without_enter(obj_gate *g) { obj_gate_txn_exit(g); }
static void begin_twice(obj_gate *g)
{
    obj_gate_wrote(g, false);
    obj_gate_commit_begin(g);
    obj_gate_wrote(g, false);
    obj_gate_commit_begin(g);   /* the first commit has not finished */
}
static void done_after_break(obj_gate *g)
{
    obj_gate_wrote(g, false);
    obj_gate_commit_begin(g);
    obj_gate_break(g, NULL, 0);
    obj_gate_commit_done(g);    /* a failed commit cannot succeed afterwards */
}

static void test_invariants_abort(void **state)
{
    (void)state;
    expect_abort(done_without_begin);
    expect_abort(begin_on_clean);
    expect_abort(begin_inside_txn);
    expect_abort(exit_without_enter);
    expect_abort(begin_twice);
    expect_abort(done_after_break);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_gate_posts_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outputs_held_until_their_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_in_flight_coalesce_into_the_next_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_turns_held_outputs_into_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outbound_calls_wait_for_the_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbound_calls_never_go_after_a_failed_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_allow_unconfirmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_commit_inside_a_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_gates_commit_in_order, setup, teardown),
        cmocka_unit_test(test_gates_outlive_their_shard),
        cmocka_unit_test(test_invariants_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
