/* cmd_token.c: `durable token create|list|revoke --data DIR`: the API tokens of
 * `durable serve` (spec API-2). A token is printed once, at creation; the store
 * keeps only its hash. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "cli/cli.h"

static void token_usage(FILE *f)
{
    fprintf(f,
            "Usage: durable token <create|list|revoke> [options]\n"
            "\n"
            "  durable token create --name NAME --data DIR   make a token; it is printed once\n"
            "  durable token list --data DIR                 list tokens (ids and names)\n"
            "  durable token revoke ID --data DIR            revoke a token at once\n"
            "\n"
            "DIR is the data folder of `durable serve --data DIR`. The account id that\n"
            "REST paths must name (/client/v4/accounts/ACCOUNT_ID/...) is printed by create.\n");
}

static void print_token(const char *id, const char *name, int64_t created_ms, int64_t revoked_ms,
                        void *ud)
{
    (void)ud;
    char when[32];
    time_t t = (time_t)(created_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%s  %-24s  created %s%s\n", id, name, when, revoked_ms ? "  (revoked)" : "");
}

int cmd_token(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        token_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0) {
        fprintf(stderr, "durable token: unknown subcommand '%s'; see `durable token --help`\n", sub);
        return 2;
    }
    const char *name = NULL, *data = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, ":n:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 'd': data = optarg; break;
        case 'h': token_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "durable token: option '%s' needs a value\n", argv[optind]);
            return 2;
        default:
            fprintf(stderr, "durable token: unknown option '%s'; see `durable token --help`\n",
                    argv[optind]);
            return 2;
        }
    }
    const char *id = NULL;
    if (strcmp(sub, "revoke") == 0) {
        if (optind + 1 != argc - 1) {
            fprintf(stderr, "durable token revoke: expects one token id (see `durable token list`)\n");
            return 2;
        }
        id = argv[optind + 1];
    } else if (optind + 1 < argc) {
        fprintf(stderr, "durable token %s: unexpected argument '%s'\n", sub, argv[optind + 1]);
        return 2;
    }
    if (!data) {
        fprintf(stderr, "durable token %s: --data DIR is required (the folder `durable serve "
                        "--data DIR` uses)\n", sub);
        return 2;
    }
    if (strcmp(sub, "create") == 0 && !name) {
        fprintf(stderr, "durable token create: --name NAME is required\n");
        return 2;
    }
    deploy_store *s;
    err e = {0};
    if (deploy_store_open(data, 0, &s, &e) < 0) {
        fprintf(stderr, "durable token: %s\n", e.msg);
        return 1;
    }
    int rc = 0;
    if (strcmp(sub, "create") == 0) {
        char tok[API_TOKEN_CHARS + 1], tid[17];
        rc = api_token_create(s, name, tok, tid, &e);
        if (rc == 0) {
            printf("%s\n", tok);
            fflush(stdout);
            fprintf(stderr, "Token '%s' created (id %s) for account %s.\n"
                            "This is the only time it is shown: store it now.\n",
                    name, tid, deploy_store_account(s));
        }
    } else if (strcmp(sub, "list") == 0) {
        printf("account %s\n", deploy_store_account(s));
        rc = api_token_list(s, print_token, NULL, &e);
    } else {
        rc = api_token_revoke(s, id, &e);
        if (rc == 0)
            printf("revoked %s\n", id);
    }
    if (rc < 0)
        fprintf(stderr, "durable token %s: %s\n", sub, e.msg);
    deploy_store_close(s);
    return rc < 0 ? 1 : 0;
}
