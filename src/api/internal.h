/* api/internal.h: what the files of src/api share. */
#pragma once
#include <sqlite3.h>

#include "api/api.h"
#include "base/buf.h"

struct deploy_store {
    sqlite3 *db;
    char path[4096];        /* <data>/durable.sqlite, for messages */
    char account[33];
};

/* ---- multipart.c ---- */

#define API_BOUNDARY_MAX 70
#define API_PARTS_MAX 256

typedef struct api_part {
    char name[256];          /* form field name */
    char filename[256];      /* "" when the part has none */
    char content_type[128];  /* "" when the part has none */
    const char *data;        /* borrowed from the body */
    size_t data_len;
} api_part;

/* Splits a multipart/form-data body into parts (borrowing the body). Returns 0
 * with *count parts, or DUR_EPARSE / DUR_ETOOBIG with *e naming the problem. */
int api_multipart_parse(const char *content_type, const char *body, size_t len,
                        api_part *parts, size_t parts_max, size_t *count, err *e);
int api__header_param(const char *v, size_t len, const char *name, char *out, size_t cap);

/* ---- deploy_store.c: shared SQL helpers ---- */

/* Fills e with "<path>: <what>: <sqlite message>" and returns -1. */
int deploy__fail(const deploy_store *s, const char *what, err *e);
/* Column readers that check the stored type: a value durable would not have
 * written is an error naming the file, table and column ("changed by something
 * else"), never a crash or a silent default. */
int deploy__col_text(const deploy_store *s, sqlite3_stmt *st, int col, const char *table,
                     const char **out, err *e);
int deploy__col_int(const deploy_store *s, sqlite3_stmt *st, int col, const char *table,
                    int64_t *out, err *e);
/* Like deploy__col_text, but NULL is allowed (*out = NULL). */
int deploy__col_text_or_null(const deploy_store *s, sqlite3_stmt *st, int col,
                             const char *table, const char **out, err *e);
int64_t deploy__now_ms(void);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void api__hex(const uint8_t *b, size_t n, char *out);

/* ---- json_out.c ---- */
int api__json_str(buf *b, const char *s, size_t len);
int api__json_cstr(buf *b, const char *s);   /* NULL writes null */
int api__json_time(buf *b, int64_t ms);      /* RFC 3339 UTC, microseconds (API-7) */
/* The bindings of a version as JSON array elements (no brackets); secret_text values
 * are not echoed. 0, DUR_ENOMEM, or -1 with *e filled (a store read failed). */
int api__bindings_json(deploy_store *s, buf *b, const char *script, int64_t number, err *e);

/* ---- routes.c ---- */
#include "config/config.h"

typedef struct api_req {
    h1_conn *conn;
    const h1_request *req;
    const char *query;        /* after '?', or NULL */
    char pointer[128];        /* JSON pointer of the offending input, for errors */
    bool log;
    deploy_sync *sync;        /* cluster mode: this request's writer turn, ended by the answer */
} api_req;

/* Answers with the envelope: result is JSON text (NULL: null). */
void api__reply(api_req *r, int status, const char *result, size_t result_len,
                const char *result_info);
void api__reply_err(api_req *r, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void api__store_error(api_req *r, const err *e);
bool api__query(const api_req *r, const char *key, char *out, size_t cap);
int api__query_int(api_req *r, const char *key, long def, long min, long max, bool clamp,
                   long *out);
int api__script_json(buf *b, const deploy_script_info *s);
void api__sha256(const void *p, size_t n, unsigned char out[32]);
/* "<data>/objects/<32 hex of SHA-256(identity)>" (objects/persist.c's name). */
void api__ns_dir(const api_ctx *a, const deploy_ns *ns, char *out, size_t cap);
/* Looks up a deployed (live) script by name into info: 1, or 0 after answering
 * (404 with `code` — 10007, or 10090 under /services — for an unknown name or one
 * with no live version, or the store's error). */
int api__script_lookup(api_ctx *a, api_req *r, const char *name, int code,
                       deploy_script_info *info);
/* DELETE of a script (API-38), also of a Worker (API-40): not_found is the code
 * of the 404 for an unknown name (10007, or 10090 under /services). */
void api__script_delete(api_ctx *a, api_req *r, const char *name, int not_found);
/* materialise.c: writes modules as files under dir (names checked). */
int api__modules_write(const char *dir, const deploy_module *m, size_t n, err *e);

/* ---- upload.c ---- */
/* The JSON body of the request as a tree, or NULL after answering 400. */
cfg_value *api__json_body(api_req *r);
void api__script_put(api_ctx *a, api_req *r, const char *name);
void api__version_create(api_ctx *a, api_req *r, const char *name);
void api__script_version_upload(api_ctx *a, api_req *r, const char *name);
/* Makes stored version `number` of `script` live (API-43): the migrations it
 * carries are applied in the same transaction (old_tag checked against the tag
 * the script has now) and its Durable Object bindings must resolve after them;
 * any failure changes nothing. 0, or -1 after answering. */
int api__version_deploy(api_ctx *a, api_req *r, const char *script, int64_t number);

/* ---- deployments.c ---- */
/* /scripts/{name}/{what}: deployments, versions, settings, script-settings,
 * secrets, subdomain. */
void api__script_sub(api_ctx *a, api_req *r, const char *name, const char *what);
/* GET /scripts/{name}/versions/{id} in wrangler's shape. */
void api__script_version_get(api_ctx *a, api_req *r, const char *name, const char *id);
/* GET /workers/subdomain. */
void api__subdomain(api_ctx *a, api_req *r);

/* ---- workers.c: the Workers and Versions API (API-40..44) ---- */
/* Answers a Version (API-42) of script `name`, number `number`. */
void api__version_reply(api_ctx *a, api_req *r, const char *name, int64_t number);
/* Routes /workers/workers[/...] after authentication; seg[0] is "workers". */
void api__workers_route(api_ctx *a, api_req *r, char **seg, int n);

/* ---- form_meta.c ---- */
bool api__is_flat_meta(const char *name);   /* "metadata[...]" */
/* The flattened metadata fields of a form as JSON text (malloc'd), or NULL with *e. */
char *api__flat_meta_json(const api_part *parts, size_t count, err *e);

/* ---- metrics.c ---- */
/* The metrics in Prometheus' text format, appended to b. */
int api__metrics_text(buf *b);
/* GET /metrics (authenticated like every route). */
void api__metrics(api_ctx *a, api_req *r);

/* ---- cluster_api.c: GET /cluster, POST /cluster/drain (after authentication) ---- */
/* The error code of "the cluster (PostgreSQL) cannot be reached". */
#define API_CODE_CLUSTER 10501
void api__cluster(api_ctx *a, api_req *r, char **seg, int n);

/* ---- deploy_sync.c: the writer's turn in cluster mode (CL-15) ---- */
/* BEGIN + the cluster-wide writer lock in PostgreSQL, then imports a newer shared
 * state (*pulled: the local store changed). 0 or <0 with *e (nothing held). */
int deploy__sync_begin(deploy_sync *y, bool *pulled, err *e);
/* Stores the local state as the next shared version if the request changed it,
 * and ends the turn. 0 or <0 with *e (then the node re-imports at the next poll). */
int deploy__sync_finish(deploy_sync *y, err *e);
/* From api_start / api_stop: when a->cluster_pg_url is set, the sync and its
 * poll timer on the API loop (each poll that imports calls a->on_change). */
void api__sync_start(api_ctx *a, uv_loop_t *loop);
void api__sync_stop(api_ctx *a);

/* ---- secrets.c: /scripts/{name}/secrets[/{secret}] ---- */
void api__secrets(api_ctx *a, api_req *r, const char *script, const char *secret);
/* An upload's bindings plus those of the live version `cur` whose type its
 * metadata lists in keep_bindings and whose name it does not bind (what wrangler
 * asks for secrets to survive a deploy). *out is NULL when nothing is kept;
 * otherwise free it with api__keep_bindings_free. 0, or -1 with *e. */
int api__keep_bindings(deploy_store *s, const cfg_value *meta, const deploy_script_info *cur,
                       const deploy_binding *in, size_t in_n, deploy_binding **out,
                       size_t *out_n, err *e);
void api__keep_bindings_free(deploy_binding *b, size_t n);

/* ---- tails.c: `wrangler tail` and `whoami` ---- */
/* POST /scripts/{name}/tails, DELETE /scripts/{name}/tails/{id}. */
void api__tails(api_ctx *a, api_req *r, const char *script, const char *id);
/* GET /tail/{id} (the WebSocket); answered whether or not it upgrades. */
void api__tail_socket(api_ctx *a, api_req *r, const char *id);
/* /user, /user/tokens/verify, /accounts, /memberships. */
void api__whoami(api_ctx *a, api_req *r, char **seg, int n);

/* ---- objects_io.c: one object's data out and in (docs/export.md) ---- */
/* GET (export) or PUT (import) of …/namespaces/{ns_id}/objects/{hex}/export. */
void api__object_io(api_ctx *a, api_req *r, const char *ns_id, const char *hex);
