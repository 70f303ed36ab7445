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
    o->nargs = cli_args(prog, argc, argv, o->args, want_args,
                        "NODE (a node id, as `durable cluster status` shows)");
    return o->nargs < 0 ? -1 : 0;
}

static void print_status(const cfg_value *res)
{
    const char *me = cli_json_str(res, "this_node");
    printf("%-24s %-24s %-9s %9s %14s\n", "NODE", "ADDRESS", "STATE", "OBJECTS", "HEARTBEAT AGE");
    const cfg_value *nodes = cli_json_get(res, "nodes");
    size_t n = nodes && nodes->type == CFG_ARRAY ? nodes->count : 0;
    for (size_t i = 0; i < n; i++) {
        const cfg_value *nd = nodes->items[i];
        const char *id = cli_json_str(nd, "id");
        printf("%-24s %-24s %-9s %9lld %11lld ms%s\n", id, cli_json_str(nd, "addr"),
               cli_json_str(nd, "state"), cli_json_int(nd, "objects"), cli_json_int(nd, "heartbeat_age_ms"),
               strcmp(id, me) == 0 ? "  (answered)" : "");
    }
    const cfg_value *log = cli_json_get(res, "log");
    printf("log: %lld entries, %lld bytes; snapshots: %lld; schema version %lld\n",
           cli_json_int(log, "entries"), cli_json_int(log, "bytes"), cli_json_int(res, "snapshots"),
           cli_json_int(res, "schema_version"));
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
    cfg_value *v = cli_api_json(&a, "GET", "/cluster", NULL, NULL, 0);
    if (!v)
        return 1;
    const cfg_value *res = cli_json_get(v, "result");
    if (o.json)
        cli_print_json(res);
    else
        print_status(res);
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
    fprintf(stderr, "%s: draining %s (waits until it owns no object)...\n", prog, node);
    cfg_value *v = cli_api_json(&a, "POST", "/cluster/drain", "application/json", body,
                                strlen(body));
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
