/* bytes.c: bytes out of JS values (see bytes.h). */
#include "js/bytes.h"

int js_byte_range(JSContext *ctx, JSValueConst ab, JSValueConst off_v, JSValueConst len_v,
                  uint8_t **p, size_t *n)
{
    size_t ab_len;
    uint8_t *data = JS_GetArrayBuffer(ctx, &ab_len, ab);
    if (!data)
        return -1;   /* not an ArrayBuffer, or detached: TypeError pending */
    int64_t off, len;
    if (JS_ToInt64(ctx, &off, off_v) < 0 || JS_ToInt64(ctx, &len, len_v) < 0)
        return -1;
    if (off < 0 || len < 0 || (uint64_t)off > ab_len || (uint64_t)len > ab_len - (uint64_t)off) {
        JS_ThrowRangeError(ctx, "byte range %lld+%lld is outside a buffer of %zu bytes",
                           (long long)off, (long long)len, ab_len);
        return -1;
    }
    *p = data + off;
    *n = (size_t)len;
    return 0;
}

const uint8_t *js_bytes_of(JSContext *ctx, JSValueConst v, size_t *len, JSValue *hold)
{
    *hold = JS_UNDEFINED;
    size_t off = 0, n = 0, bpe = 0;
    JSValue ab = JS_GetTypedArrayBuffer(ctx, v, &off, &n, &bpe);
    if (!JS_IsException(ab)) {
        size_t ab_len;
        uint8_t *p = JS_GetArrayBuffer(ctx, &ab_len, ab);
        if (!p || off + n > ab_len) {
            JS_FreeValue(ctx, ab);
            if (p)
                JS_ThrowRangeError(ctx, "view out of bounds");
            return NULL;
        }
        *hold = ab;
        *len = n;
        return p + off;
    }
    JS_FreeValue(ctx, JS_GetException(ctx));   /* not a view: try an ArrayBuffer */
    uint8_t *p = JS_GetArrayBuffer(ctx, len, v);
    if (p)
        *hold = JS_DupValue(ctx, v);
    return p;
}
