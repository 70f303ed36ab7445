/* jsonc.c: a JSON-with-comments reader for wrangler.json / wrangler.jsonc
 * (spec: config.md CFG-1, CFG-2), producing the same cfg_value tree as toml.c.
 *
 * Accepts RFC 8259 JSON plus `//` and block comments and trailing commas in arrays
 * and objects, as wrangler's parser (jsonc-parser) does. A key given twice keeps its
 * first position and takes the last value, as jsonc-parser's result object does.
 * Strings decode every JSON escape; a \uD83D\uDE00 surrogate pair becomes one UTF-8
 * character, a lone surrogate is an error (UTF-8 cannot carry it).
 * Numbers: an integer that fits in 64 bits is CFG_INT, anything else CFG_FLOAT.
 *
 * Why our own: Debian's JSON libraries (json-c, jansson, cJSON) reject comments or
 * trailing commas, drop line numbers, or both; we need both, and the reader is small.
 * Invariants: reads only text[0..len) (no NUL terminator assumed); recursion bounded
 * by CFG_DEPTH_MAX; every error is "path:line: message". */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/internal.h"

typedef struct jp {
    const char *path;
    const char *s;
    size_t len, pos;
    int line;
    err *e;
    buf kctx; /* path of the value being parsed ("a.b[2]"), for messages */
} jp;

static int peek(const jp *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int peek_at(const jp *p, size_t k)
{
    return p->len - p->pos > k ? (unsigned char)p->s[p->pos + k] : -1;
}

static const char *describe(const jp *p, char out[24])
{
    int c = peek(p);
    if (c < 0)
        return "end of file";
    if (c > 0x20 && c < 0x7F)
        snprintf(out, 24, "'%c'", c);
    else
        snprintf(out, 24, "byte 0x%02X", (unsigned)c);
    return out;
}

__attribute__((format(printf, 2, 3))) static int fail(jp *p, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->kctx.len)
        return err_setf(p->e, DUR_EPARSE, "%s:%d: key '%s': %s", p->path, p->line,
                        p->kctx.ptr, msg);
    return err_setf(p->e, DUR_EPARSE, "%s:%d: %s", p->path, p->line, msg);
}

static int oom(jp *p)
{
    err_setf(p->e, DUR_ENOMEM, "%s:%d: out of memory", p->path, p->line);
    return DUR_ENOMEM;
}

/* Whitespace and comments. */
static int skip(jp *p)
{
    for (;;) {
        int c = peek(p);
        if (c == '\n') {
            p->line++;
            p->pos++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else if (c == '/' && peek_at(p, 1) == '/') {
            while (peek(p) >= 0 && peek(p) != '\n')
                p->pos++;
        } else if (c == '/' && peek_at(p, 1) == '*') {
            int start = p->line;
            p->pos += 2;
            for (;;) {
                if (peek(p) < 0) {
                    p->line = start;
                    return fail(p, "unterminated /* comment");
                }
                if (peek(p) == '*' && peek_at(p, 1) == '/') {
                    p->pos += 2;
                    break;
                }
                if (peek(p) == '\n')
                    p->line++;
                p->pos++;
            }
        } else {
            return 0;
        }
    }
}

static int hex4(const jp *p, size_t at, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        int c = peek_at(p, at + i);
        int h = (c >= '0' && c <= '9') ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                : -1;
        if (h < 0)
            return -1;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 0;
}

static int put(jp *p, buf *b, const void *data, size_t n)
{
    int rc = buf_append(b, data, n);
    if (rc == DUR_ETOOBIG)
        return fail(p, "string longer than %u bytes", CFG_STRING_BYTES_MAX);
    return rc < 0 ? oom(p) : 0;
}

/* At a backslash: one escape into b. */
static int parse_escape(jp *p, buf *b)
{
    int c = peek_at(p, 1);
    const char *simple = NULL;
    switch (c) {
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case '/': simple = "/"; break;
    case 'b': simple = "\b"; break;
    case 'f': simple = "\f"; break;
    case 'n': simple = "\n"; break;
    case 'r': simple = "\r"; break;
    case 't': simple = "\t"; break;
    case 'u': break;
    default:
        if (c < 0)
            return fail(p, "unterminated string");
        if (c > 0x20 && c < 0x7F)
            return fail(p, "invalid escape sequence '\\%c' in a string", c);
        return fail(p, "invalid escape sequence in a string (byte 0x%02X after '\\')",
                    (unsigned)c);
    }
    if (simple) {
        p->pos += 2;
        return put(p, b, simple, 1);
    }
    unsigned hi, lo;
    if (hex4(p, 2, &hi) < 0)
        return fail(p, "invalid \\u escape: 4 hex digits expected");
    unsigned long cp = hi;
    size_t used = 6;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (peek_at(p, 6) != '\\' || peek_at(p, 7) != 'u' || hex4(p, 8, &lo) < 0 ||
            lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, "invalid \\u escape: high surrogate \\u%04X without a low one", hi);
        cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + (lo - 0xDC00);
        used = 12;
    } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
        return fail(p, "invalid \\u escape: lone low surrogate \\u%04X", hi);
    }
    p->pos += used;
    char u[4];
    return put(p, b, u, cfg__utf8_put(u, cp));
}

/* A string at pos (a double quote) into b, NUL-terminated. */
static int parse_string(jp *p, buf *b)
{
    p->pos++;
    for (;;) {
        int c = peek(p);
        if (c < 0 || c == '\n')
            return fail(p, "unterminated string");
        if (c == '"') {
            p->pos++;
            return put(p, b, "", 0);
        }
        if (c == '\\') {
            if (parse_escape(p, b) < 0)
                return DUR_EPARSE;
            continue;
        }
        if (c < 0x20)
            return fail(p, "control character U+%04X in a string (escape it)", (unsigned)c);
        /* Copy a run of plain bytes at once. */
        size_t start = p->pos;
        while (p->pos < p->len) {
            unsigned char d = (unsigned char)p->s[p->pos];
            if (d == '"' || d == '\\' || d < 0x20)
                break;
            p->pos++;
        }
        if (put(p, b, p->s + start, p->pos - start) < 0)
            return DUR_EPARSE;
    }
}

static int parse_number(jp *p, cfg_value **out)
{
    size_t start = p->pos;
    bool is_float = false;
    if (peek(p) == '-')
        p->pos++;
    if (peek(p) == '0') {
        p->pos++;
        if (peek(p) >= '0' && peek(p) <= '9')
            return fail(p, "invalid number: leading zeros are not allowed");
    } else if (peek(p) >= '1' && peek(p) <= '9') {
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    } else {
        return fail(p, "invalid number: a digit must follow '-'");
    }
    if (peek(p) == '.') {
        is_float = true;
        p->pos++;
        if (!(peek(p) >= '0' && peek(p) <= '9'))
            return fail(p, "invalid number: a digit must follow '.'");
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        is_float = true;
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-')
            p->pos++;
        if (!(peek(p) >= '0' && peek(p) <= '9'))
            return fail(p, "invalid number: a digit must follow the exponent");
        while (peek(p) >= '0' && peek(p) <= '9')
            p->pos++;
    }
    size_t n = p->pos - start;
    char tmp[400];
    if (n >= sizeof tmp)
        return fail(p, "number longer than %zu characters", sizeof tmp - 1);
    memcpy(tmp, p->s + start, n);
    tmp[n] = '\0';
    cfg_value *v = cfg__new(CFG_INT, p->line);
    if (!v)
        return oom(p);
    errno = 0;
    if (!is_float) {
        v->i = strtoll(tmp, NULL, 10);
        if (errno == ERANGE) /* JSON numbers are doubles: too big for 64 bits is fine */
            is_float = true;
    }
    if (is_float) {
        errno = 0;
        v->type = CFG_FLOAT;
        v->f = strtod(tmp, NULL);
        if (errno == ERANGE && isinf(v->f)) {
            cfg_value_free(v);
            return fail(p, "number %s is out of range", tmp);
        }
    }
    *out = v;
    return 0;
}

static int parse_value(jp *p, int depth, cfg_value **out);

static void kctx_trunc(jp *p, size_t len)
{
    p->kctx.len = len;
    if (p->kctx.ptr)
        p->kctx.ptr[len] = '\0';
}

static int parse_array(jp *p, int depth, cfg_value **out)
{
    char d[24];
    cfg_value *a = cfg__new(CFG_ARRAY, p->line);
    if (!a)
        return oom(p);
    p->pos++;
    for (;;) {
        if (skip(p) < 0)
            goto fail;
        if (peek(p) == ']')
            break;
        cfg_value *item;
        size_t kctx_len = p->kctx.len;
        if (buf_printf(&p->kctx, "[%zu]", a->count) < 0) {
            oom(p);
            goto fail;
        }
        if (parse_value(p, depth + 1, &item) < 0)
            goto fail;
        kctx_trunc(p, kctx_len);
        if (cfg__array_push(a, item) < 0) {
            oom(p);
            goto fail;
        }
        if (skip(p) < 0)
            goto fail;
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p) == ']')
            break;
        fail(p, "expected ',' or ']' in an array, found %s", describe(p, d));
        goto fail;
    }
    p->pos++;
    *out = a;
    return 0;
fail:
    cfg_value_free(a);
    return DUR_EPARSE;
}

static int parse_object(jp *p, int depth, cfg_value **out)
{
    char d[24];
    cfg_value *t = cfg__new(CFG_TABLE, p->line);
    if (!t)
        return oom(p);
    p->pos++;
    for (;;) {
        if (skip(p) < 0)
            goto fail;
        if (peek(p) == '}')
            break;
        if (peek(p) != '"') {
            fail(p, "expected a property name in double quotes or '}', found %s",
                 describe(p, d));
            goto fail;
        }
        buf key;
        buf_init(&key, CFG_STRING_BYTES_MAX);
        if (parse_string(p, &key) < 0) {
            buf_fini(&key);
            goto fail;
        }
        if (memchr(key.ptr, '\0', key.len)) {
            buf_fini(&key);
            fail(p, "a property name containing U+0000 is not supported");
            goto fail;
        }
        cfg_value *v = NULL;
        if (skip(p) < 0) {
            buf_fini(&key);
            goto fail;
        }
        if (peek(p) != ':') {
            fail(p, "expected ':' after property \"%.80s\", found %s", key.ptr, describe(p, d));
            buf_fini(&key);
            goto fail;
        }
        p->pos++;
        size_t kctx_len = p->kctx.len;
        if ((p->kctx.len && buf_append(&p->kctx, ".", 1) < 0) ||
            buf_append(&p->kctx, key.ptr, key.len) < 0) {
            buf_fini(&key);
            oom(p);
            goto fail;
        }
        if (skip(p) < 0 || parse_value(p, depth + 1, &v) < 0) {
            buf_fini(&key);
            goto fail;
        }
        kctx_trunc(p, kctx_len);
        long idx = cfg__table_find(t, key.ptr, key.len);
        int rc = 0;
        if (idx >= 0) { /* last one wins, in the first one's place */
            cfg_value_free(t->items[idx]);
            t->items[idx] = v;
        } else {
            rc = cfg__table_add(t, key.ptr, key.len, v);
        }
        buf_fini(&key);
        if (rc < 0) {
            oom(p);
            goto fail;
        }
        if (skip(p) < 0)
            goto fail;
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p) == '}')
            break;
        fail(p, "expected ',' or '}' in an object, found %s", describe(p, d));
        goto fail;
    }
    p->pos++;
    *out = t;
    return 0;
fail:
    cfg_value_free(t);
    return DUR_EPARSE;
}

static bool word(jp *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
        return false;
    int next = peek_at(p, n);
    if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
        (next >= '0' && next <= '9') || next == '_')
        return false;
    p->pos += n;
    return true;
}

static int parse_value(jp *p, int depth, cfg_value **out)
{
    char d[24];
    int c = peek(p);
    if ((c == '[' || c == '{') && depth > CFG_DEPTH_MAX)
        return fail(p, "nesting deeper than %d levels", CFG_DEPTH_MAX);
    if (c == '{')
        return parse_object(p, depth, out);
    if (c == '[')
        return parse_array(p, depth, out);
    if (c == '"') {
        int line = p->line;
        buf b;
        buf_init(&b, CFG_STRING_BYTES_MAX);
        if (parse_string(p, &b) < 0) {
            buf_fini(&b);
            return DUR_EPARSE;
        }
        size_t n;
        char *s = buf_take(&b, &n);
        *out = cfg__new_str(CFG_STRING, line, s, n);
        return *out ? 0 : oom(p);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p, out);
    cfg_type type = CFG_NULL;
    bool b = false;
    if (word(p, "true"))
        type = CFG_BOOL, b = true;
    else if (word(p, "false"))
        type = CFG_BOOL;
    else if (!word(p, "null"))
        return fail(p, "expected a value, found %s", describe(p, d));
    cfg_value *v = cfg__new(type, p->line);
    if (!v)
        return oom(p);
    v->b = b;
    *out = v;
    return 0;
}

cfg_value *jsonc_parse(const char *path, const char *text, size_t len, err *e)
{
    jp p = {.path = path ? path : "<json>", .s = text, .len = len, .line = 1, .e = e};
    char d[24];
    long bad = cfg__utf8_check(text, len);
    if (bad >= 0) {
        err_setf(e, DUR_EPARSE, "%s:%d: invalid UTF-8 (byte 0x%02X)", p.path,
                 cfg__line_at(text, len, (size_t)bad), (unsigned char)text[bad]);
        return NULL;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    cfg_value *root = NULL;
    buf_init(&p.kctx, CFG_STRING_BYTES_MAX);
    if (skip(&p) < 0)
        goto fail;
    if (peek(&p) < 0) {
        fail(&p, "empty document (expected an object)");
        goto fail;
    }
    if (parse_value(&p, 0, &root) < 0)
        goto fail;
    if (skip(&p) < 0)
        goto fail;
    if (peek(&p) >= 0) {
        fail(&p, "unexpected %s after the end of the document", describe(&p, d));
        goto fail;
    }
    buf_fini(&p.kctx);
    return root;
fail:
    buf_fini(&p.kctx);
    cfg_value_free(root);
    return NULL;
}
