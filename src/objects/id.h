/* id: Durable Object ids (spec: objects.md ID-1..11, NS-4..6; docs/objects.md "Ids").
 *
 * An id is 32 bytes, written as 64 lowercase hex digits. Bytes 0..15 are the base:
 * 16 random bytes from a CSPRNG for newUniqueId, or the first 16 bytes of
 * HMAC-SHA-256(ns_key, "name:" [jurisdiction ":"] name) for idFromName. Bytes
 * 16..31 are the check: the first 16 bytes of HMAC-SHA-256(ns_key, base). A
 * jurisdiction is recorded in the base of unique ids (byte 0's low bits are
 * replaced by its code) and mixed into the name derivation, so ids of different
 * jurisdictions differ.
 *
 * The namespace key ties ids to one namespace of one deployment:
 * ns_key = HMAC-SHA-256(deployment_secret, "ns:" namespace_identity). The
 * namespace identity is fixed when a migration creates the namespace and survives
 * renames. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OBJ_ID_BYTES 32
#define OBJ_ID_HEX_LEN 64
#define OBJ_KEY_BYTES 32

typedef struct obj_id {
    uint8_t b[OBJ_ID_BYTES];
} obj_id;

typedef enum obj_jurisdiction {
    OBJ_JUR_NONE = 0, OBJ_JUR_EU = 1, OBJ_JUR_FEDRAMP = 2, OBJ_JUR_FEDRAMP_HIGH = 3, OBJ_JUR_US = 4,
} obj_jurisdiction;

/* "eu" → OBJ_JUR_EU …; -1 for unknown names. */
int obj_jurisdiction_parse(const char *name, size_t len);
const char *obj_jurisdiction_name(obj_jurisdiction j);   /* NULL for NONE */

/* ns_key from the deployment secret and the namespace identity (any bytes). */
void obj_ns_key_derive(const uint8_t secret[OBJ_KEY_BYTES], const char *identity,
                       size_t identity_len, uint8_t out[OBJ_KEY_BYTES]);

/* Thread-safe, no allocation. Return 0 or a negative code. */
int obj_id_from_name(const uint8_t ns_key[OBJ_KEY_BYTES], obj_jurisdiction j, const char *name,
                     size_t name_len, obj_id *out);
int obj_id_unique(const uint8_t ns_key[OBJ_KEY_BYTES], obj_jurisdiction j, obj_id *out);

/* Parses 64 hex digits (either case). DUR_EPARSE if not exactly 64 hex digits;
 * DUR_EINVAL if the check half does not match this namespace. */
int obj_id_parse(const uint8_t ns_key[OBJ_KEY_BYTES], const char *hex, size_t len, obj_id *out);
/* True if the check half matches ns_key. */
bool obj_id_valid(const uint8_t ns_key[OBJ_KEY_BYTES], const obj_id *id);
/* How many check halves this thread has verified (obj_id_valid, obj_id_parse): for
 * tests that a path does not re-check ids it already holds. */
uint64_t obj_id_checks(void);
/* True when s is exactly n lowercase hex digits: how ids (64), namespace ids (32)
 * and their parts are written; the check callers make before a lookup. */
bool obj_hex_is(const char *s, size_t n);
/* Writes 64 lowercase hex digits and a NUL into out[65]. */
void obj_id_hex(const obj_id *id, char out[OBJ_ID_HEX_LEN + 1]);
/* The jurisdiction recorded in the id's base. */
obj_jurisdiction obj_id_jurisdiction(const obj_id *id);
/* A stable 64-bit hash of the id (for shard choice and hash tables). */
uint64_t obj_id_hash(const obj_id *id);
