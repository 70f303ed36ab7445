/* Unit tests for the bounds on the events waiting at one object (spec limits.md
 * LIM-31, objects.md ERR-4): count, bytes and the oldest one's wait, each with a
 * small bound set through obj_opts. The object holds its input gate with
 * blockConcurrencyWhile so that calls queue behind it. */
#include "harness.h"

static const char *module =
    "import { DurableObject, env } from 'cloudflare:workers';\n"
    "const sleep = (ms) => new Promise((r) => setTimeout(r, ms));\n"
    "export class Thing extends DurableObject {\n"
    "  ran = 0;\n"
    "  block(ms) { this.ctx.blockConcurrencyWhile(() => sleep(ms)); return 'blocking'; }\n"
    "  m(x) { this.ran++; return typeof x === 'string' ? x.length : x; }\n"
    "  count() { return this.ran; }\n"
    "}\n"
    "globalThis.env = env;\n"
    "globalThis.sleep = sleep;\n"
    "globalThis.outcome = (ps) => Promise.allSettled(ps).then((rs) => rs.map((r) =>\n"
    "  r.status === 'fulfilled' ? 'ok' : (r.reason.overloaded === true && !('remote' in r.reason)\n"
    "    ? r.reason.message : 'other: ' + r.reason)).join('|'));\n"
    "export default { fetch() { return new Response('x'); } };\n";

static void test_count_bound(void **state)
{
    (void)state;
    obj_opts o = {.queue_max = 3};
    obj_fx *f = obj_fx_new_opts(module, "Thing", &o);
    char *r = obj_fx_eval(f, "(async () => { const s = env.THING.getByName('a'); await s.block(200);"
                             " const ps = []; for (let i = 0; i < 5; i++) ps.push(s.m(i));"
                             " const out = await outcome(ps); return out + '/' + await s.count(); })()");
    const char *over = "Durable Object is overloaded. Too many requests queued.";
    char want[512];
    snprintf(want, sizeof want, "ok|ok|ok|%s|%s/3", over, over);
    assert_string_equal(r, want);
    free(r);
    obj_fx_free(f);
}

static void test_bytes_bound(void **state)
{
    (void)state;
    obj_opts o = {.queue_bytes_max = 10000};
    obj_fx *f = obj_fx_new_opts(module, "Thing", &o);
    char *r = obj_fx_eval(f, "(async () => { const s = env.THING.getByName('a'); await s.block(200);"
                             " const big = 'x'.repeat(6000);"
                             " const out = await outcome([s.m(big), s.m(big), s.m(1)]);"
                             " return out + '/' + await s.count(); })()");
    assert_string_equal(r, "ok|Durable Object is overloaded. Too much data queued.|ok/2");
    free(r);
    obj_fx_free(f);
}

static void test_wait_bound(void **state)
{
    (void)state;
    obj_opts o = {.queue_wait_ms = 50};
    obj_fx *f = obj_fx_new_opts(module, "Thing", &o);
    /* The first call queues behind the block; 150 ms later its wait is past the
     * bound, so the next call is refused; once the block ends both run normally. */
    char *r = obj_fx_eval(f, "(async () => { const s = env.THING.getByName('a'); await s.block(300);"
                             " const first = s.m(1); await sleep(150); const second = s.m(2);"
                             " const out = await outcome([first, second]);"
                             " return out + '/' + await s.m(3); })()");
    assert_string_equal(r, "ok|Durable Object is overloaded. Requests queued for too long./3");
    free(r);
    obj_fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_bound),
        cmocka_unit_test(test_bytes_bound),
        cmocka_unit_test(test_wait_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
