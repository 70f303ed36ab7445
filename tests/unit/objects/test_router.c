/* Unit tests for the objects layer's router (router.c) and persistence
 * (persist.c) through their public behaviour, without HTTP: a registry built from
 * a real wrangler.toml, and two shards that share one loop on this thread, each
 * with its own runtime and context, wired as the server wires them (objects.h).
 * JS in one shard's context makes ids and calls stubs; the answers say which
 * shard ran the object. Covered: the namespaces a config gives (and the errors of
 * a bad one), no data folder for a Worker without objects, the shard an id lives
 * on (hash(id) % shards, objects.h), routing from either shard to the one
 * instance, ids that survive a restart (the secret in durable.sqlite), an alarm
 * that fires after a restart without anything calling its object (the alarm
 * index), and the data of a class that a migration renames (kept) or deletes
 * (removed once). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/server.h"
#include "config/config.h"
#include "js/rt.h"
#include "objects/objects.h"
#include "worker/worker.h"

#define SHARDS 2

typedef struct world {
    char dir[64];
    char persist[128];
    config cfg;
    uv_loop_t loop;
    obj_registry *reg;
    js_rt *rt[SHARDS];
    JSContext *ctx[SHARDS];
    obj_shard *sh[SHARDS];
} world;

/* The one Durable Object class of every test: where() says which shard runs it
 * and counts calls; put/get go through ctx.storage. */
static const char classes_js[] =
    "(DO) => { const C = class extends DO {"
    "  constructor(s, e) { super(s, e); this.n = 0; }"
    "  where() { return [globalThis.SHARD, ++this.n]; }"
    "  async put(k, v) { await this.ctx.storage.put(k, v); return true; }"
    "  async get(k) { return (await this.ctx.storage.get(k)) ?? null; }"
    "  async arm(ms) { await this.ctx.storage.setAlarm(Date.now() + ms); return true; }"
    "  async alarm() { globalThis.FIRED = (globalThis.FIRED ?? 0) + 1; }"
    "}; return { C, D: C }; }";

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static char *new_project(void)
{
    char *dir = strdup("/tmp/durable-router-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file(dir, "index.js", "export default {};\n");
    return dir;
}

static JSValue eval(JSContext *ctx, const char *src)
{
    return JS_Eval(ctx, src, strlen(src), "<test>", JS_EVAL_TYPE_GLOBAL);
}

/* Loads dir/wrangler.toml (toml) and builds the registry; returns 0 or the
 * registry's error in *e. */
static int world_registry(world *w, const char *dir, const char *toml, err *e)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    snprintf(w->persist, sizeof w->persist, "%s/data", dir);
    write_file(dir, "wrangler.toml", toml);
    if (config_load(dir, NULL, NULL, &w->cfg, e) < 0)
        fail_msg("config: %s", e->msg);
    obj_opts oo = {0};
    w->reg = obj_registry_new(&w->cfg, w->persist, SHARDS, &oo, e);
    if (!w->reg) {
        config_fini(&w->cfg);
        return -1;
    }
    return 0;
}

static void world_start(world *w)
{
    assert_int_equal(uv_loop_init(&w->loop), 0);
    for (int i = 0; i < SHARDS; i++) {
        err e = {0};
        js_rt_opts ro = {.install = worker_js_install, .memory_bytes_max = 64u << 20};
        w->rt[i] = js_rt_new(&w->loop, &ro, &e);
        assert_non_null(w->rt[i]);
        w->sh[i] = obj_shard_new(w->reg, i, &w->loop, &e);
        assert_non_null(w->sh[i]);
        w->ctx[i] = js_rt_context_new(w->rt[i], &e);
        if (!w->ctx[i])
            fail_msg("context: %s", e.msg);
        JSContext *ctx = w->ctx[i];
        obj_shard_attach(w->sh[i], ctx);
        JSValue native = js_native(ctx);
        JSValue env = JS_NewObject(ctx);
        if (obj_env_bind(w->reg, ctx, env, &e) < 0)
            fail_msg("env: %s", e.msg);
        JS_SetPropertyStr(ctx, native, "env", JS_DupValue(ctx, env));
        JSValue global = JS_GetGlobalObject(ctx);
        JS_SetPropertyStr(ctx, global, "env", env);
        JS_SetPropertyStr(ctx, global, "SHARD", JS_NewInt32(ctx, i));
        /* The "main module": its exported classes, built on DurableObject. */
        JSValue make = eval(ctx, classes_js);
        assert_false(JS_IsException(make));
        JSValue cfw = JS_GetPropertyStr(ctx, native, "cloudflareWorkers");
        JSValue base = JS_GetPropertyStr(ctx, cfw, "DurableObject");
        JSValue mod = JS_Call(ctx, make, JS_UNDEFINED, 1, &base);
        assert_false(JS_IsException(mod));
        if (obj_check_exports(w->reg, ctx, mod, &e) < 0)
            fail_msg("exports: %s", e.msg);
        JS_SetPropertyStr(ctx, native, "mainModule", mod);
        JS_FreeValue(ctx, base);
        JS_FreeValue(ctx, cfw);
        JS_FreeValue(ctx, make);
        JS_FreeValue(ctx, global);
        obj_shard_start(w->sh[i]);
    }
}

/* Runs `(async () => { body })()` in shard i and the loop until it settles;
 * returns the JSON of its value (or "EXC: message"), malloc'd. */
static char *world_run(world *w, int i, const char *body)
{
    JSContext *ctx = w->ctx[i];
    char src[4096];
    snprintf(src, sizeof src,
             "globalThis.__out = undefined; (async () => { %s })().then("
             "v => { globalThis.__out = JSON.stringify(v); },"
             "e => { globalThis.__out = 'EXC: ' + (e && e.message); });", body);
    js_rt_event_begin(w->rt[i]);
    JSValue r = eval(ctx, src);
    js_rt_event_end(w->rt[i]);
    assert_false(JS_IsException(r));
    JS_FreeValue(ctx, r);
    js_rt_pump(w->rt[i]);
    char *out = NULL;
    for (int spin = 0; spin < 200000 && !out; spin++) {
        uv_run(&w->loop, UV_RUN_NOWAIT);
        for (int k = 0; k < SHARDS; k++)
            js_rt_pump(w->rt[k]);
        JSValue g = JS_GetGlobalObject(ctx);
        JSValue v = JS_GetPropertyStr(ctx, g, "__out");
        if (JS_IsString(v)) {
            const char *s = JS_ToCString(ctx, v);
            out = strdup(s);
            JS_FreeCString(ctx, s);
        }
        JS_FreeValue(ctx, v);
        JS_FreeValue(ctx, g);
        if (!out)
            usleep(50);
    }
    if (!out)
        fail_msg("no answer from shard %d to: %s", i, body);
    return out;
}

static void world_stop(world *w)
{
    for (int i = 0; i < SHARDS; i++) {
        obj_shard_close(w->sh[i]);
        js_context_free(w->ctx[i]);
    }
    uv_run(&w->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < SHARDS; i++)
        js_rt_free(w->rt[i]);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    obj_registry_free(w->reg);
    config_fini(&w->cfg);
}

static const char toml_c[] =
    "name = \"t\"\nmain = \"index.js\"\ncompatibility_date = \"2026-11-01\"\n"
    "[[durable_objects.bindings]]\nname = \"C\"\nclass_name = \"C\"\n"
    "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"C\"]\n";

static void expect(world *w, int shard, const char *body, const char *want)
{
    char *got = world_run(w, shard, body);
    if (strcmp(got, want) != 0)
        fail_msg("shard %d: %s\n  got  %s\n  want %s", shard, body, got, want);
    free(got);
}

/* ---- the registry ---- */

static void test_namespaces_from_config(void **state)
{
    char *dir = new_project();
    world w;
    err e = {0};
    assert_int_equal(world_registry(&w, dir, toml_c, &e), 0);
    assert_int_equal(obj_registry_ns_count(w.reg), 1);
    assert_string_equal(obj_registry_ns_class(w.reg, 0), "C");
    assert_null(obj_registry_ns_class(w.reg, 1));
    char p[256];
    struct stat sb;
    snprintf(p, sizeof p, "%s/durable.sqlite", w.persist);
    assert_int_equal(stat(p, &sb), 0);
    obj_registry_free(w.reg);
    config_fini(&w.cfg);
    rm_rf(dir);
    free(dir);
}

static void test_no_objects_no_folder(void **state)
{
    char *dir = new_project();
    world w;
    err e = {0};
    assert_int_equal(world_registry(&w, dir, "name = \"t\"\nmain = \"index.js\"\n"
                                    "compatibility_date = \"2026-11-01\"\n", &e), 0);
    assert_int_equal(obj_registry_ns_count(w.reg), 0);
    struct stat sb;
    assert_int_not_equal(stat(w.persist, &sb), 0);
    obj_registry_free(w.reg);
    config_fini(&w.cfg);
    rm_rf(dir);
    free(dir);
}

static void test_binding_without_migration(void **state)
{
    char *dir = new_project();
    world w;
    err e = {0};
    assert_int_equal(world_registry(&w, dir,
                                    "name = \"t\"\nmain = \"index.js\"\n"
                                    "compatibility_date = \"2026-11-01\"\n"
                                    "[[durable_objects.bindings]]\nname = \"B\"\n"
                                    "class_name = \"Nope\"\n", &e), -1);
    assert_non_null(strstr(e.msg, "Nope"));
    assert_non_null(strstr(e.msg, "migrations"));
    rm_rf(dir);
    free(dir);
}

/* ---- routing ---- */

static int hex_shard(const char *hex)
{
    obj_id id;
    for (int i = 0; i < OBJ_ID_BYTES; i++) {
        unsigned b;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
        id.b[i] = (uint8_t)b;
    }
    return (int)(obj_id_hash(&id) % SHARDS);
}

/* Each object runs on shard hash(id) % SHARDS, whichever shard calls it, and it
 * is one instance: calls from both shards count on the same counter. Names
 * spread over both shards. */
static void test_id_to_shard_and_routing(void **state)
{
    char *dir = new_project();
    world w;
    err e = {0};
    assert_int_equal(world_registry(&w, dir, toml_c, &e), 0);
    world_start(&w);
    int seen[SHARDS] = {0};
    for (int n = 0; n < 12; n++) {
        char body[256], *hex;
        snprintf(body, sizeof body, "return env.C.idFromName('obj%d').toString();", n);
        hex = world_run(&w, n % SHARDS, body);
        assert_int_equal(strlen(hex), OBJ_ID_HEX_LEN + 2);   /* a JSON string */
        hex[OBJ_ID_HEX_LEN + 1] = '\0';
        int home = hex_shard(hex + 1);
        seen[home]++;
        char want[32];
        for (int from = 0; from < SHARDS; from++) {
            snprintf(body, sizeof body, "return await env.C.get(env.C.idFromName('obj%d')).where();",
                     n);
            snprintf(want, sizeof want, "[%d,%d]", home, from + 1);
            expect(&w, from, body, want);
        }
        /* By the id's string too (idFromString), from the other shard. */
        snprintf(body, sizeof body, "return await env.C.get(env.C.idFromString('%.64s')).where();",
                 hex + 1);
        snprintf(want, sizeof want, "[%d,%d]", home, SHARDS + 1);
        expect(&w, 1, body, want);
        free(hex);
    }
    for (int i = 0; i < SHARDS; i++)
        assert_true(seen[i] > 0);
    world_stop(&w);
    rm_rf(dir);
    free(dir);
}

/* ---- persistence ---- */

/* The id secret is kept in the data folder: the same name gives the same id
 * after a restart, and what an object stored is there again. */
static void test_ids_and_data_survive_restart(void **state)
{
    char *dir = new_project();
    world w;
    err e = {0};
    assert_int_equal(world_registry(&w, dir, toml_c, &e), 0);
    world_start(&w);
    char *id1 = world_run(&w, 0, "return env.C.idFromName('keep').toString();");
    expect(&w, 0, "return await env.C.get(env.C.idFromName('keep')).put('k', 'v1');", "true");
    world_stop(&w);

    assert_int_equal(world_registry(&w, dir, toml_c, &e), 0);
    world_start(&w);
    char *id2 = world_run(&w, 1, "return env.C.idFromName('keep').toString();");
    assert_string_equal(id1, id2);
    expect(&w, 1, "return await env.C.get(env.C.idFromName('keep')).get('k');", "\"v1\"");
    world_stop(&w);
    free(id1);
    free(id2);
    rm_rf(dir);
    free(dir);
}

/* ALARM-6: the alarm index in durable.sqlite lets the restarted server find and
 * fire an alarm although nothing calls the object. */
static void test_alarm_fires_after_restart(void **state)
{
    char *dir = new_project();
    world w;
    err e = {0};
    assert_int_equal(world_registry(&w, dir, toml_c, &e), 0);
    world_start(&w);
    expect(&w, 0, "return await env.C.get(env.C.idFromName('a')).arm(300);", "true");
    char *hex = world_run(&w, 0, "return env.C.idFromName('a').toString();");
    int home = hex_shard(hex + 1);
    free(hex);
    world_stop(&w);   /* before it is due */

    assert_int_equal(world_registry(&w, dir, toml_c, &e), 0);
    world_start(&w);
    char *fired = NULL;
    for (int i = 0; i < 400; i++) {   /* up to ~20 s: a deadline, not a timing check */
        free(fired);
        fired = world_run(&w, home, "await new Promise((r) => setTimeout(r, 50)); "
                                    "return globalThis.FIRED ?? 0;");
        if (strcmp(fired, "0") != 0)
            break;
    }
    assert_string_equal(fired, "1");
    free(fired);
    world_stop(&w);
    rm_rf(dir);
    free(dir);
}

static const char toml_renamed[] =
    "name = \"t\"\nmain = \"index.js\"\ncompatibility_date = \"2026-11-01\"\n"
    "[[durable_objects.bindings]]\nname = \"D\"\nclass_name = \"D\"\n"
    "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"C\"]\n"
    "[[migrations]]\ntag = \"v2\"\nrenamed_classes = [{from = \"C\", to = \"D\"}]\n";

static const char toml_deleted[] =
    "name = \"t\"\nmain = \"index.js\"\ncompatibility_date = \"2026-11-01\"\n"
    "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"C\"]\n"
    "[[migrations]]\ntag = \"v2\"\ndeleted_classes = [\"C\"]\n";

/* MIG-5: a renamed class keeps its objects' data (and ids). MIG-6: a deleted
 * class loses it; bringing the class back with a new migration starts empty. */
static void test_migrations_rename_keeps_delete_removes(void **state)
{
    char *dir = new_project();
    world w;
    err e = {0};
    assert_int_equal(world_registry(&w, dir, toml_c, &e), 0);
    world_start(&w);
    expect(&w, 0, "return await env.C.get(env.C.idFromName('m')).put('k', 'kept');", "true");
    world_stop(&w);

    assert_int_equal(world_registry(&w, dir, toml_renamed, &e), 0);
    world_start(&w);
    expect(&w, 0, "return await env.D.get(env.D.idFromName('m')).get('k');", "\"kept\"");
    world_stop(&w);

    if (world_registry(&w, dir, toml_deleted, &e) < 0)
        fail_msg("deleted: %s", e.msg);
    assert_int_equal(obj_registry_ns_count(w.reg), 0);
    obj_registry_free(w.reg);
    config_fini(&w.cfg);

    static const char toml_back[] =
        "name = \"t\"\nmain = \"index.js\"\ncompatibility_date = \"2026-11-01\"\n"
        "[[durable_objects.bindings]]\nname = \"C\"\nclass_name = \"C\"\n"
        "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"C\"]\n"
        "[[migrations]]\ntag = \"v2\"\ndeleted_classes = [\"C\"]\n"
        "[[migrations]]\ntag = \"v3\"\nnew_sqlite_classes = [\"C\"]\n";
    if (world_registry(&w, dir, toml_back, &e) < 0)
        fail_msg("back: %s", e.msg);
    world_start(&w);
    expect(&w, 1, "return await env.C.get(env.C.idFromName('m')).get('k');", "null");
    world_stop(&w);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    server_classes_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespaces_from_config),
        cmocka_unit_test(test_no_objects_no_folder),
        cmocka_unit_test(test_binding_without_migration),
        cmocka_unit_test(test_id_to_shard_and_routing),
        cmocka_unit_test(test_ids_and_data_survive_restart),
        cmocka_unit_test(test_alarm_fires_after_restart),
        cmocka_unit_test(test_migrations_rename_keeps_delete_removes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
