/* cmd_objects.c: `durable namespaces list` and `durable objects list|export|import`
 * over the REST API of a `durable serve` (docs/api.md; the export format:
 * docs/export.md). Lists page through every result. Export and import wait while
 * the object is in use (409, code 10067: a running instance holds its database)
 * for up to --wait seconds, asking again every half second. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "objects/objects.h"

#define IMPORT_BYTES_MAX (20u * 1024u * 1024u)   /* the API listener's body limit */
enum { CODE_IN_USE = 10067 };

typedef struct opts {
    const char *server, *token, *account;
    bool replace, json;
    long wait_s;
    long limit;
    const char *args[2];
    int nargs;
} opts;

static void objects_usage(FILE *f)
{
    fprintf(f,
            "Usage:\n"
            "  durable namespaces list [options]          every Durable Object namespace\n"
            "  durable objects list NAMESPACE [options]   every object of a namespace\n"
            "  durable objects export NAMESPACE ID > FILE all of one object's data\n"
            "  durable objects import NAMESPACE ID < FILE put it back (docs/export.md)\n"
            "\n"
            "NAMESPACE is a namespace id (32 hex digits) or its name; ID an object id\n"
            "(64 hex digits, as `durable objects list` prints them).\n"
            "\n"
            "Options:\n" CLI_API_HELP
            "      --replace         import: overwrite an object that has data (else refused)\n"
            "      --wait SECONDS    export/import: how long to wait for an object in use\n"
            "                        (default 60)\n"
            "      --json            lists: print the API's JSON items, one per line\n"
            "      --limit N         objects list: objects per request, 10 to 10000 (default\n"
            "                        10000); every page is listed\n"
            "  -h, --help            this help\n");
}

static int parse_opts(const char *prog, int argc, char **argv, int max_args, opts *o)
{
    enum { O_SERVER = 256, O_TOKEN, O_ACCOUNT, O_REPLACE, O_WAIT, O_JSON, O_LIMIT };
    static const struct option longopts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"token", required_argument, NULL, O_TOKEN},
        {"account", required_argument, NULL, O_ACCOUNT},
        {"replace", no_argument, NULL, O_REPLACE},
        {"wait", required_argument, NULL, O_WAIT},
        {"json", no_argument, NULL, O_JSON},
        {"limit", required_argument, NULL, O_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->wait_s = 60;
    o->limit = 10000;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_SERVER: o->server = optarg; break;
        case O_TOKEN: o->token = optarg; break;
        case O_ACCOUNT: o->account = optarg; break;
        case O_REPLACE: o->replace = true; break;
        case O_JSON: o->json = true; break;
        case O_WAIT: {
            char *end;
            errno = 0;
            o->wait_s = strtol(optarg, &end, 10);
            if (errno || !*optarg || *end || o->wait_s < 0 || o->wait_s > 86400) {
                fprintf(stderr, "%s: --wait expects seconds from 0 to 86400, got '%s'\n", prog,
                        optarg);
                return -1;
            }
            break;
        }
        case O_LIMIT: {
            char *end;
            errno = 0;
            o->limit = strtol(optarg, &end, 10);
            if (errno || !*optarg || *end || o->limit < 10 || o->limit > 10000) {
                fprintf(stderr, "%s: --limit expects 10 to 10000 objects per request, got '%s'\n",
                        prog, optarg);
                return -1;
            }
            break;
        }
        case 'h': objects_usage(stdout); return 1;
        case ':':
            fprintf(stderr, "%s: option '%s' needs a value\n", prog, argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "%s: unknown option '%s'; see `durable objects --help`\n", prog,
                    argv[optind - 1]);
            return -1;
        }
    }
    o->nargs = cli_args(prog, argc, argv, o->args, max_args,
                        max_args == 2 ? "NAMESPACE ID" : "NAMESPACE");
    return o->nargs < 0 ? -1 : 0;
}

/* Calls each(item) for every namespace, page by page. want (NULL: all) stops at
 * the namespace whose id or name it is and copies its id into found. Returns the
 * count seen, or -1 after printing why. */
static long ns_each(cli_api *a, const opts *o, const char *want, char found[33])
{
    long seen = 0;
    for (long page = 1;; page++) {
        char path[256];
        snprintf(path, sizeof path, "/accounts/%s/workers/durable_objects/namespaces?page=%ld&"
                 "per_page=100", a->account, page);
        cfg_value *v = cli_api_json(a, "GET", path, NULL, NULL, 0);
        if (!v)
            return -1;
        const cfg_value *res = cli_json_get(v, "result");
        size_t n = res && res->type == CFG_ARRAY ? res->count : 0;
        for (size_t i = 0; i < n; i++) {
            const cfg_value *ns = res->items[i];
            seen++;
            if (want) {
                if (strcmp(cli_json_str(ns, "id"), want) == 0 || strcmp(cli_json_str(ns, "name"), want) == 0) {
                    snprintf(found, 33, "%s", cli_json_str(ns, "id"));
                    cfg_value_free(v);
                    return seen;
                }
            } else if (o->json) {
                cli_print_json(ns);
            } else {
                const cfg_value *sq = cli_json_get(ns, "use_sqlite");
                printf("%-32s  %-28s %-20s %-20s %s\n", cli_json_str(ns, "id"), cli_json_str(ns, "name"),
                       cli_json_str(ns, "script"), cli_json_str(ns, "class"),
                       sq && sq->type == CFG_BOOL && sq->b ? "sqlite" : "kv");
            }
        }
        const cfg_value *info = cli_json_get(v, "result_info"), *pages = cli_json_get(info, "total_pages");
        bool last = n == 0 || (pages && pages->type == CFG_INT && page >= pages->i);
        cfg_value_free(v);
        if (last)
            return seen;
    }
}

/* The id of NAMESPACE (an id or a name), or -1 after printing why. */
static int ns_resolve(cli_api *a, const opts *o, const char *prog, char id[33])
{
    const char *want = o->args[0];
    id[0] = '\0';
    if (ns_each(a, o, want, id) < 0)
        return -1;
    if (id[0])
        return 0;
    if (obj_hex_is(want, 32)) {   /* the server says 404 10064 with its own words */
        snprintf(id, 33, "%s", want);
        return 0;
    }
    fprintf(stderr, "%s: no namespace has the id or name '%s' (see `durable namespaces list`)\n",
            prog, want);
    return -1;
}

static int objects_list(cli_api *a, const opts *o, const char *prog)
{
    char ns[33];
    if (ns_resolve(a, o, prog, ns) < 0)
        return 1;
    char cursor[128] = "";
    for (;;) {
        char path[512];
        snprintf(path, sizeof path, "/accounts/%s/workers/durable_objects/namespaces/%s/objects?"
                 "limit=%ld%s%s", a->account, ns, o->limit, cursor[0] ? "&cursor=" : "", cursor);
        cfg_value *v = cli_api_json(a, "GET", path, NULL, NULL, 0);
        if (!v)
            return 1;
        const cfg_value *res = cli_json_get(v, "result");
        for (size_t i = 0; res && res->type == CFG_ARRAY && i < res->count; i++) {
            const cfg_value *d = cli_json_get(res->items[i], "hasStoredData");
            if (o->json)
                cli_print_json(res->items[i]);
            else
                printf("%s  %s\n", cli_json_str(res->items[i], "id"),
                       d && d->type == CFG_BOOL && d->b ? "has data" : "empty");
        }
        const cfg_value *info = cli_json_get(v, "result_info");
        const char *next = cli_json_str(cli_json_get(info, "cursors"), "after");
        if (!next[0])
            next = cli_json_str(info, "cursor");
        bool more = next[0] && strlen(next) < sizeof cursor && strcmp(next, cursor) != 0 &&
                    res && res->type == CFG_ARRAY && res->count;
        if (more)
            snprintf(cursor, sizeof cursor, "%s", next);
        cfg_value_free(v);
        if (!more)
            return 0;
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* One export or import request, asked again while the object is in use. */
static int io_call(cli_api *a, const opts *o, const char *prog, const char *method,
                   const char *path, const void *body, size_t len, cli_resp *r)
{
    bool told = false;
    for (long waited_ms = 0;; waited_ms += 500) {
        if (cli_api_call(a, method, path, body ? "application/json" : NULL, body, len, NULL, r) < 0)
            return -1;
        if (r->status != 409 || cli_resp_code(r) != CODE_IN_USE || waited_ms >= o->wait_s * 1000)
            return 0;
        if (!told)
            fprintf(stderr, "%s: the object is in use; waiting for it to be idle (up to %ld s)\n",
                    prog, o->wait_s);
        told = true;
        cli_resp_fini(r);
        sleep_ms(500);
    }
}

static int objects_export(cli_api *a, const opts *o, const char *prog)
{
    char ns[33];
    if (ns_resolve(a, o, prog, ns) < 0)
        return 1;
    char path[512];
    snprintf(path, sizeof path, "/accounts/%s/workers/durable_objects/namespaces/%s/objects/%s/"
             "export", a->account, ns, o->args[1]);
    cli_resp r;
    if (io_call(a, o, prog, "GET", path, NULL, 0, &r) < 0)
        return 1;
    if (r.status != 200) {
        cfg_value *v = cli_resp_json(a, &r);
        cfg_value_free(v);
        cli_resp_fini(&r);
        return 1;
    }
    int rc = 0;
    if (fwrite(r.body.ptr, 1, r.body.len, stdout) != r.body.len || fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the export: %s\n", prog, strerror(errno));
        rc = 1;
    }
    cli_resp_fini(&r);
    return rc;
}

static int objects_import(cli_api *a, const opts *o, const char *prog)
{
    buf in;
    buf_init(&in, IMPORT_BYTES_MAX);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        rc = buf_append(&in, chunk, n);
    if (rc == 0 && ferror(stdin)) {
        fprintf(stderr, "%s: cannot read the import from stdin: %s\n", prog, strerror(errno));
        buf_fini(&in);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: the import is larger than %u MiB, which the server does not take\n",
                prog, IMPORT_BYTES_MAX >> 20);
        buf_fini(&in);
        return 1;
    }
    if (in.len == 0) {
        fprintf(stderr, "%s: nothing on stdin: give the export file, as in `durable objects "
                        "import NS ID < FILE`\n", prog);
        buf_fini(&in);
        return 1;
    }
    char ns[33];
    if (ns_resolve(a, o, prog, ns) < 0) {
        buf_fini(&in);
        return 1;
    }
    char path[512];
    snprintf(path, sizeof path, "/accounts/%s/workers/durable_objects/namespaces/%s/objects/%s/"
             "export%s", a->account, ns, o->args[1], o->replace ? "?replace=true" : "");
    cli_resp r;
    if (io_call(a, o, prog, "PUT", path, in.ptr, in.len, &r) < 0) {
        buf_fini(&in);
        return 1;
    }
    buf_fini(&in);
    cfg_value *v = cli_resp_json(a, &r);
    cli_resp_fini(&r);
    if (!v)
        return 1;
    const cfg_value *res = cli_json_get(v, "result");
    const cfg_value *kv = cli_json_get(res, "kv_pairs"), *t = cli_json_get(res, "tables"),
                    *rows = cli_json_get(res, "rows"), *al = cli_json_get(res, "alarm"),
                    *rep = cli_json_get(res, "replaced");
    printf("Imported into object %s%s: %lld KV pairs, %lld SQL tables (%lld rows), ",
           o->args[1], rep && rep->type == CFG_BOOL && rep->b ? " (its data replaced)" : "",
           kv && kv->type == CFG_INT ? kv->i : 0LL, t && t->type == CFG_INT ? t->i : 0LL,
           rows && rows->type == CFG_INT ? rows->i : 0LL);
    if (al && al->type == CFG_INT)
        printf("alarm at %lld\n", al->i);
    else
        printf("no alarm\n");
    cfg_value_free(v);
    return 0;
}

int cmd_namespaces(int argc, char **argv)
{
    const char *prog = "durable namespaces list";
    if (argc < 2 || strcmp(argv[1], "list") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            objects_usage(stdout);
            return 0;
        }
        fprintf(stderr, "durable namespaces: expects `list`; see `durable namespaces --help`\n");
        return 2;
    }
    opts o;
    int p = parse_opts(prog, argc - 1, argv + 1, 0, &o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    cli_api a;
    if (cli_api_init(&a, prog, o.server, o.token, o.account) < 0)
        return 2;
    if (cli_api_account(&a) < 0)
        return 1;
    if (!o.json)
        printf("%-32s  %-28s %-20s %-20s %s\n", "ID", "NAME", "SCRIPT", "CLASS", "STORAGE");
    return ns_each(&a, &o, NULL, NULL) < 0 ? 1 : 0;
}

int cmd_objects(int argc, char **argv)
{
    static const struct { const char *name, *prog; int args; } subs[] = {
        {"list", "durable objects list", 1},
        {"export", "durable objects export", 2},
        {"import", "durable objects import", 2},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        objects_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int which = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            which = i;
    if (which < 0) {
        fprintf(stderr, "durable objects: unknown subcommand '%s'; see `durable objects --help`\n",
                argv[1]);
        return 2;
    }
    const char *prog = subs[which].prog;
    opts o;
    int p = parse_opts(prog, argc - 1, argv + 1, subs[which].args, &o);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (which > 0 && !obj_hex_is(o.args[1], 64)) {
        fprintf(stderr, "%s: '%s' is not an object id (64 lowercase hex digits, as `durable "
                        "objects list` prints them)\n", prog, o.args[1]);
        return 2;
    }
    cli_api a;
    if (cli_api_init(&a, prog, o.server, o.token, o.account) < 0)
        return 2;
    if (cli_api_account(&a) < 0)
        return 1;
    if (which == 0)
        return objects_list(&a, &o, prog);
    if (which == 1)
        return objects_export(&a, &o, prog);
    return objects_import(&a, &o, prog);
}
