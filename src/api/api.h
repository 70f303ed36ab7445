/* api: the control plane of `durable serve` (spec api.md): the deployment store in
 * <data>/durable.sqlite (deploy_store.c), bearer tokens (auth.c), the
 * Cloudflare-compatible REST routes (routes.c) and the multipart reader for
 * uploads (multipart.c). Everything here runs on the API listener's own thread;
 * nothing is shared with the shards except files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "net/h1.h"

struct buf;

/* The deployment store's schema version this binary writes and understands. A
 * store whose version is higher is refused (a newer durable wrote it). */
#define DEPLOY_SCHEMA_VERSION 1

typedef struct deploy_store deploy_store;
typedef struct deploy_sync deploy_sync;
struct cluster;

/* Opens (creating if missing) the deployment tables in <data_dir>/durable.sqlite
 * and checks them: schema version, table shapes, the account id. durability: a
 * STORE_DURABILITY_* value (power: synchronous=FULL). */
int deploy_store_open(const char *data_dir, int durability, deploy_store **out, err *e);
void deploy_store_close(deploy_store *s);
/* The account id of this store: 32 lowercase hex digits, made on first open. */
const char *deploy_store_account(const deploy_store *s);

/* ---- tokens (auth.c) ---- */

#define API_TOKEN_CHARS 72   /* "durable_" + 64 hex */
/* Makes a token named `name`, stores only its SHA-256, and writes the token (for
 * printing once) into token_out and its id (16 hex) into id_out. */
int api_token_create(deploy_store *s, const char *name, char token_out[API_TOKEN_CHARS + 1],
                     char id_out[17], err *e);
/* Marks the token revoked. DUR_ENOTFOUND if no such live token. */
int api_token_revoke(deploy_store *s, const char *id, err *e);
/* Calls cb for every token (revoked ones too). */
int api_token_list(deploy_store *s,
                   void (*cb)(const char *id, const char *name, int64_t created_ms,
                              int64_t revoked_ms, void *ud),
                   void *ud, err *e);
/* 1 when `token` (len bytes) is a live token of the store, 0 when not, <0 on a
 * store error. Compares hashes in constant time against every live token. */
int api_token_check(deploy_store *s, const char *token, size_t len, err *e);

/* ---- the REST API (routes.c) ---- */

#define API_UPLOAD_BYTES_MAX (10u * 1024u * 1024u)  /* larger uploads: 413 (envelope) */

/* What an upload's check is given (API-35): the modules written out to `dir`, and
 * the classes that must be exported (the script's Durable Object namespaces after
 * the upload's migrations). */
typedef struct api_check_in {
    const char *script;
    const char *dir;
    const char *main;          /* absolute path of the main module (or body_part) */
    bool service_worker;
    const char *compat_date;
    bool nodejs_compat;        /* compatibility_flags has "nodejs_compat" */
    const char *const *classes;
    size_t classes_count;
} api_check_in;
/* 0 when the modules load; else -1 with *code (10021: does not parse or throws at
 * load; 10061: a class is not exported) and a message naming the module and the
 * problem in msg. */
typedef int (*api_check_fn)(void *ud, const api_check_in *in, int *code, char *msg, size_t cap);

typedef struct api_ctx {
    deploy_store *store;       /* borrowed */
    const char *data_dir;      /* borrowed: <data>, whose objects/ the listing reads */
    size_t upload_bytes_max;
    /* Called after a commit that changed what a script serves (deploy, delete). */
    void (*on_change)(void *ud, const char *script);
    void *ud;
    api_check_fn check;        /* NULL: uploads are not loaded before they commit */
    void *check_ud;
    /* Cluster mode (docs/cluster.md): the node (borrowed; NULL: not in cluster mode,
     * GET /cluster answers 404) and the PostgreSQL URL the deployments are shared
     * through (CL-15), polled every cluster_poll_ms (0: 1000) from api_start on. */
    struct cluster *cluster;
    const char *cluster_pg_url;
    uint32_t cluster_poll_ms;
    deploy_sync *sync;         /* private: made by api_start when cluster_pg_url is set */
    void *sync_timer;          /* private */
} api_ctx;

/* ---- shared deployments (deploy_sync.c, CL-15) ---- */
/* A sync of store s through PostgreSQL at pg_url (its own connection, made on
 * first use, on the API thread only). node_id names the writer in PostgreSQL. */
deploy_sync *deploy_sync_new(deploy_store *s, const char *pg_url, const char *node_id, err *e);
void deploy_sync_free(deploy_sync *y);
/* Imports a newer shared state, and publishes local-only changes (the first
 * node's store, tokens made with `durable token create`). 1: the local store
 * changed what the shards serve (scripts, live versions, namespaces: reload), 0:
 * nothing new or only tokens, <0 with *e. */
int deploy_sync_poll(deploy_sync *y, err *e);

/* Answers one request of the REST API listener (spec api.md), with the
 * Cloudflare envelope on every JSON answer. */
void api_handle(api_ctx *a, h1_conn *conn, const h1_request *req);
/* The listener's loop, on which `wrangler tail` sockets get their events
 * (api/tails.c): api_start on the API thread before the first request, api_stop
 * there before the listener closes (tail sockets get Close 1001). */
void api_start(api_ctx *a, uv_loop_t *loop);
void api_stop(api_ctx *a);

/* ---- scripts, versions, modules (deploy_scripts.c) ---- */

#define DEPLOY_NAME_MAX 63

typedef struct deploy_module {
    const char *name;
    const char *content_type;
    const char *data;
    size_t len;
} deploy_module;

typedef struct deploy_binding {
    const char *name;
    const char *type;
    const char *json;          /* the binding object as JSON text */
} deploy_binding;

typedef struct deploy_version_in {
    const char *script;
    const char *main_module;   /* or the body_part of a service-worker script */
    bool service_worker;
    const char *compat_date;
    const char *compat_flags_json;   /* a JSON array of strings */
    const deploy_module *modules; size_t modules_count;
    const deploy_binding *bindings; size_t bindings_count;
} deploy_version_in;

typedef struct deploy_script_info {
    char name[DEPLOY_NAME_MAX + 1];
    int64_t created_ms, modified_ms;
    int64_t live_version;      /* 0 = none */
    bool has_tag;
    char migration_tag[256];
    /* of the live version: */
    char version_id[37];
    char main_module[256];
    bool service_worker;
    char compat_date[32];
    char compat_flags[1024];   /* JSON array */
} deploy_script_info;

/* A script name as CFG-5 allows: 1..63 of [a-z0-9_-], not starting or ending
 * with '-'. */
bool deploy_name_valid(const char *name);

/* Transactions around a deploy: everything between begin and commit lands whole
 * or not at all. */
int deploy_tx_begin(deploy_store *s, err *e);
int deploy_tx_commit(deploy_store *s, err *e);
void deploy_tx_rollback(deploy_store *s);

/* Stores a new version of v->script (making the script row if missing) with its
 * modules and bindings; *number is its number (1, 2, …), id its uuid. */
int deploy_version_add(deploy_store *s, const deploy_version_in *v, int64_t *number,
                       char id[37], err *e);
/* Makes version `number` live; tag (NULL: unchanged) becomes the migration tag. */
int deploy_script_set_live(deploy_store *s, const char *script, int64_t number,
                           const char *tag, err *e);
/* 1 and *out filled, 0 no such script, <0 error. */
int deploy_script_get(deploy_store *s, const char *name, deploy_script_info *out, err *e);
int deploy_script_list(deploy_store *s, void (*cb)(const deploy_script_info *, void *),
                       void *ud, err *e);
/* 1 deleted (with its versions, modules, bindings, migrations, namespaces), 0 none. */
int deploy_script_delete(deploy_store *s, const char *name, err *e);
/* The module `name` of version `number`: 1 and the bytes appended to *out (and its
 * content type into ct), 0 none, <0 error. */
int deploy_module_get(deploy_store *s, const char *script, int64_t number, const char *name,
                      struct buf *out, char ct[128], err *e);
/* Calls cb for every module of a version (to write them out as files). */
int deploy_module_each(deploy_store *s, const char *script, int64_t number,
                       int (*cb)(const deploy_module *m, void *ud), void *ud, err *e);
/* Calls cb for every binding of a version. */
int deploy_binding_each(deploy_store *s, const char *script, int64_t number,
                        int (*cb)(const deploy_binding *b, void *ud), void *ud, err *e);

/* ---- Durable Object namespaces (deploy_ns.c) ---- */

typedef struct deploy_ns {
    char id[33];
    char name[256];
    char script[DEPLOY_NAME_MAX + 1];
    char class_name[256];
    bool use_sqlite;
    int64_t created_ms;
    char identity[DEPLOY_NAME_MAX + 258]; /* "<script>/<class at creation>": names the
                                             objects' folder (objects/persist.c); kept
                                             through renames */
} deploy_ns;

int deploy_ns_create(deploy_store *s, const char *name, const char *script,
                     const char *class_name, bool use_sqlite, deploy_ns *out, err *e);
/* By (script, class) or by id / by name: 1 found, 0 not, <0 error. */
int deploy_ns_find(deploy_store *s, const char *script, const char *class_name, deploy_ns *out,
                   err *e);
int deploy_ns_get(deploy_store *s, const char *id, deploy_ns *out, err *e);
int deploy_ns_get_by_name(deploy_store *s, const char *name, deploy_ns *out, err *e);
int deploy_ns_rename(deploy_store *s, const char *script, const char *from, const char *to,
                     err *e);
int deploy_ns_delete(deploy_store *s, const char *id, err *e);
/* transferred_classes (MIG-5): namespace `id` now belongs to class_name of script;
 * its identity (and so its ids and data) stays. */
int deploy_ns_move(deploy_store *s, const char *id, const char *script, const char *class_name,
                   err *e);
/* Up to `limit` namespaces from `offset` in creation order into out; *total is
 * how many there are. */
int deploy_ns_list(deploy_store *s, int64_t offset, int64_t limit, deploy_ns *out, size_t *n,
                   int64_t *total, err *e);
/* Records that migration `tag` of `script` was applied. */
int deploy_migration_record(deploy_store *s, const char *script, const char *tag, err *e);

/* ---- serving what was deployed (materialise.c) ---- */

#include "config/config.h"

bool deploy_module_name_valid(const char *name);
/* Fills *c for the live version of script `want` (NULL: the script deployed most
 * recently) after writing its modules under <data>/scripts/<name>/<version>/.
 * Returns 1 filled (config_fini it), 0 nothing deployed, <0 error. */
int deploy_config_build(deploy_store *s, const char *data_dir, const char *want, config *c,
                        err *e);
/* The same for every script with a live version: *out (count entries, each to
 * config_fini, then free) and *latest the index of the one deployed last (-1:
 * none). 0, or <0 with *e. */
int deploy_config_build_all(deploy_store *s, const char *data_dir, config **out, size_t *count,
                            int *latest, err *e);

/* ---- versions (deploy_scripts.c) ---- */

typedef struct deploy_version_info {
    int64_t number;
    char id[37];
    int64_t created_ms;
    char main_module[256];
    char compat_date[32];
    char compat_flags[1024];
} deploy_version_info;

/* A script row without a version (the Workers API's "create a Worker"). */
int deploy_script_create(deploy_store *s, const char *name, err *e);
/* Version by number (id NULL) or by id: 1 found, 0 not, <0 error. */
int deploy_version_get(deploy_store *s, const char *script, int64_t number, const char *id,
                       deploy_version_info *out, err *e);
/* Deletes version `number` with its modules and bindings (the caller checks it
 * is not live); its number is not given out again. 1 deleted, 0 none. */
int deploy_version_delete(deploy_store *s, const char *script, int64_t number, err *e);
/* The migrations a stored version carries (API-43), applied when it goes live:
 * set (json NULL: cleared) and get (1 and *json malloc'd, 0 none). */
int deploy_version_migrations_set(deploy_store *s, const char *script, int64_t number,
                                  const char *json, err *e);
int deploy_version_migrations_get(deploy_store *s, const char *script, int64_t number,
                                  char **json, err *e);
/* Versions of a script, newest first, from offset; *total counts them all. */
int deploy_version_list(deploy_store *s, const char *script, int64_t offset, int64_t limit,
                        deploy_version_info *out, size_t *n, int64_t *total, err *e);
