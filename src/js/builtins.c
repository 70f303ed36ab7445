/* builtins.c: natives of the js layer installed in every context before the
 * embedded JS runs: structuredClone (clone.c) and the serializer's entry points
 * for the JS of other layers (storage values). */
#include "js/internal.h"

#include "base/buf.h"
#include "js/clone.h"

/* N.cloneWrite(value, flags, maxBytes) → ArrayBuffer of the encoding. */
static JSValue js_clone_write_native(JSContext *ctx, JSValueConst this_val, int argc,
                                     JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    int32_t flags;
    double max;
    if (JS_ToInt32(ctx, &flags, argv[1]) < 0 || JS_ToFloat64(ctx, &max, argv[2]) < 0)
        return JS_EXCEPTION;
    buf b;
    buf_init(&b, max > 0 && max < (double)SIZE_MAX ? (size_t)max : SIZE_MAX);
    if (js_clone_write(ctx, argv[0], flags, &b) < 0) {
        buf_fini(&b);
        return JS_EXCEPTION;
    }
    JSValue ab = JS_NewArrayBufferCopy(ctx, (const uint8_t *)b.ptr, b.len);
    buf_fini(&b);
    return ab;
}

/* N.cloneRead(ArrayBuffer | view) → value */
static JSValue js_clone_read_native(JSContext *ctx, JSValueConst this_val, int argc,
                                    JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    size_t len = 0;
    uint8_t *p = JS_GetArrayBuffer(ctx, &len, argv[0]);
    if (p)
        return js_clone_read(ctx, p, len);
    JS_FreeValue(ctx, JS_GetException(ctx));
    size_t off = 0, n = 0, bpe = 0;
    JSValue ab = JS_GetTypedArrayBuffer(ctx, argv[0], &off, &n, &bpe);
    if (JS_IsException(ab))
        return ab;
    p = JS_GetArrayBuffer(ctx, &len, ab);
    JSValue r = p && off + n <= len ? js_clone_read(ctx, p + off, n)
                                    : JS_ThrowTypeError(ctx, "cloneRead: not a buffer");
    JS_FreeValue(ctx, ab);
    return r;
}

/* N.asyncContextGet() → the async context QuickJS carries through promise
 * reactions (patch 0009); N.asyncContextSet(v) replaces it (node:async_hooks). */
static JSValue js_async_context_get(JSContext *ctx, JSValueConst this_val, int argc,
                                    JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    (void)argv;
    return JS_GetAsyncContext(ctx);
}

static JSValue js_async_context_set(JSContext *ctx, JSValueConst this_val, int argc,
                                    JSValueConst *argv)
{
    (void)this_val;
    JS_SetAsyncContext(ctx, argc > 0 ? JS_DupValue(ctx, argv[0]) : JS_UNDEFINED);
    return JS_UNDEFINED;
}

int js__builtins_install(JSContext *ctx, JSValueConst native)
{
    if (js_clone_install(ctx) < 0)
        return -1;
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("cloneWrite", 3, js_clone_write_native),
        JS_CFUNC_DEF("cloneRead", 1, js_clone_read_native),
        JS_CFUNC_DEF("asyncContextGet", 0, js_async_context_get),
        JS_CFUNC_DEF("asyncContextSet", 1, js_async_context_set),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}
