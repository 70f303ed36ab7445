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
#include <unicode/ucurr.h>
#include <unicode/udat.h>
#include <unicode/udateintervalformat.h>
#include <unicode/udatpg.h>
#include <unicode/ufieldpositer.h>
#include <unicode/ulistformatter.h>
#include <unicode/uldnames.h>
#include <unicode/uloc.h>
#include <unicode/unumberrangeformatter.h>
#include <unicode/unumsys.h>
#include <unicode/unumberformatter.h>
#include <unicode/upluralrules.h>
#include <unicode/ureldatefmt.h>
#include <unicode/ures.h>
#include <unicode/ustring.h>

#include "web/web.h"

enum { K_DTF = 1, K_NF, K_COL, K_PLU, K_RTF, K_LST, K_LDN, K_DTI, K_NRF };
/* ICU 72 numbers its "approximately" sign (a range like "~3") UNUM_COMPACT_FIELD + 1;
 * a '+' sign (ICU's sign field) is told apart as NF_PLUS. */
#define NF_APPROX (UNUM_COMPACT_FIELD + 1)
#define NF_PLUS (UNUM_COMPACT_FIELD + 2)
#define NF_NAMES (UNUM_COMPACT_FIELD + 3)
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
    case K_LDN: uldn_close(o); break;
    case K_DTI: udtitvfmt_close(o); break;
    case K_NRF: unumrf_close(o); break;
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

/* Takes ownership of o. A key too long to cache (options or a tag far beyond any real
 * one) closes o and throws RangeError: false. */
static bool cache_put(JSContext *ctx, int kind, const char *key, void *o)
{
    if (strlen(key) >= KEY_MAX) {
        obj_close(kind, o);
        JS_ThrowRangeError(ctx, "Intl: options too long");
        return false;
    }
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

/* An ICU call that wrote a NUL-terminated string into a fixed buffer succeeded and
 * the string fit: a string that exactly fills the buffer comes back unterminated
 * with only a warning, and reading it would run past the buffer. */
static bool icu_ok(UErrorCode st)
{
    return U_SUCCESS(st) && st != U_STRING_NOT_TERMINATED_WARNING;
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

/* The replacement metadata.res's alias table (language, script or territory) has for
 * key, into out. */
static bool alias_of(UResourceBundle *alias, const char *table, const char *key, char *out,
                     size_t cap)
{
    UErrorCode st = U_ZERO_ERROR;
    UResourceBundle *t = ures_getByKey(alias, table, NULL, &st);
    UResourceBundle *e = ures_getByKey(t, key, NULL, &st);
    UResourceBundle *r = ures_getByKey(e, "replacement", NULL, &st);
    int32_t n = 0;
    const UChar *u = U_SUCCESS(st) ? ures_getString(r, &n, &st) : NULL;
    bool ok = U_SUCCESS(st) && u && n > 0 && (size_t)n < cap;
    if (ok) {
        u_UCharsToChars(u, out, n);
        out[n] = 0;
    }
    ures_close(r);
    ures_close(e);
    ures_close(t);
    return ok;
}

/* CLDR's alias replacement for an ICU locale id, as ICU's C++ Locale::canonicalize
 * does it for V8 (ICU 72's C API maps only BCP 47's deprecated codes, iw -> he): a
 * language alias (sh -> sr_Latn, tl -> fil, cmn -> zh; its script and region fill
 * those the id lacks), a script alias (Qaai -> Zinh) and a region alias (UK -> GB;
 * of several, SU -> RU AM AZ ..., the one the language's likely region names, else
 * the first). Variant aliases are not applied. loc is rewritten in place when it
 * changes and the result fits. */
static void apply_aliases(char *loc, size_t cap)
{
    char lang[16] = "", script[16] = "", region[16] = "", variant[ULOC_FULLNAME_CAPACITY] = "";
    char rep[256];
    UErrorCode st = U_ZERO_ERROR;
    uloc_getLanguage(loc, lang, sizeof lang, &st);
    uloc_getScript(loc, script, sizeof script, &st);
    uloc_getCountry(loc, region, sizeof region, &st);
    uloc_getVariant(loc, variant, sizeof variant, &st);
    if (!icu_ok(st))
        return;
    UResourceBundle *meta = ures_openDirect(NULL, "metadata", &st);
    UResourceBundle *alias = ures_getByKey(meta, "alias", NULL, &st);
    bool changed = false;
    if (U_SUCCESS(st) && lang[0] && alias_of(alias, "language", lang, rep, sizeof rep)) {
        char rl[16] = "", rs[16] = "", rr[16] = "";
        UErrorCode s2 = U_ZERO_ERROR;
        uloc_getLanguage(rep, rl, sizeof rl, &s2);
        uloc_getScript(rep, rs, sizeof rs, &s2);
        uloc_getCountry(rep, rr, sizeof rr, &s2);
        if (icu_ok(s2) && rl[0]) {
            memcpy(lang, rl, sizeof lang);
            if (!script[0])
                memcpy(script, rs, sizeof script);
            if (!region[0])
                memcpy(region, rr, sizeof region);
            changed = true;
        }
    }
    if (U_SUCCESS(st) && script[0] && alias_of(alias, "script", script, rep, sizeof rep) &&
        strlen(rep) < sizeof script) {
        memcpy(script, rep, strlen(rep) + 1);
        changed = true;
    }
    if (U_SUCCESS(st) && region[0] && alias_of(alias, "territory", region, rep, sizeof rep)) {
        char *pick = rep, *sp = strchr(rep, ' ');
        if (sp) {
            char base[40], likely[ULOC_FULLNAME_CAPACITY], lr[16] = "";
            UErrorCode s2 = U_ZERO_ERROR;
            snprintf(base, sizeof base, "%s%s%s", lang, script[0] ? "_" : "", script);
            uloc_addLikelySubtags(base, likely, sizeof likely, &s2);
            if (icu_ok(s2))
                uloc_getCountry(likely, lr, sizeof lr, &s2);
            *sp = 0;
            for (char *tok = sp + 1; icu_ok(s2) && lr[0] && !strcmp(pick, rep) && tok;) {
                char *next = strchr(tok, ' ');
                if (next)
                    *next++ = 0;
                if (!strcmp(tok, lr))
                    pick = tok;
                tok = next;
            }
            if (icu_ok(s2) && !strcmp(rep, lr))
                pick = rep;
        }
        if (strlen(pick) < sizeof region) {
            memmove(region, pick, strlen(pick) + 1);
            changed = true;
        }
    }
    ures_close(alias);
    ures_close(meta);
    if (!changed)
        return;
    const char *kw = strchr(loc, '@');
    char out[ULOC_FULLNAME_CAPACITY];
    int n = snprintf(out, sizeof out, "%s%s%s%s%s%s%s%s", lang, script[0] ? "_" : "", script,
                     region[0] || variant[0] ? "_" : "", region, variant[0] ? "_" : "", variant,
                     kw ? kw : "");
    if (n > 0 && (size_t)n < cap && (size_t)n < sizeof out)
        memcpy(loc, out, (size_t)n + 1);
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
    if (!icu_ok(st) || parsed != tl) /* "und" is the root locale, "" */
        return -1;
    apply_aliases(loc, sizeof loc);
    uloc_toLanguageTag(loc, out, (int32_t)cap, true, &st);
    if (!icu_ok(st))
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
    if (!icu_ok(st))
        return JS_ThrowRangeError(ctx, "Incorrect locale information provided");
    uloc_getLanguage(loc, lang, sizeof lang, &st);
    if (icu_ok(st))
        uloc_getScript(loc, script, sizeof script, &st);
    if (icu_ok(st))
        uloc_getCountry(loc, region, sizeof region, &st);
    if (icu_ok(st))
        uloc_getBaseName(loc, base, sizeof base, &st);
    if (icu_ok(st))
        uloc_toLanguageTag(base, btag, sizeof btag, false, &st);
    if (!icu_ok(st))
        return JS_ThrowRangeError(ctx, "Incorrect locale information provided");
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
    if (!icu_ok(st)) {
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
 * text outside known fields is "literal". With src (one entry a unit: 0 start,
 * 1 end, -1 shared), runs also break where src changes and each part gets a third
 * element, "startRange" / "endRange" / "shared" (formatRangeToParts). */
static JSValue parts_src(JSContext *ctx, const UChar *s, int32_t len, span *sp, int n,
                         const char *const *names, int nnames, const int8_t *src)
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
        while (j < len && lab[j] == lab[i] && (lab[i] == -1 || wid[j] == wid[i]) && (!src || src[j] == src[i]))
            j++;
        JSValue p = part(ctx, lab[i] < 0 ? "literal" : names[lab[i]], s + i, j - i);
        if (src)
            JS_SetPropertyUint32(ctx, p, 2, JS_NewString(ctx, src[i] == 0 ? "startRange" : src[i] == 1 ? "endRange" : "shared"));
        JS_SetPropertyUint32(ctx, a, k++, p);
        i = j;
    }
    free(lab);
    free(wid);
    return a;
}

static JSValue parts_array(JSContext *ctx, const UChar *s, int32_t len, span *sp, int n,
                           const char *const *names, int nnames)
{
    return parts_src(ctx, s, len, sp, n, names, nnames, NULL);
}

/* A formatted value (UFormattedValue of a list, relative time, date or number range)
 * -> its string, or with parts its [[type, text(, source)]...]: fields of category
 * cat name parts by names; with a span category (rangecat), each unit inside span 0
 * / 1 is marked start / end. A '+' sign of a number is "plusSign". */
static JSValue value_result(JSContext *ctx, const UFormattedValue *fv, bool parts, int cat,
                            const char *const *names, int nnames, int rangecat)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t len = 0;
    const UChar *str = ufmtval_getString(fv, &len, &st);
    if (U_FAILURE(st))
        return icu_error(ctx, "format", st);
    if (!parts)
        return from_u16(ctx, str, len);
    UConstrainedFieldPosition *pos = ucfpos_open(&st);
    if (U_FAILURE(st))
        return icu_error(ctx, "format", st);
    int8_t *src = NULL;
    if (rangecat) {
        src = malloc((size_t)len + 1);
        if (!src) {
            ucfpos_close(pos);
            return JS_ThrowOutOfMemory(ctx);
        }
        memset(src, -1, (size_t)len + 1);
    }
    span sp[128];
    int k = 0;
    while (k < 128 && ufmtval_nextPosition(fv, pos, &st) && U_SUCCESS(st)) {
        int32_t c = ucfpos_getCategory(pos, &st), f = ucfpos_getField(pos, &st), b, e;
        ucfpos_getIndexes(pos, &b, &e, &st);
        if (U_FAILURE(st) || b < 0 || e > len || b > e)
            break;
        if (c == cat) {
            if (cat == UFIELD_CATEGORY_NUMBER && f == UNUM_SIGN_FIELD && e - b == 1 && str[b] == '+')
                f = NF_PLUS;
            sp[k++] = (span){ f, b, e };
        } else if (src && c == rangecat && (f == 0 || f == 1)) {
            memset(src + b, f, (size_t)(e - b));
        }
    }
    ucfpos_close(pos);
    if (U_FAILURE(st)) {
        free(src);
        return icu_error(ctx, "format", st);
    }
    JSValue r = parts_src(ctx, str, len, sp, k, names, nnames, src);
    free(src);
    return r;
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
    [UDAT_YEAR_NAME_FIELD] = "yearName",
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
        if (st == U_STRING_NOT_TERMINATED_WARNING)
            st = U_BUFFER_OVERFLOW_ERROR;
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
    if (!cache_put(ctx, K_DTF, key, f))
        return NULL;
    return f;
}

/* The first arguments of the DateTimeFormat natives: (tag, spec, tz, time, [time2]).
 * On success the caller frees *spec and *tz; on failure an exception is set and
 * nothing is left to free. */
static int dtf_args(JSContext *ctx, JSValueConst *argv, int ntimes, char *loc, size_t cap, const char **spec,
                    const char **tz, double *t)
{
    *spec = *tz = NULL;
    if (icu_loc(ctx, argv[0], loc, cap) < 0)
        return -1;
    *spec = JS_ToCString(ctx, argv[1]);
    *tz = *spec ? JS_ToCString(ctx, argv[2]) : NULL;
    for (int i = 0; *tz && i < ntimes; i++)
        if (JS_ToFloat64(ctx, &t[i], argv[3 + i]) < 0)
            goto fail;
    if (*tz)
        return 0;
fail:
    JS_FreeCString(ctx, *spec);
    JS_FreeCString(ctx, *tz);
    return -1;
}

/* dtfFormat(tag, spec, tz, ms, parts) -> string | [[type, value]...] */
static JSValue js_dtf_format(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    const char *spec, *tz;
    double ms;
    if (dtf_args(ctx, argv, 1, loc, sizeof loc, &spec, &tz, &ms) < 0)
        return JS_EXCEPTION;
    JSValue r = JS_EXCEPTION;
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
    const char *spec, *tz;
    if (dtf_args(ctx, argv, 0, loc, sizeof loc, &spec, &tz, NULL) < 0)
        return JS_EXCEPTION;
    JSValue r = JS_EXCEPTION;
    UDateFormat *f = dtf_get(ctx, loc, spec, tz);
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

/* dtfRange(tag, spec, tz, from, to, parts) -> string | [[type, text, source]...]:
 * ICU's interval format for the skeleton of the formatter's pattern. */
static JSValue js_dtf_range(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    const char *spec, *tz;
    double t[2];
    if (dtf_args(ctx, argv, 2, loc, sizeof loc, &spec, &tz, t) < 0)
        return JS_EXCEPTION;
    JSValue r = JS_EXCEPTION;
    char key[KEY_MAX * 2];
    snprintf(key, sizeof key, "%s|%s|%s", loc, spec, tz);
    UErrorCode st = U_ZERO_ERROR;
    UDateIntervalFormat *di = cache_get(K_DTI, key);
    if (!di) {
        UDateFormat *f = dtf_get(ctx, loc, spec, tz);
        if (!f)
            goto out;
        UChar pat[256], sk[256], utz[128];
        int32_t pl = udat_toPattern(f, false, pat, 256, &st);
        int32_t sl = icu_ok(st) ? udatpg_getSkeleton(NULL, pat, pl, sk, 256, &st) : 0;
        u_uastrncpy(utz, tz, 127);
        utz[127] = 0;
        if (icu_ok(st))
            di = udtitvfmt_open(loc, sk, sl, utz, u_strlen(utz), &st);
        if (!icu_ok(st) || !di) {
            r = icu_error(ctx, "DateTimeFormat", st);
            goto out;
        }
        if (!cache_put(ctx, K_DTI, key, di))
            goto out;
    }
    UFormattedDateInterval *res = udtitvfmt_openResult(&st);
    udtitvfmt_formatToResult(di, t[0], t[1], res, &st);
    const UFormattedValue *fv = udtitvfmt_resultAsValue(res, &st);
    r = U_FAILURE(st) ? icu_error(ctx, "formatRange", st)
                      : value_result(ctx, fv, JS_ToBool(ctx, argv[5]), UFIELD_CATEGORY_DATE, dtf_names,
                                     UDAT_FIELD_COUNT, UFIELD_CATEGORY_DATE_INTERVAL_SPAN);
    udtitvfmt_closeResult(res);
out:
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

/* Part names by ICU number field (NF_APPROX, NF_PLUS: see the top). */
static const char *const nf_names[NF_NAMES] = {
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
    [NF_APPROX] = "approximatelySign",
    [NF_PLUS] = "plusSign",
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
        if (!cache_put(ctx, K_NF, key, f)) {
            JS_FreeCString(ctx, sk);
            return JS_EXCEPTION;
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
            fld = NF_PLUS;
        sp[k++] = (span){ fld, b, e };
    }
    ufieldpositer_close(it);
    r = parts_array(ctx, buf, n, sp, k, nf_names, NF_NAMES);
done:
    unumf_closeResult(res);
    if (buf != sbuf)
        free(buf);
    return r;
}

/* nfRange(tag, skeleton, x, y, mode, pluralType) -> mode 0: string, 1: parts with
 * sources (NumberFormat formatRange/ToParts), 2: the plural category of the range
 * (PluralRules selectRange, pluralType 1 for ordinal). */
static JSValue js_nf_range(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    double x, y;
    int32_t mode, ord;
    if (JS_ToFloat64(ctx, &x, argv[2]) < 0 || JS_ToFloat64(ctx, &y, argv[3]) < 0 ||
        JS_ToInt32(ctx, &mode, argv[4]) < 0 || JS_ToInt32(ctx, &ord, argv[5]) < 0)
        return JS_EXCEPTION;
    const char *sk = JS_ToCString(ctx, argv[1]);
    if (!sk)
        return JS_EXCEPTION;
    char key[KEY_MAX * 2];
    snprintf(key, sizeof key, "%s|%s", loc, sk);
    JS_FreeCString(ctx, sk);
    UErrorCode st = U_ZERO_ERROR;
    UNumberRangeFormatter *f = cache_get(K_NRF, key);
    if (!f) {
        int32_t l;
        UChar *u = to_u16(ctx, argv[1], &l);
        if (!u)
            return JS_EXCEPTION;
        UParseError pe;
        f = unumrf_openForSkeletonWithCollapseAndIdentityFallback(u, l, UNUM_RANGE_COLLAPSE_AUTO,
                                                                  UNUM_IDENTITY_FALLBACK_APPROXIMATELY, loc, &pe, &st);
        free(u);
        if (U_FAILURE(st))
            return icu_error(ctx, "NumberFormat", st);
        if (!cache_put(ctx, K_NRF, key, f))
            return JS_EXCEPTION;
    }
    UFormattedNumberRange *res = unumrf_openResult(&st);
    unumrf_formatDoubleRange(f, x, y, res, &st);
    JSValue r;
    if (U_FAILURE(st)) {
        r = icu_error(ctx, "formatRange", st);
    } else if (mode == 2) {
        UPluralRules *p = uplrules_openForType(loc, ord ? UPLURAL_TYPE_ORDINAL : UPLURAL_TYPE_CARDINAL, &st);
        UChar kw[32];
        int32_t n = U_SUCCESS(st) ? uplrules_selectForRange(p, res, kw, 32, &st) : 0;
        r = icu_ok(st) ? from_u16(ctx, kw, n) : icu_error(ctx, "PluralRules", st);
        uplrules_close(p);
    } else {
        const UFormattedValue *fv = unumrf_resultAsValue(res, &st);
        r = U_FAILURE(st) ? icu_error(ctx, "formatRange", st)
                          : value_result(ctx, fv, mode == 1, UFIELD_CATEGORY_NUMBER, nf_names, NF_NAMES,
                                         UFIELD_CATEGORY_NUMBER_RANGE_SPAN);
    }
    unumrf_closeResult(res);
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
        if (!cache_put(ctx, K_COL, key, c))
            c = NULL;
    }
    JS_FreeCString(ctx, sens);
    JS_FreeCString(ctx, cf);
    if (!c)
        return JS_EXCEPTION;
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
        if (!cache_put(ctx, K_PLU, key, p))
            return JS_EXCEPTION;
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

/* rtf(tag, style, numeric, value, unit, parts) -> string | [[type, text]...] (the
 * number's fields; the rest literal) */
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
        if (!cache_put(ctx, K_RTF, key, f))
            return JS_EXCEPTION;
    }
    static const URelativeDateTimeUnit map[] = { UDAT_REL_UNIT_YEAR, UDAT_REL_UNIT_QUARTER,
                                                 UDAT_REL_UNIT_MONTH, UDAT_REL_UNIT_WEEK,
                                                 UDAT_REL_UNIT_DAY, UDAT_REL_UNIT_HOUR,
                                                 UDAT_REL_UNIT_MINUTE, UDAT_REL_UNIT_SECOND };
    UFormattedRelativeDateTime *res = ureldatefmt_openResult(&st);
    if (always)
        ureldatefmt_formatNumericToResult(f, x, map[ui], res, &st);
    else
        ureldatefmt_formatToResult(f, x, map[ui], res, &st);
    const UFormattedValue *fv = ureldatefmt_resultAsValue(res, &st);
    JSValue r = U_FAILURE(st) ? icu_error(ctx, "RelativeTimeFormat", st)
                              : value_result(ctx, fv, argc > 5 && JS_ToBool(ctx, argv[5]), UFIELD_CATEGORY_NUMBER,
                                             nf_names, NF_NAMES, 0);
    ureldatefmt_closeResult(res);
    return r;
}

/* ---- ListFormat ---- */

/* list(tag, type, style, [strings], parts) -> string | [[type, text]...] */
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
        if (!cache_put(ctx, K_LST, key, f))
            return JS_EXCEPTION;
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
    static const char *const list_names[] = { [ULISTFMT_ELEMENT_FIELD] = "element" };
    UFormattedList *res = ulistfmt_openResult(&st);
    ulistfmt_formatStringsToResult(f, (const UChar *const *)items, lens, (int32_t)count, res, &st);
    const UFormattedValue *fv = ulistfmt_resultAsValue(res, &st);
    r = U_FAILURE(st) ? icu_error(ctx, "ListFormat", st)
                      : value_result(ctx, fv, argc > 4 && JS_ToBool(ctx, argv[4]), UFIELD_CATEGORY_LIST, list_names,
                                     ULISTFMT_ELEMENT_FIELD + 1, 0);
    ulistfmt_closeResult(res);
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

/* ---- DisplayNames ---- */

/* displayName(tag, type, style, dialect, code) -> the name, or undefined when ICU has
 * none (the caller applies fallback "code"). code is already validated and, for
 * "language", a canonical tag; "calendar" is a BCP 47 calendar id. */
static JSValue js_display_name(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *type = JS_ToCString(ctx, argv[1]);
    const char *style = type ? JS_ToCString(ctx, argv[2]) : NULL;
    const char *code = style ? JS_ToCString(ctx, argv[4]) : NULL;
    int dialect = JS_ToBool(ctx, argv[3]);
    JSValue r = JS_EXCEPTION;
    if (!code)
        goto out;
    int w = !strcmp(style, "narrow") ? 2 : !strcmp(style, "short") ? 1 : 0;
    UErrorCode st = U_ZERO_ERROR;
    UChar buf[256];
    int32_t n = 0;
    if (!strcmp(type, "dateTimeField")) {
        static const char *const fields[] = { "era", "year", "quarter", "month", "weekOfYear", "weekday",
                                              "day", "dayPeriod", "hour", "minute", "second", "timeZoneName" };
        static const UDateTimePatternField ids[] = { UDATPG_ERA_FIELD, UDATPG_YEAR_FIELD, UDATPG_QUARTER_FIELD,
                                                     UDATPG_MONTH_FIELD, UDATPG_WEEK_OF_YEAR_FIELD, UDATPG_WEEKDAY_FIELD,
                                                     UDATPG_DAY_FIELD, UDATPG_DAYPERIOD_FIELD, UDATPG_HOUR_FIELD,
                                                     UDATPG_MINUTE_FIELD, UDATPG_SECOND_FIELD, UDATPG_ZONE_FIELD };
        r = JS_UNDEFINED;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (!strcmp(code, fields[i])) {
                UDateTimePatternGenerator *g = udatpg_open(loc, &st);
                if (U_SUCCESS(st))
                    n = udatpg_getFieldDisplayName(g, ids[i], w == 0 ? UDATPG_WIDE : w == 1 ? UDATPG_ABBREVIATED : UDATPG_NARROW,
                                                   buf, 256, &st);
                udatpg_close(g);
                r = icu_ok(st) && n > 0 ? from_u16(ctx, buf, n) : JS_UNDEFINED;
            }
        goto out;
    }
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s|%d|%d", loc, w ? 1 : 0, dialect);
    ULocaleDisplayNames *ldn = cache_get(K_LDN, key);
    if (!ldn) {
        UDisplayContext cx[] = { dialect ? UDISPCTX_DIALECT_NAMES : UDISPCTX_STANDARD_NAMES,
                                 w ? UDISPCTX_LENGTH_SHORT : UDISPCTX_LENGTH_FULL, UDISPCTX_NO_SUBSTITUTE };
        ldn = uldn_openForContext(loc, cx, 3, &st);
        if (U_FAILURE(st)) {
            r = icu_error(ctx, "DisplayNames", st);
            goto out;
        }
        if (!cache_put(ctx, K_LDN, key, ldn))
            goto out;
    }
    if (!strcmp(type, "language")) {
        char id[ULOC_FULLNAME_CAPACITY];
        uloc_forLanguageTag(code, id, sizeof id, NULL, &st);
        if (icu_ok(st))
            n = uldn_localeDisplayName(ldn, id, buf, 256, &st);
    } else if (!strcmp(type, "region")) {
        n = uldn_regionDisplayName(ldn, code, buf, 256, &st);
    } else if (!strcmp(type, "script")) {
        n = uldn_scriptDisplayName(ldn, code, buf, 256, &st);
    } else if (!strcmp(type, "currency")) { /* V8 asks for the "currency" key's value name */
        n = uldn_keyValueDisplayName(ldn, "currency", code, buf, 256, &st);
    } else if (!strcmp(type, "calendar")) {
        const char *legacy = uloc_toLegacyType("calendar", code);
        n = uldn_keyValueDisplayName(ldn, "calendar", legacy ? legacy : code, buf, 256, &st);
    }
    r = icu_ok(st) && n > 0 ? from_u16(ctx, buf, n) : JS_UNDEFINED;
out:
    JS_FreeCString(ctx, type);
    JS_FreeCString(ctx, style);
    JS_FreeCString(ctx, code);
    return r;
}

/* ---- Available locales (ECMA-402 [[AvailableLocales]]) ----
 *
 * Sorted BCP 47-style names of the locales ICU has, built once per process, as V8
 * builds them: ICU's ids with '_' written '-' (en_US_POSIX as en-US-u-va-posix), and
 * for an id with a script also the id without it (zh_Hant_TW adds zh-TW). Three
 * lists: every locale (ICU's list with its legacy aliases; V8 uses it for every
 * constructor but two), the collators' and the plural rules'. Read-only once built,
 * so every shard thread shares them. */
enum { AV_ALL, AV_COLL, AV_PLURAL, AV_KINDS };

typedef struct {
    char **v;
    size_t n, cap;
} name_list;

static name_list avail[AV_KINDS];
static pthread_once_t avail_once = PTHREAD_ONCE_INIT;

static void list_add(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    char *d = strdup(s);
    if (d)
        l->v[l->n++] = d;
}

/* Adds an ICU id (or "ab_CD"-style key) and, when it has a script, its form
 * without the script. */
static void avail_add(name_list *l, const char *id)
{
    char name[ULOC_FULLNAME_CAPACITY];
    if (!strcmp(id, "en_US_POSIX"))
        snprintf(name, sizeof name, "en-US-u-va-posix");
    else
        snprintf(name, sizeof name, "%s", id);
    for (char *p = name; *p; p++)
        if (*p == '_')
            *p = '-';
    list_add(l, name);
    char canon[ULOC_FULLNAME_CAPACITY], lang[16] = "", script[16] = "", region[16] = "";
    UErrorCode st = U_ZERO_ERROR;
    uloc_canonicalize(id, canon, sizeof canon, &st);
    if (icu_ok(st))
        uloc_getScript(canon, script, sizeof script, &st);
    if (!icu_ok(st) || !script[0])
        return;
    uloc_getLanguage(canon, lang, sizeof lang, &st);
    uloc_getCountry(canon, region, sizeof region, &st);
    if (!icu_ok(st))
        return;
    snprintf(name, sizeof name, region[0] ? "%s-%s" : "%s", lang, region);
    list_add(l, name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void avail_build(void)
{
    UErrorCode st = U_ZERO_ERROR;
    UEnumeration *e = uloc_openAvailableByType(ULOC_AVAILABLE_WITH_LEGACY_ALIASES, &st);
    const char *id;
    while (e && (id = uenum_next(e, NULL, &st)) && U_SUCCESS(st))
        avail_add(&avail[AV_ALL], id);
    uenum_close(e);
    for (int32_t i = 0, n = ucol_countAvailable(); i < n; i++)
        avail_add(&avail[AV_COLL], ucol_getAvailable(i));
    /* the plural rules' locales: the keys of plurals.res's "locales" table */
    st = U_ZERO_ERROR;
    UResourceBundle *pl = ures_openDirect(NULL, "plurals", &st);
    UResourceBundle *locs = ures_getByKey(pl, "locales", NULL, &st);
    while (U_SUCCESS(st) && ures_hasNext(locs)) {
        const char *key = NULL;
        int32_t len;
        ures_getNextString(locs, &len, &key, &st);
        if (U_SUCCESS(st) && key)
            avail_add(&avail[AV_PLURAL], key);
    }
    ures_close(locs);
    ures_close(pl);
    for (int k = 0; k < AV_KINDS; k++)
        if (avail[k].n)
            qsort(avail[k].v, avail[k].n, sizeof *avail[k].v, cmp_str);
}

static bool avail_has(int kind, const char *name)
{
    return avail[kind].n &&
           bsearch(&name, avail[kind].v, avail[kind].n, sizeof *avail[kind].v, cmp_str);
}

/* bestAvailable(kind, tag) -> ECMA-402 BestAvailableLocale: the tag (a canonical tag
 * without its -u- extension) or the longest prefix of it ICU has, cut at subtags (a
 * singleton goes with the subtag before it), for kind 0 (every locale), 1 (Collator)
 * or 2 (PluralRules); undefined when none. */
static JSValue js_best_available(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    int32_t kind;
    if (JS_ToInt32(ctx, &kind, argv[0]) < 0)
        return JS_EXCEPTION;
    if (kind < 0 || kind >= AV_KINDS)
        kind = AV_ALL;
    pthread_once(&avail_once, avail_build);
    size_t n;
    const char *t = JS_ToCStringLen(ctx, &n, argv[1]);
    if (!t)
        return JS_EXCEPTION;
    char cand[ULOC_FULLNAME_CAPACITY];
    JSValue r = JS_UNDEFINED;
    if (n < sizeof cand) {
        memcpy(cand, t, n + 1);
        for (;;) {
            if (avail_has(kind, cand)) {
                r = JS_NewString(ctx, cand);
                break;
            }
            char *dash = strrchr(cand, '-');
            if (!dash)
                break;
            size_t pos = (size_t)(dash - cand);
            if (pos >= 2 && cand[pos - 2] == '-')
                pos -= 2;
            cand[pos] = 0;
        }
    }
    JS_FreeCString(ctx, t);
    return r;
}

/* ---- Locale info and supported values ---- */

/* Appends each string of an enumeration to the array a from index *k; with bcp, ICU
 * keyword values (key "calendar" or "collation") become their BCP 47 form. */
static void enum_to_array(JSContext *ctx, UEnumeration *e, JSValue a, uint32_t *k, const char *bcp)
{
    UErrorCode st = U_ZERO_ERROR;
    const char *v;
    int32_t l;
    while (e && (v = uenum_next(e, &l, &st)) && U_SUCCESS(st)) {
        if (bcp) {
            const char *b = uloc_toUnicodeLocaleType(bcp, v);
            v = b ? b : v;
            if (!strcmp(bcp, "collation") && (!strcmp(v, "standard") || !strcmp(v, "search") ||
                                              !strcmp(v, "big5han") || !strcmp(v, "gb2312")))
                continue; /* not offered by V8 (the last two are deprecated) */
        }
        JS_SetPropertyUint32(ctx, a, (*k)++, JS_NewString(ctx, v));
    }
    uenum_close(e);
}

/* localeData(tag, what) -> for "max"/"min" the likely-subtags tag; "calendars",
 * "collations" (the commonly used ones; "allCollations": all), "hourCycles",
 * "numberingSystems", "timeZones" -> array (timeZones undefined without a region);
 * "rtl" -> bool; "week" -> [firstDay, minimalDays, weekend days...] with Monday 1 ..
 * Sunday 7. */
static JSValue js_locale_data(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char loc[ULOC_FULLNAME_CAPACITY], out[ULOC_FULLNAME_CAPACITY];
    if (icu_loc(ctx, argv[0], loc, sizeof loc) < 0)
        return JS_EXCEPTION;
    const char *what = JS_ToCString(ctx, argv[1]);
    if (!what)
        return JS_EXCEPTION;
    UErrorCode st = U_ZERO_ERROR;
    JSValue r = JS_UNDEFINED;
    uint32_t k = 0;
    if (!strcmp(what, "max") || !strcmp(what, "min")) {
        char tagb[ULOC_FULLNAME_CAPACITY];
        if (what[1] == 'a')
            uloc_addLikelySubtags(loc, out, sizeof out, &st);
        else
            uloc_minimizeSubtags(loc, out, sizeof out, &st);
        if (icu_ok(st))
            uloc_toLanguageTag(out, tagb, sizeof tagb, false, &st);
        r = icu_ok(st) ? JS_NewString(ctx, tagb) : JS_ThrowRangeError(ctx, "Incorrect locale information provided");
    } else if (!strcmp(what, "calendars")) {
        r = JS_NewArray(ctx);
        enum_to_array(ctx, ucal_getKeywordValuesForLocale("calendar", loc, true, &st), r, &k, "calendar");
    } else if (!strcmp(what, "collations") || !strcmp(what, "allCollations")) {
        r = JS_NewArray(ctx);
        enum_to_array(ctx, ucol_getKeywordValuesForLocale("collation", loc, what[0] == 'c', &st), r, &k, "collation");
    } else if (!strcmp(what, "hourCycles")) {
        UDateTimePatternGenerator *g = udatpg_open(loc, &st);
        UDateFormatHourCycle hc = U_SUCCESS(st) ? udatpg_getDefaultHourCycle(g, &st) : UDAT_HOUR_CYCLE_23;
        udatpg_close(g);
        r = JS_NewArray(ctx);
        static const char *const names[] = { [UDAT_HOUR_CYCLE_11] = "h11", [UDAT_HOUR_CYCLE_12] = "h12",
                                             [UDAT_HOUR_CYCLE_23] = "h23", [UDAT_HOUR_CYCLE_24] = "h24" };
        if (U_SUCCESS(st))
            JS_SetPropertyUint32(ctx, r, 0, JS_NewString(ctx, names[hc]));
    } else if (!strcmp(what, "numberingSystems")) {
        UNumberingSystem *ns = unumsys_open(loc, &st);
        r = JS_NewArray(ctx);
        if (U_SUCCESS(st))
            JS_SetPropertyUint32(ctx, r, 0, JS_NewString(ctx, unumsys_getName(ns)));
        unumsys_close(ns);
    } else if (!strcmp(what, "timeZones")) {
        char region[8] = "";
        uloc_getCountry(loc, region, sizeof region, &st);
        if (icu_ok(st) && region[0]) {
            r = JS_NewArray(ctx);
            enum_to_array(ctx, ucal_openTimeZoneIDEnumeration(UCAL_ZONE_TYPE_CANONICAL_LOCATION, region, NULL, &st), r, &k, NULL);
        }
    } else if (!strcmp(what, "rtl")) {
        r = JS_NewBool(ctx, uloc_getCharacterOrientation(loc, &st) == ULOC_LAYOUT_RTL);
    } else if (!strcmp(what, "week")) {
        UCalendar *c = ucal_open(NULL, 0, loc, UCAL_GREGORIAN, &st);
        if (U_FAILURE(st)) {
            r = icu_error(ctx, "Locale", st);
        } else {
            r = JS_NewArray(ctx);
            int32_t fd = ucal_getAttribute(c, UCAL_FIRST_DAY_OF_WEEK);
            JS_SetPropertyUint32(ctx, r, k++, JS_NewInt32(ctx, fd == UCAL_SUNDAY ? 7 : fd - 1));
            JS_SetPropertyUint32(ctx, r, k++, JS_NewInt32(ctx, ucal_getAttribute(c, UCAL_MINIMAL_DAYS_IN_FIRST_WEEK)));
            for (int i = 1; i <= 7; i++) { /* Monday (1) .. Sunday (7); ICU counts Sunday 1 */
                UErrorCode s2 = U_ZERO_ERROR;
                UCalendarDaysOfWeek day = (UCalendarDaysOfWeek)(i == 7 ? UCAL_SUNDAY : i + 1);
                if (ucal_getDayOfWeekType(c, day, &s2) != UCAL_WEEKDAY && U_SUCCESS(s2))
                    JS_SetPropertyUint32(ctx, r, k++, JS_NewInt32(ctx, i));
            }
            ucal_close(c);
        }
    }
    JS_FreeCString(ctx, what);
    return r;
}

/* values(key) -> Intl.supportedValuesOf's list from ICU for "calendar", "collation",
 * "currency", "numberingSystem", "timeZone" (unsorted; the caller sorts). */
static JSValue js_values(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *key = JS_ToCString(ctx, argv[0]);
    if (!key)
        return JS_EXCEPTION;
    UErrorCode st = U_ZERO_ERROR;
    JSValue a = JS_NewArray(ctx);
    uint32_t k = 0;
    if (!strcmp(key, "calendar"))
        enum_to_array(ctx, ucal_getKeywordValuesForLocale("calendar", "und", false, &st), a, &k, "calendar");
    else if (!strcmp(key, "collation"))
        enum_to_array(ctx, ucol_getKeywordValues("collation", &st), a, &k, "collation");
    else if (!strcmp(key, "currency"))
        enum_to_array(ctx, ucurr_openISOCurrencies(UCURR_COMMON | UCURR_NON_DEPRECATED, &st), a, &k, NULL);
    else if (!strcmp(key, "timeZone"))
        enum_to_array(ctx, ucal_openTimeZoneIDEnumeration(UCAL_ZONE_TYPE_CANONICAL_LOCATION, NULL, NULL, &st), a, &k, NULL);
    else if (!strcmp(key, "numberingSystem")) {
        UEnumeration *e = unumsys_openAvailableNames(&st);
        const char *v;
        int32_t l;
        while (e && (v = uenum_next(e, &l, &st)) && U_SUCCESS(st)) {
            char id[64];
            snprintf(id, sizeof id, "und@numbers=%s", v);
            UErrorCode s2 = U_ZERO_ERROR;
            UNumberingSystem *ns = unumsys_open(id, &s2);
            if (U_SUCCESS(s2) && !unumsys_isAlgorithmic(ns))
                JS_SetPropertyUint32(ctx, a, k++, JS_NewString(ctx, v));
            unumsys_close(ns);
        }
        uenum_close(e);
    }
    JS_FreeCString(ctx, key);
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
    JS_CFUNC_DEF("intlRtf", 6, js_rtf),
    JS_CFUNC_DEF("intlList", 5, js_list),
    JS_CFUNC_DEF("intlDtfRange", 6, js_dtf_range),
    JS_CFUNC_DEF("intlNfRange", 6, js_nf_range),
    JS_CFUNC_DEF("intlDisplayName", 5, js_display_name),
    JS_CFUNC_DEF("intlLocaleData", 2, js_locale_data),
    JS_CFUNC_DEF("intlValues", 1, js_values),
    JS_CFUNC_DEF("intlSegment", 3, js_segment),
    JS_CFUNC_DEF("intlBestAvailable", 2, js_best_available),
};

int web_intl_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, intl_natives, sizeof intl_natives / sizeof intl_natives[0]);
    return 0;
}
