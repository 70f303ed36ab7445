/* deployments.c: which version of a script is live (spec API-43, clients.md §2-3),
 * and the small answers `wrangler deploy` needs around an upload: settings,
 * secrets, the workers.dev subdomain (durable has none; it answers with fixed
 * values so wrangler does not prompt for one).
 *
 * A deployment here is the live pointer: GET lists only the current one (newest
 * first, as wrangler expects); POST moves it to a stored version (one version at
 * 100 %; split traffic is refused), applying the migrations stored with it
 * (upload.c, api__version_deploy). */
#include "api/internal.h"

#include <stdio.h>
#include <string.h>

static void reply_buf(api_req *r, buf *b, int rc)
{
    if (rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b->ptr, b->len, NULL);
    buf_fini(b);
}

static int deployment_json(buf *b, const char *version_id, int64_t ms)
{
    int rc = buf_printf(b, "{\"id\":\"%s\",\"source\":\"api\",\"strategy\":\"percentage\","
                           "\"author_email\":\"\",\"created_on\":", version_id);
    rc = rc ? rc : api__json_time(b, ms);
    return rc ? rc : buf_printf(b, ",\"annotations\":{},\"versions\":[{\"version_id\":\"%s\","
                                   "\"percentage\":100}]}", version_id);
}

static void deployments_get(api_ctx *a, api_req *r, const deploy_script_info *info)
{
    buf b;
    buf_init(&b, 4096);
    int rc = buf_append_str(&b, "{\"deployments\":[");
    rc = rc ? rc : deployment_json(&b, info->version_id, info->modified_ms);
    rc = rc ? rc : buf_append_str(&b, "]}");
    reply_buf(r, &b, rc);
}

static void deployments_post(api_ctx *a, api_req *r, const deploy_script_info *info)
{
    cfg_value *body = api__json_body(r);
    if (!body)
        return;
    const cfg_value *vs = cfg_table_get(body, "versions");
    const cfg_value *v0 = vs && vs->type == CFG_ARRAY && vs->count == 1 ? vs->items[0] : NULL;
    const cfg_value *vid = v0 && v0->type == CFG_TABLE ? cfg_table_get(v0, "version_id") : NULL;
    const cfg_value *pct = v0 && v0->type == CFG_TABLE ? cfg_table_get(v0, "percentage") : NULL;
    bool pct_ok = pct && ((pct->type == CFG_INT && pct->i == 100) ||
                          (pct->type == CFG_FLOAT && pct->f == 100.0));
    err e = {0};
    deploy_version_info v;
    int got;
    if (!vid || vid->type != CFG_STRING || !pct_ok) {
        snprintf(r->pointer, sizeof r->pointer, "/versions");
        api__reply_err(r, 400, 10021, "versions must be one {version_id, percentage: 100}: "
                       "durable serves one version of a Worker at a time");
    } else if ((got = deploy_version_get(a->store, info->name, 0, vid->str, &v, &e)) <= 0) {
        if (got < 0)
            api__store_error(r, &e);
        else
            api__reply_err(r, 404, 10007, "version '%.60s' of script '%s' not found", vid->str,
                           info->name);
    } else if (api__version_deploy(a, r, info->name, v.number) == 0) {
        buf b;
        buf_init(&b, 4096);
        reply_buf(r, &b, deployment_json(&b, v.id, deploy__now_ms()));
        if (a->on_change)
            a->on_change(a->ud, info->name);
    }
    cfg_value_free(body);
}

/* A version in the shape wrangler reads from /scripts/{name}/versions (clients.md
 * §4): id, number, metadata.created_on, annotations, resources. */
static int wrangler_version_json(api_ctx *a, buf *b, const char *name,
                                 const deploy_version_info *v, err *e)
{
    int rc = buf_printf(b, "{\"id\":\"%s\",\"number\":%lld,\"metadata\":{\"created_on\":",
                        v->id, (long long)v->number);
    rc = rc ? rc : api__json_time(b, v->created_ms);
    rc = rc ? rc : buf_printf(b, ",\"modified_on\":");
    rc = rc ? rc : api__json_time(b, v->created_ms);
    rc = rc ? rc : buf_printf(b, ",\"author_email\":\"\",\"source\":\"api\",\"has_preview\":false},"
                              "\"annotations\":{},\"resources\":{\"script\":{\"etag\":\"%s\","
                              "\"handlers\":[\"fetch\"]},\"script_runtime\":{"
                              "\"compatibility_date\":", v->id);
    rc = rc ? rc : api__json_cstr(b, v->compat_date);
    rc = rc ? rc : buf_printf(b, ",\"compatibility_flags\":%s},\"bindings\":[", v->compat_flags);
    if (!rc && (rc = api__bindings_json(a->store, b, name, v->number, e)) == -1)
        return -1;
    rc = rc ? rc : buf_append_str(b, "]}}");
    return rc ? DUR_ENOMEM : 0;
}

static void script_versions_get(api_ctx *a, api_req *r, const char *name, const char *id)
{
    err e = {0};
    buf b;
    buf_init(&b, 16u * 1024u * 1024u);
    int rc = 0;
    if (id) {
        deploy_version_info v;
        int got = deploy_version_get(a->store, name, 0, id, &v, &e);
        if (got <= 0) {
            buf_fini(&b);
            if (got < 0)
                return api__store_error(r, &e);
            return api__reply_err(r, 404, 10007, "version '%.60s' of script '%s' not found", id,
                                  name);
        }
        rc = wrangler_version_json(a, &b, name, &v, &e);
    } else {
        static deploy_version_info vs[100];   /* API thread only */
        size_t n;
        int64_t total;
        if (deploy_version_list(a->store, name, 0, 100, vs, &n, &total, &e) < 0) {
            buf_fini(&b);
            return api__store_error(r, &e);
        }
        rc = buf_append_str(&b, "{\"items\":[");
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (i)
                rc = buf_append_str(&b, ",");
            rc = rc ? rc : wrangler_version_json(a, &b, name, &vs[i], &e);
        }
        rc = rc ? rc : buf_append_str(&b, "]}");
    }
    if (rc == -1) {
        buf_fini(&b);
        return api__store_error(r, &e);
    }
    reply_buf(r, &b, rc);
}

void api__script_sub(api_ctx *a, api_req *r, const char *name, const char *what)
{
    const char *m = r->req->method;
    deploy_script_info info;
    err e = {0};
    int got = deploy_name_valid(name) ? deploy_script_get(a->store, name, &info, &e) : 0;
    if (got < 0)
        return api__store_error(r, &e);
    bool versions = strcmp(what, "versions") == 0;
    if (got == 0 || (!versions && info.live_version == 0))
        return api__reply_err(r, 404, 10007, "This Worker does not exist on your account "
                              "(script '%.80s' not found)", name);
    buf b;
    buf_init(&b, 4096);
    if (strcmp(what, "deployments") == 0) {
        buf_fini(&b);
        if (strcmp(m, "GET") == 0)
            return deployments_get(a, r, &info);
        if (strcmp(m, "POST") == 0)
            return deployments_post(a, r, &info);
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET or POST", m);
    }
    if (versions) {
        buf_fini(&b);
        if (strcmp(m, "POST") == 0)
            return api__script_version_upload(a, r, name);
        if (strcmp(m, "GET") == 0)
            return script_versions_get(a, r, name, NULL);
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET or POST", m);
    }
    if (strcmp(what, "references") == 0 && strcmp(m, "GET") == 0)
        return reply_buf(r, &b, buf_append_str(&b, "{}"));
    if (strcmp(what, "secrets") == 0 && strcmp(m, "GET") == 0)
        return reply_buf(r, &b, buf_append_str(&b, "[]"));
    if ((strcmp(what, "settings") == 0 && strcmp(m, "GET") == 0) ||
        (strcmp(what, "script-settings") == 0 &&
         (strcmp(m, "GET") == 0 || strcmp(m, "PATCH") == 0)))
        return reply_buf(r, &b, buf_append_str(&b, "{\"logpush\":false,\"tags\":[],"
                                                   "\"observability\":{\"enabled\":false}}"));
    if (strcmp(what, "subdomain") == 0 && (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0))
        return reply_buf(r, &b, buf_append_str(&b, "{\"enabled\":false,\"previews_enabled\":false}"));
    buf_fini(&b);
    api__reply_err(r, 405, 10000, "method %s is not allowed on %s", m, what);
}

void api__script_version_get(api_ctx *a, api_req *r, const char *name, const char *id)
{
    deploy_script_info info;
    err e = {0};
    int got = deploy_name_valid(name) ? deploy_script_get(a->store, name, &info, &e) : 0;
    if (got < 0)
        return api__store_error(r, &e);
    if (got == 0)
        return api__reply_err(r, 404, 10007, "This Worker does not exist on your account "
                              "(script '%.80s' not found)", name);
    if (strcmp(r->req->method, "GET") != 0)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET",
                              r->req->method);
    script_versions_get(a, r, name, id);
}

void api__subdomain(api_ctx *a, api_req *r)
{
    if (strcmp(r->req->method, "GET") != 0)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET",
                              r->req->method);
    static const char s[] = "{\"subdomain\":\"durable\"}";
    api__reply(r, 200, s, sizeof s - 1, NULL);
}
