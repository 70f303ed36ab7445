/* cmd_cluster.c: `durable cluster status` and `durable cluster drain NODE` over the
 * REST API of a `durable serve --cluster …` node (spec CL-3, CL-8; the routes are
 * GET /cluster and POST /cluster/drain, docs/cluster.md "Status and drain"). Any
 * node answers for the whole cluster. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cluster/cluster.h"

typedef struct opts {
    const char *server, *token;
    bool json;
    const char *args[2];
    int nargs;
} opts;

static void cluster_usage(FILE *f)
{
    fprintf(f,
            "Usage:\n"
            "  durable cluster status [options]       the nodes, their state, the objects\n"
            "                                         each owns, the log's size\n"
            "  durable cluster drain NODE [options]   hand NODE's objects to the other nodes\n"
            "                                         (waits until it owns none) so it can be\n"
            "                                         stopped with no failed request\n"
            "\n"
            "Options:\n"
            "      --server URL      the REST API of any node (default: $DURABLE_SERVER)\n"
            "      --token TOKEN     an API token (default: $DURABLE_API_TOKEN)\n"
            "      --json            status: print the API's JSON result\n"
            "  -h, --help            this help\n");
}

/* 0, 1 (help printed) or -1 (error printed). */
static int parse_opts(const char *prog, int argc, char **argv, int want_args, opts *o)
{
    enum { O_SERVER = 256, O_TOKEN, O_JSON };
    static const struct option longopts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"token", required_argument, NULL, O_TOKEN},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case O_SERVER: o->server = optarg; break;
        case O_TOKEN: o->token = optarg; break;
        case O_JSON: o->json = true; break;
        case 'h': cluster_usage(stdout); return 1;
        case ':':
            fprintf(stderr, "%s: option '%s' needs a value\n", prog, argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "%s: unknown option '%s'; see `durable cluster --help`\n", prog,
                    argv[optind - 1]);
            return -1;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o->nargs == want_args) {
            fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[i]);
            return -1;
        }
        o->args[o->nargs++] = argv[i];
    }
    if (o->nargs < want_args) {
        fprintf(stderr, "%s: expects NODE (a node id, as `durable cluster status` shows)\n", prog);
        return -1;
    }
    return 0;
}

static const cfg_value *child(const cfg_value *t, const char *key)
{
    return t && t->type == CFG_TABLE ? cfg_table_get(t, key) : NULL;
}

static const char *str_of(const cfg_value *t, const char *key)
{
    const cfg_value *v = child(t, key);
    return v && v->type == CFG_STRING ? v->str : "";
}

static long long int_of(const cfg_value *t, const char *key)
{
    const cfg_value *v = child(t, key);
    if (v && v->type == CFG_INT)
        return v->i;
    if (v && v->type == CFG_FLOAT)
        return (long long)v->f;
    return 0;
}

static void print_status(const cfg_value *res)
{
    const char *me = str_of(res, "this_node");
    printf("%-24s %-24s %-9s %9s %14s\n", "NODE", "ADDRESS", "STATE", "OBJECTS", "HEARTBEAT AGE");
    const cfg_value *nodes = child(res, "nodes");
    size_t n = nodes && nodes->type == CFG_ARRAY ? nodes->count : 0;
    for (size_t i = 0; i < n; i++) {
        const cfg_value *nd = nodes->items[i];
        const char *id = str_of(nd, "id");
        printf("%-24s %-24s %-9s %9lld %11lld ms%s\n", id, str_of(nd, "addr"),
               str_of(nd, "state"), int_of(nd, "objects"), int_of(nd, "heartbeat_age_ms"),
               strcmp(id, me) == 0 ? "  (answered)" : "");
    }
    const cfg_value *log = child(res, "log");
    printf("log: %lld entries, %lld bytes; snapshots: %lld; schema version %lld\n",
           int_of(log, "entries"), int_of(log, "bytes"), int_of(res, "snapshots"),
           int_of(res, "schema_version"));
}

static int cluster_status_cmd(int argc, char **argv)
{
    const char *prog = "durable cluster status";
    opts o;
    int rc = parse_opts(prog, argc, argv, 0, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    cli_api a;
    if (cli_api_init(&a, prog, o.server, o.token, NULL) < 0)
        return 2;
    cli_resp r;
    if (cli_api_call(&a, "GET", "/cluster", NULL, NULL, 0, NULL, &r) < 0)
        return 1;
    cfg_value *v = cli_resp_json(&a, &r);
    cli_resp_fini(&r);
    if (!v)
        return 1;
    const cfg_value *res = child(v, "result");
    if (o.json) {
        char *t = cfg_value_to_json(res);
        if (t)
            printf("%s\n", t);
        free(t);
    } else {
        print_status(res);
    }
    cfg_value_free(v);
    return 0;
}

static int cluster_drain_cmd(int argc, char **argv)
{
    const char *prog = "durable cluster drain";
    opts o;
    int rc = parse_opts(prog, argc, argv, 1, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    const char *node = o.args[0];
    if (!cluster_node_id_valid(node, strlen(node))) {
        fprintf(stderr, "%s: '%s' is not a node id (1 to 63 of A-Z a-z 0-9 . _ -)\n", prog, node);
        return 2;
    }
    cli_api a;
    if (cli_api_init(&a, prog, o.server, o.token, NULL) < 0)
        return 2;
    char body[128];
    snprintf(body, sizeof body, "{\"node\":\"%s\"}", node);   /* checked: no quoting needed */
    cli_resp r;
    fprintf(stderr, "%s: draining %s (waits until it owns no object)...\n", prog, node);
    if (cli_api_call(&a, "POST", "/cluster/drain", "application/json", body, strlen(body), NULL,
                     &r) < 0)
        return 1;
    cfg_value *v = cli_resp_json(&a, &r);
    cli_resp_fini(&r);
    if (!v)
        return 1;
    cfg_value_free(v);
    printf("%s drained: it owns no object and can be stopped\n", node);
    return 0;
}

int cmd_cluster(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cluster_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "status") == 0)
        return cluster_status_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "drain") == 0)
        return cluster_drain_cmd(argc - 1, argv + 1);
    fprintf(stderr, "durable cluster: unknown subcommand '%s'; use status or drain\n", argv[1]);
    return 2;
}
