/* auth.c: API tokens (spec API-2). A token is "durable_" and 64 hex digits from
 * 32 random bytes; the store keeps only its SHA-256, so a copy of durable.sqlite
 * does not hand out working tokens. A presented token is hashed and compared with
 * CRYPTO_memcmp against every live token's hash: the time taken does not depend on
 * how many leading bytes match. */
#include "api/internal.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define TOKEN_PREFIX "durable_"

int api_token_create(deploy_store *s, const char *name, char token_out[API_TOKEN_CHARS + 1],
                     char id_out[17], err *e)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > 100)
        return err_setf(e, DUR_EINVAL, "a token name has 1 to 100 characters, got %zu", nlen), -1;
    for (size_t i = 0; i < nlen; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return err_setf(e, DUR_EINVAL, "a token name may not hold control characters"), -1;
    uint8_t secret[32], idb[8], h[SHA256_DIGEST_LENGTH];
    if (RAND_bytes(secret, sizeof secret) != 1 || RAND_bytes(idb, sizeof idb) != 1)
        return err_setf(e, DUR_EINVAL, "could not draw random bytes for the token"), -1;
    memcpy(token_out, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
    api__hex(secret, sizeof secret, token_out + sizeof TOKEN_PREFIX - 1);
    api__hex(idb, sizeof idb, id_out);
    SHA256((const uint8_t *)token_out, API_TOKEN_CHARS, h);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO deploy_tokens VALUES (?1, ?2, ?3, ?4, NULL)", -1,
                           &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot store the token", e);
    sqlite3_bind_text(st, 1, id_out, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, h, sizeof h, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, deploy__now_ms());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return deploy__fail(s, "cannot store the token", e);
    return 0;
}

int api_token_revoke(deploy_store *s, const char *id, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "UPDATE deploy_tokens SET revoked_ms = ?2 WHERE id = ?1 AND "
                           "revoked_ms IS NULL", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot revoke the token", e);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, deploy__now_ms());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return deploy__fail(s, "cannot revoke the token", e);
    if (sqlite3_changes(s->db) == 0)
        return err_setf(e, DUR_ENOTFOUND, "no live token with id '%s' (see `durable token list`)",
                        id);
    return 0;
}

int api_token_list(deploy_store *s,
                   void (*cb)(const char *id, const char *name, int64_t created_ms,
                              int64_t revoked_ms, void *ud),
                   void *ud, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT id, name, created_ms, revoked_ms FROM deploy_tokens "
                           "ORDER BY created_ms, id", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot list the tokens", e);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id, *name;
        int64_t created, revoked = 0;
        if (deploy__col_text(s, st, 0, "deploy_tokens", &id, e) < 0 ||
            deploy__col_text(s, st, 1, "deploy_tokens", &name, e) < 0 ||
            deploy__col_int(s, st, 2, "deploy_tokens", &created, e) < 0 ||
            (sqlite3_column_type(st, 3) != SQLITE_NULL &&
             deploy__col_int(s, st, 3, "deploy_tokens", &revoked, e) < 0)) {
            sqlite3_finalize(st);
            return -1;
        }
        cb(id, name, created, revoked, ud);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot list the tokens", e);
}

int api_token_check(deploy_store *s, const char *token, size_t len, err *e)
{
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)token, len, h);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT hash FROM deploy_tokens WHERE revoked_ms IS NULL", -1,
                           &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the tokens", e);
    int found = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_BLOB ||
            sqlite3_column_bytes(st, 0) != SHA256_DIGEST_LENGTH) {
            sqlite3_finalize(st);
            return err_setf(e, DUR_EINVAL, "%s: table deploy_tokens holds a hash that is not a "
                            "%d-byte blob: the file was changed by something else", s->path,
                            SHA256_DIGEST_LENGTH), -1;
        }
        /* No early exit: every live token is compared. */
        found |= CRYPTO_memcmp(sqlite3_column_blob(st, 0), h, sizeof h) == 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return deploy__fail(s, "cannot read the tokens", e);
    return found;
}
