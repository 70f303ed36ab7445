/* id.c: Durable Object id codec (see id.h for the layout and its reasons). */
#include "objects/id.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(OBJ_ID_BYTES == 32, "ids are 32 bytes");

#define JUR_MASK 0x07u

static const char *const jur_names[] = {NULL, "eu", "fedramp", "fedramp-high", "us"};

int obj_jurisdiction_parse(const char *name, size_t len)
{
    for (int j = 1; j < (int)(sizeof jur_names / sizeof jur_names[0]); j++)
        if (strlen(jur_names[j]) == len && memcmp(jur_names[j], name, len) == 0)
            return j;
    return -1;
}

const char *obj_jurisdiction_name(obj_jurisdiction j)
{
    return (unsigned)j < sizeof jur_names / sizeof jur_names[0] ? jur_names[j] : NULL;
}

/* HMAC-SHA-256 over up to three pieces, concatenated (on the stack when small). */
static void hmac3(const uint8_t key[OBJ_KEY_BYTES], const void *a, size_t alen, const void *b,
                  size_t blen, const void *c, size_t clen, uint8_t out[32])
{
    uint8_t stack[1024];
    size_t total = alen + blen + clen;
    uint8_t *msg = total <= sizeof stack ? stack : malloc(total);
    unsigned int n = 0;
    if (msg) {
        memcpy(msg, a, alen);
        if (blen)
            memcpy(msg + alen, b, blen);
        if (clen)
            memcpy(msg + alen + blen, c, clen);
        if (!HMAC(EVP_sha256(), key, OBJ_KEY_BYTES, msg, total, out, &n))
            n = 0;
        if (msg != stack)
            free(msg);
    }
    /* Without an HMAC an id made from garbage would silently alias objects: stop. */
    if (n != 32)
        abort();
}

void obj_ns_key_derive(const uint8_t secret[OBJ_KEY_BYTES], const char *identity,
                       size_t identity_len, uint8_t out[OBJ_KEY_BYTES])
{
    hmac3(secret, "ns:", 3, identity, identity_len, NULL, 0, out);
}

static void set_check(const uint8_t ns_key[OBJ_KEY_BYTES], obj_id *id)
{
    uint8_t mac[32];
    hmac3(ns_key, id->b, 16, NULL, 0, NULL, 0, mac);
    memcpy(id->b + 16, mac, 16);
}

int obj_id_from_name(const uint8_t ns_key[OBJ_KEY_BYTES], obj_jurisdiction j, const char *name,
                     size_t name_len, obj_id *out)
{
    if ((unsigned)j > JUR_MASK)
        return DUR_EINVAL;
    uint8_t mac[32];
    char prefix[32];
    const char *jn = obj_jurisdiction_name(j);
    size_t plen = 0;
    memcpy(prefix, "name:", 5);
    plen = 5;
    if (jn) {
        size_t l = strlen(jn);
        memcpy(prefix + plen, jn, l);
        plen += l;
        prefix[plen++] = ':';
    }
    hmac3(ns_key, prefix, plen, name, name_len, NULL, 0, mac);
    memcpy(out->b, mac, 16);
    out->b[0] = (uint8_t)((out->b[0] & ~JUR_MASK) | (unsigned)j);
    set_check(ns_key, out);
    return 0;
}

int obj_id_unique(const uint8_t ns_key[OBJ_KEY_BYTES], obj_jurisdiction j, obj_id *out)
{
    if ((unsigned)j > JUR_MASK)
        return DUR_EINVAL;
    if (RAND_bytes(out->b, 16) != 1)
        return DUR_EINVAL;
    out->b[0] = (uint8_t)((out->b[0] & ~JUR_MASK) | (unsigned)j);
    set_check(ns_key, out);
    return 0;
}

bool obj_hex_is(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int obj_id_parse(const uint8_t ns_key[OBJ_KEY_BYTES], const char *hex, size_t len, obj_id *out)
{
    if (len != OBJ_ID_HEX_LEN)
        return DUR_EPARSE;
    for (size_t i = 0; i < OBJ_ID_BYTES; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return DUR_EPARSE;
        out->b[i] = (uint8_t)(hi << 4 | lo);
    }
    return obj_id_valid(ns_key, out) ? 0 : DUR_EINVAL;
}

static _Thread_local uint64_t checks;

uint64_t obj_id_checks(void)
{
    return checks;
}

bool obj_id_valid(const uint8_t ns_key[OBJ_KEY_BYTES], const obj_id *id)
{
    checks++;
    obj_id tmp = *id;
    set_check(ns_key, &tmp);
    /* Constant time: the check half is what makes ids unguessable. */
    return CRYPTO_memcmp(tmp.b + 16, id->b + 16, 16) == 0;
}

void obj_id_hex(const obj_id *id, char out[OBJ_ID_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < OBJ_ID_BYTES; i++) {
        out[2 * i] = digits[id->b[i] >> 4];
        out[2 * i + 1] = digits[id->b[i] & 15];
    }
    out[OBJ_ID_HEX_LEN] = '\0';
}

obj_jurisdiction obj_id_jurisdiction(const obj_id *id)
{
    unsigned j = id->b[0] & JUR_MASK;
    return j <= OBJ_JUR_US ? (obj_jurisdiction)j : OBJ_JUR_NONE;
}

uint64_t obj_id_hash(const obj_id *id)
{
    /* The check half is an HMAC output: already uniformly distributed. */
    uint64_t h;
    memcpy(&h, id->b + 16, sizeof h);
    return h;
}
