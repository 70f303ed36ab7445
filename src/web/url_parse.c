/* url_parse.c: the WHATWG URL parser, host parser and serializer (see url_parse.h).
 *
 * The state machine walks bytes, not code points: every rule of the standard that
 * looks at a code point looks at an ASCII one, and percent-encoding a code point is
 * the same as percent-encoding each byte of its UTF-8 form, so the byte walk gives
 * the same result without decoding. Only the host parser decodes (for IDNA).
 *
 * Written here rather than taken from a library: Debian has no C WHATWG URL parser
 * (curl's is RFC 3986 and differs on almost every edge the Web relies on). */
#include "web/url_parse.h"

#include <stdlib.h>
#include <string.h>

/* ---- character classes and percent-encode sets ---- */

enum {
    SET_C0 = 1,          /* C0 controls and > U+007E */
    SET_FRAGMENT = 2,
    SET_QUERY = 4,
    SET_SPECIAL_QUERY = 8,
    SET_PATH = 16,
    SET_USERINFO = 32,
    SET_COMPONENT = 64,
    SET_FORM = 128,      /* application/x-www-form-urlencoded (space handled apart) */
};

/* Each set as a predicate on a byte; ENC() folds them into one table entry. */
#define P_C0(c) ((c) < 0x20 || (c) > 0x7e)
#define P_FRAG(c) (P_C0(c) || (c) == ' ' || (c) == '"' || (c) == '<' || (c) == '>' || (c) == '`')
#define P_QUERY(c) (P_C0(c) || (c) == ' ' || (c) == '"' || (c) == '#' || (c) == '<' || (c) == '>')
#define P_SQUERY(c) (P_QUERY(c) || (c) == '\'')
#define P_PATH(c) (P_QUERY(c) || (c) == '?' || (c) == '^' || (c) == '`' || (c) == '{' || (c) == '}')
#define P_USERINFO(c)                                                                     \
    (P_PATH(c) || (c) == '/' || (c) == ':' || (c) == ';' || (c) == '=' || (c) == '@' ||  \
     ((c) >= '[' && (c) <= '^') || (c) == '|')
#define P_COMPONENT(c) (P_USERINFO(c) || ((c) >= '$' && (c) <= '&') || (c) == '+' || (c) == ',')
#define P_FORM(c) (P_COMPONENT(c) || (c) == '!' || ((c) >= '\'' && (c) <= ')') || (c) == '~')
#define ENC(c)                                                                            \
    (P_C0(c) * SET_C0 | P_FRAG(c) * SET_FRAGMENT | P_QUERY(c) * SET_QUERY |               \
     P_SQUERY(c) * SET_SPECIAL_QUERY | P_PATH(c) * SET_PATH | P_USERINFO(c) * SET_USERINFO | \
     P_COMPONENT(c) * SET_COMPONENT | P_FORM(c) * SET_FORM)
#define ENC4(c) ENC(c), ENC((c) + 1), ENC((c) + 2), ENC((c) + 3)
#define ENC16(c) ENC4(c), ENC4((c) + 4), ENC4((c) + 8), ENC4((c) + 12)
#define ENC64(c) ENC16(c), ENC16((c) + 16), ENC16((c) + 32), ENC16((c) + 48)
static const uint8_t enc_tab[256] = {ENC64(0), ENC64(64), ENC64(128), ENC64(192)};

static const char hex_upper[] = "0123456789ABCDEF";

static inline bool is_alpha(int c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline bool is_digit(int c) { return c >= '0' && c <= '9'; }
static inline bool is_hex(int c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
static inline int hex_val(int c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }
static inline int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Forbidden host code points (opaque hosts); domains add C0, '%' and DEL. */
static bool forbidden_host(int c)
{
    switch (c) {
    case 0: case '\t': case '\n': case '\r': case ' ': case '#': case '/': case ':':
    case '<': case '>': case '?': case '@': case '[': case '\\': case ']': case '^': case '|':
        return true;
    default:
        return false;
    }
}
static bool forbidden_domain(int c)
{
    return forbidden_host(c) || c <= 0x1f || c == '%' || c == 0x7f;
}

/* ---- small buffer helpers ---- */

static inline int put(buf *b, char c)
{
    if (b->ptr && b->len < b->cap) {
        b->ptr[b->len++] = c;
        b->ptr[b->len] = '\0';
        return 0;
    }
    return buf_append(b, &c, 1);
}

static int put_pct(buf *b, uint8_t c)
{
    char t[3] = {'%', hex_upper[c >> 4], hex_upper[c & 15]};
    return buf_append(b, t, 3);
}

/* Appends byte c, percent-encoded if it is in `set`. */
static inline int put_enc(buf *b, uint8_t c, int set)
{
    return (enc_tab[c] & set) ? put_pct(b, c) : put(b, (char)c);
}

static int append_enc(buf *b, const char *s, size_t n, int set)
{
    for (size_t i = 0; i < n; i++) {
        int rc = put_enc(b, (uint8_t)s[i], set);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int buf_set(buf *b, const char *s, size_t n)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
    return buf_append(b, s, n);
}

static int buf_copy(buf *dst, const buf *src)
{
    return buf_set(dst, src->ptr ? src->ptr : "", src->len);
}

static void buf_clear(buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

static const char *bp(const buf *b) { return b->ptr ? b->ptr : ""; }

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s[i] (1..4), or 0 if invalid there; *bad
 * gets the number of bytes forming the maximal invalid subpart (≥ 1). */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t i, size_t *bad)
{
    uint8_t b = s[i];
    *bad = 1;
    if (b < 0x80)
        return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf)
        need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    for (size_t j = 1; j <= need; j++) {
        if (i + j >= n || s[i + j] < lo || s[i + j] > hi) {
            *bad = j;
            return 0;
        }
        lo = 0x80;
        hi = 0xbf;
    }
    return need + 1;
}

bool url_utf8_valid(const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t bad;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(u, n, i, &bad);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

int url_utf8_sanitize(const char *s, size_t n, bool wtf8, buf *out)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t bad;
    int rc = buf_reserve(out, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n;) {
        size_t k = u[i] < 0x80 ? 1 : utf8_seq(u, n, i, &bad);
        if (k) {
            rc = buf_append(out, s + i, k);
            i += k;
        } else {
            if (wtf8 && u[i] == 0xed && i + 2 < n && u[i + 1] >= 0xa0 && u[i + 1] <= 0xbf &&
                u[i + 2] >= 0x80 && u[i + 2] <= 0xbf)
                bad = 3;
            rc = buf_append(out, "\xef\xbf\xbd", 3);
            i += bad;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Decodes valid UTF-8 (checked by the caller) at s[*i]. */
static uint32_t utf8_next(const uint8_t *s, size_t *i)
{
    uint32_t b = s[(*i)++];
    if (b < 0x80)
        return b;
    int extra = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    uint32_t cp = b & (0x3f >> extra);
    while (extra--)
        cp = (cp << 6) | (s[(*i)++] & 0x3f);
    return cp;
}

static int percent_decode(const char *s, size_t n, buf *out)
{
    int rc = buf_reserve(out, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && is_hex((uint8_t)s[i + 1]) && is_hex((uint8_t)s[i + 2])) {
            c = (char)(hex_val((uint8_t)s[i + 1]) * 16 + hex_val((uint8_t)s[i + 2]));
            i += 2;
        }
        out->ptr[out->len++] = c;
    }
    out->ptr[out->len] = '\0';
    return 0;
}

static int idna_map(uint32_t cp, uint32_t *cps);

/* ---- Punycode (RFC 3492) ---- */

enum { PC_BASE = 36, PC_TMIN = 1, PC_TMAX = 26, PC_SKEW = 38, PC_DAMP = 700 };

static uint32_t pc_adapt(uint32_t delta, uint32_t points, bool first)
{
    delta = first ? delta / PC_DAMP : delta / 2;
    delta += delta / points;
    uint32_t k = 0;
    while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
        delta /= PC_BASE - PC_TMIN;
        k += PC_BASE;
    }
    return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

static uint32_t pc_threshold(uint32_t k, uint32_t bias)
{
    return k <= bias ? PC_TMIN : k >= bias + PC_TMAX ? PC_TMAX : k - bias;
}

static char pc_digit(uint32_t d) { return (char)(d < 26 ? 'a' + d : '0' + d - 26); }

/* Appends the Punycode form of cps[0..n) (without "xn--"). DUR_EPARSE on overflow. */
static int punycode_encode(const uint32_t *cps, size_t n, buf *out)
{
    uint32_t cp_n = 0x80, bias = 72;
    uint64_t delta = 0;
    size_t basic = 0;
    int rc;
    for (size_t i = 0; i < n; i++)
        if (cps[i] < 0x80) {
            if ((rc = put(out, (char)cps[i])) < 0)
                return rc;
            basic++;
        }
    if (basic && (rc = put(out, '-')) < 0)
        return rc;
    for (size_t h = basic; h < n;) {
        uint32_t m = UINT32_MAX;
        for (size_t i = 0; i < n; i++)
            if (cps[i] >= cp_n && cps[i] < m)
                m = cps[i];
        delta += (uint64_t)(m - cp_n) * (h + 1);
        if (delta > UINT32_MAX)
            return DUR_EPARSE;
        cp_n = m;
        for (size_t i = 0; i < n; i++) {
            if (cps[i] < cp_n && ++delta > UINT32_MAX)
                return DUR_EPARSE;
            if (cps[i] != cp_n)
                continue;
            uint32_t q = (uint32_t)delta;
            for (uint32_t k = PC_BASE;; k += PC_BASE) {
                uint32_t t = pc_threshold(k, bias);
                if (q < t)
                    break;
                if ((rc = put(out, pc_digit(t + (q - t) % (PC_BASE - t)))) < 0)
                    return rc;
                q = (q - t) / (PC_BASE - t);
            }
            if ((rc = put(out, pc_digit(q))) < 0)
                return rc;
            bias = pc_adapt((uint32_t)delta, (uint32_t)(h + 1), h == basic);
            delta = 0;
            h++;
        }
        delta++;
        cp_n++;
    }
    return 0;
}

/* Checks that s[0..n) (after "xn--") is valid Punycode that decodes to a non-empty
 * label with at least one non-ASCII code point (UTS #46 with IgnoreInvalidPunycode
 * false). The decoded label itself is not kept. */
static bool punycode_valid(const char *s, size_t n)
{
    size_t b = 0, out_len = 0;
    bool any_non_ascii = false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '-')
            b = i;
    /* Code points before the last delimiter are basic; if there are none, a
     * leading '-' is not a delimiter and fails below as a digit. */
    for (size_t i = 0; i < b; i++)
        if ((uint8_t)s[i] >= 0x80)
            return false;
    out_len = b;
    size_t in = b > 0 ? b + 1 : 0;
    uint32_t cp_n = 0x80, bias = 72;
    uint64_t i = 0;
    while (in < n) {
        uint64_t old_i = i, w = 1;
        for (uint32_t k = PC_BASE;; k += PC_BASE) {
            if (in >= n)
                return false;
            int c = (uint8_t)s[in++];
            uint32_t d;
            if (is_digit(c))
                d = (uint32_t)(c - '0' + 26);
            else if (is_alpha(c))
                d = (uint32_t)(lower(c) - 'a');
            else
                return false;
            i += d * w;
            if (i > UINT32_MAX)
                return false;
            uint32_t t = pc_threshold(k, bias);
            if (d < t)
                break;
            w *= PC_BASE - t;
            if (w > UINT32_MAX)
                return false;
        }
        bias = pc_adapt((uint32_t)(i - old_i), (uint32_t)(out_len + 1), old_i == 0);
        uint64_t nn = cp_n + i / (out_len + 1);
        if (nn > 0x10ffff || (nn >= 0xd800 && nn <= 0xdfff) || nn < 0x80)
            return false;
        /* The decoded code point must be one the mapping keeps as it is: a label
         * that decodes to upper case or to a disallowed code point is invalid. */
        uint32_t mapped[2];
        if (idna_map((uint32_t)nn, mapped) != 1 || mapped[0] != nn)
            return false;
        cp_n = (uint32_t)nn;
        i %= out_len + 1;
        i++;
        out_len++;
        any_non_ascii = true;
    }
    return out_len > 0 && any_non_ascii;
}

/* ---- hosts ---- */

/* IPv4 number: 0 and *v (saturated above 2^32), or -1 if not a number. */
static int ipv4_number(const char *s, size_t n, uint64_t *v)
{
    if (n == 0)
        return -1;
    unsigned radix = 10;
    if (n >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
        s += 2, n -= 2;
        radix = 16;
    } else if (n >= 2 && s[0] == '0') {
        s += 1, n -= 1;
        radix = 8;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (uint8_t)s[i];
        unsigned d;
        if (radix == 16 && is_hex(c))
            d = (unsigned)hex_val(c);
        else if (is_digit(c) && (unsigned)(c - '0') < radix)
            d = (unsigned)(c - '0');
        else
            return -1;
        x = x * radix + d;
        if (x > ((uint64_t)1 << 40))   /* saturate: anything this big fails anyway */
            x = (uint64_t)1 << 40;
    }
    *v = x;
    return 0;
}

/* The standard's "ends in a number" test on an ASCII domain. */
static bool ends_in_number(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '.')
        n--;                          /* "a.1." ends in the number 1 */
    size_t start = n;
    while (start > 0 && s[start - 1] != '.')
        start--;
    const char *last = s + start;
    size_t len = n - start;
    if (len == 0)
        return false;
    bool digits = true;
    for (size_t i = 0; i < len; i++)
        if (!is_digit((uint8_t)last[i]))
            digits = false;
    uint64_t v;
    return digits || ipv4_number(last, len, &v) == 0;
}

static int ipv4_parse(const char *s, size_t n, uint32_t *out, err *e)
{
    uint64_t nums[4];
    size_t count = 0;
    if (n > 0 && s[n - 1] == '.' && n > 1)
        n--;                          /* one trailing dot is allowed */
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (count == 4)
            return err_setf(e, DUR_EPARSE, "IPv4 address with more than four parts");
        if (ipv4_number(s + start, i - start, &nums[count]) < 0)
            return err_setf(e, DUR_EPARSE, "invalid IPv4 address part '%.*s'",
                            (int)(i - start > 64 ? 64 : i - start), s + start);
        count++;
        start = i + 1;
    }
    for (size_t i = 0; i + 1 < count; i++)
        if (nums[i] > 255)
            return err_setf(e, DUR_EPARSE, "IPv4 address part out of range");
    uint64_t limit = (uint64_t)1 << (8 * (5 - count));
    if (nums[count - 1] >= limit)
        return err_setf(e, DUR_EPARSE, "IPv4 address out of range");
    uint64_t v = nums[count - 1];
    for (size_t i = 0; i + 1 < count; i++)
        v += nums[i] << (8 * (3 - i));
    *out = (uint32_t)v;
    return 0;
}

static int ipv4_serialize(uint32_t v, buf *out)
{
    return buf_printf(out, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

/* The IPv6 parser of the standard (state machine over the text between brackets). */
static int ipv6_parse(const char *s, size_t n, uint16_t addr[8], err *e)
{
    memset(addr, 0, 8 * sizeof addr[0]);
    int piece = 0, compress = -1;
    size_t p = 0;
#define AT(i) ((i) < n ? (int)(uint8_t)s[i] : -1)
    if (AT(p) == ':') {
        if (AT(p + 1) != ':')
            return err_setf(e, DUR_EPARSE, "invalid IPv6 address: leading ':'");
        p += 2;
        compress = ++piece;
    }
    while (AT(p) != -1) {
        if (piece == 8)
            return err_setf(e, DUR_EPARSE, "invalid IPv6 address: too many pieces");
        if (AT(p) == ':') {
            if (compress != -1)
                return err_setf(e, DUR_EPARSE, "invalid IPv6 address: more than one '::'");
            p++;
            compress = ++piece;
            continue;
        }
        unsigned value = 0, length = 0;
        while (length < 4 && is_hex(AT(p))) {
            value = value * 16 + (unsigned)hex_val(AT(p));
            p++, length++;
        }
        if (AT(p) == '.') {
            if (length == 0 || piece > 6)
                return err_setf(e, DUR_EPARSE, "invalid IPv6 address: misplaced IPv4 part");
            p -= length;
            int seen = 0;
            while (AT(p) != -1) {
                int v4 = -1;
                if (seen > 0) {
                    if (AT(p) == '.' && seen < 4)
                        p++;
                    else
                        return err_setf(e, DUR_EPARSE, "invalid IPv4 part in IPv6 address");
                }
                if (!is_digit(AT(p)))
                    return err_setf(e, DUR_EPARSE, "invalid IPv4 part in IPv6 address");
                while (is_digit(AT(p))) {
                    int d = AT(p) - '0';
                    if (v4 == -1)
                        v4 = d;
                    else if (v4 == 0)
                        return err_setf(e, DUR_EPARSE, "IPv4 part in IPv6 address has a leading 0");
                    else
                        v4 = v4 * 10 + d;
                    if (v4 > 255)
                        return err_setf(e, DUR_EPARSE, "IPv4 part in IPv6 address above 255");
                    p++;
                }
                addr[piece] = (uint16_t)(addr[piece] * 0x100 + v4);
                seen++;
                if (seen == 2 || seen == 4)
                    piece++;
            }
            if (seen != 4)
                return err_setf(e, DUR_EPARSE, "IPv4 part in IPv6 address too short");
            break;
        } else if (AT(p) == ':') {
            p++;
            if (AT(p) == -1)
                return err_setf(e, DUR_EPARSE, "invalid IPv6 address: trailing ':'");
        } else if (AT(p) != -1)
            return err_setf(e, DUR_EPARSE, "invalid IPv6 address: unexpected '%c'",
                            AT(p) >= 0x20 && AT(p) < 0x7f ? AT(p) : '?');
        addr[piece++] = (uint16_t)value;
    }
#undef AT
    if (compress != -1) {
        int swaps = piece - compress;
        piece = 7;
        while (piece != 0 && swaps > 0) {
            uint16_t t = addr[piece];
            addr[piece] = addr[compress + swaps - 1];
            addr[compress + swaps - 1] = t;
            piece--, swaps--;
        }
    } else if (piece != 8)
        return err_setf(e, DUR_EPARSE, "invalid IPv6 address: too few pieces");
    return 0;
}

static int ipv6_serialize(const uint16_t a[8], buf *out)
{
    /* The first longest run of two or more zero pieces becomes "::". */
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && a[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    int rc = put(out, '[');
    for (int i = 0; i < 8 && rc == 0; i++) {
        if (i == best) {
            rc = buf_append(out, i == 0 ? "::" : ":", i == 0 ? 2 : 1);
            i += best_len - 1;
            continue;
        }
        rc = buf_printf(out, "%x", a[i]);
        if (rc == 0 && i != 7)
            rc = put(out, ':');
    }
    return rc ? rc : put(out, ']');
}

/* UTS #46 mapping subset (see the header): appends the mapped code points of cp
 * to cps. Returns the count appended (0 = ignored) or -1 if disallowed. */
static int idna_map(uint32_t cp, uint32_t *cps)
{
    if (cp >= 'A' && cp <= 'Z')
        return cps[0] = cp + 32, 1;
    if (cp < 0x80)
        return cps[0] = cp, 1;
    if (cp < 0xa0 || cp == 0xfffd || (cp & 0xfffe) == 0xfffe || (cp >= 0xfdd0 && cp <= 0xfdef) ||
        (cp >= 0xe000 && cp <= 0xf8ff) || cp == 0x200c || cp == 0x200d)
        return -1;
    if (cp == 0xa0 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x3000)
        return cps[0] = ' ', 1;    /* spaces: refused later as forbidden */
    if (cp == 0xad || cp == 0x34f || (cp >= 0x180b && cp <= 0x180d) || cp == 0x200b ||
        cp == 0x2060 || (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff)
        return 0;
    if (cp == 0x3002 || cp == 0xff0e || cp == 0xff61)
        return cps[0] = '.', 1;
    if (cp >= 0xff01 && cp <= 0xff5e) {
        uint32_t a = cp - 0xfee0;
        return cps[0] = (uint32_t)lower((int)a), 1;
    }
    if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
        return cps[0] = cp + 32, 1;
    if (cp == 0x130)
        return cps[0] = 'i', cps[1] = 0x307, 2;
    if (cp == 0x149)
        return cps[0] = 0x2bc, cps[1] = 'n', 2;
    if (cp == 0x178)
        return cps[0] = 0xff, 1;
    if (cp == 0x17f)
        return cps[0] = 's', 1;
    if (cp >= 0x100 && cp <= 0x17e && cp != 0x131 && cp != 0x138) {
        bool upper_even = cp < 0x138 || (cp >= 0x14a && cp < 0x178);
        if (upper_even ? (cp % 2 == 0) : (cp % 2 == 1))
            return cps[0] = cp + 1, 1;
        return cps[0] = cp, 1;
    }
    if (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2)
        return cps[0] = cp + 32, 1;
    if (cp == 0x386)
        return cps[0] = 0x3ac, 1;
    if (cp >= 0x388 && cp <= 0x38a)
        return cps[0] = cp + 37, 1;
    if (cp == 0x38c)
        return cps[0] = 0x3cc, 1;
    if (cp == 0x38e || cp == 0x38f)
        return cps[0] = cp + 63, 1;
    if (cp >= 0x400 && cp <= 0x40f)
        return cps[0] = cp + 80, 1;
    if (cp >= 0x410 && cp <= 0x42f)
        return cps[0] = cp + 32, 1;
    return cps[0] = cp, 1;
}

static bool starts_xn(const char *s, size_t n)
{
    return n >= 4 && (s[0] | 0x20) == 'x' && (s[1] | 0x20) == 'n' && s[2] == '-' && s[3] == '-';
}

/* Domain to ASCII for an ASCII domain: lower case, "xn--" labels checked. */
static int domain_ascii(const char *s, size_t n, buf *out, err *e)
{
    int rc = buf_reserve(out, n);
    if (rc < 0)
        return rc;
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (starts_xn(s + label, i - label) && !punycode_valid(s + label + 4, i - label - 4))
            return err_setf(e, DUR_EPARSE, "invalid Punycode label '%.*s'",
                            (int)(i - label > 64 ? 64 : i - label), s + label);
        label = i + 1;
    }
    for (size_t i = 0; i < n; i++)
        out->ptr[out->len++] = (char)lower((uint8_t)s[i]);
    out->ptr[out->len] = '\0';
    return 0;
}

/* Domain to ASCII for a domain with non-ASCII code points (valid UTF-8). */
static int domain_unicode(const char *s, size_t n, buf *out, err *e)
{
    /* Punycode encoding costs (label length)² per label, so non-ASCII domains are
     * bounded (see URL_IDNA_*_MAX): far above what DNS can resolve, far below what
     * would let one `new URL()` burn CPU. */
    if (n > URL_IDNA_DOMAIN_BYTES_MAX)
        return err_setf(e, DUR_EPARSE, "non-ASCII domain longer than %u bytes",
                        URL_IDNA_DOMAIN_BYTES_MAX);
    /* A code point maps to at most 2, and takes at least 1 byte: 2n code points. */
    uint32_t *cps = malloc((2 * n + 1) * sizeof *cps);
    if (!cps)
        return DUR_ENOMEM;
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = utf8_next((const uint8_t *)s, &i);
        int k = idna_map(cp, cps + count);
        if (k < 0) {
            rc = err_setf(e, DUR_EPARSE, "domain has a disallowed code point U+%04X", cp);
            goto done;
        }
        count += (size_t)k;
    }
    size_t label = 0;
    for (size_t i = 0; i <= count && rc == 0; i++) {
        if (i < count && cps[i] != '.')
            continue;
        bool ascii = true;
        for (size_t j = label; j < i; j++)
            if (cps[j] >= 0x80)
                ascii = false;
        if (ascii) {
            char tmp[4];
            bool xn = i - label >= 4;
            for (size_t j = 0; xn && j < 4; j++)
                tmp[j] = (char)cps[label + j];
            if (xn && starts_xn(tmp, 4)) {
                /* Re-check the Punycode of an ASCII label written as xn--. */
                buf t;
                buf_init(&t, URL_COMPONENT_BYTES_MAX);
                for (size_t j = label + 4; j < i && rc == 0; j++)
                    rc = put(&t, (char)cps[j]);
                if (rc == 0 && !punycode_valid(bp(&t), t.len))
                    rc = err_setf(e, DUR_EPARSE, "invalid Punycode label in domain");
                buf_fini(&t);
            }
            for (size_t j = label; j < i && rc == 0; j++)
                rc = put(out, (char)cps[j]);
        } else if (i - label >= 4 && cps[label] == 'x' && cps[label + 1] == 'n' &&
                   cps[label + 2] == '-' && cps[label + 3] == '-') {
            rc = err_setf(e, DUR_EPARSE, "an xn-- label must be ASCII");
        } else if (i - label > URL_IDNA_LABEL_CPS_MAX) {
            rc = err_setf(e, DUR_EPARSE, "non-ASCII domain label longer than %u code points",
                          URL_IDNA_LABEL_CPS_MAX);
        } else {
            rc = buf_append(out, "xn--", 4);
            if (rc == 0)
                rc = punycode_encode(cps + label, i - label, out);
            if (rc == DUR_EPARSE)
                err_setf(e, rc, "domain label too long for Punycode");
        }
        if (rc == 0 && i < count)
            rc = put(out, '.');
        label = i + 1;
    }
done:
    free(cps);
    return rc;
}

/* Host parser: appends the serialized host of s[0..n) to out. `special` selects a
 * domain/IPv4 host, else an opaque host. */
static int host_parse(const char *s, size_t n, bool special, buf *out, err *e)
{
    int rc;
    if (n > 0 && s[0] == '[') {
        if (s[n - 1] != ']' || n < 2)
            return err_setf(e, DUR_EPARSE, "IPv6 address without closing ']'");
        uint16_t a[8];
        if ((rc = ipv6_parse(s + 1, n - 2, a, e)) < 0)
            return rc;
        return ipv6_serialize(a, out);
    }
    if (!special) {
        for (size_t i = 0; i < n; i++)
            if (forbidden_host((uint8_t)s[i]))
                return err_setf(e, DUR_EPARSE, "host has a forbidden code point '%c'",
                                s[i] >= 0x20 ? s[i] : '?');
        return append_enc(out, s, n, SET_C0);
    }
    buf dec, ascii;
    buf_init(&dec, URL_COMPONENT_BYTES_MAX);
    buf_init(&ascii, URL_COMPONENT_BYTES_MAX);
    if ((rc = percent_decode(s, n, &dec)) < 0)
        goto done;
    const char *d = bp(&dec);
    bool is_ascii = true;
    for (size_t i = 0; i < dec.len; i++)
        if ((uint8_t)d[i] >= 0x80)
            is_ascii = false;
    if (is_ascii)
        rc = domain_ascii(d, dec.len, &ascii, e);
    else if (!url_utf8_valid(d, dec.len))
        rc = err_setf(e, DUR_EPARSE, "domain is not valid UTF-8 after percent-decoding");
    else
        rc = domain_unicode(d, dec.len, &ascii, e);
    if (rc < 0)
        goto done;
    if (ascii.len == 0) {
        rc = err_setf(e, DUR_EPARSE, "empty host");
        goto done;
    }
    const char *a = bp(&ascii);
    for (size_t i = 0; i < ascii.len; i++)
        if (forbidden_domain((uint8_t)a[i])) {
            rc = err_setf(e, DUR_EPARSE, "host has a forbidden code point '%c'",
                          a[i] > 0x20 && a[i] < 0x7f ? a[i] : '?');
            goto done;
        }
    if (ends_in_number(a, ascii.len)) {
        uint32_t v4 = 0;
        if ((rc = ipv4_parse(a, ascii.len, &v4, e)) == 0)
            rc = ipv4_serialize(v4, out);
    } else
        rc = buf_append(out, a, ascii.len);
done:
    buf_fini(&dec);
    buf_fini(&ascii);
    return rc;
}

/* ---- the URL record ---- */

void url_init(url *u)
{
    buf *bufs[] = {&u->scheme, &u->username, &u->password, &u->host,
                   &u->path,   &u->query,    &u->fragment};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        buf_init(bufs[i], URL_COMPONENT_BYTES_MAX);
    u->port = -1;
    u->scheme_kind = URL_SCHEME_OTHER;
    u->has_host = u->opaque_path = u->has_query = u->has_fragment = false;
}

void url_fini(url *u)
{
    buf_fini(&u->scheme);
    buf_fini(&u->username);
    buf_fini(&u->password);
    buf_fini(&u->host);
    buf_fini(&u->path);
    buf_fini(&u->query);
    buf_fini(&u->fragment);
}

static void url_reset(url *u)
{
    buf_clear(&u->scheme);
    buf_clear(&u->username);
    buf_clear(&u->password);
    buf_clear(&u->host);
    buf_clear(&u->path);
    buf_clear(&u->query);
    buf_clear(&u->fragment);
    u->port = -1;
    u->scheme_kind = URL_SCHEME_OTHER;
    u->has_host = u->opaque_path = u->has_query = u->has_fragment = false;
}

int url_default_port(int kind)
{
    switch (kind) {
    case URL_SCHEME_HTTP: case URL_SCHEME_WS: return 80;
    case URL_SCHEME_HTTPS: case URL_SCHEME_WSS: return 443;
    case URL_SCHEME_FTP: return 21;
    default: return -1;
    }
}

static int scheme_kind_of(const char *s, size_t n)
{
    static const struct { const char *name; int kind; } t[] = {
        {"http", URL_SCHEME_HTTP}, {"https", URL_SCHEME_HTTPS}, {"ws", URL_SCHEME_WS},
        {"wss", URL_SCHEME_WSS},   {"ftp", URL_SCHEME_FTP},     {"file", URL_SCHEME_FILE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0)
            return t[i].kind;
    return URL_SCHEME_OTHER;
}

static bool is_special(const url *u) { return u->scheme_kind != URL_SCHEME_OTHER; }
static bool has_credentials(const url *u) { return u->username.len || u->password.len; }

static int copy_authority(url *u, const url *b)
{
    int rc;
    if ((rc = buf_copy(&u->username, &b->username)) < 0 ||
        (rc = buf_copy(&u->password, &b->password)) < 0 || (rc = buf_copy(&u->host, &b->host)) < 0)
        return rc;
    u->has_host = b->has_host;
    u->port = b->port;
    return 0;
}

/* Windows drive letter: ASCII alpha then ':' or '|'; normalized: ':' only. */
static bool drive_letter(const char *s, size_t n, bool normalized)
{
    return n == 2 && is_alpha((uint8_t)s[0]) && (s[1] == ':' || (!normalized && s[1] == '|'));
}

/* The rest of the input from p starts with a Windows drive letter. */
static bool starts_drive_letter(const char *s, size_t n, size_t p)
{
    if (n - p < 2 || !drive_letter(s + p, 2, false))
        return false;
    if (n - p == 2)
        return true;
    char c = s[p + 2];
    return c == '/' || c == '\\' || c == '?' || c == '#';
}

static void path_shorten(url *u)
{
    const char *p = bp(&u->path);
    if (u->scheme_kind == URL_SCHEME_FILE && u->path.len == 3 && p[0] == '/' &&
        drive_letter(p + 1, 2, true))
        return;
    size_t i = u->path.len;
    while (i > 0 && p[i - 1] != '/')
        i--;
    if (i > 0)
        i--;
    u->path.len = i;
    if (u->path.ptr)
        u->path.ptr[i] = '\0';
}

static int path_append(url *u, const char *seg, size_t n)
{
    int rc = put(&u->path, '/');
    return rc ? rc : buf_append(&u->path, seg, n);
}

static bool single_dot(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') ||
           (n == 3 && s[0] == '%' && s[1] == '2' && (s[2] | 0x20) == 'e');
}

static bool double_dot(const char *s, size_t n)
{
    if (n == 2)
        return s[0] == '.' && s[1] == '.';
    if (n == 4)
        return (s[0] == '.' && single_dot(s + 1, 3)) || (single_dot(s, 3) && s[3] == '.');
    return n == 6 && single_dot(s, 3) && single_dot(s + 3, 3);
}

/* Parses the host text in `b` and, only if it is valid, makes it u's host (a
 * failing setter must leave the old host). `file` maps "localhost" to "". */
static int set_host(url *u, const buf *b, bool special, bool file, err *e)
{
    buf h;
    buf_init(&h, URL_COMPONENT_BYTES_MAX);
    int rc = host_parse(bp(b), b->len, special, &h, e);
    if (rc == 0 && file && h.len == 9 && memcmp(h.ptr, "localhost", 9) == 0)
        buf_clear(&h);
    if (rc == 0)
        rc = buf_copy(&u->host, &h);
    if (rc == 0)
        u->has_host = true;
    buf_fini(&h);
    return rc;
}

/* ---- the basic URL parser ---- */

enum state {
    ST_NONE = 0,
    ST_SCHEME_START,
    ST_SCHEME,
    ST_NO_SCHEME,
    ST_SPECIAL_RELATIVE_OR_AUTHORITY,
    ST_PATH_OR_AUTHORITY,
    ST_RELATIVE,
    ST_RELATIVE_SLASH,
    ST_SPECIAL_AUTHORITY_SLASHES,
    ST_SPECIAL_AUTHORITY_IGNORE_SLASHES,
    ST_AUTHORITY,
    ST_HOST,
    ST_HOSTNAME,
    ST_PORT,
    ST_FILE,
    ST_FILE_SLASH,
    ST_FILE_HOST,
    ST_PATH_START,
    ST_PATH,
    ST_OPAQUE_PATH,
    ST_QUERY,
    ST_FRAGMENT,
};

#define C_EOF (-1)
#define FAIL(...) do { rc = err_setf(e, DUR_EPARSE, __VA_ARGS__); goto out; } while (0)
#define CHECK(x) do { if ((rc = (x)) < 0) goto out; } while (0)
#define RETURN() do { rc = 0; goto out; } while (0)

/* Authority terminators: EOF / ? # and, for special URLs, backslash. */
static inline bool auth_end(int c, bool special)
{
    return c == C_EOF || c == '/' || c == '?' || c == '#' || (special && c == '\\');
}

/* The standard's state machine: one flat switch over the states, as the standard
 * writes it, so each case can be read against its text. `s` has had leading and
 * trailing C0/space trimmed (when no override) and tab/newline removed. */
static int run(url *u, const char *s, size_t n, const url *base, enum state override, err *e)
{
    enum state st = override ? override : ST_SCHEME_START;
    buf b;
    buf_init(&b, URL_COMPONENT_BYTES_MAX);
    bool at_seen = false, in_brackets = false, pw_seen = false;
    int rc = 0;
    ptrdiff_t p = 0;
    const ptrdiff_t end = (ptrdiff_t)n;
#define REM(k) (p + (k) < end ? (int)(uint8_t)s[p + (k)] : C_EOF)

    for (;; p++) {
        int c = p < end ? (int)(uint8_t)s[p] : C_EOF;
        switch (st) {
        case ST_SCHEME_START:
            if (is_alpha(c)) {
                CHECK(put(&b, (char)lower(c)));
                st = ST_SCHEME;
            } else if (!override) {
                st = ST_NO_SCHEME;
                p--;
            } else
                FAIL("scheme must start with a letter");
            break;

        case ST_SCHEME:
            if (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.') {
                CHECK(put(&b, (char)lower(c)));
            } else if (c == ':') {
                int kind = scheme_kind_of(bp(&b), b.len);
                if (override) {
                    if ((u->scheme_kind != URL_SCHEME_OTHER) != (kind != URL_SCHEME_OTHER))
                        RETURN();
                    if ((has_credentials(u) || u->port != -1) && kind == URL_SCHEME_FILE)
                        RETURN();
                    if (u->scheme_kind == URL_SCHEME_FILE && u->has_host && u->host.len == 0)
                        RETURN();
                }
                CHECK(buf_copy(&u->scheme, &b));
                u->scheme_kind = (uint8_t)kind;
                if (override) {
                    if (u->port != -1 && u->port == url_default_port(kind))
                        u->port = -1;
                    RETURN();
                }
                buf_clear(&b);
                if (kind == URL_SCHEME_FILE)
                    st = ST_FILE;
                else if (kind != URL_SCHEME_OTHER && base && base->scheme_kind == kind)
                    st = ST_SPECIAL_RELATIVE_OR_AUTHORITY;
                else if (kind != URL_SCHEME_OTHER)
                    st = ST_SPECIAL_AUTHORITY_SLASHES;
                else if (REM(1) == '/') {
                    st = ST_PATH_OR_AUTHORITY;
                    p++;
                } else {
                    u->opaque_path = true;
                    buf_clear(&u->path);
                    st = ST_OPAQUE_PATH;
                }
            } else if (!override) {
                buf_clear(&b);
                st = ST_NO_SCHEME;
                p = -1;
            } else
                FAIL("invalid scheme character");
            break;

        case ST_NO_SCHEME:
            if (!base)
                FAIL("relative URL without a base");
            if (base->opaque_path && c != '#')
                FAIL("relative URL against a base with an opaque path");
            if (base->opaque_path) {
                CHECK(buf_copy(&u->scheme, &base->scheme));
                u->scheme_kind = base->scheme_kind;
                CHECK(buf_copy(&u->path, &base->path));
                u->opaque_path = true;
                CHECK(buf_copy(&u->query, &base->query));
                u->has_query = base->has_query;
                buf_clear(&u->fragment);
                u->has_fragment = true;
                st = ST_FRAGMENT;
            } else {
                st = base->scheme_kind == URL_SCHEME_FILE ? ST_FILE : ST_RELATIVE;
                p--;
            }
            break;

        case ST_SPECIAL_RELATIVE_OR_AUTHORITY:
            if (c == '/' && REM(1) == '/') {
                st = ST_SPECIAL_AUTHORITY_IGNORE_SLASHES;
                p++;
            } else {
                st = ST_RELATIVE;
                p--;
            }
            break;

        case ST_PATH_OR_AUTHORITY:
            if (c == '/')
                st = ST_AUTHORITY;
            else {
                st = ST_PATH;
                p--;
            }
            break;

        case ST_RELATIVE:
            CHECK(buf_copy(&u->scheme, &base->scheme));
            u->scheme_kind = base->scheme_kind;
            if (c == '/' || (is_special(u) && c == '\\'))
                st = ST_RELATIVE_SLASH;
            else {
                CHECK(copy_authority(u, base));
                CHECK(buf_copy(&u->path, &base->path));
                CHECK(buf_copy(&u->query, &base->query));
                u->has_query = base->has_query;
                if (c == '?') {
                    buf_clear(&u->query);
                    u->has_query = true;
                    st = ST_QUERY;
                } else if (c == '#') {
                    buf_clear(&u->fragment);
                    u->has_fragment = true;
                    st = ST_FRAGMENT;
                } else if (c != C_EOF) {
                    u->has_query = false;
                    buf_clear(&u->query);
                    path_shorten(u);
                    st = ST_PATH;
                    p--;
                }
            }
            break;

        case ST_RELATIVE_SLASH:
            if (is_special(u) && (c == '/' || c == '\\'))
                st = ST_SPECIAL_AUTHORITY_IGNORE_SLASHES;
            else if (c == '/')
                st = ST_AUTHORITY;
            else {
                CHECK(copy_authority(u, base));
                st = ST_PATH;
                p--;
            }
            break;

        case ST_SPECIAL_AUTHORITY_SLASHES:
            st = ST_SPECIAL_AUTHORITY_IGNORE_SLASHES;
            if (c == '/' && REM(1) == '/')
                p++;
            else
                p--;
            break;

        case ST_SPECIAL_AUTHORITY_IGNORE_SLASHES:
            if (c != '/' && c != '\\') {
                st = ST_AUTHORITY;
                p--;
            }
            break;

        case ST_AUTHORITY:
            if (c == '@') {
                if (at_seen) {
                    buf t;
                    buf_init(&t, URL_COMPONENT_BYTES_MAX);
                    rc = buf_append(&t, "%40", 3);
                    if (rc == 0)
                        rc = buf_append(&t, bp(&b), b.len);
                    if (rc == 0)
                        rc = buf_copy(&b, &t);
                    buf_fini(&t);
                    CHECK(rc);
                }
                at_seen = true;
                for (size_t i = 0; i < b.len; i++) {
                    uint8_t ch = (uint8_t)b.ptr[i];
                    if (ch == ':' && !pw_seen) {
                        pw_seen = true;
                        continue;
                    }
                    CHECK(put_enc(pw_seen ? &u->password : &u->username, ch, SET_USERINFO));
                }
                buf_clear(&b);
            } else if (auth_end(c, is_special(u))) {
                if (at_seen && b.len == 0)
                    FAIL("credentials without a host");
                p -= (ptrdiff_t)b.len + 1;
                buf_clear(&b);
                st = ST_HOST;
            } else
                CHECK(put(&b, (char)c));
            break;

        case ST_HOST:
        case ST_HOSTNAME:
            if (override && u->scheme_kind == URL_SCHEME_FILE) {
                p--;
                st = ST_FILE_HOST;
            } else if (c == ':' && !in_brackets) {
                if (b.len == 0)
                    FAIL("missing host before ':'");
                if (override == ST_HOSTNAME)
                    FAIL("hostname contains ':'");
                CHECK(set_host(u, &b, is_special(u), false, e));
                buf_clear(&b);
                st = ST_PORT;
            } else if (auth_end(c, is_special(u))) {
                p--;
                if (is_special(u) && b.len == 0)
                    FAIL("missing host");
                if (override && b.len == 0 && (has_credentials(u) || u->port != -1))
                    RETURN();
                CHECK(set_host(u, &b, is_special(u), false, e));
                buf_clear(&b);
                st = ST_PATH_START;
                if (override)
                    RETURN();
            } else {
                if (c == '[')
                    in_brackets = true;
                if (c == ']')
                    in_brackets = false;
                CHECK(put(&b, (char)c));
            }
            break;

        case ST_PORT:
            if (is_digit(c)) {
                CHECK(put(&b, (char)c));
            } else if (auth_end(c, is_special(u)) || override) {
                if (b.len) {
                    long port = 0;
                    for (size_t i = 0; i < b.len; i++) {
                        port = port * 10 + (b.ptr[i] - '0');
                        if (port > 65535)
                            FAIL("port out of range (0-65535)");
                    }
                    u->port = port == url_default_port(u->scheme_kind) ? -1 : (int)port;
                    buf_clear(&b);
                }
                if (override)
                    RETURN();
                st = ST_PATH_START;
                p--;
            } else
                FAIL("invalid port character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
            break;

        case ST_FILE:
            CHECK(buf_set(&u->scheme, "file", 4));
            u->scheme_kind = URL_SCHEME_FILE;
            buf_clear(&u->host);
            u->has_host = true;
            if (c == '/' || c == '\\')
                st = ST_FILE_SLASH;
            else if (base && base->scheme_kind == URL_SCHEME_FILE) {
                CHECK(buf_copy(&u->host, &base->host));
                u->has_host = base->has_host;
                CHECK(buf_copy(&u->path, &base->path));
                CHECK(buf_copy(&u->query, &base->query));
                u->has_query = base->has_query;
                if (c == '?') {
                    buf_clear(&u->query);
                    u->has_query = true;
                    st = ST_QUERY;
                } else if (c == '#') {
                    buf_clear(&u->fragment);
                    u->has_fragment = true;
                    st = ST_FRAGMENT;
                } else if (c != C_EOF) {
                    buf_clear(&u->query);
                    u->has_query = false;
                    if (!starts_drive_letter(s, n, (size_t)p))
                        path_shorten(u);
                    else
                        buf_clear(&u->path);
                    st = ST_PATH;
                    p--;
                }
            } else {
                st = ST_PATH;
                p--;
            }
            break;

        case ST_FILE_SLASH:
            if (c == '/' || c == '\\')
                st = ST_FILE_HOST;
            else {
                if (base && base->scheme_kind == URL_SCHEME_FILE) {
                    CHECK(buf_copy(&u->host, &base->host));
                    u->has_host = base->has_host;
                    const char *bpath = bp(&base->path);
                    if (!starts_drive_letter(s, n, (size_t)p) && base->path.len >= 3 &&
                        bpath[0] == '/' && drive_letter(bpath + 1, 2, true) &&
                        (base->path.len == 3 || bpath[3] == '/'))
                        CHECK(path_append(u, bpath + 1, 2));
                }
                st = ST_PATH;
                p--;
            }
            break;

        case ST_FILE_HOST:
            if (c == C_EOF || c == '/' || c == '\\' || c == '?' || c == '#') {
                p--;
                if (!override && drive_letter(bp(&b), b.len, false))
                    st = ST_PATH;   /* the drive-letter quirk: b carries on into the path */
                else if (b.len == 0) {
                    buf_clear(&u->host);
                    u->has_host = true;
                    if (override)
                        RETURN();
                    st = ST_PATH_START;
                } else {
                    CHECK(set_host(u, &b, true, true, e));
                    if (override)
                        RETURN();
                    buf_clear(&b);
                    st = ST_PATH_START;
                }
            } else
                CHECK(put(&b, (char)c));
            break;

        case ST_PATH_START:
            if (is_special(u)) {
                st = ST_PATH;
                if (c != '/' && c != '\\')
                    p--;
            } else if (!override && c == '?') {
                buf_clear(&u->query);
                u->has_query = true;
                st = ST_QUERY;
            } else if (!override && c == '#') {
                buf_clear(&u->fragment);
                u->has_fragment = true;
                st = ST_FRAGMENT;
            } else if (c != C_EOF) {
                st = ST_PATH;
                if (c != '/')
                    p--;
            } else if (override && !u->has_host)
                CHECK(put(&u->path, '/'));
            break;

        case ST_PATH: {
            bool slash = c == '/' || (is_special(u) && c == '\\');
            if (c == C_EOF || slash || (!override && (c == '?' || c == '#'))) {
                const char *seg = bp(&b);
                if (double_dot(seg, b.len)) {
                    path_shorten(u);
                    if (!slash)
                        CHECK(put(&u->path, '/'));
                } else if (single_dot(seg, b.len)) {
                    if (!slash)
                        CHECK(put(&u->path, '/'));
                } else {
                    if (u->scheme_kind == URL_SCHEME_FILE && u->path.len == 0 &&
                        drive_letter(seg, b.len, false))
                        b.ptr[1] = ':';
                    CHECK(path_append(u, bp(&b), b.len));
                }
                buf_clear(&b);
                if (c == '?') {
                    buf_clear(&u->query);
                    u->has_query = true;
                    st = ST_QUERY;
                } else if (c == '#') {
                    buf_clear(&u->fragment);
                    u->has_fragment = true;
                    st = ST_FRAGMENT;
                }
            } else
                CHECK(put_enc(&b, (uint8_t)c, SET_PATH));
            break;
        }

        case ST_OPAQUE_PATH:
            if (c == '?') {
                buf_clear(&u->query);
                u->has_query = true;
                st = ST_QUERY;
            } else if (c == '#') {
                buf_clear(&u->fragment);
                u->has_fragment = true;
                st = ST_FRAGMENT;
            } else if (c != C_EOF)
                CHECK(put_enc(&u->path, (uint8_t)c, SET_C0));
            break;

        case ST_QUERY:
            /* Encoded as we go: byte-wise encoding equals the standard's encoding of
             * the buffered code points at the end. */
            if (!override && c == '#') {
                buf_clear(&u->fragment);
                u->has_fragment = true;
                st = ST_FRAGMENT;
            } else if (c != C_EOF)
                CHECK(put_enc(&u->query, (uint8_t)c, is_special(u) ? SET_SPECIAL_QUERY : SET_QUERY));
            break;

        case ST_FRAGMENT:
            if (c != C_EOF)
                CHECK(put_enc(&u->fragment, (uint8_t)c, SET_FRAGMENT));
            break;

        case ST_NONE:
            FAIL("internal: no state");
        }
        if (p >= end)
            break;
    }
#undef REM
out:
    buf_fini(&b);
    return rc;
}

/* Removes tab/newline (and with `trim`, leading/trailing C0 and space) and
 * replaces invalid UTF-8. *out points at the cleaned input: `in` itself when
 * nothing needed changing (the common case: no copy), else tmp's bytes. */
static int preprocess(const char *in, size_t *n, bool trim, buf *tmp, const char **out)
{
    size_t len = *n;
    if (trim) {
        while (len > 0 && (uint8_t)in[0] <= 0x20)
            in++, len--;
        while (len > 0 && (uint8_t)in[len - 1] <= 0x20)
            len--;
    }
    bool has_ws = false, has_high = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)in[i];
        if (c == '\t' || c == '\n' || c == '\r')
            has_ws = true;
        else if (c >= 0x80)
            has_high = true;
    }
    bool valid = !has_high || url_utf8_valid(in, len);
    if (!has_ws && valid) {
        *out = in;
        *n = len;
        return 0;
    }
    const char *src = in;
    size_t src_len = len;
    buf t;
    buf_init(&t, URL_COMPONENT_BYTES_MAX);
    int rc = 0;
    if (!valid) {
        rc = url_utf8_sanitize(in, len, true, &t);
        src = bp(&t);
        src_len = t.len;
    }
    if (rc == 0)
        rc = buf_reserve(tmp, src_len);
    if (rc == 0) {
        for (size_t i = 0; i < src_len; i++)
            if (src[i] != '\t' && src[i] != '\n' && src[i] != '\r')
                tmp->ptr[tmp->len++] = src[i];
        tmp->ptr[tmp->len] = '\0';
    }
    buf_fini(&t);
    if (rc < 0)
        return rc;
    *out = bp(tmp);
    *n = tmp->len;
    return 0;
}

int url_parse(url *out, const char *input, size_t len, const url *base, err *e)
{
    if (len > URL_INPUT_BYTES_MAX)
        return err_setf(e, DUR_ETOOBIG, "URL longer than %u bytes", URL_INPUT_BYTES_MAX);
    url_reset(out);
    buf tmp;
    buf_init(&tmp, URL_COMPONENT_BYTES_MAX);
    const char *s;
    int rc = preprocess(input, &len, true, &tmp, &s);
    if (rc == 0)
        rc = run(out, s, len, base, ST_NONE, e);
    buf_fini(&tmp);
    if (rc == DUR_ETOOBIG)
        err_setf(e, rc, "URL component longer than %u bytes", URL_COMPONENT_BYTES_MAX);
    else if (rc == DUR_ENOMEM)
        err_setf(e, rc, "out of memory parsing a URL");
    return rc;
}

/* ---- setters ---- */

static bool cannot_have_credentials(const url *u)
{
    return !u->has_host || u->host.len == 0 || u->scheme_kind == URL_SCHEME_FILE;
}

static void strip_trailing_spaces(url *u)
{
    if (!u->opaque_path || u->has_fragment || u->has_query)
        return;
    while (u->path.len > 0 && u->path.ptr[u->path.len - 1] == ' ')
        u->path.ptr[--u->path.len] = '\0';
}

static int set_with_state(url *u, const char *v, size_t n, enum state st)
{
    buf tmp;
    buf_init(&tmp, URL_COMPONENT_BYTES_MAX);
    const char *s;
    int rc = preprocess(v, &n, false, &tmp, &s);
    if (rc == 0)
        rc = run(u, s, n, NULL, st, NULL);
    buf_fini(&tmp);
    /* A parse failure in a setter leaves the URL as the standard says (unchanged,
     * or changed up to the failing component): not an error for the caller. */
    return rc == DUR_EPARSE ? 0 : rc;
}

int url_set(url *u, url_part which, const char *v, size_t n)
{
    if (n > URL_INPUT_BYTES_MAX)
        return DUR_ETOOBIG;
    int rc;
    switch (which) {
    case URL_PART_PROTOCOL: {
        buf t;
        buf_init(&t, URL_COMPONENT_BYTES_MAX);
        rc = buf_append(&t, v, n);
        if (rc == 0)
            rc = put(&t, ':');
        if (rc == 0)
            rc = set_with_state(u, bp(&t), t.len, ST_SCHEME_START);
        buf_fini(&t);
        return rc;
    }
    case URL_PART_USERNAME:
    case URL_PART_PASSWORD: {
        if (cannot_have_credentials(u))
            return 0;
        buf *dst = which == URL_PART_USERNAME ? &u->username : &u->password;
        buf t;
        buf_init(&t, URL_COMPONENT_BYTES_MAX);
        buf_clear(dst);
        rc = url_utf8_sanitize(v, n, true, &t);
        if (rc == 0)
            rc = append_enc(dst, bp(&t), t.len, SET_USERINFO);
        buf_fini(&t);
        return rc;
    }
    case URL_PART_HOST:
    case URL_PART_HOSTNAME:
        if (u->opaque_path)
            return 0;
        return set_with_state(u, v, n, which == URL_PART_HOST ? ST_HOST : ST_HOSTNAME);
    case URL_PART_PORT:
        if (cannot_have_credentials(u))
            return 0;
        if (n == 0) {
            u->port = -1;
            return 0;
        }
        return set_with_state(u, v, n, ST_PORT);
    case URL_PART_PATHNAME:
        if (u->opaque_path)
            return 0;
        buf_clear(&u->path);
        return set_with_state(u, v, n, ST_PATH_START);
    case URL_PART_SEARCH:
        if (n == 0) {
            buf_clear(&u->query);
            u->has_query = false;
            strip_trailing_spaces(u);
            return 0;
        }
        if (v[0] == '?')
            v++, n--;
        buf_clear(&u->query);
        u->has_query = true;
        return set_with_state(u, v, n, ST_QUERY);
    case URL_PART_HASH:
        if (n == 0) {
            buf_clear(&u->fragment);
            u->has_fragment = false;
            strip_trailing_spaces(u);
            return 0;
        }
        if (v[0] == '#')
            v++, n--;
        buf_clear(&u->fragment);
        u->has_fragment = true;
        return set_with_state(u, v, n, ST_FRAGMENT);
    case URL_PART_COUNT:
        break;
    }
    return DUR_EINVAL;
}

/* ---- serializer ---- */

int url_serialize(const url *u, buf *out, url_spans *sp)
{
    url_spans tmp;
    if (!sp)
        sp = &tmp;
    size_t base = out->len;
    int rc;
#define APPEND(p, n) do { if ((rc = buf_append(out, (p), (n))) < 0) return rc; } while (0)
#define OFF() (out->len - base)
    APPEND(bp(&u->scheme), u->scheme.len);
    APPEND(":", 1);
    sp->protocol_end = OFF();
    sp->username_start = sp->username_end = sp->password_start = sp->password_end = OFF();
    if (u->has_host) {
        APPEND("//", 2);
        if (has_credentials(u)) {
            sp->username_start = OFF();
            APPEND(bp(&u->username), u->username.len);
            sp->username_end = sp->password_start = sp->password_end = OFF();
            if (u->password.len) {
                APPEND(":", 1);
                sp->password_start = OFF();
                APPEND(bp(&u->password), u->password.len);
                sp->password_end = OFF();
            }
            APPEND("@", 1);
        } else
            sp->username_start = sp->username_end = sp->password_start = sp->password_end = OFF();
    }
    sp->host_start = OFF();
    if (u->has_host)
        APPEND(bp(&u->host), u->host.len);
    sp->host_end = sp->port_start = sp->port_end = OFF();
    if (u->has_host && u->port != -1) {
        /* By hand: vsnprintf costs more than the rest of a short URL. */
        char d[8];
        size_t n = sizeof d;
        unsigned port = (unsigned)u->port;   /* 0..65535 */
        do {
            d[--n] = (char)('0' + port % 10);
            port /= 10;
        } while (port > 0);
        d[--n] = ':';
        APPEND(d + n, sizeof d - n);
        sp->port_start = sp->host_end + 1;
        sp->port_end = OFF();
    }
    if (!u->has_host && !u->opaque_path && u->path.len > 1 && u->path.ptr[1] == '/')
        APPEND("/.", 2);
    sp->path_start = OFF();
    APPEND(bp(&u->path), u->path.len);
    sp->path_end = sp->query_start = sp->query_end = OFF();
    if (u->has_query) {
        APPEND("?", 1);
        APPEND(bp(&u->query), u->query.len);
        if (u->query.len)
            sp->query_end = OFF();
        else
            sp->query_start = sp->query_end = OFF();
    }
    sp->fragment_start = sp->fragment_end = OFF();
    if (u->has_fragment) {
        APPEND("#", 1);
        APPEND(bp(&u->fragment), u->fragment.len);
        if (u->fragment.len)
            sp->fragment_end = OFF();
        else
            sp->fragment_start = sp->fragment_end = OFF();
    }
#undef APPEND
#undef OFF
    return 0;
}

/* ---- application/x-www-form-urlencoded ---- */

/* Decodes '+' and percent-escapes of s[0..n) into raw, then sanitizes into out. */
static int form_decode(const char *s, size_t n, buf *raw, buf *out)
{
    buf_clear(raw);
    buf_clear(out);
    int rc = buf_reserve(raw, n);
    if (rc < 0)
        return rc;
    /* '+' becomes a space before percent-decoding, so "%2B" stays '+'. */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%' && i + 2 < n && is_hex((uint8_t)s[i + 1]) && is_hex((uint8_t)s[i + 2])) {
            c = (char)(hex_val((uint8_t)s[i + 1]) * 16 + hex_val((uint8_t)s[i + 2]));
            i += 2;
        }
        raw->ptr[raw->len++] = c;
    }
    raw->ptr[raw->len] = '\0';
    return url_utf8_sanitize(bp(raw), raw->len, false, out);
}

int url_form_parse(const char *s, size_t n, url_form_pair_fn fn, void *ud)
{
    buf raw, name, value;
    buf_init(&raw, URL_COMPONENT_BYTES_MAX);
    buf_init(&name, URL_COMPONENT_BYTES_MAX);
    buf_init(&value, URL_COMPONENT_BYTES_MAX);
    int rc = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n && rc == 0; i++) {
        if (i < n && s[i] != '&')
            continue;
        if (i > start) {
            const char *seq = s + start;
            size_t len = i - start;
            const char *eq = memchr(seq, '=', len);
            size_t nlen = eq ? (size_t)(eq - seq) : len;
            rc = form_decode(seq, nlen, &raw, &name);
            if (rc == 0)
                rc = form_decode(eq ? eq + 1 : "", eq ? len - nlen - 1 : 0, &raw, &value);
            if (rc == 0)
                rc = fn(bp(&name), name.len, bp(&value), value.len, ud);
        }
        start = i + 1;
    }
    buf_fini(&raw);
    buf_fini(&name);
    buf_fini(&value);
    return rc;
}

int url_form_encode(const char *s, size_t n, buf *out)
{
    const char *src = s;
    size_t len = n;
    buf t;
    buf_init(&t, URL_COMPONENT_BYTES_MAX);
    int rc = 0;
    if (!url_utf8_valid(s, n)) {
        if ((rc = url_utf8_sanitize(s, n, true, &t)) < 0)
            goto done;
        src = bp(&t);
        len = t.len;
    }
    for (size_t i = 0; i < len && rc == 0; i++) {
        uint8_t c = (uint8_t)src[i];
        rc = c == ' ' ? put(out, '+') : put_enc(out, c, SET_FORM);
    }
done:
    buf_fini(&t);
    return rc;
}
