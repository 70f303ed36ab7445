/* Unit tests for p256.c's arithmetic: field operations mod p and scalar
 * operations mod n (through p256_test_op, which goes in and out of Montgomery
 * form) compared with OpenSSL's BIGNUM results, on edge values (0, 1, 2, p - 1,
 * p - 2, 2^255, 2^256 - p-ish, values with all-ones and all-zero limbs) and on
 * random ones. The signature-level checks are in test_crypto_ecdsa.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "web/p256.h"

static const char *P_HEX = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
static const char *N_HEX = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

static void to_limbs(const BIGNUM *v, uint64_t w[4])
{
    uint8_t b[32];
    assert_int_equal(BN_bn2binpad(v, b, 32), 32);
    for (int i = 0; i < 4; i++) {
        uint64_t x = 0;
        for (int j = 0; j < 8; j++)
            x = x << 8 | b[24 - 8 * i + j];
        w[i] = x;
    }
}

/* Edge values below m: 0, 1, 2, 3, m-1, m-2, m-3, 2^255, 2^255 - 1, 2^64 - 1,
 * 2^64, 2^192 - 1, 2^224, m - 2^64, (m-1)/2, (m+1)/2. */
static int edges(const BIGNUM *m, BIGNUM **out)
{
    int k = 0;
    for (unsigned long v = 0; v < 4; v++)
        BN_set_word(out[k++], v);
    for (unsigned long v = 1; v < 4; v++) {
        BN_copy(out[k], m);
        BN_sub_word(out[k++], v);
    }
    static const int bits[] = { 255, 64, 192, 224 };
    for (int i = 0; i < 4; i++) {
        BN_zero(out[k]);
        BN_set_bit(out[k++], bits[i]);
    }
    BN_zero(out[k]);
    BN_set_bit(out[k], 255);
    BN_sub_word(out[k++], 1);
    BN_zero(out[k]);
    BN_set_bit(out[k], 64);
    BN_sub_word(out[k++], 1);
    BN_zero(out[k]);
    BN_set_bit(out[k], 192);
    BN_sub_word(out[k++], 1);
    BN_copy(out[k], m);
    BN_rshift1(out[k], out[k]);
    BN_copy(out[k + 1], out[k]);
    BN_add_word(out[k + 1], 1);
    k += 2;
    return k;
}

#define NVAL 64

/* Every op of `ops` on pairs of edge and random values below m, against BIGNUM. */
static void check_ops(const char *m_hex, const char *ops)
{
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *m = NULL, *want = BN_new();
    BIGNUM *v[NVAL];
    assert_true(BN_hex2bn(&m, m_hex) > 0);
    for (int i = 0; i < NVAL; i++)
        v[i] = BN_new();
    int k = edges(m, v);
    for (int i = k; i < NVAL; i++)
        assert_int_equal(BN_rand_range(v[i], m), 1);
    for (int i = 0; i < NVAL; i++)
        assert_true(BN_cmp(v[i], m) < 0);
    for (const char *op = ops; *op; op++) {
        for (int i = 0; i < NVAL; i++) {
            for (int j = 0; j < NVAL; j++) {
                if ((*op == 'i' || *op == 'I' || *op == 's') && j > 0)
                    break;
                uint64_t a[4], b[4], r[4], w[4];
                to_limbs(v[i], a);
                to_limbs(v[j], b);
                p256_test_op(*op, r, a, b);
                switch (*op) {
                case '+':
                    assert_int_equal(BN_mod_add(want, v[i], v[j], m, bn), 1);
                    break;
                case '-':
                    assert_int_equal(BN_mod_sub(want, v[i], v[j], m, bn), 1);
                    break;
                case 's':
                    assert_int_equal(BN_mod_sqr(want, v[i], m, bn), 1);
                    break;
                case '*':
                case 'M':
                    assert_int_equal(BN_mod_mul(want, v[i], v[j], m, bn), 1);
                    break;
                default:   /* inverse; of 0: 0 */
                    if (BN_is_zero(v[i]))
                        BN_zero(want);
                    else
                        assert_non_null(BN_mod_inverse(want, v[i], m, bn));
                }
                to_limbs(want, w);
                assert_memory_equal(r, w, sizeof w);
            }
        }
    }
    for (int i = 0; i < NVAL; i++)
        BN_free(v[i]);
    BN_free(m);
    BN_free(want);
    BN_CTX_free(bn);
}

static void test_field(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++)   /* new random values each round */
        check_ops(P_HEX, "+-*si");
}

static void test_scalar(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++)
        check_ops(N_HEX, "MI");
}

/* Points that are not on the curve, or with a coordinate >= p, get no table. */
static void test_bad_points(void **state)
{
    (void)state;
    uint8_t x[32], y[32];
    /* The generator, then changed. */
    static const uint8_t gx[32] = { 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6,
                                    0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb,
                                    0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96 };
    static const uint8_t gy[32] = { 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb,
                                    0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31,
                                    0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5 };
    p256_table *t = p256_table_new(gx, gy);
    assert_non_null(t);
    p256_table_free(t);
    memcpy(x, gx, 32);
    memcpy(y, gy, 32);
    y[31] ^= 1;
    assert_null(p256_table_new(x, y));
    memset(x, 0, 32);
    memset(y, 0, 32);
    assert_null(p256_table_new(x, y));
    /* y + p does not fit; x = p (same residue as 0) is refused as >= p. */
    BIGNUM *p = NULL;
    assert_true(BN_hex2bn(&p, P_HEX) > 0);
    assert_int_equal(BN_bn2binpad(p, x, 32), 32);
    assert_null(p256_table_new(x, gy));
    memset(x, 0xff, 32);
    assert_null(p256_table_new(x, gy));
    BN_free(p);
    assert_int_equal(p256_table_bytes(P256_KEY_WINDOW_BITS) >= 151552, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field),
        cmocka_unit_test(test_scalar),
        cmocka_unit_test(test_bad_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
