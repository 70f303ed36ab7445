/* deploy_sync.c: deployments shared through PostgreSQL in cluster mode (spec CL-15;
 * docs/cluster.md "Shared deployments").
 *
 * Every node keeps its deployment store (deploy_* tables of <data>/durable.sqlite,
 * deploy_store.c) and serves from it as a single node does. PostgreSQL holds the
 * shared truth: one row of durable_deploy with a version number and an *image* of
 * the store, a small SQLite database holding a copy of every deploy_* table (made
 * with ATTACH ':memory:' + CREATE TABLE AS + sqlite3_serialize; read back with
 * sqlite3_deserialize). An image rather than rows: one bytea round trip, and the
 * SQLite column types and blobs travel unchanged, so namespace ids and identities
 * (which name the objects in PostgreSQL) are the same on every node.
 *
 * Writers (a mutating REST API request on any node):
 *   BEGIN; SELECT … FROM durable_deploy FOR UPDATE  -- one writer in the cluster
 *     (a row lock, not an advisory lock: PostgreSQL-compatible engines have those)
 *   import the shared image if its version is newer than what this node holds
 *   ... the request runs against the local store ...
 *   if the request changed the local store: UPDATE durable_deploy SET version+1,
 *     image = the new image
 *   COMMIT                                           -- before the answer is sent
 * If storing fails, the answer becomes a 503 and the node forgets its version, so
 * the next poll imports the shared state again (the local change is undone).
 * Readers: every poll (each heartbeat, on the API thread) reads the version and
 * imports a newer image, then calls on_change so the server reloads (a deploy on
 * one node reaches all nodes within one heartbeat).
 *
 * Tokens are merged rather than replaced: `durable token create` writes one node's
 * file directly, so an import keeps local tokens the image lacks (and then pushes
 * them), and a revocation on either side wins. The schema version travels in the
 * image: an image from a newer durable is refused with a message naming both.
 *
 * The libpq connection is this file's own and is used on the API thread only,
 * blocking (connect_timeout 5 s, statement_timeout 30 s): deploys are rare, and a
 * PostgreSQL outage makes mutating requests answer 503 instead of hanging. */
#include "api/internal.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cluster/cluster.h"

/* The image is bounded: each script keeps its newest DEPLOY_VERSIONS_KEPT versions
 * (and its live one) in the cluster, older ones are deleted when a writer stores a
 * new image; a change that would make the image bigger than DEPLOY_IMAGE_BYTES_MAX
 * is refused (DUR_ETOOBIG: the REST API answers 413) and undone. */
#define DEPLOY_IMAGE_BYTES_MAX ((size_t)128 << 20)
#define DEPLOY_VERSIONS_KEPT 50

/* deploy_meta (the account id) stays each node's own: the REST paths a node
 * answers name the account it printed at start, which clients already use. */
static const char *const sync_tables[] = {
    "deploy_scripts",  "deploy_versions",   "deploy_modules",
    "deploy_bindings", "deploy_namespaces", "deploy_migrations",
    "deploy_version_migrations",   /* a stored version's migrations (upload.c) */
};

struct deploy_sync {
    deploy_store *s;
    char *pg_url;
    char node_id[64];
    PGconn *pg;
    int64_t version;           /* the shared version the local store holds; -1: unknown */
    bool in_tx;                /* a writer's PostgreSQL transaction is open */
    bool push;                 /* the local store has what the image lacks (tokens) */
    int64_t changes0;          /* sqlite3_total_changes64 at the writer's start */
    char tokens_fp[128];       /* the tokens as of the last sync ("": not yet) */
};

/* ---- PostgreSQL ---- */

static int pg_fail(deploy_sync *y, PGresult *r, const char *what, err *e)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !*m)
        m = PQerrorMessage(y->pg);
    char msg[300];
    snprintf(msg, sizeof msg, "%s", m);
    msg[strcspn(msg, "\n")] = 0;   /* libpq ends messages with a newline */
    if (r)
        PQclear(r);
    return err_setf(e, DUR_EINVAL, "shared deployments: %s: %s", what, msg);
}

static int pg_cmd(deploy_sync *y, const char *sql, err *e)
{
    PGresult *r = PQexec(y->pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(y, r, sql, e);
    PQclear(r);
    return 0;
}

/* PostgreSQL's notices ("relation already exists, skipping") are not ours to log. */
static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* (Re)connects when the connection is missing or broken. */
static int pg_ensure(deploy_sync *y, err *e)
{
    if (y->pg && PQstatus(y->pg) == CONNECTION_OK)
        return 0;
    if (y->pg)
        PQfinish(y->pg);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {y->pg_url, "5", "durable-deploy-sync", NULL};
    y->pg = PQconnectdbParams(keys, vals, 1);
    if (!y->pg || PQstatus(y->pg) != CONNECTION_OK) {
        int rc = err_setf(e, DUR_EINVAL, "shared deployments: cannot connect to PostgreSQL: %s",
                          y->pg ? PQerrorMessage(y->pg) : "out of memory");
        e->msg[strcspn(e->msg, "\n")] = 0;
        if (y->pg)
            PQfinish(y->pg);
        y->pg = NULL;
        return rc;
    }
    PQsetNoticeProcessor(y->pg, quiet, NULL);
    /* Two nodes creating the table at once: one may fail on the catalog's unique
     * index; the second try sees the table. */
    int rc = pg_cmd(y, "SET statement_timeout = 30000", e);
    for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
        rc = pg_cmd(y, "CREATE TABLE IF NOT EXISTS durable_deploy (id integer PRIMARY KEY "
                       "CHECK (id = 1), version bigint NOT NULL, image bytea NOT NULL, "
                       "node text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())", e);
        if (rc == 0)
            break;
        if (attempt == 0)
            rc = 0;
    }
    if (rc == 0)
        rc = pg_cmd(y, "INSERT INTO durable_deploy (id, version, image, node) VALUES "
                       "(1, 0, ''::bytea, '') ON CONFLICT (id) DO NOTHING", e);
    if (rc < 0) {
        PQfinish(y->pg);
        y->pg = NULL;
        return -1;
    }
    return 0;
}

/* The shared version (0: no row yet), and with want_image the image. */
static int pg_read(deploy_sync *y, bool want_image, int64_t *version, uint8_t **image,
                   size_t *len, err *e)
{
    PGresult *r = PQexecParams(y->pg,
                               want_image ? "SELECT version, image FROM durable_deploy WHERE id = 1"
                                          : "SELECT version FROM durable_deploy WHERE id = 1",
                               0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_fail(y, r, "reading the shared version", e);
    *version = 0;
    if (PQntuples(r) == 1) {
        if (PQgetlength(r, 0, 0) != 8) {
            PQclear(r);
            return err_setf(e, DUR_EINVAL, "shared deployments: durable_deploy.version is not "
                            "a bigint");
        }
        const uint8_t *v = (const uint8_t *)PQgetvalue(r, 0, 0);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | v[i];
        *version = (int64_t)u;
        if (want_image) {
            size_t n = (size_t)PQgetlength(r, 0, 1);
            *image = sqlite3_malloc64(n ? n : 1);
            if (!*image) {
                PQclear(r);
                return err_setf(e, DUR_ENOMEM, "shared deployments: out of memory");
            }
            memcpy(*image, PQgetvalue(r, 0, 1), n);
            *len = n;
        }
    }
    PQclear(r);
    return 0;
}

static int pg_store(deploy_sync *y, int64_t version, const uint8_t *image, size_t len, err *e)
{
    char vbuf[24];
    snprintf(vbuf, sizeof vbuf, "%lld", (long long)version);
    const char *vals[3] = {vbuf, (const char *)image, y->node_id};
    int lens[3] = {0, (int)len, 0};
    int fmts[3] = {0, 1, 0};
    PGresult *r = PQexecParams(y->pg,
                               "INSERT INTO durable_deploy (id, version, image, node) "
                               "VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET "
                               "version = $1, image = $2, node = $3, updated_at = now()",
                               3, NULL, vals, lens, fmts, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(y, r, "storing the deployments", e);
    PQclear(r);
    return 0;
}

/* ---- the image ---- */

static int sql(deploy_sync *y, const char *q, err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(y->s->db, q, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    err_setf(e, DUR_EINVAL, "shared deployments: %s: %s", q, msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
}

static int image_export(deploy_sync *y, uint8_t **out, size_t *len, err *e)
{
    if (sql(y, "ATTACH DATABASE ':memory:' AS sync_img", e) < 0)
        return -1;
    char q[256];
    int rc = 0;
    snprintf(q, sizeof q, "CREATE TABLE sync_img.deploy_schema AS SELECT * FROM main.deploy_schema");
    rc = sql(y, q, e);
    for (size_t i = 0; rc == 0 && i < sizeof sync_tables / sizeof *sync_tables; i++) {
        snprintf(q, sizeof q, "CREATE TABLE sync_img.%s AS SELECT * FROM main.%s", sync_tables[i],
                 sync_tables[i]);
        rc = sql(y, q, e);
    }
    if (rc == 0)
        rc = sql(y, "CREATE TABLE sync_img.deploy_tokens AS SELECT * FROM main.deploy_tokens", e);
    /* The highest deleted version of each script: numbers are never reused, on any
     * node (deploy_scripts.c numbers past it). */
    if (rc == 0)
        rc = sql(y, "CREATE TABLE sync_img.deploy_deleted AS SELECT key, value FROM "
                    "main.deploy_meta WHERE key LIKE 'deleted_version:%'", e);
    if (rc == 0) {
        sqlite3_int64 n = 0;
        *out = sqlite3_serialize(y->s->db, "sync_img", &n, 0);
        *len = (size_t)n;
        if (!*out)
            rc = err_setf(e, DUR_ENOMEM, "shared deployments: cannot serialize the image");
        else if (*len > DEPLOY_IMAGE_BYTES_MAX)
            rc = err_setf(e, DUR_ETOOBIG, "shared deployments: the deployments would take %zu "
                          "bytes, more than the %zu bytes a cluster shares (each script keeps "
                          "its newest %d versions); delete scripts or deploy smaller ones",
                          *len, DEPLOY_IMAGE_BYTES_MAX, DEPLOY_VERSIONS_KEPT);
        if (rc < 0) {
            sqlite3_free(*out);
            *out = NULL;
        }
    }
    err e2 = {0};
    sql(y, "DETACH DATABASE sync_img", &e2);
    return rc;
}

static int import_tables(deploy_sync *y, err *e)
{
    char q[512];
    sqlite3_stmt *st = NULL;
    int64_t theirs = 0;
    if (sqlite3_prepare_v2(y->s->db, "SELECT version FROM sync_img.deploy_schema", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        theirs = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (theirs <= 0)
        return err_setf(e, DUR_EINVAL, "shared deployments: the image in PostgreSQL has no "
                        "schema version");
    if (theirs > DEPLOY_SCHEMA_VERSION)
        return err_setf(e, DUR_EINVAL, "shared deployments: PostgreSQL holds deployments of "
                        "schema version %lld, this durable knows version %d: upgrade this node",
                        (long long)theirs, DEPLOY_SCHEMA_VERSION);
    for (size_t i = 0; i < sizeof sync_tables / sizeof *sync_tables; i++) {
        snprintf(q, sizeof q, "DELETE FROM main.%s; INSERT INTO main.%s SELECT * FROM sync_img.%s",
                 sync_tables[i], sync_tables[i], sync_tables[i]);
        if (sql(y, q, e) < 0)
            return -1;
    }
    /* Deleted-version counters: the image's (an image from before they travelled
     * has no such table: ours stay). */
    if (sqlite3_prepare_v2(y->s->db, "SELECT 1 FROM sync_img.sqlite_master WHERE name = "
                           "'deploy_deleted'", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_finalize(st);
        if (sql(y, "DELETE FROM main.deploy_meta WHERE key LIKE 'deleted_version:%'; INSERT INTO "
                   "main.deploy_meta SELECT key, value FROM sync_img.deploy_deleted", e) < 0)
            return -1;
    } else {
        sqlite3_finalize(st);
    }
    /* Tokens: union, a revocation on either side wins. */
    if (sql(y, "INSERT OR IGNORE INTO main.deploy_tokens SELECT * FROM sync_img.deploy_tokens;"
               "UPDATE main.deploy_tokens SET revoked_ms = (SELECT i.revoked_ms FROM "
               "sync_img.deploy_tokens i WHERE i.id = main.deploy_tokens.id) WHERE revoked_ms "
               "IS NULL AND id IN (SELECT id FROM sync_img.deploy_tokens WHERE revoked_ms IS NOT "
               "NULL)", e) < 0)
        return -1;
    if (sqlite3_prepare_v2(y->s->db,
                           "SELECT count(*) FROM main.deploy_tokens m WHERE NOT EXISTS (SELECT 1 "
                           "FROM sync_img.deploy_tokens i WHERE i.id = m.id AND i.revoked_ms IS "
                           "m.revoked_ms)", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return deploy__fail(y->s, "comparing tokens", e);
    }
    y->push = sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    return 0;
}

/* Replaces the local deploy_* tables with the image's (takes `image`, a
 * sqlite3_malloc'd buffer), in one local transaction. */
static int image_import(deploy_sync *y, uint8_t *image, size_t len, err *e)
{
    if (sql(y, "ATTACH DATABASE ':memory:' AS sync_img", e) < 0) {
        sqlite3_free(image);
        return -1;
    }
    int rc = sqlite3_deserialize(y->s->db, "sync_img", image, (sqlite3_int64)len,
                                 (sqlite3_int64)len,
                                 SQLITE_DESERIALIZE_FREEONCLOSE);   /* not READONLY: BEGIN
                                                                     IMMEDIATE locks it too */
    if (rc != SQLITE_OK) {
        rc = err_setf(e, DUR_EINVAL, "shared deployments: the image in PostgreSQL is not a "
                      "SQLite database (%s)", sqlite3_errstr(rc));
    } else if (deploy_tx_begin(y->s, e) < 0) {
        rc = -1;
    } else if (import_tables(y, e) < 0) {
        deploy_tx_rollback(y->s);
        rc = -1;
    } else {
        rc = deploy_tx_commit(y->s, e);
    }
    err e2 = {0};
    sql(y, "DETACH DATABASE sync_img", &e2);
    return rc;
}

/* Imports the shared state when it is newer than ours. 1 imported, 0 not, <0. */
static int pull(deploy_sync *y, err *e)
{
    int64_t v;
    uint8_t *img = NULL;
    size_t len = 0;
    if (pg_read(y, false, &v, &img, &len, e) < 0)
        return -1;
    if (v == 0 || v <= y->version)
        return 0;
    if (pg_read(y, true, &v, &img, &len, e) < 0)
        return -1;
    if (!img)
        return 0;
    if (image_import(y, img, len, e) < 0)
        return -1;
    y->version = v;
    log_info("shared deployments: imported version %lld from PostgreSQL", (long long)v);
    return 1;
}

/* A fingerprint of the tokens: `durable token create|revoke` writes the file from
 * another process, which the poll notices by this changing. */
static void tokens_fp(deploy_sync *y, char out[128])
{
    sqlite3_stmt *st = NULL;
    out[0] = 0;
    if (sqlite3_prepare_v2(y->s->db, "SELECT count(*), total(created_ms), count(revoked_ms), "
                           "total(revoked_ms) FROM deploy_tokens", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, 128, "%lld/%.0f/%lld/%.0f", (long long)sqlite3_column_int64(st, 0),
                 sqlite3_column_double(st, 1), (long long)sqlite3_column_int64(st, 2),
                 sqlite3_column_double(st, 3));
    sqlite3_finalize(st);
}

/* A fingerprint of what the shards serve: each script's live version, tag and
 * modification time, and the namespaces (a secret or a deploy makes a new live
 * version). A poll that imported only tokens leaves it unchanged, and then the
 * server is not reloaded: a reload restarts every Durable Object of the node, so
 * another node's `durable token create` must not reset this node's objects. */
static uint64_t served_fp(deploy_sync *y)
{
    static const char *const q[] = {
        "SELECT name, live_version, modified_ms, migration_tag FROM deploy_scripts ORDER BY name",
        "SELECT id, name, script, class, use_sqlite, identity FROM deploy_namespaces ORDER BY id",
    };
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(y->s->db, q[k], -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            return 0;   /* unreadable: "changed" (0 never matches a real hash twice) */
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *v = sqlite3_column_text(st, c);
                int n = sqlite3_column_bytes(st, c);
                for (int i = 0; v && i < n; i++)
                    h = (h ^ v[i]) * 1099511628211ull;
                h = (h ^ (v ? 0x1f : 0x1e)) * 1099511628211ull;   /* column end; NULL differs from "" */
            }
            h = (h ^ 0x0a) * 1099511628211ull;
        }
        sqlite3_finalize(st);
        h = (h ^ 0x1d) * 1099511628211ull;
    }
    return h;
}

/* True when the store has no script and no namespace: a fresh node, whose store
 * must not become the shared state over one a user deployed elsewhere. */
static bool store_empty(deploy_sync *y)
{
    sqlite3_stmt *st = NULL;
    bool empty = false;
    if (sqlite3_prepare_v2(y->s->db, "SELECT (SELECT count(*) FROM deploy_scripts) + "
                           "(SELECT count(*) FROM deploy_namespaces)", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        empty = sqlite3_column_int64(st, 0) == 0;
    sqlite3_finalize(st);
    return empty;
}

/* ---- the writer ---- */

/* Deletes the versions of every script older than its newest DEPLOY_VERSIONS_KEPT,
 * never its live one (the counter of deleted versions keeps numbers unique). */
static int prune(deploy_sync *y, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(y->s->db,
                           "SELECT v.script, v.number FROM deploy_versions v JOIN deploy_scripts s "
                           "ON s.name = v.script WHERE v.number IS NOT s.live_version AND "
                           "(SELECT count(*) FROM deploy_versions w WHERE w.script = v.script AND "
                           "w.number > v.number) >= ?1", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(y->s, "finding old versions", e);
    sqlite3_bind_int(st, 1, DEPLOY_VERSIONS_KEPT);
    struct old { char script[DEPLOY_NAME_MAX + 1]; int64_t number; } *olds = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct old *g = realloc(olds, cap * sizeof *g);
            if (!g) {
                rc = err_setf(e, DUR_ENOMEM, "shared deployments: out of memory");
                break;
            }
            olds = g;
        }
        snprintf(olds[n].script, sizeof olds[n].script, "%s", (const char *)sqlite3_column_text(st, 0));
        olds[n++].number = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc == 0 && n > 0) {
        rc = deploy_tx_begin(y->s, e);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = deploy_version_delete(y->s, olds[i].script, olds[i].number, e) < 0 ? -1 : 0;
        if (rc == 0)
            rc = deploy_tx_commit(y->s, e);
        else
            deploy_tx_rollback(y->s);
        if (rc == 0)
            log_info("shared deployments: deleted %zu old script versions (each script keeps "
                     "its newest %d)", n, DEPLOY_VERSIONS_KEPT);
    }
    free(olds);
    return rc;
}

int deploy__sync_begin(deploy_sync *y, bool *pulled, err *e)
{
    *pulled = false;
    if (pg_ensure(y, e) < 0)
        return -1;
    if (pg_cmd(y, "BEGIN", e) < 0)
        return -1;
    y->in_tx = true;
    int rc = pg_cmd(y, "SELECT version FROM durable_deploy WHERE id = 1 FOR UPDATE", e);
    if (rc == 0)
        rc = pull(y, e);
    if (rc < 0) {
        err e2 = {0};
        pg_cmd(y, "ROLLBACK", &e2);
        y->in_tx = false;
        return -1;
    }
    *pulled = rc == 1;
    y->changes0 = sqlite3_total_changes64(y->s->db);
    return 0;
}

int deploy__sync_finish(deploy_sync *y, err *e)
{
    if (!y->in_tx)
        return 0;
    y->in_tx = false;
    bool changed = sqlite3_total_changes64(y->s->db) != y->changes0 || y->push ||
                   y->version <= 0;
    int rc = 0;
    if (changed) {
        uint8_t *img = NULL;
        size_t len = 0;
        int64_t v = 0;
        rc = pg_read(y, false, &v, &img, &len, e);
        if (rc == 0)
            rc = prune(y, e);
        if (rc == 0)
            rc = image_export(y, &img, &len, e);
        if (rc == 0)
            rc = pg_store(y, v + 1, img, len, e);
        sqlite3_free(img);
        if (rc == 0)
            rc = pg_cmd(y, "COMMIT", e);
        if (rc == 0) {
            y->version = v + 1;
            y->push = false;
            log_info("shared deployments: stored version %lld in PostgreSQL", (long long)v + 1);
        }
    } else {
        rc = pg_cmd(y, "COMMIT", e);
    }
    if (rc < 0) {
        err e2 = {0};
        pg_cmd(y, "ROLLBACK", &e2);
        /* Our store may hold a change the cluster does not: take the shared state
         * again at the next poll. */
        y->version = -1;
    }
    tokens_fp(y, y->tokens_fp);
    return rc;
}

/* ---- public ---- */

deploy_sync *deploy_sync_new(deploy_store *s, const char *pg_url, const char *node_id, err *e)
{
    deploy_sync *y = calloc(1, sizeof *y);
    if (!y || !(y->pg_url = strdup(pg_url))) {
        free(y);
        err_setf(e, DUR_ENOMEM, "shared deployments: out of memory");
        return NULL;
    }
    y->s = s;
    y->version = -1;
    snprintf(y->node_id, sizeof y->node_id, "%s", node_id ? node_id : "?");
    return y;
}

void deploy_sync_free(deploy_sync *y)
{
    if (!y)
        return;
    if (y->pg)
        PQfinish(y->pg);
    free(y->pg_url);
    free(y);
}

int deploy_sync_poll(deploy_sync *y, err *e)
{
    if (pg_ensure(y, e) < 0)
        return -1;
    char fp[128];
    tokens_fp(y, fp);
    bool token_write = y->tokens_fp[0] && strcmp(fp, y->tokens_fp) != 0;
    uint64_t served0 = served_fp(y);
    int rc = pull(y, e);
    if (rc < 0)
        return -1;
    if (rc == 1 || !y->tokens_fp[0])
        tokens_fp(y, y->tokens_fp);
    /* Publish under the writer's lock: tokens only this node has (made here with
     * `durable token create`, or kept by an import), or the first store with
     * something deployed when PostgreSQL has none yet. */
    bool first = y->version <= 0 && !store_empty(y);
    if (y->push || token_write || first) {
        bool pulled = false;
        if (deploy__sync_begin(y, &pulled, e) < 0)
            return -1;
        y->push = y->push || token_write || first;
        if (deploy__sync_finish(y, e) < 0)
            return -1;
        rc = rc || pulled;
    }
    /* 1 only when what the shards serve changed (served_fp). */
    if (rc == 1 && served0 != 0 && served_fp(y) == served0)
        rc = 0;
    return rc;
}

/* ---- the poll on the API loop ---- */

static void on_poll(uv_timer_t *t)
{
    api_ctx *a = t->data;
    err e = {0};
    int rc = deploy_sync_poll(a->sync, &e);
    static char last[ERR_MSG_MAX];
    if (rc < 0) {
        if (strcmp(last, e.msg) != 0)   /* once per distinct failure, not every second */
            log_warn("api: %s (retried every heartbeat)", e.msg);
        snprintf(last, sizeof last, "%s", e.msg);
        return;
    }
    if (last[0]) {
        log_info("shared deployments: PostgreSQL reachable again");
        last[0] = 0;
    }
    if (rc == 1 && a->on_change)
        a->on_change(a->ud, NULL);
}

void api__sync_start(api_ctx *a, uv_loop_t *loop)
{
    if (!a->cluster_pg_url || a->sync)
        return;
    err e = {0};
    a->sync = deploy_sync_new(a->store, a->cluster_pg_url,
                              a->cluster ? cluster_node_id(a->cluster) : NULL, &e);
    uv_timer_t *t = a->sync ? malloc(sizeof *t) : NULL;
    if (!t) {
        log_error("api: shared deployments: out of memory; deployments are not shared");
        deploy_sync_free(a->sync);
        a->sync = NULL;
        return;
    }
    uv_timer_init(loop, t);
    t->data = a;
    a->sync_timer = t;
    uint32_t ms = a->cluster_poll_ms ? a->cluster_poll_ms : 1000;
    uv_timer_start(t, on_poll, 0, ms);
}

void api__sync_stop(api_ctx *a)
{
    if (!a->sync_timer)
        return;
    uv_timer_stop(a->sync_timer);
    uv_close(a->sync_timer, (uv_close_cb)free);
    a->sync_timer = NULL;
    deploy_sync_free(a->sync);
    a->sync = NULL;
}
