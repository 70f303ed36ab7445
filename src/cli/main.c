/* main.c: `durable <command>`: dispatches to the commands (cli/cmd_*.c). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "version.h"

static void usage(FILE *f)
{
    fprintf(f,
            "durable %s: run Cloudflare Workers and Durable Objects on your own machines\n"
            "\n"
            "Usage: durable <command> [options]\n"
            "\n"
            "Commands:\n"
            "  dev        serve the Worker of ./wrangler.toml (or .json/.jsonc) on 127.0.0.1:8787\n"
            "  serve      the production server: Workers plus the REST API to deploy them\n"
            "  token      create, list or revoke API tokens of `durable serve`\n"
            "  deploy     upload the Worker of ./wrangler.toml to a `durable serve`\n"
            "  namespaces list the Durable Object namespaces of a `durable serve`\n"
            "  objects    list objects; export or import one object's data\n"
            "  cluster    status of a cluster's nodes; drain one before stopping it\n"
            "  version    print the version\n"
            "\n"
            "Options:\n"
            "  -h, --help     this help\n"
            "  -V, --version  print the version\n"
            "\n"
            "Run `durable dev --help` for the options of a command.\n",
            DURABLE_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "-v") == 0 ||
        strcmp(cmd, "version") == 0) {
        printf("durable %s\n", DURABLE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "dev") == 0)
        return cmd_dev(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0)
        return cmd_token(argc - 1, argv + 1);
    if (strcmp(cmd, "deploy") == 0)
        return cmd_deploy(argc - 1, argv + 1);
    if (strcmp(cmd, "namespaces") == 0)
        return cmd_namespaces(argc - 1, argv + 1);
    if (strcmp(cmd, "objects") == 0)
        return cmd_objects(argc - 1, argv + 1);
    if (strcmp(cmd, "cluster") == 0)
        return cmd_cluster(argc - 1, argv + 1);
    fprintf(stderr, "durable: unknown %s '%s'; see `durable --help`\n",
            cmd[0] == '-' ? "option" : "command", cmd);
    return 2;
}
