/* clone.c: C entry points of the structured-clone serializer (see clone.h). The
 * walk is in JS (prelude/10_clone.js) because QuickJS 2021-03-27 exposes no class
 * ids to C, so brand checks are done there with the built-ins' own getters. */
#include "js/clone.h"

#include "js/rt.h"

int js_clone_write(JSContext *ctx, JSValueConst v, int flags, buf *out)
{
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), "cloneWrite");
    size_t room = out->max > out->len ? out->max - out->len : 0;
    JSValue args[3] = {JS_DupValue(ctx, v), JS_NewInt32(ctx, flags),
                       JS_NewFloat64(ctx, (double)(room > 0x7fffffff ? 0x7fffffff : room))};
    JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 3, args);
    JS_FreeValue(ctx, args[0]);
    JS_FreeValue(ctx, fn);
    if (JS_IsException(r))
        return -1;
    size_t off = 0, len = 0, bpe = 0;
    JSValue ab = JS_GetTypedArrayBuffer(ctx, r, &off, &len, &bpe);
    int rc = -1;
    if (!JS_IsException(ab)) {
        size_t ab_len;
        uint8_t *p = JS_GetArrayBuffer(ctx, &ab_len, ab);
        if (p && off + len <= ab_len) {
            int a = buf_append(out, p + off, len);
            if (a == 0)
                rc = 0;
            else if (a == DUR_ETOOBIG)
                JS_ThrowRangeError(ctx, "value too large: more than %zu bytes", out->max);
            else
                JS_ThrowOutOfMemory(ctx);
        }
        JS_FreeValue(ctx, ab);
    }
    JS_FreeValue(ctx, r);
    return rc;
}

JSValue js_clone_read(JSContext *ctx, const uint8_t *p, size_t len)
{
    JSValue ab = JS_NewArrayBufferCopy(ctx, p, len);
    if (JS_IsException(ab))
        return ab;
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue u8c = JS_GetPropertyStr(ctx, global, "Uint8Array");
    JS_FreeValue(ctx, global);
    JSValue u8 = JS_CallConstructor(ctx, u8c, 1, &ab);
    JS_FreeValue(ctx, u8c);
    JS_FreeValue(ctx, ab);
    if (JS_IsException(u8))
        return u8;
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), "cloneRead");
    JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, &u8);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, u8);
    return r;
}
