/* p256.c: ECDSA P-256 verification (FIPS 186-4 6.4.2), written here from the
 * curve's definition, for the keys that verify often (crypto_ecdsa.c).
 *
 * Field: integers mod p = 2^256 - 2^224 + 2^192 + 2^96 - 1 on four 64-bit limbs,
 * in Montgomery form (a is held as a*2^256 mod p). fe_mul forms the 8-limb
 * product column by column (unsigned __int128 products, add-with-carry chains),
 * then reduces with p's form: p = -1 mod 2^64, so each Montgomery step's factor
 * is the low limb itself and adding it times p is shifts, one product by
 * 2^64 - 2^32 + 1 and carries (~200 instructions per field product). Inverses
 * mod p are a^(p-2) (Fermat), needed only when tables are built. Scalars mod the
 * group order n use a generic Montgomery product (mont_mul); w = s^-1 is the
 * safegcd divsteps of Bernstein and Yang in batches of 62 (~13k instructions,
 * where s^(n-2) takes ~75k and a bit-by-bit binary GCD ~40k).
 *
 * Points: Jacobian (X, Y, Z) stands for (X/Z^2, Y/Z^3). The sum needs only
 * "Jacobian + affine" additions (8 products, 3 squarings), because every point
 * added comes from a table of affine points:
 *   the table of a point P has, for each window i of w bits (i = 0 .. 256/w),
 *   the points d*2^(w*i)*P for d = 1 .. 2^(w-1);
 *   a scalar k is recoded into signed digits d_i in [-2^(w-1), 2^(w-1)] with
 *   k = sum d_i*2^(w*i), so k*P is at most 256/w + 1 additions of table points
 *   (negated for negative digits: (x, -y)), and no doublings at all.
 * The generator's table (w = 8: 33 x 128 points, 270,336 bytes) is built once
 * per process at the first verify (pthread_once); a key's table (w = 7: 37 x 64
 * points, 151,552 bytes) when crypto_ecdsa.c asks for it. Building makes each
 * window with additions in Jacobian coordinates, then one inversion per window
 * turns its points affine (Montgomery's trick: prefix products, one inverse,
 * back down).
 *
 * Verification, with the answers of OpenSSL's ECDSA verify:
 *   r, s in [1, n-1], else invalid (high-S signatures are valid);
 *   e = the leftmost 256 bits of the digest (all of it when shorter), mod n;
 *   w = s^-1, u1 = e*w, u2 = r*w (mod n); R = u1*G + u2*Q;
 *   R = infinity is invalid; else valid iff x(R) mod n == r.
 * The last step does not make R affine: x(R) = X/Z^2 and x(R) < p < 2n, so
 * x(R) mod n == r iff X == r*Z^2, or X == (r + n)*Z^2 when r + n < p.
 *
 * Cost: ~19 us per verify on this machine (test_crypto_ecdsa's timing line;
 * OpenSSL's EVP verify ~54 us); ~177k instructions (callgrind: ~70 additions of
 * ~2.3k, the inverse ~13k). The EC_GROUP-per-key table on OpenSSL that this
 * replaces took ~313k instructions but ran about as fast (~17 us): OpenSSL's
 * assembly does more per instruction. A 8-bit window for keys too would save ~10k per verify
 * for 270,336 instead of 151,552 bytes per key (P256_KEY_WINDOW_BITS).
 *
 * Variable time throughout (branches on digits, early exits): verification
 * handles public data only (key, message, signature). */
#include "web/p256.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef struct fe {
    uint64_t w[4];   /* little-endian limbs */
} fe;
typedef struct aff {
    fe x, y;
} aff;
typedef struct jac {
    fe x, y, z;
} jac;

struct p256_table {
    int w;      /* window bits */
    int nwin;   /* windows: 256 / w + 1 */
    aff pts[];  /* nwin rows of 2^(w-1) points; row i, column d-1: d*2^(w*i)*P */
};

#define G_WINDOW_BITS 8

static const fe P = { { 0xffffffffffffffffull, 0x00000000ffffffffull, 0, 0xffffffff00000001ull } };
static const fe N = { { 0xf3b9cac2fc632551ull, 0xbce6faada7179e84ull, 0xffffffffffffffffull,
                        0xffffffff00000000ull } };
static const fe B = { { 0x3bce3c3e27d2604bull, 0x651d06b0cc53b0f6ull, 0xb3ebbd55769886bcull,
                        0x5ac635d8aa3a93e7ull } };
static const fe GX = { { 0xf4a13945d898c296ull, 0x77037d812deb33a0ull, 0xf8bce6e563a440f2ull,
                         0x6b17d1f2e12c4247ull } };
static const fe GY = { { 0xcbb6406837bf51f5ull, 0x2bce33576b315eceull, 0x8ee7eb4a7c0f9e16ull,
                         0x4fe342e2fe1a7f9bull } };

/* Set once by init(): 2^256 and 2^512 mod p and mod n, -n^-1 mod 2^64, b in
 * Montgomery form, the generator's table. */
static fe one_p, rr_p, one_n, rr_n, b_m;
static uint64_t n0;
static p256_table *gtab;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* ---- 256-bit integers ---- */

/* Carries in plain C: (cf, a) = a + b + cf. The _addcarry_u64 intrinsics looked
 * better on paper and in instruction counts, but GCC 12 keeps moving the carry
 * flag in and out of registers around them: a verify took 26.7 us with them and
 * 19.4 us with this form (test_crypto_ecdsa's timing line, same machine, pinned). */
#define ADDC(cf, a, b)                                 \
    do {                                               \
        uint64_t b_ = (b), s_ = (a) + b_;              \
        unsigned char c_ = s_ < b_;                    \
        (a) = s_ + (cf);                               \
        (cf) = c_ | ((a) < s_);                        \
    } while (0)
#define MULADD(x, y)                                   \
    do {                                               \
        u128 p_ = (u128)(x) * (y);                     \
        uint64_t lo_ = (uint64_t)p_, hi_ = (uint64_t)(p_ >> 64); \
        c0 += lo_;                                     \
        hi_ += c0 < lo_;                               \
        c1 += hi_;                                     \
        c2 += c1 < hi_;                                \
    } while (0)
#define SUBB(bf, a, b)                                 \
    do {                                               \
        uint64_t b_ = (b), d_ = (a) - b_;              \
        unsigned char c_ = (a) < b_;                   \
        (a) = d_ - (bf);                               \
        (bf) = c_ | (d_ < (bf));                       \
    } while (0)

static void fe_from_be(fe *a, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = v << 8 | b[24 - 8 * i + j];
        a->w[i] = v;
    }
}

static int fe_cmp(const fe *a, const fe *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static bool fe_is_zero(const fe *a)
{
    return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

static inline uint64_t add4(fe *r, const fe *a, const fe *b)
{
    unsigned char cf = 0;
    *r = *a;
    ADDC(cf, r->w[0], b->w[0]);
    ADDC(cf, r->w[1], b->w[1]);
    ADDC(cf, r->w[2], b->w[2]);
    ADDC(cf, r->w[3], b->w[3]);
    return cf;
}

static inline uint64_t sub4(fe *r, const fe *a, const fe *b)
{
    unsigned char bf = 0;
    uint64_t b0 = b->w[0], b1 = b->w[1], b2 = b->w[2], b3 = b->w[3];
    *r = *a;
    SUBB(bf, r->w[0], b0);
    SUBB(bf, r->w[1], b1);
    SUBB(bf, r->w[2], b2);
    SUBB(bf, r->w[3], b3);
    return bf;
}

/* ---- Montgomery arithmetic: mont_mul(a, b) = a*b/2^256 mod m, for a < 2^256,
 * b < m, m odd and > 2^255; m0 = -m^-1 mod 2^64. Product scanning: column k of
 * the sum a*b + q*m is accumulated in three words (c0, c1, c2), and the limb
 * q[k] (k < 4) is chosen so that column k is 0 mod 2^64; columns 4..7 are the
 * result, below 2m, and one conditional subtraction ends it. (Written this way
 * because GCC keeps three 64-bit words in registers where a loop of
 * unsigned __int128 carries spills them to the stack.) ---- */


static inline __attribute__((always_inline)) void mont_mul(fe *r, const fe *a, const fe *b,
                                                           const fe *m, uint64_t m0)
{
    const uint64_t *x = a->w, *y = b->w, *n = m->w;
    uint64_t q[4], t[4], c0 = 0, c1 = 0, c2 = 0;
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
#pragma GCC unroll 4
        for (int j = 0; j < k; j++) {
            MULADD(x[j], y[k - j]);
            MULADD(q[j], n[k - j]);
        }
        MULADD(x[k], y[0]);
        q[k] = c0 * m0;
        MULADD(q[k], n[0]);   /* c0 becomes 0 */
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
#pragma GCC unroll 4
    for (int k = 4; k < 7; k++) {
#pragma GCC unroll 4
        for (int j = k - 3; j < 4; j++) {
            MULADD(x[j], y[k - j]);
            MULADD(q[j], n[k - j]);
        }
        t[k - 4] = c0;
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
    t[3] = c0;
    fe tv = { { t[0], t[1], t[2], t[3] } }, d;
    uint64_t borrow = sub4(&d, &tv, m);
    *r = (c1 || !borrow) ? d : tv;
}

/* a*b/2^256 mod p. The product (16 limb products, column by column), then
 * four Montgomery steps that use p's form instead of products by p: with
 * q = t[i] (as -p^-1 = 1 mod 2^64), adding q*p clears limb i and adds
 * q*2^32 at limb i+1 and q*(2^64 - 2^32 + 1) at limb i+3. */
static inline __attribute__((always_inline)) void fe_reduce(fe *r, uint64_t t[9])
{
    t[8] = 0;
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        uint64_t q = t[i];
        u128 m = (u128)q * 0xffffffff00000001ull;
        unsigned char cf = 0;
        ADDC(cf, t[i + 1], q << 32);
        ADDC(cf, t[i + 2], q >> 32);
        ADDC(cf, t[i + 3], (uint64_t)m);
        ADDC(cf, t[i + 4], (uint64_t)(m >> 64));
#pragma GCC unroll 4
        for (int j = i + 5; j < 9; j++)
            ADDC(cf, t[j], 0);
    }
    fe tv = { { t[4], t[5], t[6], t[7] } }, d;
    uint64_t borrow = sub4(&d, &tv, &P);
    *r = (t[8] || !borrow) ? d : tv;
}

static inline __attribute__((always_inline)) void fe_mul(fe *r, const fe *a, const fe *b)
{
    const uint64_t *x = a->w, *y = b->w;
    uint64_t t[9], c0 = 0, c1 = 0, c2 = 0;
#pragma GCC unroll 8
    for (int k = 0; k < 7; k++) {
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++)
            if (j <= k && k - j < 4)
                MULADD(x[j], y[k - j]);
        t[k] = c0;
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
    t[7] = c0;
    fe_reduce(r, t);
}

/* a^2/2^256 mod p: the 6 products a[i]*a[j] (i < j) once, doubled, plus the 4
 * squares (10 limb products where fe_mul takes 16). */
static inline __attribute__((always_inline)) void fe_sqr(fe *r, const fe *a)
{
    const uint64_t *x = a->w;
    uint64_t t[9], c0 = 0, c1 = 0, c2 = 0;
    t[0] = 0;
#pragma GCC unroll 8
    for (int k = 1; k < 6; k++) {
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++)
            if (i < k - i && k - i < 4)
                MULADD(x[i], x[k - i]);
        t[k] = c0;
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
    t[6] = c0;
    t[7] = c1;
#pragma GCC unroll 8
    for (int i = 7; i > 0; i--)
        t[i] = t[i] << 1 | t[i - 1] >> 63;
    unsigned char cf = 0;
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        u128 sq = (u128)x[i] * x[i];
        ADDC(cf, t[2 * i], (uint64_t)sq);
        ADDC(cf, t[2 * i + 1], (uint64_t)(sq >> 64));
    }
    fe_reduce(r, t);
}

static inline void fe_add(fe *r, const fe *a, const fe *b)
{
    fe s, d;
    uint64_t carry = add4(&s, a, b);
    uint64_t borrow = sub4(&d, &s, &P);
    *r = (carry || !borrow) ? d : s;
}

static inline void fe_sub(fe *r, const fe *a, const fe *b)
{
    if (sub4(r, a, b))
        add4(r, r, &P);
}

static inline void fe_neg(fe *r, const fe *a)
{
    if (fe_is_zero(a))
        *r = *a;
    else
        sub4(r, &P, a);
}

static inline void sc_mul(fe *r, const fe *a, const fe *b)
{
    mont_mul(r, a, b, &N, n0);
}

/* a^e in Montgomery form (one = 2^256 mod m), 4-bit fixed windows, the top
 * nibble of e nonzero. Variable time in e (public: p - 2, n - 2). */
static inline __attribute__((always_inline)) void mont_pow(fe *r, const fe *a, const fe *e,
                                                           const fe *one, const fe *m,
                                                           uint64_t m0)
{
    fe tbl[16];
    tbl[0] = *one;
    tbl[1] = *a;
    for (int i = 2; i < 16; i++)
        mont_mul(&tbl[i], &tbl[i - 1], a, m, m0);
    fe acc = tbl[e->w[3] >> 60];
    for (int i = 62; i >= 0; i--) {
        for (int k = 0; k < 4; k++)
            mont_mul(&acc, &acc, &acc, m, m0);
        unsigned nib = (unsigned)(e->w[i / 16] >> (4 * (i % 16))) & 15;
        if (nib)
            mont_mul(&acc, &acc, &tbl[nib], m, m0);
    }
    *r = acc;
}

static void fe_inv(fe *r, const fe *a)
{
    static const fe pm2 = { { 0xfffffffffffffffdull, 0x00000000ffffffffull, 0,
                              0xffffffff00000001ull } };
    mont_pow(r, a, &pm2, &one_p, &P, 1);   /* generic: only for tables */
}

/* ---- s^-1 mod n by Bernstein and Yang's "divsteps" (safegcd), variable time.
 * With f odd, a divstep maps (delta, f, g) to
 *   (1 - delta, g, (g - f)/2)   if delta > 0 and g odd,
 *   (1 + delta, f, (g + f)/2)   if g odd otherwise,
 *   (1 + delta, f, g/2)         if g even;
 * from (1, n, s) g reaches 0 and f then is +-gcd(n, s) = +-1. 62 divsteps
 * depend only on the low 62 bits of f and g, so they run on one 64-bit word and
 * give a matrix T with 2^62 (f', g') = T (f, g); T is then applied to the full
 * f and g, and to d and e kept with f = d*s and g = e*s (mod n), where the
 * division by 2^62 is exact after adding the multiple of n that clears the low
 * 62 bits. At the end s^-1 = +-d. Values are five signed 62-bit limbs (limbs
 * 0-3 in [0, 2^62), limb 4 signed). ~7 batches of 62 steps for 256 bits. ---- */

typedef __int128 i128;
typedef struct s62 {
    int64_t v[5];
} s62;
#define M62 ((uint64_t)-1 >> 2)

static s62 n62;

static void to_s62(s62 *r, const fe *a)
{
    const uint64_t *w = a->w;
    r->v[0] = (int64_t)(w[0] & M62);
    r->v[1] = (int64_t)((w[0] >> 62 | w[1] << 2) & M62);
    r->v[2] = (int64_t)((w[1] >> 60 | w[2] << 4) & M62);
    r->v[3] = (int64_t)((w[2] >> 58 | w[3] << 6) & M62);
    r->v[4] = (int64_t)(w[3] >> 56);
}

/* For 0 <= a < 2^256. */
static void from_s62(fe *r, const s62 *a)
{
    const uint64_t v0 = (uint64_t)a->v[0], v1 = (uint64_t)a->v[1], v2 = (uint64_t)a->v[2],
                   v3 = (uint64_t)a->v[3], v4 = (uint64_t)a->v[4];
    r->w[0] = v0 | v1 << 62;
    r->w[1] = v1 >> 2 | v2 << 60;
    r->w[2] = v2 >> 4 | v3 << 58;
    r->w[3] = v3 >> 6 | v4 << 56;
}

/* a += sign * n (sign +-1), limbs normalized again. */
static void s62_add_n(s62 *a, int sign)
{
    i128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (i128)a->v[i] + (i128)sign * n62.v[i];
        a->v[i] = (int64_t)((uint64_t)c & M62);
        c >>= 62;
    }
    a->v[4] = (int64_t)(c + a->v[4] + (i128)sign * n62.v[4]);
}

static bool s62_is_zero(const s62 *a)
{
    return !(a->v[0] | a->v[1] | a->v[2] | a->v[3] | a->v[4]);
}

/* 62 divsteps on the low words of f (odd) and g; T as (u, v, q, r). A run of k
 * even g is done at once (g >> k, u and v times 2^k). */
static int divsteps62(int delta, uint64_t f, uint64_t g, int64_t t[4])
{
    int64_t u = 1, v = 0, q = 0, r = 1;
    for (int i = 62; i > 0;) {
        if (!(g & 1)) {
            int k = __builtin_ctzll(g | 1ull << i);   /* at most i */
            g >>= k;
            u *= (int64_t)1 << k;
            v *= (int64_t)1 << k;
            delta += k;
            i -= k;
            continue;
        }
        if (delta > 0) {
            int64_t nu = 2 * q, nv = 2 * r;
            q -= u;
            r -= v;
            u = nu;
            v = nv;
            uint64_t nf = g;
            g = (g - f) >> 1;
            f = nf;
            delta = 1 - delta;
        } else {
            q += u;
            r += v;
            g = (g + f) >> 1;
            u *= 2;
            v *= 2;
            delta++;
        }
        i--;
    }
    t[0] = u;
    t[1] = v;
    t[2] = q;
    t[3] = r;
    return delta;
}

/* (f, g) := T (f, g) / 2^62 (exact). */
static void apply_fg(s62 *f, s62 *g, const int64_t t[4])
{
    i128 cf = (i128)t[0] * f->v[0] + (i128)t[1] * g->v[0];
    i128 cg = (i128)t[2] * f->v[0] + (i128)t[3] * g->v[0];
    cf >>= 62;
    cg >>= 62;
    for (int i = 1; i < 5; i++) {
        cf += (i128)t[0] * f->v[i] + (i128)t[1] * g->v[i];
        cg += (i128)t[2] * f->v[i] + (i128)t[3] * g->v[i];
        f->v[i - 1] = (int64_t)((uint64_t)cf & M62);
        g->v[i - 1] = (int64_t)((uint64_t)cg & M62);
        cf >>= 62;
        cg >>= 62;
    }
    f->v[4] = (int64_t)cf;
    g->v[4] = (int64_t)cg;
}

/* (d, e) := T (d, e) / 2^62 mod n, from (-n, n) to (-n, n). */
static void apply_de(s62 *d, s62 *e, const int64_t t[4])
{
    i128 cd = (i128)t[0] * d->v[0] + (i128)t[1] * e->v[0];
    i128 ce = (i128)t[2] * d->v[0] + (i128)t[3] * e->v[0];
    int64_t md = (int64_t)(((uint64_t)cd * n0) & M62);   /* n0 = -n^-1 mod 2^64 */
    int64_t me = (int64_t)(((uint64_t)ce * n0) & M62);
    cd += (i128)md * n62.v[0];
    ce += (i128)me * n62.v[0];
    cd >>= 62;
    ce >>= 62;
    for (int i = 1; i < 5; i++) {
        cd += (i128)t[0] * d->v[i] + (i128)t[1] * e->v[i] + (i128)md * n62.v[i];
        ce += (i128)t[2] * d->v[i] + (i128)t[3] * e->v[i] + (i128)me * n62.v[i];
        d->v[i - 1] = (int64_t)((uint64_t)cd & M62);
        e->v[i - 1] = (int64_t)((uint64_t)ce & M62);
        cd >>= 62;
        ce >>= 62;
    }
    d->v[4] = (int64_t)cd;
    e->v[4] = (int64_t)ce;
    /* now in (-n, 2n) */
    s62 t2 = *d;
    s62_add_n(&t2, -1);
    if (t2.v[4] >= 0)
        *d = t2;
    t2 = *e;
    s62_add_n(&t2, -1);
    if (t2.v[4] >= 0)
        *e = t2;
}

/* a^-1 mod n (plain values, 0 < a < n). */
static void sc_inv_plain(fe *out, const fe *a)
{
    s62 f = n62, g, d = { { 0 } }, e = { { 1 } };
    to_s62(&g, a);
    int delta = 1;
    while (!s62_is_zero(&g)) {
        int64_t t[4];
        delta = divsteps62(delta, (uint64_t)f.v[0] | (uint64_t)f.v[1] << 62,
                           (uint64_t)g.v[0] | (uint64_t)g.v[1] << 62, t);
        apply_fg(&f, &g, t);
        apply_de(&d, &e, t);
    }
    if (f.v[4] < 0) {   /* f = -1: s^-1 = -d */
        for (int i = 0; i < 5; i++)
            d.v[i] = -d.v[i];
        s62_add_n(&d, 0);   /* normalize the limbs */
    }
    if (d.v[4] < 0)
        s62_add_n(&d, 1);
    from_s62(out, &d);
}

static void sc_inv(fe *r, const fe *a)   /* Montgomery form (tests) */
{
    static const fe nm2 = { { 0xf3b9cac2fc63254full, 0xbce6faada7179e84ull,
                              0xffffffffffffffffull, 0xffffffff00000000ull } };
    mont_pow(r, a, &nm2, &one_n, &N, n0);
}

/* 2^256 mod m and 2^512 mod m for m > 2^255. */
static void mont_consts(fe *one, fe *rr, const fe *m)
{
    fe z = { { 0 } };
    sub4(one, &z, m);   /* 2^256 - m */
    *rr = *one;
    for (int i = 0; i < 256; i++) {   /* doubled 256 times mod m */
        fe s, d;
        uint64_t carry = add4(&s, rr, rr);
        uint64_t borrow = sub4(&d, &s, m);
        *rr = (carry || !borrow) ? d : s;
    }
}

/* ---- points ---- */

/* r = 2*a (a not at infinity: points of order n have y != 0). a = -3. */
static void jac_dbl(jac *r, const jac *a)
{
    fe delta, gamma, beta, alpha, t1, t2, t3;
    fe_sqr(&delta, &a->z);
    fe_sqr(&gamma, &a->y);
    fe_mul(&beta, &a->x, &gamma);
    fe_sub(&t1, &a->x, &delta);
    fe_add(&t2, &a->x, &delta);
    fe_mul(&alpha, &t1, &t2);
    fe_add(&t1, &alpha, &alpha);
    fe_add(&alpha, &t1, &alpha);          /* alpha = 3(X - delta)(X + delta) */
    fe_add(&t1, &a->y, &a->z);
    fe_sqr(&t1, &t1);
    fe_sub(&t1, &t1, &gamma);
    fe_sub(&r->z, &t1, &delta);           /* Z3 = (Y + Z)^2 - gamma - delta */
    fe_add(&t2, &beta, &beta);
    fe_add(&t2, &t2, &t2);                /* 4 beta */
    fe_sqr(&t3, &alpha);
    fe_sub(&t3, &t3, &t2);
    fe_sub(&r->x, &t3, &t2);              /* X3 = alpha^2 - 8 beta */
    fe_sub(&t2, &t2, &r->x);
    fe_mul(&t2, &alpha, &t2);
    fe_sqr(&t3, &gamma);
    fe_add(&t3, &t3, &t3);
    fe_add(&t3, &t3, &t3);
    fe_add(&t3, &t3, &t3);
    fe_sub(&r->y, &t2, &t3);              /* Y3 = alpha(4 beta - X3) - 8 gamma^2 */
}

/* r = a + b (a Jacobian, not at infinity; b affine). Returns false when the sum
 * is the point at infinity (b = -a). */
static bool jac_add_aff(jac *r, const jac *a, const aff *b)
{
    fe z1z1, u2, s2, h, rr, hh, hhh, v, t;
    fe_sqr(&z1z1, &a->z);
    fe_mul(&u2, &b->x, &z1z1);
    fe_mul(&s2, &b->y, &a->z);
    fe_mul(&s2, &s2, &z1z1);
    fe_sub(&h, &u2, &a->x);
    fe_sub(&rr, &s2, &a->y);
    if (fe_is_zero(&h)) {
        if (!fe_is_zero(&rr))
            return false;
        jac_dbl(r, a);
        return true;
    }
    fe_sqr(&hh, &h);
    fe_mul(&hhh, &h, &hh);
    fe_mul(&v, &a->x, &hh);
    fe_mul(&r->z, &a->z, &h);             /* before r->y/x: r may be a */
    fe_mul(&t, &a->y, &hhh);
    fe_sqr(&r->x, &rr);
    fe_sub(&r->x, &r->x, &hhh);
    fe_sub(&r->x, &r->x, &v);
    fe_sub(&r->x, &r->x, &v);             /* X3 = rr^2 - hhh - 2v */
    fe_sub(&v, &v, &r->x);
    fe_mul(&v, &rr, &v);
    fe_sub(&r->y, &v, &t);                /* Y3 = rr(v - X3) - Y1 hhh */
    return true;
}

/* Affine forms of the n points of j (none at infinity), with one inversion. */
static void jac_to_aff_batch(aff *out, const jac *j, fe *prefix, int n)
{
    prefix[0] = j[0].z;
    for (int i = 1; i < n; i++)
        fe_mul(&prefix[i], &prefix[i - 1], &j[i].z);
    fe inv, zi, zi2;
    fe_inv(&inv, &prefix[n - 1]);
    for (int i = n - 1; i >= 0; i--) {
        if (i > 0) {
            fe_mul(&zi, &inv, &prefix[i - 1]);
            fe_mul(&inv, &inv, &j[i].z);
        } else {
            zi = inv;
        }
        fe_sqr(&zi2, &zi);
        fe_mul(&out[i].x, &j[i].x, &zi2);
        fe_mul(&zi2, &zi2, &zi);
        fe_mul(&out[i].y, &j[i].y, &zi2);
    }
}

size_t p256_table_bytes(int window_bits)
{
    return sizeof(p256_table) +
           (size_t)(256 / window_bits + 1) * ((size_t)1 << (window_bits - 1)) * sizeof(aff);
}

/* The table of p (affine, Montgomery form, of order n). */
static p256_table *table_build(const aff *p, int w)
{
    int half = 1 << (w - 1);
    p256_table *t = malloc(p256_table_bytes(w));
    jac *j = malloc((size_t)(half + 1) * sizeof *j);
    fe *prefix = malloc((size_t)(half + 1) * sizeof *prefix);
    if (!t || !j || !prefix)
        goto fail;
    t->w = w;
    t->nwin = 256 / w + 1;
    aff base = *p;
    for (int i = 0; i < t->nwin; i++) {
        j[0] = (jac){ base.x, base.y, one_p };
        for (int d = 1; d < half; d++)   /* (d+1)*base; d = 1 doubles */
            if (!jac_add_aff(&j[d], &j[d - 1], &base))
                goto fail;
        jac_dbl(&j[half], &j[half - 1]);   /* 2^w * base: the next window's */
        aff *row = &t->pts[(size_t)i * half];
        jac_to_aff_batch(row, j, prefix, half);
        jac_to_aff_batch(&base, &j[half], prefix, 1);
    }
    free(j);
    free(prefix);
    return t;
fail:
    free(t);
    free(j);
    free(prefix);
    return NULL;
}

void p256_table_free(p256_table *t)
{
    free(t);
}

static void init(void)
{
    mont_consts(&one_p, &rr_p, &P);
    mont_consts(&one_n, &rr_n, &N);
    uint64_t inv = 1;   /* n^-1 mod 2^64 by Newton's iteration: bits double each step */
    for (int i = 0; i < 6; i++)
        inv *= 2 - N.w[0] * inv;
    n0 = 0 - inv;
    fe_mul(&b_m, &B, &rr_p);
    to_s62(&n62, &N);
    aff g;
    fe_mul(&g.x, &GX, &rr_p);
    fe_mul(&g.y, &GY, &rr_p);
    gtab = table_build(&g, G_WINDOW_BITS);
}

p256_table *p256_table_new(const uint8_t x[32], const uint8_t y[32])
{
    pthread_once(&init_once, init);
    aff q;
    fe_from_be(&q.x, x);
    fe_from_be(&q.y, y);
    if (fe_cmp(&q.x, &P) >= 0 || fe_cmp(&q.y, &P) >= 0)
        return NULL;
    fe_mul(&q.x, &q.x, &rr_p);
    fe_mul(&q.y, &q.y, &rr_p);
    fe lhs, rhs, t;   /* y^2 == x^3 - 3x + b */
    fe_sqr(&lhs, &q.y);
    fe_sqr(&rhs, &q.x);
    fe_mul(&rhs, &rhs, &q.x);
    fe_add(&t, &q.x, &q.x);
    fe_add(&t, &t, &q.x);
    fe_sub(&rhs, &rhs, &t);
    fe_add(&rhs, &rhs, &b_m);
    if (fe_cmp(&lhs, &rhs))
        return NULL;
    return table_build(&q, P256_KEY_WINDOW_BITS);
}

/* w bits of k from bit `pos` (0 past bit 255). */
static inline unsigned bits_at(const fe *k, int pos, int w)
{
    if (pos >= 256)
        return 0;
    int limb = pos / 64, off = pos % 64;
    uint64_t v = k->w[limb] >> off;
    if (off + w > 64 && limb < 3)
        v |= k->w[limb + 1] << (64 - off);
    return (unsigned)v & ((1u << w) - 1);
}

/* acc += k*P through P's table; *inf says acc is the point at infinity. */
static void add_mul(jac *acc, bool *inf, const p256_table *t, const fe *k)
{
    int w = t->w, half = 1 << (w - 1);
    unsigned carry = 0;
    for (int i = 0; i < t->nwin; i++) {
        int d = (int)(bits_at(k, i * w, w) + carry);
        carry = d > half;
        if (carry)
            d -= 1 << w;
        if (!d)
            continue;
        aff pt = t->pts[(size_t)i * half + (size_t)(d < 0 ? -d : d) - 1];
        if (d < 0)
            fe_neg(&pt.y, &pt.y);
        if (*inf) {
            *acc = (jac){ pt.x, pt.y, one_p };
            *inf = false;
        } else if (!jac_add_aff(acc, acc, &pt)) {
            *inf = true;
        }
    }
}

int p256_verify(const p256_table *q, const uint8_t *dgst, size_t dgst_len, const uint8_t sig[64])
{
    pthread_once(&init_once, init);
    if (!gtab)
        return -1;
    fe r, s, e, w, u1, u2;
    fe_from_be(&r, sig);
    fe_from_be(&s, sig + 32);
    if (fe_is_zero(&r) || fe_is_zero(&s) || fe_cmp(&r, &N) >= 0 || fe_cmp(&s, &N) >= 0)
        return 0;
    uint8_t eb[32] = { 0 };
    size_t elen = dgst_len < 32 ? dgst_len : 32;
    memcpy(eb + 32 - elen, dgst, elen);
    fe_from_be(&e, eb);
    if (fe_cmp(&e, &N) >= 0)
        sub4(&e, &e, &N);
    sc_inv_plain(&w, &s);     /* 1/s */
    sc_mul(&w, &w, &rr_n);    /* 2^256/s */
    sc_mul(&u1, &e, &w);      /* e/s */
    sc_mul(&u2, &r, &w);      /* r/s */
    jac acc;
    bool inf = true;
    add_mul(&acc, &inf, gtab, &u1);
    add_mul(&acc, &inf, q, &u2);
    if (inf)
        return 0;
    static const fe one = { { 1 } };
    fe x, z2, t;
    fe_mul(&x, &acc.x, &one);   /* X out of Montgomery form */
    fe_sqr(&z2, &acc.z);        /* Z^2 * 2^256 */
    fe_mul(&t, &r, &z2);        /* r * Z^2, plain */
    if (!fe_cmp(&t, &x))
        return 1;
    fe rn;
    if (add4(&rn, &r, &N) || fe_cmp(&rn, &P) >= 0)
        return 0;
    fe_mul(&t, &rn, &z2);
    return !fe_cmp(&t, &x);
}

void p256_test_op(char op, uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    pthread_once(&init_once, init);
    fe x, y, z;
    memcpy(x.w, a, sizeof x.w);
    memcpy(y.w, b, sizeof y.w);
    static const fe one = { { 1 } };
    switch (op) {
    case '+':
        fe_add(&z, &x, &y);
        break;
    case '-':
        fe_sub(&z, &x, &y);
        break;
    case 's':   /* a^2 */
        fe_mul(&x, &x, &rr_p);
        fe_sqr(&z, &x);
        fe_mul(&z, &z, &one);
        break;
    case '*':   /* through Montgomery form and back */
        fe_mul(&x, &x, &rr_p);
        fe_mul(&y, &y, &rr_p);
        fe_mul(&z, &x, &y);
        fe_mul(&z, &z, &one);
        break;
    case 'i':
        fe_mul(&x, &x, &rr_p);
        fe_inv(&z, &x);
        fe_mul(&z, &z, &one);
        break;
    case 'M':
        sc_mul(&x, &x, &rr_n);
        sc_mul(&z, &x, &y);
        break;
    case 'I':   /* both inverses must agree */
        if (fe_is_zero(&x)) {
            z = x;
            break;
        }
        sc_inv_plain(&z, &x);
        sc_mul(&x, &x, &rr_n);
        sc_inv(&y, &x);
        sc_mul(&y, &y, &one);
        if (fe_cmp(&y, &z))
            memset(&z, 0xff, sizeof z);
        break;
    default:
        memset(&z, 0, sizeof z);
    }
    memcpy(r, z.w, sizeof z.w);
}
