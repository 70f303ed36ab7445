/* Unit tests for the /metrics text (src/api/metrics.c over base/metrics.c): label
 * values escaped as the exposition format asks (worker names are the user's), one
 * series per (worker, status) summed over the threads that counted it, histogram
 * buckets cumulative with +Inf equal to the count, and the table of pairs full. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "base/metrics.h"

static char *scrape(void)
{
    buf b;
    buf_init(&b, 1u << 24);
    assert_int_equal(api__metrics_text(&b), 0);
    assert_int_equal(buf_append(&b, "", 1), 0);
    return b.ptr;
}

static void *count_on_shard(void *arg)
{
    metrics_bind_shard((int)(intptr_t)arg);
    for (int i = 0; i < 1000; i++)
        metrics_request("threaded", 201, 1000);
    return NULL;
}

static void test_label_escaping(void **state)
{
    (void)state;
    metrics_request("we\"ird\\na\nme", 200, 1500000);   /* unbound thread: the shared slot */
    char *t = scrape();
    assert_non_null(strstr(t, "durable_requests_total{worker=\"we\\\"ird\\\\na\\nme\",status=\"200\"} 1\n"));
    free(t);
}

static void test_summed_over_shards(void **state)
{
    (void)state;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, count_on_shard, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = scrape();
    assert_non_null(strstr(t, "durable_requests_total{worker=\"threaded\",status=\"201\"} 4000\n"));
    /* One line for the pair, not one per shard. */
    const char *first = strstr(t, "worker=\"threaded\"");
    assert_null(strstr(first + 1, "worker=\"threaded\""));
    free(t);
}

static void test_histogram(void **state)
{
    (void)state;
    metrics_storage_commit(50000);        /* 50 µs: the first bucket */
    metrics_storage_commit(2000000);      /* 2 ms: le 0.0025 */
    metrics_storage_commit(100000000000); /* 100 s: only +Inf */
    char *t = scrape();
    assert_non_null(strstr(t, "# TYPE durable_storage_commit_seconds histogram\n"));
    assert_non_null(strstr(t, "durable_storage_commit_seconds_bucket{le=\"0.0001\"} 1\n"));
    assert_non_null(strstr(t, "durable_storage_commit_seconds_bucket{le=\"0.001\"} 1\n"));
    assert_non_null(strstr(t, "durable_storage_commit_seconds_bucket{le=\"0.0025\"} 2\n"));
    assert_non_null(strstr(t, "durable_storage_commit_seconds_bucket{le=\"30\"} 2\n"));
    assert_non_null(strstr(t, "durable_storage_commit_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "durable_storage_commit_seconds_count 3\n"));
    assert_non_null(strstr(t, "durable_storage_commits_total 3\n"));
    free(t);
}

static void test_full_table(void **state)
{
    (void)state;
    char name[32];
    for (int i = 0; i < METRICS_REQ_KEYS + 20; i++) {
        snprintf(name, sizeof name, "w%d", i);
        metrics_request(name, 200, 0);
    }
    char *t = scrape();
    assert_non_null(strstr(t, "durable_requests_total{worker=\"(other)\",status=\"0\"} "));
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_summed_over_shards),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
