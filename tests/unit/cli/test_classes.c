/* Unit tests for server_classes_init (cli/server.c): every JSClassID a shard's
 * runtime needs is registered on the main thread before any shard starts, and a
 * runtime made without it is refused rather than registering ids lazily from a
 * shard thread (JS_NewClassID is not thread-safe in QuickJS 2021-03-27). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/server.h"
#include "js/rt.h"
#include "worker/worker.h"

/* Makes a runtime with the Worker's natives (web, storage, objects) and one
 * context on its own loop; returns 0, or -1 with *e filled. */
static int make_context(err *e)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return -1;
    js_rt_opts o = {.install = worker_js_install, .memory_bytes_max = 32u << 20};
    js_rt *rt = js_rt_new(&loop, &o, e);
    int rc = -1;
    if (rt) {
        JSContext *ctx = js_rt_context_new(rt, e);
        if (ctx) {
            js_context_free(ctx);
            rc = 0;
        }
        js_rt_free(rt);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc;
}

/* Must run first: nothing has registered the class ids yet. */
static void test_refused_before_init(void **state)
{
    (void)state;
    err e = {0};
    assert_int_equal(make_context(&e), -1);
    assert_non_null(strstr(e.msg, "classes_init"));
}

typedef struct result {
    int rc;
    err e;
} result;

static void *make_in_thread(void *arg)
{
    result *r = arg;
    r->rc = make_context(&r->e);
    return NULL;
}

/* After the main thread registered them, shards may build their runtimes at the
 * same time. */
static void test_shards_start_together_after_init(void **state)
{
    (void)state;
    server_classes_init();
    server_classes_init();   /* idempotent */
    enum { N = 4 };
    pthread_t t[N];
    result r[N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, make_in_thread, &r[i]), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (r[i].rc != 0)
            fail_msg("runtime %d: %s", i, r[i].e.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_before_init),
        cmocka_unit_test(test_shards_start_together_after_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
