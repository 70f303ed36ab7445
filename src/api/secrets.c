/* secrets.c: a Worker's secrets, as `wrangler secret put|list|delete` manage
 * them: PUT /scripts/{name}/secrets with {name, text, type: "secret_text"},
 * GET /scripts/{name}/secrets (names and types only), DELETE
 * /scripts/{name}/secrets/{secret_name}.
 *
 * A secret is a secret_text binding of the live version. As on Cloudflare, a
 * change makes a new version — the live one's modules and bindings with the
 * secret set or removed — and makes it live in the same transaction, so the
 * next request sees it in `env`. The value is stored with the binding and never
 * answered: lists show names, and versions omit secret_text values
 * (api__bindings_json). */
#include "api/internal.h"

#include <stdlib.h>
#include <string.h>

#define SECRET_NAME_MAX 255
#define SECRET_TEXT_BYTES_MAX (5u * 1024u)   /* Cloudflare's limit for a secret */

typedef struct copy {
    deploy_module *mods;
    size_t nmods, capmods;
    deploy_binding *binds;
    size_t nbinds, capbinds;
    const char *skip;          /* the binding name being replaced or removed */
    bool skipped;              /* it was there (a secret) */
    const char *clash_type;    /* it was there with another type */
    char clash[64];
    buf *list;                 /* GET: the JSON array being written */
    int rc;
} copy;

static int on_module(const deploy_module *m, void *ud)
{
    copy *c = ud;
    if (c->nmods == c->capmods) {
        size_t cap = c->capmods ? c->capmods * 2 : 16;
        deploy_module *v = realloc(c->mods, cap * sizeof *v);
        if (!v)
            return DUR_ENOMEM;
        c->mods = v;
        c->capmods = cap;
    }
    deploy_module *d = &c->mods[c->nmods];
    d->name = strdup(m->name);
    d->content_type = strdup(m->content_type);
    char *data = malloc(m->len ? m->len : 1);
    if (data && m->len)
        memcpy(data, m->data, m->len);
    d->data = data;
    d->len = m->len;
    c->nmods++;
    return d->name && d->content_type && data ? 0 : DUR_ENOMEM;
}

static int push_binding(copy *c, const char *name, const char *type, const char *json)
{
    if (c->nbinds == c->capbinds) {
        size_t cap = c->capbinds ? c->capbinds * 2 : 16;
        deploy_binding *v = realloc(c->binds, cap * sizeof *v);
        if (!v)
            return DUR_ENOMEM;
        c->binds = v;
        c->capbinds = cap;
    }
    deploy_binding *d = &c->binds[c->nbinds++];
    d->name = strdup(name);
    d->type = strdup(type);
    d->json = strdup(json);
    return d->name && d->type && d->json ? 0 : DUR_ENOMEM;
}

static int on_binding(const deploy_binding *b, void *ud)
{
    copy *c = ud;
    if (c->skip && strcmp(b->name, c->skip) == 0) {
        if (strcmp(b->type, "secret_text") == 0) {
            c->skipped = true;
            return 0;
        }
        snprintf(c->clash, sizeof c->clash, "%s", b->type);
        c->clash_type = c->clash;
    }
    return push_binding(c, b->name, b->type, b->json);
}

static int on_list(const deploy_binding *b, void *ud)
{
    copy *c = ud;
    if (strcmp(b->type, "secret_text") != 0)
        return 0;
    int rc = buf_append_str(c->list, c->nbinds++ ? ",{\"name\":" : "{\"name\":");
    rc = rc ? rc : api__json_cstr(c->list, b->name);
    return rc ? rc : buf_append_str(c->list, ",\"type\":\"secret_text\"}");
}

static void copy_free(copy *c)
{
    for (size_t i = 0; i < c->nmods; i++) {
        free((char *)c->mods[i].name);
        free((char *)c->mods[i].content_type);
        free((char *)c->mods[i].data);
    }
    for (size_t i = 0; i < c->nbinds; i++) {
        free((char *)c->binds[i].name);
        free((char *)c->binds[i].type);
        free((char *)c->binds[i].json);
    }
    free(c->mods);
    free(c->binds);
}

/* A new live version: the live one's modules and c's bindings. */
static int new_version(api_ctx *a, const deploy_script_info *info, copy *c, int64_t *number,
                       char id[37], err *e)
{
    deploy_version_in v = {
        .script = info->name,
        .main_module = info->main_module,
        .service_worker = info->service_worker,
        .compat_date = info->compat_date,
        .compat_flags_json = info->compat_flags[0] ? info->compat_flags : "[]",
        .modules = c->mods, .modules_count = c->nmods,
        .bindings = c->binds, .bindings_count = c->nbinds,
    };
    if (deploy_tx_begin(a->store, e) < 0 || deploy_version_add(a->store, &v, number, id, e) < 0 ||
        deploy_script_set_live(a->store, info->name, *number, NULL, e) < 0 ||
        deploy_tx_commit(a->store, e) < 0) {
        deploy_tx_rollback(a->store);
        return -1;
    }
    return 0;
}

static bool secret_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SECRET_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f || s[i] == '/')
            return false;
    return true;
}

static void secret_put(api_ctx *a, api_req *r, const deploy_script_info *info)
{
    cfg_value *body = api__json_body(r);
    if (!body)
        return;
    const cfg_value *name = cfg_table_get(body, "name");
    const cfg_value *text = cfg_table_get(body, "text");
    const cfg_value *type = cfg_table_get(body, "type");
    copy c = {0};
    err e = {0};
    if (!name || name->type != CFG_STRING || !secret_name_ok(name->str)) {
        snprintf(r->pointer, sizeof r->pointer, "/name");
        api__reply_err(r, 400, 10001, "'name' must be a string of 1 to %d printable characters "
                       "without spaces or '/'", SECRET_NAME_MAX);
    } else if (!text || text->type != CFG_STRING) {
        snprintf(r->pointer, sizeof r->pointer, "/text");
        api__reply_err(r, 400, 10001, "'text' must be a string (the secret's value)");
    } else if (text->str_len > SECRET_TEXT_BYTES_MAX) {
        snprintf(r->pointer, sizeof r->pointer, "/text");
        api__reply_err(r, 400, 10001, "the secret is %zu bytes; at most %u are allowed",
                       text->str_len, SECRET_TEXT_BYTES_MAX);
    } else if (type && (type->type != CFG_STRING || strcmp(type->str, "secret_text") != 0)) {
        snprintf(r->pointer, sizeof r->pointer, "/type");
        api__reply_err(r, 400, 10021, "secret type '%.60s' is not supported: only secret_text",
                       type->type == CFG_STRING ? type->str : "(not a string)");
    } else {
        c.skip = name->str;
        buf json;
        buf_init(&json, 64 * 1024);
        int rc = buf_append_str(&json, "{\"type\":\"secret_text\",\"name\":");
        rc = rc ? rc : api__json_str(&json, name->str, strlen(name->str));
        rc = rc ? rc : buf_append_str(&json, ",\"text\":");
        rc = rc ? rc : api__json_str(&json, text->str, text->str_len);
        rc = rc ? rc : buf_append_str(&json, "}");
        rc = rc ? rc : buf_append(&json, "", 1);
        int64_t number;
        char id[37];
        if (rc) {
            api__reply_err(r, 500, 10000, "out of memory");
        } else if (deploy_module_each(a->store, info->name, info->live_version, on_module, &c,
                                      &e) < 0 ||
                   deploy_binding_each(a->store, info->name, info->live_version, on_binding, &c,
                                       &e) < 0) {
            api__store_error(r, &e);
        } else if (c.clash_type) {
            snprintf(r->pointer, sizeof r->pointer, "/name");
            api__reply_err(r, 400, 10053, "Binding name '%s' already in use (a %s binding of "
                           "script '%s')", name->str, c.clash_type, info->name);
        } else if (push_binding(&c, name->str, "secret_text", json.ptr) != 0) {
            api__reply_err(r, 500, 10000, "out of memory");
        } else if (new_version(a, info, &c, &number, id, &e) < 0) {
            api__store_error(r, &e);
        } else {
            buf b;
            buf_init(&b, 4096);
            rc = buf_append_str(&b, "{\"name\":");
            rc = rc ? rc : api__json_cstr(&b, name->str);
            rc = rc ? rc : buf_append_str(&b, ",\"type\":\"secret_text\"}");
            if (rc)
                api__reply_err(r, 500, 10000, "out of memory");
            else
                api__reply(r, 200, b.ptr, b.len, NULL);
            buf_fini(&b);
            if (a->on_change)
                a->on_change(a->ud, info->name);
        }
        buf_fini(&json);
    }
    copy_free(&c);
    cfg_value_free(body);
}

static void secret_delete(api_ctx *a, api_req *r, const deploy_script_info *info,
                          const char *secret)
{
    copy c = {.skip = secret};
    err e = {0};
    int64_t number;
    char id[37];
    if (deploy_module_each(a->store, info->name, info->live_version, on_module, &c, &e) < 0 ||
        deploy_binding_each(a->store, info->name, info->live_version, on_binding, &c, &e) < 0)
        api__store_error(r, &e);
    else if (!c.skipped)
        api__reply_err(r, 404, 10056, "script '%s' has no secret named '%.255s'", info->name,
                       secret);
    else if (new_version(a, info, &c, &number, id, &e) < 0)
        api__store_error(r, &e);
    else {
        api__reply(r, 200, NULL, 0, NULL);
        if (a->on_change)
            a->on_change(a->ud, info->name);
    }
    copy_free(&c);
}

void api__secrets(api_ctx *a, api_req *r, const char *script, const char *secret)
{
    const char *m = r->req->method;
    bool get = strcmp(m, "GET") == 0, put = strcmp(m, "PUT") == 0, del = strcmp(m, "DELETE") == 0;
    if (secret ? !(get || del) : !(get || put))
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use %s", m,
                              secret ? "GET or DELETE" : "GET or PUT");
    deploy_script_info info;
    if (api__script_lookup(a, r, script, 10007, &info) != 1)
        return;
    err e = {0};
    if (put)
        return secret_put(a, r, &info);
    if (del)
        return secret_delete(a, r, &info, secret);
    buf b;
    buf_init(&b, 16u * 1024u * 1024u);
    copy c = {.list = &b};
    int rc = buf_append_str(&b, "[");
    if (rc == 0 && deploy_binding_each(a->store, info.name, info.live_version, on_list, &c, &e) < 0) {
        buf_fini(&b);
        return e.code == DUR_ENOMEM || !e.msg[0] ? api__reply_err(r, 500, 10000, "out of memory")
                                                 : api__store_error(r, &e);
    }
    rc = rc ? rc : buf_append_str(&b, "]");
    if (secret) {
        /* GET one: its name and type, if it exists (a list entry matches). */
        buf one;
        buf_init(&one, 4096);
        int r1 = buf_append_str(&one, "{\"name\":");
        r1 = r1 ? r1 : api__json_cstr(&one, secret);
        r1 = r1 ? r1 : buf_append_str(&one, ",\"type\":\"secret_text\"}");
        bool found = false;
        for (size_t i = 0; rc == 0 && r1 == 0 && !found && i + one.len <= b.len; i++)
            found = memcmp(b.ptr + i, one.ptr, one.len) == 0;
        if (found)
            api__reply(r, 200, one.ptr, one.len, NULL);
        else
            api__reply_err(r, 404, 10056, "script '%s' has no secret named '%.255s'", script,
                           secret);
        buf_fini(&one);
    } else if (rc) {
        api__reply_err(r, 500, 10000, "out of memory");
    } else {
        api__reply(r, 200, b.ptr, b.len, NULL);
    }
    buf_fini(&b);
}

/* ---- keep_bindings (what `wrangler deploy` sends: ["secret_text", "secret_key"],
 * plus "plain_text" and "json" with --keep-vars) ---- */

typedef struct keep {
    const cfg_value *types;    /* the keep_bindings array */
    const deploy_binding *in;
    size_t in_n;
    copy *out;
} keep;

static int on_keep(const deploy_binding *b, void *ud)
{
    keep *k = ud;
    bool wanted = false;
    for (size_t i = 0; i < k->types->count && !wanted; i++)
        wanted = k->types->items[i]->type == CFG_STRING &&
                 strcmp(k->types->items[i]->str, b->type) == 0;
    for (size_t i = 0; i < k->in_n && wanted; i++)
        wanted = strcmp(k->in[i].name, b->name) != 0;
    return wanted ? push_binding(k->out, b->name, b->type, b->json) : 0;
}

int api__keep_bindings(deploy_store *s, const cfg_value *meta, const deploy_script_info *cur,
                       const deploy_binding *in, size_t in_n, deploy_binding **out,
                       size_t *out_n, err *e)
{
    *out = NULL;
    *out_n = 0;
    const cfg_value *types = meta ? cfg_table_get(meta, "keep_bindings") : NULL;
    if (!types || types->type != CFG_ARRAY || !cur || !cur->live_version)
        return 0;
    copy c = {0};
    for (size_t i = 0; i < in_n; i++)
        if (push_binding(&c, in[i].name, in[i].type, in[i].json) != 0) {
            copy_free(&c);
            return err_setf(e, DUR_ENOMEM, "out of memory");
        }
    keep k = {types, in, in_n, &c};
    if (deploy_binding_each(s, cur->name, cur->live_version, on_keep, &k, e) != 0) {
        copy_free(&c);
        return e->msg[0] ? -1 : err_setf(e, DUR_ENOMEM, "out of memory");
    }
    *out = c.binds;
    *out_n = c.nbinds;
    return 0;
}

void api__keep_bindings_free(deploy_binding *b, size_t n)
{
    copy c = {.binds = b, .nbinds = n};
    copy_free(&c);
}
