/* toml.c: a TOML 1.0 reader producing the cfg_value tree (spec: config.md CFG-2).
 *
 * Why our own: Debian packages no C TOML library (tomlc99 / toml-c are not in the
 * archive), and wrangler files need only a small, well-defined subset of effort: a
 * single-pass recursive-descent reader over a byte range that is never assumed to be
 * NUL-terminated (the fuzzer hands us exactly `len` bytes).
 *
 * Covered: comments; bare, quoted and dotted keys; basic, literal and multi-line
 * strings (all TOML 1.0 escapes, line-ending backslash); integers (decimal, hex, octal,
 * binary, underscores); floats (exponents, inf, nan); booleans; offset / local
 * date-times, dates and times (validated, kept as source text: CFG_DATETIME); arrays
 * (multi-line, trailing comma, mixed types); inline tables; [tables]; [[arrays of
 * tables]]; tables made by dotted keys. Errors are TOML's: duplicate keys, tables
 * defined twice, extending inline tables or static arrays, invalid escapes,
 * unterminated strings, control characters, malformed numbers/dates, invalid UTF-8.
 * Each error reads "path:line: key 'a.b': message" (the key part when there is one).
 *
 * Invariants: p->pos <= p->len always; every read goes through peek()/peek_at();
 * p->line counts the newlines consumed so far. Tree depth is bounded by
 * CFG_DEPTH_MAX (checked before every container is created), which bounds the
 * recursion here and in cfg_value_free / cfg_value_to_json.
 * Table state while parsing lives in cfg_value.flags (CFG_F_*, internal.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/internal.h"

typedef struct tp {
    const char *path;
    const char *s;
    size_t len, pos;
    int line;
    err *e;
    cfg_value *root;
    buf tabpath; /* current [header] as text, for messages */
    buf kctx;    /* key being parsed, for messages ("" = none) */
} tp;

typedef struct tkey {
    char *part[CFG_KEY_PARTS_MAX];
    size_t part_len[CFG_KEY_PARTS_MAX];
    int n;
} tkey;

static int peek(const tp *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int peek_at(const tp *p, size_t k)
{
    return p->len - p->pos > k ? (unsigned char)p->s[p->pos + k] : -1;
}

static bool is_ctrl(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

static bool is_bare(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* Describes the byte at pos for an error message. */
static const char *describe(const tp *p, char out[24])
{
    int c = peek(p);
    if (c < 0)
        return "end of file";
    if (c == '\n' || (c == '\r' && peek_at(p, 1) == '\n'))
        return "end of line";
    if (c > 0x20 && c < 0x7F)
        snprintf(out, 24, "'%c'", c);
    else
        snprintf(out, 24, "byte 0x%02X", (unsigned)c);
    return out;
}

static int vfail(tp *p, int line, bool with_key, const char *fmt, va_list ap)
{
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (with_key && p->kctx.len)
        return err_setf(p->e, DUR_EPARSE, "%s:%d: key '%s': %s", p->path, line, p->kctx.ptr,
                        msg);
    return err_setf(p->e, DUR_EPARSE, "%s:%d: %s", p->path, line, msg);
}

/* Error at the current line, prefixed with the key being parsed (if any). */
__attribute__((format(printf, 2, 3))) static int fail(tp *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(p, p->line, true, fmt, ap);
    va_end(ap);
    return rc;
}

/* Error that names its key itself. */
__attribute__((format(printf, 2, 3))) static int fail_nokey(tp *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(p, p->line, false, fmt, ap);
    va_end(ap);
    return rc;
}

static int oom(tp *p)
{
    err_setf(p->e, DUR_ENOMEM, "%s:%d: out of memory", p->path, p->line);
    return DUR_ENOMEM;
}

static const char *type_name(const cfg_value *v)
{
    switch (v->type) {
    case CFG_NULL: return "null";
    case CFG_BOOL: return "a boolean";
    case CFG_INT: return "an integer";
    case CFG_FLOAT: return "a float";
    case CFG_STRING: return "a string";
    case CFG_DATETIME: return "a date-time";
    case CFG_ARRAY: return (v->flags & CFG_F_AOT) ? "an array of tables" : "an array";
    case CFG_TABLE: return (v->flags & CFG_F_INLINE) ? "an inline table" : "a table";
    }
    return "a value";
}

static void skip_ws(tp *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->pos++;
}

/* Consumes "\n" or "\r\n"; returns whether it did. */
static bool eat_newline(tp *p)
{
    if (peek(p) == '\n') {
        p->pos++;
        p->line++;
        return true;
    }
    if (peek(p) == '\r' && peek_at(p, 1) == '\n') {
        p->pos += 2;
        p->line++;
        return true;
    }
    return false;
}

/* Skips a comment if one starts here (up to, not including, its newline). */
static int skip_comment(tp *p)
{
    if (peek(p) != '#')
        return 0;
    p->pos++;
    for (int c; (c = peek(p)) >= 0; p->pos++) {
        if (c == '\n' || (c == '\r' && peek_at(p, 1) == '\n'))
            return 0;
        if (is_ctrl(c))
            return fail_nokey(p, "control character U+%04X in a comment", (unsigned)c);
    }
    return 0;
}

/* Whitespace, comments and newlines (inside arrays). */
static int skip_ws_nl(tp *p)
{
    for (;;) {
        skip_ws(p);
        if (skip_comment(p) < 0)
            return DUR_EPARSE;
        if (!eat_newline(p))
            return 0;
    }
}

/* After a key/value or a header: optional comment, then newline or end of file. */
static int expect_eol(tp *p, const char *after)
{
    char d[24];
    skip_ws(p);
    if (skip_comment(p) < 0)
        return DUR_EPARSE;
    if (peek(p) < 0 || eat_newline(p))
        return 0;
    return fail(p, "expected a newline after %s, found %s", after, describe(p, d));
}

/* ---- strings ---- */

static int str_append(tp *p, buf *b, const void *data, size_t n)
{
    int rc = buf_append(b, data, n);
    if (rc == DUR_ETOOBIG)
        return fail(p, "string longer than %u bytes", CFG_STRING_BYTES_MAX);
    if (rc < 0)
        return oom(p);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* At a backslash inside a basic string: decodes one escape into b. */
static int parse_escape(tp *p, buf *b)
{
    char d[24];
    p->pos++; /* the backslash */
    int c = peek(p);
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case 'u':
    case 'U': {
        int digits = c == 'u' ? 4 : 8;
        unsigned long cp = 0;
        for (int i = 1; i <= digits; i++) {
            int h = hexval(peek_at(p, (size_t)i));
            if (h < 0)
                return fail(p, "invalid escape: \\%c needs %d hex digits", c, digits);
            cp = cp * 16 + (unsigned long)h;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(p, "invalid escape: \\%c%0*lX is not a Unicode scalar value", c,
                        digits, cp);
        p->pos += 1 + (size_t)digits;
        char u[4];
        return str_append(p, b, u, cfg__utf8_put(u, cp));
    }
    default:
        if (c < 0)
            return fail(p, "unterminated string");
        return fail(p, "invalid escape sequence '\\' followed by %s", describe(p, d));
    }
    p->pos++;
    return str_append(p, b, simple, 1);
}

/* Parses a string starting at pos (a quote). Sets *ml when it was multi-line. The
 * result is NUL-terminated in b. */
static int parse_string(tp *p, buf *b, bool *ml)
{
    int q = peek(p);
    bool basic = q == '"';
    bool multi = peek_at(p, 1) == q && peek_at(p, 2) == q;
    if (ml)
        *ml = multi;
    int start_line = p->line;
    p->pos += multi ? 3 : 1;
    if (multi)
        eat_newline(p); /* a newline right after the opening quotes is trimmed */
    for (;;) {
        int c = peek(p);
        if (c < 0 || (!multi && (c == '\n' || c == '\r'))) {
            p->line = start_line;
            return fail(p, "unterminated string (opened on line %d)", start_line);
        }
        if (c == q) {
            if (!multi) {
                p->pos++;
                break;
            }
            size_t run = 0;
            while (peek_at(p, run) == q)
                run++;
            if (run >= 3) {
                if (run > 5)
                    return fail(p, "too many quotes (%zu) closing a multi-line string", run);
                if (str_append(p, b, p->s + p->pos, run - 3) < 0)
                    return DUR_EPARSE;
                p->pos += run;
                break;
            }
            if (str_append(p, b, p->s + p->pos, run) < 0)
                return DUR_EPARSE;
            p->pos += run;
            continue;
        }
        if (multi && (c == '\n' || c == '\r')) {
            if (!eat_newline(p))
                return fail(p, "control character U+000D (lone carriage return) in a string");
            if (str_append(p, b, "\n", 1) < 0)
                return DUR_EPARSE;
            continue;
        }
        if (basic && c == '\\') {
            if (multi) {
                /* Line-ending backslash: "\", optional blanks, newline, then every
                 * blank and newline up to the next other character is trimmed. */
                size_t k = 1;
                while (peek_at(p, k) == ' ' || peek_at(p, k) == '\t')
                    k++;
                int n = peek_at(p, k);
                if (n == '\n' || (n == '\r' && peek_at(p, k + 1) == '\n')) {
                    p->pos += k;
                    while (eat_newline(p) || peek(p) == ' ' || peek(p) == '\t')
                        if (peek(p) == ' ' || peek(p) == '\t')
                            p->pos++;
                    continue;
                }
            }
            if (parse_escape(p, b) < 0)
                return DUR_EPARSE;
            continue;
        }
        if (is_ctrl(c))
            return fail(p, "control character U+%04X in a string", (unsigned)c);
        if (str_append(p, b, p->s + p->pos, 1) < 0)
            return DUR_EPARSE;
        p->pos++;
    }
    return str_append(p, b, "", 0);
}

/* ---- keys ---- */

static void key_free(tkey *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->part[i]);
    k->n = 0;
}

/* Appends the key's text ("a.\"b c\"") to out, for messages. */
static int key_text(buf *out, const tkey *k, int upto)
{
    for (int i = 0; i < upto; i++) {
        bool bare = k->part_len[i] > 0;
        for (size_t j = 0; j < k->part_len[i]; j++)
            bare = bare && is_bare((unsigned char)k->part[i][j]);
        if ((out->len && buf_append(out, ".", 1) < 0) ||
            buf_printf(out, bare ? "%s" : "\"%s\"", k->part[i]) < 0)
            return DUR_ENOMEM;
    }
    return 0;
}

static int parse_key(tp *p, tkey *k)
{
    char d[24];
    k->n = 0;
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (k->n == CFG_KEY_PARTS_MAX)
            return fail(p, "key has more than %d dotted parts", CFG_KEY_PARTS_MAX);
        buf b;
        buf_init(&b, CFG_STRING_BYTES_MAX);
        if (is_bare(c)) {
            size_t start = p->pos;
            while (is_bare(peek(p)))
                p->pos++;
            if (buf_append(&b, p->s + start, p->pos - start) < 0 || buf_append(&b, "", 0) < 0) {
                buf_fini(&b);
                return oom(p);
            }
        } else if (c == '"' || c == '\'') {
            bool ml;
            if (parse_string(p, &b, &ml) < 0) {
                buf_fini(&b);
                return DUR_EPARSE;
            }
            if (ml) {
                buf_fini(&b);
                return fail(p, "a multi-line string cannot be a key");
            }
            if (memchr(b.ptr, '\0', b.len)) {
                buf_fini(&b);
                return fail(p, "a key containing U+0000 is not supported");
            }
        } else {
            buf_fini(&b);
            return fail(p, "expected a key, found %s", describe(p, d));
        }
        k->part_len[k->n] = b.len;
        k->part[k->n++] = buf_take(&b, NULL);
        skip_ws(p);
        if (peek(p) != '.')
            return 0;
        p->pos++;
    }
}

/* ---- scalars ---- */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A run of digits of `radix` with single underscores between digits. */
static bool digit_run(const char *t, size_t n, size_t *i, int radix)
{
    size_t start = *i;
    for (;;) {
        int c = *i < n ? (unsigned char)t[*i] : -1;
        int v = hexval(c);
        if (v < 0 || v >= radix)
            return *i > start && t[*i - 1] != '_';
        (*i)++;
        if (*i < n && t[*i] == '_') {
            (*i)++;
            if (*i >= n || hexval((unsigned char)t[*i]) < 0 || hexval((unsigned char)t[*i]) >= radix)
                return false;
        }
    }
}

static bool num2(const char *t, int *out)
{
    if (!is_digit(t[0]) || !is_digit(t[1]))
        return false;
    *out = (t[0] - '0') * 10 + (t[1] - '0');
    return true;
}

/* hh:mm:ss(.frac)? at t[*i]. */
static bool time_part(const char *t, size_t n, size_t *i)
{
    int h, m, s;
    if (n - *i < 8 || !num2(t + *i, &h) || t[*i + 2] != ':' || !num2(t + *i + 3, &m) ||
        t[*i + 5] != ':' || !num2(t + *i + 6, &s))
        return false;
    if (h > 23 || m > 59 || s > 60)
        return false;
    *i += 8;
    if (*i < n && t[*i] == '.') {
        (*i)++;
        size_t f = *i;
        while (*i < n && is_digit((unsigned char)t[*i]))
            (*i)++;
        if (*i == f)
            return false;
    }
    return true;
}

static bool date_valid(const char *t)
{
    int y1, y2, mo, d;
    if (!num2(t, &y1) || !num2(t + 2, &y2) || t[4] != '-' || !num2(t + 5, &mo) ||
        t[7] != '-' || !num2(t + 8, &d))
        return false;
    int y = y1 * 100 + y2;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(mo == 2 && d == 29 && !leap);
}

/* Validates a TOML date-time, local date or local time token. */
static bool datetime_valid(const char *t, size_t n)
{
    size_t i = 0;
    if (n >= 3 && t[2] == ':') /* local time */
        return time_part(t, n, &i) && i == n;
    if (n < 10 || !date_valid(t))
        return false;
    if (n == 10)
        return true;
    if (t[10] != 'T' && t[10] != 't' && t[10] != ' ')
        return false;
    i = 11;
    if (!time_part(t, n, &i))
        return false;
    if (i == n)
        return true;
    if ((t[i] == 'Z' || t[i] == 'z') && i + 1 == n)
        return true;
    int oh, om;
    return (t[i] == '+' || t[i] == '-') && n - i == 6 && num2(t + i + 1, &oh) &&
           t[i + 3] == ':' && num2(t + i + 4, &om) && oh <= 23 && om <= 59;
}

/* Precision for quoting a token in a message: bounded, so a huge token (or a
 * size_t that does not fit an int) can never make printf read past it. */
#define TOKLEN(n) ((int)((n) > 60 ? 60 : (n)))

/* Copies t without underscores into out (n < out_max checked by caller). */
static void strip_underscores(const char *t, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] != '_')
            out[o++] = t[i];
    out[o] = '\0';
}

/* Number token t[0..n) into v. */
static int number_value(tp *p, const char *t, size_t n, cfg_value *v)
{
    size_t i = 0;
    bool sign = t[0] == '+' || t[0] == '-';
    if (sign)
        i++;
    size_t rest = n - i;
    if (rest == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)) {
        v->type = CFG_FLOAT;
        v->f = t[i] == 'i' ? INFINITY : NAN;
        if (t[0] == '-')
            v->f = -v->f;
        return 0;
    }
    if (rest > 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
        int radix = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
        if (sign)
            return fail(p, "invalid number '%.*s': a sign is not allowed on hex, octal or "
                           "binary integers", TOKLEN(n), t);
        i += 2;
        if (!digit_run(t, n, &i, radix) || i != n)
            return fail(p, "invalid number '%.*s'", TOKLEN(n), t);
        unsigned long long acc = 0;
        for (size_t k = 2; k < n; k++) {
            if (t[k] == '_')
                continue;
            unsigned d = (unsigned)hexval((unsigned char)t[k]);
            if (acc > ((unsigned long long)LLONG_MAX - d) / (unsigned)radix)
                return fail(p, "integer '%.*s' does not fit in 64 bits", TOKLEN(n), t);
            acc = acc * (unsigned)radix + d;
        }
        v->type = CFG_INT;
        v->i = (long long)acc;
        return 0;
    }
    size_t int_start = i;
    if (!digit_run(t, n, &i, 10))
        return fail(p, "invalid number '%.*s'", TOKLEN(n), t);
    if (t[int_start] == '0' && i - int_start > 1)
        return fail(p, "invalid number '%.*s': leading zeros are not allowed", TOKLEN(n), t);
    bool is_float = false;
    if (i < n && t[i] == '.') {
        i++;
        is_float = true;
        if (!digit_run(t, n, &i, 10))
            return fail(p, "invalid number '%.*s': a digit must follow the '.'", TOKLEN(n), t);
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        is_float = true;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            i++;
        if (!digit_run(t, n, &i, 10))
            return fail(p, "invalid number '%.*s': bad exponent", TOKLEN(n), t);
    }
    if (i != n)
        return fail(p, "invalid number '%.*s'", TOKLEN(n), t);
    char clean[128];
    if (n >= sizeof clean)
        return fail(p, "number '%.40s...' is too long", t);
    strip_underscores(t, n, clean);
    errno = 0;
    char *end;
    if (is_float) {
        v->type = CFG_FLOAT;
        v->f = strtod(clean, &end);
        if (errno == ERANGE && isinf(v->f))
            return fail(p, "float '%.*s' is out of range", TOKLEN(n), t);
    } else {
        v->type = CFG_INT;
        v->i = strtoll(clean, &end, 10);
        if (errno == ERANGE)
            return fail(p, "integer '%.*s' does not fit in 64 bits", TOKLEN(n), t);
    }
    return 0;
}

static bool is_token_char(int c)
{
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* Booleans, numbers and dates: scans a token and classifies it. */
static int parse_scalar(tp *p, cfg_value **out)
{
    size_t start = p->pos;
    while (is_token_char(peek(p)))
        p->pos++;
    /* "1979-05-27 07:32:00": a space may separate date and time. */
    size_t n = p->pos - start;
    if (n == 10 && p->s[start + 4] == '-' && peek(p) == ' ' && is_digit(peek_at(p, 1)) &&
        is_digit(peek_at(p, 2)) && peek_at(p, 3) == ':') {
        p->pos++;
        while (is_token_char(peek(p)))
            p->pos++;
        n = p->pos - start;
    }
    const char *t = p->s + start;
    cfg_value *v = cfg__new(CFG_NULL, p->line);
    if (!v)
        return oom(p);
    int rc = 0;
    if (n == 4 && memcmp(t, "true", 4) == 0) {
        v->type = CFG_BOOL;
        v->b = true;
    } else if (n == 5 && memcmp(t, "false", 5) == 0) {
        v->type = CFG_BOOL;
    } else if ((n >= 10 && t[4] == '-' && is_digit((unsigned char)t[0])) ||
               (n >= 3 && t[2] == ':' && is_digit((unsigned char)t[0]))) {
        if (!datetime_valid(t, n)) {
            rc = fail(p, "invalid date/time '%.*s'", TOKLEN(n), t);
        } else {
            char *s = malloc(n + 1);
            if (!s) {
                rc = oom(p);
            } else {
                memcpy(s, t, n);
                s[n] = '\0';
                v->type = CFG_DATETIME;
                v->str = s;
                v->str_len = n;
            }
        }
    } else if (n > 0 && (is_digit((unsigned char)t[0]) || t[0] == '+' || t[0] == '-' ||
                         t[0] == 'i' || t[0] == 'n')) {
        rc = number_value(p, t, n, v);
    } else {
        char d[24];
        p->pos = start;
        rc = fail(p, "expected a value, found %s", describe(p, d));
    }
    if (rc < 0) {
        cfg_value_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* ---- containers ---- */

static int parse_value(tp *p, int depth, cfg_value **out);
static int keyval(tp *p, cfg_value *table, int depth);

static int depth_check(tp *p, int depth)
{
    if (depth > CFG_DEPTH_MAX)
        return fail(p, "nesting deeper than %d levels", CFG_DEPTH_MAX);
    return 0;
}

static void seal(cfg_value *v)
{
    if (v->type != CFG_TABLE && v->type != CFG_ARRAY)
        return;
    v->flags |= CFG_F_INLINE;
    for (size_t i = 0; i < v->count; i++)
        seal(v->items[i]);
}

static int parse_array(tp *p, int depth, cfg_value **out)
{
    char d[24];
    if (depth_check(p, depth) < 0)
        return DUR_EPARSE;
    cfg_value *a = cfg__new(CFG_ARRAY, p->line);
    if (!a)
        return oom(p);
    a->flags = CFG_F_INLINE;
    p->pos++; /* [ */
    for (;;) {
        if (skip_ws_nl(p) < 0)
            goto fail;
        if (peek(p) == ']')
            break;
        cfg_value *item;
        if (parse_value(p, depth + 1, &item) < 0)
            goto fail;
        if (cfg__array_push(a, item) < 0) {
            oom(p);
            goto fail;
        }
        if (skip_ws_nl(p) < 0)
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
    p->pos++; /* ] */
    *out = a;
    return 0;
fail:
    cfg_value_free(a);
    return DUR_EPARSE;
}

static int parse_inline_table(tp *p, int depth, cfg_value **out)
{
    char d[24];
    if (depth_check(p, depth) < 0)
        return DUR_EPARSE;
    cfg_value *t = cfg__new(CFG_TABLE, p->line);
    if (!t)
        return oom(p);
    p->pos++; /* { */
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        goto done;
    }
    for (;;) {
        skip_ws(p);
        size_t kctx_len = p->kctx.len; /* messages name the inner key, then drop it */
        if (keyval(p, t, depth) < 0)
            goto fail;
        p->kctx.len = kctx_len;
        if (p->kctx.ptr)
            p->kctx.ptr[kctx_len] = '\0';
        skip_ws(p);
        if (peek(p) == ',') {
            p->pos++;
            skip_ws(p);
            if (peek(p) == '}') {
                fail(p, "trailing comma in an inline table (not allowed in TOML 1.0)");
                goto fail;
            }
            continue;
        }
        if (peek(p) == '}') {
            p->pos++;
            break;
        }
        if (peek(p) == '\n' || peek(p) == '\r')
            fail(p, "an inline table must be on one line (expected ',' or '}')");
        else
            fail(p, "expected ',' or '}' in an inline table, found %s", describe(p, d));
        goto fail;
    }
done:
    seal(t);
    *out = t;
    return 0;
fail:
    cfg_value_free(t);
    return DUR_EPARSE;
}

static int parse_value(tp *p, int depth, cfg_value **out)
{
    char d[24];
    int c = peek(p);
    if (c == '"' || c == '\'') {
        buf b;
        buf_init(&b, CFG_STRING_BYTES_MAX);
        int line = p->line;
        if (parse_string(p, &b, NULL) < 0) {
            buf_fini(&b);
            return DUR_EPARSE;
        }
        size_t n;
        char *s = buf_take(&b, &n);
        *out = cfg__new_str(CFG_STRING, line, s, n);
        return *out ? 0 : oom(p);
    }
    if (c == '[')
        return parse_array(p, depth, out);
    if (c == '{')
        return parse_inline_table(p, depth, out);
    if (c < 0 || c == '\n' || c == '\r' || c == '#')
        return fail(p, "expected a value, found %s", describe(p, d));
    return parse_scalar(p, out);
}

/* `key = value` into table (at depth `depth`). Dotted keys create or enter tables
 * made by dotted keys only (TOML: they cannot reopen [header] or inline tables). */
static int keyval(tp *p, cfg_value *table, int depth)
{
    char d[24];
    tkey k;
    int line = p->line;
    if (parse_key(p, &k) < 0) {
        key_free(&k);
        return DUR_EPARSE;
    }
    if (key_text(&p->kctx, &k, k.n) < 0) {
        key_free(&k);
        return oom(p);
    }
    int rc = DUR_EPARSE;
    if (peek(p) != '=') {
        fail(p, "expected '=' after the key, found %s", describe(p, d));
        goto done;
    }
    p->pos++;
    skip_ws(p);
    cfg_value *t = table;
    for (int i = 0; i < k.n - 1; i++) {
        depth++;
        long idx = cfg__table_find(t, k.part[i], k.part_len[i]);
        if (idx < 0) {
            if (depth_check(p, depth) < 0)
                goto done;
            cfg_value *nt = cfg__new(CFG_TABLE, line);
            if (!nt || cfg__table_add(t, k.part[i], k.part_len[i], nt) < 0) {
                rc = oom(p);
                goto done;
            }
            nt->flags = CFG_F_DOTTED;
            t = nt;
            continue;
        }
        cfg_value *v = t->items[idx];
        if (v->type == CFG_TABLE && (v->flags & CFG_F_DOTTED) && !(v->flags & CFG_F_INLINE)) {
            t = v;
            continue;
        }
        if (v->type == CFG_TABLE && !(v->flags & CFG_F_INLINE))
            fail(p, "cannot add keys with dotted keys to table '%s', which a [header] "
                    "defines (line %d)", k.part[i], v->line);
        else
            fail(p, "'%s' is already %s (line %d), not a table that can be extended",
                 k.part[i], type_name(v), v->line);
        goto done;
    }
    long idx = cfg__table_find(t, k.part[k.n - 1], k.part_len[k.n - 1]);
    if (idx >= 0) {
        fail(p, "duplicate key (first defined on line %d)", t->items[idx]->line);
        goto done;
    }
    cfg_value *v;
    if (parse_value(p, depth + 1, &v) < 0)
        goto done;
    if (cfg__table_add(t, k.part[k.n - 1], k.part_len[k.n - 1], v) < 0) {
        rc = oom(p);
        goto done;
    }
    rc = 0;
done:
    key_free(&k);
    return rc;
}

/* `[a.b]` or `[[a.b]]` at pos: sets *cur to the table that receives the keys. */
static int header(tp *p, cfg_value **cur, int *cur_depth)
{
    char d[24];
    bool aot = peek_at(p, 1) == '[';
    int line = p->line;
    p->pos += aot ? 2 : 1;
    tkey k;
    buf_reset(&p->kctx);
    if (parse_key(p, &k) < 0) {
        key_free(&k);
        return DUR_EPARSE;
    }
    int rc = DUR_EPARSE;
    buf_reset(&p->tabpath);
    if (key_text(&p->tabpath, &k, k.n) < 0 || buf_append(&p->tabpath, "", 0) < 0) {
        rc = oom(p);
        goto done;
    }
    const char *hp = p->tabpath.ptr;
    if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
        fail_nokey(p, "expected '%s' to close the table header [%s%s, found %s",
                   aot ? "]]" : "]", aot ? "[" : "", hp, describe(p, d));
        goto done;
    }
    p->pos += aot ? 2 : 1;
    cfg_value *t = p->root;
    int depth = 0;
    for (int i = 0; i < k.n - 1; i++) {
        depth++;
        long idx = cfg__table_find(t, k.part[i], k.part_len[i]);
        if (idx < 0) {
            if (depth_check(p, depth) < 0)
                goto done;
            cfg_value *nt = cfg__new(CFG_TABLE, line);
            if (!nt || cfg__table_add(t, k.part[i], k.part_len[i], nt) < 0) {
                rc = oom(p);
                goto done;
            }
            nt->flags = CFG_F_IMPLICIT;
            t = nt;
            continue;
        }
        cfg_value *v = t->items[idx];
        if (v->type == CFG_TABLE && !(v->flags & CFG_F_INLINE)) {
            t = v;
        } else if (v->type == CFG_ARRAY && (v->flags & CFG_F_AOT)) {
            t = v->items[v->count - 1]; /* [a.b] after [[a]]: the last element */
            depth++;
        } else {
            fail_nokey(p, "table [%s]: '%s' is already %s (line %d), which cannot be extended",
                       hp, k.part[i], type_name(v), v->line);
            goto done;
        }
    }
    depth++;
    if (depth_check(p, depth + (aot ? 1 : 0)) < 0)
        goto done;
    const char *last = k.part[k.n - 1];
    size_t last_len = k.part_len[k.n - 1];
    long idx = cfg__table_find(t, last, last_len);
    cfg_value *v = idx >= 0 ? t->items[idx] : NULL;
    if (!aot) {
        if (!v) {
            v = cfg__new(CFG_TABLE, line);
            if (!v || cfg__table_add(t, last, last_len, v) < 0) {
                rc = oom(p);
                goto done;
            }
            v->flags = CFG_F_DEFINED;
        } else if (v->type != CFG_TABLE || (v->flags & CFG_F_INLINE)) {
            fail_nokey(p, "table [%s]: the key is already %s (line %d)", hp, type_name(v),
                       v->line);
            goto done;
        } else if (v->flags & CFG_F_DEFINED) {
            fail_nokey(p, "table [%s] is defined twice (first on line %d)", hp, v->line);
            goto done;
        } else if (v->flags & CFG_F_DOTTED) {
            fail_nokey(p, "table [%s] was already defined with dotted keys (line %d)", hp,
                       v->line);
            goto done;
        } else {
            v->flags = CFG_F_DEFINED; /* was implicit: now defined, once */
            v->line = line;
        }
        *cur = v;
    } else {
        if (!v) {
            v = cfg__new(CFG_ARRAY, line);
            if (!v || cfg__table_add(t, last, last_len, v) < 0) {
                rc = oom(p);
                goto done;
            }
            v->flags = CFG_F_AOT;
        } else if (v->type != CFG_ARRAY || !(v->flags & CFG_F_AOT)) {
            fail_nokey(p, "array of tables [[%s]]: the key is already %s (line %d)", hp,
                       type_name(v), v->line);
            goto done;
        }
        cfg_value *el = cfg__new(CFG_TABLE, line);
        if (!el || cfg__array_push(v, el) < 0) {
            rc = oom(p);
            goto done;
        }
        el->flags = CFG_F_DEFINED;
        *cur = el;
        depth++;
    }
    *cur_depth = depth;
    rc = 0;
done:
    key_free(&k);
    return rc;
}

cfg_value *toml_parse(const char *path, const char *text, size_t len, err *e)
{
    tp p = {.path = path ? path : "<toml>", .s = text, .len = len, .line = 1, .e = e};
    buf_init(&p.tabpath, CFG_STRING_BYTES_MAX);
    buf_init(&p.kctx, CFG_STRING_BYTES_MAX);
    long bad = cfg__utf8_check(text, len);
    if (bad >= 0) {
        err_setf(e, DUR_EPARSE, "%s:%d: invalid UTF-8 (byte 0x%02X)", p.path,
                 cfg__line_at(text, len, (size_t)bad), (unsigned char)text[bad]);
        return NULL;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p.pos = 3;
    p.root = cfg__new(CFG_TABLE, 1);
    if (!p.root) {
        err_setf(e, DUR_ENOMEM, "%s: out of memory", p.path);
        return NULL;
    }
    cfg_value *cur = p.root;
    int cur_depth = 0;
    for (;;) {
        skip_ws(&p);
        if (skip_comment(&p) < 0)
            goto fail;
        if (eat_newline(&p))
            continue;
        int c = peek(&p);
        if (c < 0)
            break;
        if (c == '[') {
            if (header(&p, &cur, &cur_depth) < 0 || expect_eol(&p, "the table header") < 0)
                goto fail;
            continue;
        }
        /* Messages name the key with its table: "vars.X". */
        buf_reset(&p.kctx);
        if (p.tabpath.len && buf_append(&p.kctx, p.tabpath.ptr, p.tabpath.len) < 0) {
            oom(&p);
            goto fail;
        }
        if (keyval(&p, cur, cur_depth) < 0 || expect_eol(&p, "the value") < 0)
            goto fail;
    }
    buf_fini(&p.tabpath);
    buf_fini(&p.kctx);
    return p.root;
fail:
    buf_fini(&p.tabpath);
    buf_fini(&p.kctx);
    cfg_value_free(p.root);
    return NULL;
}
