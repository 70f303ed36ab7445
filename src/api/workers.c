/* workers.c: the Workers and Versions API (spec API-40..44) that the `cloudflare`
 * SDK's client.workers.beta.workers calls. A Worker is a script of the same name
 * (section 3 of the spec); its id is derived from the name (32 hex of SHA-256 of
 * "worker:<name>"), so both work as {worker_id}.
 *
 * Here: create, get, list and delete Workers; create (JSON, upload.c), list, get
 * and delete versions. Deleting a Worker is deleting its script (routes.c, with
 * API-38's refusals); a stored version is made live by POST
 * /scripts/{name}/deployments (deployments.c). */
#include "api/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void worker_id(const char *name, char out[33])
{
    char in[DEPLOY_NAME_MAX + 16];
    unsigned char h[32];
    snprintf(in, sizeof in, "worker:%s", name);
    api__sha256(in, strlen(in), h);
    api__hex(h, 16, out);
}

typedef struct find_ctx {
    const char *id;
    char name[DEPLOY_NAME_MAX + 1];
} find_ctx;

static void on_find(const deploy_script_info *s, void *ud)
{
    find_ctx *f = ud;
    char id[33];
    worker_id(s->name, id);
    if (strcmp(id, f->id) == 0)
        memcpy(f->name, s->name, strlen(s->name) + 1);
}

/* The script named by {worker_id} (an id or a name) into info; 1, or 0 after
 * answering 404 10007 (or an error). */
static int resolve(api_ctx *a, api_req *r, const char *param, deploy_script_info *info)
{
    err e = {0};
    find_ctx f = {.id = param};
    int got = deploy_name_valid(param) ? deploy_script_get(a->store, param, info, &e) : 0;
    if (got == 0 && strlen(param) == 32) {
        if (deploy_script_list(a->store, on_find, &f, &e) < 0)
            got = -1;
        else if (f.name[0])
            got = deploy_script_get(a->store, f.name, info, &e);
    }
    if (got < 0)
        api__store_error(r, &e);
    else if (got == 0)
        api__reply_err(r, 404, 10007, "This Worker does not exist on your account (worker "
                       "'%.80s' not found)", param);
    return got > 0 ? 1 : 0;
}

static int worker_json(buf *b, const deploy_script_info *s)
{
    char id[33];
    worker_id(s->name, id);
    int rc = buf_printf(b, "{\"id\":\"%s\",\"name\":", id);
    rc = rc ? rc : api__json_cstr(b, s->name);
    rc = rc ? rc : buf_append_str(b, ",\"created_on\":");
    rc = rc ? rc : api__json_time(b, s->created_ms);
    rc = rc ? rc : buf_append_str(b, ",\"updated_on\":");
    rc = rc ? rc : api__json_time(b, s->modified_ms);
    rc = rc ? rc : buf_append_str(b, ",\"logpush\":false,\"tags\":[],\"observability\":"
                                     "{\"enabled\":false},\"subdomain\":{\"enabled\":false,"
                                     "\"previews_enabled\":false},\"tail_consumers\":[],"
                                     "\"references\":{}}");
    return rc;
}

static void reply_json(api_req *r, buf *b, int rc, const char *info)
{
    if (rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b->ptr, b->len, info);
    buf_fini(b);
}

static void worker_create(api_ctx *a, api_req *r)
{
    cfg_value *body = api__json_body(r);
    if (!body)
        return;
    const cfg_value *n = cfg_table_get(body, "name");
    err e = {0};
    deploy_script_info info;
    if (!n || n->type != CFG_STRING || !deploy_name_valid(n->str)) {
        snprintf(r->pointer, sizeof r->pointer, "/name");
        api__reply_err(r, 400, 10021, "name must be a script name: 1 to 63 of a-z, 0-9, '-' "
                       "and '_', not starting or ending with '-'");
    } else {
        int got = deploy_script_get(a->store, n->str, &info, &e);
        if (got < 0) {
            api__store_error(r, &e);
        } else if (got == 1) {
            snprintf(r->pointer, sizeof r->pointer, "/name");
            api__reply_err(r, 400, 10065, "a Worker named '%s' already exists", n->str);
        } else if (deploy_tx_begin(a->store, &e) < 0 ||
                   deploy_script_create(a->store, n->str, &e) < 0 ||
                   deploy_tx_commit(a->store, &e) < 0 ||
                   deploy_script_get(a->store, n->str, &info, &e) != 1) {
            deploy_tx_rollback(a->store);
            api__store_error(r, &e);
        } else {
            buf b;
            buf_init(&b, 8192);
            reply_json(r, &b, worker_json(&b, &info), NULL);
        }
    }
    cfg_value_free(body);
}

typedef struct page_ctx {
    buf *b;
    int rc;
    long skip, left, count, total;
} page_ctx;

static void on_worker(const deploy_script_info *s, void *ud)
{
    page_ctx *p = ud;
    p->total++;
    if (p->skip > 0) {
        p->skip--;
        return;
    }
    if (p->left == 0 || p->rc)
        return;
    p->left--;
    if (p->count++)
        p->rc = buf_append_str(p->b, ",");
    if (!p->rc)
        p->rc = worker_json(p->b, s);
}

static void worker_list(api_ctx *a, api_req *r)
{
    long page, per_page;
    if (api__query_int(r, "page", 1, 1, 1000000000L, false, &page) < 0 ||
        api__query_int(r, "per_page", 20, 1, 100, true, &per_page) < 0)
        return;
    buf b;
    buf_init(&b, 64u * 1024u * 1024u);
    page_ctx p = {&b, buf_append_str(&b, "["), (page - 1) * per_page, per_page, 0, 0};
    err e = {0};
    if (deploy_script_list(a->store, on_worker, &p, &e) < 0) {
        buf_fini(&b);
        return api__store_error(r, &e);
    }
    if (!p.rc)
        p.rc = buf_append_str(&b, "]");
    char info[256];
    snprintf(info, sizeof info, "{\"page\":%ld,\"per_page\":%ld,\"count\":%ld,\"total_count\":"
             "%ld,\"total_pages\":%ld}", page, per_page, p.count, p.total,
             (p.total + per_page - 1) / per_page);
    reply_json(r, &b, p.rc, info);
}

static int version_json(api_ctx *a, buf *b, const char *name, const deploy_version_info *v,
                        err *e)
{
    int rc = buf_printf(b, "{\"id\":\"%s\",\"number\":%lld,\"created_on\":", v->id,
                        (long long)v->number);
    rc = rc ? rc : api__json_time(b, v->created_ms);
    rc = rc ? rc : buf_append_str(b, ",\"main_module\":");
    rc = rc ? rc : api__json_cstr(b, v->main_module);
    rc = rc ? rc : buf_append_str(b, ",\"compatibility_date\":");
    rc = rc ? rc : api__json_cstr(b, v->compat_date);
    rc = rc ? rc : buf_printf(b, ",\"compatibility_flags\":%s,\"bindings\":[", v->compat_flags);
    if (!rc && (rc = api__bindings_json(a->store, b, name, v->number, e)) == -1)
        return -1;
    rc = rc ? rc : buf_append_str(b, "],\"annotations\":{},\"urls\":[]}");
    return rc ? DUR_ENOMEM : 0;
}

void api__version_reply(api_ctx *a, api_req *r, const char *name, int64_t number)
{
    deploy_version_info v;
    err e = {0};
    if (deploy_version_get(a->store, name, number, NULL, &v, &e) != 1)
        return api__store_error(r, &e);
    buf b;
    buf_init(&b, 1024 * 1024);
    int rc = version_json(a, &b, name, &v, &e);
    if (rc == -1) {
        buf_fini(&b);
        return api__store_error(r, &e);
    }
    reply_json(r, &b, rc, NULL);
}

static void version_list(api_ctx *a, api_req *r, const char *name)
{
    long page, per_page;
    if (api__query_int(r, "page", 1, 1, 1000000000L, false, &page) < 0 ||
        api__query_int(r, "per_page", 20, 1, 100, true, &per_page) < 0)
        return;
    deploy_version_info *vs = calloc((size_t)per_page, sizeof *vs);
    if (!vs)
        return api__reply_err(r, 500, 10000, "out of memory");
    size_t n;
    int64_t total;
    err e = {0};
    if (deploy_version_list(a->store, name, (page - 1) * per_page, per_page, vs, &n, &total,
                            &e) < 0) {
        free(vs);
        return api__store_error(r, &e);
    }
    buf b;
    buf_init(&b, 64u * 1024u * 1024u);
    int rc = buf_append_str(&b, "[");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i)
            rc = buf_append_str(&b, ",");
        if (!rc && (rc = version_json(a, &b, name, &vs[i], &e)) == -1) {
            free(vs);
            buf_fini(&b);
            return api__store_error(r, &e);
        }
    }
    free(vs);
    rc = rc ? rc : buf_append_str(&b, "]");
    char info[256];
    snprintf(info, sizeof info, "{\"page\":%ld,\"per_page\":%ld,\"count\":%zu,\"total_count\":"
             "%lld,\"total_pages\":%lld}", page, per_page, n, (long long)total,
             (long long)((total + per_page - 1) / per_page));
    reply_json(r, &b, rc, info);
}

/* DELETE …/versions/{id} (API-44): a stored version goes with its modules and
 * bindings; the live one is refused (deploy another first, or delete the Worker).
 * Its number is not given out again. Its files under <data>/scripts/<name>/<n>/
 * stay until the Worker is deleted: if it was live a moment ago, requests and
 * objects still finishing on it may load modules from there. */
static void version_delete(api_ctx *a, api_req *r, const deploy_script_info *info,
                           const deploy_version_info *v)
{
    err e = {0};
    if (v->number == info->live_version)
        return api__reply_err(r, 400, 10021, "version %s (number %lld) of Worker '%s' is the "
                              "live one and cannot be deleted: deploy another version first "
                              "(POST /scripts/%s/deployments), or delete the Worker", v->id,
                              (long long)v->number, info->name, info->name);
    if (deploy_tx_begin(a->store, &e) < 0 ||
        deploy_version_delete(a->store, info->name, v->number, &e) < 0 ||
        deploy_tx_commit(a->store, &e) < 0) {
        deploy_tx_rollback(a->store);
        return api__store_error(r, &e);
    }
    api__reply(r, 200, NULL, 0, NULL);
}

void api__workers_route(api_ctx *a, api_req *r, char **seg, int n)
{
    const char *m = r->req->method;
    deploy_script_info info;
    if (n == 1) {
        if (strcmp(m, "GET") == 0)
            return worker_list(a, r);
        if (strcmp(m, "POST") == 0)
            return worker_create(a, r);
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET or POST", m);
    }
    if ((n == 2 || n == 4) && strcmp(m, "GET") != 0 && strcmp(m, "DELETE") != 0)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET or DELETE",
                              m);
    if (n == 3 && strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET or POST", m);
    if (resolve(a, r, seg[1], &info) != 1)
        return;
    if (n == 2 && strcmp(m, "DELETE") == 0)
        return api__script_delete(a, r, info.name, 10007);
    if (n == 2) {
        buf b;
        buf_init(&b, 8192);
        return reply_json(r, &b, worker_json(&b, &info), NULL);
    }
    if (n == 3 && strcmp(m, "POST") == 0)
        return api__version_create(a, r, info.name);
    if (n == 3)
        return version_list(a, r, info.name);
    deploy_version_info v;
    err e = {0};
    int got = deploy_version_get(a->store, info.name, 0, seg[3], &v, &e);
    if (got < 0)
        return api__store_error(r, &e);
    if (got == 0)
        return api__reply_err(r, 404, 10007, "version '%.60s' of Worker '%s' not found", seg[3],
                              info.name);
    if (strcmp(m, "DELETE") == 0)
        return version_delete(a, r, &info, &v);
    api__version_reply(a, r, info.name, v.number);
}
