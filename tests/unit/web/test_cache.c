/* Unit tests for web/cache.c, the store under the Cache API, through its natives
 * (N.cachePut / cacheMatch / cacheDelete / cacheObjectMax): entries round-trip,
 * keys keep scripts and caches apart, expiry, the object bound, eviction past the
 * total bound with the byte count kept exact across replaces and deletes, and an
 * unconfigured context. The JS rules above them (Cache-Control, Range, ...) are
 * covered end to end by tests/e2e/web/cache.test.mjs. */
#include "harness.h"

#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"

typedef struct fixture {
    char dir[64];
    wh *a;     /* script "alpha" */
    wh *b;     /* script "beta", same file */
} fixture;

/* A harness with the cache natives installed and reachable as globalThis.N. */
static wh *cache_harness(const char *dir, const char *script, size_t obj_max, size_t total_max)
{
    wh *h = wh_new(NULL);
    assert_int_equal(web_cache_install(h->ctx, h->native), 0);
    if (dir) {
        web_cache_opts o = {dir, obj_max, total_max};
        assert_int_equal(web_cache_configure(h->ctx, &o, script), 0);
    }
    JSValue g = JS_GetGlobalObject(h->ctx);
    JS_SetPropertyStr(h->ctx, g, "N", JS_DupValue(h->ctx, h->native));
    JS_FreeValue(h->ctx, g);
    WH_EXPECT(h, "globalThis.te = new TextEncoder(); globalThis.td = new TextDecoder();"
                 "globalThis.put = (c, url, body, ttl = 60000, status = 200) =>"
                 "  N.cachePut(c, url, status, 'OK', JSON.stringify([['x-a', '1']]),"
                 "             [].concat(body).map((s) => te.encode(s)), ttl);"
                 "globalThis.get = (c, url) => { const r = N.cacheMatch(c, url);"
                 "  return r === null ? 'miss' : [r[0], r[1], r[2], td.decode(r[3])].join('|'); };"
                 "true",
              "true");
    return h;
}

static int setup_sized(void **state, size_t obj_max, size_t total_max)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/durable-cache-unit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->a = cache_harness(f->dir, "alpha", obj_max, total_max);
    f->b = cache_harness(f->dir, "beta", obj_max, total_max);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_sized(state, 0, 0);
}

static int teardown(void **state)
{
    fixture *f = *state;
    wh_free(f->a);
    wh_free(f->b);
    err e = {0};
    fs_rm_rf(f->dir, &e);
    free(f);
    return 0;
}

/* The byte count the triggers keep, and the sum it must equal. */
static void check_totals(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/cache.sqlite", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT bytes FROM totals), "
                                            "(SELECT total(bytes) FROM entries)", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), (int64_t)sqlite3_column_double(st, 1));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    wh *h = f->a;
    WH_EXPECT(h, "get(null, 'https://x/a')", "miss");
    WH_EXPECT(h, "put(null, 'https://x/a', ['he', 'll', '', 'o'])", "undefined");
    WH_EXPECT(h, "get(null, 'https://x/a')", "200|OK|[[\"x-a\",\"1\"]]|hello");
    /* Replaced, not duplicated; an empty body is an empty body. */
    WH_EXPECT(h, "put(null, 'https://x/a', [], 60000, 404)", "undefined");
    WH_EXPECT(h, "get(null, 'https://x/a')", "404|OK|[[\"x-a\",\"1\"]]|");
    WH_EXPECT(h, "N.cacheDelete(null, 'https://x/a')", "true");
    WH_EXPECT(h, "N.cacheDelete(null, 'https://x/a')", "false");
    WH_EXPECT(h, "get(null, 'https://x/a')", "miss");
    /* A TTL of 0 stores nothing. */
    WH_EXPECT(h, "put(null, 'https://x/z', 'z', 0); get(null, 'https://x/z')", "miss");
    check_totals(f->dir);
}

static void test_keys_apart(void **state)
{
    fixture *f = *state;
    WH_EXPECT(f->a, "put(null, 'https://x/k', 'default'); put('one', 'https://x/k', 'one');"
                    "put('', 'https://x/k', 'empty name')", "undefined");
    WH_EXPECT(f->a, "[get(null, 'https://x/k'), get('one', 'https://x/k'), get('', 'https://x/k'),"
                    " get('two', 'https://x/k')].map((s) => s.split('|').pop()).join()",
              "default,one,empty name,miss");
    /* Another script on the same file sees none of it, and deletes none of it. */
    WH_EXPECT(f->b, "get(null, 'https://x/k')", "miss");
    WH_EXPECT(f->b, "N.cacheDelete('one', 'https://x/k')", "false");
    WH_EXPECT(f->a, "get('one', 'https://x/k').split('|').pop()", "one");
}

static void test_expiry(void **state)
{
    fixture *f = *state;
    wh *h = f->a;
    WH_EXPECT(h, "put(null, 'https://x/t', 'brief', 1)", "undefined");
    /* Wait for the wall clock to pass the expiry (a few ms at most). */
    struct timespec t0, t;
    clock_gettime(CLOCK_REALTIME, &t0);
    do {
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
        clock_gettime(CLOCK_REALTIME, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 3);
    WH_EXPECT(h, "get(null, 'https://x/t')", "miss");
    WH_EXPECT(h, "put(null, 'https://x/t2', 'brief', 1)", "undefined");
    do {
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
        clock_gettime(CLOCK_REALTIME, &t0);
    } while ((t0.tv_sec - t.tv_sec) * 1000 + (t0.tv_nsec - t.tv_nsec) / 1000000 < 3);
    /* An expired entry is not "deleted". */
    WH_EXPECT(h, "N.cacheDelete(null, 'https://x/t2')", "false");
    check_totals(f->dir);
}

static void test_object_bound(void **state)
{
    fixture *f = *state;
    wh *h = f->a;
    WH_EXPECT(h, "N.cacheObjectMax()", "1000");
    WH_EXPECT(h, "put(null, 'https://x/b', 'x'.repeat(1000)); get(null, 'https://x/b').length > 1000",
              "true");
    WH_EXPECT(h, "put(null, 'https://x/b2', ['x'.repeat(600), 'y'.repeat(401)])",
              "EXC RangeError: Cache.put: the response body is 1001 bytes, more than the 1000 "
              "bytes the cache stores per entry");
    WH_EXPECT(h, "get(null, 'https://x/b2')", "miss");
}

static void test_eviction(void **state)
{
    fixture *f = *state;
    wh *h = f->a;
    /* Each entry is 400 bytes of body plus its URL, headers and row overhead: three
     * do not fit in 1000, so the oldest goes, whichever script it belongs to. */
    WH_EXPECT(f->b, "put(null, 'https://x/0', 'b'.repeat(300))", "undefined");
    WH_EXPECT(h, "put(null, 'https://x/1', 'a'.repeat(400)); put(null, 'https://x/2', 'a'.repeat(400))",
              "undefined");
    WH_EXPECT(f->b, "get(null, 'https://x/0')", "miss");
    WH_EXPECT(h, "put(null, 'https://x/3', 'a'.repeat(400))", "undefined");
    WH_EXPECT(h, "[1, 2, 3].map((i) => get(null, 'https://x/' + i) === 'miss').join()",
              "true,false,false");
    /* Replacing an entry does not count it twice. */
    for (int i = 0; i < 5; i++)
        WH_EXPECT(h, "put(null, 'https://x/3', 'c'.repeat(400))", "undefined");
    WH_EXPECT(h, "get(null, 'https://x/2') === 'miss'", "false");
    check_totals(f->dir);
    WH_EXPECT(h, "N.cacheDelete(null, 'https://x/2') && N.cacheDelete(null, 'https://x/3')", "true");
    check_totals(f->dir);
}

static int setup_small(void **state)
{
    return setup_sized(state, 1000, 1000);
}

static void test_unconfigured(void **state)
{
    (void)state;
    wh *h = cache_harness(NULL, NULL, 0, 0);
    WH_EXPECT(h, "N.cacheMatch(null, 'https://x/')",
              "EXC InternalError: Cache.match: the Cache API has no storage in this context");
    WH_EXPECT(h, "N.cacheDelete(null, 'https://x/')",
              "EXC InternalError: Cache.delete: the Cache API has no storage in this context");
    wh_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_bound, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_eviction, setup_small, teardown),
        cmocka_unit_test(test_unconfigured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
