/* p256.h: ECDSA P-256 signature verification on our own field arithmetic, with
 * precomputed tables for the generator and for a public key (p256.c). The
 * caller is crypto_ecdsa.c, which keeps one table per often-used key. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Affine multiples of one point, window by window (see p256.c). */
typedef struct p256_table p256_table;

/* Window width of a public-key table, and its size in bytes: 37 windows of 64
 * affine points of 64 bytes (151,552 bytes). */
#define P256_KEY_WINDOW_BITS 7
size_t p256_table_bytes(int window_bits);

/* The table for the public key (x, y), 32 big-endian bytes each; NULL when the
 * point is not on the curve (coordinates >= p included) or out of memory.
 * Takes ~16M instructions (~3 ms). */
p256_table *p256_table_new(const uint8_t x[32], const uint8_t y[32]);
void p256_table_free(p256_table *t);

/* Verifies the r||s signature `sig` of a digest (its leftmost 256 bits are used)
 * against the key of `q`: 1 valid, 0 invalid, -1 when the generator's table could
 * not be built (out of memory). Thread-safe: the generator's table is built once
 * per process at the first call. */
int p256_verify(const p256_table *q, const uint8_t *dgst, size_t dgst_len, const uint8_t sig[64]);

/* For tests: one operation on plain (not Montgomery) values as little-endian
 * 64-bit limbs, each operand below its modulus. op: '+', '-', '*', 's' (a^2), 'i'
 * (inverse; of 0 gives 0) modulo p; 'M' (product) and 'I' (inverse) modulo the order n. */
void p256_test_op(char op, uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
