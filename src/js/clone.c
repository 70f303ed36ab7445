/* clone.c: the structured-clone serializer (see clone.h) and `structuredClone`.
 *
 * Spec: storage.md SER-1..6, objects.md RPC-8, RPC-10, ID-12, workers.md WEB-12.
 * Tuned for RPC: small argument lists of primitives, plain objects and arrays,
 * written and read once per call. The writer appends straight into the caller's
 * bounded buf; its only other allocations are the back-reference table once a
 * value holds more than CLONE_INLINE_OBJS objects, the property lists QuickJS
 * hands out, and the snapshot of each Map/Set.
 *
 * Format, version 1. Stable: storage keeps it on disk (SER-6), so a change means a
 * new version number and a reader that still reads 1.
 *
 *   encoding := version:u8 (= 1) value          nothing may follow the value
 *   varint   := unsigned LEB128, at most 10 bytes
 *   str      := varint byte-length, WTF-8 bytes (UTF-8 in which a lone surrogate
 *               is the 3-byte form of its code unit; paired surrogates are always
 *               the 4-byte form of the code point)
 *   value :=
 *     '_' undefined          '0' null          'T' true          'F' false
 *     'i' varint             int32, zigzag (n<<1 ^ n>>31); any number that is an
 *                            int32 and not -0 is written this way
 *     'd' 8 bytes            float64, little-endian; NaN is written as 7ff8...0
 *     'n' str                BigInt, decimal digits with an optional '-'
 *     's' str                string
 *     'r' varint             back-reference to the object of that index
 *   and the objects. Every object tag below gives the object the next index
 *   (0, 1, 2, … in the order the tags appear), before its contents are read, so
 *   contents may refer back to their container (cycles):
 *     'o' varint n, n × (str key, value)                     plain object
 *     'A' varint length L, L × (value | 'h' for a hole),
 *         varint m, m × (str key, value)                      dense array
 *     'a' varint length L, varint n, n × (varint index, value) with indices
 *         strictly increasing and < L, varint m, m × (str key, value)
 *                                                            sparse array
 *         (the m pairs are the array's other enumerable own properties)
 *     'M' varint n, n × (value key, value)                   Map, insertion order
 *     'S' varint n, n × value                                 Set, insertion order
 *     'D' 8 bytes                                             Date, float64 LE
 *     'R' str source, str flags                               RegExp
 *     'B' varint n, n bytes                                   ArrayBuffer
 *     'V' kind:u8, value (an ArrayBuffer: 'B' or 'r'), varint byteOffset,
 *         varint length (elements; bytes for DataView)        typed array/DataView
 *         kind: 0 Int8 1 Uint8 2 Uint8Clamped 3 Int16 4 Uint16 5 Int32 6 Uint32
 *               7 Float32 8 Float64 9 BigInt64 10 BigUint64 11 DataView
 *     'E' kind:u8, message ('_' | 's' str), stack ('_' | 's' str)     Error
 *         kind: 0 Error 1 EvalError 2 RangeError 3 ReferenceError 4 SyntaxError
 *               5 TypeError 6 URIError 7 AggregateError
 *     'X' str name, str message, stack ('_' | 's' str)       DOMException
 *     'b' one primitive value ('i' 'd' 's' 'T' 'F' 'n')      boxed primitive
 *   Objects nest at most JS_CLONE_DEPTH_MAX deep.
 *
 * What is kept and what is not: plain objects and arrays keep their own enumerable
 * string-keyed properties in the engine's order (indices first, then insertion
 * order); symbol keys, non-enumerable properties, property attributes and the
 * prototype are not kept. Arrays keep length, holes and extra properties. Errors
 * keep name (one of the eight above; anything else becomes "Error"), the own
 * `message` and `stack`; other properties (cause, code) are dropped. Getters are
 * called and their values stored. A property deleted by an earlier getter during
 * the walk is stored as undefined.
 *
 * Why our own format and walker: QuickJS's JS_WriteObject is not a structured clone
 * (it would serialize functions and bytecode and has no stability promise), and no
 * Debian library serializes QuickJS values.
 *
 * Engine internals we rely on (QuickJS 2021-03-27 is pinned by its sha512 in
 * tools/deps): this QuickJS has no public way to ask an object's class, so
 * obj_class() reads the 16-bit class id at byte 6 of the object header, and the
 * ids are the engine's built-in class enum (CLS_* below); array-index atoms below
 * 2^31 are tagged with bit 31. js_clone_install() checks both at start-up and
 * fails loudly if a different engine is linked; tests check every class. */
#include "js/clone.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "js/rt.h"

/* QuickJS 2021-03-27 built with CONFIG_BIGNUM: the built-in class ids. */
enum {
    CLS_OBJECT = 1, CLS_ARRAY = 2, CLS_ERROR = 3, CLS_NUMBER = 4, CLS_STRING = 5,
    CLS_BOOLEAN = 6, CLS_SYMBOL = 7, CLS_ARGUMENTS = 8, CLS_MAPPED_ARGUMENTS = 9,
    CLS_DATE = 10, CLS_REGEXP = 18, CLS_ARRAY_BUFFER = 19, CLS_SHARED_ARRAY_BUFFER = 20,
    CLS_UINT8C_ARRAY = 21, CLS_INT8_ARRAY = 22, CLS_UINT8_ARRAY = 23, CLS_INT16_ARRAY = 24,
    CLS_UINT16_ARRAY = 25, CLS_INT32_ARRAY = 26, CLS_UINT32_ARRAY = 27,
    CLS_BIG_INT64_ARRAY = 28, CLS_BIG_UINT64_ARRAY = 29, CLS_FLOAT32_ARRAY = 30,
    CLS_FLOAT64_ARRAY = 31, CLS_DATAVIEW = 32, CLS_BIG_INT = 33, CLS_MAP = 38,
    CLS_SET = 39, CLS_WEAKMAP = 40, CLS_WEAKSET = 41, CLS_PROXY = 48, CLS_PROMISE = 49,
    CLS_INIT_COUNT = 58,
};

#define ATOM_TAG_INT 0x80000000u
#define CLONE_INLINE_OBJS 16
#define CLONE_DESCRIBE_MAX 80
/* structuredClone has no size limit in the spec; the runtime's memory limit is the
 * real bound, this one only keeps the length arithmetic far from overflow. */
#define CLONE_STRUCTURED_BYTES_MAX ((size_t)1 << 30)
/* Private flag: errors name structuredClone as the API that failed. */
#define CLONE_API_STRUCTURED 0x100

enum { VIEW_DATAVIEW = 11, VIEW_KIND_COUNT = 12, ERROR_KIND_COUNT = 8 };

static const char *const error_names[ERROR_KIND_COUNT] = {
    "Error", "EvalError", "RangeError", "ReferenceError",
    "SyntaxError", "TypeError", "URIError", "AggregateError",
};

static const char *const view_names[VIEW_KIND_COUNT] = {
    "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
    "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array",
    "BigUint64Array", "DataView",
};

static const uint8_t view_elem_bytes[VIEW_KIND_COUNT] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 1};

static int obj_class(JSValueConst v)
{
    uint16_t id;
    memcpy(&id, (const uint8_t *)JS_VALUE_GET_PTR(v) + 6, sizeof id);
    return id;
}

static int view_kind_of_class(int cls)
{
    switch (cls) {
    case CLS_INT8_ARRAY: return 0;
    case CLS_UINT8_ARRAY: return 1;
    case CLS_UINT8C_ARRAY: return 2;
    case CLS_INT16_ARRAY: return 3;
    case CLS_UINT16_ARRAY: return 4;
    case CLS_INT32_ARRAY: return 5;
    case CLS_UINT32_ARRAY: return 6;
    case CLS_FLOAT32_ARRAY: return 7;
    case CLS_FLOAT64_ARRAY: return 8;
    case CLS_BIG_INT64_ARRAY: return 9;
    case CLS_BIG_UINT64_ARRAY: return 10;
    case CLS_DATAVIEW: return VIEW_DATAVIEW;
    default: return -1;
    }
}

/* Frees what JS_GetOwnPropertyNames returned. */
static void free_props(JSContext *ctx, JSPropertyEnum *tab, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        JS_FreeAtom(ctx, tab[i].atom);
    js_free(ctx, tab);
}

/* Discards a pending exception on a path that replaces it with a better one (or
 * only wanted a best-effort description). */
static bool drop_exception(JSContext *ctx)
{
    JSValue e = JS_GetException(ctx);
    bool had = !JS_IsNull(e);
    JS_FreeValue(ctx, e);
    return had;
}

/* JS_NewFloat64 of quickjs.h casts NaN and out-of-range doubles to int, which
 * UBSan rightly reports; this checks the range first. */
static JSValue new_number(JSContext *ctx, double d)
{
    if (d >= INT32_MIN && d <= INT32_MAX && d == (int32_t)d && !(d == 0 && signbit(d)))
        return JS_NewInt32(ctx, (int32_t)d);
    return __JS_NewFloat64(ctx, d);
}

static JSValue global_get(JSContext *ctx, const char *name)
{
    JSValue g = JS_GetGlobalObject(ctx);
    JSValue v = JS_GetPropertyStr(ctx, g, name);
    JS_FreeValue(ctx, g);
    return v;
}

/* ---------------------------------------------------------------- writer ---- */

typedef struct wslot {
    JSValue obj;          /* a reference we hold, so the address cannot be reused */
    uint32_t index;
} wslot;

typedef struct writer {
    JSContext *ctx;
    buf *out;
    int flags;
    int depth;
    uint32_t obj_count;
    uint32_t cap;         /* slots in tab, a power of two */
    wslot *tab;           /* open addressing on the object's address */
    JSValue object_proto; /* intrinsic Object.prototype, fetched on first need */
    wslot inline_tab[CLONE_INLINE_OBJS];
} writer;

static int write_value(writer *w, JSValueConst v);

static int buf_failed(writer *w, int rc)
{
    if (rc == DUR_ETOOBIG)
        JS_ThrowRangeError(w->ctx, "value too large: more than %zu bytes", w->out->max);
    else
        JS_ThrowOutOfMemory(w->ctx);
    return -1;
}

static int put(writer *w, const void *p, size_t n)
{
    int rc = buf_append(w->out, p, n);
    return rc < 0 ? buf_failed(w, rc) : 0;
}

static int put_u8(writer *w, uint8_t b)
{
    buf *o = w->out;
    /* Fast path: room already allocated and within the bound. */
    if (o->ptr && o->len < o->cap && o->len < o->max) {
        o->ptr[o->len++] = (char)b;
        o->ptr[o->len] = '\0';
        return 0;
    }
    return put(w, &b, 1);
}

static int put_varint(writer *w, uint64_t n)
{
    uint8_t tmp[10];
    size_t k = 0;
    while (n >= 0x80) {
        tmp[k++] = (uint8_t)(n | 0x80);
        n >>= 7;
    }
    tmp[k++] = (uint8_t)n;
    return put(w, tmp, k);
}

static int put_tag_varint(writer *w, char tag, uint64_t n)
{
    if (put_u8(w, (uint8_t)tag) < 0)
        return -1;
    return put_varint(w, n);
}

static int put_f64(writer *w, double d)
{
    uint64_t bits;
    if (isnan(d))
        bits = UINT64_C(0x7ff8000000000000);
    else
        memcpy(&bits, &d, sizeof bits);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(bits >> (8 * i));
    return put(w, le, sizeof le);
}

/* Writes `s` (any value; strings as they are, others through ToString) as str. */
static int put_str(writer *w, JSValueConst s)
{
    size_t n;
    const char *p = JS_ToCStringLen(w->ctx, &n, s);
    if (!p)
        return -1;
    int rc = put_varint(w, n);
    if (rc == 0)
        rc = put(w, p, n);
    JS_FreeCString(w->ctx, p);
    return rc;
}

static int put_atom(writer *w, JSAtom a)
{
    if (a & ATOM_TAG_INT) {
        char num[16];
        int n = snprintf(num, sizeof num, "%u", (unsigned)(a & ~ATOM_TAG_INT));
        if (put_varint(w, (uint64_t)n) < 0)
            return -1;
        return put(w, num, (size_t)n);
    }
    JSValue s = JS_AtomToString(w->ctx, a);
    if (JS_IsException(s))
        return -1;
    int rc = put_str(w, s);
    JS_FreeValue(w->ctx, s);
    return rc;
}

/* A short description of `v` for DataCloneError messages, as browsers word them:
 * the source of a function, Symbol(desc), or #<Constructor>. Best effort: whatever
 * it calls may throw, and that exception is dropped in favour of the clone error. */
static void describe(JSContext *ctx, JSValueConst v, char *out, size_t out_len)
{
    const char *fallback = "#<Object>";
    snprintf(out, out_len, "%s", fallback);
    if (JS_IsSymbol(v)) {
        JSValue d = JS_GetPropertyStr(ctx, v, "description");
        const char *s = JS_IsString(d) ? JS_ToCString(ctx, d) : NULL;
        snprintf(out, out_len, "Symbol(%.*s)", CLONE_DESCRIBE_MAX, s ? s : "");
        if (s)
            JS_FreeCString(ctx, s);
        JS_FreeValue(ctx, d);
    } else if (JS_IsFunction(ctx, v) && obj_class(v) != CLS_PROXY) {
        size_t n;
        const char *s = JS_ToCStringLen(ctx, &n, v);
        if (s) {
            snprintf(out, out_len, "%.*s%s", CLONE_DESCRIBE_MAX, s,
                     n > CLONE_DESCRIBE_MAX ? "..." : "");
            JS_FreeCString(ctx, s);
        }
    } else if (JS_IsObject(v) && obj_class(v) != CLS_PROXY) {
        JSValue proto = JS_GetPrototype(ctx, v);
        JSValue c = JS_IsObject(proto) ? JS_GetPropertyStr(ctx, proto, "constructor")
                                       : JS_UNDEFINED;
        JSValue name = JS_IsObject(c) ? JS_GetPropertyStr(ctx, c, "name") : JS_UNDEFINED;
        const char *s = JS_IsString(name) ? JS_ToCString(ctx, name) : NULL;
        if (s && s[0])
            snprintf(out, out_len, "#<%.*s>", CLONE_DESCRIBE_MAX, s);
        if (s)
            JS_FreeCString(ctx, s);
        JS_FreeValue(ctx, name);
        JS_FreeValue(ctx, c);
        JS_FreeValue(ctx, proto);
    }
    drop_exception(ctx);
}

static int clone_error(writer *w, JSValueConst v, const char *why)
{
    char what[CLONE_DESCRIBE_MAX + 16];
    describe(w->ctx, v, what, sizeof what);
    const char *api = (w->flags & CLONE_API_STRUCTURED) ? "Failed to execute 'structuredClone': "
                                                        : "";
    js_throw_dom(w->ctx, "DataCloneError", "%s%s %s", api, what, why);
    return -1;
}

static int detached_error(writer *w)
{
    const char *api = (w->flags & CLONE_API_STRUCTURED) ? "Failed to execute 'structuredClone': "
                                                        : "";
    js_throw_dom(w->ctx, "DataCloneError", "%sAn ArrayBuffer is detached and could not be cloned.",
                 api);
    return -1;
}

static uint32_t slot_hash(const void *p, uint32_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p >> 4;
    x *= UINT64_C(0x9e3779b97f4a7c15);
    return (uint32_t)(x >> 32) & (cap - 1);
}

/* Returns the index of `v` if it was seen, else -1. */
static int64_t seen_index(writer *w, JSValueConst v)
{
    void *p = JS_VALUE_GET_PTR(v);
    for (uint32_t i = slot_hash(p, w->cap);; i = (i + 1) & (w->cap - 1)) {
        JSValue o = w->tab[i].obj;
        if (JS_IsUndefined(o))
            return -1;
        if (JS_VALUE_GET_PTR(o) == p)
            return w->tab[i].index;
    }
}

static int remember(writer *w, JSValueConst v)
{
    if ((w->obj_count + 1) * 2 > w->cap) {
        /* Keep the load under one half; grow by doubling. */
        uint32_t ncap = w->cap * 2;
        wslot *nt = js_malloc(w->ctx, sizeof *nt * ncap);
        if (!nt)
            return -1;
        for (uint32_t i = 0; i < ncap; i++)
            nt[i].obj = JS_UNDEFINED;
        for (uint32_t i = 0; i < w->cap; i++) {
            if (JS_IsUndefined(w->tab[i].obj))
                continue;
            uint32_t j = slot_hash(JS_VALUE_GET_PTR(w->tab[i].obj), ncap);
            while (!JS_IsUndefined(nt[j].obj))
                j = (j + 1) & (ncap - 1);
            nt[j] = w->tab[i];
        }
        if (w->tab != w->inline_tab)
            js_free(w->ctx, w->tab);
        w->tab = nt;
        w->cap = ncap;
    }
    uint32_t i = slot_hash(JS_VALUE_GET_PTR(v), w->cap);
    while (!JS_IsUndefined(w->tab[i].obj))
        i = (i + 1) & (w->cap - 1);
    w->tab[i].obj = JS_DupValue(w->ctx, v);
    w->tab[i].index = w->obj_count++;
    return 0;
}

static void writer_fini(writer *w)
{
    for (uint32_t i = 0; i < w->cap; i++)
        JS_FreeValue(w->ctx, w->tab[i].obj);
    if (w->tab != w->inline_tab)
        js_free(w->ctx, w->tab);
    JS_FreeValue(w->ctx, w->object_proto);
}

/* Writes the (key, value) pairs of the listed properties, `count` first. */
static int write_pairs(writer *w, JSValueConst obj, JSPropertyEnum *tab, uint32_t n,
                       const bool *skip, uint32_t count)
{
    if (put_varint(w, count) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (skip && skip[i])
            continue;
        if (put_atom(w, tab[i].atom) < 0)
            return -1;
        JSValue val = JS_GetProperty(w->ctx, obj, tab[i].atom);
        if (JS_IsException(val))
            return -1;
        int rc = write_value(w, val);
        JS_FreeValue(w->ctx, val);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int write_plain(writer *w, JSValueConst obj)
{
    JSPropertyEnum *tab;
    uint32_t n;
    if (JS_GetOwnPropertyNames(w->ctx, &tab, &n, obj, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0)
        return -1;
    int rc = put_u8(w, 'o');
    if (rc == 0)
        rc = write_pairs(w, obj, tab, n, NULL, n);
    free_props(w->ctx, tab, n);
    return rc;
}

/* Is atom `a` an array index (a canonical decimal below 2^32 - 1)? */
static bool atom_index(JSContext *ctx, JSAtom a, uint32_t *idx)
{
    if (a & ATOM_TAG_INT) {
        *idx = a & ~ATOM_TAG_INT;
        return true;
    }
    /* Indices from 2^31 up are string atoms in QuickJS. */
    const char *s = JS_AtomToCString(ctx, a);
    if (!s) {
        drop_exception(ctx);
        return false;
    }
    size_t n = strlen(s);
    bool ok = n == 10;   /* 2147483648 .. 4294967294 */
    uint64_t x = 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    JS_FreeCString(ctx, s);
    if (!ok || x >= UINT32_MAX)
        return false;
    *idx = (uint32_t)x;
    return true;
}

/* Arrays: dense ('A', a hole costs one byte) when at most half the slots are
 * holes, sparse ('a', explicit indices) otherwise. QuickJS lists index keys first,
 * in increasing order; the writer checks that instead of trusting it. */
static int write_array(writer *w, JSValueConst arr)
{
    JSContext *ctx = w->ctx;
    uint32_t len;
    JSValue lv = JS_GetPropertyStr(ctx, arr, "length");
    if (JS_IsException(lv) || JS_ToUint32(ctx, &len, lv) < 0) {
        JS_FreeValue(ctx, lv);
        return -1;
    }
    JS_FreeValue(ctx, lv);
    JSPropertyEnum *tab;
    uint32_t n;
    if (JS_GetOwnPropertyNames(ctx, &tab, &n, arr, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0)
        return -1;
    int rc = -1;
    bool *is_index = js_malloc(ctx, n ? n : 1);
    uint32_t *idx = js_malloc(ctx, sizeof *idx * (n ? n : 1));
    if (!is_index || !idx)
        goto done;
    uint32_t k = 0;            /* index keys */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x;
        is_index[i] = atom_index(ctx, tab[i].atom, &x) && x < len;
        if (!is_index[i])
            continue;
        if (k > 0 && x <= idx[k - 1]) {
            JS_ThrowInternalError(ctx, "structured clone: array keys out of order");
            goto done;
        }
        idx[k++] = x;
    }
    bool dense = (uint64_t)len - k <= k;
    if (put_tag_varint(w, dense ? 'A' : 'a', len) < 0)
        goto done;
    if (!dense && put_varint(w, k) < 0)
        goto done;
    uint32_t c = 0, pos = 0;    /* c: next index key; pos: its slot in tab */
    for (uint32_t i = 0; dense ? i < len : c < k; i++) {
        while (pos < n && !is_index[pos])
            pos++;
        if (c < k && (!dense || idx[c] == i)) {
            if (!dense && put_varint(w, idx[c]) < 0)
                goto done;
            JSValue val = JS_GetProperty(ctx, arr, tab[pos].atom);
            if (JS_IsException(val))
                goto done;
            int r = write_value(w, val);
            JS_FreeValue(ctx, val);
            if (r < 0)
                goto done;
            c++;
            pos++;
        } else if (put_u8(w, 'h') < 0) {
            goto done;
        }
    }
    rc = write_pairs(w, arr, tab, n, is_index, n - k);
done:
    js_free(ctx, is_index);
    js_free(ctx, idx);
    free_props(ctx, tab, n);
    return rc;
}

/* Copies the entries of a Map (pairs) or Set into a JS-heap vector first, so a
 * getter that changes the collection while it is written cannot make the count
 * and the entries disagree (browsers snapshot the same way). */
static int write_collection(writer *w, JSValueConst coll, bool is_map)
{
    JSContext *ctx = w->ctx;
    int rc = -1;
    JSValue *vec = NULL;
    size_t count = 0, cap = 0;
    JSValue it = JS_UNDEFINED, next = JS_UNDEFINED;
    JSValue fn = JS_GetPropertyStr(ctx, coll, is_map ? "entries" : "values");
    if (JS_IsException(fn))
        return -1;
    it = JS_Call(ctx, fn, coll, 0, NULL);
    JS_FreeValue(ctx, fn);
    if (JS_IsException(it))
        return -1;
    next = JS_GetPropertyStr(ctx, it, "next");
    if (JS_IsException(next))
        goto done;
    for (;;) {
        JSValue r = JS_Call(ctx, next, it, 0, NULL);
        if (JS_IsException(r))
            goto done;
        JSValue d = JS_GetPropertyStr(ctx, r, "done");
        int done = JS_ToBool(ctx, d);
        JS_FreeValue(ctx, d);
        if (done != 0) {
            JS_FreeValue(ctx, r);
            if (done < 0)
                goto done;
            break;
        }
        JSValue e = JS_GetPropertyStr(ctx, r, "value");
        JS_FreeValue(ctx, r);
        if (JS_IsException(e))
            goto done;
        if (count + 2 > cap) {
            size_t ncap = cap ? cap * 2 : 16;
            JSValue *nv = js_realloc(ctx, vec, sizeof *nv * ncap);
            if (!nv) {
                JS_FreeValue(ctx, e);
                goto done;
            }
            vec = nv;
            cap = ncap;
        }
        if (is_map) {
            vec[count] = JS_GetPropertyUint32(ctx, e, 0);
            vec[count + 1] = JS_GetPropertyUint32(ctx, e, 1);
            JS_FreeValue(ctx, e);
            count += 2;
            if (JS_IsException(vec[count - 2]) || JS_IsException(vec[count - 1]))
                goto done;
        } else {
            vec[count++] = e;
        }
    }
    if (put_tag_varint(w, is_map ? 'M' : 'S', is_map ? count / 2 : count) < 0)
        goto done;
    for (size_t i = 0; i < count; i++)
        if (write_value(w, vec[i]) < 0)
            goto done;
    rc = 0;
done:
    for (size_t i = 0; i < count; i++)
        JS_FreeValue(ctx, vec[i]);
    js_free(ctx, vec);
    JS_FreeValue(ctx, next);
    JS_FreeValue(ctx, it);
    return rc;
}

/* Calls method `name` of `obj` (looked up on the object, as a subclass would). */
static JSValue call_method(JSContext *ctx, JSValueConst obj, const char *name)
{
    JSValue fn = JS_GetPropertyStr(ctx, obj, name);
    if (JS_IsException(fn))
        return fn;
    JSValue r = JS_Call(ctx, fn, obj, 0, NULL);
    JS_FreeValue(ctx, fn);
    return r;
}

static int write_date(writer *w, JSValueConst v)
{
    double t;
    JSValue tv = call_method(w->ctx, v, "getTime");
    if (JS_IsException(tv))
        return -1;
    int rc = JS_ToFloat64(w->ctx, &t, tv);
    JS_FreeValue(w->ctx, tv);
    if (rc < 0 || put_u8(w, 'D') < 0)
        return -1;
    return put_f64(w, t);
}

static int write_regexp(writer *w, JSValueConst v)
{
    JSValue src = JS_GetPropertyStr(w->ctx, v, "source");
    JSValue fl = JS_IsException(src) ? JS_EXCEPTION : JS_GetPropertyStr(w->ctx, v, "flags");
    int rc = -1;
    if (!JS_IsException(fl) && put_u8(w, 'R') == 0 && put_str(w, src) == 0 && put_str(w, fl) == 0)
        rc = 0;
    JS_FreeValue(w->ctx, src);
    JS_FreeValue(w->ctx, fl);
    return rc;
}

static int write_array_buffer(writer *w, JSValueConst v)
{
    size_t n;
    uint8_t *p = JS_GetArrayBuffer(w->ctx, &n, v);
    if (!p && drop_exception(w->ctx))
        return detached_error(w);
    if (put_tag_varint(w, 'B', n) < 0)
        return -1;
    return put(w, p, n);
}

static int write_view(writer *w, JSValueConst v, int kind)
{
    JSContext *ctx = w->ctx;
    size_t off = 0, bytes = 0, bpe = 1;
    JSValue ab;
    if (kind != VIEW_DATAVIEW) {
        ab = JS_GetTypedArrayBuffer(ctx, v, &off, &bytes, &bpe);
        if (JS_IsException(ab)) {
            drop_exception(ctx);
            return detached_error(w);
        }
    } else {
        /* No C accessor for DataView in this QuickJS: use its getters, then check
         * what they said against the buffer. */
        int64_t o, l;
        ab = JS_GetPropertyStr(ctx, v, "buffer");
        JSValue ov = JS_GetPropertyStr(ctx, v, "byteOffset");
        JSValue lv = JS_GetPropertyStr(ctx, v, "byteLength");
        int bad = JS_IsException(ab) || JS_ToInt64(ctx, &o, ov) < 0 || JS_ToInt64(ctx, &l, lv) < 0;
        JS_FreeValue(ctx, ov);
        JS_FreeValue(ctx, lv);
        if (bad) {
            JS_FreeValue(ctx, ab);
            return -1;
        }
        size_t ab_len = 0;
        if (!JS_IsObject(ab) || obj_class(ab) != CLS_ARRAY_BUFFER ||
            !JS_GetArrayBuffer(ctx, &ab_len, ab) || o < 0 || l < 0 ||
            (uint64_t)o > ab_len || (uint64_t)l > ab_len - (uint64_t)o) {
            drop_exception(ctx);
            JS_FreeValue(ctx, ab);
            return detached_error(w);
        }
        off = (size_t)o;
        bytes = (size_t)l;
    }
    int rc = -1;
    if (put_u8(w, 'V') == 0 && put_u8(w, (uint8_t)kind) == 0 && write_value(w, ab) == 0 &&
        put_varint(w, off) == 0 && put_varint(w, bytes / bpe) == 0)
        rc = 0;
    JS_FreeValue(ctx, ab);
    return rc;
}

/* Writes a message or stack: '_' when absent (or not a string, for stack). */
static int put_opt_str(writer *w, JSValueConst s)
{
    if (JS_IsUndefined(s))
        return put_u8(w, '_');
    if (put_u8(w, 's') < 0)
        return -1;
    return put_str(w, s);
}

/* The own data property `message`, or undefined. */
static JSValue own_message(JSContext *ctx, JSValueConst error_obj)
{
    JSPropertyDescriptor d;
    JSAtom a = JS_NewAtom(ctx, "message");
    int has = JS_GetOwnProperty(ctx, &d, error_obj, a);
    JS_FreeAtom(ctx, a);
    if (has <= 0)
        return has < 0 ? JS_EXCEPTION : JS_UNDEFINED;
    JS_FreeValue(ctx, d.getter);
    JS_FreeValue(ctx, d.setter);
    if (JS_IsUndefined(d.value) || JS_IsString(d.value))
        return d.value;
    JSValue s = JS_ToString(ctx, d.value);
    JS_FreeValue(ctx, d.value);
    return s;
}

static int write_error(writer *w, JSValueConst v, bool dom)
{
    JSContext *ctx = w->ctx;
    int rc = -1;
    JSValue msg = JS_UNDEFINED, stack = JS_UNDEFINED;
    JSValue name = JS_GetPropertyStr(ctx, v, "name");
    if (JS_IsException(name))
        return -1;
    msg = dom ? JS_GetPropertyStr(ctx, v, "message") : own_message(ctx, v);
    if (JS_IsException(msg))
        goto done;
    stack = JS_GetPropertyStr(ctx, v, "stack");
    if (JS_IsException(stack))
        goto done;
    if (!JS_IsString(stack)) {
        JS_FreeValue(ctx, stack);
        stack = JS_UNDEFINED;
    }
    if (dom) {
        if (put_u8(w, 'X') < 0 || put_str(w, name) < 0 || put_str(w, msg) < 0)
            goto done;
    } else {
        uint8_t kind = 0;
        const char *s = JS_IsString(name) ? JS_ToCString(ctx, name) : NULL;
        for (uint8_t i = 0; s && i < ERROR_KIND_COUNT; i++)
            if (strcmp(s, error_names[i]) == 0)
                kind = i;
        if (s)
            JS_FreeCString(ctx, s);
        if (put_u8(w, 'E') < 0 || put_u8(w, kind) < 0 || put_opt_str(w, msg) < 0)
            goto done;
    }
    rc = put_opt_str(w, stack);
done:
    JS_FreeValue(ctx, name);
    JS_FreeValue(ctx, msg);
    JS_FreeValue(ctx, stack);
    return rc;
}

/* 1 if `v` is a DOMException (globalThis.DOMException, when there is one). */
static int is_dom_exception(JSContext *ctx, JSValueConst v)
{
    JSValue c = global_get(ctx, "DOMException");
    if (JS_IsException(c))
        return -1;
    int r = JS_IsFunction(ctx, c) ? JS_IsInstanceOf(ctx, v, c) : 0;
    JS_FreeValue(ctx, c);
    return r;
}

/* 1 if a JS-implemented host object opted out of cloning with a truthy
 * Symbol.for("durable.noClone") property (web/ and objects/ classes such as
 * DurableObjectId use it: they must not be stored as plain objects, SER-3). */
static int is_marked_uncloneable(JSContext *ctx, JSValueConst v)
{
    JSValue sym_ctor = global_get(ctx, "Symbol");
    JSValue for_fn = JS_IsObject(sym_ctor) ? JS_GetPropertyStr(ctx, sym_ctor, "for") : JS_UNDEFINED;
    JSValue key = JS_NewString(ctx, "durable.noClone");
    JSValue sym = JS_IsFunction(ctx, for_fn) ? JS_Call(ctx, for_fn, sym_ctor, 1, &key)
                                             : JS_UNDEFINED;
    JS_FreeValue(ctx, key);
    JS_FreeValue(ctx, for_fn);
    JS_FreeValue(ctx, sym_ctor);
    if (JS_IsException(sym))
        return -1;
    if (!JS_IsSymbol(sym))
        return 0;
    JSAtom a = JS_ValueToAtom(ctx, sym);
    JS_FreeValue(ctx, sym);
    if (a == JS_ATOM_NULL)
        return -1;
    JSValue mark = JS_GetProperty(ctx, v, a);
    JS_FreeAtom(ctx, a);
    if (JS_IsException(mark))
        return -1;
    int r = JS_ToBool(ctx, mark);
    JS_FreeValue(ctx, mark);
    return r;
}

/* 1 if the prototype is Object.prototype or null. */
static int has_plain_proto(writer *w, JSValueConst v)
{
    JSValue proto = JS_GetPrototype(w->ctx, v);
    if (JS_IsException(proto))
        return -1;
    if (JS_IsNull(proto))
        return 1;
    if (JS_IsUndefined(w->object_proto)) {
        JSValue o = JS_NewObject(w->ctx);
        if (JS_IsException(o)) {
            JS_FreeValue(w->ctx, proto);
            return -1;
        }
        w->object_proto = JS_GetPrototype(w->ctx, o);
        JS_FreeValue(w->ctx, o);
    }
    int r = JS_VALUE_GET_PTR(proto) == JS_VALUE_GET_PTR(w->object_proto);
    JS_FreeValue(w->ctx, proto);
    return r;
}

/* An ordinary object: plain, a DOMException, a marked host object, or a class
 * instance (rejected for RPC, a plain object otherwise: RPC-10, SER-2). */
static int write_ordinary(writer *w, JSValueConst v)
{
    int plain = has_plain_proto(w, v);
    if (plain != 0)
        return plain < 0 ? -1 : write_plain(w, v);
    int r = is_dom_exception(w->ctx, v);
    if (r != 0)
        return r < 0 ? -1 : write_error(w, v, true);
    r = is_marked_uncloneable(w->ctx, v);
    if (r != 0)
        return r < 0 ? -1 : clone_error(w, v, "could not be cloned.");
    if (w->flags & JS_CLONE_REJECT_CLASS_INSTANCES)
        return clone_error(w, v, "could not be cloned: an instance of a class can only "
                                 "be sent over RPC if the class extends RpcTarget.");
    return write_plain(w, v);
}

static int write_boxed(writer *w, JSValueConst v, int cls)
{
    /* valueOf of the intrinsic prototype, reached through a primitive of the kind. */
    JSContext *ctx = w->ctx;
    JSValue probe = cls == CLS_NUMBER ? JS_NewInt32(ctx, 0)
                  : cls == CLS_STRING ? JS_NewString(ctx, "")
                  : cls == CLS_BOOLEAN ? JS_FALSE
                  : JS_NewBigInt64(ctx, 0);
    if (JS_IsException(probe))
        return -1;
    JSValue fn = JS_GetPropertyStr(ctx, probe, "valueOf");
    JS_FreeValue(ctx, probe);
    if (JS_IsException(fn))
        return -1;
    JSValue p = JS_Call(ctx, fn, v, 0, NULL);
    JS_FreeValue(ctx, fn);
    if (JS_IsException(p))
        return -1;
    int rc;
    if (JS_IsObject(p) || JS_IsSymbol(p) || JS_IsUndefined(p) || JS_IsNull(p))
        rc = clone_error(w, v, "could not be cloned.");
    else if (put_u8(w, 'b') < 0)
        rc = -1;
    else
        rc = write_value(w, p);
    JS_FreeValue(ctx, p);
    return rc;
}

/* One flat switch over the object's class: each arm is one call. */
static int write_object(writer *w, JSValueConst v)
{
    int64_t seen = seen_index(w, v);
    if (seen >= 0)
        return put_tag_varint(w, 'r', (uint64_t)seen);
    if (JS_IsFunction(w->ctx, v))
        return clone_error(w, v, "could not be cloned.");
    int cls = obj_class(v);
    int kind = view_kind_of_class(cls);
    switch (cls) {
    case CLS_OBJECT: case CLS_ARGUMENTS: case CLS_MAPPED_ARGUMENTS: case CLS_ARRAY:
    case CLS_ERROR: case CLS_NUMBER: case CLS_STRING: case CLS_BOOLEAN: case CLS_BIG_INT:
    case CLS_DATE: case CLS_REGEXP: case CLS_ARRAY_BUFFER: case CLS_MAP: case CLS_SET:
        break;
    case CLS_SHARED_ARRAY_BUFFER:
        return clone_error(w, v, "could not be cloned: a SharedArrayBuffer cannot cross "
                                 "between isolates.");
    default:
        if (kind < 0)
            return clone_error(w, v, "could not be cloned.");
    }
    if (w->depth >= JS_CLONE_DEPTH_MAX) {
        JS_ThrowRangeError(w->ctx, "structured clone: value nested more than %d levels deep",
                           JS_CLONE_DEPTH_MAX);
        return -1;
    }
    if (remember(w, v) < 0)
        return -1;
    w->depth++;
    int rc;
    switch (cls) {
    case CLS_ARRAY: rc = write_array(w, v); break;
    case CLS_ERROR: {
        int dom = is_dom_exception(w->ctx, v);
        rc = dom < 0 ? -1 : write_error(w, v, dom == 1);
        break;
    }
    case CLS_NUMBER: case CLS_STRING: case CLS_BOOLEAN: case CLS_BIG_INT:
        rc = write_boxed(w, v, cls);
        break;
    case CLS_DATE: rc = write_date(w, v); break;
    case CLS_REGEXP: rc = write_regexp(w, v); break;
    case CLS_ARRAY_BUFFER: rc = write_array_buffer(w, v); break;
    case CLS_MAP: rc = write_collection(w, v, true); break;
    case CLS_SET: rc = write_collection(w, v, false); break;
    case CLS_OBJECT: rc = write_ordinary(w, v); break;
    case CLS_ARGUMENTS: case CLS_MAPPED_ARGUMENTS: rc = write_plain(w, v); break;
    default: rc = write_view(w, v, kind); break;
    }
    w->depth--;
    return rc;
}

static int write_bigint(writer *w, JSValueConst v)
{
    /* The engine's own BigInt-to-decimal (not the overridable toString). */
    if (put_u8(w, 'n') < 0)
        return -1;
    return put_str(w, v);
}

static int write_value(writer *w, JSValueConst v)
{
    switch (JS_VALUE_GET_TAG(v)) {
    case JS_TAG_UNDEFINED: return put_u8(w, '_');
    case JS_TAG_NULL: return put_u8(w, '0');
    case JS_TAG_BOOL: return put_u8(w, JS_VALUE_GET_BOOL(v) ? 'T' : 'F');
    case JS_TAG_INT: {
        int32_t n = JS_VALUE_GET_INT(v);
        return put_tag_varint(w, 'i', ((uint32_t)n << 1) ^ (uint32_t)(n >> 31));
    }
    case JS_TAG_FLOAT64: {
        double d = JS_VALUE_GET_FLOAT64(v);
        if (d >= INT32_MIN && d <= INT32_MAX && d == (int32_t)d && !(d == 0 && signbit(d))) {
            int32_t n = (int32_t)d;
            return put_tag_varint(w, 'i', ((uint32_t)n << 1) ^ (uint32_t)(n >> 31));
        }
        if (put_u8(w, 'd') < 0)
            return -1;
        return put_f64(w, d);
    }
    case JS_TAG_STRING:
        if (put_u8(w, 's') < 0)
            return -1;
        return put_str(w, v);
    case JS_TAG_BIG_INT: return write_bigint(w, v);
    case JS_TAG_OBJECT: return write_object(w, v);
    default:   /* symbols, BigFloat, BigDecimal */
        return clone_error(w, v, "could not be cloned.");
    }
}

int js_clone_write(JSContext *ctx, JSValueConst v, int flags, buf *out)
{
    writer w = {.ctx = ctx, .out = out, .flags = flags, .cap = CLONE_INLINE_OBJS,
                .object_proto = JS_UNDEFINED};
    w.tab = w.inline_tab;
    for (uint32_t i = 0; i < CLONE_INLINE_OBJS; i++)
        w.inline_tab[i].obj = JS_UNDEFINED;
    size_t len0 = out->len;
    int rc = put_u8(&w, JS_CLONE_VERSION);
    if (rc == 0)
        rc = write_value(&w, v);
    writer_fini(&w);
    if (rc < 0) {
        /* Nothing half-written is left for the caller to send or store. */
        out->len = len0;
        if (out->ptr)
            out->ptr[len0] = '\0';
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- reader ---- */

typedef struct reader {
    JSContext *ctx;
    const uint8_t *start, *p, *end;
    int depth;
    uint32_t obj_count, obj_cap;
    JSValue *objs;        /* index → object (references we hold); JS_UNINITIALIZED
                             while an object's contents are still being read */
    JSValue inline_objs[CLONE_INLINE_OBJS];
} reader;

static JSValue read_value(reader *r);

/* `at` points at the offending byte. */
static JSValue malformed_at(reader *r, const uint8_t *at)
{
    JSValue e = JS_NewError(r->ctx);
    if (JS_IsException(e))
        return e;
    char msg[96];
    snprintf(msg, sizeof msg, "structured clone: malformed data at byte %zu",
             (size_t)(at - r->start));
    JS_DefinePropertyValueStr(r->ctx, e, "message", JS_NewString(r->ctx, msg),
                              JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    return JS_Throw(r->ctx, e);
}

static JSValue malformed(reader *r)
{
    return malformed_at(r, r->p);
}

static int get_u8(reader *r, uint8_t *b)
{
    if (r->p >= r->end) {
        malformed(r);
        return -1;
    }
    *b = *r->p++;
    return 0;
}

static int get_varint(reader *r, uint64_t *out)
{
    const uint8_t *at = r->p;
    uint64_t n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            break;
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1)
            break;
        n |= (uint64_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *out = n;
            return 0;
        }
    }
    malformed_at(r, at);
    return -1;
}

/* A varint that counts things of at least `unit` bytes each still to come. */
static int get_count(reader *r, uint64_t *n, size_t unit)
{
    const uint8_t *at = r->p;
    if (get_varint(r, n) < 0)
        return -1;
    if (*n > (uint64_t)(r->end - r->p) / unit) {
        malformed_at(r, at);
        return -1;
    }
    return 0;
}

static int get_f64(reader *r, double *d)
{
    if (r->end - r->p < 8) {
        malformed(r);
        return -1;
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits |= (uint64_t)r->p[i] << (8 * i);
    memcpy(d, &bits, sizeof *d);
    r->p += 8;
    return 0;
}

/* Offset of the first byte that is not WTF-8, or n if all are. */
static size_t wtf8_check(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;        /* no overlong forms; surrogates (ED A0..BF) allowed */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;
            if (c == 0xf4)
                hi = 0x8f;
        } else
            return i;
        if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return i;
        i += need + 1;
    }
    return n;
}

/* Reads a str; on success s and n give the bytes in the input (checked WTF-8). */
static int get_str(reader *r, const char **s, size_t *n)
{
    uint64_t len;
    if (get_count(r, &len, 1) < 0)
        return -1;
    size_t bad = wtf8_check(r->p, (size_t)len);
    if (bad < len) {
        malformed_at(r, r->p + bad);
        return -1;
    }
    *s = (const char *)r->p;
    *n = (size_t)len;
    r->p += len;
    return 0;
}

static JSValue read_string(reader *r)
{
    const char *s;
    size_t n;
    if (get_str(r, &s, &n) < 0)
        return JS_EXCEPTION;
    return JS_NewStringLen(r->ctx, s, n);
}

/* '_' (undefined) or 's' str: an optional message or stack. */
static JSValue read_opt_string(reader *r)
{
    uint8_t t;
    if (get_u8(r, &t) < 0)
        return JS_EXCEPTION;
    if (t == '_')
        return JS_UNDEFINED;
    if (t != 's')
        return malformed_at(r, r->p - 1);
    return read_string(r);
}

static JSValue read_bigint(reader *r)
{
    const char *s;
    size_t n;
    const uint8_t *at = r->p;
    if (get_str(r, &s, &n) < 0)
        return JS_EXCEPTION;
    size_t neg = n > 0 && s[0] == '-';
    bool ok = n > neg && (s[neg] != '0' || n == neg + 1) && !(neg && s[1] == '0');
    for (size_t i = neg; ok && i < n; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (!ok)
        return malformed_at(r, at);
    if (n - neg <= 18) {
        int64_t x = 0;
        for (size_t i = neg; i < n; i++)
            x = x * 10 + (s[i] - '0');
        return JS_NewBigInt64(r->ctx, neg ? -x : x);
    }
    JSValue ctor = global_get(r->ctx, "BigInt");
    if (JS_IsException(ctor))
        return ctor;
    JSValue str = JS_NewStringLen(r->ctx, s, n);
    JSValue v = JS_IsException(str) ? str : JS_Call(r->ctx, ctor, JS_UNDEFINED, 1, &str);
    JS_FreeValue(r->ctx, str);
    JS_FreeValue(r->ctx, ctor);
    return v;
}

/* Gives the next object index to `v` (which may be JS_UNINITIALIZED, filled in
 * later by set_slot). The table holds its own reference. */
static int64_t new_slot(reader *r, JSValueConst v)
{
    if (r->obj_count == r->obj_cap) {
        uint32_t ncap = r->obj_cap * 2;
        JSValue *nv = js_malloc(r->ctx, sizeof *nv * ncap);
        if (!nv)
            return -1;
        memcpy(nv, r->objs, sizeof *nv * r->obj_count);
        if (r->objs != r->inline_objs)
            js_free(r->ctx, r->objs);
        r->objs = nv;
        r->obj_cap = ncap;
    }
    r->objs[r->obj_count] = JS_DupValue(r->ctx, v);
    return r->obj_count++;
}

static JSValue set_slot(reader *r, int64_t slot, JSValue v)
{
    if (!JS_IsException(v))
        r->objs[slot] = JS_DupValue(r->ctx, v);
    return v;
}

static JSValue read_backref(reader *r)
{
    const uint8_t *at = r->p;
    uint64_t i;
    if (get_varint(r, &i) < 0)
        return JS_EXCEPTION;
    if (i >= r->obj_count || JS_VALUE_GET_TAG(r->objs[i]) == JS_TAG_UNINITIALIZED)
        return malformed_at(r, at);
    return JS_DupValue(r->ctx, r->objs[i]);
}

/* m × (str key, value) defined as own enumerable data properties (define, not
 * set: a key "__proto__" must not change the prototype). */
static int read_pairs(reader *r, JSValueConst obj)
{
    uint64_t m;
    if (get_count(r, &m, 2) < 0)
        return -1;
    for (uint64_t i = 0; i < m; i++) {
        const char *s;
        size_t n;
        if (get_str(r, &s, &n) < 0)
            return -1;
        JSAtom a = JS_NewAtomLen(r->ctx, s, n);
        if (a == JS_ATOM_NULL)
            return -1;
        JSValue v = read_value(r);
        int rc = JS_IsException(v) ? -1 : JS_DefinePropertyValue(r->ctx, obj, a, v, JS_PROP_C_W_E);
        JS_FreeAtom(r->ctx, a);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static JSValue read_plain(reader *r)
{
    JSValue o = JS_NewObject(r->ctx);
    if (JS_IsException(o) || new_slot(r, o) < 0 || read_pairs(r, o) < 0) {
        JS_FreeValue(r->ctx, o);
        return JS_EXCEPTION;
    }
    return o;
}

static int define_elem(reader *r, JSValueConst arr, uint64_t i)
{
    JSValue v = read_value(r);
    if (JS_IsException(v))
        return -1;
    return JS_DefinePropertyValueUint32(r->ctx, arr, (uint32_t)i, v, JS_PROP_C_W_E);
}

static JSValue read_array(reader *r, bool dense)
{
    JSContext *ctx = r->ctx;
    const uint8_t *at = r->p;
    uint64_t len, n;
    if (get_varint(r, &len) < 0)
        return JS_EXCEPTION;
    if (len > UINT32_MAX || (dense && len > (uint64_t)(r->end - r->p)))
        return malformed_at(r, at);
    JSValue a = JS_NewArray(ctx);
    if (JS_IsException(a) || new_slot(r, a) < 0)
        goto fail;
    if (dense) {
        for (uint64_t i = 0; i < len; i++) {
            if (r->p < r->end && *r->p == 'h') {
                r->p++;
                continue;
            }
            if (define_elem(r, a, i) < 0)
                goto fail;
        }
    } else {
        if (get_count(r, &n, 2) < 0)
            goto fail;
        int64_t prev = -1;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t i;
            at = r->p;
            if (get_varint(r, &i) < 0)
                goto fail;
            if ((int64_t)i <= prev || i >= len) {
                malformed_at(r, at);
                goto fail;
            }
            prev = (int64_t)i;
            if (define_elem(r, a, i) < 0)
                goto fail;
        }
    }
    /* Trailing holes: the length says how many. */
    if (JS_SetPropertyStr(ctx, a, "length", JS_NewInt64(ctx, (int64_t)len)) < 0)
        goto fail;
    if (read_pairs(r, a) < 0)
        goto fail;
    return a;
fail:
    JS_FreeValue(ctx, a);
    return JS_EXCEPTION;
}

static JSValue construct(reader *r, const char *ctor_name, int argc, JSValueConst *argv)
{
    JSValue c = global_get(r->ctx, ctor_name);
    if (JS_IsException(c))
        return c;
    JSValue v = JS_CallConstructor(r->ctx, c, argc, argv);
    JS_FreeValue(r->ctx, c);
    return v;
}

/* Map ('M', is_map) or Set ('S'): made first, so entries may refer to it. */
static JSValue read_collection(reader *r, bool is_map)
{
    JSContext *ctx = r->ctx;
    JSValue c = construct(r, is_map ? "Map" : "Set", 0, NULL);
    JSValue fn = JS_UNDEFINED;
    uint64_t n;
    if (JS_IsException(c) || new_slot(r, c) < 0)
        goto fail;
    fn = JS_GetPropertyStr(ctx, c, is_map ? "set" : "add");
    if (JS_IsException(fn) || get_count(r, &n, is_map ? 2 : 1) < 0)
        goto fail;
    for (uint64_t i = 0; i < n; i++) {
        JSValue kv[2] = {read_value(r), JS_UNDEFINED};
        if (JS_IsException(kv[0]))
            goto fail;
        if (is_map) {
            kv[1] = read_value(r);
            if (JS_IsException(kv[1])) {
                JS_FreeValue(ctx, kv[0]);
                goto fail;
            }
        }
        JSValue res = JS_Call(ctx, fn, c, is_map ? 2 : 1, (JSValueConst *)kv);
        JS_FreeValue(ctx, kv[0]);
        JS_FreeValue(ctx, kv[1]);
        if (JS_IsException(res))
            goto fail;
        JS_FreeValue(ctx, res);
    }
    JS_FreeValue(ctx, fn);
    return c;
fail:
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, c);
    return JS_EXCEPTION;
}

static JSValue read_date(reader *r)
{
    const uint8_t *at = r->p;
    double t;
    if (get_f64(r, &t) < 0)
        return JS_EXCEPTION;
    /* A time value is NaN or an integer within ±8.64e15 (TimeClip). */
    if (!isnan(t) && (fabs(t) > 8.64e15 || t != trunc(t)))
        return malformed_at(r, at);
    JSValue tv = new_number(r->ctx, t);
    JSValue d = construct(r, "Date", 1, &tv);
    if (!JS_IsException(d) && new_slot(r, d) < 0) {
        JS_FreeValue(r->ctx, d);
        return JS_EXCEPTION;
    }
    return d;
}

static JSValue read_regexp(reader *r)
{
    int64_t slot = new_slot(r, JS_UNINITIALIZED);
    if (slot < 0)
        return JS_EXCEPTION;
    JSValue args[2] = {read_string(r), JS_UNDEFINED};
    if (JS_IsException(args[0]))
        return JS_EXCEPTION;
    args[1] = read_string(r);
    JSValue re = JS_IsException(args[1]) ? JS_EXCEPTION : construct(r, "RegExp", 2, args);
    JS_FreeValue(r->ctx, args[0]);
    JS_FreeValue(r->ctx, args[1]);
    return set_slot(r, slot, re);
}

static JSValue read_array_buffer(reader *r)
{
    uint64_t n;
    if (get_count(r, &n, 1) < 0)
        return JS_EXCEPTION;
    JSValue ab = JS_NewArrayBufferCopy(r->ctx, r->p, (size_t)n);
    if (JS_IsException(ab))
        return ab;
    r->p += n;
    if (new_slot(r, ab) < 0) {
        JS_FreeValue(r->ctx, ab);
        return JS_EXCEPTION;
    }
    return ab;
}

static JSValue read_view(reader *r)
{
    JSContext *ctx = r->ctx;
    int64_t slot = new_slot(r, JS_UNINITIALIZED);
    uint8_t kind;
    if (slot < 0 || get_u8(r, &kind) < 0)
        return JS_EXCEPTION;
    if (kind >= VIEW_KIND_COUNT)
        return malformed_at(r, r->p - 1);
    const uint8_t *at = r->p;
    if (r->p >= r->end || (*r->p != 'B' && *r->p != 'r'))
        return malformed(r);
    JSValue ab = read_value(r);
    if (JS_IsException(ab))
        return ab;
    uint64_t off, count;
    size_t ab_len = 0;
    if (!JS_IsObject(ab) || obj_class(ab) != CLS_ARRAY_BUFFER ||
        !JS_GetArrayBuffer(ctx, &ab_len, ab)) {
        JS_FreeValue(ctx, ab);
        return malformed_at(r, at);
    }
    at = r->p;
    if (get_varint(r, &off) < 0 || get_varint(r, &count) < 0) {
        JS_FreeValue(ctx, ab);
        return JS_EXCEPTION;
    }
    uint64_t bpe = view_elem_bytes[kind];
    if (off > ab_len || off % bpe != 0 || count > (ab_len - off) / bpe) {
        JS_FreeValue(ctx, ab);
        return malformed_at(r, at);
    }
    JSValue args[3] = {ab, JS_NewInt64(ctx, (int64_t)off), JS_NewInt64(ctx, (int64_t)count)};
    JSValue v = construct(r, view_names[kind], 3, args);
    JS_FreeValue(ctx, ab);
    return set_slot(r, slot, v);
}

/* Replaces the stack the new error got here with the one that was sent. */
static int set_stack(JSContext *ctx, JSValueConst e, JSValue stack)
{
    if (JS_IsUndefined(stack))
        return 0;
    return JS_DefinePropertyValueStr(ctx, e, "stack", stack,
                                     JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
}

static JSValue read_error(reader *r)
{
    JSContext *ctx = r->ctx;
    int64_t slot = new_slot(r, JS_UNINITIALIZED);
    uint8_t kind;
    if (slot < 0 || get_u8(r, &kind) < 0)
        return JS_EXCEPTION;
    if (kind >= ERROR_KIND_COUNT)
        return malformed_at(r, r->p - 1);
    JSValue msg = read_opt_string(r);
    if (JS_IsException(msg))
        return msg;
    JSValue stack = read_opt_string(r);
    if (JS_IsException(stack)) {
        JS_FreeValue(ctx, msg);
        return stack;
    }
    JSValue e;
    bool has_msg = !JS_IsUndefined(msg);
    if (kind == 7) {
        JSValue args[2] = {JS_NewArray(ctx), msg};
        e = JS_IsException(args[0]) ? JS_EXCEPTION
                                    : construct(r, error_names[kind], has_msg ? 2 : 1, args);
        JS_FreeValue(ctx, args[0]);
    } else {
        e = construct(r, error_names[kind], has_msg ? 1 : 0, &msg);
    }
    JS_FreeValue(ctx, msg);
    if (!JS_IsException(e) && set_stack(ctx, e, stack) < 0) {
        JS_FreeValue(ctx, e);
        return JS_EXCEPTION;
    }
    if (JS_IsException(e))
        JS_FreeValue(ctx, stack);
    return set_slot(r, slot, e);
}

static JSValue read_dom_exception(reader *r)
{
    JSContext *ctx = r->ctx;
    int64_t slot = new_slot(r, JS_UNINITIALIZED);
    if (slot < 0)
        return JS_EXCEPTION;
    JSValue name = read_string(r);
    JSValue msg = JS_IsException(name) ? JS_EXCEPTION : read_string(r);
    JSValue stack = JS_IsException(msg) ? JS_EXCEPTION : read_opt_string(r);
    JSValue e = JS_EXCEPTION;
    if (JS_IsException(stack))
        goto done;
    JSValue ctor = global_get(ctx, "DOMException");
    if (JS_IsFunction(ctx, ctor)) {
        JSValue args[2] = {msg, name};
        e = JS_CallConstructor(ctx, ctor, 2, args);
    } else if (!JS_IsException(ctor)) {
        /* No DOMException in this context: an Error that keeps the name. */
        e = JS_NewError(ctx);
        if (!JS_IsException(e) &&
            (JS_DefinePropertyValueStr(ctx, e, "message", JS_DupValue(ctx, msg),
                                       JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE) < 0 ||
             JS_DefinePropertyValueStr(ctx, e, "name", JS_DupValue(ctx, name),
                                       JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE) < 0)) {
            JS_FreeValue(ctx, e);
            e = JS_EXCEPTION;
        }
    }
    JS_FreeValue(ctx, ctor);
    if (!JS_IsException(e) && set_stack(ctx, e, stack) < 0) {
        JS_FreeValue(ctx, e);
        e = JS_EXCEPTION;
    } else if (JS_IsException(e)) {
        JS_FreeValue(ctx, stack);
    }
done:
    JS_FreeValue(ctx, name);
    JS_FreeValue(ctx, msg);
    return set_slot(r, slot, e);
}

static JSValue read_boxed(reader *r)
{
    int64_t slot = new_slot(r, JS_UNINITIALIZED);
    if (slot < 0)
        return JS_EXCEPTION;
    if (r->p >= r->end || !memchr("idsTFn", *r->p, 6))
        return malformed(r);
    JSValue p = read_value(r);
    if (JS_IsException(p))
        return p;
    JSValue o = JS_EXCEPTION;
    JSValue fn = global_get(r->ctx, "Object");
    if (!JS_IsException(fn))
        o = JS_Call(r->ctx, fn, JS_UNDEFINED, 1, &p);
    JS_FreeValue(r->ctx, fn);
    JS_FreeValue(r->ctx, p);
    return set_slot(r, slot, o);
}

/* The tags that make an object: one flat switch, one call per arm. */
static JSValue read_object(reader *r, uint8_t tag)
{
    switch (tag) {
    case 'o': return read_plain(r);
    case 'A': return read_array(r, true);
    case 'a': return read_array(r, false);
    case 'M': return read_collection(r, true);
    case 'S': return read_collection(r, false);
    case 'D': return read_date(r);
    case 'R': return read_regexp(r);
    case 'B': return read_array_buffer(r);
    case 'V': return read_view(r);
    case 'E': return read_error(r);
    case 'X': return read_dom_exception(r);
    case 'b': return read_boxed(r);
    default: return malformed_at(r, r->p - 1);
    }
}

static JSValue read_value(reader *r)
{
    uint8_t tag;
    if (get_u8(r, &tag) < 0)
        return JS_EXCEPTION;
    switch (tag) {
    case '_': return JS_UNDEFINED;
    case '0': return JS_NULL;
    case 'T': return JS_TRUE;
    case 'F': return JS_FALSE;
    case 'i': {
        const uint8_t *at = r->p;
        uint64_t z;
        if (get_varint(r, &z) < 0)
            return JS_EXCEPTION;
        if (z > UINT32_MAX)
            return malformed_at(r, at);
        return JS_NewInt32(r->ctx, (int32_t)((uint32_t)(z >> 1) ^ -(uint32_t)(z & 1)));
    }
    case 'd': {
        double d;
        if (get_f64(r, &d) < 0)
            return JS_EXCEPTION;
        return new_number(r->ctx, d);
    }
    case 's': return read_string(r);
    case 'n': return read_bigint(r);
    case 'r': return read_backref(r);
    }
    if (r->depth >= JS_CLONE_DEPTH_MAX) {
        return JS_ThrowRangeError(r->ctx, "structured clone: value nested more than %d levels "
                                  "deep at byte %zu", JS_CLONE_DEPTH_MAX,
                                  (size_t)(r->p - 1 - r->start));
    }
    r->depth++;
    JSValue v = read_object(r, tag);
    r->depth--;
    return v;
}

JSValue js_clone_read(JSContext *ctx, const uint8_t *p, size_t len)
{
    reader r = {.ctx = ctx, .start = p, .p = p, .end = p + len, .obj_cap = CLONE_INLINE_OBJS};
    r.objs = r.inline_objs;
    if (len == 0)
        return malformed(&r);
    if (p[0] != JS_CLONE_VERSION)
        return JS_ThrowRangeError(ctx, "structured clone: unsupported format version %u "
                                  "(this build reads version %d)", p[0], JS_CLONE_VERSION);
    r.p++;
    JSValue v = read_value(&r);
    if (!JS_IsException(v) && r.p != r.end) {
        JS_FreeValue(ctx, v);
        v = malformed(&r);
    }
    for (uint32_t i = 0; i < r.obj_count; i++)
        JS_FreeValue(ctx, r.objs[i]);
    if (r.objs != r.inline_objs)
        js_free(ctx, r.objs);
    return v;
}

/* ------------------------------------------------------- structuredClone ---- */

#define SC_API "Failed to execute 'structuredClone': "

/* Reads options.transfer into *list (ArrayBuffers, checked: not detached, no
 * duplicates). Returns the count, or -1 with an exception pending. */
static int64_t transfer_list(JSContext *ctx, JSValueConst options, JSValue **list)
{
    *list = NULL;
    if (JS_IsUndefined(options) || JS_IsNull(options))
        return 0;
    if (!JS_IsObject(options)) {
        JS_ThrowTypeError(ctx, SC_API "The provided value is not of type "
                          "'StructuredSerializeOptions'.");
        return -1;
    }
    JSValue t = JS_GetPropertyStr(ctx, options, "transfer");
    if (JS_IsException(t))
        return -1;
    int64_t rc = -1;
    uint32_t n = 0, got = 0;
    JSValue *vec = NULL;
    if (JS_IsUndefined(t)) {
        rc = 0;
        goto done;
    }
    int is_arr = JS_IsArray(ctx, t);
    if (is_arr <= 0) {
        if (is_arr == 0)
            JS_ThrowTypeError(ctx, SC_API "Failed to read the 'transfer' property from "
                              "'StructuredSerializeOptions': The provided value cannot be "
                              "converted to a sequence.");
        goto done;
    }
    JSValue lv = JS_GetPropertyStr(ctx, t, "length");
    int bad = JS_ToUint32(ctx, &n, lv);
    JS_FreeValue(ctx, lv);
    if (bad < 0)
        goto done;
    for (uint32_t i = 0; i < n; i++) {
        JSValue e = JS_GetPropertyUint32(ctx, t, i);
        if (JS_IsException(e))
            goto done;
        size_t sz;
        if (!JS_IsObject(e) || obj_class(e) != CLS_ARRAY_BUFFER) {
            JS_FreeValue(ctx, e);
            js_throw_dom(ctx, "DataCloneError", SC_API "Value at index %u does not have a "
                         "transferable type.", i);
            goto done;
        }
        if (!JS_GetArrayBuffer(ctx, &sz, e)) {
            drop_exception(ctx);
            JS_FreeValue(ctx, e);
            js_throw_dom(ctx, "DataCloneError", SC_API "ArrayBuffer at index %u is already "
                         "detached.", i);
            goto done;
        }
        for (uint32_t k = 0; k < got; k++) {
            if (JS_VALUE_GET_PTR(vec[k]) == JS_VALUE_GET_PTR(e)) {
                JS_FreeValue(ctx, e);
                js_throw_dom(ctx, "DataCloneError", SC_API "ArrayBuffer at index %u is a "
                             "duplicate of an earlier ArrayBuffer. Indices %u and %u are the "
                             "same.", i, k, i);
                goto done;
            }
        }
        JSValue *nv = js_realloc(ctx, vec, sizeof *nv * (got + 1));
        if (!nv) {
            JS_FreeValue(ctx, e);
            goto done;
        }
        vec = nv;
        vec[got++] = e;
    }
    rc = got;
done:
    JS_FreeValue(ctx, t);
    if (rc < 0) {
        for (uint32_t k = 0; k < got; k++)
            JS_FreeValue(ctx, vec[k]);
        js_free(ctx, vec);
    } else {
        *list = vec;
    }
    return rc;
}

static JSValue js_structured_clone(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    if (argc < 1)
        return JS_ThrowTypeError(ctx, SC_API "1 argument required, but only 0 present.");
    JSValue *transfer;
    int64_t n = transfer_list(ctx, argc > 1 ? argv[1] : JS_UNDEFINED, &transfer);
    if (n < 0)
        return JS_EXCEPTION;
    buf b;
    buf_init(&b, CLONE_STRUCTURED_BYTES_MAX);
    JSValue v = JS_EXCEPTION;
    if (js_clone_write(ctx, argv[0], CLONE_API_STRUCTURED, &b) == 0)
        v = js_clone_read(ctx, (const uint8_t *)b.ptr, b.len);
    buf_fini(&b);
    /* Transfer = the copy above plus detaching the originals, only on success. */
    for (int64_t i = 0; i < n; i++) {
        if (!JS_IsException(v))
            JS_DetachArrayBuffer(ctx, transfer[i]);
        JS_FreeValue(ctx, transfer[i]);
    }
    js_free(ctx, transfer);
    return v;
}

/* The engine facts of the header comment, checked once per context. */
static int check_engine(JSContext *ctx)
{
    JSValue probes[4] = {JS_NewObject(ctx), JS_NewArray(ctx), JS_NewError(ctx),
                         JS_NewArrayBufferCopy(ctx, (const uint8_t *)"", 0)};
    const int want[4] = {CLS_OBJECT, CLS_ARRAY, CLS_ERROR, CLS_ARRAY_BUFFER};
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        if (JS_IsException(probes[i]))
            ok = false;
        else if (obj_class(probes[i]) != want[i])
            ok = false;
        JS_FreeValue(ctx, probes[i]);
    }
    JSAtom a = JS_NewAtomUInt32(ctx, 7);
    ok = ok && a == (ATOM_TAG_INT | 7);
    JS_FreeAtom(ctx, a);
    if (!ok) {
        JS_ThrowInternalError(ctx, "structured clone: this QuickJS build does not match the "
                              "object layout of QuickJS 2021-03-27 that clone.c relies on");
        return -1;
    }
    return 0;
}

int js_clone_install(JSContext *ctx)
{
    if (check_engine(ctx) < 0)
        return -1;
    JSValue fn = JS_NewCFunction(ctx, js_structured_clone, "structuredClone", 1);
    if (JS_IsException(fn))
        return -1;
    JSValue g = JS_GetGlobalObject(ctx);
    int rc = JS_DefinePropertyValueStr(ctx, g, "structuredClone", fn,
                                       JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    JS_FreeValue(ctx, g);
    return rc < 0 ? -1 : 0;
}
