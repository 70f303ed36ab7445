/* Unit tests for stubs as the router sees them (src/objects/router.c and the stub
 * half of 50_objects.js), run in a real shard without the HTTP server. */
#include "harness.h"

#include "objects/id.h"

static const char *module =
    "import { DurableObject, env } from 'cloudflare:workers';\n"
    "export class Thing extends DurableObject { m(i) { return i; } }\n"
    "globalThis.env = env;\n"
    "export default { fetch() { return new Response('x'); } };\n";

/* Item 23 of issue 8: a stub keeps the binary id and its shard; sending through it
 * neither parses the hex form nor verifies the id's HMAC again. */
static void test_send_does_not_recheck_the_id(void **state)
{
    (void)state;
    obj_fx *f = obj_fx_new(module, "Thing");
    char *r = obj_fx_eval(f, "(async () => { const s = env.THING.getByName('a');"
                             " globalThis.stub = s; return await s.m(1); })()");
    assert_string_equal(r, "1");
    free(r);
    uint64_t before = obj_id_checks();
    r = obj_fx_eval(f, "(async () => { const ps = [];"
                       " for (let i = 0; i < 200; i++) ps.push(stub.m(i));"
                       " for (let i = 0; i < 50; i++) ps.push(env.THING.getByName('a').m(i));"
                       " return (await Promise.all(ps)).length; })()");
    assert_string_equal(r, "250");
    free(r);
    /* The object's side parses the id once when it builds ctx.id (none here). */
    assert_int_equal(obj_id_checks() - before, 0);
    /* An id read back from a string is checked once, then its stubs are not. */
    before = obj_id_checks();
    r = obj_fx_eval(f, "(async () => { const id = env.THING.idFromString(stub.id.toString());"
                       " const s = env.THING.get(id); let n = 0;"
                       " for (let i = 0; i < 20; i++) n += await s.m(1); return n; })()");
    assert_string_equal(r, "20");
    free(r);
    assert_int_equal(obj_id_checks() - before, 1);
    obj_fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_does_not_recheck_the_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
