/* routes.c: the REST API of `durable serve` (spec api.md): authentication
 * (API-2), the envelope (API-3, API-4), routing and the read endpoints; uploads
 * are in upload.c.
 *
 * Every path is served under /client/v4 and without it (API-1). Order of checks:
 * the route's shape (404 code 7000 for an unknown path), the bearer token (400
 * 6003 without a well-formed one, 403 10000 for an unknown or revoked one: nothing
 * is read or changed before this), the account id (400 7003 malformed, 403 10000
 * another account), then the method (405) and the resource. */
#include "api/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/log.h"
#include "objects/objects.h"

#define RESULT_BYTES_MAX (64u * 1024u * 1024u)

/* Ends the writer's turn (sync_begin) before the answer leaves, so a success is
 * sent only once PostgreSQL holds the change. False when that failed: a 503 went
 * out instead. */
static bool sync_done(api_req *r)
{
    deploy_sync *y = r->sync;
    if (!y)
        return true;
    r->sync = NULL;
    err e = {0};
    if (deploy__sync_finish(y, &e) == 0)
        return true;
    log_error("api: %s", e.msg);
    if (e.code == DUR_ETOOBIG)   /* the shared image's bound: the deploy is too big */
        api__reply_err(r, 413, API_CODE_CLUSTER, "the change is refused and undone on this node "
                       "at the next heartbeat: %s", e.msg);
    else
        api__reply_err(r, 503, API_CODE_CLUSTER, "the change could not be shared with the "
                       "cluster and is undone on this node at the next heartbeat: %s", e.msg);
    return false;
}

void api__reply(api_req *r, int status, const char *result, size_t result_len,
                const char *result_info)
{
    if (!sync_done(r))
        return;
    buf b;
    buf_init(&b, RESULT_BYTES_MAX);
    int rc = buf_append_str(&b, "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":");
    if (rc == 0)
        rc = result ? buf_append(&b, result, result_len) : buf_append_str(&b, "null");
    if (rc == 0 && result_info)
        rc = buf_printf(&b, ",\"result_info\":%s", result_info);
    if (rc == 0)
        rc = buf_append_str(&b, "}");
    if (rc != 0) {
        buf_fini(&b);
        api__reply_err(r, 500, 10000, "the answer is too large to send");
        return;
    }
    h1_header h[] = {{"Content-Type", 12, "application/json", 16}};
    if (r->log)   /* before responding: the request is gone after */
        log_info("api %s %s %d", r->req->method, r->req->target, status);
    h1_conn_respond(r->conn, status, h, 1, b.ptr, b.len);
    buf_fini(&b);
}

void api__reply_err(api_req *r, int status, int code, const char *fmt, ...)
{
    if (!sync_done(r))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf b;
    buf_init(&b, 8192);
    buf_printf(&b, "{\"success\":false,\"errors\":[{\"code\":%d,\"message\":", code);
    api__json_cstr(&b, msg);
    if (r->pointer[0]) {
        buf_append_str(&b, ",\"source\":{\"pointer\":");
        api__json_cstr(&b, r->pointer);
        buf_append_str(&b, "}");
    }
    if (code == 6003)
        buf_append_str(&b, ",\"error_chain\":[{\"code\":6111,\"message\":\"Invalid format for "
                           "Authorization header\"}]");
    buf_append_str(&b, "}],\"messages\":[],\"result\":null}");
    /* The SDK retries 408/409/429/5xx unless told not to (API-5). */
    h1_header h[2] = {{"Content-Type", 12, "application/json", 16},
                      {"x-should-retry", 14, "false", 5}};
    bool no_retry = status == 408 || status == 409 || status == 429 || status >= 500;
    if (r->log)   /* before responding: the request is gone after */
        log_info("api %s %s %d (%d: %s)", r->req->method, r->req->target, status, code, msg);
    h1_conn_respond(r->conn, status, h, no_retry ? 2 : 1, b.ptr, b.len);
    buf_fini(&b);
}

/* ---- the query string ---- */

/* The value of `key` in the query (percent-decoding %XX and '+'), or NULL. */
bool api__query(const api_req *r, const char *key, char *out, size_t cap)
{
    const char *q = r->query;
    size_t klen = strlen(key);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > klen && strncmp(q, key, klen) == 0 && q[klen] == '=') {
            size_t o = 0;
            for (size_t i = klen + 1; i < len && o + 1 < cap; i++) {
                char c = q[i];
                if (c == '+')
                    c = ' ';
                else if (c == '%' && i + 2 < len) {
                    char hex[3] = {q[i + 1], q[i + 2], 0};
                    char *end;
                    long v = strtol(hex, &end, 16);
                    if (*end == '\0' && hex[0] && hex[1]) {
                        c = (char)v;
                        i += 2;
                    }
                }
                out[o++] = c;
            }
            out[o] = '\0';
            return true;
        } else if (len == klen && strncmp(q, key, klen) == 0) {
            out[0] = '\0';
            return true;
        }
        q = amp ? amp + 1 : NULL;
    }
    return false;
}

/* A whole number in [min, max] from the query; absent: def. Returns -1 after
 * answering 400 when the value is not one. */
int api__query_int(api_req *r, const char *key, long def, long min, long max, bool clamp,
                   long *out)
{
    char v[64];
    if (!api__query(r, key, v, sizeof v)) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || !v[0] || *end || (!clamp && (n < min || n > max)) || (clamp && n < 1)) {
        snprintf(r->pointer, sizeof r->pointer, "/%s", key);
        api__reply_err(r, 400, 10001, "query parameter %s must be a whole number from %ld to "
                       "%ld, got '%.40s'", key, clamp ? 1 : min, max, v);
        return -1;
    }
    *out = n < min ? min : n > max ? max : n;
    return 0;
}

/* ---- authentication (API-2) ---- */

static const h1_header *header(const h1_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return &req->headers[i];
    return NULL;
}

static int authenticate(api_ctx *a, api_req *r)
{
    const h1_header *h = header(r->req, "Authorization");
    if (!h || h->value_len < 8 || strncasecmp(h->value, "Bearer ", 7) != 0 || h->value[7] == ' ') {
        api__reply_err(r, 400, 6003, "Invalid request headers: expected Authorization: Bearer "
                       "<token> (make one with `durable token create`)");
        return -1;
    }
    err e = {0};
    int ok = api_token_check(a->store, h->value + 7, h->value_len - 7, &e);
    if (ok < 0) {
        log_error("api: %s", e.msg);
        api__reply_err(r, 500, 10000, "could not check the token: %s", e.msg);
        return -1;
    }
    if (!ok) {
        api__reply_err(r, 403, 10000, "Authentication error: the token is unknown or revoked");
        return -1;
    }
    return 0;
}

/* Cluster mode (CL-15): a request that may change the deployments runs as the
 * cluster's one writer, on the latest shared state (deploy_sync.c); the turn is
 * closed by the answer (sync_done). */
static int sync_begin(api_ctx *a, api_req *r)
{
    if (!a->sync || strcmp(r->req->method, "GET") == 0 || strcmp(r->req->method, "HEAD") == 0)
        return 0;
    err e = {0};
    bool pulled = false;
    if (deploy__sync_begin(a->sync, &pulled, &e) < 0) {
        log_error("api: %s", e.msg);
        api__reply_err(r, 503, API_CODE_CLUSTER, "the cluster's shared deployments cannot be "
                       "reached, nothing was changed: %s", e.msg);
        return -1;
    }
    if (pulled && a->on_change)
        a->on_change(a->ud, NULL);
    r->sync = a->sync;
    return 0;
}

/* ---- namespaces and objects (API-10..24) ---- */

static int ns_json(buf *b, const deploy_ns *ns)
{
    int rc = buf_append_str(b, "{\"id\":");
    rc = rc ? rc : api__json_cstr(b, ns->id);
    rc = rc ? rc : buf_append_str(b, ",\"name\":");
    rc = rc ? rc : api__json_cstr(b, ns->name);
    rc = rc ? rc : buf_append_str(b, ",\"script\":");
    rc = rc ? rc : api__json_cstr(b, ns->script);
    rc = rc ? rc : buf_append_str(b, ",\"class\":");
    rc = rc ? rc : api__json_cstr(b, ns->class_name);
    rc = rc ? rc : buf_printf(b, ",\"use_sqlite\":%s}", ns->use_sqlite ? "true" : "false");
    return rc;
}

void api__store_error(api_req *r, const err *e)
{
    log_error("api: %s", e->msg);
    api__reply_err(r, 500, 10000, "internal error: %s", e->msg);
}

static void ns_list(api_ctx *a, api_req *r)
{
    long page, per_page;
    if (api__query_int(r, "page", 1, 1, 1000000000L, false, &page) < 0 ||
        api__query_int(r, "per_page", 20, 1, 100, true, &per_page) < 0)
        return;
    deploy_ns *items = calloc((size_t)per_page, sizeof *items);
    if (!items)
        return api__reply_err(r, 500, 10000, "out of memory");
    size_t n;
    int64_t total;
    err e = {0};
    if (deploy_ns_list(a->store, (int64_t)(page - 1) * per_page, per_page, items, &n, &total,
                       &e) < 0) {
        free(items);
        return api__store_error(r, &e);
    }
    buf b;
    buf_init(&b, RESULT_BYTES_MAX);
    int rc = buf_append_str(&b, "[");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = buf_append_str(&b, ",");
        rc = rc ? rc : ns_json(&b, &items[i]);
    }
    rc = rc ? rc : buf_append_str(&b, "]");
    free(items);
    char info[256];
    snprintf(info, sizeof info, "{\"page\":%ld,\"per_page\":%ld,\"count\":%zu,\"total_count\":%lld,"
             "\"total_pages\":%lld}", page, per_page, n, (long long)total,
             (long long)((total + per_page - 1) / per_page));
    if (rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b.ptr, b.len, info);
    buf_fini(&b);
}

static void ns_create(api_ctx *a, api_req *r)
{
    err e = {0};
    cfg_value *body = api__json_body(r);
    if (!body)
        return;
    const char *keys[] = {"name", "script", "class"};
    const char *vals[3];
    for (int i = 0; i < 3; i++) {
        const cfg_value *v = cfg_table_get(body, keys[i]);
        if (!v || v->type != CFG_STRING || !v->str[0]) {
            snprintf(r->pointer, sizeof r->pointer, "/%s", keys[i]);
            api__reply_err(r, 400, 10001, "'%s' must be a non-empty string", keys[i]);
            cfg_value_free(body);
            return;
        }
        vals[i] = v->str;
    }
    deploy_script_info info;
    deploy_ns ns;
    int got = deploy_script_get(a->store, vals[1], &info, &e);
    if (got < 0) {
        api__store_error(r, &e);
    } else if (got == 0) {
        snprintf(r->pointer, sizeof r->pointer, "/script");
        api__reply_err(r, 400, 10007, "script '%s' does not exist: upload it first", vals[1]);
    } else if ((got = deploy_ns_find(a->store, vals[1], vals[2], &ns, &e)) != 0) {
        if (got < 0)
            api__store_error(r, &e);
        else
            api__reply_err(r, 400, 10065, "class '%s' of script '%s' already has a namespace "
                           "(%s)", vals[2], vals[1], ns.id);
    } else if ((got = deploy_ns_get_by_name(a->store, vals[0], &ns, &e)) != 0) {
        if (got < 0)
            api__store_error(r, &e);
        else
            api__reply_err(r, 400, 10065, "a namespace named '%s' already exists (%s)",
                           vals[0], ns.id);
    } else if (deploy_tx_begin(a->store, &e) < 0 ||
               deploy_ns_create(a->store, vals[0], vals[1], vals[2], false, &ns, &e) < 0 ||
               deploy_tx_commit(a->store, &e) < 0) {
        deploy_tx_rollback(a->store);
        api__store_error(r, &e);
    } else {
        buf b;
        buf_init(&b, 4096);
        ns_json(&b, &ns);
        api__reply(r, 200, b.ptr, b.len, NULL);
        buf_fini(&b);
        if (a->on_change)
            a->on_change(a->ud, vals[1]);
    }
    cfg_value_free(body);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* hasStoredData (API-22): a KV key, a user table, or an alarm (_cf_METADATA row).
 * An object live in a shard holds its database exclusively (storage/db.c), so it
 * cannot be read from here: its file exists only because something was written
 * (storage creates it on the first write), and it counts as having data. */
static bool has_stored_data(const char *path)
{
    sqlite3 *db = NULL;
    bool any = false;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        static const char *const checks[] = {
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' "
            "ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' LIMIT 1",
            "SELECT 1 FROM _cf_KV LIMIT 1",
            "SELECT 1 FROM _cf_METADATA LIMIT 1",
        };
        for (size_t i = 0; i < 3 && !any; i++) {
            sqlite3_stmt *st = NULL;
            int rc = sqlite3_prepare_v2(db, checks[i], -1, &st, NULL);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
            any = rc == SQLITE_ROW || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
            sqlite3_finalize(st);
        }
    } else {
        any = true;   /* cannot be opened: held, as above */
    }
    sqlite3_close(db);
    return any;
}

static void objects_list(api_ctx *a, api_req *r, const char *ns_id)
{
    if (!obj_hex_is(ns_id, 32))
        return api__reply_err(r, 400, 7003, "Could not route to %s, perhaps your object "
                              "identifier is invalid? (a namespace id is 32 hex digits)",
                              r->req->target);
    long limit;
    char cursor[80] = "";
    if (api__query_int(r, "limit", 1000, 10, 10000, true, &limit) < 0)
        return;
    if (api__query(r, "cursor", cursor, sizeof cursor) && cursor[0] && !obj_hex_is(cursor, 64)) {
        snprintf(r->pointer, sizeof r->pointer, "/cursor");
        return api__reply_err(r, 400, 10001, "cursor '%.80s' is not one this server returned",
                              cursor);
    }
    deploy_ns ns;
    err e = {0};
    int got = deploy_ns_get(a->store, ns_id, &ns, &e);
    if (got < 0)
        return api__store_error(r, &e);
    if (got == 0)
        return api__reply_err(r, 404, 10064, "namespace %s not found", ns_id);
    char dir[4096];
    api__ns_dir(a, &ns, dir, sizeof dir);
    /* Ids after the cursor, sorted; only limit + 1 are kept (to know if more follow). */
    size_t cap = (size_t)limit + 1, n = 0;
    char **ids = calloc(cap + 1, sizeof *ids);
    if (!ids)
        return api__reply_err(r, 500, 10000, "out of memory");
    /* <ns dir>/<first 2 hex of the id>/<id>.sqlite (objects/persist.c). */
    DIR *top = opendir(dir);
    struct dirent *sub;
    while (top && (sub = readdir(top))) {
        if (strlen(sub->d_name) != 2 || !obj_hex_is(sub->d_name, 2))
            continue;
        char subdir[4200];
        snprintf(subdir, sizeof subdir, "%s/%.2s", dir, sub->d_name); /* d_name is 2 long */
        DIR *d = opendir(subdir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            size_t len = strlen(de->d_name);
            if (len != 64 + 7 || strcmp(de->d_name + 64, ".sqlite") != 0 ||
                strncmp(de->d_name, sub->d_name, 2) != 0)
                continue;
            char id[65];
            memcpy(id, de->d_name, 64);
            id[64] = '\0';
            if (!obj_hex_is(id, 64) || (cursor[0] && strcmp(id, cursor) <= 0))
                continue;
            if (n == cap) {
                /* Keep the smallest `cap`: drop the largest if this one is smaller. */
                qsort(ids, n, sizeof *ids, cmp_str);
                if (strcmp(id, ids[n - 1]) >= 0)
                    continue;
                free(ids[--n]);
            }
            ids[n] = strdup(id);
            if (ids[n])
                n++;
        }
        if (d)
            closedir(d);
    }
    if (top)
        closedir(top);
    qsort(ids, n, sizeof *ids, cmp_str);
    bool more = n > (size_t)limit;
    size_t count = more ? (size_t)limit : n;
    buf b;
    buf_init(&b, RESULT_BYTES_MAX);
    int rc = buf_append_str(&b, "[");
    char path[4200];
    for (size_t i = 0; i < count && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%.2s/%s.sqlite", dir, ids[i], ids[i]);
        rc = buf_printf(&b, "%s{\"id\":\"%s\",\"hasStoredData\":%s}", i ? "," : "", ids[i],
                        has_stored_data(path) ? "true" : "false");
    }
    rc = rc ? rc : buf_append_str(&b, "]");
    char info[256];
    if (more)
        snprintf(info, sizeof info, "{\"count\":%zu,\"cursor\":\"%s\",\"cursors\":{\"after\":"
                 "\"%s\"}}", count, ids[count - 1], ids[count - 1]);
    else
        snprintf(info, sizeof info, "{\"count\":%zu,\"cursor\":\"\",\"cursors\":{}}", count);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    if (rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b.ptr, b.len, info);
    buf_fini(&b);
}

/* ---- scripts: list, get, delete, services (API-36..38) ---- */

typedef struct list_ctx {
    buf *b;
    int rc;
    bool first;
} list_ctx;

int api__script_json(buf *b, const deploy_script_info *s)
{
    int rc = buf_append_str(b, "{\"id\":");
    rc = rc ? rc : api__json_cstr(b, s->name);
    rc = rc ? rc : buf_printf(b, ",\"etag\":\"%s\",\"created_on\":", s->version_id);
    rc = rc ? rc : api__json_time(b, s->created_ms);
    rc = rc ? rc : buf_append_str(b, ",\"modified_on\":");
    rc = rc ? rc : api__json_time(b, s->modified_ms);
    rc = rc ? rc : buf_printf(b, ",\"handlers\":[\"fetch\"],\"has_modules\":%s,"
                              "\"compatibility_date\":", s->service_worker ? "false" : "true");
    rc = rc ? rc : api__json_cstr(b, s->compat_date);
    rc = rc ? rc : buf_printf(b, ",\"compatibility_flags\":%s,\"usage_model\":\"standard\","
                              "\"startup_time_ms\":0,\"deployment_id\":\"%s\"",
                              s->compat_flags[0] ? s->compat_flags : "[]", s->version_id);
    if (s->has_tag) {
        rc = rc ? rc : buf_append_str(b, ",\"migration_tag\":");
        rc = rc ? rc : api__json_cstr(b, s->migration_tag);
    }
    return rc ? rc : buf_append_str(b, "}");
}

static void on_script(const deploy_script_info *s, void *ud)
{
    list_ctx *l = ud;
    if (!s->live_version)
        return;   /* a Worker made by the Workers API with no version yet */
    if (l->rc == 0 && !l->first)
        l->rc = buf_append_str(l->b, ",");
    l->first = false;
    if (l->rc == 0)
        l->rc = api__script_json(l->b, s);
}

static void scripts_list(api_ctx *a, api_req *r)
{
    buf b;
    buf_init(&b, RESULT_BYTES_MAX);
    list_ctx l = {&b, buf_append_str(&b, "["), true};
    err e = {0};
    if (deploy_script_list(a->store, on_script, &l, &e) < 0) {
        buf_fini(&b);
        return api__store_error(r, &e);
    }
    if (l.rc == 0)
        l.rc = buf_append_str(&b, "]");
    if (l.rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b.ptr, b.len, NULL);
    buf_fini(&b);
}

int api__script_lookup(api_ctx *a, api_req *r, const char *name, int code,
                       deploy_script_info *info)
{
    err e = {0};
    int got = deploy_name_valid(name) ? deploy_script_get(a->store, name, info, &e) : 0;
    if (got < 0)
        api__store_error(r, &e);
    else if (got == 0 || info->live_version == 0)
        api__reply_err(r, 404, code, "This Worker does not exist on your account (script '%s' "
                       "not found)", name);
    return got > 0 && info->live_version ? 1 : 0;
}

static void script_get(api_ctx *a, api_req *r, const char *name)
{
    deploy_script_info info;
    if (api__script_lookup(a, r, name, 10007, &info) != 1)
        return;
    buf b;
    buf_init(&b, RESULT_BYTES_MAX);
    char ct[128];
    err e = {0};
    int got = deploy_module_get(a->store, name, info.live_version, info.main_module, &b, ct, &e);
    if (got <= 0) {
        if (got == 0)
            err_setf(&e, DUR_EINVAL, "the main module '%s' of script '%s' is missing",
                     info.main_module, name);
        buf_fini(&b);
        return api__store_error(r, &e);
    }
    h1_header h[] = {{"Content-Type", 12, "application/javascript", 22}};
    log_info("api %s %s 200", r->req->method, r->req->target);
    h1_conn_respond(r->conn, 200, h, 1, b.ptr, b.len);
    buf_fini(&b);
}

/* The objects folder of a namespace (objects/persist.c names it by identity). */
void api__ns_dir(const api_ctx *a, const deploy_ns *ns, char *out, size_t cap)
{
    unsigned char h[32];
    char hex[33];
    api__sha256(ns->identity, strlen(ns->identity), h);
    api__hex(h, 16, hex);
    snprintf(out, cap, "%s/objects/%s", a->data_dir, hex);
}

static bool dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool any = false;
    while (d && !any && (de = readdir(d)))
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    if (d)
        closedir(d);
    return any;
}

/* Other scripts whose live version binds one of the namespaces `ns` of script
 * `owner` (by namespace_id, or by class_name with script_name): their names and
 * bindings go into `out`, "" when none. */
typedef struct ns_binders {
    deploy_store *store;
    const char *owner;
    const deploy_ns *ns;
    size_t ns_count;
    const char *script;        /* the one being read */
    char *out;
    size_t cap;
    bool full;
} ns_binders;

static const char *json_str(const cfg_value *t, const char *key)
{
    const cfg_value *v = t && t->type == CFG_TABLE ? cfg_table_get(t, key) : NULL;
    return v && v->type == CFG_STRING ? v->str : NULL;
}

static int on_ns_binding(const deploy_binding *db, void *ud)
{
    ns_binders *x = ud;
    if (strcmp(db->type, "durable_object_namespace") != 0)
        return 0;
    err pe = {0};
    cfg_value *v = jsonc_parse("binding", db->json, strlen(db->json), &pe);
    const char *id = json_str(v, "namespace_id"), *cls = json_str(v, "class_name");
    const char *sn = json_str(v, "script_name");
    for (size_t i = 0; i < x->ns_count; i++) {
        bool hit = id ? strcmp(id, x->ns[i].id) == 0
                      : cls && sn && strcmp(sn, x->owner) == 0 &&
                        strcmp(cls, x->ns[i].class_name) == 0;
        if (!hit)
            continue;
        size_t len = strlen(x->out);
        int n = snprintf(x->out + len, x->cap - len, "%sscript '%s' (binding '%s' to %s)",
                         len ? ", " : "", x->script, db->name, x->ns[i].name);
        if (n < 0 || (size_t)n >= x->cap - len) {
            x->out[len] = '\0';
            x->full = true;
        }
        break;
    }
    cfg_value_free(v);
    return 0;
}

static void on_binder(const deploy_script_info *si, void *ud)
{
    ns_binders *x = ud;
    if (x->full || !si->live_version || strcmp(si->name, x->owner) == 0)
        return;
    x->script = si->name;
    err e = {0};
    if (deploy_binding_each(x->store, si->name, si->live_version, on_ns_binding, x, &e) < 0) {
        size_t len = strlen(x->out);
        snprintf(x->out + len, x->cap - len, "%sscript '%s' (its bindings cannot be read: "
                 "%.200s)", len ? ", " : "", si->name, e.msg);
    }
}

/* DELETE (API-38): without force=true, a script whose namespaces hold objects or
 * are bound by another deployed script is kept (400 10066, naming them): the
 * other script's binding would reach nothing. With it, their objects' files go
 * too, after the commit. A namespace's folder is named by "<script>/<class>", so files left
 * behind would reappear in a namespace made later for the same name; so would the
 * modules under <data>/scripts/<name>/ in a script made later (version numbers
 * start again at 1), and they go as well. An unknown
 * script is 404 `not_found`: 10007 under /scripts, 10090 under /services. */
void api__script_delete(api_ctx *a, api_req *r, const char *name, int not_found)
{
    deploy_script_info info;
    err e = {0};
    int got = deploy_name_valid(name) ? deploy_script_get(a->store, name, &info, &e) : 0;
    if (got < 0)
        return api__store_error(r, &e);
    if (got == 0)
        return api__reply_err(r, 404, not_found, "This Worker does not exist on your account "
                              "(script '%s' not found)", name);
    char force[8] = "";
    api__query(r, "force", force, sizeof force);
    deploy_ns *all = calloc(1000, sizeof *all);
    size_t n = 0;
    int64_t total;
    if (!all)
        return api__reply_err(r, 500, 10000, "out of memory");
    if (deploy_ns_list(a->store, 0, 1000, all, &n, &total, &e) < 0) {
        free(all);
        return api__store_error(r, &e);
    }
    char dir[4200], held[600] = "";
    size_t mine = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].script, name) != 0)
            continue;
        all[mine++] = all[i];
        api__ns_dir(a, &all[i], dir, sizeof dir);
        if (dir_has_entries(dir) && strlen(held) + strlen(all[i].name) + 3 < sizeof held)
            snprintf(held + strlen(held), sizeof held - strlen(held), "%s%s", held[0] ? ", " : "",
                     all[i].name);
    }
    if (held[0] && strcmp(force, "true") != 0) {
        free(all);
        return api__reply_err(r, 400, 10066, "script '%s' still has Durable Object data in the "
                              "namespaces %s; delete with ?force=true to delete it too", name,
                              held);
    }
    char bound[900] = "";
    ns_binders nb = {.store = a->store, .owner = name, .ns = all, .ns_count = mine,
                     .out = bound, .cap = sizeof bound};
    if (mine && strcmp(force, "true") != 0 &&
        deploy_script_list(a->store, on_binder, &nb, &e) < 0) {
        free(all);
        return api__store_error(r, &e);
    }
    if (bound[0]) {
        free(all);
        return api__reply_err(r, 400, 10066, "script '%s' has Durable Object namespaces that "
                              "other Workers bind: %s%s; deploy those without the binding first, "
                              "or delete with ?force=true (their binding then reaches nothing)",
                              name, bound, nb.full ? ", …" : "");
    }
    if (deploy_tx_begin(a->store, &e) < 0 || deploy_script_delete(a->store, name, &e) < 0 ||
        deploy_tx_commit(a->store, &e) < 0) {
        deploy_tx_rollback(a->store);
        free(all);
        return api__store_error(r, &e);
    }
    for (size_t i = 0; i < mine; i++) {
        api__ns_dir(a, &all[i], dir, sizeof dir);
        if (fs_rm_rf(dir, &e) < 0)
            log_warn("api: deleting the objects of %s: %s", all[i].name, e.msg);
    }
    free(all);
    snprintf(dir, sizeof dir, "%s/scripts/%s", a->data_dir, name);
    if (fs_rm_rf(dir, &e) < 0)
        log_warn("api: deleting the modules of %s: %s", name, e.msg);
    api__reply(r, 200, NULL, 0, NULL);
    if (a->on_change)
        a->on_change(a->ud, name);
}

/* GET /workers/services/{name}: what wrangler asks first (clients.md §2 call 1, 5). */
static void service_get(api_ctx *a, api_req *r, const char *name)
{
    deploy_script_info info;
    if (api__script_lookup(a, r, name, 10090, &info) != 1)
        return;
    buf b;
    buf_init(&b, 64 * 1024);
    int rc = buf_append_str(&b, "{\"id\":");
    rc = rc ? rc : api__json_cstr(&b, name);
    rc = rc ? rc : buf_append_str(&b, ",\"default_environment\":{\"environment\":\"production\","
                                      "\"script\":");
    rc = rc ? rc : api__script_json(&b, &info);
    rc = rc ? rc : buf_append_str(&b, "}}");
    if (rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b.ptr, b.len, NULL);
    buf_fini(&b);
}

/* ---- routing ---- */

static void method_not_allowed(api_req *r, const char *allowed)
{
    api__reply_err(r, 405, 10000, "method %s is not allowed here; use %s", r->req->method,
                   allowed);
}

static bool is(const api_req *r, const char *m)
{
    return strcmp(r->req->method, m) == 0;
}

static void route(api_ctx *a, api_req *r)
{
    const h1_request *req = r->req;
    /* The path without the query, split into segments. */
    char path[2048];
    size_t plen = strcspn(req->target, "?");
    if (plen >= sizeof path)
        return api__reply_err(r, 404, 7000, "No route for that URI");
    memcpy(path, req->target, plen);
    path[plen] = '\0';
    r->query = req->target[plen] == '?' ? req->target + plen + 1 : NULL;
    char *p = path;
    if (strncmp(p, "/client/v4/", 11) == 0)
        p += 10;
    char *seg[12];
    int n = 0;
    for (char *t = strtok(p, "/"); t; t = strtok(NULL, "/")) {
        if (n == 12)
            return api__reply_err(r, 404, 7000, "No route for that URI");
        seg[n++] = t;
    }
    /* Outside /accounts: metrics, the tail WebSocket (its id admits it), cluster, whoami. */
    if (n == 1 && strcmp(seg[0], "metrics") == 0) {
        if (authenticate(a, r) < 0)
            return;
        if (!is(r, "GET"))
            return method_not_allowed(r, "GET");
        return api__metrics(a, r);
    }
    if (n == 2 && strcmp(seg[0], "tail") == 0)
        return api__tail_socket(a, r, seg[1]);
    if (n >= 1 && strcmp(seg[0], "cluster") == 0) {
        if (authenticate(a, r) < 0)
            return;
        return api__cluster(a, r, seg, n);
    }
    if ((n == 1 && (strcmp(seg[0], "user") == 0 || strcmp(seg[0], "accounts") == 0 ||
                    strcmp(seg[0], "memberships") == 0)) ||
        (n == 3 && strcmp(seg[0], "user") == 0 && strcmp(seg[1], "tokens") == 0 &&
         strcmp(seg[2], "verify") == 0)) {
        if (authenticate(a, r) < 0)
            return;
        return api__whoami(a, r, seg, n);
    }
    bool known = n >= 4 && strcmp(seg[0], "accounts") == 0 && strcmp(seg[2], "workers") == 0 &&
                 ((n == 4 && strcmp(seg[3], "scripts") == 0) ||
                  (n == 5 && strcmp(seg[3], "scripts") == 0) ||
                  (n == 5 && strcmp(seg[3], "services") == 0) ||
                  (n == 4 && strcmp(seg[3], "subdomain") == 0) ||
                  (n == 7 && strcmp(seg[3], "scripts") == 0 &&
                   (strcmp(seg[5], "versions") == 0 || strcmp(seg[5], "secrets") == 0 ||
                    strcmp(seg[5], "tails") == 0)) ||
                  (n == 6 && strcmp(seg[3], "scripts") == 0 && strcmp(seg[5], "tails") == 0) ||
                  (n == 6 && strcmp(seg[3], "scripts") == 0 &&
                   (strcmp(seg[5], "deployments") == 0 || strcmp(seg[5], "versions") == 0 ||
                    strcmp(seg[5], "settings") == 0 || strcmp(seg[5], "script-settings") == 0 ||
                    strcmp(seg[5], "secrets") == 0 || strcmp(seg[5], "subdomain") == 0 ||
                    strcmp(seg[5], "references") == 0)) ||
                  (n >= 4 && n <= 7 && strcmp(seg[3], "workers") == 0 &&
                   (n < 6 || strcmp(seg[5], "versions") == 0)) ||
                  (n == 5 && strcmp(seg[3], "durable_objects") == 0 &&
                   strcmp(seg[4], "namespaces") == 0) ||
                  (n == 7 && strcmp(seg[3], "durable_objects") == 0 &&
                   strcmp(seg[4], "namespaces") == 0 && strcmp(seg[6], "objects") == 0) ||
                  (n == 9 && strcmp(seg[3], "durable_objects") == 0 &&
                   strcmp(seg[4], "namespaces") == 0 && strcmp(seg[6], "objects") == 0 &&
                   strcmp(seg[8], "export") == 0));
    /* Lists wrangler reads and durable has nothing for (clients.md, `delete`). */
    bool empty_list = n >= 4 && strcmp(seg[0], "accounts") == 0 &&
                      ((n == 4 && strcmp(seg[2], "containers") == 0 &&
                        strcmp(seg[3], "applications") == 0) ||
                       (n == 5 && strcmp(seg[2], "storage") == 0 && strcmp(seg[3], "kv") == 0 &&
                        strcmp(seg[4], "namespaces") == 0) ||
                       (n == 6 && strcmp(seg[2], "workers") == 0 &&
                        strcmp(seg[3], "tails") == 0 && strcmp(seg[4], "by-consumer") == 0));
    if (!known && !empty_list)
        return api__reply_err(r, 404, 7000, "No route for that URI");
    if (authenticate(a, r) < 0 || sync_begin(a, r) < 0)
        return;
    if (!obj_hex_is(seg[1], 32))
        return api__reply_err(r, 400, 7003, "Could not route to %s, perhaps your object "
                              "identifier is invalid? (an account id is 32 hex digits)",
                              req->target);
    if (strcmp(seg[1], deploy_store_account(a->store)) != 0)
        return api__reply_err(r, 403, 10000, "Authentication error: the token is not valid "
                              "for account %s", seg[1]);
    if (empty_list) {
        if (!is(r, "GET"))
            return method_not_allowed(r, "GET");
        return api__reply(r, 200, "[]", 2, n == 5 ? "{\"page\":1,\"per_page\":100,"
                          "\"count\":0,\"total_count\":0,\"total_pages\":0}" : NULL);
    }
    if (strcmp(seg[3], "workers") == 0)
        return api__workers_route(a, r, seg + 3, n - 3);
    if (strcmp(seg[3], "subdomain") == 0)
        return api__subdomain(a, r);
    if (strcmp(seg[3], "scripts") == 0 && n >= 6 && strcmp(seg[5], "secrets") == 0)
        return api__secrets(a, r, seg[4], n == 7 ? seg[6] : NULL);
    if (strcmp(seg[3], "scripts") == 0 && n >= 6 && strcmp(seg[5], "tails") == 0)
        return api__tails(a, r, seg[4], n == 7 ? seg[6] : NULL);
    if (strcmp(seg[3], "scripts") == 0 && n == 7)
        return api__script_version_get(a, r, seg[4], seg[6]);
    if (strcmp(seg[3], "scripts") == 0 && n == 6)
        return api__script_sub(a, r, seg[4], seg[5]);
    if (strcmp(seg[3], "scripts") == 0 && n == 4) {
        if (!is(r, "GET"))
            return method_not_allowed(r, "GET");
        return scripts_list(a, r);
    }
    if (strcmp(seg[3], "scripts") == 0) {
        if (is(r, "GET"))
            return script_get(a, r, seg[4]);
        if (is(r, "PUT"))
            return api__script_put(a, r, seg[4]);
        if (is(r, "DELETE"))
            return api__script_delete(a, r, seg[4], 10007);
        return method_not_allowed(r, "GET, PUT or DELETE");
    }
    if (strcmp(seg[3], "services") == 0) {
        if (is(r, "DELETE"))   /* what `wrangler delete` sends */
            return api__script_delete(a, r, seg[4], 10090);
        if (!is(r, "GET"))
            return method_not_allowed(r, "GET or DELETE");
        return service_get(a, r, seg[4]);
    }
    if (n == 5) {
        if (is(r, "GET"))
            return ns_list(a, r);
        if (is(r, "POST"))
            return ns_create(a, r);
        return method_not_allowed(r, "GET or POST");
    }
    if (n == 9)
        return api__object_io(a, r, seg[5], seg[7]);
    if (!is(r, "GET"))
        return method_not_allowed(r, "GET");
    objects_list(a, r, seg[5]);
}

void api_handle(api_ctx *a, h1_conn *conn, const h1_request *req)
{
    api_req r = {.conn = conn, .req = req, .log = true};
    route(a, &r);
    if (r.sync) {   /* answered without api__reply: close the writer's turn anyway */
        deploy_sync *y = r.sync;
        r.sync = NULL;
        err e = {0};
        if (deploy__sync_finish(y, &e) < 0)
            log_error("api: %s", e.msg);
    }
}
