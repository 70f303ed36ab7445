/* intl.c: the natives behind Intl (src/web/js/60_intl.js), on ICU's C API.
 *
 * Every native takes plain strings and numbers (locale tag, ICU skeleton or option
 * words, the value) and returns strings or arrays: no C state lives behind an Intl
 * object. Opened ICU formatters are kept in a small per-thread cache keyed by
 * (kind, locale, options), so a Worker formatting in a loop opens each formatter once;
 * the cache is bounded (INTL_CACHE entries, replaced round-robin) and its objects are
 * closed when replaced. Each shard is one thread, so no lock is needed.
 *
 * ICU errors become RangeError (a bad tag, skeleton or time zone) with the ICU
 * error name, never a crash. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/ucal.h>
#include <unicode/ucol.h>
#include <unicode/udat.h>
#include <unicode/udatpg.h>
#include <unicode/ufieldpositer.h>
#include <unicode/ulistformatter.h>
#include <unicode/uloc.h>
#include <unicode/unumberformatter.h>
#include <unicode/upluralrules.h>
#include <unicode/ureldatefmt.h>
#include <unicode/ustring.h>

#include "web/web.h"

enum { K_DTF = 1, K_NF, K_COL, K_PLU, K_RTF, K_LST };
#define INTL_CACHE 32
#define KEY_MAX 256

typedef struct {
    int kind;
    char key[KEY_MAX];
    void *obj;
} intl_slot;

static __thread intl_slot cache[INTL_CACHE];
static __thread unsigned cache_next;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void obj_close(int kind, void *o)
{
    switch (kind) {
    case K_DTF: udat_close(o); break;
    case K_NF: unumf_close(o); break;
    case K_COL: ucol_close(o); break;
    case K_PLU: uplrules_close(o); break;
    case K_RTF: ureldatefmt_close(o); break;
    case K_LST: ulistfmt_close(o); break;
    }
}

/* Runs when a thread that cached something exits (a shard stopping): closes its
 * formatters, so they are not leaked with the thread's TLS. */
static void cache_free(void *unused)
{
    for (int i = 0; i < INTL_CACHE; i++)
        if (cache[i].obj) {
            obj_close(cache[i].kind, cache[i].obj);
            cache[i].obj = NULL;
        }
}

static void cache_key_make(void)
{
    pthread_key_create(&cache_key, cache_free);
}

static void *cache_get(int kind, const char *key)
{
    for (int i = 0; i < INTL_CACHE; i++)
        if (cache[i].obj && cache[i].kind == kind && !strcmp(cache[i].key, key))
            return cache[i].obj;
    return NULL;
}

/* Takes ownership of o; returns o. Keys too long are not cached (the caller closes). */
static bool cache_put(int kind, const char *key, void *o)
{
    if (strlen(key) >= KEY_MAX)
        return false;
    pthread_once(&cache_once, cache_key_make);
    if (!pthread_getspecific(cache_key))
        pthread_setspecific(cache_key, cache);
    intl_slot *s = &cache[cache_next++ % INTL_CACHE];
    if (s->obj)
        obj_close(s->kind, s->obj);
    s->kind = kind;
    snprintf(s->key, KEY_MAX, "%s", key);
    s->obj = o;
    return true;
}

static JSValue icu_error(JSContext *ctx, const char *what, UErrorCode st)
{
    return JS_ThrowRangeError(ctx, "Intl: %s failed (%s)", what, u_errorName(st));
}

/* JS string -> malloc'd UTF-16; *len gets its length. NULL with an exception set. */
static UChar *to_u16(JSContext *ctx, JSValueConst v, int32_t *len)
{
    size_t n;
    const char *s = JS_ToCStringLen(ctx, &n, v);
    if (!s)
        return NULL;
    UChar *u = malloc((n + 1) * sizeof(UChar));
    UErrorCode st = U_ZERO_ERROR;
    int32_t ul = 0;
    if (u)
        u_strFromUTF8WithSub(u, (int32_t)n + 1, &ul, s, (int32_t)n, 0xFFFD, NULL, &st);
    JS_FreeCString(ctx, s);
    if (!u || U_FAILURE(st)) {
        free(u);
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    *len = ul;
    return u;
}

static JSValue from_u16(JSContext *ctx, const UChar *u, int32_t len)
{
    int32_t n = 0;
    UErrorCode st = U_ZERO_ERROR;
    u_strToUTF8WithSub(NULL, 0, &n, u, len, 0xFFFD, NULL, &st);
    char *b = malloc((size_t)n + 1);
    if (!b)
        return JS_ThrowOutOfMemory(ctx);
    st = U_ZERO_ERROR;
    u_strToUTF8WithSub(b, n + 1, &n, u, len, 0xFFFD, NULL, &st);
    JSValue r = JS_NewStringLen(ctx, b, (size_t)n);
    free(b);
    return r;
}

/* Canonical BCP 47 tag for a tag, or "" when ICU does not accept it. */
static int canon_tag(const char *tag, char *out, size_t cap)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    int32_t parsed = 0;
    UErrorCode st = U_ZERO_ERROR;
    int32_t tl = (int32_t)strlen(tag);
    if (tl == 0 || tl > 200)
        return -1;
    uloc_forLanguageTag(tag, loc, sizeof loc, &parsed, &st);
    if (U_FAILURE(st) || parsed != tl || !loc[0])
        return -1;
    uloc_toLanguageTag(loc, out, (int32_t)cap, true, &st);
    if (U_FAILURE(st))
        return -1;
    return 0;
}

/* canon(tag) -> canonical tag; RangeError for an invalid one. */
static JSValue js_canon(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *t = JS_ToCString(ctx, argv[0]);
    if (!t)
        return JS_EXCEPTION;
    char out[ULOC_FULLNAME_CAPACITY];
    int rc = canon_tag(t, out, sizeof out);
    if (rc < 0) {
        JSValue e = JS_ThrowRangeError(ctx, "Incorrect locale information provided");
        JS_FreeCString(ctx, t);
        return e;
    }
    JS_FreeCString(ctx, t);
    return JS_NewString(ctx, out);
}

/* localeInfo(tag) -> [language, script, region, baseName] */
static JSValue js_locale_info(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *t = JS_ToCString(ctx, argv[0]);
    if (!t)
        return JS_EXCEPTION;
    char loc[ULOC_FULLNAME_CAPACITY], lang[32] = "", script[32] = "", region[32] = "";
    char base[ULOC_FULLNAME_CAPACITY] = "", btag[ULOC_FULLNAME_CAPACITY] = "";
    UErrorCode st = U_ZERO_ERROR;
    uloc_forLanguageTag(t, loc, sizeof loc, NULL, &st);
    JS_FreeCString(ctx, t);
    uloc_getLanguage(loc, lang, sizeof lang, &st);
    uloc_getScript(loc, script, sizeof script, &st);
    uloc_getCountry(loc, region, sizeof region, &st);
    uloc_getBaseName(loc, base, sizeof base, &st);
    uloc_toLanguageTag(base, btag, sizeof btag, false, &st);
    if (U_FAILURE(st))
        return icu_error(ctx, "locale", st);
    JSValue a = JS_NewArray(ctx);
    JS_SetPropertyUint32(ctx, a, 0, JS_NewString(ctx, lang));
    JS_SetPropertyUint32(ctx, a, 1, JS_NewString(ctx, script));
    JS_SetPropertyUint32(ctx, a, 2, JS_NewString(ctx, region));
    JS_SetPropertyUint32(ctx, a, 3, JS_NewString(ctx, btag));
    return a;
}

/* ICU locale id ("de_DE@calendar=...") for a BCP 47 tag. */
static int icu_loc(JSContext *ctx, JSValueConst v, char *loc, size_t cap)
{
    const char *t = JS_ToCString(ctx, v);
    if (!t)
        return -1;
    UErrorCode st = U_ZERO_ERROR;
    uloc_forLanguageTag(t, loc, (int32_t)cap, NULL, &st);
    JS_FreeCString(ctx, t);
    if (U_FAILURE(st)) {
        JS_ThrowRangeError(ctx, "Incorrect locale information provided");
        return -1;
    }
    return 0;
}

/* Fields of a UFieldPositionIterator / formatted value -> [[type, text], ...] over
 * the whole string: text outside any field is a "literal" part. names maps field
 * ids to part types (NULL entries are ignored). */
typedef struct {
    int32_t field, b, e;
} span;

static JSValue part(JSContext *ctx, const char *type, const UChar *s, int32_t len)
{
    JSValue p = JS_NewArray(ctx);
    JS_SetPropertyUint32(ctx, p, 0, JS_NewString(ctx, type));
    JS_SetPropertyUint32(ctx, p, 1, from_u16(ctx, s, len));
    return p;
}

/* Each UTF-16 unit takes the field of the narrowest span covering it (so a number's
 * "integer" is split by its "group" separators); runs of one field are one part,
 * text outside known fields is "literal". */
static JSValue parts_array(JSContext *ctx, const UChar *s, int32_t len, span *sp, int n,
                           const char *const *names, int nnames)
{
    int16_t *lab = malloc(((size_t)len + 1) * sizeof *lab);
    int32_t *wid = malloc(((size_t)len + 1) * sizeof *wid);
    if (!lab || !wid) {
        free(lab);
        free(wid);
        return JS_ThrowOutOfMemory(ctx);
    }
    for (int32_t i = 0; i < len; i++) {
        lab[i] = -1;
        wid[i] = INT32_MAX;
    }
    for (int i = 0; i < n; i++) {
        if (sp[i].field < 0 || sp[i].field >= nnames || !names[sp[i].field])
            continue;
        for (int32_t j = sp[i].b; j < sp[i].e && j < len; j++)
            if (sp[i].e - sp[i].b <= wid[j]) {
                lab[j] = (int16_t)sp[i].field;
                wid[j] = sp[i].e - sp[i].b;
            }
    }
    JSValue a = JS_NewArray(ctx);
    uint32_t k = 0;
    for (int32_t i = 0; i < len;) {
        int32_t j = i + 1;
        while (j < len && lab[j] == lab[i] && (lab[i] == -1 || wid[j] == wid[i]))
            j++;
        JS_SetPropertyUint32(ctx, a, k++, part(ctx, lab[i] < 0 ? "literal" : names[lab[i]], s + i, j - i));
        i = j;
    }
    free(lab);
    free(wid);
    return a;
}

/* ---- DateTimeFormat ---- */

static const char *const dtf_names[UDAT_FIELD_COUNT] = {
    [UDAT_ERA_FIELD] = "era",
    [UDAT_YEAR_FIELD] = "year",
    [UDAT_MONTH_FIELD] = "month",
    [UDAT_DATE_FIELD] = "day",
    [UDAT_HOUR_OF_DAY1_FIELD] = "hour",
    [UDAT_HOUR_OF_DAY0_FIELD] = "hour",
    [UDAT_MINUTE_FIELD] = "minute",
    [UDAT_SECOND_FIELD] = "second",
    [UDAT_FRACTIONAL_SECOND_FIELD] = "fractionalSecond",
    [UDAT_DAY_OF_WEEK_FIELD] = "weekday",
    [UDAT_AM_PM_FIELD] = "dayPeriod",
    [UDAT_HOUR1_FIELD] = "hour",
    [UDAT_HOUR0_FIELD] = "hour",
    [UDAT_TIMEZONE_FIELD] = "timeZoneName",
    [UDAT_YEAR_WOY_FIELD] = "year",
    [UDAT_DOW_LOCAL_FIELD] = "weekday",
    [UDAT_EXTENDED_YEAR_FIELD] = "year",
    [UDAT_TIMEZONE_RFC_FIELD] = "timeZoneName",
    [UDAT_TIMEZONE_GENERIC_FIELD] = "timeZoneName",
    [UDAT_STANDALONE_DAY_FIELD] = "weekday",
    [UDAT_STANDALONE_MONTH_FIELD] = "month",
    [UDAT_TIMEZONE_SPECIAL_FIELD] = "timeZoneName",
    [UDAT_TIMEZONE_LOCALIZED_GMT_OFFSET_FIELD] = "timeZoneName",
    [UDAT_TIMEZONE_ISO_FIELD] = "timeZoneName",
    [UDAT_TIMEZONE_ISO_LOCAL_FIELD] = "timeZoneName",
    [UDAT_RELATED_YEAR_FIELD] = "relatedYear",
    [UDAT_AM_PM_MIDNIGHT_NOON_FIELD] = "dayPeriod",
    [UDAT_FLEXIBLE_DAY_PERIOD_FIELD] = "dayPeriod",
};

static UDateFormatStyle dstyle(const char *s)
{
    if (!strcmp(s, "full")) return UDAT_FULL;
    if (!strcmp(s, "long")) return UDAT_LONG;
    if (!strcmp(s, "medium")) return UDAT_MEDIUM;
    if (!strcmp(s, "short")) return UDAT_SHORT;
    return UDAT_NONE;
}

/* Opens (or finds) the formatter for locale, spec, tz. spec is "S:<date>:<time>"
 * for dateStyle/timeStyle, or "K:<skeleton>". */
static UDateFormat *dtf_get(JSContext *ctx, const char *loc, const char *spec, const char *tz)
{
    char key[KEY_MAX * 2];
    snprintf(key, sizeof key, "%s|%s|%s", loc, spec, tz);
    UDateFormat *f = cache_get(K_DTF, key);
    if (f)
        return f;
    UErrorCode st = U_ZERO_ERROR;
    UChar utz[128];
    u_uastrncpy(utz, tz, 127);
    utz[127] = 0;
    int32_t tzl = u_strlen(utz);
    if (spec[0] == 'S') {
        char d[16] = "", t[16] = "";
        sscanf(spec + 2, "%15[^:]:%15s", d, t);
        f = udat_open(dstyle(t), dstyle(d), loc, utz, tzl, NULL, 0, &st);
    } else if (spec[0] == 'P') {
        UChar pat[256];
        u_strFromUTF8WithSub(pat, 256, NULL, spec + 2, -1, 0xFFFD, NULL, &st);
        f = udat_open(UDAT_PATTERN, UDAT_PATTERN, loc, utz, tzl, pat, -1, &st);
    } else {
        UChar sk[128], pat[256];
        u_uastrncpy(sk, spec + 2, 127);
        sk[127] = 0;
        UDateTimePatternGenerator *g = udatpg_open(loc, &st);
        int32_t pl = 0;
        if (U_SUCCESS(st))
            pl = udatpg_getBestPatternWithOptions(g, sk, -1, UDATPG_MATCH_HOUR_FIELD_LENGTH, pat, 255, &st);
        udatpg_close(g);
        if (U_SUCCESS(st))
            f = udat_open(UDAT_PATTERN, UDAT_PATTERN, loc, utz, tzl, pat, pl, &st);
    }
    if (U_FAILURE(st) || !f) {
        icu_error(ctx, "DateTimeFormat", st);
        return NULL;
    }
    /* proleptic Gregorian, as ECMA-402 asks */
    UCalendar *cal = (UCalendar *)udat_getCalendar(f);
    if (cal && ucal_getType(cal, &st) && !strcmp(ucal_getType(cal, &st), "gregorian")) {
        UCalendar *c2 = ucal_clone(cal, &st);
        if (U_SUCCESS(st)) {
            ucal_setGregorianChange(c2, -8.64e15, &st);
            udat_setCalendar(f, c2);
            ucal_close(c2);
        }
        st = U_ZERO_ERROR;
    }
    if (!cache_put(K_DTF, key, f)) {
        udat_close(f);
        JS_ThrowRangeError(ctx, "Intl: options too long");
        return NULL;
    }
    return f;
}

/* dtfFormat(tag, spec, tz, ms, parts) -> string | [[type, value]...] */
static JSValue js_dtf_format(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *spec = JS_ToCString(ctx, argv[1]);
    const char *tz = spec ? JS_ToCString(ctx, argv[2]) : NULL;
    double ms;
    JSValue r = JS_EXCEPTION;
    if (!spec || !tz || JS_ToFloat64(ctx, &ms, argv[3]) < 0)
        goto out;
    UDateFormat *f = dtf_get(ctx, loc, spec, tz);
    if (!f)
        goto out;
    UChar buf[512];
    UErrorCode st = U_ZERO_ERROR;
    if (!JS_ToBool(ctx, argv[4])) {
        int32_t n = udat_format(f, ms, buf, 512, NULL, &st);
        r = U_FAILURE(st) ? icu_error(ctx, "format", st) : from_u16(ctx, buf, n);
        goto out;
    }
    UFieldPositionIterator *it = ufieldpositer_open(&st);
    int32_t n = udat_formatForFields(f, ms, buf, 512, it, &st);
    if (U_FAILURE(st)) {
        ufieldpositer_close(it);
        r = icu_error(ctx, "format", st);
        goto out;
    }
    span sp[64];
    int k = 0;
    int32_t b, e, fld;
    while (k < 64 && (fld = ufieldpositer_next(it, &b, &e)) >= 0)
        sp[k++] = (span){ fld, b, e };
    ufieldpositer_close(it);
    r = parts_array(ctx, buf, n, sp, k, dtf_names, UDAT_FIELD_COUNT);
out:
    JS_FreeCString(ctx, spec);
    JS_FreeCString(ctx, tz);
    return r;
}

/* dtfPattern(tag, spec, tz) -> the ICU pattern (for resolvedOptions' hourCycle). */
static JSValue js_dtf_pattern(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *spec = JS_ToCString(ctx, argv[1]);
    const char *tz = spec ? JS_ToCString(ctx, argv[2]) : NULL;
    JSValue r = JS_EXCEPTION;
    UDateFormat *f = spec && tz ? dtf_get(ctx, loc, spec, tz) : NULL;
    if (f) {
        UChar buf[256];
        UErrorCode st = U_ZERO_ERROR;
        int32_t n = udat_toPattern(f, false, buf, 256, &st);
        r = U_FAILURE(st) ? icu_error(ctx, "pattern", st) : from_u16(ctx, buf, n);
    }
    JS_FreeCString(ctx, spec);
    JS_FreeCString(ctx, tz);
    return r;
}

/* canonTimeZone(name) -> the canonical IANA id, or undefined if unknown. */
static JSValue js_canon_tz(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int32_t l;
    UChar *u = to_u16(ctx, argv[0], &l);
    if (!u)
        return JS_EXCEPTION;
    UChar out[128];
    UBool sys = 0;
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = ucal_getCanonicalTimeZoneID(u, l, out, 128, &sys, &st);
    free(u);
    if (U_FAILURE(st) || !sys)
        return JS_UNDEFINED;
    return from_u16(ctx, out, n);
}

/* ---- NumberFormat ---- */

static const char *const nf_names[UNUM_COMPACT_FIELD + 2] = {
    [UNUM_INTEGER_FIELD] = "integer",
    [UNUM_FRACTION_FIELD] = "fraction",
    [UNUM_DECIMAL_SEPARATOR_FIELD] = "decimal",
    [UNUM_EXPONENT_SYMBOL_FIELD] = "exponentSeparator",
    [UNUM_EXPONENT_SIGN_FIELD] = "exponentMinusSign",
    [UNUM_EXPONENT_FIELD] = "exponentInteger",
    [UNUM_GROUPING_SEPARATOR_FIELD] = "group",
    [UNUM_CURRENCY_FIELD] = "currency",
    [UNUM_PERCENT_FIELD] = "percentSign",
    [UNUM_PERMILL_FIELD] = "permill",
    [UNUM_SIGN_FIELD] = "minusSign",
    [UNUM_MEASURE_UNIT_FIELD] = "unit",
    [UNUM_COMPACT_FIELD] = "compact",
    [UNUM_COMPACT_FIELD + 1] = "plusSign",
};

/* nfFormat(tag, skeleton, value, parts) -> string | parts. value is a number or a
 * decimal string (BigInt). Sign parts: "plusSign" when the text is "+". */
static JSValue js_nf_format(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *sk = JS_ToCString(ctx, argv[1]);
    if (!sk)
        return JS_EXCEPTION;
    char key[KEY_MAX * 2];
    snprintf(key, sizeof key, "%s|%s", loc, sk);
    UErrorCode st = U_ZERO_ERROR;
    UNumberFormatter *f = cache_get(K_NF, key);
    if (!f) {
        int32_t l;
        UChar *u = to_u16(ctx, argv[1], &l);
        if (!u) {
            JS_FreeCString(ctx, sk);
            return JS_EXCEPTION;
        }
        UParseError pe;
        f = unumf_openForSkeletonAndLocaleWithError(u, l, loc, &pe, &st);
        free(u);
        if (U_FAILURE(st)) {
            JSValue e = JS_ThrowRangeError(ctx, "Intl.NumberFormat: unsupported options (%s: %s)",
                                           u_errorName(st), sk);
            JS_FreeCString(ctx, sk);
            return e;
        }
        if (!cache_put(K_NF, key, f)) {
            unumf_close(f);
            JS_FreeCString(ctx, sk);
            return JS_ThrowRangeError(ctx, "Intl: options too long");
        }
    }
    JS_FreeCString(ctx, sk);
    UFormattedNumber *res = unumf_openResult(&st);
    if (JS_IsString(argv[2])) {
        const char *d = JS_ToCString(ctx, argv[2]);
        if (!d) {
            unumf_closeResult(res);
            return JS_EXCEPTION;
        }
        unumf_formatDecimal(f, d, (int32_t)strlen(d), res, &st);
        JS_FreeCString(ctx, d);
    } else {
        double x;
        if (JS_ToFloat64(ctx, &x, argv[2]) < 0) {
            unumf_closeResult(res);
            return JS_EXCEPTION;
        }
        unumf_formatDouble(f, x, res, &st);
    }
    UChar sbuf[512], *buf = sbuf;
    int32_t n = unumf_resultToString(res, buf, 512, &st);
    if (st == U_BUFFER_OVERFLOW_ERROR) { /* a BigInt of many digits */
        st = U_ZERO_ERROR;
        buf = malloc(((size_t)n + 1) * sizeof(UChar));
        if (!buf) {
            unumf_closeResult(res);
            return JS_ThrowOutOfMemory(ctx);
        }
        n = unumf_resultToString(res, buf, n + 1, &st);
    }
    JSValue r;
    if (U_FAILURE(st)) {
        r = icu_error(ctx, "NumberFormat", st);
        goto done;
    }
    if (!JS_ToBool(ctx, argv[3])) {
        r = from_u16(ctx, buf, n);
        goto done;
    }
    UFieldPositionIterator *it = ufieldpositer_open(&st);
    unumf_resultGetAllFieldPositions(res, it, &st);
    span sp[64];
    int k = 0;
    int32_t b, e, fld;
    while (k < 64 && (fld = ufieldpositer_next(it, &b, &e)) >= 0) {
        if (fld == UNUM_SIGN_FIELD && e - b == 1 && buf[b] == '+')
            fld = UNUM_COMPACT_FIELD + 1; /* plusSign */
        sp[k++] = (span){ fld, b, e };
    }
    ufieldpositer_close(it);
    r = parts_array(ctx, buf, n, sp, k, nf_names, UNUM_COMPACT_FIELD + 2);
done:
    unumf_closeResult(res);
    if (buf != sbuf)
        free(buf);
    return r;
}

/* ---- Collator ---- */

/* collate(tag, a, b, sensitivity, numeric, ignorePunctuation, caseFirst) -> -1|0|1 */
static JSValue js_collate(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *sens = JS_ToCString(ctx, argv[3]);
    if (!sens)
        return JS_EXCEPTION;
    int numeric = JS_ToBool(ctx, argv[4]), ignp = JS_ToBool(ctx, argv[5]);
    const char *cf = JS_ToCString(ctx, argv[6]);
    char key[KEY_MAX * 2];
    snprintf(key, sizeof key, "%s|%s|%d|%d|%s", loc, sens, numeric, ignp, cf ? cf : "");
    UErrorCode st = U_ZERO_ERROR;
    UCollator *c = cache_get(K_COL, key);
    if (!c) {
        c = ucol_open(loc, &st);
        if (U_FAILURE(st)) {
            JS_FreeCString(ctx, sens);
            JS_FreeCString(ctx, cf);
            return icu_error(ctx, "Collator", st);
        }
        if (!strcmp(sens, "base")) {
            ucol_setStrength(c, UCOL_PRIMARY);
        } else if (!strcmp(sens, "accent")) {
            ucol_setStrength(c, UCOL_SECONDARY);
        } else if (!strcmp(sens, "case")) {
            ucol_setStrength(c, UCOL_PRIMARY);
            ucol_setAttribute(c, UCOL_CASE_LEVEL, UCOL_ON, &st);
        } else {
            ucol_setStrength(c, UCOL_TERTIARY);
        }
        ucol_setAttribute(c, UCOL_NORMALIZATION_MODE, UCOL_ON, &st);
        if (numeric)
            ucol_setAttribute(c, UCOL_NUMERIC_COLLATION, UCOL_ON, &st);
        if (ignp)
            ucol_setAttribute(c, UCOL_ALTERNATE_HANDLING, UCOL_SHIFTED, &st);
        if (cf && !strcmp(cf, "upper"))
            ucol_setAttribute(c, UCOL_CASE_FIRST, UCOL_UPPER_FIRST, &st);
        else if (cf && !strcmp(cf, "lower"))
            ucol_setAttribute(c, UCOL_CASE_FIRST, UCOL_LOWER_FIRST, &st);
        st = U_ZERO_ERROR;
        if (!cache_put(K_COL, key, c)) {
            ucol_close(c);
            c = NULL;
        }
    }
    JS_FreeCString(ctx, sens);
    JS_FreeCString(ctx, cf);
    if (!c)
        return JS_ThrowRangeError(ctx, "Intl: options too long");
    int32_t al, bl;
    UChar *a = to_u16(ctx, argv[1], &al);
    UChar *b = a ? to_u16(ctx, argv[2], &bl) : NULL;
    if (!b) {
        free(a);
        return JS_EXCEPTION;
    }
    UCollationResult r = ucol_strcoll(c, a, al, b, bl);
    free(a);
    free(b);
    return JS_NewInt32(ctx, r == UCOL_LESS ? -1 : r == UCOL_GREATER ? 1 : 0);
}

/* ---- PluralRules ---- */

/* plural(tag, type, n, skeleton) -> category */
static JSValue js_plural(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    int ord = JS_ToBool(ctx, argv[1]);
    double x;
    if (JS_ToFloat64(ctx, &x, argv[2]) < 0)
        return JS_EXCEPTION;
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s|%d", loc, ord);
    UErrorCode st = U_ZERO_ERROR;
    UPluralRules *p = cache_get(K_PLU, key);
    if (!p) {
        p = uplrules_openForType(loc, ord ? UPLURAL_TYPE_ORDINAL : UPLURAL_TYPE_CARDINAL, &st);
        if (U_FAILURE(st))
            return icu_error(ctx, "PluralRules", st);
        if (!cache_put(K_PLU, key, p)) {
            uplrules_close(p);
            return JS_ThrowRangeError(ctx, "Intl: options too long");
        }
    }
    UChar kw[32];
    int32_t n;
    /* With a number formatter, "1.0" is "other" in English, as ECMA-402 asks. */
    if (argc > 3 && JS_IsString(argv[3])) {
        int32_t skl;
        UChar *sk = to_u16(ctx, argv[3], &skl);
        if (!sk)
            return JS_EXCEPTION;
        UNumberFormatter *nf = unumf_openForSkeletonAndLocale(sk, skl, loc, &st);
        free(sk);
        UFormattedNumber *res = unumf_openResult(&st);
        unumf_formatDouble(nf, x, res, &st);
        n = uplrules_selectFormatted(p, res, kw, 32, &st);
        unumf_closeResult(res);
        unumf_close(nf);
    } else {
        n = uplrules_select(p, x, kw, 32, &st);
    }
    if (U_FAILURE(st))
        return icu_error(ctx, "PluralRules", st);
    return from_u16(ctx, kw, n);
}

/* ---- RelativeTimeFormat ---- */

static int rtf_unit(const char *u)
{
    static const char *const units[] = { "year", "quarter", "month", "week", "day",
                                         "hour", "minute", "second" };
    for (int i = 0; i < 8; i++) {
        size_t l = strlen(units[i]);
        if (!strncmp(u, units[i], l) && (!u[l] || (u[l] == 's' && !u[l + 1])))
            return i;
    }
    return -1;
}

/* rtf(tag, style, numeric, value, unit) -> string */
static JSValue js_rtf(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *style = JS_ToCString(ctx, argv[1]);
    if (!style)
        return JS_EXCEPTION;
    int always = JS_ToBool(ctx, argv[2]);
    double x;
    const char *unit = JS_ToCString(ctx, argv[4]);
    if (!unit || JS_ToFloat64(ctx, &x, argv[3]) < 0) {
        JS_FreeCString(ctx, style);
        JS_FreeCString(ctx, unit);
        return JS_EXCEPTION;
    }
    int ui = rtf_unit(unit);
    JS_FreeCString(ctx, unit);
    if (ui < 0) {
        JS_FreeCString(ctx, style);
        return JS_ThrowRangeError(ctx, "Invalid unit argument for format()");
    }
    UDateRelativeDateTimeFormatterStyle s = !strcmp(style, "short")    ? UDAT_STYLE_SHORT
                                            : !strcmp(style, "narrow") ? UDAT_STYLE_NARROW
                                                                       : UDAT_STYLE_LONG;
    JS_FreeCString(ctx, style);
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s|%d", loc, (int)s);
    UErrorCode st = U_ZERO_ERROR;
    URelativeDateTimeFormatter *f = cache_get(K_RTF, key);
    if (!f) {
        f = ureldatefmt_open(loc, NULL, s, UDISPCTX_CAPITALIZATION_NONE, &st);
        if (U_FAILURE(st))
            return icu_error(ctx, "RelativeTimeFormat", st);
        if (!cache_put(K_RTF, key, f)) {
            ureldatefmt_close(f);
            return JS_ThrowRangeError(ctx, "Intl: options too long");
        }
    }
    static const URelativeDateTimeUnit map[] = { UDAT_REL_UNIT_YEAR, UDAT_REL_UNIT_QUARTER,
                                                 UDAT_REL_UNIT_MONTH, UDAT_REL_UNIT_WEEK,
                                                 UDAT_REL_UNIT_DAY, UDAT_REL_UNIT_HOUR,
                                                 UDAT_REL_UNIT_MINUTE, UDAT_REL_UNIT_SECOND };
    UChar buf[256];
    int32_t n = always ? ureldatefmt_formatNumeric(f, x, map[ui], buf, 256, &st)
                       : ureldatefmt_format(f, x, map[ui], buf, 256, &st);
    if (U_FAILURE(st))
        return icu_error(ctx, "RelativeTimeFormat", st);
    return from_u16(ctx, buf, n);
}

/* ---- ListFormat ---- */

/* list(tag, type, style, [strings]) -> string */
static JSValue js_list(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *type = JS_ToCString(ctx, argv[1]);
    const char *style = type ? JS_ToCString(ctx, argv[2]) : NULL;
    if (!style) {
        JS_FreeCString(ctx, type);
        return JS_EXCEPTION;
    }
    UListFormatterType t = !strcmp(type, "disjunction") ? ULISTFMT_TYPE_OR
                           : !strcmp(type, "unit")      ? ULISTFMT_TYPE_UNITS
                                                        : ULISTFMT_TYPE_AND;
    UListFormatterWidth w = !strcmp(style, "short")    ? ULISTFMT_WIDTH_SHORT
                            : !strcmp(style, "narrow") ? ULISTFMT_WIDTH_NARROW
                                                       : ULISTFMT_WIDTH_WIDE;
    JS_FreeCString(ctx, type);
    JS_FreeCString(ctx, style);
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s|%d|%d", loc, (int)t, (int)w);
    UErrorCode st = U_ZERO_ERROR;
    UListFormatter *f = cache_get(K_LST, key);
    if (!f) {
        f = ulistfmt_openForType(loc, t, w, &st);
        if (U_FAILURE(st))
            return icu_error(ctx, "ListFormat", st);
        if (!cache_put(K_LST, key, f)) {
            ulistfmt_close(f);
            return JS_ThrowRangeError(ctx, "Intl: options too long");
        }
    }
    uint32_t count;
    JSValue lv = JS_GetPropertyStr(ctx, argv[3], "length");
    if (JS_ToUint32(ctx, &count, lv) < 0) {
        JS_FreeValue(ctx, lv);
        return JS_EXCEPTION;
    }
    JS_FreeValue(ctx, lv);
    if (count > 100000)
        return JS_ThrowRangeError(ctx, "Intl.ListFormat: too many items");
    UChar **items = calloc(count + 1, sizeof *items);
    int32_t *lens = calloc(count + 1, sizeof *lens);
    JSValue r = JS_EXCEPTION;
    uint32_t i = 0;
    if (!items || !lens) {
        r = JS_ThrowOutOfMemory(ctx);
        goto out;
    }
    for (; i < count; i++) {
        JSValue v = JS_GetPropertyUint32(ctx, argv[3], i);
        items[i] = to_u16(ctx, v, &lens[i]);
        JS_FreeValue(ctx, v);
        if (!items[i])
            goto out;
    }
    int32_t n = ulistfmt_format(f, (const UChar *const *)items, lens, (int32_t)count, NULL, 0, &st);
    if (st == U_BUFFER_OVERFLOW_ERROR || (U_SUCCESS(st) && n >= 0)) {
        st = U_ZERO_ERROR;
        UChar *buf = malloc(((size_t)n + 1) * sizeof(UChar));
        if (!buf) {
            r = JS_ThrowOutOfMemory(ctx);
            goto out;
        }
        n = ulistfmt_format(f, (const UChar *const *)items, lens, (int32_t)count, buf, n + 1, &st);
        r = U_FAILURE(st) ? icu_error(ctx, "ListFormat", st) : from_u16(ctx, buf, n);
        free(buf);
    } else {
        r = icu_error(ctx, "ListFormat", st);
    }
out:
    for (uint32_t j = 0; j < i && items; j++)
        free(items[j]);
    free(items);
    free(lens);
    return r;
}

/* ---- Segmenter ---- */

/* segment(tag, granularity, string) -> [b0, s0, b1, s1, ...]: the UTF-16 start of each
 * segment and its ICU rule status (word: >= 100 means word-like); the string's length
 * ends the list. */
static JSValue js_segment(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *g = JS_ToCString(ctx, argv[1]);
    if (!g)
        return JS_EXCEPTION;
    UBreakIteratorType t = !strcmp(g, "word")       ? UBRK_WORD
                           : !strcmp(g, "sentence") ? UBRK_SENTENCE
                                                    : UBRK_CHARACTER;
    JS_FreeCString(ctx, g);
    int32_t l;
    UChar *u = to_u16(ctx, argv[2], &l);
    if (!u)
        return JS_EXCEPTION;
    UErrorCode st = U_ZERO_ERROR;
    UBreakIterator *bi = ubrk_open(t, loc, u, l, &st);
    if (U_FAILURE(st)) {
        free(u);
        return icu_error(ctx, "Segmenter", st);
    }
    JSValue a = JS_NewArray(ctx);
    uint32_t k = 0;
    int32_t p = ubrk_first(bi);
    while (p != UBRK_DONE) {
        JS_SetPropertyUint32(ctx, a, k++, JS_NewInt32(ctx, p));
        int32_t nx = ubrk_next(bi);
        JS_SetPropertyUint32(ctx, a, k++, JS_NewInt32(ctx, nx == UBRK_DONE ? 0 : ubrk_getRuleStatus(bi)));
        p = nx;
    }
    ubrk_close(bi);
    free(u);
    return a;
}

static const JSCFunctionListEntry intl_natives[] = {
    JS_CFUNC_DEF("intlCanon", 1, js_canon),
    JS_CFUNC_DEF("intlLocaleInfo", 1, js_locale_info),
    JS_CFUNC_DEF("intlDtfFormat", 5, js_dtf_format),
    JS_CFUNC_DEF("intlDtfPattern", 3, js_dtf_pattern),
    JS_CFUNC_DEF("intlCanonTimeZone", 1, js_canon_tz),
    JS_CFUNC_DEF("intlNfFormat", 4, js_nf_format),
    JS_CFUNC_DEF("intlCollate", 7, js_collate),
    JS_CFUNC_DEF("intlPlural", 4, js_plural),
    JS_CFUNC_DEF("intlRtf", 5, js_rtf),
    JS_CFUNC_DEF("intlList", 4, js_list),
    JS_CFUNC_DEF("intlSegment", 3, js_segment),
};

int web_intl_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, intl_natives, sizeof intl_natives / sizeof intl_natives[0]);
    return 0;
}
