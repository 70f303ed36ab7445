/* console.c: the C end of `console` (spec: workers.md WEB-14): one native,
 * N.consoleWrite(level, text), that hands a formatted line to the context's sink.
 *
 * Formatting (util.inspect-like) is in web/js/15_console.js. The sink lives in a
 * small struct per context, kept in the JS_SLOT_CONSOLE slot of js/rt and freed
 * by a js_ctx_on_free cleanup, so it never outlives its context. A context that
 * has no js/rt state (a bare JSContext) still gets a working console writing to
 * the default sink; only web_console_set_sink is unavailable there. */
#include "web/console.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "js/rt.h"
#include "web/web.h"

typedef struct console_state {
    web_console_sink_fn sink;   /* NULL: default_sink */
    void *ud;                   /* borrowed */
} console_state;

static void default_sink(void *ud, int level, const char *text, size_t len)
{
    /* log_msg marks lines past its buffer with "..." rather than cutting silently. */
    log_msg((log_level)level, "%.*s", len > INT32_MAX ? INT32_MAX : (int)len, text);
}

static void console_state_free(JSContext *ctx, void *ud)
{
    if (js_ctx_slot(ctx, JS_SLOT_CONSOLE) == ud)
        js_ctx_set_slot(ctx, JS_SLOT_CONSOLE, NULL);
    free(ud);
}

int web_console_set_sink(JSContext *ctx, web_console_sink_fn sink, void *ud)
{
    console_state *st = js_ctx_slot(ctx, JS_SLOT_CONSOLE);
    if (!st)
        return DUR_EINVAL;
    st->sink = sink;
    st->ud = ud;
    return 0;
}

static int level_of(const char *name)
{
    if (!strcmp(name, "log") || !strcmp(name, "info"))
        return LOG_INFO;
    if (!strcmp(name, "warn"))
        return LOG_WARN;
    if (!strcmp(name, "error"))
        return LOG_ERROR;
    if (!strcmp(name, "debug"))
        return LOG_DEBUG;
    return -1;
}

/* consoleWrite(level, text) */
static JSValue js_console_write(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv)
{
    if (argc < 2)
        return JS_ThrowTypeError(ctx, "consoleWrite: 2 arguments required");
    const char *lvl = JS_ToCString(ctx, argv[0]);
    if (!lvl)
        return JS_EXCEPTION;
    int level = level_of(lvl);
    if (level < 0) {
        JS_ThrowTypeError(ctx, "consoleWrite: unknown level '%s'", lvl);
        JS_FreeCString(ctx, lvl);
        return JS_EXCEPTION;
    }
    JS_FreeCString(ctx, lvl);
    size_t len;
    const char *text = JS_ToCStringLen(ctx, &len, argv[1]);
    if (!text)
        return JS_EXCEPTION;
    console_state *st = js_ctx_slot(ctx, JS_SLOT_CONSOLE);
    if (st && st->sink)
        st->sink(st->ud, level, text, len);
    else
        default_sink(NULL, level, text, len);
    JS_FreeCString(ctx, text);
    return JS_UNDEFINED;
}

static const JSCFunctionListEntry console_natives[] = {
    JS_CFUNC_DEF("consoleWrite", 2, js_console_write),
};

int web_console_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, console_natives,
                               sizeof console_natives / sizeof console_natives[0]);
    if (js_ctx_slot(ctx, JS_SLOT_CONSOLE))
        return 0;   /* installed twice into one context: keep the first state */
    console_state *st = calloc(1, sizeof *st);
    if (!st) {
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    int rc = js_ctx_on_free(ctx, console_state_free, st);
    if (rc < 0) {
        free(st);
        if (rc == DUR_EINVAL)
            return 0;   /* no js/rt state: the default sink only */
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    js_ctx_set_slot(ctx, JS_SLOT_CONSOLE, st);
    return 0;
}
