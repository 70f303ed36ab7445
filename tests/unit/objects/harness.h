/* A Worker with Durable Objects on one shard, without the HTTP server: a project
 * folder, its config, the object registry, a runtime, the shard's inbox and the
 * worker (which loads the module and starts the inbox). Tests evaluate JS in the
 * worker's context with obj_fx_eval and run the loop until a promise settles.
 * Header-only; one fixture per test. */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/server.h"
#include "config/config.h"
#include "js/rt.h"
#include "objects/objects.h"
#include "storage/natives.h"
#include "worker/worker.h"

typedef struct obj_fx {
    char dir[64];
    config cfg;
    obj_registry *reg;
    uv_loop_t loop;
    js_rt *rt;
    obj_shard *shard;
    worker *w;
} obj_fx;

static inline void obj_fx_write(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    fclose(f);
}

/* `module` is the main module; `classes` the class names (space separated), each
 * bound as env.<NAME> where NAME is the class name upper-cased. */
static inline obj_fx *obj_fx_new_opts(const char *module, const char *cls, const obj_opts *opts)
{
    obj_fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/durable-unit-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char toml[1024];
    char upper[64];
    size_t n = strlen(cls);
    assert_true(n < sizeof upper);
    for (size_t i = 0; i <= n; i++)
        upper[i] = (char)(cls[i] >= 'a' && cls[i] <= 'z' ? cls[i] - 32 : cls[i]);
    snprintf(toml, sizeof toml,
             "name = \"unit\"\nmain = \"index.js\"\ncompatibility_date = \"2026-11-01\"\n"
             "[[durable_objects.bindings]]\nname = \"%s\"\nclass_name = \"%s\"\n"
             "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"%s\"]\n", upper, cls, cls);
    obj_fx_write(f->dir, "wrangler.toml", toml);
    obj_fx_write(f->dir, "index.js", module);
    err e = {0};
    server_classes_init();   /* class ids, before the first runtime */
    if (config_load(f->dir, NULL, NULL, &f->cfg, &e) < 0)
        fail_msg("config: %s", e.msg);
    storage_configure(0, 64);
    char persist[128];
    snprintf(persist, sizeof persist, "%s/.durable", f->dir);
    f->reg = obj_registry_new(&f->cfg, persist, 1, opts, &e);
    if (!f->reg)
        fail_msg("registry: %s", e.msg);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    js_rt_opts ro = {.install = worker_js_install};
    f->rt = js_rt_new(&f->loop, &ro, &e);
    assert_non_null(f->rt);
    f->shard = obj_shard_new(f->reg, 0, &f->loop, &e);
    assert_non_null(f->shard);
    worker_opts wo = {.cfg = &f->cfg, .wall_ms_max = 30000, .objects = f->reg,
                      .obj_shard = f->shard};
    f->w = worker_new(f->rt, &wo, &e);
    if (!f->w)
        fail_msg("worker: %s", e.msg);
    return f;
}

static inline obj_fx *obj_fx_new(const char *module, const char *cls)
{
    obj_opts o = {0};
    return obj_fx_new_opts(module, cls, &o);
}

static inline void obj_fx_free(obj_fx *f)
{
    worker_free(f->w);
    obj_shard_close(f->shard);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    js_rt_free(f->rt);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    obj_registry_free(f->reg);
    config_fini(&f->cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
}

/* Evaluates `src` (an expression giving a promise or a value), runs the loop until
 * globalThis.__done is set by the promise's settling, and returns the result as a
 * malloc'd string ("EXC: …" for a rejection). */
static inline char *obj_fx_eval(obj_fx *f, const char *src)
{
    JSContext *ctx = worker_context(f->w);
    char wrapped[4096];
    snprintf(wrapped, sizeof wrapped,
             "globalThis.__done = undefined; Promise.resolve().then(() => (%s)).then("
             "(v) => { globalThis.__done = String(v); },"
             "(e) => { globalThis.__done = 'EXC: ' + (e && e.message); });",
             src);
    js_rt_event_begin(f->rt);
    JSValue v = JS_Eval(ctx, wrapped, strlen(wrapped), "<test>", JS_EVAL_TYPE_GLOBAL);
    js_rt_event_end(f->rt);
    if (JS_IsException(v)) {
        char *t = js_exception_text(ctx, JS_UNDEFINED);
        fail_msg("eval: %s", t);
    }
    JS_FreeValue(ctx, v);
    js_rt_pump(f->rt);
    JSValue global = JS_GetGlobalObject(ctx);
    for (int i = 0; i < 100000; i++) {
        JSValue d = JS_GetPropertyStr(ctx, global, "__done");
        if (!JS_IsUndefined(d)) {
            const char *s = JS_ToCString(ctx, d);
            char *out = strdup(s ? s : "(null)");
            JS_FreeCString(ctx, s);
            JS_FreeValue(ctx, d);
            JS_FreeValue(ctx, global);
            return out;
        }
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    JS_FreeValue(ctx, global);
    fail_msg("the promise of `%s` did not settle", src);
    return NULL;
}
