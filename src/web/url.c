/* url.c: the natives behind URL and URLSearchParams (spec: workers.md WEB-5).
 *
 * The classes themselves are JS (web/js/30_url.js); C does the parsing, the setters
 * and the form-urlencoded codec through url_parse.c. A parsed URL reaches JS as one
 * array of its serialized attributes,
 *   [href, protocol, username, password, host, hostname, port, pathname, search, hash]
 * so that every getter is a property read and `new URL(request.url)` costs one
 * native call. Setters send the href back with the attribute to change and get a
 * fresh array: re-parsing an href gives the same record (the serializer guarantees
 * it), so no C state lives behind a URL object and nothing needs a finalizer.
 *
 * Natives on `__durable`: urlParse(input, base?) → array | null,
 * urlCanParse(input, base?) → bool, urlSet(href, part, value) → array,
 * formParse(string) → [name, value, name, value, …], formSerialize(flat) → string. */
#include "web/web.h"

#include <string.h>

#include "web/url_parse.h"

/* QuickJS strings stop at 2^30 - 1 characters; an href is ASCII, so bytes = chars. */
#define URL_JS_STRING_MAX ((1u << 30) - 1)

enum { COMP_COUNT = 10 };

static JSValue throw_rc(JSContext *ctx, const char *api, int rc)
{
    if (rc == DUR_ENOMEM)
        return JS_ThrowOutOfMemory(ctx);
    if (rc == DUR_ETOOBIG)
        return JS_ThrowRangeError(ctx, "%s: URL longer than %u bytes", api, URL_INPUT_BYTES_MAX);
    return JS_ThrowTypeError(ctx, "%s: failed (%s)", api, err_name(rc));
}

static JSValue sub(JSContext *ctx, const char *s, size_t a, size_t b)
{
    return JS_NewStringLen(ctx, s + a, b - a);
}

/* The attribute array of u. `input` (may be JS_UNDEFINED) is reused as the href
 * when its bytes equal the serialization, the common case for request URLs. */
static JSValue components(JSContext *ctx, const url *u, JSValueConst input, const char *in,
                          size_t in_len)
{
    buf href;
    url_spans sp;
    buf_init(&href, URL_JS_STRING_MAX);
    int rc = url_serialize(u, &href, &sp);
    if (rc < 0) {
        buf_fini(&href);
        return throw_rc(ctx, "URL", rc);
    }
    const char *h = href.ptr;
    JSValue v[COMP_COUNT];
    if (in && in_len == href.len && memcmp(in, h, in_len) == 0 && JS_IsString(input))
        v[0] = JS_DupValue(ctx, input);
    else
        v[0] = JS_NewStringLen(ctx, h, href.len);
    v[1] = sub(ctx, h, 0, sp.protocol_end);
    v[2] = sub(ctx, h, sp.username_start, sp.username_end);
    v[3] = sub(ctx, h, sp.password_start, sp.password_end);
    v[4] = sub(ctx, h, sp.host_start, sp.port_end);
    v[5] = sub(ctx, h, sp.host_start, sp.host_end);
    v[6] = sub(ctx, h, sp.port_start, sp.port_end);
    v[7] = sub(ctx, h, sp.path_start, sp.path_end);
    v[8] = sub(ctx, h, sp.query_start, sp.query_end);
    v[9] = sub(ctx, h, sp.fragment_start, sp.fragment_end);
    buf_fini(&href);
    JSValue arr = JS_NewArray(ctx);
    bool failed = JS_IsException(arr);
    for (uint32_t i = 0; i < COMP_COUNT; i++) {
        if (JS_IsException(v[i]))
            failed = true;
        if (failed)
            JS_FreeValue(ctx, v[i]);
        else if (JS_DefinePropertyValueUint32(ctx, arr, i, v[i], JS_PROP_C_W_E) < 0)
            failed = true;
    }
    if (failed) {
        JS_FreeValue(ctx, arr);
        return JS_EXCEPTION;
    }
    return arr;
}

/* Parses argv[0] against argv[1] (if not undefined) into *u. Returns 0, DUR_EPARSE
 * (invalid URL or base), or -1 with a JS exception pending. */
static int parse_args(JSContext *ctx, int argc, JSValueConst *argv, url *u, const char **in,
                      size_t *in_len)
{
    *in = JS_ToCStringLen(ctx, in_len, argv[0]);
    if (!*in)
        return -1;
    int rc = 0;
    url base;
    url_init(&base);
    bool has_base = argc > 1 && !JS_IsUndefined(argv[1]);
    if (has_base) {
        size_t blen;
        const char *b = JS_ToCStringLen(ctx, &blen, argv[1]);
        if (!b) {
            rc = -1;
            goto done;
        }
        rc = url_parse(&base, b, blen, NULL, NULL);
        JS_FreeCString(ctx, b);
        if (rc < 0)
            goto done;
    }
    rc = url_parse(u, *in, *in_len, has_base ? &base : NULL, NULL);
done:
    url_fini(&base);
    if (rc < 0 && rc != DUR_EPARSE && rc != -1) {
        throw_rc(ctx, "URL", rc);
        rc = -1;
    }
    return rc;
}

static JSValue js_url_parse(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 1)
        return JS_ThrowTypeError(ctx, "urlParse: 1 argument required");
    url u;
    url_init(&u);
    const char *in = NULL;
    size_t in_len = 0;
    JSValue ret;
    int rc = parse_args(ctx, argc, argv, &u, &in, &in_len);
    if (rc == -1)
        ret = JS_EXCEPTION;
    else if (rc == DUR_EPARSE)
        ret = JS_NULL;
    else
        ret = components(ctx, &u, argv[0], in, in_len);
    if (in)
        JS_FreeCString(ctx, in);
    url_fini(&u);
    return ret;
}

static JSValue js_url_can_parse(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv)
{
    if (argc < 1)
        return JS_ThrowTypeError(ctx, "urlCanParse: 1 argument required");
    url u;
    url_init(&u);
    const char *in = NULL;
    size_t in_len = 0;
    int rc = parse_args(ctx, argc, argv, &u, &in, &in_len);
    if (in)
        JS_FreeCString(ctx, in);
    url_fini(&u);
    if (rc == -1)
        return JS_EXCEPTION;
    return JS_NewBool(ctx, rc == 0);
}

/* urlSet(href, part, value): the attribute array after running the setter. */
static JSValue js_url_set(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int32_t part;
    if (argc < 3 || JS_ToInt32(ctx, &part, argv[1]) < 0)
        return JS_EXCEPTION;
    if (part < 0 || part >= URL_PART_COUNT)
        return JS_ThrowRangeError(ctx, "urlSet: unknown part %d", part);
    url u;
    url_init(&u);
    size_t hlen, vlen;
    const char *value = NULL;
    const char *href = JS_ToCStringLen(ctx, &hlen, argv[0]);
    JSValue ret = JS_EXCEPTION;
    if (!href)
        goto done;
    if (!(value = JS_ToCStringLen(ctx, &vlen, argv[2])))
        goto done;
    int rc = url_parse(&u, href, hlen, NULL, NULL);
    if (rc == 0)
        rc = url_set(&u, (url_part)part, value, vlen);
    if (rc < 0) {
        /* The href came from our own serializer, so only a limit can fail here. */
        throw_rc(ctx, "URL setter", rc);
        goto done;
    }
    ret = components(ctx, &u, JS_UNDEFINED, NULL, 0);
done:
    if (href)
        JS_FreeCString(ctx, href);
    if (value)
        JS_FreeCString(ctx, value);
    url_fini(&u);
    return ret;
}

typedef struct form_acc {
    JSContext *ctx;
    JSValue arr;
    uint32_t count;
} form_acc;

static int on_pair(const char *name, size_t name_len, const char *value, size_t value_len,
                   void *ud)
{
    form_acc *a = ud;
    JSValue n = JS_NewStringLen(a->ctx, name, name_len);
    if (JS_IsException(n) ||
        JS_DefinePropertyValueUint32(a->ctx, a->arr, a->count++, n, JS_PROP_C_W_E) < 0)
        return -1;
    JSValue v = JS_NewStringLen(a->ctx, value, value_len);
    if (JS_IsException(v) ||
        JS_DefinePropertyValueUint32(a->ctx, a->arr, a->count++, v, JS_PROP_C_W_E) < 0)
        return -1;
    return 0;
}

static JSValue js_form_parse(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 1)
        return JS_ThrowTypeError(ctx, "formParse: 1 argument required");
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, argv[0]);
    if (!s)
        return JS_EXCEPTION;
    /* The string's lone surrogates become U+FFFD first (USVString conversion), so
     * that they count as one replacement each, not three. */
    buf clean;
    buf_init(&clean, URL_JS_STRING_MAX);
    const char *src = s;
    size_t src_len = len;
    form_acc a = {ctx, JS_NewArray(ctx), 0};
    JSValue ret = JS_EXCEPTION;
    int rc = 0;
    if (JS_IsException(a.arr))
        goto done;
    if (!url_utf8_valid(s, len)) {
        rc = url_utf8_sanitize(s, len, true, &clean);
        src = clean.ptr ? clean.ptr : "";
        src_len = clean.len;
    }
    if (rc == 0)
        rc = url_form_parse(src, src_len, on_pair, &a);
    if (rc == -1)
        goto done;
    if (rc < 0) {
        throw_rc(ctx, "URLSearchParams", rc);
        goto done;
    }
    ret = a.arr;
    a.arr = JS_UNDEFINED;
done:
    JS_FreeValue(ctx, a.arr);
    buf_fini(&clean);
    JS_FreeCString(ctx, s);
    return ret;
}

static JSValue js_form_serialize(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    if (argc < 1)
        return JS_ThrowTypeError(ctx, "formSerialize: 1 argument required");
    int64_t count;
    JSValue lv = JS_GetPropertyStr(ctx, argv[0], "length");
    if (JS_IsException(lv))
        return JS_EXCEPTION;
    int lrc = JS_ToInt64(ctx, &count, lv);
    JS_FreeValue(ctx, lv);
    if (lrc < 0)
        return JS_EXCEPTION;
    if (count > UINT32_MAX)
        return JS_ThrowRangeError(ctx, "formSerialize: list too long");
    buf out;
    buf_init(&out, URL_JS_STRING_MAX);
    JSValue ret = JS_EXCEPTION;
    for (int64_t i = 0; i < count; i++) {
        JSValue v = JS_GetPropertyUint32(ctx, argv[0], (uint32_t)i);
        if (JS_IsException(v))
            goto done;
        size_t len;
        const char *s = JS_ToCStringLen(ctx, &len, v);
        JS_FreeValue(ctx, v);
        if (!s)
            goto done;
        int rc = 0;
        if (i > 0)
            rc = buf_append(&out, (i & 1) ? "=" : "&", 1);
        if (rc == 0)
            rc = url_form_encode(s, len, &out);
        JS_FreeCString(ctx, s);
        if (rc < 0) {
            if (rc == DUR_ETOOBIG)
                JS_ThrowRangeError(ctx, "URLSearchParams.toString: result longer than %u bytes",
                                   URL_JS_STRING_MAX);
            else
                JS_ThrowOutOfMemory(ctx);
            goto done;
        }
    }
    ret = JS_NewStringLen(ctx, out.ptr ? out.ptr : "", out.len);
done:
    buf_fini(&out);
    return ret;
}

static const JSCFunctionListEntry url_natives[] = {
    JS_CFUNC_DEF("urlParse", 2, js_url_parse),
    JS_CFUNC_DEF("urlCanParse", 2, js_url_can_parse),
    JS_CFUNC_DEF("urlSet", 3, js_url_set),
    JS_CFUNC_DEF("formParse", 1, js_form_parse),
    JS_CFUNC_DEF("formSerialize", 1, js_form_serialize),
};

int web_url_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, url_natives,
                               sizeof url_natives / sizeof url_natives[0]);
    return 0;
}
