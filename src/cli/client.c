/* client.c: see client.h. One easy handle per request: the CLI commands make a few
 * requests each, so nothing is gained by keeping connections. */
#include "cli/client.h"
#include "net/curl_dl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define ANSWER_BYTES_MAX (256u * 1024u * 1024u)

int cli_api_init(cli_api *a, const char *prog, const char *server, const char *token,
                 const char *account)
{
    memset(a, 0, sizeof *a);
    a->prog = prog;
    if (!server || !*server)
        server = getenv("DURABLE_SERVER");
    if (!token || !*token)
        token = getenv("DURABLE_API_TOKEN");
    if (!account || !*account)
        account = getenv("DURABLE_ACCOUNT_ID");
    if (!server || !*server) {
        fprintf(stderr, "%s: no server: give --server URL or set DURABLE_SERVER (the REST API "
                        "of `durable serve`, e.g. http://127.0.0.1:8788)\n", prog);
        return -1;
    }
    if (!token || !*token) {
        fprintf(stderr, "%s: no token: give --token TOKEN or set DURABLE_API_TOKEN (make one "
                        "with `durable token create`)\n", prog);
        return -1;
    }
    if (strncmp(server, "http://", 7) != 0 && strncmp(server, "https://", 8) != 0) {
        fprintf(stderr, "%s: the server '%s' is not an http:// or https:// URL\n", prog, server);
        return -1;
    }
    size_t n = strlen(server);
    while (n && server[n - 1] == '/')
        n--;
    const char *v4 = "/client/v4";
    bool has_v4 = n >= strlen(v4) && strncmp(server + n - strlen(v4), v4, strlen(v4)) == 0;
    if (n + 16 >= sizeof a->base) {
        fprintf(stderr, "%s: the server URL is too long\n", prog);
        return -1;
    }
    snprintf(a->base, sizeof a->base, "%.*s%s", (int)n, server, has_v4 ? "" : v4);
    a->token = token;
    if (account && *account) {
        if (strlen(account) >= sizeof a->account) {
            fprintf(stderr, "%s: the account id '%s' is too long\n", prog, account);
            return -1;
        }
        snprintf(a->account, sizeof a->account, "%s", account);
    }
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    return buf_append(b, p, size * n) == 0 ? size * n : 0;
}

int cli_api_call(cli_api *a, const char *method, const char *path, const char *content_type,
                 const void *body, size_t len, void *mime, cli_resp *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body, ANSWER_BYTES_MAX);
    const char *why = curl_dl_load();
    if (why) {
        fprintf(stderr, "%s: talking to the server needs libcurl (%s): %s\n", a->prog,
                CURL_DL_SONAME, why);
        return -1;
    }
    char url[4096], auth[1200], ct[200];
    snprintf(url, sizeof url, "%s%s", a->base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", a->token);
    CURL *c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "%s: out of memory\n", a->prog);
        return -1;
    }
    struct curl_slist *h = curl_slist_append(NULL, auth);
    if (content_type && !mime) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        h = curl_slist_append(h, ct);
    }
    h = curl_slist_append(h, "Expect:");   /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "durable-cli");
    if (mime) {
        curl_easy_setopt(c, CURLOPT_MIMEPOST, (curl_mime *)mime);
    } else if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s: cannot reach %s: %s\n", a->prog, a->base,
                rc == CURLE_WRITE_ERROR ? "the answer is too large" : curl_easy_strerror(rc));
        buf_fini(&r->body);
        return -1;
    }
    return 0;
}

void cli_resp_fini(cli_resp *r)
{
    buf_fini(&r->body);
}

const cfg_value *cli_json_get(const cfg_value *t, const char *key)
{
    return t && t->type == CFG_TABLE ? cfg_table_get(t, key) : NULL;
}

const char *cli_json_str(const cfg_value *t, const char *key)
{
    const cfg_value *v = cli_json_get(t, key);
    return v && v->type == CFG_STRING ? v->str : "";
}

long long cli_json_int(const cfg_value *t, const char *key)
{
    const cfg_value *v = cli_json_get(t, key);
    if (v && v->type == CFG_INT)
        return v->i;
    if (v && v->type == CFG_FLOAT)
        return (long long)v->f;
    return 0;
}

void cli_print_json(const cfg_value *v)
{
    char *t = cfg_value_to_json(v);
    if (t)
        printf("%s\n", t);
    free(t);
}

int cli_args(const char *prog, int argc, char **argv, const char **args, int want,
             const char *expects)
{
    int n = 0;
    for (int i = optind; i < argc; i++) {
        if (n == want) {
            fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[i]);
            return -1;
        }
        args[n++] = argv[i];
    }
    if (n < want) {
        fprintf(stderr, "%s: expects %s\n", prog, expects);
        return -1;
    }
    return n;
}

long cli_resp_code(const cli_resp *r)
{
    err e = {0};
    cfg_value *v = jsonc_parse("answer", r->body.ptr ? r->body.ptr : "", r->body.len, &e);
    const cfg_value *errs = cli_json_get(v, "errors");
    long code = 0;
    if (errs && errs->type == CFG_ARRAY && errs->count) {
        const cfg_value *c = cli_json_get(errs->items[0], "code");
        code = c && c->type == CFG_INT ? (long)c->i : 0;
    }
    cfg_value_free(v);
    return code;
}

cfg_value *cli_api_json(cli_api *a, const char *method, const char *path,
                        const char *content_type, const void *body, size_t len)
{
    cli_resp r;
    if (cli_api_call(a, method, path, content_type, body, len, NULL, &r) < 0)
        return NULL;
    cfg_value *v = cli_resp_json(a, &r);
    cli_resp_fini(&r);
    return v;
}

cfg_value *cli_resp_json(cli_api *a, const cli_resp *r)
{
    err e = {0};
    cfg_value *v = r->body.len ? jsonc_parse("answer", r->body.ptr, r->body.len, &e) : NULL;
    const cfg_value *ok = cli_json_get(v, "success");
    if (v && r->status < 400 && ok && ok->type == CFG_BOOL && ok->b)
        return v;
    const cfg_value *errs = cli_json_get(v, "errors");
    bool printed = false;
    for (size_t i = 0; errs && errs->type == CFG_ARRAY && i < errs->count; i++) {
        const cfg_value *c = cli_json_get(errs->items[i], "code"), *m = cli_json_get(errs->items[i], "message");
        fprintf(stderr, "%s: error %lld: %s (HTTP %ld)\n", a->prog,
                c && c->type == CFG_INT ? c->i : 0LL,
                m && m->type == CFG_STRING ? m->str : "(no message)", r->status);
        printed = true;
    }
    if (!printed)
        fprintf(stderr, "%s: the server answered HTTP %ld%s%.*s\n", a->prog, r->status,
                r->body.len ? ": " : "", (int)(r->body.len > 300 ? 300 : r->body.len),
                r->body.ptr ? r->body.ptr : "");
    cfg_value_free(v);
    return NULL;
}

int cli_api_account(cli_api *a)
{
    if (a->account[0])
        return 0;
    cfg_value *v = cli_api_json(a, "GET", "/accounts", NULL, NULL, 0);
    if (!v)
        return -1;
    const cfg_value *res = cli_json_get(v, "result");
    const cfg_value *id = res && res->type == CFG_ARRAY && res->count == 1
                              ? cli_json_get(res->items[0], "id") : NULL;
    int rc = -1;
    if (id && id->type == CFG_STRING && id->str_len < sizeof a->account) {
        snprintf(a->account, sizeof a->account, "%s", id->str);
        rc = 0;
    } else {
        fprintf(stderr, "%s: the server lists %zu accounts; say which with --account ID or "
                        "DURABLE_ACCOUNT_ID\n", a->prog,
                res && res->type == CFG_ARRAY ? res->count : (size_t)0);
    }
    cfg_value_free(v);
    return rc;
}
