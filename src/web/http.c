/* http.c: the hot path between the HTTP server and JS Request/Response objects,
 * and the UTF-8 natives the body code uses (spec: workers.md WEB-1, WEB-2, WEB-6).
 *
 * Incoming: web_request_new hands method, URL, the body bytes and the headers
 * (lower-case names and values, as arguments) to N.makeIncomingRequest, which
 * builds the Request without re-validating what our own parser produced; its
 * Headers object is made only if the Worker reads request.headers. Outgoing:
 * N.responseParts returns [status, flat headers, body, statusText]; a string body's
 * bytes are used where they are (JS_ToCStringLen of an ASCII string copies nothing),
 * a custom statusText becomes the reason phrase; a stream body is handed back as
 * the stream, which worker.c sends chunk by chunk. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "js/bytes.h"
#include "js/rt.h"
#include "web/url_parse.h"
#include "web/web.h"


/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if it is invalid
 * (overlong, surrogate, past U+10FFFF or truncated). `bad` gets the length of the
 * maximal invalid subsequence to replace with one U+FFFD (WHATWG decode). */
static size_t utf8_seq(const uint8_t *s, size_t len, size_t *bad)
{
    uint8_t c = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    *bad = 1;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    for (size_t j = 1; j <= need; j++) {
        if (j >= len || s[j] < lo || s[j] > hi) {
            *bad = j;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

/* A JS string from UTF-8 bytes, each invalid sequence replaced by U+FFFD; JS_NULL
 * instead when `fatal` and the bytes are not valid UTF-8. */
JSValue web_utf8_decode(JSContext *ctx, const uint8_t *s, size_t len, bool fatal)
{
    size_t i = 0, bad;
    while (i < len) {
        size_t n = utf8_seq(s + i, len - i, &bad);
        if (!n)
            break;
        i += n;
    }
    if (i == len)
        return JS_NewStringLen(ctx, (const char *)s, len);
    if (fatal)
        return JS_NULL;
    /* Each invalid byte run becomes 3 bytes at most: bound the copy by 3 × len. */
    if (len > SIZE_MAX / 3)
        return JS_ThrowRangeError(ctx, "string too long");
    uint8_t *out = malloc(len * 3 + 1);
    if (!out)
        return JS_ThrowOutOfMemory(ctx);
    size_t o = 0;
    memcpy(out, s, i);
    o = i;
    while (i < len) {
        size_t n = utf8_seq(s + i, len - i, &bad);
        if (n) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            out[o++] = 0xEF;
            out[o++] = 0xBF;
            out[o++] = 0xBD;
            i += bad;
        }
    }
    JSValue r = JS_NewStringLen(ctx, (const char *)out, o);
    free(out);
    return r;
}

/* N.bodyUtf8Encode(string) → Uint8Array; lone surrogates become U+FFFD. */
static JSValue js_utf8_encode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, argc ? argv[0] : JS_UNDEFINED);
    if (!s)
        return JS_EXCEPTION;
    /* QuickJS writes lone surrogates as 3-byte sequences ED A0..BF xx: rewrite
     * them as EF BF BD (U+FFFD), the same length. */
    uint8_t *copy = NULL;
    for (size_t i = 0; i + 2 < len; i++) {
        if ((uint8_t)s[i] == 0xED && ((uint8_t)s[i + 1] & 0xE0) == 0xA0) {
            if (!copy) {
                copy = malloc(len ? len : 1);
                if (!copy) {
                    JS_FreeCString(ctx, s);
                    return JS_ThrowOutOfMemory(ctx);
                }
                memcpy(copy, s, len);
            }
            copy[i] = 0xEF;
            copy[i + 1] = 0xBF;
            copy[i + 2] = 0xBD;
            i += 2;
        }
    }
    JSValue ab = JS_NewArrayBufferCopy(ctx, copy ? copy : (const uint8_t *)s, len);
    free(copy);
    JS_FreeCString(ctx, s);
    if (JS_IsException(ab))
        return ab;
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue u8c = JS_GetPropertyStr(ctx, global, "Uint8Array");
    JS_FreeValue(ctx, global);
    JSValue u8 = JS_CallConstructor(ctx, u8c, 1, &ab);
    JS_FreeValue(ctx, u8c);
    JS_FreeValue(ctx, ab);
    return u8;
}


/* N.bodyUtf8Decode(bytes, fatal) → string, or null when fatal and invalid. */
static JSValue js_utf8_decode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 1)
        return JS_ThrowTypeError(ctx, "utf8Decode: bytes required");
    size_t len;
    JSValue hold;
    const uint8_t *p = js_bytes_of(ctx, argv[0], &len, &hold);
    if (!p) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return JS_ThrowTypeError(ctx, "The provided value is not of type '(ArrayBuffer or ArrayBufferView)'");
    }
    JSValue r = web_utf8_decode(ctx, p, len, argc > 1 && JS_ToBool(ctx, argv[1]));
    JS_FreeValue(ctx, hold);
    return r;
}

int web_http_install(JSContext *ctx, JSValueConst native)
{
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("bodyUtf8Encode", 1, js_utf8_encode),
        JS_CFUNC_DEF("bodyUtf8Decode", 2, js_utf8_decode),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}

/* ---- incoming requests ---- */

/* A header name as a lower-case JS string (Headers keeps names lower-case; the
 * Request's list is handed over as it is). */
static JSValue lower_name(JSContext *ctx, const char *name, size_t len)
{
    char small[64];
    char *out = len <= sizeof small ? small : malloc(len);
    if (!out)
        return JS_ThrowOutOfMemory(ctx);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
    }
    JSValue v = JS_NewStringLen(ctx, out, len);
    if (out != small)
        free(out);
    return v;
}

JSValue web_request_new(JSContext *ctx, const h1_request *req, const char *href, size_t href_len)
{
    /* makeIncomingRequest(method, url, body, name, value, …): the rest parameter
     * makes the header array in one allocation (no growing it element by element). */
    JSValue small[3 + 2 * 16];
    size_t argc = 3 + 2 * req->header_count;
    JSValue *args = argc <= sizeof small / sizeof small[0] ? small : malloc(argc * sizeof *args);
    if (!args)
        return JS_ThrowOutOfMemory(ctx);
    args[0] = JS_NewString(ctx, req->method);
    args[1] = JS_NewStringLen(ctx, href, href_len);
    args[2] = JS_NULL;
    bool failed = false;
    if (req->body_len > 0) {
        JSValue ab = JS_NewArrayBufferCopy(ctx, (const uint8_t *)req->body, req->body_len);
        JSValue global = JS_GetGlobalObject(ctx);
        JSValue u8c = JS_GetPropertyStr(ctx, global, "Uint8Array");
        JS_FreeValue(ctx, global);
        args[2] = JS_CallConstructor(ctx, u8c, 1, &ab);
        JS_FreeValue(ctx, u8c);
        JS_FreeValue(ctx, ab);
    }
    for (size_t i = 0; i < req->header_count; i++) {
        const h1_header *h = &req->headers[i];
        args[3 + 2 * i] = lower_name(ctx, h->name, h->name_len);
        args[4 + 2 * i] = web_utf8_decode(ctx, (const uint8_t *)h->value, h->value_len, false);
    }
    for (size_t i = 0; i < argc; i++)
        failed |= JS_IsException(args[i]);
    JSValue r = JS_EXCEPTION;
    if (!failed) {
        JSValue make = JS_GetPropertyStr(ctx, js_native(ctx), "makeIncomingRequest");
        r = JS_Call(ctx, make, JS_UNDEFINED, (int)argc, args);
        JS_FreeValue(ctx, make);
    }
    for (size_t i = 0; i < argc; i++)
        JS_FreeValue(ctx, args[i]);
    if (args != small)
        free(args);
    return r;
}

bool web_url_parses(const char *s, size_t len)
{
    url u;
    url_init(&u);
    int rc = url_parse(&u, s, len, NULL, NULL);
    url_fini(&u);
    return rc == 0;
}

/* ---- outgoing responses ---- */

static int take_body(JSContext *ctx, web_response_parts *p, JSValueConst body)
{
    if (JS_IsNull(body) || JS_IsUndefined(body)) {
        p->body = "";
        p->body_len = 0;
        return 0;
    }
    if (JS_IsString(body)) {
        size_t len;
        /* Kept as it is until fini (an ASCII string's own bytes: no copy). */
        const char *s = JS_ToCStringLen(ctx, &len, body);
        if (!s)
            return -1;
        p->body_cstr = s;
        p->body = s;
        p->body_len = len;
        return 0;
    }
    size_t len;
    JSValue hold;
    const uint8_t *b = js_bytes_of(ctx, body, &len, &hold);
    if (!b)
        return -1;
    p->hold = hold;
    p->body = (const char *)b;
    p->body_len = len;
    return 0;
}

/* The custom statusText as the bytes of its ByteString (each char 0..255 one byte:
 * QuickJS gives U+0080..U+00FF as two UTF-8 bytes). NULL for "" (standard phrase). */
static int take_reason(JSContext *ctx, web_response_parts *p, JSValueConst st)
{
    if (!JS_IsString(st))
        return 0;
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, st);
    if (!s)
        return -1;
    if (len > 0) {
        p->reason = malloc(len);
        if (!p->reason) {
            JS_FreeCString(ctx, s);
            JS_ThrowOutOfMemory(ctx);
            return -1;
        }
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = (unsigned char)s[i];
            if ((ch == 0xC2 || ch == 0xC3) && i + 1 < len) { /* U+0080..U+00FF */
                p->reason[o++] = (char)(((ch & 0x03) << 6) | ((unsigned char)s[++i] & 0x3F));
                continue;
            }
            p->reason[o++] = (char)ch; /* Response allows nothing else above 0x7F */
        }
        p->reason_len = o;
    }
    JS_FreeCString(ctx, s);
    return 0;
}

int web_response_parts_get(JSContext *ctx, JSValueConst v, web_response_parts *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->hold = JS_UNDEFINED;
    out->body_promise = JS_UNDEFINED;
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), "responseParts");
    JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, &v);
    JS_FreeValue(ctx, fn);
    if (JS_IsException(r))
        return -1;
    if (JS_IsString(r)) {
        const char *s = JS_ToCString(ctx, r);
        err_setf(e, DUR_ETYPE, "%s", s ? s : "the handler did not return a Response");
        JS_FreeCString(ctx, s);
        JS_FreeValue(ctx, r);
        return DUR_ETYPE;
    }
    JSValue st = JS_GetPropertyUint32(ctx, r, 0);
    JSValue flat = JS_GetPropertyUint32(ctx, r, 1);
    JSValue body = JS_GetPropertyUint32(ctx, r, 2);
    JSValue reason = JS_GetPropertyUint32(ctx, r, 3);
    JS_FreeValue(ctx, r);
    int reason_rc = take_reason(ctx, out, reason);
    JS_FreeValue(ctx, reason);
    int rc = -1;
    int32_t status = 500;
    uint32_t n = 0;
    JSValue lenv = JS_GetPropertyStr(ctx, flat, "length");
    if (reason_rc < 0 || JS_ToInt32(ctx, &status, st) < 0 || JS_ToUint32(ctx, &n, lenv) < 0)
        goto done;
    out->status = status;
    size_t count = n / 2;
    n = (uint32_t)(2 * count);
    /* Names and values are copied into one block; the header array points into it. */
    const char *small_s[32];
    size_t small_l[32];
    const char **strs = n <= 32 ? small_s : calloc(n, sizeof *strs);
    size_t *lens = n <= 32 ? small_l : calloc(n, sizeof *lens);
    bool ok = strs && lens;
    uint32_t got = 0;
    size_t total = 0;
    for (; ok && got < n; got++) {
        JSValue s = JS_GetPropertyUint32(ctx, flat, got);
        strs[got] = JS_ToCStringLen(ctx, &lens[got], s);
        JS_FreeValue(ctx, s);
        if (!strs[got])
            break;
        total += lens[got] + 1;
    }
    bool js_failed = ok && got < n;   /* exception pending from ToString */
    ok = ok && !js_failed;
    if (ok) {
        out->strings = malloc(total ? total : 1);
        out->headers = calloc(count ? count : 1, sizeof *out->headers);
        ok = out->strings && out->headers;
    }
    if (ok) {
        size_t off = 0;
        for (uint32_t i = 0; i < n; i++) {
            char *dst = out->strings + off;
            memcpy(dst, strs[i], lens[i]);
            dst[lens[i]] = '\0';
            off += lens[i] + 1;
            h1_header *h = &out->headers[i / 2];
            if (i % 2 == 0) {
                h->name = dst;
                h->name_len = lens[i];
            } else {
                h->value = dst;
                h->value_len = lens[i];
            }
        }
        out->header_count = count;
    }
    for (uint32_t i = 0; strs && i < got; i++)
        JS_FreeCString(ctx, strs[i]);
    if (strs != small_s)
        free(strs);
    if (lens != small_l)
        free(lens);
    if (!ok) {
        free(out->strings);
        free(out->headers);
        out->strings = NULL;
        out->headers = NULL;
        if (!js_failed)
            JS_ThrowOutOfMemory(ctx);
        goto done;
    }
    if (JS_IsObject(body) && !JS_IsArray(ctx, body)) {
        JSValue get_reader = JS_GetPropertyStr(ctx, body, "getReader");
        bool is_stream = JS_IsFunction(ctx, get_reader);
        JS_FreeValue(ctx, get_reader);
        if (is_stream) {
            out->body_pending = true;
            out->body_promise = JS_DupValue(ctx, body);
            rc = 0;
            goto done;
        }
    }
    rc = take_body(ctx, out, body);
done:
    if (rc < 0) {
        free(out->reason);
        out->reason = NULL;
        out->reason_len = 0;
    }
    JS_FreeValue(ctx, lenv);
    JS_FreeValue(ctx, st);
    JS_FreeValue(ctx, flat);
    JS_FreeValue(ctx, body);
    return rc;
}

int web_response_parts_set_body(JSContext *ctx, web_response_parts *p, JSValueConst ab)
{
    JS_FreeValue(ctx, p->body_promise);
    p->body_promise = JS_UNDEFINED;
    p->body_pending = false;
    return take_body(ctx, p, ab);
}

void web_response_parts_fini(JSContext *ctx, web_response_parts *p)
{
    free(p->reason);
    free(p->headers);
    free(p->strings);
    if (p->body_cstr)
        JS_FreeCString(ctx, p->body_cstr);
    JS_FreeValue(ctx, p->hold);
    JS_FreeValue(ctx, p->body_promise);
    memset(p, 0, sizeof *p);
    p->hold = JS_UNDEFINED;
    p->body_promise = JS_UNDEFINED;
}
