/* harness.h: a JS context with the non-HTTP web platform (events, abort,
 * console, encoding, crypto) for unit tests, without the full js/rt.
 *
 * It makes a bare JSRuntime + JSContext, gives the context the per-context state
 * js/rt would (js/internal.h) so js_ctx_slot / js_ctx_on_free work, runs the C
 * install functions, evaluates the JS files from the source tree in order, deletes
 * `__durable` (keeping the native object reachable as h->native), and captures
 * console output through web_console_set_sink.
 *
 *   wh *h = wh_new(NULL);                    // or a NULL-terminated list of files
 *   WH_EXPECT(h, "1 + 1", "2");              // result of a script (awaited if a promise)
 *   WH_EXPECT(h, "null.x", "EXC TypeError: cannot read property 'x' of null");
 *   const char *out = wh_output(h);          // console lines: "<level> <text>\n"
 *   wh_free(h);
 *
 * Each script runs in a block of its own (its const/let are local to it; assign
 * to globalThis to share). A script's value is converted with String(); a thrown
 * or rejected value becomes "EXC <name>: <message>". Jobs are pumped until the
 * queue is empty. Everything is static so several test files can include this
 * header. Note: js/prelude is not loaded (ES2022 additions such as Error's
 * `cause` option are absent here). */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "js/internal.h"
#include "web/console.h"
#include "web/web.h"

typedef struct wh {
    JSRuntime *rt;
    JSContext *ctx;
    JSValue native;          /* borrowed from the context state */
    buf out;                 /* captured console output */
    buf job_errors;          /* exceptions thrown by jobs */
} wh;

static const char *const WH_FILES_DEFAULT[] = {
    "10_events.js", "12_abort.js", "15_console.js", "20_encoding.js", "25_crypto.js", NULL,
};

static inline char *wh_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    buf b;
    buf_init(&b, 64u * 1024u * 1024u);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(&b, chunk, n) < 0) {
            fclose(f);
            buf_fini(&b);
            return NULL;
        }
    }
    fclose(f);
    if (!b.ptr)
        buf_append(&b, "", 0);
    return buf_take(&b, len);
}

static inline void wh_sink(void *ud, int level, const char *text, size_t len)
{
    wh *h = ud;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    buf_append_str(&h->out, level >= 0 && level <= 3 ? names[level] : "?");
    buf_append(&h->out, " ", 1);
    buf_append(&h->out, text, len);
    buf_append(&h->out, "\n", 1);
}

/* The pending exception as "EXC Name: message" (malloc'd). */
static inline char *wh_exception_text(JSContext *ctx, JSValue exc)
{
    buf b;
    buf_init(&b, 1u << 20);
    buf_append_str(&b, "EXC ");
    JSValue name = JS_IsObject(exc) ? JS_GetPropertyStr(ctx, exc, "name") : JS_UNDEFINED;
    JSValue msg = JS_IsObject(exc) ? JS_GetPropertyStr(ctx, exc, "message") : JS_UNDEFINED;
    if (JS_IsString(name) || JS_IsString(msg)) {
        const char *n = JS_ToCString(ctx, name);
        const char *m = JS_ToCString(ctx, msg);
        buf_printf(&b, "%s: %s", n ? n : "?", m ? m : "?");
        JS_FreeCString(ctx, n);
        JS_FreeCString(ctx, m);
    } else {
        const char *s = JS_ToCString(ctx, exc);
        buf_append_str(&b, s ? s : "?");
        JS_FreeCString(ctx, s);
    }
    JS_FreeValue(ctx, name);
    JS_FreeValue(ctx, msg);
    return buf_take(&b, NULL);
}

static inline void wh_pump(wh *h)
{
    JSContext *jctx;
    for (int i = 0; i < 1000000; i++) {
        int rc = JS_ExecutePendingJob(h->rt, &jctx);
        if (rc == 0)
            return;
        if (rc < 0) {
            JSValue exc = JS_GetException(jctx);
            char *t = wh_exception_text(jctx, exc);
            JS_FreeValue(jctx, exc);
            buf_append_str(&h->job_errors, t);
            buf_append_str(&h->job_errors, "\n");
            free(t);
        }
    }
    fail_msg("the job queue did not drain");
}

static inline void wh_eval_file(wh *h, const char *name)
{
    char path[1024];
    int k = snprintf(path, sizeof path, "%s/src/web/js/%s", TEST_SOURCE_DIR, name);
    assert_true(k > 0 && (size_t)k < sizeof path);
    size_t len;
    char *src = wh_read_file(path, &len);
    if (!src)
        fail_msg("cannot read %s", path);
    char label[256];
    snprintf(label, sizeof label, "web/js/%s", name);
    JSValue v = JS_Eval(h->ctx, src, len, label, JS_EVAL_TYPE_GLOBAL);
    free(src);
    if (JS_IsException(v)) {
        JSValue exc = JS_GetException(h->ctx);
        char *t = wh_exception_text(h->ctx, exc);
        JSValue stack = JS_GetPropertyStr(h->ctx, exc, "stack");
        const char *st = JS_ToCString(h->ctx, stack);
        fail_msg("%s: %s\n%s", name, t, st ? st : "");
    }
    JS_FreeValue(h->ctx, v);
}

/* files: NULL-terminated names under src/web/js, or NULL for the default set. */
static inline wh *wh_new(const char *const *files)
{
    wh *h = calloc(1, sizeof *h);
    assert_non_null(h);
    buf_init(&h->out, 16u * 1024u * 1024u);
    buf_init(&h->job_errors, 1u << 20);
    h->rt = JS_NewRuntime();
    assert_non_null(h->rt);
    JS_SetMemoryLimit(h->rt, 256u * 1024u * 1024u);
    h->ctx = JS_NewContext(h->rt);
    assert_non_null(h->ctx);
    js_ctx_state *st = calloc(1, sizeof *st);
    assert_non_null(st);
    st->native = JS_NewObject(h->ctx);
    JS_SetContextOpaque(h->ctx, st);
    h->native = st->native;
    JSValue global = JS_GetGlobalObject(h->ctx);
    assert_true(
        JS_SetPropertyStr(h->ctx, global, "__durable", JS_DupValue(h->ctx, h->native)) >= 0);
    assert_int_equal(web_events_install(h->ctx, h->native), 0);
    assert_int_equal(web_encoding_install(h->ctx, h->native), 0);
    assert_int_equal(web_crypto_install(h->ctx, h->native), 0);
    assert_int_equal(web_console_install(h->ctx, h->native), 0);
    assert_int_equal(web_console_set_sink(h->ctx, wh_sink, h), 0);
    for (const char *const *f = files ? files : WH_FILES_DEFAULT; *f; f++)
        wh_eval_file(h, *f);
    JSAtom a = JS_NewAtom(h->ctx, "__durable");
    JS_DeleteProperty(h->ctx, global, a, 0);
    JS_FreeAtom(h->ctx, a);
    JS_FreeValue(h->ctx, global);
    return h;
}

static inline void wh_free(wh *h)
{
    js_ctx_state *st = JS_GetContextOpaque(h->ctx);
    for (size_t i = st->cleanup_count; i-- > 0;)
        st->cleanups[i].fn(h->ctx, st->cleanups[i].ud);
    free(st->cleanups);
    JS_FreeValue(h->ctx, st->native);
    free(st);
    JS_SetContextOpaque(h->ctx, NULL);
    JS_FreeContext(h->ctx);
    JS_FreeRuntime(h->rt);
    buf_fini(&h->out);
    buf_fini(&h->job_errors);
    free(h);
}

/* Runs `src`; returns String(result) (a promise is awaited) or "EXC name: message".
 * Malloc'd. */
static inline char *wh_run(wh *h, const char *src)
{
    JSContext *ctx = h->ctx;
    /* A block of its own, so each script's const/let do not clash with the next. */
    buf wrapped;
    buf_init(&wrapped, strlen(src) + 16);
    assert_int_equal(buf_printf(&wrapped, "{\n%s\n}", src), 0);
    JSValue v = JS_Eval(ctx, wrapped.ptr, wrapped.len, "<test>", JS_EVAL_TYPE_GLOBAL);
    buf_fini(&wrapped);
    if (JS_IsException(v)) {
        JSValue exc = JS_GetException(ctx);
        char *t = wh_exception_text(ctx, exc);
        JS_FreeValue(ctx, exc);
        wh_pump(h);
        return t;
    }
    /* Settle through a promise so async results and plain values look alike. */
    JSValue global = JS_GetGlobalObject(ctx);
    JS_SetPropertyStr(ctx, global, "__wh_value", v);
    static const char settle[] =
        "globalThis.__wh_done = false;"
        "Promise.resolve(globalThis.__wh_value).then("
        "  (v) => { globalThis.__wh_result = String(v); globalThis.__wh_done = true; },"
        "  (e) => { globalThis.__wh_exc = e; globalThis.__wh_done = true; });";
    JSValue r = JS_Eval(ctx, settle, sizeof settle - 1, "<harness>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(r));
    JS_FreeValue(ctx, r);
    wh_pump(h);
    JSValue done = JS_GetPropertyStr(ctx, global, "__wh_done");
    char *out;
    if (!JS_ToBool(ctx, done)) {
        out = strdup("PENDING");
    } else {
        JSValue exc = JS_GetPropertyStr(ctx, global, "__wh_exc");
        if (!JS_IsUndefined(exc)) {
            out = wh_exception_text(ctx, exc);
        } else {
            JSValue res = JS_GetPropertyStr(ctx, global, "__wh_result");
            const char *s = JS_ToCString(ctx, res);
            out = strdup(s ? s : "?");
            JS_FreeCString(ctx, s);
            JS_FreeValue(ctx, res);
        }
        JS_FreeValue(ctx, exc);
    }
    JS_FreeValue(ctx, done);
    static const char clear[] = "delete globalThis.__wh_value; delete globalThis.__wh_result;"
                                "delete globalThis.__wh_exc; delete globalThis.__wh_done;";
    r = JS_Eval(ctx, clear, sizeof clear - 1, "<harness>", JS_EVAL_TYPE_GLOBAL);
    JS_FreeValue(ctx, r);
    JS_FreeValue(ctx, global);
    return out;
}

static inline void wh_expect_at(wh *h, const char *src, const char *want, const char *file,
                                int line)
{
    char *got = wh_run(h, src);
    if (strcmp(got, want) != 0) {
        print_error("%s:%d: script: %s\n   got: %s\n  want: %s\n", file, line, src, got, want);
        free(got);
        _fail(file, line);
    }
    free(got);
}
#define WH_EXPECT(h, src, want) wh_expect_at((h), (src), (want), __FILE__, __LINE__)

/* The console output captured so far (lines "<level> <text>"); wh_output_reset clears. */
static inline const char *wh_output(wh *h)
{
    return h->out.ptr ? h->out.ptr : "";
}
static inline void wh_output_reset(wh *h)
{
    buf_reset(&h->out);
    if (h->out.ptr)
        h->out.ptr[0] = '\0';
}

/* The `err(f)` helper the test files share: runs f, returns "no error" or
 * "Name(code): message" (the code only for DOMExceptions). */
#define WH_ERR_HELPER                                                                      \
    "globalThis.err = (f) => { try { f(); return 'no error'; } catch (e) {"                \
    "  return e.name + (e instanceof DOMException ? '(' + e.code + ')' : '') + ': ' + e.message; } };"

/* A cmocka setup that makes a harness and runs `helpers` (a script that ends
 * in `true`) in it, and the teardown that frees it. */
static inline int wh_setup_with(void **state, const char *helpers)
{
    wh *h = wh_new(NULL);
    if (helpers)
        WH_EXPECT(h, helpers, "true");
    *state = h;
    return 0;
}

static inline int wh_teardown(void **state)
{
    wh_free(*state);
    return 0;
}
